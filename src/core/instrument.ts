import type { SessionEmitter } from './events.js';
import { CAPABILITY_METHODS, type Store } from './store.js';

const REQUIRED = ['load', 'loadAttributes', 'create', 'update', 'destroy', 'rename'] as const;

/**
 * The store as the manager calls it: each operation fires `storeOperation` (store, op,
 * duration, ok) for the metrics. When nobody listens it calls straight through, so the
 * measuring costs a `has` check and nothing else. `op` names the method, with its group
 * (`listing.list`); never an id or a value.
 */
export function instrumentStore(store: Store, events: SessionEmitter): Store {
  const measure =
    <A extends unknown[], R>(op: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (!events.has('storeOperation')) return call(...args);
      const started = performance.now();
      let ok = false;
      try {
        const result = await call(...args);
        ok = true;
        return result;
      } finally {
        events.emit('storeOperation', { store: store.name, op, durationMs: performance.now() - started, ok });
      }
    };
  const wrapped: Record<string, unknown> = {
    name: store.name,
    group: store.group,
    close: () => store.close(),
  };
  for (const method of REQUIRED) {
    const call = store[method] as (...args: unknown[]) => Promise<unknown>;
    wrapped[method] = measure(method, call.bind(store));
  }
  for (const [group, methods] of Object.entries(CAPABILITY_METHODS)) {
    const original = store[group as keyof typeof CAPABILITY_METHODS] as Record<string, unknown> | undefined;
    if (!original) continue;
    const copy: Record<string, unknown> = {};
    for (const method of methods) {
      const call = original[method] as (...args: unknown[]) => Promise<unknown>;
      copy[method] = measure(`${group}.${method}`, call.bind(original));
    }
    wrapped[group] = copy;
  }
  return wrapped as unknown as Store;
}
