import type { AttributeKey } from '../../core/store.js';
import { decodeRecord, encodeRecord, exptime, type KeyLayout, type MetaRecord, TOMBSTONE } from './layout.js';
import { type MemcachedNode, NodeDown } from './nodes.js';

/** What one node holds for a session id. */
export type Found =
  | { state: 'missing' }
  | { state: 'gone'; cas: string | number }
  | { state: 'live'; record: MetaRecord; cas: string | number; attributes: Map<AttributeKey, string> };

/**
 * The reads and whole-session writes the store composes, against one node. Sessions are
 * written attributes first, metadata last, so a node that has the metadata has the rest.
 */
export class SessionIo {
  /** Tombstones only need to outlast racing writers and a backup write in flight. */
  readonly tombstoneExptime: number;

  constructor(
    readonly layout: KeyLayout,
    private readonly graceSeconds: number,
  ) {
    this.tombstoneExptime = Math.max(60, graceSeconds);
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
    let items = await node.getMany([metaKey, ...wanted.map((key) => this.layout.attribute(id, key))]);
    const item = items.get(metaKey);
    if (!item) return { state: 'missing' };
    const record = decodeRecord(id, item.value);
    if (record === 'gone') return { state: 'gone', cas: item.cas };
    if (record === null) return { state: 'missing' };
    const names = keys === 'all' ? record.keys : wanted.filter((key) => record.keys.includes(key));
    if (keys === 'all' && names.length > 0) {
      items = await node.getMany(names.map((key) => this.layout.attribute(id, key)));
    }
    const attributes = new Map<AttributeKey, string>();
    for (const name of names) {
      const value = items.get(this.layout.attribute(id, name))?.value;
      if (value !== undefined) attributes.set(name, value);
    }
    return { state: 'live', record, cas: item.cas, attributes };
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

  /** Leaves a tombstone and deletes the attributes, so a stale copy can never come back. */
  async wipe(node: MemcachedNode, id: string, keys: AttributeKey[]): Promise<void> {
    await Promise.all([
      node.store('set', this.layout.meta(id), TOMBSTONE, this.tombstoneExptime),
      ...keys.map((key) => node.delete(this.layout.attribute(id, key))),
    ]);
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
