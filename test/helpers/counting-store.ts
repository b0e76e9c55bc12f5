import { CAPABILITY_METHODS, type Store } from '../../src/core/store.js';

/**
 * Wraps a real store and counts calls per method: each call is one store round trip. A
 * method of a capability group counts as `<group>.<method>` (`listing.list`).
 */
export function countingStore(inner: Store): Store & { calls: string[]; reset(): void } {
  const calls: string[] = [];
  const counted = <T extends object>(target: T, prefix: string): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (prefix === '' && typeof property === 'string' && Object.hasOwn(CAPABILITY_METHODS, property)) {
          return value && counted(value, `${property}.`);
        }
        if (typeof value !== 'function' || property === 'close') return value;
        return (...args: unknown[]) => {
          calls.push(`${prefix}${String(property)}`);
          return value.apply(object, args);
        };
      },
    });
  return Object.assign(counted(inner, ''), {
    calls,
    reset() {
      calls.length = 0;
    },
  });
}
