/**
 * `--store <url>`: which shared store the demo cluster runs on. Parsing is pure (so a typo
 * fails before any process starts); opening loads the store module and its driver lazily,
 * so the default SQLite demo needs none of the server drivers.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Store } from '../../core/store.js';
import { sqliteStore } from '../../stores/sqlite.js';
import { UsageError } from '../command.js';

export type StoreSpec =
  | { kind: 'sqlite'; file: string }
  | { kind: 'redis'; url: string }
  | { kind: 'mongodb'; url: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'memcached'; nodes: string[] };

/** Where `npm start` keeps its sessions when no `--store` is given (gitignored). */
export const DEFAULT_STORE = 'sqlite:.demo/sessions.sqlite';

/** The demo's group code: its own tables/keys, so it never mixes with an app's sessions. */
export const DEMO_GROUP = 'unisession_demo';

const ACCEPTED =
  'sqlite:<file>, redis://host:port, mongodb://host:port/db, postgres://user@host:port/db or memcached://host:port[,host:port]';

/** Turns a `--store` value into a spec, or throws a UsageError saying what is accepted. */
export function parseStore(value: string): StoreSpec {
  const text = value.trim();
  if (text === 'memory' || text.startsWith('memory:')) {
    throw new UsageError(
      '--store memory cannot work for a cluster: each node process would have its own memory, ' +
        'so a user would get a different session (and be logged out) on every node switch. ' +
        `Use a store that every node shares: ${ACCEPTED}.`,
    );
  }
  if (text.startsWith('sqlite:')) {
    const file = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new UsageError('--store sqlite: needs a file, e.g. sqlite:.demo/sessions.sqlite');
    return { kind: 'sqlite', file: resolve(file) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'redis':
    case 'rediss':
      return { kind: 'redis', url: checkedUrl(text) };
    case 'mongodb':
    case 'mongodb+srv':
      return { kind: 'mongodb', url: checkedUrl(text) };
    case 'postgres':
    case 'postgresql':
      return { kind: 'postgres', url: checkedUrl(text) };
    case 'memcached': {
      const nodes = text
        .slice('memcached://'.length)
        .split(',')
        .map((node) => node.trim())
        .filter(Boolean);
      const bad = nodes.find((node) => !/^[^\s:/]+:\d{1,5}$/.test(node));
      if (nodes.length === 0 || bad !== undefined) {
        throw new UsageError(
          `--store ${text}: memcached needs host:port pairs, e.g. memcached://127.0.0.1:11211,127.0.0.1:11212`,
        );
      }
      return { kind: 'memcached', nodes };
    }
    default:
      throw new UsageError(`--store "${text}" is not a store this demo knows. Use ${ACCEPTED}.`);
  }
}

function checkedUrl(text: string): string {
  try {
    new URL(text);
  } catch {
    throw new UsageError(`--store "${text}" is not a valid URL`);
  }
  return text;
}

/** The spec for display: passwords masked, the SQLite path as given. */
export function describeStore(spec: StoreSpec): string {
  switch (spec.kind) {
    case 'sqlite': {
      // Relative to where the demo was started when it lives there (the default does).
      const local = relative(process.cwd(), spec.file);
      return `sqlite:${local.startsWith('..') || isAbsolute(local) ? spec.file : local}`;
    }
    case 'memcached':
      return `memcached://${spec.nodes.join(',')}`;
    default: {
      const url = new URL(spec.url);
      if (url.password) url.password = '***';
      return url.toString();
    }
  }
}

/** Store modules written by other parts of the project, looked up by their factory name. */
const MODULES: Record<Exclude<StoreSpec['kind'], 'sqlite'>, { paths: string[]; factory: string }> = {
  redis: { paths: ['../../stores/redis.js', '../../stores/redis/index.js'], factory: 'redisStore' },
  mongodb: { paths: ['../../stores/mongodb.js', '../../stores/mongodb/index.js'], factory: 'mongodbStore' },
  postgres: {
    paths: ['../../stores/postgres.js', '../../stores/postgres/index.js'],
    factory: 'postgresStore',
  },
  memcached: {
    paths: ['../../stores/memcached.js', '../../stores/memcached/index.js'],
    factory: 'memcachedStore',
  },
};

type Factory = (options: Record<string, unknown>) => Store;

/** Creates the store a spec names (each process calls this for its own connection). */
export async function openStore(spec: StoreSpec): Promise<Store> {
  if (spec.kind === 'sqlite') {
    mkdirSync(dirname(spec.file), { recursive: true });
    return sqliteStore({ file: spec.file, group: DEMO_GROUP });
  }
  const factory = await loadFactory(spec.kind);
  switch (spec.kind) {
    case 'memcached':
      return factory({ nodes: spec.nodes, group: DEMO_GROUP });
    case 'mongodb': {
      // The database named in the URL's path, as the mongo shell reads it.
      const database = decodeURIComponent(new URL(spec.url).pathname.slice(1));
      return factory({ url: spec.url, group: DEMO_GROUP, ...(database ? { database } : {}) });
    }
    default:
      return factory({ url: spec.url, group: DEMO_GROUP });
  }
}

async function loadFactory(kind: keyof typeof MODULES): Promise<Factory> {
  const { paths, factory } = MODULES[kind];
  // `.ts` when running from source under tsx, `.js` once built.
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  for (const path of paths) {
    const url = new URL(path.replace(/\.js$/, extension), import.meta.url);
    // The module may not exist in this build: look before importing, so that a missing
    // driver inside an existing module still surfaces as its own clear error.
    if (!existsSync(url)) continue;
    const module = (await import(url.href)) as Record<string, unknown>;
    const create = module[factory];
    if (typeof create !== 'function') throw new Error(`${path} does not export ${factory}()`);
    return create as Factory;
  }
  throw new UsageError(
    `the ${kind} store is not available in this build of unisession (no src/stores/${kind}.ts)`,
  );
}
