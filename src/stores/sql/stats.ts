import type { AuditEntry, StatsQuery, StoreStats, SweepRecord } from '../../core/store.js';
import { DAY, HOUR, MAX_HOSTS } from '../kit/stats.js';
import type { SqlTables } from './schema.js';

type Placeholder = '?' | ((n: number) => string);

/** One statement with its bound values. */
export interface Statement {
  text: string;
  params: unknown[];
}

function binder(placeholder: Placeholder) {
  const params: unknown[] = [];
  const next = (value: unknown) => {
    params.push(value);
    return placeholder === '?' ? '?' : placeholder(params.length);
  };
  return { params, next };
}

/**
 * A threshold on an integer column: "now - bound" rounded up, so that `column >= threshold`
 * means "at most `bound` ms ago" exactly, and PostgreSQL reads the value as a BIGINT.
 */
const since = (now: number, ms: number) => Math.ceil(now - ms);

/**
 * The aggregates of `stats.compute` as three statements over the sessions table, each one
 * scan at most: the live sessions (counts and cumulative histograms as conditional sums),
 * the live sessions per host, and the expired sessions not swept yet.
 */
export function statsStatements(tables: SqlTables, query: StatsQuery, placeholder: Placeholder): Statement[] {
  const { now } = query;
  const live = binder(placeholder);
  const columns = [
    'count(*) AS live',
    'count(principal) AS authenticated',
    `count(DISTINCT CASE WHEN last_accessed_at >= ${live.next(Math.ceil(query.onlineSince))} THEN principal END) AS users_online`,
    `sum(CASE WHEN created_at >= ${live.next(since(now, HOUR))} THEN 1 ELSE 0 END) AS created_hour`,
    `sum(CASE WHEN created_at >= ${live.next(since(now, DAY))} THEN 1 ELSE 0 END) AS created_day`,
    ...query.idleBounds.map(
      (bound, i) =>
        `sum(CASE WHEN last_accessed_at >= ${live.next(since(now, bound))} THEN 1 ELSE 0 END) AS idle_${i}`,
    ),
    ...query.ageBounds.map(
      (bound, i) =>
        `sum(CASE WHEN created_at >= ${live.next(since(now, bound))} THEN 1 ELSE 0 END) AS age_${i}`,
    ),
  ];
  const app = (b: ReturnType<typeof binder>) =>
    query.app === undefined ? '' : ` AND app = ${b.next(query.app)}`;
  const liveWhere = (b: ReturnType<typeof binder>) =>
    `(expires_at IS NULL OR expires_at > ${b.next(now)})${app(b)}`;
  const liveText = `SELECT ${columns.join(', ')} FROM ${tables.sessions} WHERE ${liveWhere(live)}`;
  const hosts = binder(placeholder);
  const hostsText = `SELECT host, count(*) AS n FROM ${tables.sessions} WHERE ${liveWhere(hosts)} GROUP BY host ORDER BY n DESC, host LIMIT ${MAX_HOSTS}`;
  const expired = binder(placeholder);
  const expiredText = `SELECT count(*) AS n, min(expires_at) AS oldest FROM ${tables.sessions} WHERE expires_at <= ${expired.next(now)}${app(expired)}`;
  return [
    { text: liveText, params: live.params },
    { text: hostsText, params: hosts.params },
    { text: expiredText, params: expired.params },
  ];
}

type Row = Record<string, unknown>;
const num = (value: unknown) => Number(value ?? 0);

/** Per-bucket counts from cumulative ones ("at most bound"), plus the +Inf bucket. */
function buckets(bounds: readonly number[], cumulative: number[], total: number) {
  return [
    ...bounds.map((le, i) => ({ le, count: cumulative[i]! - (i === 0 ? 0 : cumulative[i - 1]!) })),
    { le: null, count: total - (cumulative[cumulative.length - 1] ?? 0) },
  ];
}

/** The statistics from the rows of the three `statsStatements`. */
export function statsFromRows(query: StatsQuery, live: Row, hosts: Row[], expired: Row): StoreStats {
  const total = num(live.live);
  return {
    live: total,
    authenticated: num(live.authenticated),
    usersOnline: num(live.users_online),
    createdLastHour: num(live.created_hour),
    createdLastDay: num(live.created_day),
    idle: buckets(
      query.idleBounds,
      query.idleBounds.map((_, i) => num(live[`idle_${i}`])),
      total,
    ),
    age: buckets(
      query.ageBounds,
      query.ageBounds.map((_, i) => num(live[`age_${i}`])),
      total,
    ),
    perHost: hosts.map((row) => ({ host: String(row.host), sessions: num(row.n) })),
    expiredPending: num(expired.n),
    oldestExpiredAt: expired.oldest === null || expired.oldest === undefined ? null : Number(expired.oldest),
  };
}

export const LAST_SWEEP = 'lastSweep';

/** The state row of the last sweep, as stored (JSON text). */
export const sweepText = (record: SweepRecord) =>
  JSON.stringify({
    at: record.at,
    removed: record.removed,
    durationMs: record.durationMs,
    holder: record.holder,
  });

export function sweepFromText(text: string | undefined): SweepRecord | null {
  if (text === undefined) return null;
  try {
    const value = JSON.parse(text) as Partial<SweepRecord>;
    if (typeof value.at !== 'number' || typeof value.holder !== 'string') return null;
    return {
      at: value.at,
      removed: num(value.removed),
      durationMs: num(value.durationMs),
      holder: value.holder,
    };
  } catch {
    return null;
  }
}

/** An audit-log row, as both SQL stores read it back. */
export interface AuditRow {
  seq: number | string;
  at: number | string;
  actor: string;
  scope: string;
  action: string;
  target: string;
  count: number | string;
  detail: string | null;
}

export function auditFromRow(row: AuditRow): { position: string; entry: AuditEntry } {
  const entry: AuditEntry = {
    at: Number(row.at),
    actor: row.actor,
    scope: row.scope,
    action: row.action,
    target: row.target,
    count: Number(row.count),
  };
  if (row.detail !== null) {
    try {
      entry.detail = JSON.parse(row.detail) as AuditEntry['detail'];
    } catch {
      // A row damaged outside unisession reads without its detail rather than failing the page.
    }
  }
  return { position: String(row.seq), entry };
}
