/**
 * A node:http benchmark contestant, in a process of its own: unisession's node adapter
 * (`unisession-node`) or the same server without sessions (`bare-node`). Env: SYSTEM,
 * STORE_URL, SHAPE; GROUP (sessions seeded by bench/session-count.ts, kept) or none (a new,
 * empty group); SQLITE_FILE to use SQLite instead of Redis. Same routes as express-server.ts.
 * Prints "listening <port>".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Session } from '../src/core/session.js';
import { CACHE } from './cache-size.js';
import { clearRedisPrefix } from './clear.js';
import { library } from './library.js';
import { meterStoreTraffic } from './meter.js';
import { readOne, type Shape, sessionValues } from './shapes.js';

const system = process.env.SYSTEM ?? '';
const storeUrl = process.env.STORE_URL ?? '';
const shape = (process.env.SHAPE ?? 'strings') as Shape;
const takeStoreTraffic = meterStoreTraffic(Number(new URL(storeUrl).port));
const sqliteFile = process.env.SQLITE_FILE;

type Attach = (req: IncomingMessage, res: ServerResponse) => Session | undefined;

async function sessions(): Promise<Attach> {
  if (system === 'bare-node') return () => undefined;
  if (system !== 'unisession-node') throw new Error(`unknown SYSTEM ${system}`);
  const group = process.env.GROUP ?? 'benchn';
  if (!process.env.GROUP && !sqliteFile) await clearRedisPrefix(storeUrl, `${group}:`);
  const { nodeSessions } = await library<typeof import('../src/adapters/node.js')>('adapters/node.js');
  const { redisStore } = await library<typeof import('../src/stores/redis.js')>('stores/redis.js');
  const { sqliteStore } = await library<typeof import('../src/stores/sqlite.js')>('stores/sqlite.js');
  const node = nodeSessions({
    app: 'bench',
    secret: 'bench',
    sweeper: false,
    store: sqliteFile ? sqliteStore({ file: sqliteFile, group }) : redisStore({ url: storeUrl, group }),
    cookie: { persistent: true },
    cache: CACHE,
  });
  return (req, res) => node.attach(req, res);
}

const attach = await sessions();

async function handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/__bench/stats') return takeStoreTraffic();
  if (url.pathname === '/plain') return { ok: true };
  const session = attach(req, res);
  if (url.pathname === '/seed') {
    const values = sessionValues(shape, Number(url.searchParams.get('size')));
    for (const [name, value] of Object.entries(values)) await session?.set(name, value);
    return { ok: true };
  }
  if (url.pathname === '/read') {
    // What the handler reads, decoded; the adapter decodes nothing else.
    const values = new Map<string, unknown>();
    for (const name of shape === 'strings' ? ['a3'] : ['profile']) values.set(name, await session?.get(name));
    return readOne(shape, (name) => values.get(name));
  }
  if (url.pathname === '/write') {
    const counter = Number((await session?.get('counter')) ?? 0) + 1;
    await session?.set('counter', counter);
    return { counter };
  }
  res.statusCode = 404;
  return { error: 'not found' };
}

const server = createServer((req, res) => {
  handle(req, res).then(
    (body) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    },
    () => {
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    },
  );
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
