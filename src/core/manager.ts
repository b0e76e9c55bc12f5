import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CachedSessions } from './cached-sessions.js';
import type { Codec } from './codec.js';
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
  type CountFilter,
  type ListFilter,
  type ListPage,
  type SessionMeta,
  type Store,
  type StoreListing,
  type StorePrincipals,
} from './store.js';
import { Sweeper } from './sweeper.js';
import {
  type Check,
  checkArgument,
  checkLimit,
  checkString,
  invalidOption,
  is,
  type OptionSpec,
} from './validate.js';

const isTime: Check = (value) =>
  typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number (epoch ms)';
/** The keys a list filter may have, and what each must be; others are refused. */
const COUNT_FILTER: OptionSpec = { app: is.string, principal: is.string, aliveAt: isTime };
const LIST_FILTER: OptionSpec = { ...COUNT_FILTER, limit: is.any, cursor: is.string };

let warnedNoSecret = false;

/** Unsigned ids are allowed (behind a gateway that signs, say) but worth saying once per process. */
function warnIfUnsigned(options: ResolvedOptions): void {
  if (options.secret !== undefined || warnedNoSecret) return;
  warnedNoSecret = true;
  process.emitWarning(
    'no `secret` is set, so session ids in cookies are not signed: set the `secret` option ' +
      '(e.g. secret: process.env.SESSION_SECRET) to sign them with HMAC-SHA256',
    { code: 'UNISESSION_NO_SECRET' },
  );
}

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
    this.options = resolveOptions(options, options.store?.group);
    // The factory fills both in; a direct `new SessionManager` must pass them.
    if (options.store === undefined) throw invalidOption('SessionManager', 'store', 'a Store', undefined);
    if (options.codec === undefined) throw invalidOption('SessionManager', 'codec', 'a Codec', undefined);
    warnIfUnsigned(this.options);
    this.store = options.store;
    this.codec = options.codec;
    const { app, isShared, preload } = this.options;
    const keyOf = (name: string): AttributeKey => attributeKey(isShared(name) ? '' : app, name);
    const preloadKeys = preload === 'all' ? 'all' : preload.map(keyOf);
    this.context = {
      options: this.options,
      store: this.store,
      sessions: new CachedSessions(this.store, preloadKeys, this.options.cache.maxBytes),
      codec: this.codec,
      events: this.events,
      signer: new IdSigner(this.options.secret),
      trusted: trustPredicate(this.options.trustProxy),
      host: hostname(),
      preloadKeys,
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

  /**
   * This node's session cache now: how many sessions it holds and its estimated bytes
   * (never above `maxBytes`); undefined when the cache is off (`cache: { maxBytes: 0 }`).
   */
  get cacheUsage(): { sessions: number; bytes: number; maxBytes: number } | undefined {
    const { cache } = this.context.sessions;
    return cache && { sessions: cache.size, bytes: cache.bytes, maxBytes: cache.maxBytes };
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
    checkString('destroy', 'id', id);
    const meta = await this.store.destroy(id);
    this.context.sessions.forget(id);
    if (meta) this.events.emit('destroyed', { meta, reason: 'invalidated' });
    return meta !== null;
  }

  /** The live sessions of a user (needs a store with a `principals` group). */
  async sessionsOf(principal: string): Promise<SessionMeta[]> {
    checkString('sessionsOf', 'principal', principal);
    const ids = await this.requirePrincipals().find(principal);
    const now = Date.now();
    const loaded = await Promise.all(ids.map((id) => this.store.load(id, [], now)));
    return loaded.flatMap((session) => (session ? [session.meta] : []));
  }

  /** Logs a user out everywhere: destroys every session of the principal. Returns how many. */
  async revokePrincipal(principal: string): Promise<number> {
    checkString('revokePrincipal', 'principal', principal);
    const ids = await this.requirePrincipals().find(principal);
    const results = await Promise.all(ids.map((id) => this.destroy(id)));
    return results.filter(Boolean).length;
  }

  /**
   * A page of sessions (needs a store with a `listing` group); live ones only unless `aliveAt`
   * says otherwise. The filter is checked here, once, before any store sees it:
   * UNISESSION_INVALID_ARGUMENT.
   */
  async list(filter: ListFilter = {}): Promise<ListPage> {
    checkArgument('list', 'filter', filter, LIST_FILTER);
    const limit = checkLimit('list', filter.limit);
    return this.requireListing().list({ aliveAt: Date.now(), ...filter, limit });
  }

  /** How many sessions match (needs a `listing` group); live ones only unless `aliveAt` says otherwise. */
  async count(filter: CountFilter = {}): Promise<number> {
    checkArgument('count', 'filter', filter, COUNT_FILTER);
    return this.requireListing().count({ aliveAt: Date.now(), ...filter });
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

  private requirePrincipals(): StorePrincipals {
    const { principals } = this.store;
    if (!principals) {
      throw new UnisessionError(
        'UNISESSION_UNSUPPORTED',
        `the ${this.store.name} store has no principal index`,
      );
    }
    return principals;
  }

  private requireListing(): StoreListing {
    const { listing } = this.store;
    if (!listing) {
      throw new UnisessionError(
        'UNISESSION_UNSUPPORTED',
        `the ${this.store.name} store cannot list sessions`,
      );
    }
    return listing;
  }
}
