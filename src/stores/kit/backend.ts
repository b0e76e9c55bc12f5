import type {
  AttributeKey,
  CountFilter,
  ListFilter,
  ListPage,
  LoadedSession,
  SessionChange,
  SessionMeta,
} from '../../core/store.js';

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
}

export interface BackendListing<H> {
  /** `filter.limit` is checked (1 to 1000) and set; read one more to know whether a page follows (`pageOf`). */
  list(handle: H, filter: ListFilter & { limit: number }): Promise<ListPage>;
  count(handle: H, filter: CountFilter): Promise<number>;
}
