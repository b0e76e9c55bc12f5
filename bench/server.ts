/**
 * One benchmark contestant, in a process of its own: an Express app written as a user of
 * that library would write it. Env: SYSTEM, STORE_URL. Prints "listening <port>".
 *
 * Routes: /seed?size=N fills a new session with N bytes in 10 attributes; /read reads one
 * attribute; /write changes one small attribute; /__bench/bytes reports (and resets) the
 * bytes this process sent to the store.
 */

import type { AddressInfo } from 'node:net';
import net from 'node:net';
import express, { type RequestHandler } from 'express';
import { library } from './library.js';

const system = process.env.SYSTEM ?? '';
const storeUrl = new URL(process.env.STORE_URL ?? '');
const storePort = Number(storeUrl.port);
const ATTRIBUTES = 10;

// Count what the store driver writes to the store's socket: the same meter for every contestant.
let bytesToStore = 0;
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function countingWrite(this: net.Socket, chunk: unknown, ...rest: unknown[]) {
  if (this.remotePort === storePort && chunk) bytesToStore += Buffer.byteLength(chunk as string | Buffer);
  return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof write;

type Bag = Record<string, unknown>;

async function middleware(): Promise<RequestHandler> {
  const maxAge = 3_600_000;
  switch (system) {
    case 'unisession-redis': {
      const { session } = await library<typeof import('../src/adapters/express.js')>('adapters/express.js');
      const { redisStore } = await library<typeof import('../src/stores/redis.js')>('stores/redis.js');
      return session({
        app: 'bench',
        secret: 'bench',
        store: redisStore({ url: storeUrl.href, group: 'benchu' }),
        cookie: { maxAge },
      });
    }
    case 'unisession-mongodb': {
      const { session } = await library<typeof import('../src/adapters/express.js')>('adapters/express.js');
      const { mongodbStore } = await library<typeof import('../src/stores/mongodb.js')>('stores/mongodb.js');
      return session({
        app: 'bench',
        secret: 'bench',
        store: mongodbStore({ url: storeUrl.href, group: 'benchu' }),
        cookie: { maxAge },
      });
    }
    case 'express-session+connect-redis': {
      const { default: expressSession } = await import('express-session');
      const { default: RedisStore } = await import('connect-redis');
      const { Redis } = await import('ioredis');
      const store = new RedisStore({ client: new Redis(storeUrl.href), prefix: 'benchx:' });
      return expressSession({
        secret: 'bench',
        store,
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge },
      });
    }
    case 'express-session+connect-mongo': {
      const { default: expressSession } = await import('express-session');
      const { default: MongoStore } = await import('connect-mongo');
      const store = MongoStore.create({
        mongoUrl: storeUrl.href,
        dbName: 'bench',
        collectionName: 'benchx_sessions',
      });
      return expressSession({
        secret: 'bench',
        store,
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge },
      });
    }
    default:
      throw new Error(`unknown SYSTEM ${system}`);
  }
}

/** Starts each contestant on an empty store, so earlier runs neither help nor hurt it. */
async function clearStore(): Promise<void> {
  if (system.endsWith('redis')) {
    const { Redis } = await import('ioredis');
    const redis = new Redis(storeUrl.href);
    for (const pattern of ['benchu:*', 'benchx:*']) {
      const keys = await redis.keys(pattern);
      for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
    }
    await redis.quit();
  } else {
    const { MongoClient } = await import('mongodb');
    const client = await new MongoClient(storeUrl.href).connect();
    await client.db('bench').dropDatabase();
    await client
      .db('unisession')
      .collection('benchu_sessions')
      .drop()
      .catch(() => undefined);
    await client.close();
  }
}

await clearStore();
const app = express();
app.use(await middleware());
app.get('/seed', (req, res) => {
  const session = req.session as unknown as Bag;
  const size = Number(req.query.size);
  for (let i = 0; i < ATTRIBUTES; i++) session[`a${i}`] = `${i}`.padEnd(size / ATTRIBUTES, 'x');
  session.counter = 0;
  res.json({ ok: true });
});
app.get('/read', (req, res) => {
  res.json({ length: String((req.session as unknown as Bag).a3 ?? '').length });
});
app.get('/write', (req, res) => {
  const session = req.session as unknown as Bag;
  session.counter = Number(session.counter ?? 0) + 1;
  res.json({ counter: session.counter });
});
app.get('/__bench/bytes', (_req, res) => {
  res.json({ bytes: bytesToStore });
  bytesToStore = 0;
});
const server = app.listen(0, '127.0.0.1', () =>
  console.log(`listening ${(server.address() as AddressInfo).port}`),
);
