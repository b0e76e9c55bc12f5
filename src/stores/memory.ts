import { UnisessionError } from '../core/errors.js';
import type { AttributeKey, ListFilter, SessionMeta, Store } from '../core/store.js';
import { checkLimit, checkOptions, isGroupName } from '../core/validate.js';

export interface MemoryStoreOptions {
  /**
   * The group the store holds: a manager given a different `group` refuses this store. It
   * names nothing (the sessions live in this one object). @default 'unisession'
   */
  group?: string;
}

interface Entry {
  meta: SessionMeta;
  attributes: Map<AttributeKey, string>;
}

/**
 * Sessions in this process's memory: for tests and single-process development. Nothing is
 * shared between processes and nothing survives a restart. Expired sessions are removed by
 * the manager's sweeper (on by default), so the map does not grow without bound.
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  checkOptions('memoryStore', options, { group: isGroupName });
  const entries = new Map<string, Entry>();
  const byPrincipal = new Map<string, Set<string>>();
  const leases = new Map<string, { holder: string; expiresAt: number }>();

  const alive = (entry: Entry | undefined, now: number): entry is Entry =>
    entry !== undefined && (entry.meta.expiresAt === null || entry.meta.expiresAt > now);

  function index(meta: SessionMeta, principal: string | null): void {
    if (meta.principal) byPrincipal.get(meta.principal)?.delete(meta.id);
    if (meta.principal && byPrincipal.get(meta.principal)?.size === 0) byPrincipal.delete(meta.principal);
    if (principal) {
      const ids = byPrincipal.get(principal) ?? new Set();
      ids.add(meta.id);
      byPrincipal.set(principal, ids);
    }
  }

  function remove(id: string): SessionMeta | null {
    const entry = entries.get(id);
    if (!entry) return null;
    entries.delete(id);
    index(entry.meta, null);
    return { ...entry.meta };
  }

  function matches(meta: SessionMeta, filter: ListFilter): boolean {
    return (
      (filter.app === undefined || meta.app === filter.app) &&
      (filter.principal === undefined || meta.principal === filter.principal) &&
      (filter.aliveAt === undefined || meta.expiresAt === null || meta.expiresAt > filter.aliveAt)
    );
  }

  return {
    name: 'memory',
    group: options.group ?? 'unisession',
    flags: { list: true, principalIndex: true, sweep: true, lease: true },

    async load(id, keys, now) {
      const entry = entries.get(id);
      if (!alive(entry, now)) return null;
      const attributes =
        keys === 'all'
          ? new Map(entry.attributes)
          : new Map(
              keys.flatMap((key) => (entry.attributes.has(key) ? [[key, entry.attributes.get(key)!]] : [])),
            );
      return { meta: { ...entry.meta }, attributes };
    },

    async loadAttributes(id, keys) {
      const entry = entries.get(id);
      const result = new Map<AttributeKey, string>();
      for (const key of keys) {
        const value = entry?.attributes.get(key);
        if (value !== undefined) result.set(key, value);
      }
      return result;
    },

    async create(meta, attributes) {
      if (entries.has(meta.id)) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
      entries.set(meta.id, { meta: { ...meta }, attributes: new Map(attributes) });
      index({ ...meta, principal: null }, meta.principal);
    },

    async update(id, change) {
      const entry = entries.get(id);
      if (!entry) return false;
      if (change.meta) {
        if (change.meta.principal !== undefined) index(entry.meta, change.meta.principal);
        Object.assign(entry.meta, change.meta);
      }
      for (const [key, value] of change.set ?? []) entry.attributes.set(key, value);
      for (const key of change.remove ?? []) entry.attributes.delete(key);
      return true;
    },

    async destroy(id) {
      return remove(id);
    },

    async rename(oldId, newId) {
      const entry = entries.get(oldId);
      if (!entry) return false;
      if (entries.has(newId)) throw new UnisessionError('UNISESSION_SESSION_EXISTS', newId);
      remove(oldId);
      entry.meta.id = newId;
      entries.set(newId, entry);
      index({ ...entry.meta, principal: null }, entry.meta.principal);
      return true;
    },

    async list(filter) {
      const limit = checkLimit('memoryStore.list', filter.limit);
      const ids = [...entries.keys()]
        .filter((id) => filter.cursor === undefined || id > filter.cursor)
        .sort();
      const page: SessionMeta[] = [];
      for (const id of ids) {
        const meta = entries.get(id)!.meta;
        if (!matches(meta, filter)) continue;
        if (page.length === limit) return { sessions: page, next: page[page.length - 1]!.id };
        page.push({ ...meta });
      }
      return { sessions: page };
    },

    async count(filter) {
      let n = 0;
      for (const entry of entries.values()) if (matches(entry.meta, filter)) n++;
      return n;
    },

    async findByPrincipal(principal) {
      return [...(byPrincipal.get(principal) ?? [])];
    },

    async sweep(now, limit) {
      const expired: SessionMeta[] = [];
      for (const entry of entries.values()) {
        if (expired.length === limit) break;
        if (entry.meta.expiresAt !== null && entry.meta.expiresAt <= now) expired.push(entry.meta);
      }
      return expired.map((meta) => remove(meta.id)!);
    },

    async acquireLease(name, holder, ttlMs, now) {
      const lease = leases.get(name);
      if (lease && lease.holder !== holder && lease.expiresAt > now) return false;
      leases.set(name, { holder, expiresAt: now + ttlMs });
      return true;
    },

    async close() {
      entries.clear();
      byPrincipal.clear();
    },
  };
}
