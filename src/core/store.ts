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
 * - `destroy`, `rename` and `sweep` are atomic and report what *they* removed, so that
 *   "destroyed" fires exactly once across a cluster even when several nodes race.
 * - `rename` onto an id that exists fails with UNISESSION_SESSION_EXISTS and changes neither
 *   session: it never overwrites another session.
 * - Every value reaches the backend bound as a parameter (never spliced into query text), and
 *   an argument of the wrong type (an object where an id belongs) is refused, never matched.
 * - Expiry is decided by `expiresAt` against the caller's clock; a store may also expire
 *   rows natively (TTL), but must not return a session whose `expiresAt` has passed.
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
}

/** The part of the metadata an `update` may change. */
export type MetaPatch = Partial<
  Pick<SessionMeta, 'lastAccessedAt' | 'expiresAt' | 'principal' | 'maxInactive'>
>;

export interface LoadedSession {
  meta: SessionMeta;
  /** The attributes that were asked for (or all of them), that exist. */
  attributes: Map<AttributeKey, string>;
}

/** One delta write. */
export interface SessionChange {
  meta?: MetaPatch;
  set?: Map<AttributeKey, string>;
  remove?: AttributeKey[];
}

export interface ListFilter {
  /** Only sessions created by this app. */
  app?: string;
  principal?: string;
  /** Only sessions whose expiresAt is after this (epoch ms); pass `Date.now()` for live ones. */
  aliveAt?: number;
  /** Page size, an integer from 1 to 1000. @default 100 */
  limit?: number;
  /** The `next` value of the previous page. */
  cursor?: string;
}

export interface ListPage {
  sessions: SessionMeta[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
}

/**
 * What a store can do beyond the required methods. Checked once, as data; the core and
 * the tests work around what a store lacks.
 */
export interface StoreFlags {
  /** `list` and `count` are available. */
  list: boolean;
  /** `findByPrincipal` is available. */
  principalIndex: boolean;
  /** `sweep` is available (otherwise the store expires sessions by itself). */
  sweep: boolean;
  /** `acquireLease` is available, so only one node sweeps at a time. */
  lease: boolean;
}

export interface Store {
  /** A short name for logs and errors, e.g. `sqlite`. */
  readonly name: string;
  readonly flags: StoreFlags;
  /**
   * The group whose sessions this store holds (it names its tables, collection or key prefix).
   * A manager refuses a `group` option that differs from it. Optional so that a custom store
   * without groups still type-checks.
   */
  readonly group?: string;

  /**
   * One round trip: the metadata plus the named attributes (`'all'` for every attribute).
   * Returns null when there is no such session or it has expired at `now`.
   */
  load(id: string, attributes: AttributeKey[] | 'all', now: number): Promise<LoadedSession | null>;

  /** Reads more attributes of a session already loaded. Missing keys are absent from the map. */
  loadAttributes(id: string, keys: AttributeKey[]): Promise<Map<AttributeKey, string>>;

  /** Writes a new session. Fails with UNISESSION_SESSION_EXISTS if the id is taken. */
  create(meta: SessionMeta, attributes: Map<AttributeKey, string>): Promise<void>;

  /** Applies one delta. Returns false (and writes nothing) if the session no longer exists. */
  update(id: string, change: SessionChange): Promise<boolean>;

  /** Deletes a session and its attributes. Returns the metadata if this call deleted it. */
  destroy(id: string): Promise<SessionMeta | null>;

  /**
   * Moves a session, attributes included, to a new id, atomically: afterwards the old id
   * loads nothing. Returns false if the old session did not exist. Fails with
   * UNISESSION_SESSION_EXISTS, changing neither session, if `newId` is taken.
   */
  rename(oldId: string, newId: string): Promise<boolean>;

  /** Needs `flags.list`. */
  list?(filter: ListFilter): Promise<ListPage>;
  /** Needs `flags.list`. Counts live sessions matching the filter. */
  count?(filter: Omit<ListFilter, 'limit' | 'cursor'>): Promise<number>;
  /** Needs `flags.principalIndex`. Ids of the sessions of a principal. */
  findByPrincipal?(principal: string): Promise<string[]>;
  /**
   * Needs `flags.sweep`. Deletes up to `limit` sessions whose expiresAt is before `now`
   * and returns the metadata of those this call deleted.
   */
  sweep?(now: number, limit: number): Promise<SessionMeta[]>;
  /**
   * Needs `flags.lease`. Takes or renews the named lease for `holder` until `now + ttlMs`.
   * Returns true if `holder` holds it afterwards.
   */
  acquireLease?(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;

  /** Releases connections. The store is unusable afterwards. */
  close(): Promise<void>;
}

export function attributeKey(namespace: string, name: string): AttributeKey {
  return `${namespace}:${name}`;
}

export function splitAttributeKey(key: AttributeKey): { namespace: string; name: string } {
  const at = key.indexOf(':');
  return { namespace: key.slice(0, at), name: key.slice(at + 1) };
}
