import type { DestroyReason } from './events.js';
import type { ListFilter, SessionFilter, SessionMeta, StoreStats, SweepRecord } from './store.js';

/**
 * What `manager.list` takes: a store filter plus the relative filters the manager turns into
 * absolute ones with its clock. Live sessions only unless `aliveAt` says otherwise.
 */
export interface SessionQuery extends ListFilter {
  /** Sessions not accessed for longer than this many ms (`accessedBefore: now - ms`). */
  idleLongerThan?: number;
  /** The same as `expiresBefore` (epoch ms): sessions that expire before this time. */
  expiringBefore?: number;
  /** Sessions that expire within this many ms from now. */
  expiringWithin?: number;
}

/** What `manager.count` and `destroyWhere` take: a query without paging and order. */
export type SessionCountQuery = SessionFilter &
  Pick<SessionQuery, 'idleLongerThan' | 'expiringBefore' | 'expiringWithin'>;

export interface StatsOptions {
  /** One app's sessions; all of the group when absent. */
  app?: string;
  /** "Online" means accessed within this many ms. @default 300_000 (5 minutes) */
  onlineWindowMs?: number;
  /** Upper bounds (ms) of the idle-time histogram. @default DEFAULT_IDLE_BOUNDS (1m, 5m, 15m, 1h, 1d, then +Inf) */
  idleBounds?: number[];
  /** Upper bounds (ms) of the age histogram. @default DEFAULT_AGE_BOUNDS (1h, 1d, 7d, 30d, then +Inf) */
  ageBounds?: number[];
}

/** The store's health as one cheap read sees it. */
export interface StoreHealth {
  healthy: boolean;
  /** How long the probe took; null when it failed. */
  latencyMs: number | null;
}

/** The statistics of the monitor's overview: the store's aggregates plus health and the sweeper. */
export interface SessionStatistics extends StoreStats {
  /** The app asked for, or null for the whole group. */
  app: string | null;
  /** Epoch ms the numbers are for. */
  at: number;
  store: { name: string; healthy: boolean; latencyMs: number | null; error?: string };
  sweeper: SweeperStatus;
}

export interface SweeperStatus {
  /** The last run noted in the store by any node (or by this node when the store has no `stats` group). */
  lastRun: SweepRecord | null;
  /**
   * How long the oldest expired, not yet swept session has waited past its expiry, in ms (0
   * when none waits); null when the store cannot tell (no `stats` group).
   */
  lagMs: number | null;
  /** Whether this node's sweeper timer runs, and its settings. */
  enabled: boolean;
  intervalMs: number;
  batchSize: number;
}

/** One stored attribute, as `inspect` decodes it. */
export interface AttributeView {
  /** The stored key: `<namespace>:<name>`. */
  key: string;
  /** '' for a shared attribute, else the app that owns it. */
  namespace: string;
  name: string;
  /** The decoded value; undefined when it could not be decoded (see `error`). */
  value: unknown;
  /** The stored codec text. */
  encoded: string;
  /** Set when decoding failed: a generic text, never the codec's message. */
  error?: string;
}

/** A session as the monitor's detail page shows it: every attribute of every app, decoded. */
export interface SessionView {
  meta: SessionMeta;
  attributes: AttributeView[];
}

/** One of a user's sessions, as `session.devices()` lists them for "your sessions" pages. */
export interface Device {
  /** A masked id (the first 8 characters and '…'): never the full id of another session. */
  id: string;
  /** An opaque token for `revokeDevice(handle)`; reveals nothing of the id. */
  handle: string;
  /** This is the session of the request that asked. */
  current: boolean;
  /** e.g. 'Firefox 120', '' when unknown. */
  browser: string;
  /** e.g. 'Ubuntu', 'iOS 17.1', '' when unknown. */
  os: string;
  /** 'desktop', 'mobile', 'tablet', 'smarttv', 'wearable', 'console', 'embedded', or '' when unknown. */
  deviceType: string;
  clientAddress: string;
  createdAt: number;
  lastAccessedAt: number;
  lastHost: string;
}

/** What `maxSessionsPerPrincipal` does when a user logs in once too often. */
export interface SessionLimit {
  /** Sessions one principal may have at once, an integer >= 1. */
  limit: number;
  /** 'evict-oldest' destroys the oldest others (reason 'evicted'); 'refuse' fails the login with UNISESSION_TOO_MANY_SESSIONS (409). */
  policy: 'evict-oldest' | 'refuse';
}

export interface DestroyWhereOptions {
  /** Only count what would be destroyed. @default false */
  dryRun?: boolean;
  /** @default 'revoked' */
  reason?: DestroyReason;
}

export interface RevokeOptions {
  /** A session id to keep (the current one). */
  except?: string;
  /** @default 'revoked' */
  reason?: DestroyReason;
}

/** The default histogram bounds of `stats()`, in ms. */
export const DEFAULT_IDLE_BOUNDS: readonly number[] = [60_000, 300_000, 900_000, 3_600_000, 86_400_000];
export const DEFAULT_AGE_BOUNDS: readonly number[] = [3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000];
export const DEFAULT_ONLINE_WINDOW = 300_000;
