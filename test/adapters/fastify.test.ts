/**
 * The Fastify plugin's own API (src/adapters/fastify.ts), @fastify/session style: get/set,
 * reload, regenerate(keep), destroy, `fastify.sessionManager`; and what a missing
 * fastify-plugin package gives. What every adapter does is in contract.test.ts.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { unisession as fastifySessions } from '../../src/adapters/fastify.js';
import { runWithoutPackage, sourcePath } from '../helpers/without-package.js';
import { Client, sqliteFixture } from './shared.js';

const { store, cleanup } = sqliteFixture();
after(cleanup);

describe('fastify: @fastify/session style API', () => {
  let app: FastifyInstance;
  let url: string;
  before(async () => {
    app = Fastify();
    // Options instead of a manager: the plugin creates its own.
    await app.register(fastifySessions, { app: 'adapters', store, sweeper: false });
    type Q = { Querystring: Record<string, string> };
    const view = (request: FastifyRequest) => ({
      id: request.session?.sessionId ?? null,
      data: request.session ? { ...request.session } : null,
    });
    app.get<Q>('/set', async (request) => {
      for (const [name, value] of Object.entries(request.query)) request.session.set(name, value);
      return view(request);
    });
    app.get('/', async (request) => view(request));
    app.get<Q>('/regenerate', async (request) => {
      await request.session.regenerate(request.query.keep ? request.query.keep.split(',') : []);
      return view(request);
    });
    app.get('/destroy', async (request) => {
      await request.session.destroy();
      return view(request);
    });
    app.get('/reload', async (request) => {
      request.session.set('a', 'unsaved');
      await request.session.reload();
      return view(request);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  test('get/set, reload, regenerate(keep) and destroy', async () => {
    assert.equal(typeof app.sessionManager.open, 'function', 'fastify.sessionManager is decorated');
    const client = new Client();
    const first = await client.json<{ id: string }>(`${url}/set?a=1&b=2&user=ann`);
    assert.deepEqual((await client.json(`${url}/reload`)).data, { a: '1', b: '2', user: 'ann' });

    const regenerated = await client.json<{ id: string; data: object }>(`${url}/regenerate?keep=user`);
    assert.notEqual(regenerated.id, first.id);
    assert.deepEqual(regenerated.data, { user: 'ann' });
    assert.deepEqual((await client.json(`${url}/`)).data, { user: 'ann' });
    const stale = new Client();
    stale.cookie = `unisession=${first.id}`;
    assert.deepEqual((await stale.json(`${url}/`)).data, {});

    const destroyed = await client.json(`${url}/destroy`);
    assert.equal(destroyed.data, null, 'request.session is null after destroy()');
    assert.equal(client.cookie, '', 'the cookie is cleared');
    const old = new Client();
    old.cookie = `unisession=${regenerated.id}`;
    assert.deepEqual((await old.json(`${url}/`)).data, {});
  });
});

describe('fastify: the fastify-plugin peer', () => {
  test('a missing fastify-plugin is UNISESSION_DRIVER_MISSING naming the package', async () => {
    const stdout = await runWithoutPackage(
      'fastify-plugin',
      `import(${JSON.stringify(sourcePath('adapters/fastify.ts'))})
        .then(() => console.log('loaded'), (e) => console.log(e.code, e.message));`,
    );
    assert.match(stdout, /^UNISESSION_DRIVER_MISSING .*"fastify-plugin" package: npm install fastify-plugin/);
  });
});
