/**
 * "Your sessions" over real HTTP with Express: a user signed in from two browsers sees both
 * (device parsed from the user agent, the current one marked, the other's id masked), signs
 * the other out by its handle or all at once, and `maxSessionsPerPrincipal` evicts the
 * oldest or refuses a login with 409 UNISESSION_TOO_MANY_SESSIONS, writing nothing.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, describe, it } from 'node:test';
import express from 'express';
import { type ExpressSessionOptions, session } from '../../src/adapters/express.js';
import type { Device } from '../../src/core/admin-types.js';
import type { SessionEvents } from '../../src/core/events.js';
import { memoryStore } from '../../src/stores/memory.js';
import { Client } from '../helpers/client.js';
import { close, errorsAsJson, listen } from '../helpers/server.js';

const FIREFOX = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

const servers: Array<ReturnType<typeof createServer>> = [];
after(() => Promise.all(servers.map((server) => close(server))));

async function startApp(options: Partial<ExpressSessionOptions> = {}) {
  const store = memoryStore();
  const middleware = session({ app: 'shop', secret: 'devices test', sweeper: false, store, ...options });
  const destroyed: Array<SessionEvents['destroyed']> = [];
  middleware.manager.on('destroyed', (event) => destroyed.push(event));
  const app = express();
  app.use(middleware);
  app.post('/login/:user', async (req, res, next) => {
    try {
      await req.sessionHandle.regenerate();
      await req.sessionHandle.setPrincipal(req.params.user!);
      res.json({ ok: true });
    } catch (error) {
      next(error);
    }
  });
  app.get('/me', async (req, res) => {
    res.json({ user: (await req.sessionHandle.metadata())?.principal ?? null });
  });
  app.get('/devices', async (req, res, next) => {
    req.sessionHandle.devices().then((devices) => res.json(devices), next);
  });
  app.post('/devices/others/revoke', (req, res, next) => {
    req.sessionHandle.revokeOtherSessions().then((n) => res.json({ revoked: n }), next);
  });
  app.post('/devices/:handle/revoke', (req, res, next) => {
    req.sessionHandle.revokeDevice(req.params.handle!).then((ok) => res.json({ revoked: ok }), next);
  });
  app.use(errorsAsJson);
  const server = createServer(app);
  servers.push(server);
  const url = await listen(server);
  const browser = (userAgent: string) => {
    const client = new Client(url);
    return {
      client,
      get: (path: string) => client.request(path, { headers: { 'user-agent': userAgent } }),
      post: (path: string) => client.request(path, { method: 'POST', headers: { 'user-agent': userAgent } }),
    };
  };
  return { store, browser, destroyed, manager: middleware.manager };
}

describe('devices over HTTP (Express)', () => {
  it("lists the user's sessions with their devices, the current one first, others masked", async () => {
    const { browser } = await startApp();
    const laptop = browser(FIREFOX);
    const phone = browser(IPHONE);
    const stranger = browser(FIREFOX);
    assert.equal((await laptop.post('/login/ann')).status, 200);
    assert.equal((await phone.post('/login/ann')).status, 200);
    assert.equal((await stranger.post('/login/bob')).status, 200);
    await phone.get('/me');
    const devices = (await (await laptop.get('/devices')).json()) as Device[];
    assert.equal(devices.length, 2, "bob's session is not ann's");
    const [current, other] = devices as [Device, Device];
    assert.equal(current.current, true);
    assert.equal(other.current, false);
    assert.match(current.browser, /^Firefox 120/);
    assert.equal(current.os, 'Ubuntu');
    assert.equal(current.deviceType, 'desktop');
    assert.match(other.browser, /Safari/);
    assert.match(other.os, /^iOS 17/);
    assert.equal(other.deviceType, 'mobile');
    assert.equal(other.clientAddress, '127.0.0.1');
    assert.ok(other.lastAccessedAt >= other.createdAt);
    const phoneId = phone.client.sessionId!;
    assert.equal(other.id, `${phoneId.slice(0, 8)}…`);
    assert.ok(!JSON.stringify(devices).includes(phoneId), 'the full id of another session never leaves');
    assert.notEqual(other.handle, current.handle);
  });

  it('signs out one other device by its handle, then all the others; their next request is anonymous', async () => {
    const { browser, destroyed } = await startApp();
    const laptop = browser(FIREFOX);
    const phone = browser(IPHONE);
    const tablet = browser(IPHONE);
    for (const device of [laptop, phone, tablet]) await device.post('/login/ann');
    const devices = (await (await laptop.get('/devices')).json()) as Device[];
    const phoneDevice = devices.find((device) => device.id === `${phone.client.sessionId!.slice(0, 8)}…`)!;
    assert.deepEqual(await (await laptop.post(`/devices/${phoneDevice.handle}/revoke`)).json(), {
      revoked: true,
    });
    assert.deepEqual(await (await phone.get('/me')).json(), { user: null });
    assert.deepEqual(await (await laptop.post(`/devices/${phoneDevice.handle}/revoke`)).json(), {
      revoked: false,
    });
    assert.deepEqual(await (await laptop.post('/devices/forged-handle/revoke')).json(), { revoked: false });
    const own = devices.find((device) => device.current)!;
    assert.deepEqual(
      await (await laptop.post(`/devices/${own.handle}/revoke`)).json(),
      { revoked: false },
      'not the current one',
    );
    assert.deepEqual(await (await laptop.post('/devices/others/revoke')).json(), { revoked: 1 });
    assert.deepEqual(await (await tablet.get('/me')).json(), { user: null });
    assert.deepEqual(await (await laptop.get('/me')).json(), { user: 'ann' }, 'this one stays');
    assert.deepEqual(
      destroyed.map((event) => event.reason),
      ['revoked', 'revoked'],
    );
  });

  it('an anonymous session has no devices', async () => {
    const { browser } = await startApp();
    const visitor = browser(FIREFOX);
    assert.deepEqual(await (await visitor.get('/devices')).json(), []);
    assert.deepEqual(await (await visitor.post('/devices/others/revoke')).json(), { revoked: 0 });
  });

  it('maxSessionsPerPrincipal: a number evicts the oldest sessions (reason evicted)', async () => {
    const { browser, destroyed } = await startApp({ maxSessionsPerPrincipal: 2 });
    const first = browser(FIREFOX);
    const second = browser(IPHONE);
    const third = browser(FIREFOX);
    await first.post('/login/ann');
    await second.post('/login/ann');
    await third.post('/login/ann');
    assert.deepEqual(await (await first.get('/me')).json(), { user: null }, 'the oldest was evicted');
    assert.deepEqual(await (await second.get('/me')).json(), { user: 'ann' });
    assert.deepEqual(await (await third.get('/me')).json(), { user: 'ann' });
    assert.deepEqual(
      destroyed.map((event) => event.reason),
      ['evicted'],
    );
  });

  it("maxSessionsPerPrincipal with policy 'refuse': 409 UNISESSION_TOO_MANY_SESSIONS, nothing written", async () => {
    const { browser, manager } = await startApp({ maxSessionsPerPrincipal: { limit: 1, policy: 'refuse' } });
    const first = browser(FIREFOX);
    const second = browser(IPHONE);
    await first.post('/login/ann');
    const before = await manager.count();
    const refused = await second.post('/login/ann');
    assert.equal(refused.status, 409);
    const body = (await refused.json()) as { error: string };
    assert.equal(body.error, 'UNISESSION_TOO_MANY_SESSIONS');
    assert.equal(await manager.count(), before, 'the refused login wrote nothing');
    assert.deepEqual(
      await (await first.get('/me')).json(),
      { user: 'ann' },
      'the existing session is untouched',
    );
    assert.equal(await manager.count({ principal: 'ann' }), 1);
  });

  it('refuses a bad maxSessionsPerPrincipal, or one on a store without a principal index, when created', () => {
    for (const bad of [
      0,
      1.5,
      '3',
      { limit: 2 },
      { limit: 2, policy: 'drop' },
      { limit: 0, policy: 'refuse' },
    ]) {
      assert.throws(
        () =>
          session({
            app: 'shop',
            sweeper: false,
            store: memoryStore(),
            maxSessionsPerPrincipal: bad as never,
          }),
        {
          code: 'UNISESSION_INVALID_OPTION',
        },
      );
    }
    const { principals: _dropped, ...withoutPrincipals } = memoryStore();
    assert.throws(
      () => session({ app: 'shop', sweeper: false, store: withoutPrincipals, maxSessionsPerPrincipal: 2 }),
      /maxSessionsPerPrincipal/,
    );
  });
});
