/**
 * `req.session`, `req.session.cookie`, `req.sessionID` and `req.sessionStore`, member by
 * member as express-session's README describes them, each writable per request. Real
 * Express apps over HTTP; the stored session is read back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Express, NextFunction, Request, Response } from 'express';
import { Browser, type CompatApp, compatApp } from './app.js';

declare module '../../../src/adapters/express.js' {
  interface SessionData {
    n: number;
    user: string;
  }
}

const DAY = 86_400_000;
const done = (next: NextFunction, then: () => void) => (error?: unknown) => (error ? next(error) : then());

const routes = (app: Express) => {
  app.get('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    res.json({ n: req.session.n, id: req.session.id, sessionID: req.sessionID });
  });
  app.get('/peek', (req, res) => res.json({ n: req.session?.n ?? null, user: req.session?.user ?? null }));
  app.get('/login/:user', (req, res, next) => {
    const remember = req.query.remember === '1';
    req.session.regenerate(
      done(next, () => {
        req.session.user = req.params.user!;
        // "Remember me": a persistent cookie, and as long a session; otherwise a browser-session cookie.
        if (remember) req.session.cookie.maxAge = 30 * DAY;
        else req.session.cookie.expires = false;
        req.session.save(done(next, () => res.json({ id: req.sessionID, cookie: req.session.cookie })));
      }),
    );
  });
  app.get('/forget', (req, res) => {
    req.session.cookie.maxAge = null;
    res.json({ cookie: req.session.cookie });
  });
  app.get('/cookie', (req, res) => {
    const { cookie } = req.session;
    res.json({
      maxAge: cookie.maxAge,
      originalMaxAge: cookie.originalMaxAge,
      expires: cookie.expires,
      httpOnly: cookie.httpOnly,
      secure: cookie.secure,
      sameSite: cookie.sameSite,
      domain: cookie.domain ?? null,
      path: cookie.path,
      partitioned: cookie.partitioned ?? null,
      priority: cookie.priority ?? null,
    });
  });
  app.get('/attributes', (req, res) => {
    req.session.n = 1;
    Object.assign(req.session.cookie, {
      httpOnly: false,
      sameSite: 'strict',
      domain: 'example.test',
      path: '/',
      partitioned: true,
      priority: 'low',
    });
    req.session.cookie.expires = new Date(Date.now() + 2 * DAY);
    res.json({ ok: true });
  });
  app.get('/reset', (req, res) => {
    req.session.cookie.maxAge = 1_000;
    const shortened = req.session.cookie.maxAge;
    req.session.cookie.resetMaxAge();
    res.json({ shortened, after: req.session.cookie.maxAge, original: req.session.cookie.originalMaxAge });
  });
  app.get('/touch', (req, res) => {
    req.session.touch();
    res.json({ ok: true });
  });
  app.get('/destroy', (req, res, next) => {
    req.session.destroy(done(next, () => res.json({ session: req.session ?? null })));
  });
  app.get('/reload', (req, res, next) => {
    req.session.n = 999;
    req.session.reload(done(next, () => res.json({ n: req.session.n ?? null })));
  });
  app.get('/reload-vanished', async (req, res) => {
    await req.sessionStore.destroy(req.sessionID);
    req.session.reload((error) => res.json({ error: error instanceof Error ? error.message : null }));
  });
  app.get('/save-then-redirect', (req, res, next) => {
    req.session.n = 7;
    req.session.save(done(next, () => res.redirect('/peek')));
  });
  app.get('/store', (req, res) => res.json({ name: req.sessionStore.name }));
};

let app: CompatApp;
before(async () => {
  app = await compatApp({}, routes);
});
after(() => app.stop());

describe('req.session.id, req.sessionID, req.sessionStore', () => {
  it('id and sessionID are the cookie’s id; sessionStore is the store', async () => {
    const browser = new Browser(app.base);
    const body = await browser.json<{ id: string; sessionID: string }>('/count');
    assert.equal(body.id, body.sessionID);
    assert.equal(browser.id(), body.id);
    assert.deepEqual(await browser.json('/store'), { name: 'memory' });
  });
});

describe('req.session.regenerate, save, destroy, reload, touch', () => {
  it('regenerate: a new id, an empty session, and the old id is dead', async () => {
    const browser = new Browser(app.base);
    await browser.json('/count');
    const old = browser.id()!;
    const body = await browser.json<{ id: string }>('/login/ada');
    assert.notEqual(body.id, old);
    assert.equal(await app.stored(old), null);
    assert.deepEqual(await browser.json('/peek'), { n: null, user: 'ada' });
  });

  it('save: the store has the change before the redirect leaves', async () => {
    const browser = new Browser(app.base);
    await browser.json('/count');
    const response = await browser.get('/save-then-redirect');
    assert.equal(response.status, 302);
    assert.equal((await app.stored(browser.id()!))?.attributes.n, 7);
  });

  it('destroy: the store forgets it, req.session is gone and the cookie is cleared', async () => {
    const browser = new Browser(app.base);
    await browser.json('/count');
    const id = browser.id()!;
    assert.deepEqual(await browser.json('/destroy'), { session: null });
    assert.equal(await app.stored(id), null);
    assert.equal(browser.cookie()?.value, '');
  });

  it('reload: drops unsaved changes; a session that vanished is an error, "failed to load session"', async () => {
    const browser = new Browser(app.base);
    await browser.json('/count');
    assert.deepEqual(await browser.json('/reload'), { n: 1 });
    assert.deepEqual(await browser.json('/reload-vanished'), { error: 'failed to load session' });
  });

  it('touch: records the access and resets the cookie’s expiry', async () => {
    const browser = new Browser(app.base);
    await browser.json('/login/ada?remember=1');
    const id = browser.id()!;
    const before = (await app.stored(id))!.expiresAt!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await browser.json('/touch');
    assert.ok((await app.stored(id))!.expiresAt! > before, 'the store slid');
    assert.equal(browser.cookie()!.attributes.get('max-age'), String((30 * DAY) / 1000));
  });
});

describe('req.session.cookie', () => {
  it('reads as express-session’s: maxAge, originalMaxAge, expires, and the attributes', async () => {
    const browser = new Browser(app.base);
    await browser.json('/count');
    assert.deepEqual(await browser.json('/cookie'), {
      maxAge: null,
      originalMaxAge: null,
      expires: null,
      httpOnly: true,
      secure: false,
      sameSite: 'lax',
      domain: null,
      path: '/',
      partitioned: null,
      priority: null,
    });
  });

  it('"remember me": maxAge = 30 days is the cookie’s and the stored session’s lifetime, on later requests too', async () => {
    const browser = new Browser(app.base);
    const body = await browser.json<{ cookie: { originalMaxAge: number } }>('/login/ada?remember=1');
    assert.equal(body.cookie.originalMaxAge, 30 * DAY);
    assert.equal(browser.cookie()!.attributes.get('max-age'), String((30 * DAY) / 1000));
    const stored = await app.stored(browser.id()!);
    assert.equal(stored?.maxInactive, 30 * DAY);
    assert.ok(stored!.expiresAt! > Date.now() + 29 * DAY);
    const later = await browser.json<{ originalMaxAge: number; maxAge: number }>('/cookie');
    assert.equal(later.originalMaxAge, 30 * DAY, 'the lifetime was stored with the session');
    assert.ok(later.maxAge > 29 * DAY);
  });

  it('"don’t remember me": expires = false gives a browser-session cookie', async () => {
    const browser = new Browser(app.base);
    await browser.json('/login/ada');
    const cookie = browser.cookie()!;
    assert.equal(cookie.attributes.has('expires'), false);
    assert.equal(cookie.attributes.has('max-age'), false);
    assert.deepEqual(await browser.json('/peek'), { n: null, user: 'ada' });
  });

  it('maxAge = null on a remembered session: re-sent as a browser-session cookie, the store back to the default lifetime', async () => {
    const browser = new Browser(app.base);
    await browser.json('/login/ada?remember=1');
    await browser.json('/forget');
    const cookie = browser.cookie()!;
    assert.equal(cookie.attributes.has('expires'), false);
    assert.equal((await app.stored(browser.id()!))?.maxInactive, app.manager.options.maxInactive);
    assert.equal((await browser.json<{ originalMaxAge: null }>('/cookie')).originalMaxAge, null);
  });

  it('httpOnly, sameSite, domain, partitioned, priority and expires, set per request, are sent and kept', async () => {
    const browser = new Browser(app.base);
    await browser.json('/attributes');
    const cookie = browser.cookie()!;
    assert.equal(cookie.attributes.has('httponly'), false);
    assert.equal(cookie.attributes.get('samesite'), 'Strict');
    assert.equal(cookie.attributes.get('domain'), 'example.test');
    assert.equal(cookie.attributes.get('partitioned'), true);
    assert.equal(cookie.attributes.get('priority'), 'Low');
    assert.ok(
      Math.abs(Date.parse(cookie.attributes.get('expires') as string) - (Date.now() + 2 * DAY)) < 2_000,
    );
    const later = await browser.json<Record<string, unknown>>('/cookie');
    assert.equal(later.httpOnly, false);
    assert.equal(later.domain, 'example.test');
    assert.equal(later.sameSite, 'strict');
    assert.ok(Math.abs((later.originalMaxAge as number) - 2 * DAY) < 2_000);
  });

  it('resetMaxAge() puts maxAge back to originalMaxAge', async () => {
    const browser = new Browser(app.base);
    await browser.json('/count');
    const body = await browser.json<{ shortened: number; after: number; original: number }>('/reset');
    assert.ok(body.shortened <= 1_000);
    assert.equal(body.original, 1_000);
    assert.ok(body.after > 900 && body.after <= 1_000);
  });

  it('secure: true set per request over plain HTTP: no cookie is sent', async () => {
    const secureApp = await compatApp({}, (express) =>
      express.get('/secure', (req: Request, res: Response) => {
        req.session.n = 1;
        req.session.cookie.secure = true;
        res.json({ ok: true });
      }),
    );
    try {
      const browser = new Browser(secureApp.base);
      await browser.json('/secure');
      assert.equal(browser.setCookies.length, 0);
    } finally {
      await secureApp.stop();
    }
  });
});

describe('an existing req.session', () => {
  it('set by earlier middleware is left as it is, as express-session does', async () => {
    const earlier = await compatApp(
      {},
      (express) => express.get('/', (req, res) => res.json({ session: req.session })),
      (express) =>
        express.use((req, _res, next) => {
          (req as unknown as { session: unknown }).session = { from: 'earlier' };
          next();
        }),
    );
    try {
      const browser = new Browser(earlier.base);
      assert.deepEqual(await browser.json('/'), { session: { from: 'earlier' } });
      assert.equal(browser.setCookies.length, 0);
    } finally {
      await earlier.stop();
    }
  });
});

describe('req.session as JSON', () => {
  it('serializes as express-session’s: the cookie, then the attributes', async () => {
    const json = await compatApp({}, (express) =>
      express.get('/', (req, res) => {
        req.session.n = 3;
        res.json(req.session);
      }),
    );
    try {
      const body = await new Browser(json.base).json<Record<string, unknown>>('/');
      assert.deepEqual(Object.keys(body), ['cookie', 'n']);
      assert.equal(body.n, 3);
      assert.deepEqual(body.cookie, {
        originalMaxAge: null,
        path: '/',
        httpOnly: true,
        secure: false,
        sameSite: 'lax',
        expires: null,
      });
    } finally {
      await json.stop();
    }
  });
});

describe('a hostile or broken stored cookie attribute', () => {
  it('is ignored field by field: the session is served with the configured cookie', async () => {
    const browser = new Browser(app.base);
    await browser.json('/count');
    const id = browser.id()!;
    const hostile = JSON.stringify({
      originalMaxAge: 1e300,
      path: 'nope',
      sameSite: 'sometimes',
      domain: 'example.test',
    });
    await app.store.update(id, { set: new Map([['app:cookie', hostile]]) });
    const cookie = await browser.json<Record<string, unknown>>('/cookie');
    assert.equal(cookie.originalMaxAge, null, 'an impossible lifetime is left out');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.sameSite, 'lax');
    assert.equal(cookie.domain, 'example.test', 'what is valid applies');
    assert.equal((await browser.json('/count')).n, 2);
  });

  it('a handler giving an impossible lifetime or date gets a TypeError in its own code', async () => {
    const broken = await compatApp({}, (express) =>
      express.get('/', (req, res) => {
        const errors: string[] = [];
        for (const set of [
          () => {
            req.session.cookie.maxAge = 1e20;
          },
          () => {
            req.session.cookie.expires = new Date(Number.NaN);
          },
        ]) {
          try {
            set();
          } catch (error) {
            errors.push((error as Error).name);
          }
        }
        res.json({ errors });
      }),
    );
    try {
      assert.deepEqual(await new Browser(broken.base).json('/'), { errors: ['TypeError', 'TypeError'] });
    } finally {
      await broken.stop();
    }
  });
});
