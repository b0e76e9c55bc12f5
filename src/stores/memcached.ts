import type { MemcacheClient } from 'memcache-client';
import { storeUnavailable, UnisessionError } from '../core/errors.js';
import type { AttributeKey, SessionChange, SessionMeta, Store } from '../core/store.js';
import { checkOptions, is, isGroupName, type OptionSpec } from '../core/validate.js';
import {
  applyChange,
  encodeRecord,
  encodeTombstone,
  horizon,
  KeyLayout,
  type MetaRecord,
} from './memcached/layout.js';
import { connectNodes, invalid, type MemcachedNode, NodeDown, parseNodes } from './memcached/nodes.js';
import { HashRing } from './memcached/ring.js';
import { bestEffort, type Found, revision, SessionIo } from './memcached/session-io.js';

const isNodeList = is.anyOf(is.string, is.arrayOf(is.string));
const MEMCACHED_OPTIONS: OptionSpec = {
  nodes: isNodeList,
  failoverNodes: isNodeList,
  backup: is.boolean,
  group: isGroupName,
  connectTimeout: is.positive,
  commandTimeout: is.positive,
  retryDeadNodeAfter: is.nonNegative,
  expiryGraceSeconds: is.nonNegativeInteger,
  clients: is.withMethods('an object of memcache-client instances, keyed by host:port'),
};

export interface MemcachedStoreOptions {
  /** The memcached servers, `host:port`, as an array or a comma-separated string. Sessions are spread over them by consistent hashing. */
  nodes: string[] | string;
  /** Servers used only when the `nodes` a session maps to are down (memcached-session-manager's `failoverNodes`). @default [] */
  failoverNodes?: string[] | string;
  /**
   * Keep a copy of each session on a second node (the next one on the ring), and read it when
   * the first is down, so a dead node loses no session. With a single node in `nodes`, the copy
   * goes to a failover node. @default true when `nodes` has 2 or more
   */
  backup?: boolean;
  /** The key prefix (`<group>:<id>:...`); apps sharing sessions share it. @default 'unisession' */
  group?: string;
  /** Give up connecting to a node after this many ms. @default 1000 */
  connectTimeout?: number;
  /** Give up on a node's answer after this many ms (a hung server). @default 1000 */
  commandTimeout?: number;
  /** How long a node that failed is skipped before the next call tries it again, in ms. @default 1000 */
  retryDeadNodeAfter?: number;
  /** Seconds that items outlive `expiresAt`, so clock skew between hosts never drops a live session early. @default 60 */
  expiryGraceSeconds?: number;
  /** memcache-client instances you already have, one per node, keyed by `host:port`; the store leaves them open. */
  clients?: Record<string, MemcacheClient>;
}

/** A CAS loop that keeps losing is contention gone wrong; stop rather than spin. */
const MAX_CAS_ATTEMPTS = 100;

/**
 * memcached, laid out as memcached-session-manager would if it wrote deltas: one metadata item
 * per session (JSON, changed only with gets/cas, so concurrent changes retry instead of
 * clobbering each other) and one item per attribute. See docs/stores/memcached.md.
 *
 * memcached cannot list keys, and it expires items by itself: the store has no list,
 * principal index, sweep or lease, and fires no "expired" events.
 */
export function memcachedStore(options: MemcachedStoreOptions): Store {
  checkOptions('memcachedStore', options, MEMCACHED_OPTIONS);
  if (options?.nodes === undefined) throw invalid('memcachedStore needs at least one node in `nodes`');
  const primaries = parseNodes(options.nodes, 'nodes');
  const failover = parseNodes(options.failoverNodes ?? [], 'failoverNodes');
  if (primaries.length === 0) throw invalid('memcachedStore needs at least one node in `nodes`');
  const overlap = failover.find((node) => primaries.includes(node));
  if (overlap) throw invalid(`${overlap} is both in nodes and failoverNodes`);
  const backup = options.backup ?? primaries.length >= 2;
  const io = new SessionIo(new KeyLayout(options.group ?? 'unisession'), options.expiryGraceSeconds ?? 60);
  const { layout } = io;
  const rings = [new HashRing(primaries), new HashRing(failover)];
  let connected: Promise<Map<string, MemcachedNode>> | undefined;
  let closed = false;

  function nodes(): Promise<Map<string, MemcachedNode>> {
    if (closed) return Promise.reject(storeUnavailable('memcached', new Error('the store is closed')));
    connected ??= connectNodes([...primaries, ...failover], {
      connectTimeout: options.connectTimeout ?? 1000,
      commandTimeout: options.commandTimeout ?? 1000,
      retryAfter: options.retryDeadNodeAfter ?? 1000,
      clients: options.clients,
    }).then((list) => new Map(list.map((node) => [node.address, node])));
    connected.catch(() => {
      connected = undefined;
    });
    return connected;
  }

  /**
   * Runs `work` on the session's live nodes: [primary, backup?]. Primaries in ring order come
   * first, failover nodes after them, and nodes marked down are skipped, so when the primary
   * dies its backup becomes the primary. A node that fails mid-way is marked down and the
   * work is tried again on the next route.
   */
  async function onRoute<T>(
    id: string,
    work: (primary: MemcachedNode, mirror?: MemcachedNode) => Promise<T>,
  ) {
    const all = await nodes();
    const part = layout.sessionPart(id);
    let lastFailure: unknown = new Error(`all nodes are down (${[...all.keys()].join(', ')})`);
    for (let attempt = 0; attempt <= all.size; attempt++) {
      const now = Date.now();
      const route = rings.flatMap((ring) => ring.walk(part).map((address) => all.get(address)!));
      const [primary, mirror] = route.filter((node) => node.isUp(now));
      if (!primary) break;
      try {
        return await work(primary, backup ? mirror : undefined);
      } catch (error) {
        if (!(error instanceof NodeDown)) throw storeUnavailable('memcached', error);
        lastFailure = error;
      }
    }
    throw storeUnavailable('memcached', lastFailure);
  }

  /**
   * Reads the session from the primary and, side by side, the backup's metadata; the higher
   * revision holds the session (the other node may have restarted empty, or missed writes while
   * it was unreachable). Returns the holder, the other node, and how recent the other's copy is.
   */
  async function locate(
    primary: MemcachedNode,
    mirror: MemcachedNode | undefined,
    id: string,
    keys: AttributeKey[] | 'all',
  ) {
    if (!mirror)
      return { found: await io.read(primary, id, keys), holder: primary, other: mirror, otherRev: -1 };
    const [onPrimary, onMirror] = await Promise.all([
      io.read(primary, id, keys),
      io.readCopy(mirror, id, []),
    ]);
    if (revision(onMirror) <= revision(onPrimary)) {
      return { found: onPrimary, holder: primary, other: mirror, otherRev: revision(onMirror) };
    }
    const found =
      onMirror.state === 'live' && keys !== 'all' && keys.length === 0
        ? onMirror
        : await io.read(mirror, id, keys);
    return { found, holder: mirror, other: primary, otherRev: revision(onPrimary) };
  }

  /** Brings `target` up to date with the whole session as `holder` has it (a restarted node, missed writes). */
  async function copyTo(target: MemcachedNode, holder: MemcachedNode, id: string): Promise<void> {
    // Best effort: the operation that asked for the copy has already succeeded.
    await bestEffort(
      io.read(holder, id, 'all').then((whole) => {
        if (whole.state === 'live') return io.writeAll(target, whole.record, whole.attributes, 'set');
      }),
    );
  }

  /** Claims a session for destroy or rename: a CAS to a tombstone that only one caller can win. */
  async function claim(
    holder: MemcachedNode,
    id: string,
    first: Found,
    keys: AttributeKey[] | 'all',
  ): Promise<(Found & { state: 'live' }) | null> {
    let found = first;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (found.state !== 'live') return null;
      const tombstone = encodeTombstone(found.record.rev + 1);
      const outcome = await holder.cas(
        layout.meta(id),
        tombstone,
        io.tombstoneExptime(found.record),
        found.cas,
      );
      if (outcome === 'stored') return found;
      if (outcome === 'not_found') return null;
      found = await io.read(holder, id, keys);
    }
    throw new Error(`gave up on session ${id} after ${MAX_CAS_ATTEMPTS} conflicting writes`);
  }

  async function create(meta: SessionMeta, attributes: Map<AttributeKey, string>): Promise<void> {
    const record: MetaRecord = { meta, keys: [...attributes.keys()], attrsUntil: horizon(meta), rev: 1 };
    await onRoute(meta.id, async (primary, mirror) => {
      // `add` first: it is what refuses a taken id, before any attribute is written.
      if (!(await primary.store('add', layout.meta(meta.id), encodeRecord(record), io.metaExptime(record)))) {
        throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
      }
      const attrExp = io.attrExptime(record);
      const writes = [...attributes].map(([key, value]) =>
        primary.store('set', layout.attribute(meta.id, key), value, attrExp),
      );
      try {
        await Promise.all([...writes, mirror && bestEffort(io.writeAll(mirror, record, attributes, 'set'))]);
      } catch (error) {
        // The id is taken now; trying again elsewhere would report it as a duplicate.
        throw error instanceof NodeDown ? storeUnavailable('memcached', error) : error;
      }
    });
  }

  const store: Store = {
    name: 'memcached',
    group: layout.group,
    flags: { list: false, principalIndex: false, sweep: false, lease: false },

    load(id, keys, now) {
      return onRoute(id, async (primary, mirror) => {
        const { found, holder, other, otherRev } = await locate(primary, mirror, id, keys);
        if (found.state !== 'live') return null;
        // Repair on read: the primary is stale or lost it, or the backup lost it (restarted).
        if (other && (holder !== primary || otherRev < 0)) await copyTo(other, holder, id);
        const { meta } = found.record;
        if (meta.expiresAt !== null && meta.expiresAt <= now) return null;
        return { meta, attributes: found.attributes };
      });
    },

    loadAttributes(id, keys) {
      return onRoute(id, async (primary, mirror) => {
        const { found } = await locate(primary, mirror, id, keys);
        return found.state === 'live' ? found.attributes : new Map<AttributeKey, string>();
      });
    },

    create,

    update(id, change: SessionChange) {
      const set = change.set ?? new Map<AttributeKey, string>();
      const remove = change.remove ?? [];
      return onRoute(id, async (primary, mirror) => {
        let { found, holder, other, otherRev } = await locate(primary, mirror, id, []);
        // A copy that was current before this change can take just the change; others need it all.
        const otherCurrent = otherRev === revision(found);
        let wrote = false;
        for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS && found.state === 'live'; attempt++) {
          const next = applyChange(found.record, change);
          const attrExp = io.attrExptime(next);
          const untouched =
            next.attrsUntil !== found.record.attrsUntil ? next.keys.filter((key) => !set.has(key)) : [];
          // One pipelined batch: attribute writes first, then the CAS that publishes them in the index.
          const side = untouched.map((key) => holder.touch(layout.attribute(id, key), attrExp));
          if (!wrote) {
            for (const [key, value] of set)
              side.push(holder.store('set', layout.attribute(id, key), value, attrExp));
            for (const key of remove) side.push(holder.delete(layout.attribute(id, key)));
            wrote = true;
          }
          const sideDone = Promise.all(side);
          sideDone.catch(() => {}); // awaited below; this only keeps a failure from going unhandled meanwhile
          const outcome = await holder.cas(
            layout.meta(id),
            encodeRecord(next),
            io.metaExptime(next),
            found.cas,
          );
          await sideDone;
          if (outcome === 'stored') {
            if (other && otherCurrent)
              await bestEffort(mirrorChange(other, holder, next, set, remove, untouched));
            else if (other) await copyTo(other, holder, id);
            return true;
          }
          if (outcome === 'not_found') break;
          found = await io.read(holder, id, []);
          if (attempt >= 2) await pause(attempt);
        }
        if (found.state === 'live') {
          throw new Error(`gave up on session ${id} after ${MAX_CAS_ATTEMPTS} conflicting writes`);
        }
        // The session is gone: take back what this call wrote, so nothing of it lingers.
        if (wrote) await Promise.all([...set.keys()].map((key) => holder.delete(layout.attribute(id, key))));
        return false;
      });
    },

    destroy(id) {
      return onRoute(id, async (primary, mirror) => {
        const { found, holder, other } = await locate(primary, mirror, id, []);
        const won = await claim(holder, id, found, []);
        if (!won) return null;
        await Promise.all([holder, other].map((node) => node && bestEffort(io.wipe(node, id, won.record))));
        return won.record.meta;
      });
    },

    rename(oldId, newId) {
      return onRoute(oldId, async (primary, mirror) => {
        const { found, holder, other } = await locate(primary, mirror, oldId, 'all');
        const won = await claim(holder, oldId, found, 'all');
        if (!won) return false;
        try {
          await create({ ...won.record.meta, id: newId }, won.attributes);
        } catch (error) {
          // The new id could not be written: put the old session back as it was.
          await holder.store('set', layout.meta(oldId), encodeRecord(won.record), io.metaExptime(won.record));
          throw error;
        }
        await Promise.all(
          [holder, other].map((node) => node && bestEffort(io.wipe(node, oldId, won.record))),
        );
        return true;
      });
    },

    async close() {
      closed = true;
      const all = await connected?.catch(() => undefined);
      connected = undefined;
      for (const node of all?.values() ?? []) node.close();
    },
  };

  /** Replays a committed change on the backup; a backup without the session gets a full copy. */
  async function mirrorChange(
    target: MemcachedNode,
    holder: MemcachedNode,
    next: MetaRecord,
    set: Map<AttributeKey, string>,
    remove: AttributeKey[],
    untouched: AttributeKey[],
  ): Promise<void> {
    const { id } = next.meta;
    const attrExp = io.attrExptime(next);
    // Issued in this order on one connection: the attributes land before the metadata.
    const writes = [
      ...[...set].map(([key, value]) => target.store('set', layout.attribute(id, key), value, attrExp)),
      ...remove.map((key) => target.delete(layout.attribute(id, key))),
      ...untouched.map((key) => target.touch(layout.attribute(id, key), attrExp)),
    ];
    const meta = target.store('replace', layout.meta(id), encodeRecord(next), io.metaExptime(next));
    const [replaced] = await Promise.all([meta, ...writes]);
    if (!replaced) await copyTo(target, holder, id);
  }

  return store;
}

function pause(attempt: number): Promise<void> {
  // Jitter, so writers that keep colliding spread out.
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, 2 ** attempt)));
}
