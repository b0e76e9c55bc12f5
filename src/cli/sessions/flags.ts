/**
 * The flags every `unisession sessions` sub-command shares: where the sessions are
 * (`--store`, `--group`, `--app`, `--codec`), how to print (`--json`), and the filters, which
 * are the monitor API's filters under kebab-case names. Parsing is pure: it turns argv into
 * checked values or throws a UsageError naming the flag, before any store is opened.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { APP_PATTERN } from '../../core/options.js';
import { GROUP_PATTERN } from '../../core/validate.js';
import { UsageError } from '../command.js';
import { parseAddress, parseDuration, parseTime } from './values.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** What a sub-command takes besides the shared flags. */
export interface FlagSettings {
  /** Its own flags. */
  own: FlagSpec;
  /** Whether it takes the filter flags. */
  filters: boolean;
  /** Whether it takes operands (ids, a principal). */
  positionals: boolean;
}

/** Where the sessions are and how to print them. */
export interface CommonFlags {
  /** The `--store` URL (default: $UNISESSION_STORE). */
  store: string;
  /** The group (default: $UNISESSION_GROUP, else 'unisession'). */
  group: string;
  /** Only this app's sessions and its private attributes, as an app-scoped monitor sees them. */
  app: string | undefined;
  codec: 'json' | 'msgpack';
  json: boolean;
}

/**
 * The filters as the manager's `list`/`count`/`destroyWhere` take them (SessionQuery, less
 * paging and order). Relative ones (`idleLongerThan`) stay relative: the manager resolves
 * them against its clock.
 */
export interface QueryFlags {
  app?: string;
  id?: string;
  idPrefix?: string;
  principal?: string;
  clientAddress?: string;
  host?: string;
  lastHost?: string;
  authenticated?: boolean;
  createdAfter?: number;
  createdBefore?: number;
  accessedAfter?: number;
  accessedBefore?: number;
  idleLongerThan?: number;
  expiresBefore?: number;
}

export const COMMON_FLAGS = {
  store: { type: 'string' },
  group: { type: 'string' },
  app: { type: 'string' },
  codec: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagSpec;

export const FILTER_FLAGS = {
  id: { type: 'string' },
  'id-prefix': { type: 'string' },
  principal: { type: 'string' },
  address: { type: 'string' },
  host: { type: 'string' },
  'last-host': { type: 'string' },
  authenticated: { type: 'boolean' },
  anonymous: { type: 'boolean' },
  'created-after': { type: 'string' },
  'created-before': { type: 'string' },
  'accessed-after': { type: 'string' },
  'accessed-before': { type: 'string' },
  'idle-longer-than': { type: 'string' },
  'expiring-before': { type: 'string' },
} as const satisfies FlagSpec;

/** The help lines for the shared flags, shown by each sub-command's `--help`. */
export const COMMON_HELP = [
  'Where:',
  '  --store <url>     the store (default: $UNISESSION_STORE): sqlite:<file>, redis://host:port[/db],',
  '                    rediss://…, postgres://user@host/db, mongodb://host/db, memcached://host:port[,…]',
  "  --group <group>   the group of apps sharing sessions (default: $UNISESSION_GROUP, else 'unisession')",
  "  --app <code>      only this app's sessions, and only its own private attributes",
  '  --codec <name>    json or msgpack: how the apps encode attributes (default: json)',
  '  --json            print JSON instead of a table',
];

export const FILTER_HELP = [
  'Filters (all given must match):',
  '  --id <id>                     exactly this session',
  '  --id-prefix <text>            ids starting with <text>',
  '  --principal <user>            sessions of this user',
  '  --address <ip|cidr>           client address, exact or a block: 203.0.113.7, 10.0.0.0/8, 2001:db8::/32',
  '  --host <name>                 created on this node',
  '  --last-host <name>            last served by this node',
  '  --authenticated, --anonymous  with, or without, a principal',
  '  --created-after <time>        times are ISO 8601 (2026-01-31, 2026-01-31T12:00:00Z) or epoch ms;',
  '  --created-before <time>       "after" includes the time, "before" excludes it',
  '  --accessed-after <time>',
  '  --accessed-before <time>',
  '  --idle-longer-than <dur>      not accessed for longer than <dur>: 90s, 30m, 2h, 1h30m, 7d, or ms',
  '  --expiring-before <time>      sessions that expire before <time>',
];

/** What `parseFlags` returns: the shared flags, the filters, the sub-command's own values and the positionals. */
export interface ParsedFlags {
  common: CommonFlags;
  query: QueryFlags;
  /** Whether any filter flag (other than `--app`) was given: `rm --where` needs one. */
  filtered: boolean;
  /** The sub-command's own flags, by name as typed (`dry-run`). */
  own: Record<string, string | boolean | undefined>;
  positionals: string[];
  help: boolean;
}

/** Parses one sub-command's argv (after its name); `env` supplies the UNISESSION_STORE/GROUP defaults. */
export function parseFlags(
  argv: string[],
  settings: FlagSettings,
  env: NodeJS.ProcessEnv = process.env,
): ParsedFlags {
  const options = { ...COMMON_FLAGS, ...(settings.filters ? FILTER_FLAGS : {}), ...settings.own };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: settings.positionals });
  } catch (error) {
    // parseArgs's own messages are clear ("Unknown option '--limt'"). Its hint about `--` helps
    // only where operands go: a session id may start with "-" (`show -- -qN3…`).
    const message = (error as Error).message;
    throw new UsageError(
      settings.positionals ? message : message.replace(/\. To specify a positional argument.*$/s, ''),
    );
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const text = (name: string) => values[name] as string | undefined;

  const store = text('store') ?? env.UNISESSION_STORE;
  if (store === undefined || store.trim() === '') {
    throw new UsageError(
      '--store is required (or set UNISESSION_STORE), e.g. --store sqlite:./sessions.sqlite',
    );
  }
  const group = text('group') ?? env.UNISESSION_GROUP ?? 'unisession';
  if (!GROUP_PATTERN.test(group)) {
    throw new UsageError(`--group must be 1 to 40 letters, digits, _ or -, got "${group}"`);
  }
  const app = text('app');
  if (app !== undefined && !APP_PATTERN.test(app)) {
    throw new UsageError(`--app must be an app code matching ${APP_PATTERN}, got "${app}"`);
  }
  const codec = text('codec') ?? 'json';
  if (codec !== 'json' && codec !== 'msgpack') {
    throw new UsageError(`--codec must be json or msgpack, got "${codec}"`);
  }
  const common: CommonFlags = { store, group, app, codec, json: values.json === true };

  const query: QueryFlags = {};
  if (settings.filters) readFilters(values, query);
  const filtered = Object.keys(query).length > 0;
  if (app !== undefined) query.app = app;
  return {
    common,
    query,
    filtered,
    own: values,
    positionals: parsed.positionals,
    help: values.help === true,
  };
}

function readFilters(values: Record<string, string | boolean | undefined>, query: QueryFlags): void {
  const text = (name: string) => values[name] as string | undefined;
  const nonEmpty = (name: string): string | undefined => {
    const value = text(name);
    if (value !== undefined && value === '') throw new UsageError(`--${name} must not be empty`);
    return value;
  };
  const time = (name: string) => {
    const value = text(name);
    return value === undefined ? undefined : parseTime(`--${name}`, value);
  };
  const set = <K extends keyof QueryFlags>(key: K, value: QueryFlags[K] | undefined) => {
    if (value !== undefined) query[key] = value;
  };
  set('id', nonEmpty('id'));
  set('idPrefix', nonEmpty('id-prefix'));
  set('principal', nonEmpty('principal'));
  const address = text('address');
  set('clientAddress', address === undefined ? undefined : parseAddress('--address', address));
  set('host', nonEmpty('host'));
  set('lastHost', nonEmpty('last-host'));
  if (values.authenticated === true && values.anonymous === true) {
    throw new UsageError('--authenticated and --anonymous exclude each other');
  }
  if (values.authenticated === true) query.authenticated = true;
  if (values.anonymous === true) query.authenticated = false;
  set('createdAfter', time('created-after'));
  set('createdBefore', time('created-before'));
  set('accessedAfter', time('accessed-after'));
  set('accessedBefore', time('accessed-before'));
  const idle = text('idle-longer-than');
  set('idleLongerThan', idle === undefined ? undefined : parseDuration('--idle-longer-than', idle));
  set('expiresBefore', time('expiring-before'));
  for (const [after, before, flag] of [
    ['createdAfter', 'createdBefore', 'created'],
    ['accessedAfter', 'accessedBefore', 'accessed'],
  ] as const) {
    const low = query[after];
    const high = query[before];
    if (low !== undefined && high !== undefined && low >= high) {
      throw new UsageError(`--${flag}-after must be earlier than --${flag}-before: nothing could match`);
    }
  }
}
