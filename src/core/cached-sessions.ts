import { SessionCache } from './cache.js';
import type { AttributeKey, SessionChange, SessionMeta, Store } from './store.js';

/** A load as the request sees it: the metadata, the attributes' stored text, and their version. */
export interface SessionLoad {
  meta: SessionMeta;
  attributes: ReadonlyMap<AttributeKey, string>;
  /** Every attribute is in `attributes`. */
  complete: boolean;
  /** The version loaded; undefined when the store keeps none. */
  version: number | undefined;
}

/**
 * The store as a request's session uses it: through the node's cache (`cache.ts`) when it is
 * on. One store round trip per call either way: a load always asks the store, sending the
 * version it holds, and gets the attributes only when they changed. Every write tells the
 * cache what it wrote, so this node's next load of the session finds it current.
 */
export class CachedSessions {
  readonly cache: SessionCache | undefined;

  constructor(
    private readonly store: Store,
    private readonly preloadKeys: AttributeKey[] | 'all',
    maxBytes: number,
  ) {
    this.cache = maxBytes > 0 ? new SessionCache(maxBytes) : undefined;
  }

  async load(id: string, now: number): Promise<SessionLoad | null> {
    const { cache, preloadKeys } = this;
    const entry = cache?.get(id);
    const loaded = await this.store.load(id, preloadKeys, now, entry?.version);
    if (!loaded) {
      cache?.evict(id);
      return null;
    }
    const { meta, version } = loaded;
    if (loaded.unchanged) {
      if (entry && version === entry.version)
        return { meta, attributes: entry.attributes, complete: entry.complete, version };
      // Only a store breaking its contract answers "unchanged" to a version it was not sent.
      cache?.evict(id);
      return this.loadUncached(id, now);
    }
    const complete = preloadKeys === 'all';
    if (cache && typeof version === 'number') cache.put(id, version, loaded.attributes, complete);
    return { meta, attributes: loaded.attributes, complete, version };
  }

  private async loadUncached(id: string, now: number): Promise<SessionLoad | null> {
    const loaded = await this.store.load(id, this.preloadKeys, now);
    if (!loaded || loaded.unchanged) return null;
    return { ...loaded, complete: this.preloadKeys === 'all', version: loaded.version };
  }

  /** Writes a new session; returns its version (undefined when the store keeps none). */
  async create(meta: SessionMeta, attributes: Map<AttributeKey, string>): Promise<number | undefined> {
    const version = await this.store.create(meta, attributes);
    if (typeof version !== 'number') return undefined;
    // A copy: the caller's map is the request's delta, which it goes on using.
    this.cache?.put(meta.id, version, new Map(attributes), true);
    return version;
  }

  /**
   * Applies one delta to the session loaded (or last written) at version `from`. False when
   * the session is gone; else the version after the write (true when the store keeps none).
   */
  async update(id: string, from: number | undefined, change: SessionChange): Promise<boolean | number> {
    const result = await this.store.update(id, change);
    if (typeof result === 'number') this.cache?.advance(id, from, result, change.set, change.remove);
    else this.cache?.evict(id);
    return result;
  }

  /** Moves the session to `newId`; false when it was gone, else its new version (or true). */
  async rename(oldId: string, newId: string, from: number | undefined): Promise<boolean | number> {
    const result = await this.store.rename(oldId, newId);
    if (typeof result === 'number') this.cache?.move(oldId, newId, from, result);
    else this.cache?.evict(oldId);
    return result;
  }

  /** Forgets the session on this node (it was destroyed, here or elsewhere). */
  forget(id: string): void {
    this.cache?.evict(id);
  }
}
