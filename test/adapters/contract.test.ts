/**
 * The contract every framework adapter keeps, through a real server on 127.0.0.1 and fetch:
 * the counter, the cookie's shape, the ignore pattern, store failures reaching the
 * framework's own error path, a redirect right after a write, and a streamed response after a
 * write. All servers share one SQLite store whose writes are slowed down (as a network
 * store's would be), so that a commit that ran after the response had left would lose the
 * race and fail the test. A new adapter joins FRAMEWORKS and `apps`; what only one framework
 * has goes in test/adapters/<framework>.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import Database from 'better-sqlite3';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify from 'fastify';
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
import { sqliteStore } from '../../src/stores/sqlite.js';
import { type Running, serve } from '../helpers/server.js';
import { Client, sqliteFixture } from './shared.js';

declare module '../../src/adapters/koa.js' {
  interface SessionData {
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

const { dir, file, store, manager, cleanup } = sqliteFixture();
/** Loads fail: the database's directory does not exist. */
const unreachable = () => sqliteStore({ file: join(dir, 'missing', 'sessions.sqlite') });
/** Loads work, every write fails: the same database opened read-only. */
const readOnly = () => sqliteStore({ database: new Database(file, { readonly: true }) });

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
  await cleanup();
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
