import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Codec } from '../codec/types.js';
import type { SessionContext } from './context.js';
import { UnisessionError } from './errors.js';
import { SessionEmitter, type SessionEventName, type SessionEvents } from './events.js';
import { type ResolvedOptions, resolveOptions, type SessionOptions } from './options.js';
import { pathOf, type RequestInfo, trustPredicate } from './request.js';
import { Session } from './session.js';
import { IdSigner } from './signing.js';
import {
  type AttributeKey,
  attributeKey,
  type ListFilter,
  type ListPage,
  type SessionMeta,
  type Store,
} from './store.js';
import { Sweeper } from './sweeper.js';

/**
 * The framework- and store-agnostic engine: one per app per process. Adapters call
 * `open()` once per request; everything else here is administration.
 */
export class SessionManager {
  readonly options: ResolvedOptions;
  readonly store: Store;
  readonly codec: Codec;
  private readonly events = new SessionEmitter();
  private readonly context: SessionContext;
  private readonly sweeper: Sweeper;

  constructor(options: SessionOptions & { store: Store; codec: Codec }) {
    this.options = resolveOptions(options);
    this.store = options.store;
    this.codec = options.codec;
    const { app, isShared, preload } = this.options;
    const keyOf = (name: string): AttributeKey => attributeKey(isShared(name) ? '' : app, name);
    this.context = {
      options: this.options,
      store: this.store,
      codec: this.codec,
      events: this.events,
      signer: new IdSigner(this.options.secret),
      trusted: trustPredicate(this.options.trustProxy),
      host: hostname(),
      preloadKeys: preload === 'all' ? 'all' : preload.map(keyOf),
      keyOf,
      isVisible: (key) => key.startsWith(':') || key.startsWith(`${app}:`),
    };
    const sweeping = this.options.sweeper;
    const settings = sweeping === false ? { interval: 60_000, batchSize: 500 } : sweeping;
    this.sweeper = new Sweeper(
      this.store,
      this.events,
      settings,
      `${hostname()}/${process.pid}/${randomUUID()}`,
    );
    // `sweeper: false` only stops the timer on this node; `sweep()` still works on demand.
    if (sweeping !== false) this.sweeper.start();
  }

  /** The session handle for one request. Touches nothing until used. */
  open(request: RequestInfo): Session {
    return new Session(this.context, request, this.isIgnored(request.url));
  }

  /** Whether the URL matches the ignore pattern (such requests never touch the store). */
  isIgnored(url: string): boolean {
    return this.options.ignore?.(pathOf(url)) ?? false;
  }

  /** Subscribes a listener; returns the function that unsubscribes it. */
  on<E extends SessionEventName>(name: E, listener: (event: SessionEvents[E]) => void): () => void {
    return this.events.on(name, listener);
  }

  /**
   * Tells the `error` listeners of a failure an adapter answered itself (with a generic
   * response, whose body never carries the details).
   */
  reportError(error: unknown, during: string): void {
    this.events.emit('error', { error, during });
  }

  /** Ends a session by id (e.g. from an admin screen). True if it existed. */
  async destroy(id: string): Promise<boolean> {
    const meta = await this.store.destroy(id);
    if (meta) this.events.emit('destroyed', { meta, reason: 'invalidated' });
    return meta !== null;
  }

  /** The live sessions of a user (needs a store with `flags.principalIndex`). */
  async sessionsOf(principal: string): Promise<SessionMeta[]> {
    const ids = await this.requirePrincipalIndex().findByPrincipal!(principal);
    const now = Date.now();
    const loaded = await Promise.all(ids.map((id) => this.store.load(id, [], now)));
    return loaded.flatMap((session) => (session ? [session.meta] : []));
  }

  /** Logs a user out everywhere: destroys every session of the principal. Returns how many. */
  async revokePrincipal(principal: string): Promise<number> {
    const ids = await this.requirePrincipalIndex().findByPrincipal!(principal);
    const results = await Promise.all(ids.map((id) => this.destroy(id)));
    return results.filter(Boolean).length;
  }

  /** A page of sessions (needs `flags.list`). */
  list(filter: ListFilter = {}): Promise<ListPage> {
    return this.requireList().list!({ aliveAt: Date.now(), ...filter });
  }

  count(filter: Omit<ListFilter, 'limit' | 'cursor'> = {}): Promise<number> {
    return this.requireList().count!({ aliveAt: Date.now(), ...filter });
  }

  /** Runs the expired-session sweeper now; resolves to the number of sessions it expired. */
  sweep(now = Date.now()): Promise<number> {
    return this.sweeper.runOnce(now);
  }

  /** Stops the sweeper and closes the store. */
  async close(): Promise<void> {
    this.sweeper.stop();
    await this.store.close();
  }

  private requirePrincipalIndex(): Store {
    if (!this.store.flags.principalIndex || !this.store.findByPrincipal) {
      throw new UnisessionError(
        'UNISESSION_UNSUPPORTED',
        `the ${this.store.name} store has no principal index`,
      );
    }
    return this.store;
  }

  private requireList(): Store {
    if (!this.store.flags.list || !this.store.list || !this.store.count) {
      throw new UnisessionError(
        'UNISESSION_UNSUPPORTED',
        `the ${this.store.name} store cannot list sessions`,
      );
    }
    return this.store;
  }
}
