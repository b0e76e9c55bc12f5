/**
 * TEMPORARY: the issue-10 contract's core types, until h10-core's commits are merged. Deleted
 * then; everything imports these names from here meanwhile, so the switch is one file.
 */
import type { ListFilter, SessionMeta } from '../core/store.js';

export interface SessionQuery extends Omit<ListFilter, 'sort'> {
  id?: string;
  idPrefix?: string;
  clientAddress?: string;
  host?: string;
  lastHost?: string;
  authenticated?: boolean;
  createdAfter?: number;
  createdBefore?: number;
  accessedAfter?: number;
  accessedBefore?: number;
  expiresBefore?: number;
  sort?: 'id' | 'lastAccessedAt' | 'createdAt';
  order?: 'asc' | 'desc';
  idleLongerThan?: number;
}
export interface HistogramBucket {
  le: number | null;
  count: number;
}
export interface SweepRecord {
  at: number;
  removed: number;
  durationMs: number;
  holder: string;
}
export interface StoreStats {
  live: number;
  authenticated: number;
  usersOnline: number;
  createdLastHour: number;
  createdLastDay: number;
  idle: HistogramBucket[];
  age: HistogramBucket[];
  perHost: Array<{ host: string; sessions: number }>;
  expiredPending: number;
  oldestExpiredAt: number | null;
}
export interface SessionStatistics extends StoreStats {
  app: string | null;
  at: number;
  store: { name: string; healthy: boolean; latencyMs: number | null; error?: string };
  sweeper: { lastRun: SweepRecord | null; lagMs: number | null };
}
export interface AuditEntry {
  at: number;
  actor: string;
  scope: string;
  action: string;
  target: string;
  count: number;
  detail?: Record<string, string | number | boolean>;
}
export interface StoreAudit {
  append(entry: AuditEntry): Promise<void>;
  list(query: { limit: number; cursor?: string }): Promise<{ entries: AuditEntry[]; next?: string }>;
}
export interface SessionView {
  meta: SessionMeta & { createdUrl: string; lastUrl: string; lastHost: string };
  attributes: Array<{
    key: string;
    namespace: string;
    name: string;
    value: unknown;
    encoded: string;
    error?: string;
  }>;
}
declare module '../core/manager.js' {
  interface SessionManager {
    stats(options?: { app?: string; onlineWindowMs?: number }): Promise<SessionStatistics>;
    inspect(id: string): Promise<SessionView | null>;
    destroy(id: string, reason?: string): Promise<boolean>;
    destroyMany(ids: string[], reason?: string): Promise<number>;
    destroyWhere(filter: SessionQuery, options?: { dryRun?: boolean; reason?: string }): Promise<number>;
    expireIdle(ms: number): Promise<number>;
    removeAttribute(id: string, namespace: string, name: string): Promise<boolean>;
    ping(): Promise<{ healthy: boolean; latencyMs: number | null }>;
  }
}
