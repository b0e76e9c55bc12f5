/**
 * Type tests for the public option types, the factories and the error codes (see
 * express.test-d.ts): checked by tsc, never run. Each `@ts-expect-error` is a mistake a user
 * makes; the typecheck fails if the typing stops catching it.
 */
import { expectTypeOf } from 'expect-type';
import type {
  Codec,
  CookieOptions,
  ErrorCode,
  SessionManager,
  SessionOptions,
  Store,
  UnisessionError,
} from 'unisession';
import { createSessionManager } from 'unisession';
import { type JsonCodecOptions, jsonCodec } from 'unisession/codec/json';
import { type MsgpackCodecOptions, msgpackCodec } from 'unisession/codec/msgpack';
import { type MigrateOptions, migrate } from 'unisession/migrate';
import { type MemcachedStoreOptions, memcachedStore } from 'unisession/stores/memcached';
import { type MemoryStoreOptions, memoryStore } from 'unisession/stores/memory';
import { type MongodbStoreOptions, mongodbStore } from 'unisession/stores/mongodb';
import { type PostgresStoreOptions, postgresStore } from 'unisession/stores/postgres';
import { type RedisStoreOptions, redisStore } from 'unisession/stores/redis';
import { type SqliteStoreOptions, sqliteStore } from 'unisession/stores/sqlite';

export const everyOption: Required<Omit<SessionOptions, 'store' | 'codec'>> = {
  app: 'shop',
  group: 'portal',
  maxInactive: 1_800_000,
  absoluteTimeout: 0,
  touchInterval: 60_000,
  ignore: /^\/static\//,
  preload: ['user'],
  shared: ['user'],
  cookie: { name: 'sid', path: '/', domain: 'example.com', httpOnly: true, sameSite: 'lax', secure: 'auto' },
  secret: ['new secret', Buffer.from('old secret')],
  trustProxy: ['127.0.0.1'],
  header: 'x-session-id',
  saveUninitialized: false,
  maxValueBytes: 1_048_576,
  onStoreError: 'continue',
  sweeper: { interval: 60_000, batchSize: 500 },
  cache: { maxBytes: 33_554_432 },
  maxSessionsPerPrincipal: 5,
  generateId: (request) => `${request.method}-${crypto.randomUUID()}`,
};

export const cacheOff: SessionOptions = { app: 'shop', cache: { maxBytes: 0 } };
// @ts-expect-error the bound is a number of bytes, not a size text
export const cacheAsText: SessionOptions = { app: 'shop', cache: { maxBytes: '32mb' } };

export const misspelled: SessionOptions = {
  app: 'shop',
  // @ts-expect-error a misspelled option is refused
  maxInactve: 60_000,
};

export const wronglyTyped: SessionOptions = {
  app: 'shop',
  // @ts-expect-error lifetimes are numbers of ms, not duration strings
  maxInactive: '30m',
};

export const wrongChoice: SessionOptions = {
  app: 'shop',
  // @ts-expect-error one of 'fail' | 'continue'
  onStoreError: 'ignore',
};

// @ts-expect-error `app` is required
export const withoutApp: SessionOptions = { group: 'portal' };

export const cookie: CookieOptions = {
  hostPrefix: true,
  persistent: true,
  // @ts-expect-error lower case, as the option table shows
  sameSite: 'Lax',
};

export const secure: CookieOptions = {
  // @ts-expect-error true, false or 'auto'
  secure: 'yes',
};

export function cacheTypes(manager: SessionManager, store: Store): void {
  expectTypeOf(manager.cacheUsage).toEqualTypeOf<
    { sessions: number; bytes: number; maxBytes: number } | undefined
  >();
  // @ts-expect-error the usage is read-only
  manager.cacheUsage = undefined;
  // A versioned store answers a version; `update` is false, or true / the version.
  expectTypeOf(store.load).parameter(3).toEqualTypeOf<number | undefined>();
  expectTypeOf(store.update).returns.resolves.toEqualTypeOf<boolean | number>();
  expectTypeOf<NonNullable<Awaited<ReturnType<Store['load']>>>['version']>().toEqualTypeOf<
    number | undefined
  >();
}

export function factoryTypes(): void {
  expectTypeOf(createSessionManager).parameter(0).toEqualTypeOf<SessionOptions>();
  expectTypeOf(createSessionManager).returns.toEqualTypeOf<SessionManager>();
  // The options table's `codec: msgpackCodec()` is a plain value: the factory is synchronous.
  expectTypeOf(msgpackCodec).returns.toEqualTypeOf<Codec>();
  expectTypeOf(jsonCodec).returns.toEqualTypeOf<Codec>();
  expectTypeOf<SessionOptions['codec']>().toEqualTypeOf<Codec | undefined>();
  expectTypeOf(msgpackCodec).parameter(0).toEqualTypeOf<MsgpackCodecOptions | undefined>();
  expectTypeOf(jsonCodec).parameter(0).toEqualTypeOf<JsonCodecOptions | undefined>();
  // @ts-expect-error the msgpack codec has no options
  msgpackCodec({ compact: true });
  // @ts-expect-error unknownClasses is 'plain' or 'error'
  jsonCodec({ unknownClasses: 'drop' });
  expectTypeOf(migrate).parameter(0).toEqualTypeOf<MigrateOptions>();
  expectTypeOf(migrate).returns.toEqualTypeOf<Promise<void>>();
}

export function storeTypes(): void {
  expectTypeOf(sqliteStore).parameter(0).toEqualTypeOf<SqliteStoreOptions | undefined>();
  expectTypeOf(memoryStore).parameter(0).toEqualTypeOf<MemoryStoreOptions | undefined>();
  expectTypeOf(redisStore).parameter(0).toEqualTypeOf<RedisStoreOptions | undefined>();
  expectTypeOf(mongodbStore).parameter(0).toEqualTypeOf<MongodbStoreOptions | undefined>();
  expectTypeOf(postgresStore).parameter(0).toEqualTypeOf<PostgresStoreOptions>();
  expectTypeOf(memcachedStore).parameter(0).toEqualTypeOf<MemcachedStoreOptions>();
  for (const factory of [sqliteStore, memoryStore, redisStore, mongodbStore, postgresStore, memcachedStore]) {
    expectTypeOf(factory).returns.toEqualTypeOf<Store>();
  }
}

export const sqlite: SqliteStoreOptions = { file: './sessions.sqlite', group: 'portal', busyTimeout: 5000 };
export const memory: MemoryStoreOptions = { group: 'portal' };
export const redis: RedisStoreOptions = {
  url: 'redis://127.0.0.1:6379',
  group: 'portal',
  commandTimeout: 1000,
  connectTimeout: 2000,
  expiryGraceMs: 3_600_000,
};
export const redisCluster: RedisStoreOptions = { cluster: [{ host: '127.0.0.1', port: 7000 }] };
export const mongodb: MongodbStoreOptions = {
  url: 'mongodb://127.0.0.1:27017',
  database: 'app',
  group: 'portal',
  writeConcern: { w: 'majority', wtimeoutMS: 2000 },
  ttlIndex: true,
  ttlGraceSeconds: 3600,
};
export const postgres: PostgresStoreOptions = {
  url: 'postgres://127.0.0.1/app',
  group: 'portal',
  schema: 'sessions',
  createSchema: false,
  poolSize: 10,
  connectionTimeout: 2000,
  statementTimeout: 2000,
};
export const memcached: MemcachedStoreOptions = {
  nodes: ['127.0.0.1:11211'],
  failoverNodes: '127.0.0.1:11212',
  backup: true,
  group: 'portal',
  connectTimeout: 1000,
  commandTimeout: 1000,
  retryDeadNodeAfter: 30_000,
  expiryGraceSeconds: 60,
};

export const sqliteTypo: SqliteStoreOptions = {
  // @ts-expect-error `file`, not `filename`
  filename: './sessions.sqlite',
};
// @ts-expect-error a group name is a string
export const memoryWrongGroup: MemoryStoreOptions = { group: 42 };
export const redisTypo: RedisStoreOptions = {
  // @ts-expect-error `url`, not `uri`
  uri: 'redis://127.0.0.1:6379',
};
export const mongodbTypo: MongodbStoreOptions = {
  // @ts-expect-error `database`, not `db`
  db: 'app',
};
export const postgresWrongType: PostgresStoreOptions = {
  // @ts-expect-error a pool size is a number
  poolSize: '10',
};
// @ts-expect-error memcached needs its nodes
export const memcachedWithoutNodes: MemcachedStoreOptions = { group: 'portal' };
export const migrateTypo: MigrateOptions = {
  url: 'postgres://127.0.0.1/app',
  // @ts-expect-error `schema`, not `schemaName`
  schemaName: 'sessions',
};

export function errorTypes(error: UnisessionError): void {
  // A closed union of the registry's codes, not `string`: a switch over it is checked.
  expectTypeOf(error.code).toEqualTypeOf<ErrorCode>();
  expectTypeOf<UnisessionError['code']>().toEqualTypeOf<ErrorCode>();
  expectTypeOf<'UNISESSION_STORE_UNAVAILABLE'>().toMatchTypeOf<ErrorCode>();
  expectTypeOf<string>().not.toMatchTypeOf<ErrorCode>();
  expectTypeOf(error.status).toEqualTypeOf<number>();
  // @ts-expect-error not a code of the registry
  if (error.code === 'UNISESSION_NO_SUCH_CODE') return;
}
