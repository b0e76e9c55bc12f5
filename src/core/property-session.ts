import type { Session } from './session.js';

/**
 * Property-style sessions (express-session, koa-session, @fastify/session): the attributes are
 * a plain object's own enumerable properties, read and assigned synchronously
 * (`session.views = 1`). The object is filled from the loaded handle, and copied back into the
 * handle just before it commits; the handle's change tracking then writes only what differs.
 * Methods and bookkeeping live on the prototype or as non-enumerable properties, so they are
 * never mistaken for attributes.
 */

type Bag = Record<string, unknown>;

/** The getters `fillFromHandle` installs; a property still holding one was never read or assigned. */
const lazyGetters = new WeakSet<() => unknown>();

function defineValue(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** Stored values longer than this are decoded on first access; shorter ones at once (cheaper than a getter). */
const LAZY_FROM_LENGTH = 512;

/**
 * Puts every attribute the handle has loaded on `target` as an own enumerable property. Large
 * values are decoded on first access (the getter then turns into a plain data property), so a
 * request that reads one attribute of a large session decodes, and re-encodes, only that one.
 */
export function fillFromHandle(target: object, handle: Session): void {
  for (const name of handle.loadedNames()) {
    if (handle.undecodedLength(name) < LAZY_FROM_LENGTH) {
      const value = handle.peek(name);
      // An undecodable value is left out, and so left alone in the store (see syncToHandle).
      if (value !== undefined) (target as Bag)[name] = value;
      continue;
    }
    const get = () => {
      const value = handle.peek(name);
      // An undecodable value reads as undefined and stays lazy, so the commit leaves it stored.
      if (value !== undefined) defineValue(target, name, value);
      return value;
    };
    lazyGetters.add(get);
    Object.defineProperty(target, name, {
      get,
      set: (value: unknown) => defineValue(target, name, value),
      enumerable: true,
      configurable: true,
    });
  }
}

/**
 * Copies `target`'s own enumerable properties into the handle: a new or reassigned value is
 * set, an `undefined` or deleted one is removed. A property never touched, or still holding the
 * very object that was loaded, is left alone: the handle re-encodes loaded objects at commit,
 * which catches in-place changes.
 */
export function syncToHandle(target: object, handle: Session): void {
  const bag = target as Bag;
  const present = new Set(Object.keys(bag));
  for (const name of present) {
    const getter = Object.getOwnPropertyDescriptor(bag, name)?.get;
    if (getter && lazyGetters.has(getter)) continue;
    const value = bag[name];
    if (value === undefined) handle.removeSync(name);
    else if (value !== handle.peek(name)) handle.setSync(name, value);
  }
  for (const name of handle.loadedNames()) {
    // Absent: deleted by the handler, unless it was never there because it does not decode.
    if (!present.has(name) && handle.peek(name) !== undefined) handle.removeSync(name);
  }
}

/** Deletes every own enumerable property (the session was emptied). */
export function clearProperties(target: object): void {
  for (const name of Object.keys(target)) delete (target as Bag)[name];
}

/** Defines non-enumerable, writable properties: bookkeeping that must not read as attributes. */
export function defineHidden(target: object, properties: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(properties)) {
    Object.defineProperty(target, name, { value, enumerable: false, writable: true, configurable: true });
  }
}
