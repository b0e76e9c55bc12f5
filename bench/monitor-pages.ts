/**
 * The monitor's web pages at scale: BENCH_SESSIONS (default 100,000) sessions of two apps in
 * one SQLite group, then the time to render, through the monitor's handler as a browser asks:
 * - the overview (all apps: the group's statistics and each app's),
 * - the first search page (50 rows, newest access first, with a total),
 * - a principal search page, and an "idle longer than 10 minutes" page,
 * - a detail page,
 * each REPS times (median and worst), with the heap sampled: a page never loads every session.
 *
 *   node --import tsx bench/monitor-pages.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonCodec } from '../src/codec/json.js';
import { SessionManager } from '../src/core/manager.js';
import type { SessionMeta } from '../src/core/store.js';
import { createMonitor, hashSecret } from '../src/monitor/index.js';
import { sqliteStore } from '../src/stores/sqlite.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const MINUTE = 60_000;

const dir = mkdtempSync(join(tmpdir(), 'unisession-bench-pages-'));
const store = sqliteStore({ file: join(dir, 'sessions.sqlite'), group: 'benchpages' });
const codec = jsonCodec();
const common = { store, codec, sweeper: false as const, secret: 'bench' };
const portal = new SessionManager({ app: 'portal', ...common });
const shop = new SessionManager({ app: 'shop', ...common });

const now = Date.now();
let sampleId = '';
const started = performance.now();
for (let i = 0; i < SESSIONS; i += 500) {
  const batch: Promise<unknown>[] = [];
  for (let j = i; j < Math.min(i + 500, SESSIONS); j++) {
    const lastAccessedAt = now - (j % 1440) * MINUTE;
    const meta: SessionMeta = {
      id: `s${String(j).padStart(8, '0')}x${Math.random().toString(36).slice(2, 12)}`,
      app: j % 3 === 0 ? 'portal' : 'shop',
      createdAt: lastAccessedAt - (j % 7) * 3_600_000,
      lastAccessedAt,
      maxInactive: 7 * 86_400_000,
      expiresAt: lastAccessedAt + 7 * 86_400_000,
      absoluteExpiresAt: null,
      principal: j % 2 === 0 ? `user${j % 20_000}` : null,
      host: `node-${j % 4}`,
      clientAddress: `10.${j % 200}.${(j >> 8) % 250}.${j % 250}`,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0',
      createdUrl: '/login',
      lastUrl: '/cart',
      lastHost: `node-${(j + 1) % 4}`,
    };
    if (j === 42) sampleId = meta.id;
    batch.push(
      store.create(meta, new Map([[':user', codec.encode({ name: `user${j}`, since: new Date(now) })]])),
    );
  }
  await Promise.all(batch);
}
console.log(`seeded ${SESSIONS} sessions in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const secret = 'bench-secret-123';
const monitor = createMonitor({
  managers: [portal, shop],
  credentials: [{ name: 'ops', secretHash: await hashSecret(secret), scope: 'all', role: 'operator' }],
  displayAttributes: ['user'],
  failureLimit: false,
});
const origin = 'http://bench.test';
const login = await monitor(
  new Request(`${origin}/login`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name: 'ops', secret }).toString(),
  }),
  { remoteAddress: '127.0.0.1' },
);
const cookie = login.headers.getSetCookie()[0]?.split(';')[0] ?? '';

async function page(path: string): Promise<number> {
  const t = performance.now();
  const response = await monitor(new Request(`${origin}${path}`, { headers: { cookie } }), {
    remoteAddress: '127.0.0.1',
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body.slice(0, 200)}`);
  return performance.now() - t;
}

const pages: Array<[string, string]> = [
  ['overview (group + 2 apps)', '/'],
  ['search, first page of 50', '/sessions'],
  ['search by principal', '/sessions?principal=user1234'],
  ['idle longer than 10 min', '/sessions?idleLongerThan=10m'],
  ['detail', `/sessions/${sampleId}`],
];
const heapBefore = process.memoryUsage().heapUsed;
console.log(`| page | median ms | worst ms |\n| --- | ---: | ---: |`);
for (const [label, path] of pages) {
  await page(path);
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) times.push(await page(path));
  times.sort((a, b) => a - b);
  console.log(
    `| ${label} | ${times[Math.floor(times.length / 2)]?.toFixed(1)} | ${times.at(-1)?.toFixed(1)} |`,
  );
}
const heapAfter = process.memoryUsage().heapUsed;
console.log(`heap ${(heapBefore / 2 ** 20).toFixed(1)} MiB → ${(heapAfter / 2 ** 20).toFixed(1)} MiB`);
await monitor.close();
await portal.close();
rmSync(dir, { recursive: true, force: true });
