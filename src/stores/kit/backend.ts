import type {
  AttributeKey,
  AuditEntry,
  CountFilter,
  LoadedSession,
  SessionChange,
  SessionMeta,
  StatsQuery,
  StoreStats,
  SweepRecord,
} from '../../core/store.js';
import type { Ordering, Position } from './paging.js';

/**
 * What a store writes for its backend: the raw operations of the `Store` port, each given the
 * open handle (a pool, a client, a database) first. `defineStore` adds everything they share:
 * the lazy open, the argument checks and the error mapping. So an operation receives values
 * of the right type, and may let any driver error escape: it reaches the caller as
 * UNISESSION_STORE_UNAVAILABLE. It throws a `UnisessionError` only for what it means
 * (SESSION_EXISTS, INVALID_NAME...), and that reaches the caller as it is.
 *
 * The optional groups are the port's capability groups: a backend has a group whole, or not.
 */
export interface Backend<H> {
  /** `knownVersion` is checked (an integer >= 0, or absent); a backend without versions ignores it. */
  load(
    handle: H,
    id: string,
    keys: AttributeKey[] | 'all',
    now: number,
    knownVersion: number | undefined,
  ): Promise<LoadedSession | null>;
  loadAttributes(handle: H, id: string, keys: AttributeKey[]): Promise<Map<AttributeKey, string>>;
  /** The version of the new session, from a backend that keeps versions (see the port's "Versions"). */
  // biome-ignore lint/suspicious/noConfusingVoidType: a store without versions resolves to nothing, as before they existed
  create(handle: H, meta: SessionMeta, attributes: Map<AttributeKey, string>): Promise<number | void>;
  update(handle: H, id: string, change: SessionChange): Promise<boolean | number>;
  destroy(handle: H, id: string): Promise<SessionMeta | null>;
  rename(handle: H, oldId: string, newId: string): Promise<boolean | number>;
  listing?: BackendListing<H>;
  principals?: { find(handle: H, principal: string): Promise<string[]> };
  sweeping?: { sweep(handle: H, now: number, limit: number): Promise<SessionMeta[]> };
  leases?: { acquire(handle: H, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> };
  stats?: BackendStats<H>;
  audit?: BackendAudit<H>;
  tickets?: BackendTickets<H>;
}

/** A listing request with everything checked and decoded: the filter, the page size, the order and where to start. */
export interface ListQuery {
  filter: CountFilter;
  /** 1 to 1000. */
  limit: number;
  ordering: Ordering;
  /** The decoded cursor: start strictly after this position; absent for the first page. */
  after?: Position;
}

/** The `tickets` group (core/store.ts `StoreTickets`); arguments are checked before it runs. */
export interface BackendTickets<H> {
  put(handle: H, key: string, value: string, ttlMs: number, now: number): Promise<void>;
  take(handle: H, key: string, now: number): Promise<string | null>;
}

export interface BackendListing<H> {
  /**
   * The matching sessions after `query.after`, in `query.ordering` (ties by id), at most
   * `limit + 1` of them: the extra one tells `defineStore` that another page follows.
   */
  list(handle: H, query: ListQuery): Promise<SessionMeta[]>;
  count(handle: H, filter: CountFilter): Promise<number>;
}

export interface BackendStats<H> {
  /** Bounds are checked: finite, ascending, >= 0. */
  compute(handle: H, query: StatsQuery): Promise<StoreStats>;
  noteSweep(handle: H, record: SweepRecord): Promise<void>;
  lastSweep(handle: H): Promise<SweepRecord | null>;
}

export interface BackendAudit<H> {
  /** Appends and drops what is beyond `AUDIT_LOG_LIMIT`. */
  append(handle: H, entry: AuditEntry): Promise<void>;
  /**
   * Up to `limit + 1` entries, newest first, each with its position (the backend's own
   * sequence, as text), starting strictly below `before` when given. `defineStore` wraps the
   * position in the opaque cursor.
   */
  list(
    handle: H,
    limit: number,
    before: string | undefined,
  ): Promise<Array<{ position: string; entry: AuditEntry }>>;
}
