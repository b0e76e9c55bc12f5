/**
 * The monitoring centre's queries at scale: 100,000 sessions in one group on SQLite,
 * PostgreSQL, MongoDB and Redis, then the time of
 * - `stats()` (the overview: counts, users online, histograms, per host, sweeper, health),
 * - the first page of a principal search, newest access first,
 * - the first page of an "idle longer than 10 minutes" search, newest access first,
 * - the dry-run count of that idle search (what "delete by query" shows before it runs),
 * each run REPS times (median and worst), with this process's heap sampled around them: the
 * monitor must never load every session, so the heap stays flat whatever the count.
 *
 *   node --import tsx scripts/servers.ts exec redis postgres mongo -- \
 *     node --import tsx bench/monitor-queries.ts
 *
 * Environment: BENCH_SESSIONS (default 100000), BENCH_REPS (default 5), BENCH_ONLY (run only
 * the stores whose name contains it). Every run uses a fresh group and removes it afterwards.
 * Seeding goes through the store's own `create`, as the app would write them (so Redis
 * builds its indexes in its scripts), 200 at a time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { jsonCodec } from '../src/codec/json.js';
import { SessionManager } from '../src/core/manager.js';
import type { SessionMeta, Store } from '../src/core/store.js';
import { mongodbStore } from '../src/stores/mongodb.js';
import { postgresStore } from '../src/stores/postgres.js';
import { redisStore } from '../src/stores/redis.js';
import { sqliteStore } from '../src/stores/sqlite.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const ONLY = process.env.BENCH_ONLY ?? '';
const USERS = Math.round(SESSIONS / 5);
const MINUTE = 60_000;

interface Contestant {
  name: string;
  open(group: string): Store;
  /** Removes what the run wrote (its own group only). */
  clean(group: string): Promise<void>;
}

const contestants: Contestant[] = [
  {
    name: 'sqlite',
    open: (group) => {
      const dir = mkdtempSync(join(tmpdir(), 'unisession-bench-'));
      cleanups.set(group, () => rmSync(dir, { recursive: true, force: true }));
      return sqliteStore({ file: join(dir, 'sessions.sqlite'), group });
    },
    clean: async (group) => cleanups.get(group)?.(),
  },
  {
    name: 'postgres',
    open: (group) => postgresStore({ url: need('PG_URL'), group }),
    clean: async (group) => {
      const client = new pg.Client({ connectionString: need('PG_URL') });
      await client.connect();
      for (const table of ['attributes', 'sessions', 'leases', 'audit', 'state'])
        await client.query(`DROP TABLE IF EXISTS "${group}_${table}" CASCADE`);
      await client.end();
    },
  },
  {
    name: 'mongodb',
    open: (group) => mongodbStore({ url: need('MONGO_URL'), group }),
    clean: async (group) => {
      const client = await MongoClient.connect(need('MONGO_URL'));
      const db = client.db();
      for (const name of ['sessions', 'leases', 'audit', 'state'])
        await db
          .collection(`${group}_${name}`)
          .drop()
          .catch(() => undefined);
      await client.close();
    },
  },
  {
    name: 'redis',
    open: (group) => redisStore({ url: need('REDIS_URL'), group }),
    clean: async (group) => {
      const redis = new Redis(need('REDIS_URL'));
      // Only this run's group: its keys all start with `<group>:`.
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${group}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
      redis.disconnect();
    },
  },
];

const cleanups = new Map<string, () => void>();

function need(variable: string): string {
  const value = process.env[variable];
  if (!value)
    throw new Error(`${variable} is not set: run this through scripts/servers.ts exec (see the header)`);
  return value;
}

/** The i-th session: two apps, 4 nodes, 70% signed in (about 3.5 sessions per user), active over the last 2 hours. */
function sessionAt(i: number, now: number): SessionMeta {
  const lastAccessedAt = now - Math.floor(((i * 7919) % 7200) * 1000);
  const createdAt = lastAccessedAt - ((i * 104729) % (7 * 24 * 3600)) * 1000;
  return {
    id: `${randomBytes(18).toString('base64url')}`,
    app: i % 2 ? 'shop' : 'blog',
    createdAt,
    lastAccessedAt,
    maxInactive: 4 * 3_600_000,
    expiresAt: lastAccessedAt + 4 * 3_600_000,
    absoluteExpiresAt: null,
    principal: i % 10 < 7 ? `user-${i % USERS}` : null,
    host: `node-${i % 4}`,
    clientAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
    createdUrl: '/login',
    lastUrl: '/cart',
    lastHost: `node-${(i + 1) % 4}`,
  };
}

async function seed(store: Store, now: number): Promise<number> {
  const started = performance.now();
  const attributes = new Map([[':user', '"someone"']]);
  for (let i = 0; i < SESSIONS; i += 200) {
    const batch = Array.from({ length: Math.min(200, SESSIONS - i) }, (_, j) => sessionAt(i + j, now));
    await Promise.all(batch.map((meta) => store.create(meta, attributes)));
    if ((i / 200) % 50 === 0) process.stderr.write(`\r  seeded ${i}/${SESSIONS}`);
  }
  process.stderr.write('\n');
  return performance.now() - started;
}

interface Timing {
  median: number;
  worst: number;
  /** The largest heap growth seen during the runs, in MB. */
  heapGrowthMb: number;
  result: string;
}

async function time(label: string, run: () => Promise<string>): Promise<Timing> {
  const durations: number[] = [];
  let result = '';
  let peak = 0;
  global.gc?.();
  const base = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  }, 5);
  for (let rep = 0; rep < REPS; rep++) {
    const started = performance.now();
    try {
      result = await run();
    } catch (error) {
      // A query the server could not answer is a row too (mongo-java-server may time out).
      result = `failed: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.name : error.message) : String(error)}`;
    }
    durations.push(performance.now() - started);
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    if (result.startsWith('failed')) break;
  }
  clearInterval(sampler);
  durations.sort((a, b) => a - b);
  process.stderr.write(`  ${label}: ${durations.map((d) => d.toFixed(1)).join(' ')} ms\n`);
  return {
    median: durations[Math.floor(durations.length / 2)]!,
    worst: durations[durations.length - 1]!,
    heapGrowthMb: Math.max(0, peak) / 1_048_576,
    result,
  };
}

const rows: string[] = [];

for (const contestant of contestants) {
  if (ONLY && !contestant.name.includes(ONLY)) continue;
  const group = `bench${randomBytes(4).toString('hex')}`;
  const store = contestant.open(group);
  const manager = new SessionManager({
    app: 'monitor',
    store,
    codec: jsonCodec(),
    sweeper: false,
    secret: 'bench',
  });
  try {
    process.stderr.write(`${contestant.name} (group ${group})\n`);
    const now = Date.now();
    const seedMs = await seed(store, now);
    const principal = `user-${Math.floor(USERS / 2)}`;
    const timings: Array<[string, Timing]> = [
      [
        'stats()',
        await time('stats', async () => {
          const stats = await manager.stats();
          return `live ${stats.live}, online ${stats.usersOnline}`;
        }),
      ],
      [
        'principal search, first page',
        await time('principal', async () => {
          const page = await manager.list({ principal, sort: 'lastAccessedAt', limit: 50 });
          return `${page.sessions.length} sessions`;
        }),
      ],
      [
        'idle > 10 min, first page',
        await time('idle', async () => {
          const page = await manager.list({ idleLongerThan: 10 * MINUTE, sort: 'lastAccessedAt', limit: 50 });
          return `${page.sessions.length} sessions`;
        }),
      ],
      [
        'idle > 10 min, dry-run count',
        await time(
          'idle count',
          async () => `${await manager.destroyWhere({ idleLongerThan: 10 * MINUTE }, { dryRun: true })}`,
        ),
      ],
    ];
    for (const [query, timing] of timings) {
      const met = timing.worst < 500 && !timing.result.startsWith('failed') ? 'yes' : 'no';
      rows.push(
        `| ${contestant.name} | ${SESSIONS} | ${query} | ${timing.median.toFixed(1)} | ${timing.worst.toFixed(1)} | ${timing.heapGrowthMb.toFixed(1)} | ${met} | ${timing.result} |`,
      );
    }
    rows.push(
      `| ${contestant.name} | ${SESSIONS} | (seeding, 200 concurrent creates) | ${(seedMs / 1000).toFixed(1)} s | | | | |`,
    );
  } finally {
    await manager.close();
    await contestant.clean(group);
  }
}

console.log('| store | sessions | query | median ms | worst ms | heap growth MB | < 500 ms | result |');
console.log('|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
