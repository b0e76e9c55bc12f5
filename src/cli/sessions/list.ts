/** `unisession sessions list`: the sessions matching the filters, one page at a time. */

import type { SessionQuery } from '../../core/admin-types.js';
import type { SessionManager } from '../../core/manager.js';
import type { SessionMeta } from '../../core/store.js';
import { UsageError } from '../command.js';
import { EXIT } from './exit.js';
import { duration, json, type Output, table, time } from './output.js';
import type { Subcommand } from './subcommand.js';
import { parseInteger } from './values.js';

/** The `--sort` names people type, and the listing's sort keys they mean. */
const SORTS: Record<string, NonNullable<SessionQuery['sort']>> = {
  'last-access': 'lastAccessedAt',
  lastAccessedAt: 'lastAccessedAt',
  created: 'createdAt',
  createdAt: 'createdAt',
  id: 'id',
};

/** The default page of a terminal: a screenful or two. */
const DEFAULT_LIMIT = 50;

export const listCommand: Subcommand = {
  help: [
    'Usage: unisession sessions list --store <url> [--group <g>] [--app <code>] [filters] [options]',
    '',
    'Lists the live sessions matching the filters, most recently used first, a page at a time.',
    '',
    'Options:',
    '  --sort <key>      last-access (default), created or id',
    '  --order <dir>     desc (default for times: newest first) or asc (default for id)',
    `  --limit <n>       sessions per page, 1 to 1000 (default ${DEFAULT_LIMIT})`,
    '  --cursor <c>      the next page: the cursor the previous page printed (same filters and sort)',
    '  --count           print only how many sessions match',
    '  --csv             print CSV (a header row, then one row per session) instead of a table',
    '  --all             every match, page after page, with --csv or --json: an export',
  ],
  own: {
    sort: { type: 'string' },
    order: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    count: { type: 'boolean' },
    csv: { type: 'boolean' },
    all: { type: 'boolean' },
  },
  filters: true,
  positionals: false,
  check(flags) {
    queryOf(flags.own, flags.query);
    if (flags.own.csv && flags.common.json) throw new UsageError('--csv and --json exclude each other');
    if (flags.own.all && !(flags.own.csv || flags.common.json)) {
      throw new UsageError('--all exports every match: add --csv or --json (a table is one page at a time)');
    }
    if (flags.own.all && (flags.own.cursor !== undefined || flags.own.count)) {
      throw new UsageError('--all pages by itself: leave out --cursor and --count');
    }
  },
  async run(flags, manager, output) {
    if (flags.own.count) {
      const count = await manager.count(flags.query);
      output.out(flags.common.json ? json({ count }) : String(count));
      return EXIT.ok;
    }
    if (flags.own.all)
      return exportAll(manager, queryOf(flags.own, flags.query), flags.own.csv === true, output);
    const page = await manager.list(queryOf(flags.own, flags.query));
    if (flags.common.json) {
      output.out(json({ sessions: page.sessions, ...(page.next ? { next: page.next } : {}) }));
      return EXIT.ok;
    }
    if (flags.own.csv) {
      output.out(csv(page.sessions));
      return EXIT.ok;
    }
    if (page.sessions.length === 0) {
      output.err('No session matches.');
      return EXIT.ok;
    }
    output.out(sessionTable(page.sessions, Date.now()));
    // On stderr, so that a table piped elsewhere stays a table.
    if (page.next) output.err(`\nMore sessions follow: add --cursor ${page.next}`);
    return EXIT.ok;
  },
};

/**
 * Every match, page after page, written as each page arrives: memory stays one page whatever
 * the count. JSON is one document (`{"sessions": [...]}`), CSV one header then the rows.
 */
async function exportAll(
  manager: SessionManager,
  query: SessionQuery,
  asCsv: boolean,
  output: Output,
): Promise<number> {
  let cursor: string | undefined;
  let first = true;
  // Each CSV line ends in CRLF (RFC 4180): `out` adds the LF.
  output.out(asCsv ? `${CSV_COLUMNS.join(',')}\r` : '{"sessions": [');
  do {
    const page = await manager.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    for (const meta of page.sessions) {
      if (asCsv) output.out(`${csvRow(meta)}\r`);
      else {
        output.out(`${first ? '' : ','}${JSON.stringify(meta)}`);
        first = false;
      }
    }
    cursor = page.next;
  } while (cursor !== undefined);
  if (!asCsv) output.out(']}');
  return EXIT.ok;
}

function queryOf(own: Record<string, string | boolean | undefined>, filters: SessionQuery): SessionQuery {
  const query: SessionQuery = { ...filters };
  const sort = own.sort as string | undefined;
  if (sort !== undefined) {
    const key = Object.hasOwn(SORTS, sort) ? SORTS[sort] : undefined;
    if (!key) throw new UsageError(`--sort must be last-access, created or id, got "${sort}"`);
    query.sort = key;
  } else {
    query.sort = 'lastAccessedAt';
  }
  const order = own.order as string | undefined;
  if (order !== undefined) {
    if (order !== 'asc' && order !== 'desc')
      throw new UsageError(`--order must be asc or desc, got "${order}"`);
    query.order = order;
  }
  const limit = own.limit as string | undefined;
  // An export reads the largest pages the listing allows: fewer round trips, same memory bound.
  query.limit =
    limit === undefined ? (own.all ? 1000 : DEFAULT_LIMIT) : parseInteger('--limit', limit, 1, 1000);
  const cursor = own.cursor as string | undefined;
  if (cursor !== undefined) {
    if (cursor === '') throw new UsageError('--cursor must not be empty');
    query.cursor = cursor;
  }
  if (
    own.count &&
    (sort !== undefined || order !== undefined || limit !== undefined || cursor !== undefined)
  ) {
    throw new UsageError('--count takes filters only, not --sort, --order, --limit or --cursor');
  }
  return query;
}

/** The table of a page of sessions: what an operator scans for. */
export function sessionTable(sessions: SessionMeta[], now: number): string {
  return table(
    ['ID', 'APP', 'PRINCIPAL', 'ADDRESS', 'LAST HOST', 'CREATED', 'LAST ACCESS', 'IDLE', 'EXPIRES IN'],
    sessions.map((meta) => [
      meta.id,
      meta.app,
      meta.principal ?? '-',
      meta.clientAddress || '-',
      meta.lastHost || meta.host || '-',
      time(meta.createdAt),
      time(meta.lastAccessedAt),
      duration(now - meta.lastAccessedAt),
      meta.expiresAt === null ? 'never' : duration(meta.expiresAt - now),
    ]),
  );
}

const CSV_COLUMNS = [
  'id',
  'app',
  'principal',
  'clientAddress',
  'host',
  'lastHost',
  'createdUrl',
  'lastUrl',
  'createdAt',
  'lastAccessedAt',
  'expiresAt',
  'absoluteExpiresAt',
  'maxInactive',
  'userAgent',
] as const;

/**
 * The columns a client controls (a user agent, a URL, a forwarded address, a principal can be
 * any text): a cell there that a spreadsheet would run as a formula gets a leading `'`. Ids,
 * app codes, times and numbers are ours and left exact (an id may start with "-").
 */
const FREE_TEXT = new Set<string>([
  'principal',
  'clientAddress',
  'host',
  'lastHost',
  'createdUrl',
  'lastUrl',
  'userAgent',
]);

/** One RFC 4180 cell. */
function csvCell(value: unknown, freeText: boolean): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (freeText && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One session as a CSV row, times in ISO 8601. */
function csvRow(meta: SessionMeta): string {
  return CSV_COLUMNS.map((column) => {
    const value = meta[column];
    const shown = column.endsWith('At') && typeof value === 'number' ? new Date(value).toISOString() : value;
    return csvCell(shown, FREE_TEXT.has(column));
  }).join(',');
}

/** A header and one row per session (RFC 4180 CSV), each line but the last ending in CRLF (the printer adds the last LF). */
export function csv(sessions: SessionMeta[]): string {
  return `${[CSV_COLUMNS.join(','), ...sessions.map(csvRow)].join('\r\n')}\r`;
}
