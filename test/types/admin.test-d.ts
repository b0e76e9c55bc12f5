/**
 * Type tests for the monitoring centre's public typings (issue 10): the store groups, the
 * richer filters, the manager's admin API, devices and the new events. Checked by tsc, never
 * run; each `@ts-expect-error` is a mistake the typing must keep catching.
 */
import { expectTypeOf } from 'expect-type';
import type {
  AuditEntry,
  AuditPage,
  DestroyReason,
  Device,
  HistogramBucket,
  ListFilter,
  ListPage,
  Session,
  SessionEvents,
  SessionManager,
  SessionMeta,
  SessionOptions,
  SessionStatistics,
  SessionView,
  StoreHealth,
  StoreStats,
  SweeperStatus,
  SweepRecord,
} from 'unisession';
import { AUDIT_LOG_LIMIT, DEFAULT_IDLE_BOUNDS } from 'unisession';
import { memoryStore } from 'unisession/stores/memory';

declare const manager: SessionManager;
declare const session: Session;

export async function adminApi(): Promise<void> {
  expectTypeOf(
    await manager.stats({ app: 'shop', onlineWindowMs: 60_000 }),
  ).toEqualTypeOf<SessionStatistics>();
  expectTypeOf<SessionStatistics['idle']>().toEqualTypeOf<HistogramBucket[]>();
  expectTypeOf<HistogramBucket['le']>().toEqualTypeOf<number | null>();
  expectTypeOf<SessionStatistics>().toMatchTypeOf<StoreStats>();
  expectTypeOf(await manager.inspect('id')).toEqualTypeOf<SessionView | null>();
  expectTypeOf(
    await manager.list({ idleLongerThan: 600_000, sort: 'lastAccessedAt', order: 'desc' }),
  ).toEqualTypeOf<ListPage>();
  expectTypeOf(
    await manager.count({ clientAddress: '10.0.0.0/8', authenticated: true }),
  ).toEqualTypeOf<number>();
  expectTypeOf(await manager.destroyWhere({ principal: 'ann' }, { dryRun: true })).toEqualTypeOf<number>();
  expectTypeOf(await manager.destroyMany(['a', 'b'], 'revoked')).toEqualTypeOf<number>();
  expectTypeOf(
    await manager.revokePrincipal('ann', { except: 'id', reason: 'revoked' }),
  ).toEqualTypeOf<number>();
  expectTypeOf(await manager.removeAttribute('id', '', 'user')).toEqualTypeOf<boolean>();
  expectTypeOf(await manager.expireIdle(60_000)).toEqualTypeOf<number>();
  expectTypeOf(await manager.ping()).toEqualTypeOf<StoreHealth>();
  expectTypeOf(await manager.sweeperStatus()).toEqualTypeOf<SweeperStatus>();
  expectTypeOf<SweeperStatus['lastRun']>().toEqualTypeOf<SweepRecord | null>();
  expectTypeOf(await manager.auditLog({ limit: 10 })).toEqualTypeOf<AuditPage>();
  expectTypeOf(manager.audit).parameter(0).toEqualTypeOf<AuditEntry>();
  manager.on('audit', ({ entry }) => expectTypeOf(entry).toEqualTypeOf<AuditEntry>());
  // @ts-expect-error sorting by principal is not an order the stores keep
  await manager.list({ sort: 'principal' });
  // @ts-expect-error a reason is one of the four
  await manager.destroy('id', 'bored');
  // @ts-expect-error count takes no paging
  await manager.count({ limit: 5 });
}

export async function devices(): Promise<void> {
  expectTypeOf(await session.devices()).toEqualTypeOf<Device[]>();
  expectTypeOf<Device['current']>().toEqualTypeOf<boolean>();
  expectTypeOf(await session.revokeOtherSessions()).toEqualTypeOf<number>();
  expectTypeOf(await session.revokeDevice('handle')).toEqualTypeOf<boolean>();
  const limited: SessionOptions = { app: 'shop', maxSessionsPerPrincipal: { limit: 3, policy: 'refuse' } };
  const evicting: SessionOptions = { app: 'shop', maxSessionsPerPrincipal: 3 };
  // @ts-expect-error the policy is 'evict-oldest' or 'refuse'
  const wrong: SessionOptions = { app: 'shop', maxSessionsPerPrincipal: { limit: 3, policy: 'drop' } };
  void [limited, evicting, wrong];
}

export async function storeGroups(): Promise<void> {
  const store = memoryStore();
  const stats = store.stats;
  if (stats) {
    expectTypeOf(await stats.lastSweep()).toEqualTypeOf<SweepRecord | null>();
    expectTypeOf(stats.compute).parameter(0).toHaveProperty('idleBounds').toEqualTypeOf<number[]>();
  }
  const audit = store.audit;
  if (audit) {
    expectTypeOf(await audit.list({ limit: 50 })).toEqualTypeOf<AuditPage>();
    const entry: AuditEntry = { at: 1, actor: 'ops', scope: 'all', action: 'destroy', target: 'x', count: 1 };
    await audit.append(entry);
    // @ts-expect-error detail values are strings, numbers or booleans
    await audit.append({ ...entry, detail: { nested: { a: 1 } } });
  }
  expectTypeOf(AUDIT_LOG_LIMIT).toEqualTypeOf<number>();
  expectTypeOf(DEFAULT_IDLE_BOUNDS).toEqualTypeOf<readonly number[]>();
  const filter: ListFilter = { idPrefix: 'ab', lastHost: 'node-1', expiresBefore: 1, cursor: 'opaque' };
  void filter;
  expectTypeOf<SessionMeta['lastUrl']>().toEqualTypeOf<string>();
}

export function events(): void {
  expectTypeOf<SessionEvents['destroyed']['reason']>().toEqualTypeOf<DestroyReason>();
  expectTypeOf<DestroyReason>().toEqualTypeOf<'invalidated' | 'expired' | 'revoked' | 'evicted'>();
  expectTypeOf<SessionEvents['committed']['kind']>().toEqualTypeOf<'delta' | 'touch' | 'none'>();
  expectTypeOf<SessionEvents['storeOperation']>().toEqualTypeOf<{
    store: string;
    op: string;
    durationMs: number;
    ok: boolean;
  }>();
  manager.on('regenerated', ({ oldId, newId }) => {
    expectTypeOf(oldId).toEqualTypeOf<string>();
    expectTypeOf(newId).toEqualTypeOf<string>();
  });
}
