/**
 * Issue 8, the adapters' part: one test per item (1a, 1b, 2, 3, 4, 11, 12), on each adapter it
 * concerns, through real servers on one memory store. Stored values that an adapter must
 * survive are written as another app of the group would: through the native API, or, for
 * names the core refuses, straight into the store.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import { ExpressSession, session as expressSessions } from '../../src/adapters/express.js';
import { FastifySession, unisession as fastifySessions } from '../../src/adapters/fastify.js';
import { KoaSession, unisession as koaSessions } from '../../src/adapters/koa.js';
import { nodeSessions } from '../../src/adapters/node.js';
import { withSession } from '../../src/adapters/web.js';
import type { SessionEvents } from '../../src/core/events.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { Session } from '../../src/core/session.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { type Running, serve } from '../helpers/server.js';

const escaped: unknown[] = [];
process.on('unhandledRejection', (reason) => escaped.push(reason));
process.on('uncaughtException', (error) => escaped.push(error));
afterEach(() => assert.deepEqual(escaped.splice(0), [], 'an error escaped to the process'));

const APP = 'hard';
const store = memoryStore();
const newManager = (s: Store = store) => createSessionManager({ app: APP, store: s, sweeper: false });

type Reply = { status: number; json: Record<string, unknown>; text: string; headers: Headers };

class Client {
  cookie = '';
  constructor(readonly base: string) {}
  async call(path: string): Promise<Reply> {
    const response = await fetch(this.base + path, {
      headers: this.cookie ? { cookie: this.cookie } : {},
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
    const set = response.headers.getSetCookie()[0]?.split(';')[0];
    if (set) this.cookie = set.endsWith('=') ? '' : set;
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: response.status, json, text, headers: response.headers };
  }
  get id(): string {
    return this.cookie.split('=')[1]!;
  }
}

/** Writes attributes as another app of the group would, through the native API. */
async function writeNative(id: string, values: Record<string, unknown>): Promise<void> {
  const session = newManager().open({
    url: '/',
    method: 'GET',
    header: (name) => (name === 'cookie' ? `unisession=${id}` : undefined),
    remoteAddress: '127.0.0.1',
    encrypted: false,
  });
  for (const [name, value] of Object.entries(values)) await session.set(name, value);
  await session.commit();
}

/** Writes stored text under this app's namespace, bypassing every check (as a hand edit or an old release). */
async function writeRaw(id: string, values: Record<string, string>): Promise<void> {
  const set = new Map(Object.entries(values).map(([name, text]) => [`${APP}:${name}`, text]));
  assert.notEqual(await store.update(id, { set }), false, 'written');
}

async function stored(id: string): Promise<Map<string, string>> {
  return (await store.load(id, 'all', Date.now()))?.attributes ?? new Map();
}

// ---------------------------------------------------------------- the property-style apps

/** What a route reports about the session object it was given. */
async function describeSession(
  bag: object,
  handle: Session,
  type: abstract new (...args: never[]) => object,
) {
  const record = bag as Record<string, unknown>;
  return {
    prototypeKept: Object.getPrototypeOf(bag) === type.prototype,
    isAdmin: record.isAdmin ?? null,
    keys: Object.keys(bag).sort(),
    methods: ['save', 'regenerate'].every((name) => typeof record[name] === 'function'),
    user: record.user ?? null,
    handleId: handle.id,
  };
}

const HOSTILE_BODY = '{"__proto__": {"isAdmin": true}}';

interface PropertyApp extends Running {
  errors: Array<{ code?: string; message: string; status?: number }>;
}

/** The routes every property-style app has, over its own way of reaching the session. */
interface Routes {
  bag(): Record<string, unknown>;
  handle(): Session;
}

async function propertyRoute(path: URL, routes: Routes, type: abstract new (...args: never[]) => object) {
  const bag = routes.bag();
  const handle = routes.handle();
  const q = (name: string) => path.searchParams.get(name) ?? '';
  switch (path.pathname) {
    case '/whoami':
      // The core refuses an empty name, so only ask the handle when a name is given.
      return {
        ...(await describeSession(bag, handle, type)),
        native: q('name') ? ((await handle.get(q('name'))) ?? null) : null,
      };
    case '/count':
      bag.n = ((bag.n as number | undefined) ?? 0) + 1;
      return { n: bag.n };
    case '/set':
      bag[q('name')] = q('value');
      return { ok: true };
    case '/native-remove':
      await handle.remove(q('name'));
      return { ok: true };
    case '/native-set':
      await handle.set(q('name'), q('value'));
      return { ok: true };
    case '/mixed':
      bag.a = 'changed by property';
      await handle.remove('b');
      return { ok: true };
    case '/cart':
      bag.cart ??= [];
      (bag.cart as string[]).push(q('item'));
      return { cart: bag.cart };
    case '/assign-body':
      Object.assign(bag, JSON.parse(HOSTILE_BODY));
      return describeSession(bag, handle, type);
    case '/unencodable':
      bag.callback = () => 1;
      return { ok: true };
    case '/huge':
      bag.huge = 'x'.repeat(1_100_000);
      return { ok: true };
    default:
      return { notFound: true };
  }
}

const toJsonError = (error: unknown) => {
  const e = error as { status?: number; code?: string; message: string };
  return { status: e.status ?? 500, body: { handledBy: 'app', code: e.code ?? 'unknown' } };
};

async function expressApp(manager: SessionManager): Promise<PropertyApp> {
  const errors: PropertyApp['errors'] = [];
  const app = express();
  app.use(expressSessions(manager));
  app.get('/twice', (req, res) => {
    req.session.n = 1;
    res.send('a');
    res.send('b');
  });
  app.get('/bad-status', (_req, res) => {
    res.writeHead(1000).end();
  });
  app.get('/headers', (req, res) => {
    (req.session as unknown as Record<string, unknown>).n = 1;
    res.setHeader('x-from-the-handler', 'discard me');
    res.status(201).send('the response that was held');
  });
  app.use((req, res, next) => {
    const routes = {
      bag: () => req.session as unknown as Record<string, unknown>,
      handle: () => req.sessionHandle,
    };
    propertyRoute(new URL(req.originalUrl, 'http://x'), routes, ExpressSession).then(
      (body) => res.json(body),
      next,
    );
  });
  app.use((error: { code?: string; message: string }, _req: Request, res: Response, _next: NextFunction) => {
    errors.push(error);
    if (res.headersSent) return;
    const { status, body } = toJsonError(error);
    res.status(status).json(body);
  });
  return { ...(await serve(createServer(app))), errors };
}

async function koaApp(manager: SessionManager): Promise<PropertyApp> {
  const errors: PropertyApp['errors'] = [];
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      errors.push(error as PropertyApp['errors'][number]);
      const { status, body } = toJsonError(error);
      ctx.status = status;
      ctx.body = body;
    }
  });
  app.use(koaSessions(manager));
  app.use(async (ctx) => {
    if (ctx.path === '/replace') {
      ctx.session = JSON.parse(ctx.query.json as string);
      ctx.body = { ok: true };
      return;
    }
    const routes = {
      bag: () => ctx.session as unknown as Record<string, unknown>,
      handle: () => ctx.sessionHandle,
    };
    ctx.body = await propertyRoute(ctx.URL, routes, KoaSession);
  });
  return { ...(await serve(createServer(app.callback()))), errors };
}

async function fastifyApp(manager: SessionManager): Promise<PropertyApp> {
  const errors: PropertyApp['errors'] = [];
  const app: FastifyInstance = Fastify();
  await app.register(fastifySessions, { manager });
  app.setErrorHandler((error, _request, reply) => {
    errors.push(error as PropertyApp['errors'][number]);
    const { status, body } = toJsonError(error);
    return reply.status(status).send(body);
  });
  app.get('/*', async (request) => {
    const url = new URL(request.url, 'http://x');
    if (url.pathname === '/set') {
      // @fastify/session's API: set(), not a property.
      request.session.set(url.searchParams.get('name')!, url.searchParams.get('value'));
      return { ok: true };
    }
    if (url.pathname === '/get') return { value: request.session.get(url.searchParams.get('name')!) ?? null };
    const routes = {
      bag: () => request.session as unknown as Record<string, unknown>,
      handle: () => request.sessionHandle,
    };
    return propertyRoute(url, routes, FastifySession);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: () => app.close(),
    errors,
  };
}

const PROPERTY_APPS = { express: expressApp, koa: koaApp, fastify: fastifyApp };
type PropertyFramework = keyof typeof PROPERTY_APPS;
const apps = {} as Record<PropertyFramework, PropertyApp>;
const managers: SessionManager[] = [];

before(async () => {
  for (const fw of Object.keys(PROPERTY_APPS) as PropertyFramework[]) {
    const manager = newManager();
    managers.push(manager);
    apps[fw] = await PROPERTY_APPS[fw](manager);
  }
});
after(async () => {
  for (const app of Object.values(apps)) await app.close();
  await Promise.all(managers.map((manager) => manager.close()));
});

/** A client with a stored session on `fw`'s app. */
async function withSessionOn(fw: PropertyFramework): Promise<Client> {
  const client = new Client(apps[fw].url);
  assert.deepEqual((await client.call('/count')).json, { n: 1 });
  return client;
}

// ---------------------------------------------------------------- 1a

describe('1a: a stored attribute named id', () => {
  it('does not crash Express: the process serves, req.session.id is the id, the stored value stays', async () => {
    const client = await withSessionOn('express');
    await writeNative(client.id, { id: 'written by another app' });
    const whoami = await client.call('/whoami?name=id');
    assert.equal(whoami.status, 200, whoami.text);
    assert.equal(whoami.json.handleId, client.id);
    assert.equal(whoami.json.native, 'written by another app', 'the native handle reads it');
    assert.deepEqual((await client.call('/count')).json, { n: 2 });
    assert.equal((await stored(client.id)).get(`${APP}:id`), '"written by another app"');
  });
});

// ---------------------------------------------------------------- 1b

describe('1b: a second response', () => {
  it('Express: res.send twice hands ERR_HTTP_HEADERS_SENT to the error handler; the first response leaves', async () => {
    const app = apps.express;
    const before = app.errors.length;
    const client = new Client(app.url);
    const reply = await client.call('/twice');
    assert.equal(reply.text, 'a');
    assert.ok(client.cookie, 'with its cookie');
    assert.deepEqual(
      app.errors.slice(before).map((error) => error.code),
      ['ERR_HTTP_HEADERS_SENT'],
    );
    assert.deepEqual((await client.call('/count')).json, { n: 2 });
  });

  it('Express: a held call that fails when replayed goes to the error handler', async () => {
    const app = apps.express;
    const before = app.errors.length;
    const reply = await new Client(app.url).call('/bad-status');
    assert.equal(reply.status, 500);
    assert.deepEqual(
      app.errors.slice(before).map((error) => error.code),
      ['ERR_HTTP_INVALID_STATUS_CODE'],
    );
  });

  describe('node:http', () => {
    let running: Running;
    const seen: unknown[] = [];
    const checks: Record<string, unknown> = {};
    before(async () => {
      const sessions = nodeSessions(newManager(), {
        onError: (error, _req, res) => {
          seen.push(error);
          res.statusCode = 500;
          res.end('onError answered');
        },
      });
      running = await serve(
        createServer(async (req, res) => {
          const session = sessions.attach(req, res);
          await session.set('n', 1);
          if (req.url === '/end-twice') {
            res.end('once');
            res.end();
          } else if (req.url === '/after-end') {
            res.end('ended');
            checks.headersSent = res.headersSent;
            checks.writableEnded = res.writableEnded;
            for (const call of [
              () => res.setHeader('x', '1'),
              () => res.writeHead(200),
              () => res.write('more'),
              () => res.end('more'),
            ]) {
              try {
                call();
                checks[String(call)] = 'no error';
              } catch (error) {
                checks[String(call)] = (error as { code: string }).code;
              }
            }
          } else if (req.url === '/bad-status') {
            res.writeHead(1000).end();
          }
        }),
      );
    });
    after(() => running.close());

    it('res.end(); res.end() is harmless', async () => {
      const reply = await new Client(running.url).call('/end-twice');
      assert.equal(reply.text, 'once');
      assert.match(reply.headers.get('set-cookie') ?? '', /^unisession=/);
    });

    it('after end(), the held response acts as a sent one, synchronously', async () => {
      assert.equal((await new Client(running.url).call('/after-end')).text, 'ended');
      assert.deepEqual(Object.values(checks), [
        true,
        true,
        'ERR_HTTP_HEADERS_SENT',
        'ERR_HTTP_HEADERS_SENT',
        'ERR_STREAM_WRITE_AFTER_END',
        'ERR_STREAM_WRITE_AFTER_END',
      ]);
    });

    it('a held call that fails when replayed goes to onError, not to the process', async () => {
      const reply = await new Client(running.url).call('/bad-status');
      assert.equal(reply.text, 'onError answered');
      assert.equal((seen.at(-1) as { code: string }).code, 'ERR_HTTP_INVALID_STATUS_CODE');
    });
  });
});

// ---------------------------------------------------------------- 2

describe('2: __proto__ never becomes the prototype of the session', () => {
  for (const fw of Object.keys(PROPERTY_APPS) as PropertyFramework[]) {
    it(`${fw}: a stored __proto__, constructor and prototype are skipped, and left stored`, async () => {
      const client = await withSessionOn(fw);
      const planted = { __proto__: '{"isAdmin":true}', constructor: '"c"', prototype: '"p"' };
      await writeRaw(client.id, planted);
      const whoami = await client.call('/whoami?name=n');
      assert.equal(whoami.status, 200, whoami.text);
      assert.equal(whoami.json.isAdmin, null);
      assert.equal(whoami.json.prototypeKept, true);
      assert.equal(whoami.json.methods, true);
      assert.deepEqual(whoami.json.keys, ['n']);
      assert.deepEqual((await client.call('/count')).json, { n: 2 });
      const after = await stored(client.id);
      for (const [name, text] of Object.entries(planted)) assert.equal(after.get(`${APP}:${name}`), text);
    });

    it(`${fw}: Object.assign(session, a parsed body with __proto__) changes no prototype`, async () => {
      const client = await withSessionOn(fw);
      const reply = await client.call('/assign-body');
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.isAdmin, null);
      assert.equal(reply.json.prototypeKept, true);
      assert.equal(reply.json.methods, true);
    });
  }

  it('fastify: session.set("__proto__", ...) is refused', async () => {
    const client = await withSessionOn('fastify');
    const reply = await client.call('/set?name=__proto__&value=x');
    assert.equal(reply.status, 400);
    assert.equal(reply.json.code, 'UNISESSION_INVALID_NAME');
  });
});

// ---------------------------------------------------------------- 3

/** Stored names that clash with each adapter's own members (beside Object.prototype's). */
const CLASHES: Record<PropertyFramework, string[]> = {
  express: [
    'id',
    'cookie',
    'regenerate',
    'destroy',
    'save',
    'reload',
    'touch',
    'resetMaxAge',
    'req',
    'toString',
  ],
  koa: ['id', 'isNew', 'populated', 'maxAge', 'toJSON', 'save', 'regenerate', 'hasOwnProperty'],
  fastify: [
    'get',
    'set',
    'sessionId',
    'isNew',
    'regenerate',
    'destroy',
    'save',
    'reload',
    'touch',
    'valueOf',
  ],
};

describe('3: stored names that clash with the session object', () => {
  for (const fw of Object.keys(PROPERTY_APPS) as PropertyFramework[]) {
    it(`${fw}: are not exposed, do not fail the request, stay stored, and the native handle reads them`, async () => {
      const client = await withSessionOn(fw);
      const values = Object.fromEntries(CLASHES[fw].map((name) => [name, `stored ${name}`]));
      await writeNative(client.id, values);
      for (const name of CLASHES[fw]) {
        const whoami = await client.call(`/whoami?name=${name}`);
        assert.equal(whoami.status, 200, `${name}: ${whoami.text}`);
        assert.equal(whoami.json.native, `stored ${name}`);
        assert.deepEqual(whoami.json.keys, ['n']);
        assert.equal(whoami.json.methods, true);
        assert.equal(whoami.json.handleId, client.id);
      }
      assert.deepEqual((await client.call('/count')).json, { n: 2 });
      const after = await stored(client.id);
      for (const name of CLASHES[fw])
        assert.equal(after.get(`${APP}:${name}`), JSON.stringify(`stored ${name}`));
    });
  }

  for (const [fw, name] of [
    ['express', 'save'],
    ['koa', 'toJSON'],
    ['fastify', 'get'],
  ] as const) {
    it(`${fw}: setting "${name}" is refused with UNISESSION_INVALID_NAME naming it`, async () => {
      const client = await withSessionOn(fw);
      const before = apps[fw].errors.length;
      const reply = await client.call(`/set?name=${name}&value=1`);
      assert.equal(reply.status, 400, reply.text);
      const [error] = apps[fw].errors.slice(before);
      assert.equal(error?.code, 'UNISESSION_INVALID_NAME');
      assert.match(error!.message, new RegExp(`"${name}"`));
      assert.deepEqual((await client.call('/count')).json, { n: 2 }, 'the session still works');
    });
  }

  it('koa: ctx.session = { isNew: 1 } is refused', async () => {
    const client = await withSessionOn('koa');
    const reply = await client.call(`/replace?json=${encodeURIComponent('{"isNew":1}')}`);
    assert.equal(reply.status, 400);
    assert.equal(reply.json.code, 'UNISESSION_INVALID_NAME');
  });

  it('fastify: get() of a reserved name is undefined, not the method', async () => {
    const client = await withSessionOn('fastify');
    assert.deepEqual((await client.call('/get?name=get')).json, { value: null });
    assert.deepEqual((await client.call('/get?name=n')).json, { value: 1 });
  });
});

// ---------------------------------------------------------------- 4

describe('4: writes through the native handle survive the commit', () => {
  for (const fw of Object.keys(PROPERTY_APPS) as PropertyFramework[]) {
    it(`${fw}: sessionHandle.remove() logs out; sessionHandle.set() sticks`, async () => {
      const client = await withSessionOn(fw);
      await client.call('/set?name=user&value=alice');
      assert.equal((await client.call('/whoami')).json.user, 'alice');
      await client.call('/native-remove?name=user');
      assert.equal((await client.call('/whoami')).json.user, null, 'the logout happened');
      assert.equal((await stored(client.id)).has(`${APP}:user`), false);
      await client.call('/native-set?name=user&value=bob');
      assert.equal((await client.call('/whoami')).json.user, 'bob');
    });

    it(`${fw}: a property change and a native change in one request both survive`, async () => {
      const client = await withSessionOn(fw);
      await writeNative(client.id, { a: 'original', b: 'to remove' });
      await client.call('/mixed');
      const after = await stored(client.id);
      assert.equal(after.get(`${APP}:a`), '"changed by property"');
      assert.equal(after.has(`${APP}:b`), false);
    });

    it(`${fw}: in-place mutation of a loaded object is still saved`, async () => {
      const client = await withSessionOn(fw);
      await client.call('/cart?item=apple');
      assert.deepEqual((await client.call('/cart?item=pear')).json, { cart: ['apple', 'pear'] });
      assert.equal((await stored(client.id)).get(`${APP}:cart`), '["apple","pear"]');
    });
  }
});

// ---------------------------------------------------------------- 11 and 12

const DRIVER_TEXT = 'sqlite: NOT NULL constraint failed: hard_attributes.value at /srv/app/sessions.db';

/** A store whose writes fail like a driver's, with a message a client must never see. */
function brokenWrites(): Store {
  const inner = memoryStore();
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        property === 'create' || property === 'update'
          ? Promise.reject(new Error(DRIVER_TEXT))
          : value.apply(target, args);
    },
  });
}

describe('11: internal messages never reach clients', () => {
  it('node: the default onError answers the code and its fixed message; details go to the error event', async () => {
    const manager = newManager(brokenWrites());
    const reported: Array<SessionEvents['error']> = [];
    manager.on('error', (event) => reported.push(event));
    const sessions = nodeSessions(manager);
    const running = await serve(
      createServer(async (req, res) => {
        await sessions.attach(req, res).set('n', 1);
        res.setHeader('x-from-the-handler', 'discard me');
        res.end('the response that was held');
      }),
    );
    try {
      const reply = await new Client(running.url).call('/');
      assert.equal(reply.status, 503);
      assert.deepEqual(reply.json, {
        error: 'UNISESSION_STORE_UNAVAILABLE',
        message: 'The session store is unavailable',
      });
      assert.ok(!reply.text.includes('sqlite'));
      assert.equal(reply.headers.get('x-from-the-handler'), null, 'the held response was discarded');
      assert.equal(reported.length, 1);
      assert.equal(reported[0]!.during, 'commit');
      // The details travel on the error object: the driver's error is its cause.
      assert.match(((reported[0]!.error as Error).cause as Error).message, /NOT NULL constraint failed/);
    } finally {
      await running.close();
      await manager.close();
    }
  });

  it('node: an error that is not a UnisessionError is a 500 with a fixed text', async () => {
    const manager = newManager();
    manager.on('error', () => {});
    (manager.options.cookie as { sameSite: string }).sameSite = 'auto'; // serialize() throws a TypeError
    const sessions = nodeSessions(manager);
    const running = await serve(
      createServer(async (req, res) => {
        await sessions.attach(req, res).set('n', 1);
        res.end();
      }),
    );
    try {
      const reply = await new Client(running.url).call('/');
      assert.equal(reply.status, 500);
      assert.deepEqual(reply.json, { message: 'Internal Server Error' });
    } finally {
      await running.close();
      await manager.close();
    }
  });

  it('Express: the commit path writes no body of its own; the held response is discarded', async () => {
    const manager = newManager(brokenWrites());
    const app = await expressApp(manager);
    try {
      const reply = await new Client(app.url).call('/headers');
      assert.equal(reply.status, 503);
      assert.deepEqual(reply.json, { handledBy: 'app', code: 'UNISESSION_STORE_UNAVAILABLE' });
      assert.equal(reply.headers.get('x-from-the-handler'), null);
      assert.ok(!reply.text.includes('sqlite'));
    } finally {
      await app.close();
      await manager.close();
    }
  });
});

describe('12: commit-time errors go to the app, not to a response of the library', () => {
  it('Express: store down on a first visit, an unencodable value, a value over 1 MB: next(err)', async () => {
    const down = await expressApp(newManager(brokenWrites()));
    try {
      assert.deepEqual((await new Client(down.url).call('/count')).json, {
        handledBy: 'app',
        code: 'UNISESSION_STORE_UNAVAILABLE',
      });
    } finally {
      await down.close();
    }
    const app = apps.express;
    for (const [path, status, code] of [
      ['/unencodable', 500, 'UNISESSION_ENCODE_FAILED'],
      ['/huge', 413, 'UNISESSION_VALUE_TOO_LARGE'],
    ] as const) {
      const reply = await new Client(app.url).call(path);
      assert.equal(reply.status, status, reply.text);
      assert.deepEqual(reply.json, { handledBy: 'app', code });
    }
  });

  it('node: onError(error, req, res) gets each, with a clean response to answer on', async () => {
    const seen: Array<{ code: string; url: string; headers: string[] }> = [];
    const onError = (error: unknown, req: IncomingMessage, res: ServerResponse) => {
      seen.push({ code: (error as { code: string }).code, url: req.url!, headers: res.getHeaderNames() });
      res.statusCode = 418;
      res.end('answered by the app');
    };
    const run = async (manager: SessionManager, path: string, write: (session: Session) => Promise<void>) => {
      const sessions = nodeSessions(manager, { onError });
      const running = await serve(
        createServer(async (req, res) => {
          const session = sessions.attach(req, res);
          try {
            await write(session);
          } catch (error) {
            // Encoding fails in the handler on the native API; the commit is what fails here.
            res.statusCode = 400;
            return res.end((error as { code: string }).code);
          }
          res.setHeader('x-from-the-handler', 'discard me');
          res.end('held');
        }),
      );
      try {
        return await new Client(running.url).call(path);
      } finally {
        await running.close();
      }
    };
    const downManager = newManager(brokenWrites());
    downManager.on('error', () => {});
    const reply = await run(downManager, '/down', (session) => session.set('n', 1));
    assert.equal(reply.status, 418);
    assert.equal(reply.text, 'answered by the app');
    // An object mutated in place after its set is re-encoded at commit: too large by then.
    const manager = createSessionManager({ app: APP, store, sweeper: false, maxValueBytes: 100 });
    const grown = await run(manager, '/grown', async (session) => {
      const list: string[] = [];
      await session.set('list', list);
      list.push('x'.repeat(200));
    });
    assert.equal(grown.status, 418);
    // ... or no longer encodable at all.
    const spoiled = await run(manager, '/spoiled', async (session) => {
      const list: unknown[] = [];
      await session.set('list', list);
      list.push(() => 'a function');
    });
    assert.equal(spoiled.status, 418);
    assert.deepEqual(seen, [
      { code: 'UNISESSION_STORE_UNAVAILABLE', url: '/down', headers: [] },
      { code: 'UNISESSION_VALUE_TOO_LARGE', url: '/grown', headers: [] },
      { code: 'UNISESSION_ENCODE_FAILED', url: '/spoiled', headers: [] },
    ]);
    await Promise.all([downManager.close(), manager.close()]);
  });
});

// ---------------------------------------------------------------- adapter options

describe('adapter options are checked when the adapter is created', () => {
  const manager = newManager();
  after(() => manager.close());

  it('node: onError must be a function; unknown adapter options are refused', () => {
    assert.throws(() => nodeSessions({ app: APP, store, onError: 'log' as never }), {
      code: 'UNISESSION_INVALID_OPTION',
      message: /nodeSessions: option "onError" must be a function, got "log"/,
    });
    assert.throws(
      () => nodeSessions(manager, { onErorr: () => {} } as never),
      /unknown option "onErorr"; did you mean "onError"/,
    );
  });

  it("Express: express-session's own options", () => {
    for (const [options, pattern] of [
      [{ proxy: 'yes' }, /option "proxy" must be true or false, got "yes"/],
      [{ resave: 1 }, /option "resave"/],
      [{ rolling: 'always' }, /option "rolling"/],
      [{ name: '' }, /option "name" must be a non-empty string/],
      [{ cookie: { maxAge: '1d' } }, /option "cookie.maxAge" must be a finite number >= 0 or null, got "1d"/],
      [{ cookie: { maxAge: -1 } }, /option "cookie.maxAge"/],
    ] as const) {
      assert.throws(() => expressSessions({ store, ...options } as never), {
        code: 'UNISESSION_INVALID_OPTION',
        message: pattern,
      });
    }
    expressSessions({ store, sweeper: false, cookie: { maxAge: null, path: '/' } }).manager.close();
  });

  it('Fastify: { manager } must hold a SessionManager, alone', async () => {
    for (const options of [{ manager: {} }, { manager, app: APP }]) {
      const app = Fastify();
      await assert.rejects(
        async () => {
          await app.register(fastifySessions, options as never);
          await app.ready();
        },
        { code: 'UNISESSION_INVALID_OPTION', message: /option "manager"|unknown option "app"/ },
      );
      await app.close().catch(() => {});
    }
  });

  it('web: withSession options', () => {
    assert.throws(
      () => withSession(manager, async () => new Response(), { remoteAddres: () => '' } as never),
      /unknown option "remoteAddres"; did you mean "remoteAddress"/,
    );
    assert.throws(
      () => withSession(manager, async () => new Response(), { remoteAddress: '1.2.3.4' } as never),
      /option "remoteAddress" must be a function/,
    );
  });
});
