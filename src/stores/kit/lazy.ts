import { storeUnavailable } from '../../core/errors.js';

/** What a store opens once and uses for every operation: a pool, a client, a database. */
export interface LazyHandle<H> {
  /** The open handle: opened on the first call, shared by every later one. */
  get(): Promise<H>;
  /** Refuses every later `get`, then releases the handle if it was opened. Idempotent. */
  close(): Promise<void>;
}

/**
 * The one lazy open of every store. Nothing connects before the first operation, so creating
 * a store never fails on a server that is down; concurrent first operations share one open.
 * A failed open is forgotten, so the next operation tries again and a store recovers by
 * itself once its server is back. After `close` every call fails with
 * UNISESSION_STORE_UNAVAILABLE ("closed"), and an open still under way is released when it ends.
 */
export function lazyHandle<H>(
  storeName: string,
  open: () => Promise<H>,
  release?: (handle: H) => Promise<void> | void,
): LazyHandle<H> {
  let pending: Promise<H> | undefined;
  let closed = false;
  return {
    get() {
      if (closed)
        return Promise.reject(storeUnavailable(storeName, new Error('the store is closed'), 'closed'));
      if (pending) return pending;
      // Deferred by a tick, so that an open that throws at once still rejects, never throws.
      const attempt = Promise.resolve().then(open);
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
      return attempt;
    },
    async close() {
      if (closed) return;
      closed = true;
      const opened = pending;
      pending = undefined;
      const handle = await opened?.catch(() => undefined);
      if (handle !== undefined) await release?.(handle);
    },
  };
}
