import { UnisessionError } from '../../core/errors.js';
import { internalsOf, type Session } from '../../core/session.js';

/**
 * Property-style sessions (express-session, koa-session, @fastify/session): the attributes are
 * a plain object's own enumerable properties, read and assigned synchronously
 * (`session.views = 1`). The object is filled from the loaded handle, and what the handler
 * changed is copied back into the handle just before it commits.
 *
 * - Only changes are copied back: a property assigned, replaced or deleted since the fill (or
 *   the last sync). A property left alone is not written, so a change made meanwhile through
 *   the native handle (`sessionHandle.remove('user')` at logout) survives. In-place mutation
 *   of a loaded object is still saved: the handle re-encodes loaded objects at commit.
 * - Properties are defined with `Object.defineProperty`, never assigned, so a stored
 *   `__proto__` cannot become the object's prototype.
 * - A name that clashes with the object's own members (its class's methods and getters,
 *   Object.prototype's names, its hidden bookkeeping) is reserved: a stored attribute with
 *   such a name is not exposed (the native handle still reads it, and it stays stored), and
 *   a handler that sets one gets `UNISESSION_INVALID_NAME`.
 */

type Bag = Record<string, unknown>;

/** Stands for a lazy property not read yet, in a baseline. */
const NOT_READ = Symbol('not read');

/** The getters `fillFromHandle` installs; a property still holding one was never read or assigned. */
const lazyGetters = new WeakSet<() => unknown>();

/** What each property held at the fill or the last sync: changes are measured against it. */
const baselines = new WeakMap<object, Map<string, unknown>>();

/** Stored values longer than this are decoded on first access; shorter ones at once (cheaper than a getter). */
const LAZY_FROM_LENGTH = 512;

/**
 * The names a property-style session of this class never uses for attributes: the members
 * of its prototype chain, Object.prototype's (`__proto__`, `constructor`, `toString`...),
 * `prototype`, and `hidden` (its non-enumerable instance properties).
 */
export function reservedNames(type: abstract new (...args: never[]) => object, hidden: string[] = []) {
  const names = new Set<string>(['prototype', ...hidden, ...Object.getOwnPropertyNames(Object.prototype)]);
  for (let proto = type.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto))
    for (const name of Object.getOwnPropertyNames(proto)) names.add(name);
  return names as ReadonlySet<string>;
}

/** The error for a reserved name a handler tried to use as an attribute. */
export function reservedNameError(name: string): UnisessionError {
  return new UnisessionError(
    'UNISESSION_INVALID_NAME',
    `"${name}" is reserved by the session object; use the native session handle for this name`,
  );
}

/**
 * Puts an attribute property on `target`. A new name is assigned: that makes the same own,
 * enumerable, writable property as `defineProperty`, several times cheaper, and no name that
 * reaches here is on the prototype chain (those are reserved). `__proto__` is always defined,
 * never assigned (the guard's setter would swallow it), and so is a name the object already
 * has, which may be a lazy getter.
 */
export function defineValue(target: object, name: string, value: unknown): void {
  if (name !== '__proto__' && !Object.hasOwn(target, name)) (target as Bag)[name] = value;
  else Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** An attribute set by an explicit call (`session.set(name, v)`, `ctx.session = {...}`): a reserved name throws at once. */
export function setAttribute(
  target: object,
  name: string,
  value: unknown,
  reserved: ReadonlySet<string>,
): void {
  if (reserved.has(name)) throw reservedNameError(name);
  defineValue(target, name, value);
}

/**
 * Makes `target.__proto__ = x` (or `Object.assign(target, JSON.parse(body))`) a no-op instead
 * of a prototype change; reading `__proto__` still gives the prototype.
 */
export function guardPrototype(target: object): void {
  const proto = Object.getPrototypeOf(target);
  Object.defineProperty(target, '__proto__', { get: () => proto, set: () => {}, configurable: true });
}

/** The native handle behind each property-style session object (see `handleOf`). */
const handles = new WeakMap<object, Session>();

/**
 * Makes `target` the property-style session of `session`: its prototype guarded, the loaded
 * attributes on it as properties, and `session` its handle (`handleOf(target)`), kept off the
 * object so that it adds no name an attribute could clash with.
 */
export function exposeAttributes(target: object, session: Session, reserved: ReadonlySet<string>): void {
  handles.set(target, session);
  guardPrototype(target);
  fillFromHandle(target, session, reserved);
}

/** The native handle of a property-style session object made by `exposeAttributes`. */
export function handleOf(target: object): Session {
  const session = handles.get(target);
  if (!session) throw new UnisessionError('UNISESSION_INVALID_ARGUMENT', 'not a session object');
  return session;
}

/**
 * Puts every attribute the handle has loaded, except reserved names, on `target` as an own
 * enumerable property, and makes that the baseline. Large values are decoded on first access
 * (the getter then turns into a plain data property), so a request that reads one attribute
 * of a large session decodes, and re-encodes, only that one.
 */
export function fillFromHandle(target: object, session: Session, reserved: ReadonlySet<string>): void {
  const handle = internalsOf(session);
  const baseline = new Map<string, unknown>();
  baselines.set(target, baseline);
  for (const name of handle.loadedNames()) {
    if (reserved.has(name)) continue;
    if (handle.undecodedLength(name) < LAZY_FROM_LENGTH) {
      const value = handle.peek(name);
      // An undecodable value is left out, and so left alone in the store.
      if (value === undefined) continue;
      defineValue(target, name, value);
      baseline.set(name, value);
      continue;
    }
    baseline.set(name, NOT_READ);
    const get = () => {
      const value = handle.peek(name);
      // An undecodable value reads as undefined and stays lazy, so the commit leaves it stored.
      if (value === undefined) return value;
      defineValue(target, name, value);
      // What was read is the baseline (the latest one: a sync may have replaced it since).
      const latest = baselines.get(target);
      if (latest?.get(name) === NOT_READ) latest.set(name, value);
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
 * Copies into the handle what the handler changed on `target` since the baseline: a new or
 * reassigned value is set, an `undefined` or deleted one is removed. Everything else is left
 * to the handle. Throws `UNISESSION_INVALID_NAME` for a reserved name, before changing anything.
 */
export function syncToHandle(target: object, session: Session, reserved: ReadonlySet<string>): void {
  const handle = internalsOf(session);
  const baseline = baselines.get(target) ?? new Map<string, unknown>();
  const current = new Map<string, unknown>();
  const changed: string[] = [];
  for (const name of Object.keys(target)) {
    const getter = Object.getOwnPropertyDescriptor(target, name)?.get;
    if (getter && lazyGetters.has(getter) && baseline.get(name) === NOT_READ) {
      current.set(name, NOT_READ);
      continue;
    }
    const value = (target as Bag)[name];
    current.set(name, value);
    if (baseline.has(name) && Object.is(baseline.get(name), value)) continue;
    if (reserved.has(name)) throw reservedNameError(name);
    changed.push(name);
  }
  for (const name of changed) {
    const value = current.get(name);
    if (value === undefined) handle.removeSync(name);
    else handle.setSync(name, value);
  }
  for (const name of baseline.keys()) if (!current.has(name)) handle.removeSync(name);
  baselines.set(target, current);
}

/** Deletes every own enumerable property; the next sync removes them from the handle. */
export function clearProperties(target: object): void {
  for (const name of Object.keys(target)) delete (target as Bag)[name];
}

/** Empties `target` and fills it again from its handle (after a reload or a new, empty session). */
export function refill(target: object, reserved: ReadonlySet<string>): void {
  clearProperties(target);
  fillFromHandle(target, handleOf(target), reserved);
}

/** Defines non-enumerable, writable properties: bookkeeping that must not read as attributes. */
export function defineHidden(target: object, properties: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(properties)) {
    Object.defineProperty(target, name, { value, enumerable: false, writable: true, configurable: true });
  }
}
