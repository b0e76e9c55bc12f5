/**
 * One Fastify benchmark contestant, in a process of its own, written as a user of that plugin
 * would write it: unisession's plugin, or @fastify/session with connect-redis. Env: SYSTEM,
 * STORE_URL. Same routes as express-server.ts. Prints "listening <port>".
 *
 * The anchor runs with `rolling: false, saveUninitialized: false`, its cheapest correct
 * setting: with its defaults (`rolling: true`) it would rewrite every session on every request.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { clearRedisPrefix } from './clear.js';
import { library } from './library.js';
import { meterStoreBytes } from './meter.js';

const system = process.env.SYSTEM ?? '';
const storeUrl = process.env.STORE_URL ?? '';
const ATTRIBUTES = 10;
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
  } else {
    throw new Error(`unknown SYSTEM ${system}`);
  }
}

const takeStoreBytes = meterStoreBytes(Number(new URL(storeUrl).port));
const app = Fastify();
await register(app);
const session = (request: unknown) => (request as { session: SyncSession }).session;

app.get<{ Querystring: { size: string } }>('/seed', async (request) => {
  const size = Number(request.query.size);
  for (let i = 0; i < ATTRIBUTES; i++) session(request).set(`a${i}`, `${i}`.padEnd(size / ATTRIBUTES, 'x'));
  session(request).set('counter', 0);
  return { ok: true };
});
app.get('/read', async (request) => ({ length: String(session(request).get('a3') ?? '').length }));
app.get('/write', async (request) => {
  const counter = Number(session(request).get('counter') ?? 0) + 1;
  session(request).set('counter', counter);
  return { counter };
});
app.get('/__bench/bytes', async () => ({ bytes: takeStoreBytes() }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`listening ${(app.server.address() as AddressInfo).port}`);
