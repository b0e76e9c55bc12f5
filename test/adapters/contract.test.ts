/**
 * Every framework adapter, through a real server on 127.0.0.1 and fetch: the counter, the
 * cookie's shape, the ignore pattern, store failures reaching the framework's own error path,
 * a redirect right after a write, and a streamed response after a write. All servers share
 * one SQLite store whose writes are slowed down (as a network store's would be), so that a
 * commit that ran after the response had left would lose the race and fail the test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAdaptorServer } from '@hono/node-server';
import Database from 'better-sqlite3';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import Koa from 'koa';
import { session as expressSession } from '../../src/adapters/express.js';
import { unisession as fastifySessions } from '../../src/adapters/fastify.js';
import { unisession as honoSessions } from '../../src/adapters/hono.js';
import { unisession as koaSessions } from '../../src/adapters/koa.js';
import { nodeSessions } from '../../src/adapters/node.js';
import { withSession } from '../../src/adapters/web.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { type Running, serve } from '../helpers/server.js';

declare module '../../src/adapters/koa.js' {
  interface SessionData {
    early: string;
    count: number;
    flash: string;
    streamed: string;
  }
}
declare module '../../src/adapters/express.js' {
  interface SessionData {
    count: number;
    flash: string;
    streamed: string;
  }
}

const FRAMEWORKS = ['node', 'express', 'koa', 'fastify', 'hono', 'web'] as const;
type Framework = (typeof FRAMEWORKS)[number];

// ---------------------------------------------------------------- stores

/** Counts every store call, and delays writes by `writeDelay` ms (a store across a network). */
function instrumented(inner: Store, writeDelay: number): Store & { calls: string[] } {
  const calls: string[] = [];
  const writes = new Set(['create', 'update', 'destroy', 'rename']);
  const proxy = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return async (...args: unknown[]) => {
        calls.push(String(property));
        if (writes.has(String(property))) await sleep(writeDelay);
        return value.apply(target, args);
      };
    },
  });
  return Object.assign(proxy, { calls });
}

const dir = mkdtempSync(join(tmpdir(), 'unisession-adapters-'));
const file = join(dir, 'sessions.sqlite');
const store = instrumented(sqliteStore({ file }), 40);
/** Loads fail: the database's directory does not exist. */
const unreachable = () => sqliteStore({ file: join(dir, 'missing', 'sessions.sqlite') });
/** Loads work, every write fails: the same database opened read-only. */
const readOnly = () => sqliteStore({ database: new Database(file, { readonly: true }) });

const manager = (s: Store, extra: { ignore?: RegExp } = {}) =>
  createSessionManager({ app: 'adapters', store: s, sweeper: false, ignore: /^\/static\//, ...extra });

// ---------------------------------------------------------------- one app per framework

/** Released by the test while a streamed response is open. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
let gate = deferred();
async function* chunks() {
  yield 'first\n';
  await gate.promise;
  yield 'last\n';
}
const errorBody = (error: unknown) => {
  const e = error as { status?: number; code?: string };
  return { status: e.status ?? 500, body: { code: e.code ?? 'UNKNOWN' } };
};

const apps: Record<Framework, (m: SessionManager) => Promise<Running>> = {
  async node(m) {
    const sessions = nodeSessions(m);
    return serve(
      createServer(async (req, res) => {
        const url = new URL(req.url!, 'http://x');
        const q = (name: string) => url.searchParams.get(name) ?? '';
        try {
          const session = sessions.attach(req, res);
          if (url.pathname === '/count') {
            const count = ((await session.get<number>('count')) ?? 0) + 1;
            await session.set('count', count);
            res.setHeader('content-type', 'application/json').end(JSON.stringify({ count }));
          } else if (url.pathname.startsWith('/static/')) {
            res.end('static');
          } else if (url.pathname === '/write-redirect') {
            await session.set('flash', q('value'));
            res.writeHead(302, { location: q('to') }).end();
          } else if (url.pathname === '/stream') {
            await session.set('streamed', q('value'));
            Readable.from(chunks()).pipe(res);
          } else if (url.pathname === '/read') {
            res.end(JSON.stringify({ value: (await session.get(q('name'))) ?? null }));
          }
        } catch (error) {
          const { status, body } = errorBody(error);
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        }
      }),
    );
  },

  async express(m) {
    const app = express();
    app.use(expressSession(m));
    app.get('/count', (req, res) => {
      req.session.count = (req.session.count ?? 0) + 1;
      res.json({ count: req.session.count });
    });
    app.get('/static/*', (_req, res) => {
      res.send('static');
    });
    app.get('/write-redirect', (req, res) => {
      req.session.flash = String(req.query.value);
      res.redirect(String(req.query.to));
    });
    app.get('/stream', (req, res) => {
      req.session.streamed = String(req.query.value);
      Readable.from(chunks()).pipe(res);
    });
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const { status, body } = errorBody(error);
      res.status(status).json(body);
    });
    return serve(createServer(app));
  },

  async koa(m) {
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        const { status, body } = errorBody(error);
        ctx.status = status;
        ctx.body = body;
      }
    });
    app.use(koaSessions(m));
    app.use(async (ctx) => {
      const q = (name: string) => String(ctx.query[name] ?? '');
      if (ctx.path === '/count') {
        const session = ctx.session!;
        session.count = (session.count ?? 0) + 1;
        ctx.body = { count: session.count };
      } else if (ctx.path.startsWith('/static/')) {
        ctx.body = 'static';
      } else if (ctx.path === '/write-redirect') {
        ctx.session!.flash = q('value');
        ctx.redirect(q('to'));
      } else if (ctx.path === '/stream') {
        ctx.session!.streamed = q('value');
        ctx.body = Readable.from(chunks());
      }
    });
    return serve(createServer(app.callback()));
  },

  async fastify(m) {
    const app = Fastify();
    await app.register(fastifySessions, { manager: m });
    app.setErrorHandler((error, _request, reply) => {
      const { status, body } = errorBody(error);
      return reply.status(status).send(body);
    });
    type Q = { Querystring: Record<string, string> };
    app.get('/count', async (request) => {
      const count = (request.session.get<number>('count') ?? 0) + 1;
      request.session.set('count', count);
      return { count };
    });
    app.get('/static/*', async () => 'static');
    app.get<Q>('/write-redirect', async (request, reply) => {
      request.session.set('flash', request.query.value);
      return reply.redirect(request.query.to!);
    });
    app.get<Q>('/stream', async (request, reply) => {
      request.session.set('streamed', request.query.value);
      return reply.type('text/plain').send(Readable.from(chunks()));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      close: () => app.close(),
    };
  },

  async hono(m) {
    const app = new Hono();
    app.onError((error, c) => {
      const { status, body } = errorBody(error);
      return c.json(body, status as 503);
    });
    app.use(honoSessions(m));
    app.get('/count', async (c) => {
      const session = c.get('session');
      const count = ((await session.get<number>('count')) ?? 0) + 1;
      await session.set('count', count);
      return c.json({ count });
    });
    app.get('/static/*', (c) => c.text('static'));
    app.get('/write-redirect', async (c) => {
      await c.get('session').set('flash', c.req.query('value'));
      return c.redirect(c.req.query('to')!);
    });
    app.get('/stream', async (c) => {
      await c.get('session').set('streamed', c.req.query('value'));
      return stream(c, async (out) => {
        for await (const chunk of chunks()) await out.write(chunk);
      });
    });
    return serve(createAdaptorServer({ fetch: app.fetch }) as Server);
  },

  async web(m) {
    const handler = withSession(m, async (request, session) => {
      const url = new URL(request.url);
      const q = (name: string) => url.searchParams.get(name) ?? '';
      if (url.pathname === '/count') {
        const count = ((await session.get<number>('count')) ?? 0) + 1;
        await session.set('count', count);
        return Response.json({ count });
      }
      if (url.pathname.startsWith('/static/')) return new Response('static');
      if (url.pathname === '/write-redirect') {
        await session.set('flash', q('value'));
        return Response.redirect(q('to'), 302); // immutable headers: the adapter must copy
      }
      await session.set('streamed', q('value'));
      return new Response(Readable.toWeb(Readable.from(chunks())) as ReadableStream);
    });
    // A fetch-style server's error path is the code that calls the handler.
    const fetchHandler = async (request: globalThis.Request) => {
      try {
        return await handler(request);
      } catch (error) {
        const { status, body } = errorBody(error);
        return Response.json(body, { status });
      }
    };
    return serve(createAdaptorServer({ fetch: fetchHandler }) as Server);
  },
};

// ---------------------------------------------------------------- a browser-like client

class Client {
  cookie = '';
  setCookies: string[] = [];
  async request(url: string, init: RequestInit = {}): Promise<globalThis.Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', this.cookie);
    const response = await fetch(url, { redirect: 'manual', ...init, headers });
    this.setCookies = response.headers.getSetCookie();
    for (const line of this.setCookies) {
      const pair = line.split(';')[0]!;
      this.cookie = pair.endsWith('=') ? '' : pair;
    }
    return response;
  }
  async json<T = Record<string, unknown>>(url: string): Promise<T> {
    const response = await this.request(url);
    assert.equal(response.status, 200, `${url}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as T;
  }
}

// ---------------------------------------------------------------- the tests

const servers: Partial<Record<Framework, Running>> = {};
const failing: Partial<Record<Framework, { load: Running; commit: Running }>> = {};
let reader: Running;
const cookieShapes = new Map<Framework, string>();

before(async () => {
  await store.load('none', 'all', Date.now()); // creates the database, for the read-only opens
  reader = await apps.node(manager(store));
  for (const fw of FRAMEWORKS) {
    servers[fw] = await apps[fw](manager(store));
    failing[fw] = {
      load: await apps[fw](manager(unreachable())),
      commit: await apps[fw](manager(readOnly())),
    };
  }
});

after(async () => {
  for (const running of [
    reader,
    ...Object.values(servers),
    ...Object.values(failing).flatMap((f) => [f.load, f.commit]),
  ])
    await running?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const fw of FRAMEWORKS) {
  describe(fw, () => {
    const url = () => servers[fw]!.url;

    test('counter: the session survives across requests', async () => {
      const client = new Client();
      assert.deepEqual(await client.json(`${url()}/count`), { count: 1 });
      cookieShapes.set(fw, client.setCookies.join('\n').replace(/^unisession=[^;]+/, 'unisession=<id>'));
      assert.deepEqual(await client.json(`${url()}/count`), { count: 2 });
      assert.deepEqual(await client.json(`${url()}/count`), { count: 3 });
      // The same session, read by another framework on the same store.
      assert.deepEqual(await client.json(`${reader.url}/read?name=count`), { value: 3 });
    });

    test('the cookie has the same name and flags as every other adapter', () => {
      const shape = cookieShapes.get(fw);
      assert.equal(shape, 'unisession=<id>; Path=/; HttpOnly; SameSite=Lax');
    });

    test('ignored URLs make zero store calls, even with a session cookie', async () => {
      const client = new Client();
      await client.json(`${url()}/count`);
      store.calls.length = 0;
      const response = await client.request(`${url()}/static/logo.png`);
      assert.equal(await response.text(), 'static');
      assert.equal(store.calls.length, 0, `store calls: ${store.calls.join(', ')}`);
      assert.deepEqual(client.setCookies, []);
      await client.json(`${url()}/count`);
      assert.ok(store.calls.includes('load'), 'a non-ignored URL does load');
    });

    test('a store that cannot load: the framework error path gets a 503 UnisessionError', async () => {
      const client = new Client();
      await client.json(`${url()}/count`); // a real session cookie, so that a load is attempted
      const response = await client.request(`${failing[fw]!.load.url}/count`);
      assert.equal(response.status, 503);
      const body = (await response.json()) as { code?: string; error?: string };
      assert.equal(body.code ?? body.error, 'UNISESSION_STORE_UNAVAILABLE');
    });

    test('a store that cannot write: the commit failure is a 503, not a lost write', async () => {
      const client = new Client();
      await client.json(`${url()}/count`);
      const response = await client.request(`${failing[fw]!.commit.url}/count`);
      assert.equal(response.status, 503);
      const body = (await response.json()) as { code?: string; error?: string };
      // Express's error middleware answers; node:http's default onError answers the code.
      assert.equal(body.code ?? body.error, 'UNISESSION_STORE_UNAVAILABLE');
      assert.deepEqual(await client.json(`${url()}/count`), { count: 2 });
    });

    test('a redirect right after a write: another framework, asked at once, sees the write', async () => {
      for (let i = 0; i < 3; i++) {
        const client = new Client();
        const value = `flash-${fw}-${i}`;
        const target = `${reader.url}/read?name=flash`;
        const response = await client.request(
          `${url()}/write-redirect?value=${value}&to=${encodeURIComponent(target)}`,
        );
        assert.equal(response.status, 302);
        assert.equal(response.headers.get('location'), target);
        assert.equal(client.setCookies.length, 1, 'the redirect carries the new session cookie');
        assert.deepEqual(await client.json(response.headers.get('location')!), { value });
      }
    });

    test('a streamed response after a write: the write is stored before the first byte', async () => {
      gate = deferred();
      const client = new Client();
      const response = await client.request(`${url()}/stream?value=s-${fw}`);
      assert.equal(response.status, 200);
      assert.equal(client.setCookies.length, 1, 'the streamed response carries the cookie');
      const body = response.body!.getReader();
      const first = await body.read();
      assert.equal(Buffer.from(first.value!).toString(), 'first\n');
      // The stream is still open; another server already sees the write.
      assert.deepEqual(await client.json(`${reader.url}/read?name=streamed`), { value: `s-${fw}` });
      gate.resolve();
      let rest = '';
      for (let chunk = await body.read(); !chunk.done; chunk = await body.read())
        rest += Buffer.from(chunk.value).toString();
      assert.equal(rest, 'last\n');
    });
  });
}

// ---------------------------------------------------------------- each adapter's own API

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

describe('fastify: @fastify/session style API', () => {
  let app: FastifyInstance;
  let url: string;
  before(async () => {
    app = Fastify();
    // Options instead of a manager: the plugin creates its own.
    await app.register(fastifySessions, { app: 'adapters', store, sweeper: false });
    type Q = { Querystring: Record<string, string> };
    const view = (request: FastifyRequest) => ({
      id: request.session?.sessionId ?? null,
      data: request.session ? { ...request.session } : null,
    });
    app.get<Q>('/set', async (request) => {
      for (const [name, value] of Object.entries(request.query)) request.session.set(name, value);
      return view(request);
    });
    app.get('/', async (request) => view(request));
    app.get<Q>('/regenerate', async (request) => {
      await request.session.regenerate(request.query.keep ? request.query.keep.split(',') : []);
      return view(request);
    });
    app.get('/destroy', async (request) => {
      await request.session.destroy();
      return view(request);
    });
    app.get('/reload', async (request) => {
      request.session.set('a', 'unsaved');
      await request.session.reload();
      return view(request);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(() => app.close());

  test('get/set, reload, regenerate(keep) and destroy', async () => {
    assert.equal(typeof app.sessionManager.open, 'function', 'fastify.sessionManager is decorated');
    const client = new Client();
    const first = await client.json<{ id: string }>(`${url}/set?a=1&b=2&user=ann`);
    assert.deepEqual((await client.json(`${url}/reload`)).data, { a: '1', b: '2', user: 'ann' });

    const regenerated = await client.json<{ id: string; data: object }>(`${url}/regenerate?keep=user`);
    assert.notEqual(regenerated.id, first.id);
    assert.deepEqual(regenerated.data, { user: 'ann' });
    assert.deepEqual((await client.json(`${url}/`)).data, { user: 'ann' });
    const stale = new Client();
    stale.cookie = `unisession=${first.id}`;
    assert.deepEqual((await stale.json(`${url}/`)).data, {});

    const destroyed = await client.json(`${url}/destroy`);
    assert.equal(destroyed.data, null, 'request.session is null after destroy()');
    assert.equal(client.cookie, '', 'the cookie is cleared');
    const old = new Client();
    old.cookie = `unisession=${regenerated.id}`;
    assert.deepEqual((await old.json(`${url}/`)).data, {});
  });
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

describe('web: withSession', () => {
  test('extra arguments reach the handler; remoteAddress and https are seen', async () => {
    const m = manager(store);
    const handler = withSession(
      m,
      async (_request, session, context: { params: { id: string } }) => {
        await session.set('param', context.params.id);
        return Response.json({ id: session.id, param: await session.get('param') });
      },
      { remoteAddress: (request) => request.headers.get('x-test-peer') ?? undefined },
    );
    const response = await handler(
      new Request('https://shop.example/items/7', { headers: { 'x-test-peer': '192.0.2.7' } }),
      { params: { id: '7' } },
    );
    const body = (await response.json()) as { id: string; param: string };
    assert.equal(body.param, '7');
    const cookie = response.headers.getSetCookie()[0] ?? '';
    assert.match(cookie, /; Secure/, 'an https URL makes the cookie Secure');
    const stored = await store.load(body.id, [], Date.now());
    assert.equal(stored?.meta.clientAddress, '192.0.2.7');
  });
});
