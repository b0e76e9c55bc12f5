import type { AuditEntry, StatsQuery, SweepRecord } from '../../core/store.js';
import { checkLimit, invalidArgument } from '../../core/validate.js';
import type { BackendAudit, BackendStats } from './backend.js';
import { checkFinite, checkString } from './checks.js';
import type { Group, Run, Where } from './define.js';

/** The `stats` group: checks the query (bounds finite, >= 0, ascending) before the backend sees it. */
export function statsGroup<H>(stats: BackendStats<H>, run: Run<H>, where: Where): Group<'stats'> {
  return {
    async compute(query) {
      checkStatsQuery(where('stats.compute'), query);
      return run((h) => stats.compute(h, query));
    },
    async noteSweep(record) {
      checkSweepRecord(where('stats.noteSweep'), record);
      return run((h) => stats.noteSweep(h, record));
    },
    lastSweep: () => run((h) => stats.lastSweep(h)),
  };
}

export function checkStatsQuery(at: string, query: StatsQuery): void {
  if (typeof query !== 'object' || query === null) throw invalidArgument(at, 'query', 'an object', query);
  checkFinite(at, 'now', query.now);
  checkFinite(at, 'onlineSince', query.onlineSince);
  if (query.app !== undefined) checkString(at, 'app', query.app);
  for (const name of ['idleBounds', 'ageBounds'] as const) {
    const bounds: unknown = query[name];
    const ok =
      Array.isArray(bounds) &&
      bounds.length <= 32 &&
      bounds.every(
        (bound, i) =>
          typeof bound === 'number' &&
          Number.isFinite(bound) &&
          bound >= 0 &&
          (i === 0 || bound > bounds[i - 1]),
      );
    if (!ok) throw invalidArgument(at, name, 'an ascending array of at most 32 finite numbers >= 0', bounds);
  }
}

function checkSweepRecord(at: string, record: SweepRecord): void {
  if (typeof record !== 'object' || record === null) throw invalidArgument(at, 'record', 'an object', record);
  checkFinite(at, 'at', record.at);
  checkFinite(at, 'removed', record.removed);
  checkFinite(at, 'durationMs', record.durationMs);
  checkString(at, 'holder', record.holder);
}

/** The `audit` group: entries checked (a store never keeps an object where text belongs), cursors opaque. */
export function auditGroup<H>(audit: BackendAudit<H>, run: Run<H>, where: Where): Group<'audit'> {
  return {
    async append(entry) {
      const at = where('audit.append');
      const checked = checkAuditEntry(at, entry);
      return run((h) => audit.append(h, checked));
    },
    async list(query) {
      const at = where('audit.list');
      if (typeof query !== 'object' || query === null) throw invalidArgument(at, 'query', 'an object', query);
      const limit = checkLimit(at, query.limit);
      const before = query.cursor === undefined ? undefined : decodeAuditCursor(at, query.cursor);
      const found = await run((h) => audit.list(h, limit, before));
      const entries = found.slice(0, limit).map(({ entry }) => entry);
      return found.length > limit
        ? { entries, next: Buffer.from(`a1.${found[limit - 1]!.position}`).toString('base64url') }
        : { entries };
    },
  };
}

function decodeAuditCursor(at: string, cursor: unknown): string {
  const text =
    typeof cursor === 'string' && /^[A-Za-z0-9_-]+$/.test(cursor)
      ? Buffer.from(cursor, 'base64url').toString('utf8')
      : '';
  const match = /^a1\.(\d{1,16})$/.exec(text);
  if (!match) throw invalidArgument(at, 'cursor', 'a cursor from a previous audit page', cursor);
  return match[1]!;
}

const MAX_DETAIL_KEYS = 32;
const MAX_TEXT = 1024;

/** A copy of the entry with only the known fields, each of its type; texts capped at 1024 characters. */
export function checkAuditEntry(at: string, entry: AuditEntry): AuditEntry {
  if (typeof entry !== 'object' || entry === null) throw invalidArgument(at, 'entry', 'an object', entry);
  checkFinite(at, 'at', entry.at);
  checkFinite(at, 'count', entry.count);
  for (const name of ['actor', 'scope', 'action', 'target'] as const) checkString(at, name, entry[name]);
  const checked: AuditEntry = {
    at: entry.at,
    actor: entry.actor.slice(0, MAX_TEXT),
    scope: entry.scope.slice(0, MAX_TEXT),
    action: entry.action.slice(0, MAX_TEXT),
    target: entry.target.slice(0, MAX_TEXT),
    count: entry.count,
  };
  if (entry.detail !== undefined) {
    const detail: unknown = entry.detail;
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
      throw invalidArgument(at, 'detail', 'an object of strings, numbers and booleans', detail);
    const pairs = Object.entries(detail);
    if (pairs.length > MAX_DETAIL_KEYS)
      throw invalidArgument(at, 'detail', `at most ${MAX_DETAIL_KEYS} keys`, detail);
    checked.detail = {};
    for (const [key, value] of pairs) {
      if (typeof value === 'string') checked.detail[key.slice(0, 64)] = value.slice(0, MAX_TEXT);
      else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
        checked.detail[key.slice(0, 64)] = value;
      else throw invalidArgument(at, `detail.${key}`, 'a string, finite number or boolean', value);
    }
  }
  return checked;
}
