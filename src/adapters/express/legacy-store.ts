/**
 * The part of an express-session store (connect-redis, connect-mongo, MemoryStore...) that
 * migration uses: `get` and `destroy`, with express-session's callbacks. Stores that also
 * return promises (connect-redis 7) work either way; the first answer counts.
 */
export interface LegacyStore {
  get(sid: string, callback: (error: unknown, session?: LegacySession | null) => void): unknown;
  destroy(sid: string, callback?: (error?: unknown) => void): unknown;
}

/** A session as express-session stores it: the attributes, and `cookie` with its expiry. */
export interface LegacySession {
  cookie?: { originalMaxAge?: number | null; expires?: string | Date | null; [name: string]: unknown };
  [name: string]: unknown;
}

/** How long one call to the old store may take before the request fails instead of hanging. */
const CALL_TIMEOUT_MS = 10_000;

/** Calls a callback-style store method as a promise, whichever way the store answers. */
function call<T>(start: (callback: (error: unknown, value?: T) => void) => unknown): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(
      () => finish(new Error('the express-session store did not answer in time')),
      CALL_TIMEOUT_MS,
    );
    const finish = (error: unknown, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    };
    try {
      const returned = start(finish);
      if (returned instanceof Promise) returned.then((value: T) => finish(undefined, value), finish);
    } catch (error) {
      finish(error);
    }
  });
}

/** The session the old store holds under `sid`, or null. */
export async function legacyGet(store: LegacyStore, sid: string): Promise<LegacySession | null> {
  const session = await call<LegacySession | null>((callback) => store.get(sid, callback));
  return typeof session === 'object' && session !== null ? session : null;
}

export async function legacyDestroy(store: LegacyStore, sid: string): Promise<void> {
  await call<void>((callback) => store.destroy(sid, callback));
}
