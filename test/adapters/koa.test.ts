/**
 * The Koa adapter's own API (src/adapters/koa.ts), koa-session style: properties,
 * `ctx.session = {...}` and `= null`, regenerate, and `save()` before writing `ctx.res` by
 * hand. What every adapter does is in contract.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { unisession as koaSessions } from '../../src/adapters/koa.js';
import { type Running, serve } from '../helpers/server.js';
import { Client, sqliteFixture } from './shared.js';

declare module '../../src/adapters/koa.js' {
  interface SessionData {
    early: string;
  }
}

const { manager, store, cleanup } = sqliteFixture();
after(cleanup);

describe('koa: koa-session style API', () => {
  let running: Running;
  before(async () => {
    const app = new Koa();
    app.use(koaSessions(manager(store)));
    app.use(async (ctx) => {
      const session = ctx.session!;
      if (ctx.path === '/set') Object.assign(session, ctx.query);
      else if (ctx.path === '/replace') ctx.session = { only: 'this' };
      else if (ctx.path === '/logout') ctx.session = null;
      else if (ctx.path === '/regenerate') await session.regenerate();
      else if (ctx.path === '/save-then-stream') {
        session.early = 'yes';
        await session.save(); // before writing the body by hand
        ctx.respond = false;
        ctx.res.end('raw');
        return;
      }
      ctx.body = { id: session.id ?? null, isNew: session.isNew, data: ctx.session?.toJSON() ?? null };
    });
    running = await serve(createServer(app.callback()));
  });
  after(() => running.close());

  test('properties, replacement, regenerate and ctx.session = null', async () => {
    const client = new Client();
    const first = await client.json<{ id: string; data: object }>(`${running.url}/set?a=1&b=2`);
    assert.deepEqual(first.data, { a: '1', b: '2' });
    const replaced = await client.json<{ data: object }>(`${running.url}/replace`);
    assert.deepEqual(replaced.data, { only: 'this' });
    assert.deepEqual((await client.json<{ data: object }>(`${running.url}/`)).data, { only: 'this' });

    const oldCookie = client.cookie;
    const regenerated = await client.json<{ id: string; data: object }>(`${running.url}/regenerate`);
    assert.notEqual(regenerated.id, first.id);
    assert.deepEqual(regenerated.data, { only: 'this' });
    const stale = new Client();
    stale.cookie = oldCookie;
    assert.deepEqual((await stale.json<{ isNew: boolean; data: object }>(`${running.url}/`)).data, {});

    const loggedOut = await client.request(`${running.url}/logout`);
    assert.equal(((await loggedOut.json()) as { data: null }).data, null, 'ctx.session is null after logout');
    assert.match(client.setCookies[0] ?? '', /^unisession=; .*Expires=Thu, 01 Jan 1970/);
    const afterLogout = new Client();
    afterLogout.cookie = `unisession=${regenerated.id}`;
    assert.deepEqual((await afterLogout.json<{ data: object }>(`${running.url}/`)).data, {});
  });

  test('session.save() commits early, for ctx.respond = false', async () => {
    const client = new Client();
    const response = await client.request(`${running.url}/save-then-stream`);
    assert.equal(await response.text(), 'raw');
    assert.equal(client.setCookies.length, 1, 'save() put the cookie on ctx.res');
    assert.deepEqual((await client.json<{ data: object }>(`${running.url}/`)).data, { early: 'yes' });
  });
});
