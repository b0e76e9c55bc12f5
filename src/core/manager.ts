import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type AdminContext,
  countSessions,
  destroyMany,
  destroyOne,
  destroyWhere,
  inspectSession,
  listSessions,
  ping,
  removeAttribute,
  requirePrincipals,
  revokePrincipal,
  sessionStatistics,
  sweeperStatus,
} from './admin.js';
import type {
  DestroyWhereOptions,
  RevokeOptions,
  SessionCountQuery,
  SessionQuery,
  SessionStatistics,
  SessionView,
  StatsOptions,
  StoreHealth,
  SweeperStatus,
} from './admin-types.js';
import { CachedSessions } from './cached-sessions.js';
import type { Codec } from './codec.js';
import type { SessionContext } from './context.js';
import { mayPresentId } from './cookie.js';
import { UnisessionError } from './errors.js';
import { type DestroyReason, SessionEmitter, type SessionEventName, type SessionEvents } from './events.js';
import { customIdProblem, generateSessionId } from './id.js';
import { instrumentStore } from './instrument.js';
import { type ResolvedOptions, resolveOptions, type SessionOptions } from './options.js';
import { pathOf, type RequestInfo, trustPredicate } from './request.js';
import { Session } from './session.js';
import { IdSigner } from './signing.js';
import {
  type AttributeKey,
  type AuditEntry,
  type AuditPage,
  type AuditQuery,
  attributeKey,
  type ListPage,
  type SessionMeta,
  type Store,
} from './store.js';
import { Sweeper } from './sweeper.js';
import { type Check, checkArgument, checkString, invalidOption, is, type OptionSpec } from './validate.js';

const isFiniteNumber: Check = (value) =>
  typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number';
/** What an audit entry holds, for stores without an audit group (those with one check it themselves). */
const AUDIT_ENTRY: OptionSpec = {
  at: isFiniteNumber,
  actor: is.string,
  scope: is.string,
  action: is.string,
  target: is.string,
  count: isFiniteNumber,
  detail: is.any,
};

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

/** Checks each id an app's `generateId` makes, so that a weak one never names a session. */
function idGenerator(
  generate: ((request: RequestInfo) => string) | undefined,
): (request: RequestInfo) => string {
  if (generate === undefined) return generateSessionId;
  let previous: string | undefined;
  return (request) => {
    const id = generate(request);
    const problem = customIdProblem(id, previous);
    if (problem !== undefined)
      throw invalidOption('SessionManager', 'generateId', `a function returning ${problem}`, id);
    previous = id;
    return id;
  };
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
  private readonly admin: AdminContext;
  /** The store as the manager calls it: measured (`storeOperation`) while someone listens. */
  private readonly measured: Store;

  constructor(options: SessionOptions & { store: Store; codec: Codec }) {
    this.options = resolveOptions(options, options.store?.group);
    // The factory fills both in; a direct `new SessionManager` must pass them.
    if (options.store === undefined) throw invalidOption('SessionManager', 'store', 'a Store', undefined);
    if (options.codec === undefined) throw invalidOption('SessionManager', 'codec', 'a Codec', undefined);
    warnIfUnsigned(this.options);
    if (this.options.maxSessionsPerPrincipal && !options.store.principals) {
      throw invalidOption(
        'SessionManager',
        'maxSessionsPerPrincipal',
        'used with a store that has a principal index',
        this.options.maxSessionsPerPrincipal.limit,
      );
    }
    this.store = options.store;
    this.codec = options.codec;
    this.measured = instrumentStore(this.store, this.events);
    const { app, isShared, preload } = this.options;
    const keyOf = (name: string): AttributeKey => attributeKey(isShared(name) ? '' : app, name);
    const preloadKeys = preload === 'all' ? 'all' : preload.map(keyOf);
    this.context = {
      options: this.options,
      store: this.measured,
      sessions: new CachedSessions(this.measured, preloadKeys, this.options.cache.maxBytes),
      codec: this.codec,
      events: this.events,
      signer: new IdSigner(this.options.secret),
      trusted: trustPredicate(this.options.trustProxy),
      host: hostname(),
      preloadKeys,
      keyOf,
      isVisible: (key) => key.startsWith(':') || key.startsWith(`${app}:`),
      warnOnce: (code, message) => this.warnOnce(code, message),
      newId: idGenerator(this.options.generateId),
    };
    const sweeping = this.options.sweeper;
    const settings = sweeping === false ? { interval: 60_000, batchSize: 500 } : sweeping;
    this.sweeper = new Sweeper(
      this.measured,
      this.events,
      settings,
      `${hostname()}/${process.pid}/${randomUUID()}`,
    );
    // `sweeper: false` only stops the timer on this node; `sweep()` still works on demand.
    if (sweeping !== false) this.sweeper.start();
    this.admin = {
      store: this.measured,
      codec: this.codec,
      events: this.events,
      localSweep: () => this.sweeper.lastRun,
      sweeperSettings: () => ({ enabled: sweeping !== false, ...settings }),
    };
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

  /**
   * Whether a request with these headers could present a session id (see `mayPresentId`):
   * when it cannot, `open()` would start a new session without asking the store.
   */
  mayPresentId(header: (name: string) => string | undefined): boolean {
    return mayPresentId(header, this.options.cookie.name, this.options.header);
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

  /** Codes already warned about: a per-request check warns once, not on every request. */
  private readonly warned = new Set<string>();

  private warnOnce(code: string, message: string): void {
    if (this.warned.has(code)) return;
    this.warned.add(code);
    if (this.events.has('warning')) this.events.emit('warning', { code, message });
    else process.emitWarning(message, { code });
  }

  /**
   * Ends a session by id (e.g. from an admin screen) and fires `destroyed` with `reason`.
   * True if it existed. @param reason @default 'invalidated'
   */
  async destroy(id: string, reason: DestroyReason = 'invalidated'): Promise<boolean> {
    checkString('destroy', 'id', id);
    return destroyOne(this.admin, id, reason);
  }

  /** Destroys each of `ids` (duplicates once), in bounded batches; returns how many existed. @param reason @default 'revoked' */
  destroyMany(ids: readonly string[], reason?: DestroyReason): Promise<number> {
    return destroyMany(this.admin, ids, reason);
  }

  /**
   * Destroys every live session the query matches (needs `listing`), page by page; with
   * `dryRun` only counts them, for a "this will delete N sessions" confirmation.
   */
  destroyWhere(query: SessionCountQuery, options?: DestroyWhereOptions): Promise<number> {
    return destroyWhere(this.admin, query, options);
  }

  /** Destroys the sessions idle for longer than `ms` (reason 'expired'); returns how many. */
  expireIdle(ms: number): Promise<number> {
    return destroyWhere(this.admin, { idleLongerThan: ms }, { reason: 'expired' });
  }

  /** Removes one attribute of any app from a session and fires `attributeRemoved`. True if it existed. */
  removeAttribute(id: string, namespace: string, name: string): Promise<boolean> {
    return removeAttribute(this.admin, id, namespace, name);
  }

  /** A session with every attribute of every app decoded, for the monitor's detail view; null if none. */
  inspect(id: string): Promise<SessionView | null> {
    return inspectSession(this.admin, id);
  }

  /** The live sessions of a user (needs a store with a `principals` group). */
  async sessionsOf(principal: string): Promise<SessionMeta[]> {
    checkString('sessionsOf', 'principal', principal);
    const ids = await requirePrincipals(this.store).find(principal);
    const now = Date.now();
    const loaded = await Promise.all(ids.map((id) => this.measured.load(id, [], now)));
    return loaded.flatMap((session) => (session ? [session.meta] : []));
  }

  /**
   * Logs a user out everywhere: destroys every session of the principal but `options.except`,
   * with reason `options.reason` ('revoked' by default). Returns how many.
   */
  revokePrincipal(principal: string, options?: RevokeOptions): Promise<number> {
    return revokePrincipal(this.admin, principal, options);
  }

  /**
   * A page of sessions (needs a store with a `listing` group); live ones only unless `aliveAt`
   * says otherwise. The query is checked here, once, before any store sees it, and relative
   * filters (`idleLongerThan`, `expiringWithin`) become absolute: UNISESSION_INVALID_ARGUMENT.
   */
  list(query: SessionQuery = {}): Promise<ListPage> {
    return listSessions(this.measured, query);
  }

  /** How many sessions match (needs a `listing` group); live ones only unless `aliveAt` says otherwise. */
  count(query: SessionCountQuery = {}): Promise<number> {
    return countSessions(this.measured, query);
  }

  /** The monitor's overview numbers, computed in the store (needs a `stats` group). */
  stats(options?: StatsOptions): Promise<SessionStatistics> {
    return sessionStatistics(this.admin, options);
  }

  /** The sweeper's last run (noted in the store by whichever node ran it) and its lag. */
  sweeperStatus(): Promise<SweeperStatus> {
    return sweeperStatus(this.admin);
  }

  /**
   * Records an administrator's action: appended to the store's audit log when it has one
   * (the newest AUDIT_LOG_LIMIT are kept), and fired as `audit` either way, so a store
   * without the group can still send it to your own log.
   */
  async audit(entry: AuditEntry): Promise<void> {
    const { audit } = this.measured;
    if (audit) await audit.append(entry);
    else checkArgument('audit', 'entry', entry, AUDIT_ENTRY);
    this.events.emit('audit', { entry: { ...entry } });
  }

  /** A page of the audit log, newest first (needs a store with an `audit` group). */
  async auditLog(query: AuditQuery = { limit: 100 }): Promise<AuditPage> {
    const { audit } = this.measured;
    if (!audit)
      throw new UnisessionError('UNISESSION_UNSUPPORTED', `the ${this.store.name} store keeps no audit log`);
    return audit.list(query);
  }

  /** Whether the store answers, and how fast: one cheap load of an id that cannot exist. */
  ping(): Promise<StoreHealth> {
    return ping(this.measured);
  }

  /** Runs the expired-session sweeper now; resolves to the number of sessions it expired. */
  sweep(now = Date.now()): Promise<number> {
    return this.sweeper.runOnce(now);
  }

  /** Stops the sweeper (a sweep under way finishes, its lease is given up) and closes the store. */
  async close(): Promise<void> {
    await this.sweeper.shutdown();
    await this.store.close();
  }
}
