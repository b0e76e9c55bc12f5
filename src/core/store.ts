/**
 * The one interface every backend implements. The core never imports a driver; a driver
 * imports this file and the manager talks only to it.
 *
 * Contracts every store keeps (the conformance suite in `test/stores/conformance.ts` checks them):
 * - Attribute values are opaque strings made by the codec. A store never parses them.
 * - Attribute writes are deltas: `update` touches only the keys it is given, so two writers
 *   on different keys of one session never lose each other's changes.
 * - `update` never resurrects a session: when the session row is gone it writes nothing
 *   and returns false.
 * - `destroy`, `rename` and `sweeping.sweep` are atomic and report what *they* removed, so that
 *   "destroyed" fires exactly once across a cluster even when several nodes race.
 * - `rename` onto an id that exists fails with UNISESSION_SESSION_EXISTS and changes neither
 *   session: it never overwrites another session.
 * - Every value reaches the backend bound as a parameter (never spliced into query text), and
 *   an argument of the wrong type (an object where an id belongs) is refused, never matched.
 * - Expiry is decided by `expiresAt` against the caller's clock; a store may also expire
 *   rows natively (TTL), but must not return a session whose `expiresAt` has passed.
 *
 * Versions, for the per-node session cache (`core/cache.ts`). A store may keep an integer
 * version with each session; one that does says so by returning it (`LoadedSession.version`,
 * and a number from `create`, `update` and `rename`), one that does not returns none and is
 * simply not cached. The version changes, atomically with the change and in the same round
 * trip, on every write of attributes, principal or maxInactive and on every rename; a touch
 * that records only lastAccessedAt/expiresAt leaves it (the metadata travels with every load
 * anyway). A write that moves it adds exactly 1, so a writer whose write returns its loaded
 * version + 1 knows that no other write came between. A session written before its store kept
 * versions reads as version 0 until its next change.
 */

/**
 * An attribute key as stored: `<namespace>:<name>`. The shared namespace is the empty
 * string, so a shared attribute `user` is stored as `:user` and the `shop` app's private
 * `cart` as `shop:cart`. Build and split keys with `attributeKey` / `splitAttributeKey`.
 */
export type AttributeKey = string;

/** Everything the store keeps about a session besides its attributes. */
export interface SessionMeta {
  id: string;
  /** The app that created the session. */
  app: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms of the last recorded access (touches are throttled, so it may lag). */
  lastAccessedAt: number;
  /** Sliding lifetime in ms; 0 means the session never expires by inactivity. */
  maxInactive: number;
  /** Epoch ms after which the session is dead; null means never. */
  expiresAt: number | null;
  /** Epoch ms of the absolute end of life, whatever the activity; null means none. */
  absoluteExpiresAt: number | null;
  /** The user id, when the app has set one. Indexed. */
  principal: string | null;
  /** Host name of the node that created the session. */
  host: string;
  clientAddress: string;
  userAgent: string;
  /**
   * The path of the request that created the session (never its query string, which can
   * carry tokens), at most 512 characters; `''` when unknown (rows written before it existed).
   */
  createdUrl: string;
  /** The path of the last recorded access, written with the throttled touch; `''` when unknown. */
  lastUrl: string;
  /** Host name of the node that served the last recorded access; `''` when unknown. */
  lastHost: string;
}

/** The part of the metadata an `update` may change. */
export type MetaPatch = Partial<
  Pick<SessionMeta, 'lastAccessedAt' | 'expiresAt' | 'principal' | 'maxInactive' | 'lastUrl' | 'lastHost'>
>;

export interface LoadedSession {
  meta: SessionMeta;
  /** The attributes that were asked for (or all of them), that exist. */
  attributes: Map<AttributeKey, string>;
  /** The session's version, from a store that keeps versions. */
  version?: number;
  /**
   * True when `load` was given the stored version as `knownVersion`: `attributes` is then
   * empty, and the caller's copy of them is current.
   */
  unchanged?: boolean;
}

/** One delta write. */
export interface SessionChange {
  meta?: MetaPatch;
  set?: Map<AttributeKey, string>;
  remove?: AttributeKey[];
}

/** The orders a listing can page in. */
export type ListSort = 'id' | 'lastAccessedAt' | 'createdAt';

/**
 * Which sessions a listing or count covers: every field given must match (AND). Times are
 * epoch ms; a lower bound (`...After`) is inclusive and an upper one (`...Before`) exclusive,
 * so adjacent ranges never count a session twice.
 */
export interface SessionFilter {
  /** Only sessions created by this app. */
  app?: string;
  principal?: string;
  /** Only sessions whose expiresAt is after this (epoch ms); pass `Date.now()` for live ones. */
  aliveAt?: number;
  /** Exactly this session id. */
  id?: string;
  /** Ids starting with this text (case-sensitive). */
  idPrefix?: string;
  /** An exact client address (`203.0.113.7`, `2001:db8::1`) or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`). */
  clientAddress?: string;
  /** The node that created the session (`SessionMeta.host`). */
  host?: string;
  /** The node that served the last recorded access (`SessionMeta.lastHost`). */
  lastHost?: string;
  /** true: only sessions with a principal; false: only anonymous ones. */
  authenticated?: boolean;
  /** createdAt >= this. */
  createdAfter?: number;
  /** createdAt < this. */
  createdBefore?: number;
  /** lastAccessedAt >= this. */
  accessedAfter?: number;
  /** lastAccessedAt < this (so "idle longer than N" is `accessedBefore: now - N`). */
  accessedBefore?: number;
  /** expiresAt < this; a session that never expires does not match. */
  expiresBefore?: number;
}

export interface ListFilter extends SessionFilter {
  /** The order of the pages; ties are broken by id. @default 'id' */
  sort?: ListSort;
  /** @default 'asc' for `id`, 'desc' (newest first) for the times */
  order?: 'asc' | 'desc';
  /** Page size, an integer from 1 to 1000. @default 100 */
  limit?: number;
  /**
   * The `next` value of the previous page, with the same `sort` and `order`. Opaque: a forged
   * cursor, or one made for another order, is refused with UNISESSION_INVALID_ARGUMENT.
   */
  cursor?: string;
}

export interface ListPage {
  sessions: SessionMeta[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
}

/** A list filter without paging and order: what `count` takes. */
export type CountFilter = SessionFilter;

/** Listing and counting, for admin screens and the monitor. */
export interface StoreListing {
  /**
   * A page of sessions matching `filter`, in `filter.sort` order (id by default; ties broken
   * by id), starting after `filter.cursor`.
   * `filter.limit` (1 to 1000, default 100) bounds the page; anything else is refused with
   * UNISESSION_INVALID_ARGUMENT. `next` is set exactly when another page follows, and points
   * just after the page's last session. Not a snapshot: sessions created or destroyed meanwhile
   * may or may not appear on later pages, but none appears twice.
   */
  list(filter: ListFilter): Promise<ListPage>;
  /** How many sessions match `filter`. May count index entries a store has not yet cleaned up. */
  count(filter: CountFilter): Promise<number>;
}

/** The index from principal (user id) to sessions, so "log this user out everywhere" works. */
export interface StorePrincipals {
  /**
   * The ids of the sessions whose `principal` is this one, in no particular order. It follows
   * every `create`, `update` of the principal, `rename` and `destroy`; it may still name a
   * session that has expired but not been swept (callers load each id).
   */
  find(principal: string): Promise<string[]>;
}

/** Expiry by the manager's sweeper, for stores that cannot tell the app that a session expired. */
export interface StoreSweeping {
  /**
   * Deletes up to `limit` sessions whose expiresAt is at or before `now` and returns the
   * metadata of those *this call* deleted: each delete is atomic, so when two nodes sweep at
   * once each expired session is returned to exactly one of them. Fewer than `limit` means
   * nothing more had expired. Without this group the store expires sessions by itself (TTL)
   * and no `destroyed` event with reason `expired` fires.
   */
  sweep(now: number, limit: number): Promise<SessionMeta[]>;
}

/** Named leases, so that only one node of a cluster sweeps at a time. */
export interface StoreLeases {
  /**
   * Takes or renews the named lease for `holder` until `now + ttlMs`, atomically: it succeeds
   * when nobody holds it, `holder` already holds it, or the holder's time has passed. Returns
   * true if `holder` holds it afterwards. Of several callers racing for a free lease, one wins.
   */
  acquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
}

/** One bucket of a histogram: the sessions whose value is at most `le` ms (null = +Inf) and above the previous bucket's bound. */
export interface HistogramBucket {
  le: number | null;
  /** Sessions in this bucket alone (not cumulative). */
  count: number;
}

/** What `stats.compute` is asked. Times and bounds are ms. */
export interface StatsQuery {
  /** The clock: sessions with expiresAt <= now are dead. */
  now: number;
  /** Only sessions created by this app; all of the group when absent. */
  app?: string;
  /** `usersOnline` counts principals with lastAccessedAt >= this. */
  onlineSince: number;
  /** Ascending finite upper bounds of the idle-time histogram (now - lastAccessedAt); a +Inf bucket follows. */
  idleBounds: number[];
  /** Ascending finite upper bounds of the age histogram (now - createdAt); a +Inf bucket follows. */
  ageBounds: number[];
}

/** Aggregates over the live sessions (of one app, or all), computed in the store. */
export interface StoreStats {
  live: number;
  /** Live sessions with a principal. */
  authenticated: number;
  /** Distinct principals with lastAccessedAt >= `onlineSince`. */
  usersOnline: number;
  /** Live sessions created in the hour (the day) before `now`. */
  createdLastHour: number;
  createdLastDay: number;
  /** `idleBounds.length + 1` buckets, the last with `le: null`. */
  idle: HistogramBucket[];
  /** `ageBounds.length + 1` buckets, the last with `le: null`. */
  age: HistogramBucket[];
  /** Live sessions per creating host, most first. */
  perHost: Array<{ host: string; sessions: number }>;
  /** Sessions past their expiry that no sweep has removed yet. */
  expiredPending: number;
  /** The earliest expiresAt among those, null when there are none. */
  oldestExpiredAt: number | null;
}

/** One run of the sweeper, as noted in the store for any process to read. */
export interface SweepRecord {
  /** Epoch ms when the run started. */
  at: number;
  removed: number;
  durationMs: number;
  /** The sweeper that ran it (`host/pid/uuid`). */
  holder: string;
}

/**
 * Statistics computed in the store (SQL aggregates, MongoDB aggregation, Redis indexes kept
 * for the purpose), never by loading every session into the process, and the last sweep.
 */
export interface StoreStatsGroup {
  compute(query: StatsQuery): Promise<StoreStats>;
  /** Records a sweeper run; only the newest is kept. */
  noteSweep(record: SweepRecord): Promise<void>;
  lastSweep(): Promise<SweepRecord | null>;
}

/** One action of an administrator (the monitor), as the audit log keeps it. */
export interface AuditEntry {
  /** Epoch ms. */
  at: number;
  /** Who: the credential's name. */
  actor: string;
  /** The credential's scope: 'all' or an app. */
  scope: string;
  /** What: e.g. 'destroy', 'destroyWhere', 'revokePrincipal', 'removeAttribute'. */
  action: string;
  /** On what: a (masked) id, a principal, a query. */
  target: string;
  /** How many sessions it affected. */
  count: number;
  detail?: Record<string, string | number | boolean>;
}

export interface AuditQuery {
  /** Page size, an integer from 1 to 1000. */
  limit: number;
  /** The `next` value of the previous page. */
  cursor?: string;
}

export interface AuditPage {
  /** Newest first. */
  entries: AuditEntry[];
  next?: string;
}

/** The newest audit entries a store keeps per group; older ones are dropped as new ones come. */
export const AUDIT_LOG_LIMIT = 10_000;

/** The audit log of a group, kept in the store, bounded to the newest `AUDIT_LOG_LIMIT` entries. */
export interface StoreAudit {
  append(entry: AuditEntry): Promise<void>;
  /** A page of entries, newest first. */
  list(query: AuditQuery): Promise<AuditPage>;
}

// ---- tickets ----------------------------------------------------------------------------

/**
 * Short-lived values taken at most once: the SSO hub's tickets (`unisession/sso`). The key is
 * opaque text chosen by the caller (the SSO kit passes a hash of the ticket, never the ticket).
 */
export interface StoreTickets {
  /**
   * Stores `value` under `key` until `now + ttlMs` (ttlMs > 0), replacing any value the key
   * held. The store may also expire it natively; a value is never returned after its time.
   */
  put(key: string, value: string, ttlMs: number, now: number): Promise<void>;
  /**
   * Removes the value and returns it, atomically: of several callers taking one key at once,
   * at most one gets the value, and every later take returns null. Null too once its time
   * (`now` at the put plus ttlMs) has passed at `now`; an expired value is removed all the same.
   */
  take(key: string, now: number): Promise<string | null>;
}

/**
 * What a store can do beyond the required methods: groups of methods it has or lacks, as a
 * whole. Code checks a group's presence (`if (store.listing)`), never a flag; the manager
 * throws UNISESSION_UNSUPPORTED for a group the store lacks, and the sweeper works around one.
 */
export interface StoreCapabilities {
  readonly listing?: StoreListing;
  readonly principals?: StorePrincipals;
  readonly sweeping?: StoreSweeping;
  readonly leases?: StoreLeases;
  readonly stats?: StoreStatsGroup;
  readonly audit?: StoreAudit;
  readonly tickets?: StoreTickets;
}

/**
 * The methods of each optional group, for code that checks a store's shape at run time (the
 * manager's `store` option). `satisfies` keeps it complete when a group is added.
 */
export const CAPABILITY_METHODS = {
  listing: ['list', 'count'],
  principals: ['find'],
  sweeping: ['sweep'],
  leases: ['acquire'],
  stats: ['compute', 'noteSweep', 'lastSweep'],
  audit: ['append', 'list'],
  tickets: ['put', 'take'],
} as const satisfies {
  readonly [G in keyof StoreCapabilities]-?: readonly (keyof NonNullable<StoreCapabilities[G]>)[];
};

export interface Store extends StoreCapabilities {
  /** A short name for logs and errors, e.g. `sqlite`. */
  readonly name: string;
  /**
   * The group whose sessions this store holds (it names its tables, collection or key prefix).
   * A manager refuses a `group` option that differs from it. Optional so that a custom store
   * without groups still type-checks.
   */
  readonly group?: string;

  /**
   * One round trip: the metadata plus the named attributes (`'all'` for every attribute).
   * Returns null when there is no such session or it has expired at `now`. A store that keeps
   * versions, given the stored version as `knownVersion`, answers the metadata and version
   * only, with `unchanged: true`, still in one round trip; any other store ignores it.
   */
  load(
    id: string,
    attributes: AttributeKey[] | 'all',
    now: number,
    knownVersion?: number,
  ): Promise<LoadedSession | null>;

  /** Reads more attributes of a session already loaded. Missing keys are absent from the map. */
  loadAttributes(id: string, keys: AttributeKey[]): Promise<Map<AttributeKey, string>>;

  /**
   * Writes a new session. Fails with UNISESSION_SESSION_EXISTS if the id is taken. Resolves
   * to the session's version when the store keeps versions.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a store without versions resolves to nothing, as before they existed
  create(meta: SessionMeta, attributes: Map<AttributeKey, string>): Promise<number | void>;

  /**
   * Applies one delta. Returns false (and writes nothing) if the session no longer exists;
   * otherwise the version after the write when the store keeps versions, else true. Never 0:
   * a session still at version 0 (from before versions) reports true, so `if (!applied)` is safe.
   */
  update(id: string, change: SessionChange): Promise<boolean | number>;

  /** Deletes a session and its attributes. Returns the metadata if this call deleted it. */
  destroy(id: string): Promise<SessionMeta | null>;

  /**
   * Moves a session, attributes included, to a new id, atomically: afterwards the old id
   * loads nothing. Returns false if the old session did not exist; otherwise its version
   * under the new id when the store keeps versions, else true. Fails with
   * UNISESSION_SESSION_EXISTS, changing neither session, if `newId` is taken.
   */
  rename(oldId: string, newId: string): Promise<boolean | number>;

  /**
   * Releases connections. The store is unusable afterwards: every later call fails with
   * UNISESSION_STORE_UNAVAILABLE.
   */
  close(): Promise<void>;
}

export function attributeKey(namespace: string, name: string): AttributeKey {
  return `${namespace}:${name}`;
}

export function splitAttributeKey(key: AttributeKey): { namespace: string; name: string } {
  const at = key.indexOf(':');
  return { namespace: key.slice(0, at), name: key.slice(at + 1) };
}
