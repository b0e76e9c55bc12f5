import type { AttributeKey } from './store.js';

/**
 * What the cache keeps of one session: the attributes' stored text at one version. Never
 * changed once made (a change makes a new entry), so a request may hold one while another
 * request replaces it.
 */
export interface CacheEntry {
  readonly version: number;
  /** Stored text by key, as the store returned it: decoded per request, never here. */
  readonly attributes: ReadonlyMap<AttributeKey, string>;
  /** Every attribute of the session is in `attributes` (a key not in it is absent from the store). */
  readonly complete: boolean;
  /** This entry's estimated share of the bound (`entryBytes`). */
  readonly bytes: number;
}

/** The default bound, in bytes of estimated memory: about 16,000 sessions of 2 KB. */
export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;

/** Fixed costs of a Map entry, an entry object and its strings' headers, in bytes (V8, 64-bit, rounded up). */
const ENTRY_OVERHEAD = 160;
const ATTRIBUTE_OVERHEAD = 80;

/**
 * The memory an entry takes, estimated from above: V8 keeps a string in 1 or 2 bytes per
 * UTF-16 unit, so 2 per unit plus fixed overheads never undercounts what the entry holds.
 */
export function entryBytes(id: string, attributes: ReadonlyMap<AttributeKey, string>): number {
  let bytes = ENTRY_OVERHEAD + 2 * id.length;
  for (const [key, text] of attributes) bytes += ATTRIBUTE_OVERHEAD + 2 * (key.length + text.length);
  return bytes;
}

/**
 * The session cache of one manager: session id → the attributes at one version, least
 * recently used first, bounded by estimated bytes. It never answers a request by itself: the
 * store is asked on every load whether the version is still the stored one (`Store.load` with `knownVersion`),
 * so a change or destroy made anywhere is seen on the next request. It saves transferring and
 * decoding the attributes, not the round trip.
 */
export class SessionCache {
  private readonly entries = new Map<string, CacheEntry>();
  private used = 0;

  /** @param maxBytes the bound, > 0; an entry larger than an eighth of it is not kept (it would flush the rest). */
  constructor(readonly maxBytes: number) {}

  /** Estimated bytes held now; never above `maxBytes`. */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry, now the most recently used. */
  get(id: string): CacheEntry | undefined {
    const entry = this.entries.get(id);
    if (entry) {
      this.entries.delete(id);
      this.entries.set(id, entry);
    }
    return entry;
  }

  /** Keeps the attributes of `id` at `version` (the map is kept as it is: the caller must not change it). */
  put(id: string, version: number, attributes: ReadonlyMap<AttributeKey, string>, complete: boolean): void {
    this.evict(id);
    const bytes = entryBytes(id, attributes);
    if (bytes > this.maxBytes / 8) return;
    this.entries.set(id, { version, attributes, complete, bytes });
    this.used += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.used -= entry.bytes;
    }
  }

  evict(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.used -= entry.bytes;
  }

  /**
   * After this node's write moved the session from `from` to `to`: the entry stays current
   * only if it was at `from` and no other write came between (the version moved by at most
   * one: see "Versions" in store.ts). Then it gets the written changes; otherwise it is dropped, and
   * the next load fetches the attributes.
   */
  advance(
    id: string,
    from: number | undefined,
    to: number,
    set: ReadonlyMap<AttributeKey, string> | undefined,
    remove: readonly AttributeKey[] | undefined,
  ): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    const changesAttributes = (set?.size ?? 0) > 0 || (remove?.length ?? 0) > 0;
    // A write of attributes bumps the version by one; a principal or lifetime change too; a touch not.
    const onlyOurs = from !== undefined && (to === from + 1 || (!changesAttributes && to === from));
    if (!onlyOurs || entry.version !== from) {
      this.evict(id);
      return;
    }
    if (!changesAttributes) {
      if (to !== from) this.put(id, to, entry.attributes, entry.complete);
      return;
    }
    const attributes = new Map(entry.attributes);
    for (const [key, text] of set ?? []) attributes.set(key, text);
    for (const key of remove ?? []) attributes.delete(key);
    this.put(id, to, attributes, entry.complete);
  }

  /** After a rename from `oldId` at version `from` to `newId` at `to`. */
  move(oldId: string, newId: string, from: number | undefined, to: number): void {
    const entry = this.entries.get(oldId);
    this.evict(oldId);
    if (entry && from !== undefined && entry.version === from && to === from + 1)
      this.put(newId, to, entry.attributes, entry.complete);
  }
}
