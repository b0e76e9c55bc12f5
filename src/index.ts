import { defaultCodec } from './codec/json.js';
import { SessionManager } from './core/manager.js';
import { checkSessionOptions, type SessionOptions } from './core/options.js';
import { sqliteStore } from './stores/sqlite.js';

/**
 * Creates the session engine for one app. With no `store`, sessions live in the embedded
 * SQLite file `./unisession.sqlite`, shared by every process on the host, in the tables of
 * `group`. Every option is checked here: a bad or unknown one throws UNISESSION_INVALID_OPTION.
 *
 * @example
 * const sessions = createSessionManager({ app: 'shop', secret: process.env.SESSION_SECRET });
 * sessions.on('destroyed', ({ meta, reason }) => console.log(meta.id, reason));
 */
export function createSessionManager(options: SessionOptions): SessionManager {
  // Checked before the default store is made, so that the error names this call's options.
  checkSessionOptions('createSessionManager', options);
  return new SessionManager({
    ...options,
    store: options.store ?? sqliteStore({ group: options.group }),
    codec: options.codec ?? defaultCodec,
  });
}

export { jsonCodec } from './codec/json.js';
export type { CodecPlugin } from './codec/types.js';
export { definePlugin } from './codec/types.js';
export type {
  AttributeView,
  DestroyWhereOptions,
  Device,
  RevokeOptions,
  SessionCountQuery,
  SessionLimit,
  SessionQuery,
  SessionStatistics,
  SessionView,
  StatsOptions,
  StoreHealth,
  SweeperStatus,
} from './core/admin-types.js';
export { DEFAULT_AGE_BOUNDS, DEFAULT_IDLE_BOUNDS, DEFAULT_ONLINE_WINDOW } from './core/admin-types.js';
export { type Codec, MAX_VALUE_DEPTH } from './core/codec.js';
export { ERROR_CODES, type ErrorCode, isUnisessionError, UnisessionError } from './core/errors.js';
export type { CommitKind, DestroyReason, SessionEventName, SessionEvents } from './core/events.js';
export { SessionManager } from './core/manager.js';
export { MAX_NAME_LENGTH, RESERVED_NAMES } from './core/names.js';
export type { CookieOptions, SessionOptions } from './core/options.js';
export type { RequestInfo, TrustProxy } from './core/request.js';
export { Session } from './core/session.js';
export type { Secret } from './core/signing.js';
export type {
  AttributeKey,
  AuditEntry,
  AuditPage,
  AuditQuery,
  CountFilter,
  HistogramBucket,
  ListFilter,
  ListPage,
  ListSort,
  LoadedSession,
  MetaPatch,
  SessionChange,
  SessionFilter,
  SessionMeta,
  StatsQuery,
  Store,
  StoreAudit,
  StoreCapabilities,
  StoreLeases,
  StoreListing,
  StorePrincipals,
  StoreStats,
  StoreStatsGroup,
  StoreSweeping,
  SweepRecord,
} from './core/store.js';
export { AUDIT_LOG_LIMIT, attributeKey, splitAttributeKey } from './core/store.js';
