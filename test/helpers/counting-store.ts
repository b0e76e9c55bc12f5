import type { Store } from '../../src/core/store.js';

/** Wraps a real store and counts calls per method: each call is one store round trip. */
export function countingStore(inner: Store): Store & { calls: string[]; reset(): void } {
  const calls: string[] = [];
  const proxy = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
  return Object.assign(proxy, {
    calls,
    reset() {
      calls.length = 0;
    },
  });
}
