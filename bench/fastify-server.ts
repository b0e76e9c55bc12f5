/**
 * One Fastify benchmark contestant, in a process of its own, written as a user of that plugin
 * would write it: unisession's plugin, or @fastify/session with connect-redis (or, as
 * `bare-fastify`, no sessions). Env: SYSTEM, STORE_URL, SHAPE. Same routes as
 * express-server.ts. Prints "listening <port>".
 *
 * The anchor runs with `rolling: false, saveUninitialized: false`, its cheapest correct
 * setting: with its defaults (`rolling: true`) it would rewrite every session on every request.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { CACHE } from './cache-size.js';
import { clearRedisPrefix } from './clear.js';
import { library } from './library.js';
import { meterStoreTraffic } from './meter.js';
import { readOne, type Shape, sessionValues } from './shapes.js';

const system = process.env.SYSTEM ?? '';
const storeUrl = process.env.STORE_URL ?? '';
const shape = (process.env.SHAPE ?? 'strings') as Shape;
const MAX_AGE = 3_600_000;
const SECRET = 'bench-secret-bench-secret-bench-secret';

/** The session API both plugins share: `request.session.get/set`. */
interface SyncSession {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

async function register(app: FastifyInstance): Promise<void> {
  if (system === 'unisession-fastify') {
    await clearRedisPrefix(storeUrl, 'benchfu:');
    const { unisession } = await library<typeof import('../src/adapters/fastify.js')>('adapters/fastify.js');
    const { redisStore } = await library<typeof import('../src/stores/redis.js')>('stores/redis.js');
    await app.register(unisession, {
      app: 'bench',
      secret: SECRET,
      store: redisStore({ url: storeUrl, group: 'benchfu' }),
      maxInactive: MAX_AGE,
      cookie: { persistent: true },
      cache: CACHE,
    });
  } else if (system === '@fastify/session+connect-redis') {
    await clearRedisPrefix(storeUrl, 'benchfx:');
    // Through a variable: @fastify/session's types redeclare `request.session` for the whole
    // program, which would clash with unisession's own declaration.
    const sessionPlugin = '@fastify/session';
    const { default: fastifySession } = (await import(sessionPlugin)) as {
      default: Parameters<FastifyInstance['register']>[0];
    };
    const { default: fastifyCookie } = await import('@fastify/cookie');
    const { default: RedisStore } = await import('connect-redis');
    const { Redis } = await import('ioredis');
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: SECRET,
      store: new RedisStore({ client: new Redis(storeUrl), prefix: 'benchfx:' }),
      saveUninitialized: false,
      rolling: false,
      cookie: { secure: false, maxAge: MAX_AGE },
    });
  } else if (system !== 'bare-fastify') {
    throw new Error(`unknown SYSTEM ${system}`);
  }
}

const takeStoreTraffic = meterStoreTraffic(Number(new URL(storeUrl).port));
const app = Fastify();
await register(app);
const session = (request: unknown) => (request as { session: SyncSession }).session;

app.get<{ Querystring: { size: string } }>('/seed', async (request) => {
  for (const [name, value] of Object.entries(sessionValues(shape, Number(request.query.size))))
    session(request).set(name, value);
  return { ok: true };
});
app.get('/read', async (request) => readOne(shape, (name) => session(request)?.get(name)));
app.get('/plain', async () => ({ ok: true }));
app.get('/write', async (request) => {
  const counter = Number(session(request).get('counter') ?? 0) + 1;
  session(request).set('counter', counter);
  return { counter };
});
app.get('/__bench/stats', async () => takeStoreTraffic());
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`listening ${(app.server.address() as AddressInfo).port}`);
