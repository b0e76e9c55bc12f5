import { UnisessionError } from '../core/errors.js';
import {
  type AttributeKey,
  AUDIT_LOG_LIMIT,
  type AuditEntry,
  type SessionMeta,
  type Store,
  type SweepRecord,
} from '../core/store.js';
import { checkOptions } from '../core/validate.js';
import type { Backend } from './kit/backend.js';
import { defineStore } from './kit/define.js';
import { isGroupName, storeGroup } from './kit/group.js';
import { compareIn, isAfter, matches } from './kit/paging.js';
import { statsOf } from './kit/stats.js';
import { bumpsVersion } from './kit/versions.js';

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
  /** Bumped by every change but a touch (see "Versions" in core/store.ts). */
  version: number;
}

/** Everything the store holds; `close` drops it. */
class Memory {
  readonly entries = new Map<string, Entry>();
  readonly leases = new Map<string, { holder: string; expiresAt: number }>();
  /** Oldest first; `sequence` numbers them, so a cursor survives entries dropped meanwhile. */
  readonly audit: Array<{ sequence: number; entry: AuditEntry }> = [];
  sequence = 0;
  lastSweep: SweepRecord | null = null;
  readonly tickets = new Map<string, { value: string; expiresAt: number }>();
  /** Expired tickets are dropped when the map has doubled since the last drop, so it cannot leak. */
  private ticketsAtLastPrune = 64;

  pruneTickets(now: number): void {
    if (this.tickets.size < this.ticketsAtLastPrune * 2) return;
    for (const [key, ticket] of this.tickets) if (ticket.expiresAt <= now) this.tickets.delete(key);
    this.ticketsAtLastPrune = Math.max(64, this.tickets.size);
  }
  private readonly byPrincipal = new Map<string, Set<string>>();

  alive(id: string, now: number): Entry | undefined {
    const entry = this.entries.get(id);
    return entry && (entry.meta.expiresAt === null || entry.meta.expiresAt > now) ? entry : undefined;
  }

  /** Moves `meta.id` in the principal index from `meta.principal` to `principal`. */
  index(meta: SessionMeta, principal: string | null): void {
    const ids = meta.principal ? this.byPrincipal.get(meta.principal) : undefined;
    ids?.delete(meta.id);
    if (ids?.size === 0) this.byPrincipal.delete(meta.principal!);
    if (principal)
      this.byPrincipal.set(principal, (this.byPrincipal.get(principal) ?? new Set()).add(meta.id));
  }

  put(entry: Entry): void {
    this.entries.set(entry.meta.id, entry);
    this.index({ ...entry.meta, principal: null }, entry.meta.principal);
  }

  remove(id: string): SessionMeta | null {
    const entry = this.entries.get(id);
    if (!entry) return null;
    this.entries.delete(id);
    this.index(entry.meta, null);
    return { ...entry.meta };
  }

  principal(principal: string): string[] {
    return [...(this.byPrincipal.get(principal) ?? [])];
  }

  clear(): void {
    this.entries.clear();
    this.byPrincipal.clear();
    this.audit.length = 0;
    this.tickets.clear();
  }
}

function pick(attributes: Map<AttributeKey, string>, keys: AttributeKey[]): Map<AttributeKey, string> {
  return new Map(keys.flatMap((key) => (attributes.has(key) ? [[key, attributes.get(key)!]] : [])));
}

const memory: Backend<Memory> = {
  async load(m, id, keys, now, knownVersion) {
    const entry = m.alive(id, now);
    if (!entry) return null;
    const { version } = entry;
    if (version === knownVersion)
      return { meta: { ...entry.meta }, attributes: new Map(), version, unchanged: true };
    const attributes = keys === 'all' ? new Map(entry.attributes) : pick(entry.attributes, keys);
    return { meta: { ...entry.meta }, attributes, version };
  },
  async loadAttributes(m, id, keys) {
    return pick(m.entries.get(id)?.attributes ?? new Map(), keys);
  },
  async create(m, meta, attributes) {
    if (m.entries.has(meta.id)) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
    m.put({ meta: { ...meta }, attributes: new Map(attributes), version: 1 });
    return 1;
  },
  async update(m, id, change) {
    const entry = m.entries.get(id);
    if (!entry) return false;
    if (change.meta?.principal !== undefined) m.index(entry.meta, change.meta.principal);
    Object.assign(entry.meta, change.meta);
    for (const [key, value] of change.set ?? []) entry.attributes.set(key, value);
    for (const key of change.remove ?? []) entry.attributes.delete(key);
    if (bumpsVersion(change)) entry.version++;
    return entry.version;
  },
  async destroy(m, id) {
    return m.remove(id);
  },
  async rename(m, oldId, newId) {
    const entry = m.entries.get(oldId);
    if (!entry) return false;
    if (m.entries.has(newId)) throw new UnisessionError('UNISESSION_SESSION_EXISTS', newId);
    m.remove(oldId);
    entry.meta.id = newId;
    entry.version++;
    m.put(entry);
    return entry.version;
  },
  listing: {
    async list(m, { filter, limit, ordering, after }) {
      const found: SessionMeta[] = [];
      for (const { meta } of m.entries.values()) {
        if ((after === undefined || isAfter(meta, after, ordering)) && matches(meta, filter))
          found.push(meta);
      }
      return found
        .sort(compareIn(ordering))
        .slice(0, limit + 1)
        .map((meta) => ({ ...meta }));
    },
    async count(m, filter) {
      let n = 0;
      for (const entry of m.entries.values()) if (matches(entry.meta, filter)) n++;
      return n;
    },
  },
  principals: {
    async find(m, principal) {
      return m.principal(principal);
    },
  },
  sweeping: {
    async sweep(m, now, limit) {
      const expired: string[] = [];
      for (const { meta } of m.entries.values()) {
        if (expired.length === limit) break;
        if (meta.expiresAt !== null && meta.expiresAt <= now) expired.push(meta.id);
      }
      return expired.map((id) => m.remove(id)!);
    },
  },
  stats: {
    async compute(m, query) {
      return statsOf(
        [...m.entries.values()].map((entry) => entry.meta),
        query,
      );
    },
    async noteSweep(m, record) {
      m.lastSweep = { ...record };
    },
    async lastSweep(m) {
      return m.lastSweep && { ...m.lastSweep };
    },
  },
  audit: {
    async append(m, entry) {
      m.audit.push({ sequence: ++m.sequence, entry: structuredClone(entry) });
      if (m.audit.length > AUDIT_LOG_LIMIT) m.audit.splice(0, m.audit.length - AUDIT_LOG_LIMIT);
    },
    async list(m, limit, before) {
      const below = before === undefined ? Number.POSITIVE_INFINITY : Number(before);
      const found: Array<{ position: string; entry: AuditEntry }> = [];
      for (let i = m.audit.length - 1; i >= 0 && found.length <= limit; i--) {
        const { sequence, entry } = m.audit[i]!;
        if (sequence < below) found.push({ position: String(sequence), entry: structuredClone(entry) });
      }
      return found;
    },
  },
  leases: {
    async acquire(m, name, holder, ttlMs, now) {
      const lease = m.leases.get(name);
      if (lease && lease.holder !== holder && lease.expiresAt > now) return false;
      m.leases.set(name, { holder, expiresAt: now + ttlMs });
      return true;
    },
  },
  tickets: {
    async put(m, key, value, ttlMs, now) {
      m.pruneTickets(now);
      m.tickets.set(key, { value, expiresAt: now + ttlMs });
    },
    // One synchronous get-and-delete: no other take can run in between.
    async take(m, key, now) {
      const ticket = m.tickets.get(key);
      m.tickets.delete(key);
      return ticket && ticket.expiresAt > now ? ticket.value : null;
    },
  },
};

/**
 * Sessions in this process's memory: for tests and single-process development. Nothing is
 * shared between processes and nothing survives a restart. Expired sessions are removed by
 * the manager's sweeper (on by default), so the map does not grow without bound.
 */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  checkOptions('memoryStore', options, { group: isGroupName });
  return defineStore({
    name: 'memory',
    group: storeGroup('memoryStore', options.group),
    open: async () => new Memory(),
    release: (m) => m.clear(),
    backend: memory,
  });
}
