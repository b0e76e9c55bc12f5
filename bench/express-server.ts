/**
 * One benchmark contestant, in a process of its own: an Express app written as a user of
 * that library would write it. Env: SYSTEM, STORE_URL. Prints "listening <port>".
 *
 * Routes: /seed?size=N&shape=S fills a new session with about N bytes (bench/shapes.ts);
 * /read reads one small attribute; /write changes one; /plain never touches the session;
 * /__bench/stats reports (and resets) the bytes this process sent to and received from the
 * store and its CPU time. SYSTEM `bare-express` is the same app without sessions.
 */

import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { Store } from '../src/core/store.js';
import { CACHE } from './cache-size.js';
import { clearMongoCollection, clearRedisPrefix } from './clear.js';
import { library } from './library.js';
import { meterStoreTraffic } from './meter.js';
import { readOne, type Shape, sessionValues } from './shapes.js';

const system = process.env.SYSTEM ?? '';
const storeUrl = new URL(process.env.STORE_URL ?? '');
const shape = (process.env.SHAPE ?? 'strings') as Shape;

const takeStoreTraffic = meterStoreTraffic(Number(storeUrl.port));

type Bag = Record<string, unknown>;

/** unisession's store for this contestant, emptied first. */
async function unisessionStore(): Promise<Store> {
  if (system === 'unisession-redis') {
    await clearRedisPrefix(storeUrl.href, 'benchu:');
    const { redisStore } = await library<typeof import('../src/stores/redis.js')>('stores/redis.js');
    return redisStore({ url: storeUrl.href, group: 'benchu' });
  }
  await clearMongoCollection(storeUrl.href, 'unisession', 'benchu_sessions');
  const { mongodbStore } = await library<typeof import('../src/stores/mongodb.js')>('stores/mongodb.js');
  return mongodbStore({ url: storeUrl.href, group: 'benchu' });
}

/** The anchor's express-session store (connect-redis or connect-mongo), emptied first. */
async function anchorStore(): Promise<unknown> {
  if (system === 'express-session+connect-redis') {
    await clearRedisPrefix(storeUrl.href, 'benchx:');
    const { default: RedisStore } = await import('connect-redis');
    const { Redis } = await import('ioredis');
    return new RedisStore({ client: new Redis(storeUrl.href), prefix: 'benchx:' });
  }
  await clearMongoCollection(storeUrl.href, 'bench', 'benchx_sessions');
  const { default: MongoStore } = await import('connect-mongo');
  return MongoStore.create({ mongoUrl: storeUrl.href, dbName: 'bench', collectionName: 'benchx_sessions' });
}

async function middleware(): Promise<RequestHandler> {
  const maxAge = 3_600_000;
  switch (system) {
    case 'unisession-redis':
    case 'unisession-mongodb': {
      const { session } = await library<typeof import('../src/adapters/express.js')>('adapters/express.js');
      return session({
        app: 'bench',
        secret: 'bench',
        store: await unisessionStore(),
        cookie: { maxAge },
        cache: CACHE,
      });
    }
    case 'express-session+connect-redis':
    case 'express-session+connect-mongo': {
      const { default: expressSession } = await import('express-session');
      const store = await anchorStore();
      return expressSession({
        secret: 'bench',
        store,
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge },
      });
    }
    case 'bare-express':
      return (_req, _res, next) => next();
    default:
      throw new Error(`unknown SYSTEM ${system}`);
  }
}

const app = express();
app.use(await middleware());
app.get('/seed', (req, res) => {
  const session = req.session as unknown as Bag;
  Object.assign(session, sessionValues(shape, Number(req.query.size)));
  res.json({ ok: true });
});
app.get('/read', (req, res) => {
  const session = (req.session ?? {}) as unknown as Bag;
  res.json(readOne(shape, (name) => session[name]));
});
app.get('/plain', (_req, res) => {
  res.json({ ok: true });
});
app.get('/write', (req, res) => {
  const session = req.session as unknown as Bag;
  session.counter = Number(session.counter ?? 0) + 1;
  res.json({ counter: session.counter });
});
app.get('/__bench/stats', (_req, res) => {
  res.json(takeStoreTraffic());
});
const server = app.listen(0, '127.0.0.1', () =>
  console.log(`listening ${(server.address() as AddressInfo).port}`),
);
