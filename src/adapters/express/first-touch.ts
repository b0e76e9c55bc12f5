import { IncomingMessage } from 'node:http';
import type { Request } from 'express';

/*
 * The first-touch session of a request that can present no session id (see the middleware
 * in ../express.ts): `req.session`, `req.sessionID` and `req.sessionHandle` are made when
 * one of them is first read or set.
 *
 * The accessors live on the request's prototype, Express's per-app `app.request`, put there
 * once per app. An accessor defined on each request instead costs about a fifth of an
 * untouched request's throughput, measured: it moves `req` off V8's fast property path for
 * everything Express does with it afterwards. A sub-app's `request` inherits its parent's,
 * so the accessors reach mounted apps too.
 */

const TOUCHED = ['session', 'sessionID', 'sessionHandle'] as const;

/** Requests whose session waits for its first touch, with what makes it. */
const pending = new WeakMap<object, () => void>();
/** The prototypes that have the accessors. */
const prepared = new WeakSet<object>();

/** Makes the request's session at its first touch: `materialize` sets the three as plain properties. */
export function onFirstTouch(req: Request, materialize: () => void): void {
  const proto = Object.getPrototypeOf(req) as object | null;
  // Not an Express request (no `app.request` in its chain): Node's own prototype is never
  // changed, so this request gets accessors of its own.
  if (proto === null || proto === IncomingMessage.prototype) {
    ownAccessors(req, materialize);
    return;
  }
  pending.set(req, materialize);
  if (!prepared.has(proto)) {
    prepared.add(proto);
    for (const key of TOUCHED) addAccessor(proto, key);
  }
}

/** Runs the request's pending `materialize`, once; false when there was none. */
function touch(req: object): boolean {
  const materialize = pending.get(req);
  if (!materialize) return false;
  pending.delete(req);
  materialize();
  return true;
}

/**
 * The prototype's accessor for `key`. A request with its session made has `key` as its own
 * property, which hides the accessor. So the accessor only answers requests still waiting
 * (it makes the session, then answers from the own property), and requests without one
 * (`undefined`, as if the name were not there). A set always ends as the request's own property.
 */
function addAccessor(proto: object, key: (typeof TOUCHED)[number]): void {
  if (Object.hasOwn(proto, key)) return;
  Object.defineProperty(proto, key, {
    configurable: true,
    enumerable: false,
    get(this: Request) {
      return touch(this) ? this[key] : undefined;
    },
    set(this: Request, value: unknown) {
      touch(this);
      Object.defineProperty(this, key, { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

/** The slower way, for a request that is not an Express one: accessors on the request itself. */
function ownAccessors(req: Request, materialize: () => void): void {
  const make = () => {
    // `delete req.session` before any touch: the session stays off the request, as it would have.
    const deleted = !Object.hasOwn(req, 'session');
    for (const key of TOUCHED) delete (req as Partial<Request>)[key];
    materialize();
    if (deleted) delete (req as Partial<Request>).session;
  };
  for (const key of TOUCHED) {
    Object.defineProperty(req, key, {
      configurable: true,
      enumerable: true,
      get() {
        make();
        return req[key];
      },
      set(value: unknown) {
        make();
        (req as unknown as Record<string, unknown>)[key] = value;
      },
    });
  }
}
