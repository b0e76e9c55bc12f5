/**
 * The event-driven metrics: counters and the store-latency histogram, fed by each manager's
 * events. Listening to `storeOperation` is what turns the manager's measuring on; without
 * metrics it costs nothing.
 */
import type { Registry } from 'prom-client';
import type { CommitKind, DestroyReason } from '../core/events.js';
import type { SessionManager } from '../core/manager.js';
import type { PromClientModule } from './prom-client.js';

/** Every value a label can take is known up front, so each series exists (at 0) from the start. */
const REASONS: readonly DestroyReason[] = ['invalidated', 'expired', 'revoked', 'evicted'];
const KINDS: readonly CommitKind[] = ['delta', 'touch', 'none'];

/** Store latency buckets, in seconds: from an embedded SQLite read (~0.1 ms) to a command timeout (2 s). */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A registered set of metrics, removable again. */
export interface Installed {
  remove(): void;
}

export function installCounters(
  prom: PromClientModule,
  registry: Registry,
  prefix: string,
  managers: readonly SessionManager[],
): Installed {
  const registers = [registry];
  const created = new prom.Counter({
    name: `${prefix}sessions_created_total`,
    help: 'Sessions created by this node.',
    registers,
  });
  const destroyed = new prom.Counter({
    name: `${prefix}sessions_destroyed_total`,
    help: 'Sessions this node removed, by reason (invalidated, expired, revoked, evicted).',
    labelNames: ['reason'] as const,
    registers,
  });
  const regenerations = new prom.Counter({
    name: `${prefix}session_regenerations_total`,
    help: 'Session ids renewed by this node (regenerate(), at login).',
    registers,
  });
  const commits = new prom.Counter({
    name: `${prefix}commits_total`,
    help: 'Commits of loaded sessions by this node: delta (a write), touch (the access time only) or none.',
    labelNames: ['kind'] as const,
    registers,
  });
  const storeErrors = new prom.Counter({
    name: `${prefix}store_errors_total`,
    help: 'Store operations of this node that failed, by store and operation.',
    labelNames: ['store', 'op'] as const,
    registers,
  });
  const decodeErrors = new prom.Counter({
    name: `${prefix}decode_errors_total`,
    help: 'Stored attribute values this node could not decode (they read as absent).',
    registers,
  });
  const durations = new prom.Histogram({
    name: `${prefix}store_operation_duration_seconds`,
    help: 'Duration of the store operations of this node, by store and operation.',
    labelNames: ['store', 'op'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  for (const reason of REASONS) destroyed.labels(reason).inc(0);
  for (const kind of KINDS) commits.labels(kind).inc(0);

  const unsubscribe = managers.flatMap((manager) => [
    manager.on('created', () => created.inc()),
    manager.on('destroyed', ({ reason }) => destroyed.labels(reason).inc()),
    manager.on('regenerated', () => regenerations.inc()),
    manager.on('committed', ({ kind }) => commits.labels(kind).inc()),
    manager.on('decodeError', () => decodeErrors.inc()),
    manager.on('storeOperation', ({ store, op, durationMs, ok }) => {
      durations.labels(store, op).observe(durationMs / 1000);
      if (!ok) storeErrors.labels(store, op).inc();
    }),
  ]);
  const names = [
    'sessions_created_total',
    'sessions_destroyed_total',
    'session_regenerations_total',
    'commits_total',
    'store_errors_total',
    'decode_errors_total',
    'store_operation_duration_seconds',
  ];
  return {
    remove() {
      for (const stop of unsubscribe) stop();
      for (const name of names) registry.removeSingleMetric(`${prefix}${name}`);
    },
  };
}
