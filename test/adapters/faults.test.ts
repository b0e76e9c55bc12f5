/**
 * Fault injection, on every adapter: a real store wrapped in a Proxy that rejects one method
 * with a driver-like error whose message looks secret; a cookie serializer that throws; a
 * handler that responds twice. Each time the app's own error handling (Express error
 * middleware, Koa's, Fastify's setErrorHandler, Hono's onError, node's onError, the code that
 * calls a fetch handler) receives the error, the client sees no internal text, and the same
 * process answers the next request. An unhandled rejection or uncaught exception fails the file.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { createAdaptorServer } from '@hono/node-server';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { session as expressSessions } from '../../src/adapters/express.js';
import { unisession as fastifySessions } from '../../src/adapters/fastify.js';
import { unisession as honoSessions } from '../../src/adapters/hono.js';
import { unisession as koaSessions } from '../../src/adapters/koa.js';
import { nodeSessions, sendError } from '../../src/adapters/node.js';
import { withSession } from '../../src/adapters/web.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { type Running, serve } from '../helpers/server.js';

declare module '../../src/adapters/express.js' {
  interface SessionData {
    n: number;
  }
}
declare module '../../src/adapters/koa.js' {
  interface SessionData {
    n: number;
  }
}

const escaped: unknown[] = [];
process.on('unhandledRejection', (reason) => escaped.push(reason));
process.on('uncaughtException', (error) => escaped.push(error));
afterEach(() => assert.deepEqual(escaped.splice(0), [], 'an error escaped to the process'));

// ---------------------------------------------------------------- the faulty store

const SECRET = 'password authentication failed for user "sessions_rw" on 10.1.2.3:5432';
type Method = 'load' | 'create' | 'update' | 'destroy' | 'rename';

/** A memory store whose `failing` method rejects, as a driver would, with a secret-looking message. */
function faultyStore(): Store & { failing: Method | undefined } {
  const state = { failing: undefined as Method | undefined };
  const inner = memoryStore();
  const proxy = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'failing') return state.failing;
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        property === state.failing
          ? Promise.reject(Object.assign(new Error(SECRET), { code: '28P01' }))
          : value.apply(target, args);
    },
    set(_target, property, value) {
      if (property !== 'failing') return false;
      state.failing = value;
      return true;
    },
  });
  return proxy as Store & { failing: Method | undefined };
}

// ---------------------------------------------------------------- one app per framework

/** What the app's error handling saw: each error, in order. */
type Seen = unknown[];

/** How a careful app answers an error: its status and code, never its message. */
function answer(error: unknown): { status: number; body: { handledBy: 'app'; code: string } } {
  const e = error as { status?: number; code?: string; name?: string };
  return { status: e.status ?? 500, body: { handledBy: 'app', code: e.code ?? e.name ?? 'unknown' } };
}

/**
 * Routes: /count writes (create, then update), /logout destroys, /regenerate renames, /twice
 * responds twice in the framework's own way.
 */
const FRAMEWORKS = {
  async node(m: SessionManager, seen: Seen) {
    // onError: the adapter's own generic answer (sendError), after the app has seen the error.
    const sessions = nodeSessions(m, {
      onError: (error, _req, res) => {
        seen.push(error);
        sendError(res, error);
      },
    });
    return serve(
      createServer(async (req, res) => {
        const session = sessions.attach(req, res);
        try {
          if (req.url === '/count') {
            const n = ((await session.get<number>('n')) ?? 0) + 1;
            await session.set('n', n);
            res.end(JSON.stringify({ n }));
          } else if (req.url === '/logout') {
            await session.invalidate();
            res.end('{}');
          } else if (req.url === '/regenerate') {
            await session.regenerate();
            res.end('{}');
          } else if (req.url === '/twice') {
            await session.set('n', 1);
            res.end('a');
            res.end('b');
          }
        } catch (error) {
          // The handler's own error path: a load failure, or the second response.
          seen.push(error);
          if (res.writableEnded) return;
          const { status, body } = answer(error);
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        }
      }),
    );
  },

  async express(m: SessionManager, seen: Seen) {
    const app = express();
    app.use(expressSessions(m));
    app.get('/count', (req, res) => {
      req.session.n = (req.session.n ?? 0) + 1;
      res.json({ n: req.session.n });
    });
    app.get('/logout', (req, res, next) => {
      req.session.destroy((error) => (error ? next(error) : res.json({})));
    });
    app.get('/regenerate', (req, res, next) => {
      req.sessionHandle.regenerate().then(() => res.json({}), next);
    });
    app.get('/twice', (req, res) => {
      req.session.n = 1;
      res.send('a');
      res.send('b');
    });
    app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      seen.push(error);
      // The first response is on its way: leave it be.
      if (res.headersSent) return;
      const { status, body } = answer(error);
      res.status(status).json(body);
    });
    return serve(createServer(app));
  },

  async koa(m: SessionManager, seen: Seen) {
    const app = new Koa();
    // Koa's own error handling answers (with the status text, never the message); 'error' sees it.
    app.on('error', (error) => seen.push(error));
    app.use(koaSessions(m));
    app.use(async (ctx) => {
      if (ctx.path === '/count') {
        ctx.session!.n = (ctx.session!.n ?? 0) + 1;
        ctx.body = { n: ctx.session!.n };
      } else if (ctx.path === '/logout') {
        ctx.session = null;
        ctx.body = {};
      } else if (ctx.path === '/regenerate') {
        await ctx.session!.regenerate();
        ctx.body = {};
      } else if (ctx.path === '/twice') {
        ctx.session!.n = 1;
        await ctx.session!.save();
        ctx.status = 200;
        ctx.res.end('a'); // by hand, then Koa's own response as well
        ctx.body = 'b';
      }
    });
    return serve(createServer(app.callback()));
  },

  async fastify(m: SessionManager, seen: Seen) {
    const app = Fastify();
    await app.register(fastifySessions, { manager: m });
    app.setErrorHandler((error, _request, reply) => {
      seen.push(error);
      const { status, body } = answer(error);
      return reply.status(status).send(body);
    });
    app.get('/count', async (request) => {
      const n = (request.session.get<number>('n') ?? 0) + 1;
      request.session.set('n', n);
      return { n };
    });
    app.get('/logout', async (request) => {
      await request.session.destroy();
      return {};
    });
    app.get('/regenerate', async (request) => {
      await request.sessionHandle.regenerate();
      return {};
    });
    app.get('/twice', async (request, reply) => {
      request.session.set('n', 1);
      reply.send('a');
      return reply.send('b');
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      close: () => app.close(),
    };
  },

  async hono(m: SessionManager, seen: Seen) {
    const app = new Hono();
    app.onError((error, c) => {
      seen.push(error);
      const { status, body } = answer(error);
      return c.json(body, status as 503);
    });
    app.use(honoSessions(m));
    app.get('/count', async (c) => {
      const session = c.get('session');
      const n = ((await session.get<number>('n')) ?? 0) + 1;
      await session.set('n', n);
      return c.json({ n });
    });
    app.get('/logout', async (c) => {
      await c.get('session').invalidate();
      return c.json({});
    });
    app.get('/regenerate', async (c) => {
      await c.get('session').regenerate();
      return c.json({});
    });
    // A fetch-style handler cannot respond twice, but it can return one Response twice.
    app.get('/twice', async (c) => {
      await c.get('session').set('n', 1);
      return shared.hono;
    });
    return serve(createAdaptorServer({ fetch: app.fetch }) as Server);
  },

  async web(m: SessionManager, seen: Seen) {
    const handler = withSession(m, async (request, session) => {
      const path = new URL(request.url).pathname;
      if (path === '/count') {
        const n = ((await session.get<number>('n')) ?? 0) + 1;
        await session.set('n', n);
        return Response.json({ n });
      }
      if (path === '/logout') await session.invalidate();
      if (path === '/regenerate') await session.regenerate();
      if (path === '/twice') {
        await session.set('n', 1);
        return shared.web;
      }
      return Response.json({});
    });
    // A fetch-style server's error handling is the code that calls the handler.
    const fetchHandler = async (request: globalThis.Request) => {
      try {
        return await handler(request);
      } catch (error) {
        seen.push(error);
        const { status, body } = answer(error);
        return Response.json(body, { status });
      }
    };
    return serve(createAdaptorServer({ fetch: fetchHandler }) as Server);
  },
};
type Framework = keyof typeof FRAMEWORKS;

/** The bodiless Response the Hono and web handlers return to every request of /twice. */
const shared = {
  hono: new Response(null, { status: 204 }),
  web: new Response(null, { status: 204 }),
};

// ---------------------------------------------------------------- a client

async function call(url: string, cookie = ''): Promise<{ status: number; text: string; cookie: string }> {
  const response = await fetch(url, {
    headers: cookie ? { cookie } : {},
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  const set = response.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  return { status: response.status, text: await response.text(), cookie: set || cookie };
}

function assertNoInternals(text: string): void {
  for (const fragment of ['sessions_rw', 'password', '10.1.2.3', 'sameSite', 'memory:'])
    assert.ok(!text.includes(fragment), `the client saw "${fragment}": ${text}`);
}

// ---------------------------------------------------------------- the tests

const running: Partial<Record<Framework, { app: Running; store: ReturnType<typeof faultyStore> }>> = {};
const managers: Partial<Record<Framework, SessionManager>> = {};
const seen: Record<Framework, Seen> = { node: [], express: [], koa: [], fastify: [], hono: [], web: [] };

before(async () => {
  for (const fw of Object.keys(FRAMEWORKS) as Framework[]) {
    const store = faultyStore();
    const manager = createSessionManager({ app: 'faults', store, sweeper: false });
    manager.on('error', () => {}); // reported failures are expected here; keep the output quiet
    managers[fw] = manager;
    running[fw] = { app: await FRAMEWORKS[fw](manager, seen[fw]), store };
  }
});

after(async () => {
  for (const fw of Object.keys(running) as Framework[]) {
    await running[fw]!.app.close();
    await managers[fw]!.close();
  }
});

/** Which request makes the store call the given method, and whether it needs a session first. */
const TRIGGERS: Record<Method, { path: string; established: boolean }> = {
  load: { path: '/count', established: true },
  create: { path: '/count', established: false },
  update: { path: '/count', established: true },
  destroy: { path: '/logout', established: true },
  rename: { path: '/regenerate', established: true },
};

for (const fw of Object.keys(FRAMEWORKS) as Framework[]) {
  describe(`${fw}: faults`, () => {
    const url = () => running[fw]!.app.url;
    const store = () => running[fw]!.store;

    /** The same process still serves: a new client counts from 1, twice. */
    async function assertStillServes(): Promise<void> {
      const first = await call(`${url()}/count`);
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(JSON.parse(first.text), { n: 1 });
      const second = await call(`${url()}/count`, first.cookie);
      assert.deepEqual(JSON.parse(second.text), { n: 2 });
    }

    for (const method of Object.keys(TRIGGERS) as Method[]) {
      test(`the store rejects at ${method}`, async () => {
        const { path, established } = TRIGGERS[method];
        const cookie = established ? (await call(`${url()}/count`)).cookie : '';
        const before = seen[fw].length;
        store().failing = method;
        let response: Awaited<ReturnType<typeof call>>;
        try {
          response = await call(`${url()}${path}`, cookie);
        } finally {
          store().failing = undefined;
        }
        assert.equal(response.status, 503, response.text);
        assertNoInternals(response.text);
        const errors = seen[fw].slice(before) as Array<{ code?: string }>;
        assert.deepEqual(
          errors.map((error) => error.code),
          ['UNISESSION_STORE_UNAVAILABLE'],
          "the app's error handling saw the error, once",
        );
        await assertStillServes();
      });
    }

    test('the cookie serializer throws', async () => {
      const cookie = managers[fw]!.options.cookie;
      const before = seen[fw].length;
      // The options were checked at creation; break them afterwards to make serialize() throw.
      (cookie as { sameSite: string }).sameSite = 'auto';
      let response: Awaited<ReturnType<typeof call>>;
      try {
        response = await call(`${url()}/count`);
      } finally {
        cookie.sameSite = 'lax';
      }
      assert.equal(response.status, 500, response.text);
      assertNoInternals(response.text);
      const errors = seen[fw].slice(before) as Error[];
      assert.equal(errors.length, 1, "the app's error handling saw the error");
      assert.match(errors[0]!.message, /sameSite/);
      await assertStillServes();
    });

    test('the handler responds twice', async () => {
      const before = seen[fw].length;
      const first = await call(`${url()}/twice`);
      const errors = (seen[fw].slice(before) as Array<{ code?: string }>).map((error) => error.code);
      if (fw === 'hono' || fw === 'web') {
        // One Response object returned to two clients: the second must not get the first's cookie.
        assert.equal(first.status, 204);
        const second = await call(`${url()}/twice`);
        assert.notEqual(second.cookie, first.cookie, "the second client got the first one's cookie");
        assert.equal(shared[fw].headers.get('set-cookie'), null, 'the shared Response was not changed');
        assert.deepEqual(errors, []);
      } else {
        // The first response wins, with its cookie; the second is refused as Node refuses it.
        assert.equal(first.status, 200);
        assert.equal(first.text, 'a');
        assert.match(first.cookie, /^unisession=/);
        const expected = {
          node: ['ERR_STREAM_WRITE_AFTER_END'],
          express: ['ERR_HTTP_HEADERS_SENT'],
          koa: [], // Koa's respond() sees the response ended and writes nothing
          fastify: ['ERR_HTTP_HEADERS_SENT'],
        }[fw];
        assert.deepEqual(errors, expected);
      }
      await assertStillServes();
    });
  });
}
