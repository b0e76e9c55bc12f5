/**
 * express-session's options other than `cookie`, each as its README documents it: genid,
 * name, proxy, resave, rolling, saveUninitialized, secret, store, unset; and start-up
 * refusals for what does not fit. Real Express apps over HTTP.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Express } from 'express';
import expressSession from 'express-session';
import { type ExpressSessionOptions, session } from '../../../src/adapters/express.js';
import { memoryStore } from '../../../src/stores/memory.js';
import { Browser, type CompatApp, compatApp } from './app.js';

declare module '../../../src/adapters/express.js' {
  interface SessionData {
    n: number;
  }
}

const routes = (app: Express) => {
  app.get('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    res.json({ n: req.session.n, id: req.sessionID });
  });
  app.get('/peek', (req, res) => res.json({ n: req.session?.n ?? null, id: req.sessionID ?? null }));
  app.get('/unset', (req, res) => {
    req.session.n = 100;
    (req as { session?: unknown }).session = null;
    res.json({ ok: true });
  });
  app.get('/delete', (req, res) => {
    delete (req as { session?: unknown }).session;
    res.json({ ok: true });
  });
};

const apps: CompatApp[] = [];
after(() => Promise.all(apps.map((app) => app.stop())));
async function start(
  options: ExpressSessionOptions,
  trust = true,
): Promise<{ app: CompatApp; browser: Browser }> {
  const app = await compatApp(options, routes, (express) =>
    express.set('trust proxy', trust ? 'loopback' : false),
  );
  apps.push(app);
  return { app, browser: new Browser(app.base) };
}

describe('genid', () => {
  it('names new sessions with its result, is given the request, and the id works as a cookie', async () => {
    const seen: string[] = [];
    const { app, browser } = await start({
      genid: (req) => {
        seen.push(req.path);
        return randomUUID();
      },
    });
    const { id } = await browser.json<{ id: string }>('/count');
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(seen, ['/count']);
    assert.equal(browser.id(), id);
    assert.equal((await browser.json('/count')).n, 2, 'the UUID cookie is read back');
    assert.equal((await app.stored(id))?.attributes.n, 2);
  });

  it('a weak id fails the request with UNISESSION_INVALID_OPTION naming genid, and stores nothing', async () => {
    let counter = 0;
    const { app, browser } = await start({ genid: () => `session-${counter++}` });
    const response = await browser.get('/count');
    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: string; message: string };
    assert.equal(body.error, 'UNISESSION_INVALID_OPTION');
    assert.match(body.message, /option "genid" must be a function returning 22 to 128 characters/);
    assert.equal(browser.setCookies.length, 0);
    assert.equal(await app.stored('session-0'), null);
  });
});

describe('name', () => {
  it('names the cookie (connect.sid keeps express-session users’ cookie name)', async () => {
    const { browser } = await start({ name: 'connect.sid' });
    await browser.json('/count');
    assert.ok(browser.cookie('connect.sid'));
    assert.equal((await browser.json('/count')).n, 2);
  });
});

describe('proxy', () => {
  it('true: X-Forwarded-Proto decides, even when Express trusts no proxy', async () => {
    const { browser } = await start({ proxy: true, cookie: { secure: 'auto' } }, false);
    await browser.json('/count', { 'x-forwarded-proto': 'https' });
    assert.equal(browser.cookie()!.attributes.get('secure'), true);
  });

  it('false: X-Forwarded-Proto is ignored, so a secure: true cookie is not sent over HTTP', async () => {
    const { browser } = await start({ proxy: false, cookie: { secure: true } }, true);
    await browser.json('/count', { 'x-forwarded-proto': 'https' });
    assert.equal(browser.setCookies.length, 0);
  });

  it("unset: Express's `trust proxy` setting decides", async () => {
    const trusted = await start({ cookie: { secure: 'auto' } }, true);
    await trusted.browser.json('/count', { 'x-forwarded-proto': 'https' });
    assert.equal(trusted.browser.cookie()!.attributes.get('secure'), true);
    const untrusted = await start({ cookie: { secure: 'auto' } }, false);
    await untrusted.browser.json('/count', { 'x-forwarded-proto': 'https' });
    assert.equal(untrusted.browser.cookie()!.attributes.has('secure'), false);
  });
});

describe('rolling', () => {
  it('true: the cookie is re-sent on every response, its expiry reset to the full maxAge', async () => {
    const { browser } = await start({ rolling: true, cookie: { maxAge: 60_000 } });
    await browser.json('/count');
    const first = Date.parse(browser.cookie()!.attributes.get('expires') as string);
    await sleep(1100);
    await browser.json('/peek');
    const second = browser.cookie();
    assert.ok(second, 'a read-only request re-sends the cookie');
    assert.ok(Date.parse(second.attributes.get('expires') as string) > first);
  });

  it('false (default): a read-only request sends no cookie', async () => {
    const { browser } = await start({ cookie: { maxAge: 60_000 } });
    await browser.json('/count');
    await browser.json('/peek');
    assert.equal(browser.setCookies.length, 0);
  });
});

describe('saveUninitialized and resave', () => {
  it('saveUninitialized defaults to false: a visit that sets nothing stores nothing and sends no cookie', async () => {
    const { browser } = await start({});
    await browser.json('/peek');
    assert.equal(browser.setCookies.length, 0);
  });

  it('saveUninitialized: true stores the empty session and sends its cookie', async () => {
    const { app, browser } = await start({ saveUninitialized: true });
    const { id } = await browser.json<{ id: string }>('/peek');
    assert.equal(browser.id(), id);
    assert.deepEqual((await app.stored(id))?.attributes, {});
  });

  it('resave: true is accepted and writes nothing more (writes are deltas)', async () => {
    const { app, browser } = await start({ resave: true });
    await browser.json('/count');
    const before = await app.stored(browser.id()!);
    await browser.json('/peek');
    assert.deepEqual(await app.stored(browser.id()!), before);
  });
});

describe('secret', () => {
  it('a string, a Buffer or a list: the first signs, every one verifies, and an old one is re-signed', async () => {
    const old = await start({ secret: Buffer.from('old secret') });
    await old.browser.json('/count');
    const store = old.app.store;
    const rotated = await compatApp({ secret: ['new secret', Buffer.from('old secret')], store }, routes);
    apps.push(rotated);
    const browser = new Browser(rotated.base);
    for (const [name, value] of old.browser.jar) browser.jar.set(name, value);
    assert.equal((await browser.json('/count')).n, 2, 'the old secret still verifies');
    assert.ok(browser.cookie(), 're-issued, signed with the new secret');
    const onlyNew = await compatApp({ secret: 'new secret', store }, routes);
    apps.push(onlyNew);
    const later = new Browser(onlyNew.base);
    for (const [name, value] of browser.jar) later.jar.set(name, value);
    assert.equal((await later.json('/count')).n, 3);
  });

  it('a cookie signed with another secret gets a new session', async () => {
    const a = await start({ secret: 'a' });
    await a.browser.json('/count');
    const b = await start({ secret: 'b' });
    const browser = new Browser(b.app.base);
    for (const [name, value] of a.browser.jar) browser.jar.set(name, value);
    assert.equal((await browser.json('/count')).n, 1);
  });
});

describe('store', () => {
  it('takes a unisession store, and req.sessionStore is it', async () => {
    const store = memoryStore();
    const app = await compatApp({ store }, (express) =>
      express.get('/store', (req, res) => res.json({ same: req.sessionStore === store })),
    );
    apps.push(app);
    assert.deepEqual(await new Browser(app.base).json('/store'), { same: true });
  });

  it('an express-session store is refused at start-up, pointing at migrateFrom', () => {
    assert.throws(
      () => session({ secret: 's', store: new expressSession.MemoryStore() as never }),
      /option "store" must be a unisession store .*pass it as `migrateFrom`/,
    );
  });
});

describe('unset', () => {
  it("'keep' (default): req.session = null keeps the stored session and drops the request's changes", async () => {
    const { app, browser } = await start({});
    await browser.json('/count');
    await browser.json('/unset');
    assert.equal((await app.stored(browser.id()!))?.attributes.n, 1);
    assert.equal((await browser.json('/count')).n, 2);
  });

  it("'destroy': req.session = null destroys the session and clears the cookie", async () => {
    const { app, browser } = await start({ unset: 'destroy' });
    await browser.json('/count');
    const id = browser.id()!;
    await browser.json('/unset');
    assert.equal(await app.stored(id), null);
    assert.equal(browser.cookie()?.value, '');
    assert.equal((await browser.json('/count')).n, 1);
  });

  it("'destroy': delete req.session destroys it too", async () => {
    const { app, browser } = await start({ unset: 'destroy' });
    await browser.json('/count');
    const id = browser.id()!;
    await browser.json('/delete');
    assert.equal(await app.stored(id), null);
  });
});

describe('start-up refusals', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ unset: 'remove' }, /option "unset" must be one of 'keep', 'destroy'/],
    [{ genid: 'uuid' }, /option "genid" must be a function/],
    [{ rolling: 'yes' }, /option "rolling" must be true or false/],
    [{ cookie: { sameSite: 'sometimes' } }, /option "cookie.sameSite"/],
    [{ cookie: { secure: 'yes' } }, /option "cookie.secure"/],
    [{ cookie: { priority: 'urgent' } }, /option "cookie.priority"/],
    [{ cookie: { expires: 'tomorrow' } }, /option "cookie.expires" must be a valid Date/],
    [{ cookie: { maxAge: '1d' } }, /option "cookie.maxAge"/],
    [{ cookie: { partitioned: 1 } }, /option "cookie.partitioned"/],
    [
      { cookie: { maxAge: 1e20 } },
      /option "cookie.maxAge" must be a finite number >= 0 of at most 100 years \(in ms\) or null/,
    ],
    [{ cookie: { path: 'admin' } }, /option "cookie.path"/],
    [{ cookie: 'strict' }, /option "cookie" must be a function or an object/],
    [{ migrateFrom: {} }, /option "migrateFrom" must be an express-session store/],
    [{ secret: [] }, /option "secret"/],
    [{ key: 'connect.sid' }, /unknown option "key"/],
  ];
  for (const [options, expected] of cases) {
    it(`refuses ${JSON.stringify(options)}`, () => {
      assert.throws(() => session({ store: memoryStore(), ...options } as ExpressSessionOptions), expected);
    });
  }
});

describe('legacyCookies', () => {
  it("reads an express-session cookie whose id unisession's store has, and re-issues it in unisession's format", async () => {
    const { legacySignature } = await import('../../../src/adapters/express/legacy-cookie.js');
    const { app, browser } = await start({ legacyCookies: true });
    await browser.json('/count');
    const id = browser.id()!;
    const legacy = new Browser(app.base);
    legacy.jar.set('unisession', encodeURIComponent(`s:${id}.${legacySignature(id, 'keyboard cat')}`));
    assert.equal((await legacy.json('/count')).n, 2);
    assert.match(legacy.jar.get('unisession')!, new RegExp(`^${id}\\.[A-Za-z0-9_-]{43}$`));
  });

  it('clears an express-session cookie whose id no store has', async () => {
    const { legacySignature } = await import('../../../src/adapters/express/legacy-cookie.js');
    const { app } = await start({ legacyCookies: true });
    const legacy = new Browser(app.base);
    const id = `${'A'.repeat(16)}bcdefghijklmnopq`;
    legacy.jar.set('unisession', encodeURIComponent(`s:${id}.${legacySignature(id, 'keyboard cat')}`));
    await legacy.json('/peek');
    assert.equal(legacy.cookie()?.value, '');
  });

  it('is off by default: an express-session cookie is an unknown cookie', async () => {
    const { legacySignature } = await import('../../../src/adapters/express/legacy-cookie.js');
    const { app, browser } = await start({});
    await browser.json('/count');
    const id = browser.id()!;
    const legacy = new Browser(app.base);
    legacy.jar.set('unisession', encodeURIComponent(`s:${id}.${legacySignature(id, 'keyboard cat')}`));
    assert.equal((await legacy.json('/count')).n, 1);
    assert.notEqual(legacy.id(), id);
  });
});

describe('a SessionManager passed in', () => {
  it('its cookie options decide the Set-Cookie (name, path, sameSite, persistence)', async () => {
    const { createSessionManager } = await import('../../../src/index.js');
    const manager = createSessionManager({
      app: 'shop',
      store: memoryStore(),
      sweeper: false,
      secret: 's',
      maxInactive: 600_000,
      cookie: { name: 'sid', sameSite: 'strict', persistent: true, httpOnly: false },
    });
    const express = (await import('express')).default();
    express.use(session(manager));
    routes(express);
    const { createServer } = await import('node:http');
    const { listen, close } = await import('../../helpers/server.js');
    const server = createServer(express);
    const browser = new Browser(await listen(server));
    try {
      await browser.json('/count');
      const cookie = browser.cookie('sid')!;
      assert.equal(cookie.attributes.get('samesite'), 'Strict');
      assert.equal(cookie.attributes.get('max-age'), '600');
      assert.equal(cookie.attributes.has('httponly'), false);
    } finally {
      await close(server);
      await manager.close();
    }
  });
});
