/**
 * The Fastify plugin makes `request.session` at its first touch (src/adapters/fastify.ts): a
 * request without a session cookie that never touches `request.session` or
 * `request.sessionHandle` writes nothing and sends no cookie; one that touches either,
 * whichever and however, behaves as if the session had been there all along.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { unisession as fastifySessions } from '../../src/adapters/fastify.js';
import { Client, sqliteFixture } from './shared.js';

const { store, cleanup } = sqliteFixture();
after(cleanup);

describe('fastify: a new session made at its first touch', () => {
  let app: FastifyInstance;
  let url: string;
  let creates = 0;
  before(async () => {
    const create = store.create.bind(store);
    store.create = (...args) => {
      creates++;
      return create(...args);
    };
    app = Fastify();
    await app.register(fastifySessions, { app: 'touch', store, sweeper: false });
    app.get('/plain', async () => 'plain');
    app.get('/handle', async (request) => {
      await request.sessionHandle.set('n', 7);
      return { id: request.sessionHandle.id };
    });
    app.get('/read', async (request) => ({
      n: request.session.get('n') ?? null,
      id: request.session.sessionId,
    }));
    app.get('/destroy-new', async (request) => {
      await request.session.destroy();
      return { session: request.session };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  test('writes nothing and sends no cookie when nothing is touched', async () => {
    const client = new Client();
    creates = 0;
    assert.equal(await (await client.request(`${url}/plain`)).text(), 'plain');
    assert.deepEqual(client.setCookies, []);
    assert.equal(creates, 0);
  });

  test('saves what the native handle sets, and the next request reads it', async () => {
    const client = new Client();
    const { id } = await client.json<{ id: string }>(`${url}/handle`);
    assert.match(client.cookie, /^unisession=/);
    assert.deepEqual(await client.json(`${url}/read`), { n: 7, id });
  });

  test('a read of a new session sends no cookie; destroy leaves request.session null', async () => {
    const client = new Client();
    const read = await client.json<{ n: null; id: string }>(`${url}/read`);
    assert.equal(read.n, null);
    assert.equal(typeof read.id, 'string');
    assert.deepEqual(client.setCookies, []);
    assert.deepEqual(await client.json(`${url}/destroy-new`), { session: null });
  });
});
