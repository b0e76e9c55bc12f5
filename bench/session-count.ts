/**
 * The session-count table (`npm run bench -- --sessions`): how unisession behaves with 1,000,
 * 100,000 (and, with BENCH_MILLION=1, 1,000,000) live sessions on SQLite and on Redis.
 * Per count and store: the time to seed them (Redis: the store's own `create`, 500 at a time;
 * SQLite: one `create`, then copies of its rows in one transaction), req/s of
 * the node:http adapter reading random ones, the store's memory (Redis: MEMORY USAGE sampled
 * over the group's keys) and disk (SQLite: the file and its WAL), and the sweeper's time to
 * expire 10,000 sessions. Sessions are small (10 attributes of 20 bytes) so that a million fit
 * a shared development Redis.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSessionId } from '../src/core/id.js';
import { IdSigner } from '../src/core/signing.js';
import type { Store } from '../src/core/store.js';
import { startNode, stopNode } from '../test/helpers/processes.js';
import { clearRedisPrefix } from './clear.js';
import { library } from './library.js';
import { measure } from './load.js';

const redisUrl = process.env.REDIS_URL ?? '';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const COUNTS = [1000, 100_000, ...(process.env.BENCH_MILLION === '1' ? [1_000_000] : [])];
const EXPIRED = 10_000;
const signer = new IdSigner('bench');

export interface CountRow {
  store: string;
  sessions: number;
  seedSeconds: number;
  requestsPerSecond: number;
  memoryMB: number | null;
  diskMB: number | null;
  sweepMsPer10k: number;
}

function meta(id: string, now: number, expiresAt: number) {
  return {
    id,
    app: 'bench',
    createdAt: now,
    lastAccessedAt: now,
    maxInactive: 3_600_000,
    expiresAt,
    absoluteExpiresAt: null,
    principal: null,
    host: 'bench',
    clientAddress: '127.0.0.1',
    userAgent: 'bench',
    createdUrl: '/',
    lastUrl: '/',
    lastHost: 'bench',
  };
}

const attributes = new Map(Array.from({ length: 10 }, (_, i) => [`:a${i}`, JSON.stringify('x'.repeat(18))]));

/** Creates `count` sessions, `parallel` at a time (Redis pipelines them); returns some ids. */
async function seedSessions(
  store: Store,
  count: number,
  expiresAt: number,
  parallel: number,
): Promise<string[]> {
  const sample: string[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i += parallel) {
    const ids = Array.from({ length: Math.min(parallel, count - i) }, () => generateSessionId());
    await Promise.all(ids.map((id) => store.create(meta(id, now, expiresAt), attributes)));
    if (sample.length < 1000) sample.push(...ids.slice(0, 1000 - sample.length));
  }
  return sample;
}

/**
 * SQLite: one session through the store's own `create` (so its rows are exactly what the store
 * writes), then `count - 1` copies of its rows under new ids, in one transaction. One `create`
 * at a time is a transaction each: 100,000 took 330 s, a million would take an hour.
 */
async function seedSqliteCopies(
  store: Store,
  file: string,
  group: string,
  count: number,
  expiresAt: number,
): Promise<string[]> {
  const template = generateSessionId();
  await store.create(meta(template, Date.now(), expiresAt), attributes);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    const sessions = `"${group}_sessions"`;
    const attributeRows = `"${group}_attributes"`;
    const columns = (db.prepare(`PRAGMA table_info(${sessions})`).all() as Array<{ name: string }>)
      .map((column) => `"${column.name}"`)
      .filter((column) => column !== '"id"')
      .join(', ');
    const copySession = db.prepare(
      `INSERT INTO ${sessions} (id, ${columns}) SELECT ?, ${columns} FROM ${sessions} WHERE id = ?`,
    );
    const copyAttributes = db.prepare(
      `INSERT INTO ${attributeRows} (session_id, key, value) SELECT ?, key, value FROM ${attributeRows} WHERE session_id = ?`,
    );
    const sample = [template];
    db.transaction(() => {
      for (let i = 1; i < count; i++) {
        const id = generateSessionId();
        copySession.run(id, template);
        copyAttributes.run(id, template);
        if (sample.length < 1000) sample.push(id);
      }
    })();
    return sample;
  } finally {
    db.close();
  }
}

async function redisMemoryMB(group: string, sample: string[], count: number): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  try {
    let sessionBytes = 0;
    for (const id of sample.slice(0, 200))
      sessionBytes += Number(await redis.memory('USAGE', `${group}:{${id}}`, 'SAMPLES', '0'));
    const perSession = sessionBytes / Math.min(200, sample.length);
    let indexBytes = 0;
    for (const key of await redis.keys(`${group}:#*`))
      indexBytes += Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
    return (perSession * count + indexBytes) / 1_048_576;
  } finally {
    redis.disconnect();
  }
}

const fileMB = (file: string) => {
  let bytes = 0;
  for (const path of [file, `${file}-wal`]) {
    try {
      bytes += statSync(path).size;
    } catch {
      // no WAL file
    }
  }
  return bytes / 1_048_576;
};

async function countCell(kind: 'sqlite' | 'redis', count: number, dir: string): Promise<CountRow> {
  const group = `benchc${count}${kind}`;
  const file = join(dir, `${group}.sqlite`);
  const { sqliteStore } = await library<typeof import('../src/stores/sqlite.js')>('stores/sqlite.js');
  const { redisStore } = await library<typeof import('../src/stores/redis.js')>('stores/redis.js');
  const { createSessionManager } = await library<typeof import('../src/index.js')>('index.js');
  if (kind === 'redis') await clearRedisPrefix(redisUrl, `${group}:`);
  const store = kind === 'sqlite' ? sqliteStore({ file, group }) : redisStore({ url: redisUrl, group });
  try {
    const started = performance.now();
    const live = Date.now() + 3_600_000;
    const sample =
      kind === 'sqlite'
        ? await seedSqliteCopies(store, file, group, count, live)
        : await seedSessions(store, count, live, 500);
    const seedSeconds = (performance.now() - started) / 1000;
    const node = await startNode('bench/node-server.ts', {
      SYSTEM: 'unisession-node',
      STORE_URL: redisUrl,
      GROUP: group,
      ...(kind === 'sqlite' ? { SQLITE_FILE: file } : {}),
    });
    let requestsPerSecond = 0;
    try {
      const cookies = sample.map((id) => `unisession=${encodeURIComponent(signer.sign(id))}`);
      const base = `http://127.0.0.1:${node.port}`;
      await measure(base, '/read', cookies, 1);
      requestsPerSecond = (await measure(base, '/read', cookies, SECONDS)).requestsPerSecond;
    } finally {
      await stopNode(node);
    }
    const memoryMB = kind === 'redis' ? await redisMemoryMB(group, sample, count) : null;
    const diskMB = kind === 'sqlite' ? fileMB(file) : null;
    const expired = Date.now() - 1000;
    if (kind === 'sqlite') await seedSqliteCopies(store, file, group, EXPIRED, expired);
    else await seedSessions(store, EXPIRED, expired, 500);
    const manager = createSessionManager({
      app: 'bench',
      secret: 'bench',
      store,
      sweeper: { interval: 3_600_000, batchSize: 500 },
    });
    const sweepStarted = performance.now();
    let swept = 0;
    while (swept < EXPIRED) {
      const n = await manager.sweep();
      if (n === 0) break;
      swept += n;
    }
    const sweepMsPer10k = ((performance.now() - sweepStarted) * 10_000) / Math.max(1, swept);
    return { store: kind, sessions: count, seedSeconds, requestsPerSecond, memoryMB, diskMB, sweepMsPer10k };
  } finally {
    await store.close();
    if (kind === 'redis') await clearRedisPrefix(redisUrl, `${group}:`);
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
  }
}

export async function sessionCountTable(): Promise<CountRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'unisession-bench-'));
  const rows: CountRow[] = [];
  for (const count of COUNTS) {
    for (const kind of ['sqlite', 'redis'] as const) {
      rows.push(await countCell(kind, count, dir));
      console.error(`done: ${count} sessions on ${kind}`);
    }
  }
  return rows;
}

export function printCountTable(rows: CountRow[]): void {
  console.log('\n### Session count: live sessions on SQLite and Redis\n');
  console.log(
    '| store | live sessions | seed s | req/s (node:http reads) | store memory MB | disk MB | sweeper ms / 10,000 expired |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) {
    console.log(
      `| ${row.store} | ${row.sessions.toLocaleString('en')} | ${row.seedSeconds.toFixed(1)} | ${row.requestsPerSecond.toFixed(0)} | ${row.memoryMB?.toFixed(1) ?? '-'} | ${row.diskMB?.toFixed(1) ?? '-'} | ${row.sweepMsPer10k.toFixed(0)} |`,
    );
  }
}
