/**
 * `--store <url>`: the one way a CLI command (`unisession sessions`, `unisession monitor`)
 * names a store. Parsing is pure and separate from opening, so a typo fails before any
 * driver loads or any connection is tried; opening imports only the chosen store's module.
 *
 * Accepted forms (see docs/cli.md):
 * - `sqlite:<file>` (relative to the working directory, or `sqlite:/abs/path`,
 *   `sqlite:///abs/path`), `sqlite::memory:` for a private in-memory database;
 * - `memory:` (this process's memory: useful only in-process, e.g. a monitor demo);
 * - `redis://[user:password@]host:port[/db]`, `rediss://` for TLS;
 * - `postgres://…` or `postgresql://…` (any libpq connection string);
 * - `mongodb://…` or `mongodb+srv://…`, the database taken from the path (default `unisession`);
 * - `memcached://host:port[,host:port…]`.
 *
 * A URL may carry a password: every message and every description made here masks it, so
 * that it never reaches a terminal, a log or a process listing's output.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UnisessionError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { checkGroup } from '../core/validate.js';

/** What a `--store` value names, checked, before anything is opened. */
export type StoreUrl =
  | { kind: 'sqlite'; file: string }
  | { kind: 'memory' }
  | { kind: 'redis'; url: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'mongodb'; url: string; database: string }
  | { kind: 'memcached'; nodes: string[] };

export interface OpenStoreUrlOptions {
  /**
   * Refuse a `sqlite:` file that does not exist yet, instead of creating an empty database:
   * a command that only reads (`unisession sessions list`) would otherwise report "no
   * sessions" for a mistyped path, and leave a stray file behind. @default false
   */
  mustExist?: boolean;
}

const ACCEPTED =
  'sqlite:<file>, sqlite::memory:, memory:, redis://host:port[/db], rediss://…, ' +
  'postgres://user@host:port/db, mongodb://host:port/db or memcached://host:port[,host:port]';

/** MongoDB's rule for database names (the same as mongodbStore's `database` option). */
const MONGO_DATABASE = /^[^/\\. "$*<>:|?\0]{1,63}$/;

/** A memcached node: `host:port`, with an IPv6 host in brackets. */
const MEMCACHED_NODE = /^(?:\[[0-9A-Fa-f:.]+\]|[^\s:/,[\]@]+):\d{1,5}$/;

function invalidStore(detail: string): UnisessionError {
  return new UnisessionError('UNISESSION_INVALID_OPTION', `--store ${detail}`);
}

/**
 * The URL for display, with any password (and a `password=` query parameter) masked as
 * `***`. Text that is not a URL is returned with everything before an `@` masked, since
 * that is where a credential would sit.
 */
export function redactStoreUrl(value: string): string {
  const text = value.trim();
  try {
    const url = new URL(text);
    let masked = false;
    if (url.password) {
      url.password = '***';
      masked = true;
    }
    for (const key of [...url.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) {
        url.searchParams.set(key, '***');
        masked = true;
      }
    }
    // new URL() normalises what it prints; keep what the user typed when nothing was masked.
    return masked ? url.toString() : text;
  } catch {
    return text.replace(
      /^([a-z][\w+.-]*:\/\/)?[^/]*@/i,
      (_, scheme: string | undefined) => `${scheme ?? ''}***@`,
    );
  }
}

/** Parses and checks a `--store` value. Throws UNISESSION_INVALID_OPTION naming `--store`. */
export function parseStoreUrl(value: string): StoreUrl {
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidStore(`is required: one of ${ACCEPTED}`);
  }
  const text = value.trim();
  const shown = JSON.stringify(redactStoreUrl(text));
  if (text === 'memory' || text === 'memory:' || text === 'memory://') return { kind: 'memory' };
  if (text.startsWith('sqlite:')) {
    const rest = text.slice('sqlite:'.length);
    if (rest === ':memory:') return { kind: 'sqlite', file: ':memory:' };
    // sqlite:///abs/path is the URL form of an absolute path; sqlite://rel is not a thing.
    const file = rest.startsWith('///') ? rest.slice(2) : rest;
    if (file === '' || file.startsWith('//')) {
      throw invalidStore(
        `${shown}: sqlite needs a file, e.g. sqlite:./sessions.sqlite or sqlite:///var/lib/app.sqlite`,
      );
    }
    if (file.includes('\0')) throw invalidStore(`${shown}: the file name contains a NUL character`);
    return { kind: 'sqlite', file: resolve(file) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'redis':
    case 'rediss': {
      const url = parsedUrl(text, shown);
      if (!url.hostname) throw invalidStore(`${shown}: redis needs a host, e.g. redis://127.0.0.1:6379`);
      const db = url.pathname.replace(/^\//, '');
      if (db !== '' && !/^\d{1,2}$/.test(db)) {
        throw invalidStore(
          `${shown}: the redis database must be a number (redis://host:port/0), got "${db}"`,
        );
      }
      return { kind: 'redis', url: text };
    }
    case 'postgres':
    case 'postgresql': {
      parsedUrl(text, shown);
      return { kind: 'postgres', url: text };
    }
    case 'mongodb':
    case 'mongodb+srv': {
      // A MongoDB URL may list several hosts (h1:1,h2:2), which WHATWG URL refuses: read
      // the path after the host list by hand.
      const afterHosts = text.slice(scheme.length + 3).replace(/^[^/?]*/, '');
      const path = afterHosts.startsWith('/') ? afterHosts.slice(1).split('?')[0]! : '';
      let database: string;
      try {
        database = decodeURIComponent(path);
      } catch {
        throw invalidStore(`${shown}: the database name is not valid percent-encoding`);
      }
      if (database !== '' && !MONGO_DATABASE.test(database)) {
        throw invalidStore(`${shown}: "${database}" is not a MongoDB database name`);
      }
      return { kind: 'mongodb', url: text, database: database || 'unisession' };
    }
    case 'memcached': {
      const nodes = text
        .slice('memcached://'.length)
        .replace(/\/$/, '')
        .split(',')
        .map((node) => node.trim());
      const bad = nodes.find((node) => !MEMCACHED_NODE.test(node) || Number(node.split(':').pop()) > 65535);
      if (bad !== undefined) {
        throw invalidStore(
          `${shown}: memcached needs host:port pairs, e.g. memcached://127.0.0.1:11211,127.0.0.1:11212` +
            (bad === '' ? '' : ` (got "${bad.replace(/^.*@/, '***@')}")`),
        );
      }
      return { kind: 'memcached', nodes };
    }
    default:
      throw invalidStore(`${shown} is not a store URL: use ${ACCEPTED}`);
  }
}

function parsedUrl(text: string, shown: string): URL {
  try {
    return new URL(text);
  } catch {
    throw invalidStore(`${shown} is not a valid URL`);
  }
}

/**
 * Opens the store a `--store` URL names, for one group. Only the chosen store's module (and
 * so its driver) is loaded. The store connects lazily, on its first call, as every store
 * does: a server that is down shows as UNISESSION_STORE_UNAVAILABLE then, not here.
 *
 * @param url   a `--store` value (see the module comment for the accepted forms)
 * @param group the group whose sessions to open (`--group`)
 * @example
 * const store = await openStoreFromUrl('redis://127.0.0.1:6379/0', 'shop');
 * const manager = createSessionManager({ store, secret, group: 'shop' });
 */
export async function openStoreFromUrl(
  url: string,
  group: string,
  options: OpenStoreUrlOptions = {},
): Promise<Store> {
  const spec = parseStoreUrl(url);
  const expected = checkGroupFlag(group);
  if (spec.kind === 'sqlite' && options.mustExist && spec.file !== ':memory:' && !existsSync(spec.file)) {
    throw invalidStore(`${JSON.stringify(redactStoreUrl(url))}: no such file ${spec.file}`);
  }
  return openSpec(spec, expected);
}

function checkGroupFlag(group: unknown): string {
  try {
    return checkGroup('--group', group);
  } catch {
    throw new UnisessionError(
      'UNISESSION_INVALID_OPTION',
      `--group must be a group name of 1 to 40 letters, digits, _ or -, got ${JSON.stringify(String(group))}`,
    );
  }
}

async function openSpec(spec: StoreUrl, group: string): Promise<Store> {
  switch (spec.kind) {
    case 'sqlite': {
      const { sqliteStore } = await import('../stores/sqlite.js');
      return sqliteStore({ file: spec.file, group });
    }
    case 'memory': {
      const { memoryStore } = await import('../stores/memory.js');
      return memoryStore({ group });
    }
    case 'redis': {
      const { redisStore } = await import('../stores/redis.js');
      return redisStore({ url: spec.url, group });
    }
    case 'postgres': {
      const { postgresStore } = await import('../stores/postgres.js');
      return postgresStore({ url: spec.url, group });
    }
    case 'mongodb': {
      const { mongodbStore } = await import('../stores/mongodb.js');
      return mongodbStore({ url: spec.url, database: spec.database, group });
    }
    case 'memcached': {
      const { memcachedStore } = await import('../stores/memcached.js');
      return memcachedStore({ nodes: spec.nodes, group });
    }
  }
}
