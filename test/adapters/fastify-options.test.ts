/**
 * Issue 12: @fastify/session's documented options, given to the Fastify plugin: each is
 * supported (a real Fastify app over HTTP shows it) or refused at start-up with a message
 * that says why and what to use instead. docs/frameworks.md#fastify lists them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import { type FastifySessionOptions, unisession } from '../../src/adapters/fastify.js';
import { memoryStore } from '../../src/stores/memory.js';
import { Browser } from './express-compat/app.js';

const stops: Array<() => Promise<unknown>> = [];
after(() => Promise.all(stops.map((stop) => stop())));

async function start(options: Omit<FastifySessionOptions, 'app'>) {
  const app = Fastify();
  await app.register(unisession, { app: 'shop', store: memoryStore(), sweeper: false, ...options });
  app.get('/*', async (request) => {
    request.session.set('n', ((request.session.get('n') as number) ?? 0) + 1);
    return { n: request.session.get('n'), id: request.sessionHandle.id };
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  stops.push(async () => {
    await app.close();
    await app.sessionManager.close();
  });
  return { browser: new Browser(base), app };
}

describe('@fastify/session options that work', () => {
  it('cookieName and cookie { maxAge, path, httpOnly, sameSite: true, domain, secure }', async () => {
    const { browser, app } = await start({
      cookieName: 'sessionId',
      // A cookie with Domain=example.test goes only to a host under it (issue 11's per-request
      // check): the request says it is for app.example.test, through a proxy the app trusts.
      trustProxy: ['127.0.0.1'],
      cookie: {
        maxAge: 3_600_000,
        path: '/',
        httpOnly: false,
        sameSite: true,
        domain: 'example.test',
        secure: false,
      },
    });
    await browser.json('/', { 'x-forwarded-host': 'app.example.test' });
    const cookie = browser.cookie('sessionId')!;
    assert.equal(cookie.attributes.get('max-age'), '3600');
    assert.equal(cookie.attributes.has('httponly'), false);
    assert.equal(cookie.attributes.get('samesite'), 'Strict');
    assert.equal(cookie.attributes.get('domain'), 'example.test');
    assert.equal(app.sessionManager.options.maxInactive, 3_600_000);
  });

  it('idGenerator(request) names new sessions', async () => {
    const urls: string[] = [];
    const { browser } = await start({
      idGenerator: (request) => {
        urls.push(request.url);
        return randomUUID();
      },
    });
    const { id } = await browser.json<{ id: string }>('/here');
    assert.deepEqual(urls, ['/here']);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal((await browser.json('/')).n, 2);
  });

  it('rolling: true re-sends the cookie on every response', async () => {
    const { browser } = await start({ rolling: true, cookie: { maxAge: 60_000 } });
    await browser.json('/');
    await browser.json('/');
    assert.ok(browser.cookie(), 'sent again');
  });
});

describe('@fastify/session options that are refused at start-up', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ cookiePrefix: 's:' }, /option "cookiePrefix" is not supported/],
    [{ cookie: { expires: new Date() } }, /option "cookie.expires" is not supported: .*`cookie.maxAge`/],
    [{ cookie: { partitioned: true } }, /option "cookie.partitioned" is not supported/],
    [{ cookie: { sameSite: false } }, /option "cookie.sameSite"/],
    [{ cookie: { maxAge: '1h' } }, /option "cookie.maxAge"/],
    [
      { store: { get() {}, set() {}, destroy() {} } },
      /option "store" must be a unisession store .*not a @fastify\/session or express-session store/,
    ],
    [{ idGenerator: 'uuid' }, /option "idGenerator" must be a function/],
  ];
  for (const [options, expected] of cases) {
    it(`refuses ${JSON.stringify(options)}`, async () => {
      const app = Fastify();
      await assert.rejects(async () => {
        await app.register(unisession, {
          app: 'shop',
          store: memoryStore(),
          ...options,
        } as FastifySessionOptions);
        await app.ready();
      }, expected);
      await app.close().catch(() => undefined);
    });
  }
});
