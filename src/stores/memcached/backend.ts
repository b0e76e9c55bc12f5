import { storeUnavailable, UnisessionError } from '../../core/errors.js';
import type { AttributeKey, SessionChange, SessionMeta } from '../../core/store.js';
import type { Backend } from '../kit/backend.js';
import { applyChange, encodeRecord, horizon, type MetaRecord } from './layout.js';
import { type MemcachedNode, NodeDown } from './nodes.js';
import { MAX_CAS_ATTEMPTS, type Nodes, type Router } from './routing.js';
import { bestEffort, revision } from './session-io.js';
import { memcachedTickets } from './tickets.js';

function pause(attempt: number): Promise<void> {
  // Jitter, so writers that keep colliding spread out.
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, 2 ** attempt)));
}

/**
 * The memcached operations: one metadata item per session (JSON, changed only with gets/cas,
 * so concurrent changes retry instead of clobbering each other) and one item per attribute,
 * each kept on the session's primary node and mirrored on its backup.
 */
export function memcachedBackend(router: Router): Backend<Nodes> {
  const { io } = router;
  const { layout } = io;

  async function create(
    all: Nodes,
    meta: SessionMeta,
    attributes: Map<AttributeKey, string>,
    ver = 1,
  ): Promise<number> {
    const record: MetaRecord = { meta, keys: [...attributes.keys()], attrsUntil: horizon(meta), rev: 1, ver };
    await router.onRoute(all, meta.id, async (primary, mirror) => {
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
    return ver;
  }

  /** Replays a committed change on the backup; a backup without the session gets a full copy. */
  async function mirrorChange(
    target: MemcachedNode,
    holder: MemcachedNode,
    next: MetaRecord,
    change: { set: Map<AttributeKey, string>; remove: AttributeKey[]; untouched: AttributeKey[] },
  ): Promise<void> {
    const { id } = next.meta;
    const attrExp = io.attrExptime(next);
    // Issued in this order on one connection: the attributes land before the metadata.
    const writes = [
      ...[...change.set].map(([key, value]) =>
        target.store('set', layout.attribute(id, key), value, attrExp),
      ),
      ...change.remove.map((key) => target.delete(layout.attribute(id, key))),
      ...change.untouched.map((key) => target.touch(layout.attribute(id, key), attrExp)),
    ];
    const meta = target.store('replace', layout.meta(id), encodeRecord(next), io.metaExptime(next));
    const [replaced] = await Promise.all([meta, ...writes]);
    if (!replaced) await router.copyTo(target, holder, id);
  }

  async function update(
    primary: MemcachedNode,
    mirror: MemcachedNode | undefined,
    id: string,
    change: SessionChange,
  ) {
    const set = change.set ?? new Map<AttributeKey, string>();
    const remove = change.remove ?? [];
    let { found, holder, other, otherRev } = await router.locate(primary, mirror, id, []);
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
      const outcome = await holder.cas(layout.meta(id), encodeRecord(next), io.metaExptime(next), found.cas);
      await sideDone;
      if (outcome === 'stored') {
        if (other && otherCurrent)
          await bestEffort(mirrorChange(other, holder, next, { set, remove, untouched }));
        else if (other) await router.copyTo(other, holder, id);
        // Never 0 (the port): a touch of a session from before versions reports true.
        return next.ver || true;
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
  }

  return {
    load: (all, id, keys, now, knownVersion) =>
      router.onRoute(all, id, async (primary, mirror) => {
        // Conditional: the metadata item alone first (it holds the version); the attribute
        // items only when the version differs, which is then a second trip (see
        // docs/decisions.md, "memcached versions": memcached has no conditional multi-get).
        const conditional = knownVersion !== undefined;
        const { found, holder, other, otherRev } = await router.locate(
          primary,
          mirror,
          id,
          conditional ? [] : keys,
        );
        if (found.state !== 'live') return null;
        // Repair on read: the primary is stale or lost it, or the backup lost it (restarted).
        if (other && (holder !== primary || otherRev < 0)) await router.copyTo(other, holder, id);
        const { meta, ver } = found.record;
        if (meta.expiresAt !== null && meta.expiresAt <= now) return null;
        if (!conditional) return { meta, attributes: found.attributes, version: ver };
        if (ver === knownVersion)
          return { meta, attributes: new Map<AttributeKey, string>(), version: ver, unchanged: true };
        const attributes = await io.attributesAfter(holder, id, found.record, keys);
        return { meta, attributes, version: ver };
      }),

    loadAttributes: (all, id, keys) =>
      router.onRoute(all, id, async (primary, mirror) => {
        const { found } = await router.locate(primary, mirror, id, keys);
        return found.state === 'live' ? found.attributes : new Map<AttributeKey, string>();
      }),

    create,

    update: (all, id, change) =>
      router.onRoute(all, id, (primary, mirror) => update(primary, mirror, id, change)),

    destroy: (all, id) =>
      router.onRoute(all, id, async (primary, mirror) => {
        const { found, holder, other } = await router.locate(primary, mirror, id, []);
        const won = await router.claim(holder, id, found, []);
        if (!won) return null;
        await Promise.all([holder, other].map((node) => node && bestEffort(io.wipe(node, id, won.record))));
        return won.record.meta;
      }),

    rename: (all, oldId, newId) =>
      router.onRoute(all, oldId, async (primary, mirror) => {
        const { found, holder, other } = await router.locate(primary, mirror, oldId, 'all');
        const won = await router.claim(holder, oldId, found, 'all');
        if (!won) return false;
        try {
          await create(all, { ...won.record.meta, id: newId }, won.attributes, won.record.ver + 1);
        } catch (error) {
          // The new id could not be written: put the old session back as it was.
          await holder.store('set', layout.meta(oldId), encodeRecord(won.record), io.metaExptime(won.record));
          throw error;
        }
        await Promise.all(
          [holder, other].map((node) => node && bestEffort(io.wipe(node, oldId, won.record))),
        );
        return won.record.ver + 1;
      }),
    tickets: memcachedTickets(router),
  };
}
