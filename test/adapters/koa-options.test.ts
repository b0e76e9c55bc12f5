/**
 * Issue 12: koa-session's documented options, given to the Koa adapter: each is supported (a
 * real Koa app over HTTP shows it) or refused at start-up with a message that says why and
 * what to use instead. docs/frameworks.md#koa lists them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { after, describe, it } from 'node:test';
import Koa from 'koa';
import { type KoaSessionOptions, unisession } from '../../src/adapters/koa.js';
import { memoryStore } from '../../src/stores/memory.js';
import { close, listen } from '../helpers/server.js';
import { Browser } from './express-compat/app.js';

const stops: Array<() => Promise<void>> = [];
after(() => Promise.all(stops.map((stop) => stop())));

async function start(options: Omit<KoaSessionOptions, 'app'>) {
  const app = new Koa();
  const middleware = unisession({ app: 'shop', store: memoryStore(), sweeper: false, ...options });
  app.use(middleware);
  app.use((ctx) => {
    ctx.session!.n = ((ctx.session!.n as number) ?? 0) + 1;
    ctx.body = { n: ctx.session!.n, id: ctx.sessionHandle.id };
  });
  const server = createServer(app.callback());
  const base = await listen(server);
  stops.push(async () => {
    await close(server);
    await middleware.manager.close();
  });
  return { browser: new Browser(base), manager: middleware.manager };
}

describe('koa-session options that work', () => {
  it('key, maxAge, httpOnly, path, domain, sameSite: the cookie koa-session would send', async () => {
    const { browser, manager } = await start({
      key: 'koa.sess',
      // A cookie with Domain=example.test goes only to a host under it (issue 11's per-request
      // check): the request says it is for app.example.test, through a proxy the app trusts.
      trustProxy: ['127.0.0.1'],
      maxAge: 86_400_000,
      httpOnly: false,
      path: '/',
      domain: 'example.test',
      sameSite: 'strict',
    });
    await browser.json('/', { 'x-forwarded-host': 'app.example.test' });
    const cookie = browser.cookie('koa.sess')!;
    assert.equal(cookie.attributes.get('max-age'), '86400');
    assert.equal(cookie.attributes.has('httponly'), false);
    assert.equal(cookie.attributes.get('domain'), 'example.test');
    assert.equal(cookie.attributes.get('samesite'), 'Strict');
    assert.equal(manager.options.maxInactive, 86_400_000);
  });

  it("maxAge: 'session' is a browser-session cookie; sameSite: null keeps the default (Lax)", async () => {
    const { browser } = await start({ key: 'k', maxAge: 'session', sameSite: null });
    await browser.json('/');
    assert.equal(browser.cookie('k')!.attributes.has('max-age'), false);
    assert.equal(browser.cookie('k')!.attributes.get('samesite'), 'Lax');
  });

  it('genid(ctx) names new sessions; signed: true with a secret signs the cookie', async () => {
    const paths: string[] = [];
    const { browser } = await start({
      secret: 's',
      signed: true,
      genid: (ctx) => {
        paths.push(ctx.path);
        return randomUUID();
      },
    });
    const { id } = await browser.json<{ id: string }>('/here');
    assert.deepEqual(paths, ['/here']);
    assert.match(browser.jar.get('unisession')!, new RegExp(`^${id}\\.[A-Za-z0-9_-]{43}$`));
  });

  it('rolling: true re-sends the cookie on every response', async () => {
    const { browser } = await start({ rolling: true, maxAge: 60_000 });
    await browser.json('/');
    await browser.json('/');
    assert.ok(browser.cookie(), 'sent again');
  });
});

describe('koa-session options that are refused at start-up', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ autoCommit: false }, /option "autoCommit" must be true \(the session is always committed/],
    [{ overwrite: false }, /option "overwrite" must be true/],
    [{ signed: true }, /option "signed" true needs the `secret` option/],
    [{ signed: false, secret: 's' }, /option "signed" false contradicts `secret`/],
    [{ encode: JSON.stringify }, /option "encode" is not supported: .*`codec`/],
    [{ decode: JSON.parse }, /option "decode" is not supported: .*`codec`/],
    [{ valid: () => true }, /option "valid" is not supported: there are no validation hooks/],
    [{ beforeSave: () => undefined }, /option "beforeSave" is not supported/],
    [{ prefix: 'sess:' }, /option "prefix" is not supported: .*`group`/],
    [{ ContextStore: class {} }, /option "ContextStore" is not supported/],
    [
      { externalKey: { get: () => '', set: () => undefined } },
      /option "externalKey" is not supported: .*`header`/,
    ],
    [
      { store: { get() {}, set() {}, destroy() {} } },
      /option "store" must be a unisession store .*not a koa-session store/,
    ],
    [{ maxAge: '1d' }, /option "maxAge" must be a finite number >= 0 or 'session'/],
    [{ sameSite: 'sometimes' }, /option "sameSite"/],
  ];
  for (const [options, expected] of cases) {
    it(`refuses ${Object.keys(options).join(', ')}: ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => unisession({ app: 'shop', store: memoryStore(), ...options } as KoaSessionOptions),
        expected,
      );
    });
  }
});
