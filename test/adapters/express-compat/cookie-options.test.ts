/**
 * express-session's `cookie` option, attribute by attribute, as its README documents each:
 * an object or a function of the request; domain, expires, httpOnly, maxAge, partitioned,
 * path, priority, sameSite (with true/false and 'auto') and secure (with 'auto'). Each test
 * drives a real Express app over HTTP and checks the Set-Cookie line, the stored session and
 * the response.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Express } from 'express';
import type { ExpressSessionOptions } from '../../../src/adapters/express.js';
import { Browser, type CompatApp, compatApp } from './app.js';

declare module '../../../src/adapters/express.js' {
  interface SessionData {
    n: number;
  }
}

const routes = (app: Express) => {
  app.get('/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    res.json({ n: req.session.n, id: req.sessionID, cookie: req.session.cookie });
  });
  app.get('/peek', (req, res) => res.json({ has: req.session !== undefined, n: req.session?.n ?? null }));
  app.get('/admin/count', (req, res) => {
    req.session.n = (req.session.n ?? 0) + 1;
    res.json({ n: req.session.n });
  });
};

const apps: CompatApp[] = [];
after(() => Promise.all(apps.map((app) => app.stop())));
async function start(options: ExpressSessionOptions): Promise<{ app: CompatApp; browser: Browser }> {
  const app = await compatApp(options, routes);
  apps.push(app);
  return { app, browser: new Browser(app.base) };
}
const HTTPS = { 'x-forwarded-proto': 'https' };

describe('cookie option: defaults', () => {
  it('Path=/, HttpOnly, SameSite=Lax, no Domain, a browser-session cookie (no Expires)', async () => {
    const { app, browser } = await start({});
    await browser.json('/count');
    const cookie = browser.cookie()!;
    assert.equal(cookie.attributes.get('path'), '/');
    assert.equal(cookie.attributes.get('httponly'), true);
    assert.equal(cookie.attributes.get('samesite'), 'Lax');
    assert.equal(cookie.attributes.has('domain'), false);
    assert.equal(cookie.attributes.has('expires'), false);
    assert.equal(cookie.attributes.has('secure'), false, 'plain HTTP: not Secure');
    assert.equal((await app.stored(browser.id()!))?.attributes.n, 1);
  });
});

describe('cookie.maxAge and cookie.expires', () => {
  it('maxAge: Expires and Max-Age that far ahead, and the session lives that long in the store', async () => {
    const { app, browser } = await start({ cookie: { maxAge: 3_600_000 } });
    const before = Date.now();
    const body = await browser.json<{ cookie: { originalMaxAge: number; expires: string } }>('/count');
    const cookie = browser.cookie()!;
    assert.equal(cookie.attributes.get('max-age'), '3600');
    const expires = Date.parse(cookie.attributes.get('expires') as string);
    assert.ok(Math.abs(expires - (before + 3_600_000)) < 2_000);
    assert.equal(body.cookie.originalMaxAge, 3_600_000, 'req.session.cookie serializes as express-session');
    const stored = await app.stored(browser.id()!);
    assert.equal(stored?.maxInactive, 3_600_000);
    assert.ok(Math.abs(stored!.expiresAt! - (before + 3_600_000)) < 2_000);
  });

  it('maxAge: null is a browser-session cookie', async () => {
    const { browser } = await start({ cookie: { maxAge: null } });
    await browser.json('/count');
    assert.equal(browser.cookie()!.attributes.has('expires'), false);
    assert.equal(browser.cookie()!.attributes.has('max-age'), false);
  });

  it('expires: that Expires date on new sessions', async () => {
    const expires = new Date(Date.now() + 2 * 86_400_000);
    const { app, browser } = await start({ cookie: { expires } });
    await browser.json('/count');
    assert.equal(browser.cookie()!.attributes.get('expires'), expires.toUTCString());
    const stored = await app.stored(browser.id()!);
    assert.ok(Math.abs(stored!.maxInactive - 2 * 86_400_000) < 2_000, 'the session lives until then too');
  });
});

describe('cookie.domain, path, httpOnly, partitioned, priority', () => {
  it('domain, httpOnly: false, partitioned and priority are sent as given', async () => {
    const { browser } = await start({
      cookie: { domain: 'example.test', httpOnly: false, partitioned: true, priority: 'high', secure: true },
    });
    await browser.json('/count', HTTPS);
    const cookie = browser.cookie()!;
    assert.equal(cookie.attributes.get('domain'), 'example.test');
    assert.equal(cookie.attributes.has('httponly'), false);
    assert.equal(cookie.attributes.get('partitioned'), true);
    assert.equal(cookie.attributes.get('priority'), 'High');
  });

  it('path: the cookie carries it, and a request outside it gets no session', async () => {
    const { app, browser } = await start({ cookie: { path: '/admin' } });
    assert.deepEqual(await browser.json('/peek'), { has: false, n: null });
    assert.equal(browser.setCookies.length, 0);
    assert.equal((await browser.json('/admin/count')).n, 1);
    assert.equal(browser.cookie()!.attributes.get('path'), '/admin');
    assert.equal((await app.stored(browser.id()!))?.attributes.n, 1);
    // The browser would not send it outside the path; even when a client does, there is no session.
    assert.deepEqual(await browser.json('/peek'), { has: false, n: null });
  });
});

describe('cookie.sameSite', () => {
  const cases: Array<[ExpressSessionOptions['cookie'], Record<string, string>, string | undefined]> = [
    [{ sameSite: 'strict' }, {}, 'Strict'],
    [{ sameSite: true }, {}, 'Strict'],
    [{ sameSite: 'none', secure: true }, HTTPS, 'None'],
    [{ sameSite: false }, {}, undefined],
    [{ sameSite: 'auto' }, {}, 'Lax'],
    [{ sameSite: 'auto' }, HTTPS, 'None'],
  ];
  for (const [cookie, headers, expected] of cases) {
    it(`${JSON.stringify(cookie)} over ${headers['x-forwarded-proto'] ?? 'http'}: SameSite=${expected ?? '(none)'}`, async () => {
      const { browser } = await start({ cookie });
      await browser.json('/count', headers);
      assert.equal(browser.cookie()!.attributes.get('samesite'), expected);
    });
  }
});

describe('cookie.secure', () => {
  it('true over plain HTTP: no cookie is sent (as express-session), the response still answers', async () => {
    const { browser } = await start({ cookie: { secure: true } });
    assert.equal((await browser.json('/count')).n, 1);
    assert.equal(browser.setCookies.length, 0);
  });

  it('true over HTTPS (a trusted proxy): Secure', async () => {
    const { browser } = await start({ cookie: { secure: true } });
    await browser.json('/count', HTTPS);
    assert.equal(browser.cookie()!.attributes.get('secure'), true);
    assert.equal((await browser.json('/count', HTTPS)).n, 2);
  });

  it("'auto': Secure exactly when the request is HTTPS", async () => {
    const { browser } = await start({ cookie: { secure: 'auto' } });
    await browser.json('/count', HTTPS);
    assert.equal(browser.cookie()!.attributes.get('secure'), true);
    const plain = new Browser((await start({ cookie: { secure: 'auto' } })).app.base);
    await plain.json('/count');
    assert.equal(plain.cookie()!.attributes.has('secure'), false);
  });

  it('false: never Secure, even over HTTPS', async () => {
    const { browser } = await start({ cookie: { secure: false } });
    await browser.json('/count', HTTPS);
    assert.equal(browser.cookie()!.attributes.has('secure'), false);
  });
});

describe('cookie as a function of the request', () => {
  it('is called per request, and its attributes apply to that request', async () => {
    const { app, browser } = await start({
      cookie: (req) =>
        req.headers['x-remember'] ? { maxAge: 86_400_000, domain: 'example.test' } : { maxAge: null },
    });
    await browser.json('/count', { 'x-remember': '1' });
    assert.equal(browser.cookie()!.attributes.get('max-age'), '86400');
    assert.equal(browser.cookie()!.attributes.get('domain'), 'example.test');
    assert.equal((await app.stored(browser.id()!))?.maxInactive, 86_400_000);
    const other = new Browser(app.base);
    await other.json('/count');
    assert.equal(other.cookie()!.attributes.has('expires'), false);
  });

  it('a bad result fails the request with a clear error (HTTP 500, code UNISESSION_INVALID_OPTION)', async () => {
    const { browser } = await start({ cookie: () => ({ sameSite: 'sometimes' }) as never });
    const response = await browser.get('/count');
    assert.equal(response.status, 500);
    const body = (await response.json()) as { error: string; message: string };
    assert.equal(body.error, 'UNISESSION_INVALID_OPTION');
    assert.match(body.message, /"sameSite" must be/);
  });
});
