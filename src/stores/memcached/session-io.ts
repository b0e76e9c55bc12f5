import type { AttributeKey } from '../../core/store.js';
import {
  decodeRecord,
  encodeRecord,
  encodeTombstone,
  exptime,
  type KeyLayout,
  type MetaRecord,
} from './layout.js';
import { type MemcachedNode, NodeDown } from './nodes.js';

/** What one node holds for a session id. */
export type Found =
  | { state: 'missing' }
  | { state: 'gone'; cas: string | number; rev: number }
  | { state: 'live'; record: MetaRecord; cas: string | number; attributes: Map<AttributeKey, string> };

/** How recent a node's copy is: missing < any revision; a tombstone has a revision too. */
export function revision(found: Found): number {
  return found.state === 'live' ? found.record.rev : found.state === 'gone' ? found.rev : -1;
}

/**
 * The reads and whole-session writes the store composes, against one node. Sessions are
 * written attributes first, metadata last, so a node that has the metadata has the rest.
 */
export class SessionIo {
  constructor(
    readonly layout: KeyLayout,
    private readonly graceSeconds: number,
  ) {}

  /** A tombstone lives as long as the session could have, so no stale copy can outlive it. */
  tombstoneExptime(record: MetaRecord, now = Date.now()): number {
    return exptime(record.meta.expiresAt, now, Math.max(60, this.graceSeconds));
  }

  metaExptime(record: MetaRecord, now = Date.now()): number {
    return exptime(record.meta.expiresAt, now, this.graceSeconds);
  }

  attrExptime(record: MetaRecord, now = Date.now()): number {
    return exptime(record.attrsUntil, now, this.graceSeconds);
  }

  /**
   * The metadata plus the named attributes in one `gets`; for 'all', a second `gets` of the
   * indexed keys. Attributes outside the index (a half-done write) are not reported.
   */
  async read(node: MemcachedNode, id: string, keys: AttributeKey[] | 'all'): Promise<Found> {
    const metaKey = this.layout.meta(id);
    const wanted = keys === 'all' ? [] : keys;
    const items = await node.getMany([metaKey, ...wanted.map((key) => this.layout.attribute(id, key))]);
    const item = items.get(metaKey);
    if (!item) return { state: 'missing' };
    const record = decodeRecord(id, item.value);
    if (record === null) return { state: 'missing' };
    if ('gone' in record) return { state: 'gone', cas: item.cas, rev: record.rev };
    if (keys === 'all') {
      return {
        state: 'live',
        record,
        cas: item.cas,
        attributes: await this.attributesAfter(node, id, record, 'all'),
      };
    }
    const attributes = new Map<AttributeKey, string>();
    for (const name of wanted.filter((key) => record.keys.includes(key))) {
      const value = items.get(this.layout.attribute(id, name))?.value;
      if (value !== undefined) attributes.set(name, value);
    }
    return { state: 'live', record, cas: item.cas, attributes };
  }

  /**
   * The attributes of a session whose metadata was just read from `node` (a conditional load
   * whose version differed): one `get`. Read after the metadata, they are at least as new as
   * its version, since every write stores its attribute items before it publishes the metadata.
   */
  async attributesAfter(
    node: MemcachedNode,
    id: string,
    record: MetaRecord,
    keys: AttributeKey[] | 'all',
  ): Promise<Map<AttributeKey, string>> {
    const names = keys === 'all' ? record.keys : keys.filter((key) => record.keys.includes(key));
    const attributes = new Map<AttributeKey, string>();
    if (names.length === 0) return attributes;
    const items = await node.getMany(names.map((key) => this.layout.attribute(id, key)));
    for (const name of names) {
      const value = items.get(this.layout.attribute(id, name))?.value;
      if (value !== undefined) attributes.set(name, value);
    }
    return attributes;
  }

  /** Writes a whole session: `add` never overwrites what is there (a repair must not undo newer writes). */
  async writeAll(
    node: MemcachedNode,
    record: MetaRecord,
    attributes: Map<AttributeKey, string>,
    mode: 'set' | 'add',
  ): Promise<void> {
    const { id } = record.meta;
    const attrExp = this.attrExptime(record);
    // Issued in this order on one connection, so memcached applies the metadata last.
    const writes = [...attributes].map(([key, value]) =>
      node.store(mode, this.layout.attribute(id, key), value, attrExp),
    );
    writes.push(node.store(mode, this.layout.meta(id), encodeRecord(record), this.metaExptime(record)));
    await Promise.all(writes);
  }

  /** Leaves a tombstone (one revision past `record`) and deletes the attributes: a stale copy can never come back. */
  async wipe(node: MemcachedNode, id: string, record: MetaRecord): Promise<void> {
    await Promise.all([
      node.store('set', this.layout.meta(id), encodeTombstone(record.rev + 1), this.tombstoneExptime(record)),
      ...record.keys.map((key) => node.delete(this.layout.attribute(id, key))),
    ]);
  }

  /** The same read on a copy: a node that is down just has nothing to say. */
  async readCopy(node: MemcachedNode, id: string, keys: AttributeKey[] | 'all'): Promise<Found> {
    try {
      return await this.read(node, id, keys);
    } catch (error) {
      if (error instanceof NodeDown) return { state: 'missing' };
      throw error;
    }
  }
}

/** For writes to a backup copy: a node that is down just misses them (it is repaired on a later read). */
export async function bestEffort(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!(error instanceof NodeDown)) throw error;
  }
}
