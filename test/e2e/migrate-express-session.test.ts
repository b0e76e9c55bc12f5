/**
 * Issue 12: switching a live app from express-session to unisession logs nobody out. An
 * express-session app on real connect-redis (Redis) and one on real connect-mongo (the mongo
 * test server) each log in 100 users over HTTP. Each is then replaced by the unisession app
 * with the same cookie name and secret and `migrateFrom: <the old store>`: every user stays
 * logged in with their attributes and expiry, gets the cookie in unisession's format, and the
 * old store no longer holds their sessions. Also: concurrent first requests of one user, and
 * an id the old store never had (no fixation).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import MongoSessionStore from 'connect-mongo';
import RedisSessionStore from 'connect-redis';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import expressSession from 'express-session';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { legacySignature } from '../../src/adapters/express/legacy-cookie.js';
import type { LegacySession, LegacyStore } from '../../src/adapters/express/legacy-store.js';
import { session as unisession } from '../../src/adapters/express.js';
import type { Store } from '../../src/core/store.js';
import { mongodbStore } from '../../src/stores/mongodb.js';
import { redisStore } from '../../src/stores/redis.js';
import { close, listen } from '../helpers/server.js';
import { server } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';

const redisUrl = await server('redis');
const mongoUrl = await server('mongo');

const SECRET = 'the same secret before and after';
const NAME = 'connect.sid';
const USERS = 100;
const DAY = 86_400_000;

/** The routes both apps serve: the app's code does not change at the switch, only the middleware. */
function routes(app: Express): void {
  app.get('/login/:user', (req: Request, res: Response, next: NextFunction) => {
    req.session.regenerate((error) => {
      if (error) return next(error);
      const session = req.session as unknown as Record<string, unknown>;
      session.user = req.params.user;
      session.cart = [{ sku: `sku-${req.params.user}`, quantity: 2 }];
      session.visits = 1;
      // Every other user ticked "remember me".
      if (Number(req.params.user!.slice(4)) % 2 === 0) req.session.cookie.maxAge = 30 * DAY;
      req.session.save((saveError) => (saveError ? next(saveError) : res.json({ ok: true })));
    });
  });
  app.get('/me', (req: Request, res: Response) => {
    const session = req.session as unknown as Record<string, unknown>;
    res.json({ user: session.user ?? null, cart: session.cart ?? null, visits: session.visits ?? null });
  });
  app.get('/set/:name', (req: Request, res: Response) => {
    (req.session as unknown as Record<string, unknown>)[req.params.name!] = true;
    res.json({ ok: true });
  });
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: error.message });
  });
}

async function serve(build: (app: Express) => void): Promise<{ base: string; server: Server }> {
  const app = express();
  build(app);
  routes(app);
  const httpServer = createServer(app);
  return { base: await listen(httpServer), server: httpServer };
}

/** One user's browser: the session cookie it holds. */
class User {
  cookie = '';
  constructor(readonly name: string) {}
  async get(base: string, path: string): Promise<Record<string, unknown>> {
    const response = await fetch(base + path, { headers: this.cookie ? { cookie: this.cookie } : {} });
    for (const line of response.headers.getSetCookie()) this.cookie = line.split(';')[0]!;
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  }
  get sid(): string {
    return decodeURIComponent(this.cookie.slice(NAME.length + 1))
      .replace(/^s:/, '')
      .split('.')[0]!;
  }
}

interface Backend {
  name: string;
  oldStore(): LegacyStore;
  newStore(): Store;
  /** How many of these ids the old store still holds, read straight from its server. */
  oldCount(ids: string[]): Promise<number>;
  cleanup(): Promise<void>;
}

const redisPrefix = `${uniqueGroup('sess')}:`;
const redis = new Redis(redisUrl);
const mongoDatabase = `unisession_migrate_${randomBytes(4).toString('hex')}`;
const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
const toClose: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const closeOne of toClose.reverse()) await closeOne().catch(() => undefined);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await mongo.db(mongoDatabase).dropDatabase();
  await mongo.close();
});

const backends: Backend[] = [
  {
    name: 'connect-redis',
    oldStore: () => new RedisSessionStore({ client: redis, prefix: redisPrefix }) as never,
    newStore: () => redisStore({ url: redisUrl, group: uniqueGroup() }),
    oldCount: async (ids) =>
      ids.length === 0 ? 0 : await redis.exists(...ids.map((id) => redisPrefix + id)),
    cleanup: async () => undefined,
  },
  {
    name: 'connect-mongo',
    oldStore: () => {
      const store = MongoSessionStore.create({ mongoUrl, dbName: mongoDatabase, collectionName: 'sessions' });
      toClose.push(() => store.close());
      return store as never;
    },
    newStore: () => mongodbStore({ url: mongoUrl, database: mongoDatabase, group: uniqueGroup() }),
    oldCount: (ids) =>
      mongo
        .db(mongoDatabase)
        .collection('sessions')
        .countDocuments({ _id: { $in: ids } } as never),
    cleanup: async () => undefined,
  },
];

for (const backend of backends) {
  describe(`switching from express-session + ${backend.name}`, () => {
    const oldStore = backend.oldStore();
    const newStore = backend.newStore();
    const users = Array.from({ length: USERS }, (_, i) => new User(`user${i}`));
    const before = new Map<string, { expires: number | null; originalMaxAge: number | null }>();
    let unisessionBase = '';

    it(`an express-session app logs in ${USERS} users over HTTP`, async () => {
      const old = await serve((app) =>
        app.use(
          expressSession({
            name: NAME,
            secret: SECRET,
            store: oldStore as never,
            resave: false,
            saveUninitialized: false,
            cookie: { maxAge: DAY },
          }),
        ),
      );
      await Promise.all(users.map((user) => user.get(old.base, `/login/${user.name}`)));
      for (const user of users) assert.deepEqual((await user.get(old.base, '/me')).user, user.name);
      await close(old.server);
      assert.equal(await backend.oldCount(users.map((user) => user.sid)), USERS);
      for (const user of users) {
        assert.match(user.cookie, /^connect\.sid=s%3A/, 'express-session’s own cookie format');
        const stored = await new Promise<LegacySession | null | undefined>((resolve, reject) =>
          oldStore.get(user.sid, (error, value) => (error ? reject(error) : resolve(value))),
        );
        const cookie = stored!.cookie!;
        before.set(user.sid, {
          expires: cookie.expires ? new Date(cookie.expires).getTime() : null,
          originalMaxAge: cookie.originalMaxAge ?? null,
        });
      }
    });

    it('the unisession app with the same secret serves every one of them, logged in, attributes and expiry kept', async () => {
      const app = await serve((express) => {
        const middleware = unisession({
          name: NAME,
          secret: SECRET,
          store: newStore,
          migrateFrom: oldStore,
          sweeper: false,
          cookie: { maxAge: DAY },
        });
        toClose.push(() => middleware.manager.close());
        express.use(middleware);
      });
      toClose.push(() => close(app.server));
      unisessionBase = app.base;
      const sids = users.map((user) => user.sid);
      const bodies = await Promise.all(users.map((user) => user.get(app.base, '/me')));
      users.forEach((user, i) => {
        assert.deepEqual(bodies[i], {
          user: user.name,
          cart: [{ sku: `sku-${user.name}`, quantity: 2 }],
          visits: 1,
        });
        assert.doesNotMatch(user.cookie, /s%3A/, 'the cookie is re-issued in unisession’s format');
        assert.equal(user.sid, sids[i], 'the same session, not a copy under a new id');
      });
      for (const user of users) {
        const loaded = await newStore.load(user.sid, 'all', Date.now());
        assert.ok(loaded, `${user.name} is in the unisession store`);
        const old = before.get(user.sid)!;
        assert.equal(loaded.meta.expiresAt, old.expires, 'the expiry carried over');
        assert.equal(
          loaded.meta.maxInactive,
          old.originalMaxAge,
          'the lifetime ("remember me" or not) carried over',
        );
        // One attribute per top-level key; `cookie` only where it differs from the configured one ("remember me").
        const remembered = Number(user.name.slice(4)) % 2 === 0;
        const keys = ['app:cart', ...(remembered ? ['app:cookie'] : []), 'app:user', 'app:visits'];
        assert.deepEqual([...loaded.attributes.keys()].sort(), keys);
        if (remembered) {
          const { originalMaxAge } = JSON.parse(loaded.attributes.get('app:cookie')!) as {
            originalMaxAge: number;
          };
          assert.ok(Math.abs(originalMaxAge - 30 * DAY) < 5_000, 'the 30-day cookie stays a 30-day cookie');
        }
      }
      assert.equal(await backend.oldCount(sids), 0, 'the old store is empty of them');
    });

    it('later requests use the new cookie and the new store only', async () => {
      for (const user of users.slice(0, 10)) {
        assert.equal((await user.get(unisessionBase, '/me')).user, user.name);
        assert.match(user.cookie, /^connect\.sid=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$/);
      }
    });

    it('concurrent first requests of one user migrate it once and lose none of their writes', async () => {
      const express = await serve((app) =>
        app.use(
          expressSession({
            name: NAME,
            secret: SECRET,
            store: oldStore as never,
            resave: false,
            saveUninitialized: false,
          }),
        ),
      );
      const user = new User('user7');
      await user.get(express.base, '/login/user7');
      await close(express.server);
      const legacy = user.cookie;
      const writes = Array.from({ length: 8 }, (_, i) => `flag${i}`);
      await Promise.all(
        writes.map((name) =>
          fetch(`${unisessionBase}/set/${name}`, { headers: { cookie: legacy } }).then((r) => r.json()),
        ),
      );
      const loaded = await newStore.load(user.sid, 'all', Date.now());
      assert.ok(loaded);
      for (const name of writes) assert.equal(loaded.attributes.get(`app:${name}`), 'true', name);
      assert.equal(loaded.attributes.get('app:user'), '"user7"');
      assert.equal(await backend.oldCount([user.sid]), 0);
    });

    it('a validly signed id the old store never had is not adopted (no session fixation)', async () => {
      const planted = randomBytes(24).toString('base64url');
      const cookie = `${NAME}=${encodeURIComponent(`s:${planted}.${legacySignature(planted, SECRET)}`)}`;
      const response = await fetch(`${unisessionBase}/set/x`, { headers: { cookie } });
      assert.equal(response.status, 200);
      const issued = response.headers.getSetCookie().map((line) => line.split(';')[0]!);
      assert.ok(
        issued.some((line) => line.startsWith(`${NAME}=`) && !line.includes(planted)),
        'a new id',
      );
      assert.equal(await newStore.load(planted, [], Date.now()), null);
    });
  });
}
