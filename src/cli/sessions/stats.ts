/**
 * `unisession sessions stats`: the monitor's overview in a terminal. The numbers are
 * computed in the store (the manager's `stats()`), never by loading every session.
 */
import type { SessionStatistics } from '../../core/admin-types.js';
import type { HistogramBucket } from '../../core/store.js';
import { EXIT } from './exit.js';
import { duration, json, pairs, table, time } from './output.js';
import type { Subcommand } from './subcommand.js';
import { parseDuration } from './values.js';

export const statsCommand: Subcommand = {
  help: [
    'Usage: unisession sessions stats --store <url> [--group <g>] [--app <code>] [--online-window <dur>]',
    '',
    'Prints live and signed-in sessions, distinct online users, sessions created in the last',
    'hour and day, idle-time and age histograms, sessions per node, the store health and the',
    "sweeper's last run. With --app, only the sessions that app created.",
    '',
    'Options:',
    '  --online-window <dur>  a user is online when seen within this (default 5m)',
    '',
    'Exit code 3 when the store is unavailable.',
  ],
  own: { 'online-window': { type: 'string' } },
  filters: false,
  positionals: false,
  check(flags) {
    windowOf(flags.own);
  },
  async run(flags, manager, output) {
    const onlineWindowMs = windowOf(flags.own);
    const stats = await manager.stats({
      ...(flags.common.app ? { app: flags.common.app } : {}),
      ...(onlineWindowMs === undefined ? {} : { onlineWindowMs }),
    });
    output.out(flags.common.json ? json(stats) : render(stats, onlineWindowMs ?? 300_000));
    return stats.store.healthy ? EXIT.ok : EXIT.unavailable;
  },
};

function windowOf(own: Record<string, string | boolean | undefined>): number | undefined {
  const text = own['online-window'] as string | undefined;
  return text === undefined ? undefined : parseDuration('--online-window', text);
}

function render(stats: SessionStatistics, windowMs: number): string {
  const sweep = stats.sweeper.lastRun;
  const store = stats.store;
  const summary = pairs([
    ['Scope', stats.app === null ? 'all apps of the group' : `app ${stats.app}`],
    ['At', time(stats.at)],
    ['Live sessions', String(stats.live)],
    ['Signed in', String(stats.authenticated)],
    [`Users online (${duration(windowMs)})`, String(stats.usersOnline)],
    ['Created, last hour', String(stats.createdLastHour)],
    ['Created, last day', String(stats.createdLastDay)],
    [
      'Expired, not yet swept',
      `${stats.expiredPending}${stats.oldestExpiredAt === null ? '' : ` (oldest expired ${time(stats.oldestExpiredAt)})`}`,
    ],
    [
      'Store',
      `${store.name}: ${store.healthy ? 'healthy' : `UNAVAILABLE${store.error ? ` (${store.error})` : ''}`}${store.latencyMs === null ? '' : `, ${store.latencyMs} ms`}`,
    ],
    [
      'Sweeper',
      sweep === null
        ? 'no run recorded'
        : `last run ${time(sweep.at)} by ${sweep.holder}: removed ${sweep.removed} in ${sweep.durationMs} ms${stats.sweeper.lagMs === null ? '' : `, lag ${duration(stats.sweeper.lagMs)}`}`,
    ],
  ]);
  const hosts =
    stats.perHost.length === 0
      ? 'Sessions per node: none'
      : `Sessions per node:\n${indent(
          table(
            ['NODE', 'SESSIONS'],
            stats.perHost.map((row) => [row.host || '-', String(row.sessions)]),
          ),
        )}`;
  return [
    summary,
    '',
    `Idle time (since last access):\n${indent(histogram(stats.idle))}`,
    '',
    `Age (since creation):\n${indent(histogram(stats.age))}`,
    '',
    hosts,
  ].join('\n');
}

/** Buckets as rows `<= 5m  12  ######`, the bar scaled to the largest bucket. */
function histogram(buckets: HistogramBucket[]): string {
  const largest = Math.max(1, ...buckets.map((bucket) => bucket.count));
  let previous: number | null = 0;
  const rows = buckets.map((bucket) => {
    const label =
      bucket.le === null ? `> ${duration(previous)}` : `${duration(previous)} – ${duration(bucket.le)}`;
    previous = bucket.le;
    return [label, String(bucket.count), '#'.repeat(Math.round((bucket.count / largest) * 30))];
  });
  return table(['RANGE', 'SESSIONS', ''], rows);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
