/**
 * Fastify + Redis: unisession's Fastify plugin side by side with @fastify/session +
 * connect-redis (ioredis), on the same Redis. `runFastifyBench()` is called by the main
 * runner (bench/index.ts); run this file directly for the Fastify table alone:
 *
 *   . ./.services/env && node --import tsx bench/fastify.ts
 *
 * Each contestant is a process of its own (this file, with BENCH_FASTIFY_SYSTEM set), written
 * as a user of that library would write it. Each cell: 1000 sessions of 2 KB or 20 KB (10
 * attributes), then autocannon on a read-only route (/read) and on a route that changes one
 * small attribute (/write). Store bytes are counted on the store socket of the app process.
 *
 * The anchor runs with `rolling: false, saveUninitialized: false`, its cheapest correct
 * setting: with its defaults (`rolling: true`) it would rewrite every session on every request.
 */
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { type Node, startNode, stopNode } from '../test/helpers/processes.js';
import { library } from './library.js';
import { bytesPerRequest, measure, seed } from './load.js';

export interface Row {
  suite: string;
  size: string;
  workload: 'read' | 'write';
  system: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  bytesPerRequest: number;
  errors: number;
  /** Our req/s over the anchor's, on the same cell (only on our rows). */
  ratio?: number;
}

export interface FastifyBenchOptions {
  /** @default process.env.REDIS_URL */
  redisUrl?: string;
  /** autocannon duration per cell, in seconds. @default 5 */
  seconds?: number;
  /** Sessions created per cell. @default 1000 */
  sessions?: number;
  /** Session sizes in bytes. @default [2048, 20480] */
  sizes?: number[];
}

const OURS = 'unisession-fastify';
const ANCHOR = '@fastify/session+connect-redis';
const SUITE = 'fastify + redis';
const ATTRIBUTES = 10;
const BYTE_SAMPLE = 200;
const MAX_AGE = 3_600_000;

/** Runs every cell and returns the rows, anchor first, with our ratio to it. */
export async function runFastifyBench(options: FastifyBenchOptions = {}): Promise<Row[]> {
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL;
  if (!redisUrl) throw new Error('fastify bench: REDIS_URL is not set (. ./.services/env)');
  const seconds = options.seconds ?? 5;
  const sessions = options.sessions ?? 1000;
  const rows: Row[] = [];
  for (const size of options.sizes ?? [2048, 20480]) {
    const anchorRows = await runContestant(ANCHOR, redisUrl, size, seconds, sessions);
    const ourRows = await runContestant(OURS, redisUrl, size, seconds, sessions);
    for (const row of ourRows) {
      const peer = anchorRows.find((a) => a.workload === row.workload)!;
      row.ratio = row.requestsPerSecond / peer.requestsPerSecond;
    }
    rows.push(...anchorRows, ...ourRows);
  }
  return rows;
}

async function runContestant(
  system: string,
  redisUrl: string,
  size: number,
  seconds: number,
  sessions: number,
): Promise<Row[]> {
  const node: Node = await startNode('bench/fastify.ts', {
    BENCH_FASTIFY_SYSTEM: system,
    STORE_URL: redisUrl,
  });
  const base = `http://127.0.0.1:${node.port}`;
  try {
    const cookies = await seed(base, sessions, size);
    const rows: Row[] = [];
    for (const workload of ['read', 'write'] as const) {
      // A sequential sample for the store byte count, then the timed load.
      await bytesPerRequest(base, 0);
      for (let i = 0; i < BYTE_SAMPLE; i++)
        await fetch(`${base}/${workload}`, { headers: { cookie: cookies[i % cookies.length]! } });
      const bytes = await bytesPerRequest(base, BYTE_SAMPLE);
      await measure(base, `/${workload}`, cookies, 1); // warm-up: JIT and connection pools
      const measured = await measure(base, `/${workload}`, cookies, seconds);
      rows.push({
        suite: SUITE,
        size: `${size / 1024} KB`,
        workload,
        system,
        ...measured,
        bytesPerRequest: bytes,
      });
    }
    return rows;
  } finally {
    await stopNode(node);
  }
}

// ---------------------------------------------------------------- one contestant's server

/** The session API both plugins share: `request.session.get/set`. */
interface SyncSession {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

async function serve(system: string, storeUrl: string): Promise<void> {
  // Count what the store driver writes to the store's socket: the same meter for both.
  const storePort = Number(new URL(storeUrl).port);
  let bytesToStore = 0;
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function countingWrite(this: net.Socket, chunk: unknown, ...rest: unknown[]) {
    if (this.remotePort === storePort && chunk) bytesToStore += Buffer.byteLength(chunk as string | Buffer);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;

  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  await register(app, system, storeUrl);
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
  app.get('/__bench/bytes', async () => {
    const bytes = bytesToStore;
    bytesToStore = 0;
    return { bytes };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`listening ${(app.server.address() as AddressInfo).port}`);
}

async function register(app: FastifyInstance, system: string, storeUrl: string): Promise<void> {
  if (system === OURS) {
    const { unisession } = await library<typeof import('../src/adapters/fastify.js')>('adapters/fastify.js');
    const { redisStore } = await library<typeof import('../src/stores/redis.js')>('stores/redis.js');
    await app.register(unisession, {
      app: 'bench',
      secret: 'bench-secret-bench-secret-bench-secret',
      store: redisStore({ url: storeUrl, group: 'benchfu' }),
      maxInactive: MAX_AGE,
      cookie: { persistent: true },
    });
    return;
  }
  if (system === ANCHOR) {
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
      secret: 'bench-secret-bench-secret-bench-secret',
      store: new RedisStore({ client: new Redis(storeUrl), prefix: 'benchfx:' }),
      saveUninitialized: false,
      rolling: false,
      cookie: { secure: false, maxAge: MAX_AGE },
    });
    return;
  }
  throw new Error(`unknown BENCH_FASTIFY_SYSTEM ${system}`);
}

// ---------------------------------------------------------------- standalone

function printTable(rows: Row[]): void {
  const header = [
    'session',
    'workload',
    'system',
    'req/s',
    'p50 ms',
    'p99 ms',
    'store B/req',
    'errors',
    'ratio',
  ];
  const lines = rows.map((row) => [
    row.size,
    row.workload,
    row.system,
    row.requestsPerSecond.toFixed(0),
    row.p50.toFixed(1),
    row.p99.toFixed(1),
    row.bytesPerRequest.toFixed(0),
    String(row.errors),
    row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}

const system = process.env.BENCH_FASTIFY_SYSTEM;
if (system) {
  await serve(system, process.env.STORE_URL ?? '');
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runFastifyBench({
    seconds: process.env.BENCH_SECONDS ? Number(process.env.BENCH_SECONDS) : undefined,
    sessions: process.env.BENCH_SESSIONS ? Number(process.env.BENCH_SESSIONS) : undefined,
  });
  printTable(rows);
}
