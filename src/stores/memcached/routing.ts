import type { AttributeKey } from '../../core/store.js';
import { encodeTombstone } from './layout.js';
import { type MemcachedNode, NodeDown } from './nodes.js';
import { HashRing } from './ring.js';
import { bestEffort, type Found, revision, type SessionIo } from './session-io.js';

/** Every node of the store, by address: what the store opens once. */
export type Nodes = Map<string, MemcachedNode>;

/** A CAS loop that keeps losing is contention gone wrong; stop rather than spin. */
export const MAX_CAS_ATTEMPTS = 100;

/** Where a session is: the node holding the newest copy, and the other node of its route. */
export interface Located {
  found: Found;
  holder: MemcachedNode;
  other: MemcachedNode | undefined;
  /** How recent the other node's copy is (`revision`); -1 when it has none. */
  otherRev: number;
}

/**
 * Which nodes hold a session, and how to keep its two copies in step: the primary and the
 * backup (the next node on the ring), with failover nodes behind the primaries.
 */
export class Router {
  private readonly rings: HashRing[];

  constructor(
    readonly io: SessionIo,
    primaries: string[],
    failover: string[],
    private readonly backup: boolean,
  ) {
    this.rings = [new HashRing(primaries), new HashRing(failover)];
  }

  /**
   * Runs `work` on the session's live nodes: [primary, backup?]. Primaries in ring order come
   * first, failover nodes after them, and nodes marked down are skipped, so when the primary
   * dies its backup becomes the primary. A node that fails mid-way is marked down and the
   * work is tried again on the next route.
   */
  async onRoute<T>(
    all: Nodes,
    id: string,
    work: (primary: MemcachedNode, mirror?: MemcachedNode) => Promise<T>,
  ): Promise<T> {
    const part = this.io.layout.sessionPart(id);
    let lastFailure: unknown = new Error(`all nodes are down (${[...all.keys()].join(', ')})`);
    for (let attempt = 0; attempt <= all.size; attempt++) {
      const now = Date.now();
      const route = this.rings.flatMap((ring) => ring.walk(part).map((address) => all.get(address)!));
      const [primary, mirror] = route.filter((node) => node.isUp(now));
      if (!primary) break;
      try {
        return await work(primary, this.backup ? mirror : undefined);
      } catch (error) {
        if (!(error instanceof NodeDown)) throw error;
        lastFailure = error;
      }
    }
    throw lastFailure;
  }

  /**
   * Reads the session from the primary and, side by side, the backup's metadata; the higher
   * revision holds the session (the other node may have restarted empty, or missed writes while
   * it was unreachable).
   */
  async locate(
    primary: MemcachedNode,
    mirror: MemcachedNode | undefined,
    id: string,
    keys: AttributeKey[] | 'all',
  ): Promise<Located> {
    const { io } = this;
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
  async copyTo(target: MemcachedNode, holder: MemcachedNode, id: string): Promise<void> {
    const { io } = this;
    // Best effort: the operation that asked for the copy has already succeeded.
    await bestEffort(
      io.read(holder, id, 'all').then((whole) => {
        if (whole.state === 'live') return io.writeAll(target, whole.record, whole.attributes, 'set');
      }),
    );
  }

  /** Claims a session for destroy or rename: a CAS to a tombstone that only one caller can win. */
  async claim(
    holder: MemcachedNode,
    id: string,
    first: Found,
    keys: AttributeKey[] | 'all',
  ): Promise<(Found & { state: 'live' }) | null> {
    const { io } = this;
    let found = first;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (found.state !== 'live') return null;
      const tombstone = encodeTombstone(found.record.rev + 1);
      const outcome = await holder.cas(
        io.layout.meta(id),
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
}
