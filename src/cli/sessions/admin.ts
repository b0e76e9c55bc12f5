/**
 * The part of the manager's admin API (issue 10 contract) the `sessions` commands use.
 * TEMPORARY: these mirror the contract until h10-core's manager methods are merged; then this
 * file re-exports the manager's own types.
 */
import type { SessionManager } from '../../core/manager.js';
import type { ListPage, SessionMeta } from '../../core/store.js';
import type { QueryFlags } from './flags.js';

export type Meta = SessionMeta & { createdUrl?: string; lastUrl?: string; lastHost?: string };

export interface SessionQuery extends QueryFlags {
  aliveAt?: number;
  sort?: 'id' | 'lastAccessedAt' | 'createdAt';
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
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

export interface SessionStatistics {
  app: string | null;
  at: number;
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
  store: { name: string; healthy: boolean; latencyMs: number | null; error?: string };
  sweeper: { lastRun: SweepRecord | null; lagMs: number | null };
}

export interface SessionView {
  meta: Meta;
  attributes: Array<{
    key: string;
    namespace: string;
    name: string;
    value: unknown;
    encoded: string;
    error?: string;
  }>;
}

export interface AdminManager {
  readonly store: SessionManager['store'];
  list(filter: SessionQuery): Promise<ListPage & { sessions: Meta[] }>;
  count(filter: SessionQuery): Promise<number>;
  stats(options?: { app?: string; onlineWindowMs?: number }): Promise<SessionStatistics>;
  inspect(id: string): Promise<SessionView | null>;
  destroy(id: string, reason?: string): Promise<boolean>;
  destroyMany(ids: string[], reason?: string): Promise<number>;
  destroyWhere(filter: SessionQuery, options: { dryRun?: boolean; reason?: string }): Promise<number>;
  revokePrincipal(principal: string, options?: { except?: string; reason?: string }): Promise<number>;
  close(): Promise<void>;
}

export function adminOf(manager: SessionManager): AdminManager {
  return manager as unknown as AdminManager;
}
