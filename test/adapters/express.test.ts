import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type ExpressSessionOptions, session } from '../../src/adapters/express.js';
import { UnisessionError } from '../../src/core/errors.js';
import { memoryStore } from '../../src/stores/memory.js';
import { Client } from '../helpers/client.js';
import { countingStore } from '../helpers/counting-store.js';
import { close, listen } from '../helpers/server.js';

declare module '../../src/adapters/express.js' {
  interface SessionData {
    views: number;
    user: string;
    cart: string[];
    flash: string;
    [name: `k${number}`]: number;
  }
}

/** An app written for express-session; only the import and the store option differ. */
async function startApp(options: ExpressSessionOptions) {
  const app = express();
  app.set('trust proxy', 'loopback');
  const middleware = session({ secret: 'keyboard cat', ignore: /^\/assets\//, sweeper: false, ...options });
  app.use(middleware);
  app.get('/views', (req, res) => {
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ views: req.session.views, id: req.sessionID });
  });
  app.get('/peek', (req, res) =>
    res.json({ views: req.session.views ?? null, user: req.session.user ?? null }),
  );
  app.get('/set/:name/:value', (req, res) => {
    (req.session as unknown as Record<string, unknown>)[req.params.name!] = Number(req.params.value);
    res.json({ ok: true });
  });
  app.get('/cart/:item', (req, res) => {
    req.session.cart ??= [];
    req.session.cart.push(req.params.item!);
    res.json({ cart: req.session.cart });
  });
  app.get('/forget-views', (req, res) => {
    delete req.session.views;
    res.json({ ok: true });
  });
  app.get('/login/:user', (req, res, next) => {
    // The express-session idiom: regenerate, then set, then save before redirecting.
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.user = req.params.user!;
      req.session.save((saveError) => (saveError ? next(saveError) : res.redirect('/peek')));
    });
  });
  app.get('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.json({ session: req.session ?? null })));
  });
  app.get('/reload', (req, res, next) => {
    req.session.views = 999;
    req.session.reload((error) => (error ? next(error) : res.json({ views: req.session.views ?? null })));
  });
  app.get('/remember', (req, res) => {
    req.session.cookie.maxAge = 7 * 86_400_000;
    res.json({ ok: true });
  });
  app.get('/native', async (req, res) => {
    await req.sessionHandle.set('flash', 'hello');
    res.json({ flash: await req.sessionHandle.get('flash') });
  });
  app.get('/assets/app.js', (req, res) => res.json({ hasSession: req.session !== undefined }));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof UnisessionError)
      return res.status(error.status).json({ error: error.code, message: error.message });
    res.status(500).json({ error: String(error) });
  });
  const server = createServer(app);
  const base = await listen(server);
  return { base, manager: middleware.manager, stop: () => close(server) };
}

describe('express adapter (express-session drop-in)', () => {
  const store = countingStore(memoryStore());
  let app: Awaited<ReturnType<typeof startApp>>;
  before(async () => {
    app = await startApp({ store });
  });
  after(() => app.stop());

  it('counts views with req.session, in one round trip to read and two to write', async () => {
    const client = new Client(app.base);
    store.reset();
    assert.equal((await client.json('/views')).views, 1);
    assert.deepEqual(store.calls, ['create']);
    store.reset();
    assert.equal((await client.json('/peek')).views, 1);
    assert.deepEqual(store.calls, ['load']);
    store.reset();
    const second = await client.json('/views');
    assert.equal(second.views, 2);
    assert.equal(second.id, client.sessionId);
    assert.deepEqual(store.calls, ['load', 'update']);
    store.reset();
    assert.deepEqual(await client.json('/assets/app.js'), { hasSession: false });
    assert.deepEqual(store.calls, []);
  });

  it('signs the cookie with the secret', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    assert.match(client.cookie, /^unisession=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$/);
  });

  it('saves in-place mutation and deletion of properties', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    await client.json('/cart/apple');
    assert.deepEqual((await client.json('/cart/pear')).cart, ['apple', 'pear']);
    await client.json('/forget-views');
    assert.deepEqual(await client.json('/peek'), { views: null, user: null });
    const stored = await store.load(client.sessionId!, 'all', Date.now());
    assert.deepEqual([...stored!.attributes.keys()], ['app:cart']);
  });

  it('keeps all 200 properties set by 200 concurrent requests', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.request(`/set/k${i}/${i}`)),
    );
    assert.ok(responses.every((response) => response.status === 200));
    const stored = await store.load(client.sessionId!, 'all', Date.now());
    for (let i = 0; i < 200; i++) assert.equal(stored!.attributes.get(`app:k${i}`), String(i));
    assert.equal(stored!.attributes.get('app:views'), '1');
  });

  it('regenerate(cb) gives a new, empty session; the old id is dead; save(cb) lands before the redirect', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    const oldId = client.sessionId!;
    const response = await client.request('/login/alice');
    assert.equal(response.status, 302);
    assert.notEqual(client.sessionId, oldId);
    assert.equal(await store.load(oldId, 'all', Date.now()), null);
    const stored = await store.load(client.sessionId!, 'all', Date.now());
    assert.equal(stored?.attributes.get('app:user'), '"alice"', 'saved before the redirect left');
    assert.deepEqual(await client.json('/peek'), { views: null, user: 'alice' });
  });

  it('destroy(cb) ends the session and clears the cookie', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    const id = client.sessionId!;
    assert.deepEqual(await client.json('/logout'), { session: null });
    assert.equal(client.cookie, '');
    assert.equal(await store.load(id, 'all', Date.now()), null);
  });

  it('reload(cb) drops unsaved changes', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    assert.deepEqual(await client.json('/reload'), { views: 1 });
  });

  it('cookie.maxAge makes the cookie persistent and the session live that long', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    const response = await client.request('/remember');
    assert.match(response.headers.get('set-cookie') ?? '', /Max-Age=604800/);
    const stored = await store.load(client.sessionId!, [], Date.now());
    assert.equal(stored?.meta.maxInactive, 7 * 86_400_000);
  });

  it('offers the native async API on req.sessionHandle for the same session', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    assert.deepEqual(await client.json('/native'), { flash: 'hello' });
  });

  it('gives malformed and forged cookies a fresh session with HTTP 200', async () => {
    for (const cookie of [
      'unisession=%E0%A4%A',
      `unisession=${'A'.repeat(32)}.forged`,
      'unisession=s%3Aabc.def',
    ]) {
      const client = new Client(app.base);
      const response = await client.request('/views', { headers: { cookie } });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { views: number }).views, 1);
    }
  });

  it('serves a session holding an undecodable value, and leaves that value stored for older nodes', async () => {
    const client = new Client(app.base);
    await client.json('/views');
    const legacy = '{"$t":"@ClassFromAnOlderRelease","v":{}}';
    await store.update(client.sessionId!, { set: new Map([['app:legacy', legacy]]) });
    assert.equal((await client.json('/views')).views, 2);
    const stored = await store.load(client.sessionId!, 'all', Date.now());
    assert.equal(stored?.attributes.get('app:legacy'), legacy);
  });

  it("follows Express's trust proxy setting for the Secure flag", async () => {
    const response = await fetch(`${app.base}/views`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(response.headers.get('set-cookie')!, /; Secure/);
  });
});

describe('express adapter: store down', () => {
  it('passes UNISESSION_STORE_UNAVAILABLE (503) to the error handler', async () => {
    const working = memoryStore();
    let down = false;
    const store = new Proxy(working, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || property === 'close') return value;
        return (...args: unknown[]) =>
          down ? Promise.reject(new Error('ETIMEDOUT')) : value.apply(target, args);
      },
    });
    const app = await startApp({ store });
    try {
      const client = new Client(app.base);
      await client.json('/views');
      down = true;
      const response = await client.request('/views');
      assert.equal(response.status, 503);
      assert.equal(((await response.json()) as { error: string }).error, 'UNISESSION_STORE_UNAVAILABLE');
      down = false;
      assert.equal((await client.json('/views')).views, 2);
    } finally {
      await app.stop();
    }
  });
});
