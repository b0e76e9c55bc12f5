/**
 * The Hono adapter's own behaviour (src/adapters/hono.ts): `c.get('session')`, a returned
 * Response with immutable headers, no session on ignored URLs. What every adapter does is in
 * contract.test.ts.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { unisession as honoSessions } from '../../src/adapters/hono.js';
import { type Running, serve } from '../helpers/server.js';
import { Client, sqliteFixture, startReader } from './shared.js';

const { manager, store, cleanup } = sqliteFixture();
/** Another server on the same store, to see what the Hono app stored. */
let reader: Running;
before(async () => {
  reader = await startReader(manager(store));
});
after(async () => {
  await reader.close();
  await cleanup();
});

describe('hono: c.get(session), immutable responses', () => {
  let running: Running;
  before(async () => {
    const app = new Hono();
    app.use(honoSessions(manager(store)));
    app.get('/static/x', (c) => c.json({ session: c.get('session') === undefined ? 'none' : 'some' }));
    app.get('/fetched-redirect', async (c) => {
      await c.get('session').set('flash', 'via Response.redirect');
      return Response.redirect(`${reader.url}/read?name=flash`, 303);
    });
    running = await serve(createAdaptorServer({ fetch: app.fetch }) as Server);
  });
  after(() => running.close());

  test('a Response with immutable headers still gets the cookie, and the write', async () => {
    const client = new Client();
    const response = await client.request(`${running.url}/fetched-redirect`);
    assert.equal(response.status, 303);
    assert.equal(client.setCookies.length, 1);
    assert.deepEqual(await client.json(response.headers.get('location')!), {
      value: 'via Response.redirect',
    });
  });

  test('no session on ignored URLs', async () => {
    assert.deepEqual(await new Client().json(`${running.url}/static/x`), { session: 'none' });
  });
});
