import type { SessionManager } from './manager.js';
import { checkOptions, checkString, invalidOption, is } from './validate.js';

/**
 * Learning of a sign-out made elsewhere (another app, another node, `revokePrincipal` from a
 * script), without Redis keyspace notifications, which managed Redis often blocks and Redis
 * Cluster does not deliver across nodes: the watcher polls the store by id. See
 * docs/decisions.md for what it costs.
 */

export interface WatchSessionsOptions {
  /**
   * Called once for each watched session that has ended (logged out, revoked, expired, swept),
   * after which the id is no longer watched. Close the user's websockets, drop caches here.
   */
  onEnded(id: string): void;
  /** How often the store is asked, in ms; at least 100. @default 5000 */
  intervalMs?: number;
  /** How many loads run at once during a check, to spare the store. @default 16 */
  concurrency?: number;
}

export interface SessionWatcher {
  /** Watches `id`; returns the function that stops watching it. */
  watch(id: string): () => void;
  /** How many sessions are watched. */
  readonly size: number;
  /** Checks every watched id now; resolves to the ids found ended (and reported). */
  check(): Promise<string[]>;
  /** Stops the timer; nothing is reported afterwards. */
  close(): void;
}

/**
 * Watches sessions by id and reports each one's end. Ends made on this manager (a logout in
 * this process) are reported at once through its `destroyed` event; ends made elsewhere are
 * found by the next poll: one metadata-only `load` per watched id per interval, and nothing
 * when no id is watched. A store failure skips the id until the next poll (a store that is
 * down has not logged anybody out) and goes to the manager's `error` event.
 *
 * @example
 * const watcher = watchSessions(sessions, { intervalMs: 5000, onEnded: (id) => sockets.get(id)?.close() });
 * wss.on('connection', (socket, req) => { const id = ...; watcher.watch(id); });
 */
export function watchSessions(manager: SessionManager, options: WatchSessionsOptions): SessionWatcher {
  const where = 'watchSessions';
  checkOptions(where, options, {
    onEnded: is.function,
    intervalMs: (value) =>
      typeof value === 'number' && Number.isFinite(value) && value >= 100
        ? undefined
        : 'a number of ms >= 100',
    concurrency: is.positiveInteger,
  });
  if (options?.onEnded === undefined) throw invalidOption(where, 'onEnded', 'a function', undefined);
  const { onEnded } = options;
  const intervalMs = options.intervalMs ?? 5000;
  const concurrency = options.concurrency ?? 16;
  const watched = new Set<string>();
  let closed = false;
  let running: Promise<string[]> | undefined;

  const ended = (id: string) => {
    if (closed || !watched.delete(id)) return;
    try {
      onEnded(id);
    } catch (error) {
      manager.reportError(error, 'watchSessions onEnded');
    }
  };
  const offDestroyed = manager.on('destroyed', ({ meta }) => ended(meta.id));

  const poll = async (): Promise<string[]> => {
    const ids = [...watched];
    const gone: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !closed) {
        const id = ids[next++]!;
        try {
          if ((await manager.store.load(id, [], Date.now())) === null) gone.push(id);
        } catch (error) {
          manager.reportError(error, 'watchSessions');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    for (const id of gone) ended(id);
    return gone;
  };
  // One poll at a time: a slow store never piles checks up.
  const check = () => {
    running ??= poll().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (watched.size > 0) void check();
  }, intervalMs);
  timer.unref();

  return {
    watch(id) {
      checkString(where, 'id', id);
      if (!closed) watched.add(id);
      return () => {
        watched.delete(id);
      };
    },
    get size() {
      return watched.size;
    },
    check,
    close() {
      closed = true;
      clearInterval(timer);
      offDestroyed();
      watched.clear();
    },
  };
}
