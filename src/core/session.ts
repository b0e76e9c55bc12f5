import type { Device } from './admin-types.js';
import { type AttributeDelta, AttributeTable } from './attributes.js';
import type { SessionLoad } from './cached-sessions.js';
import { expiryAt, planCommit } from './commit-plan.js';
import type { SessionContext } from './context.js';
import { enforceSessionLimit, listDevices, revokeDevice, revokeOthers } from './devices.js';
import { isUnisessionError, storeUnavailable, UnisessionError } from './errors.js';
import { checkName } from './names.js';
import { clientAddress, pathOf, type RequestInfo } from './request.js';
import type { MetaPatch, SessionMeta } from './store.js';
import { Transport } from './transport.js';
import { invalidArgument } from './validate.js';

type State = 'unloaded' | 'ready' | 'ignored' | 'degraded';

/** The metadata a touch writes: a commit that writes only these is a `touch`, not a `delta`. */
const TOUCH_FIELDS = new Set(['lastAccessedAt', 'expiresAt', 'lastUrl', 'lastHost']);

/**
 * What only adapters do with a session, for the property-style session objects of Express,
 * Koa and Fastify (`req.session.views = 1`): load up front, then read and write synchronously
 * what is loaded, and copy the object's changes in just before each commit. Not on the public
 * `Session`, whose users never need them; an adapter gets them with `internalsOf(session)`.
 */
export interface SessionInternals {
  /** Loads the session now, so that the synchronous methods below have something to work on. */
  load(): Promise<void>;
  /**
   * When the request presents no session id, starts its new session now, synchronously: there
   * is nothing to ask the store. False, changing nothing, when it presents one (or was loaded).
   */
  startFreshWithoutStore(): boolean;
  /** Attribute names this request has loaded or set (and not removed). */
  loadedNames(): string[];
  /** A loaded attribute, decoded now if it was not; never touches the store. */
  peek(name: string): unknown;
  /** Length of the stored text of a loaded attribute not decoded yet (0 if none): lets adapters decode big values lazily. */
  undecodedLength(name: string): number;
  /** A buffered `set`; throws UNISESSION_INVALID_OPTION before the load. */
  setSync(name: string, value: unknown): void;
  /** A buffered `remove`; a no-op before the load. */
  removeSync(name: string): void;
  /** `setMaxInactive` for a setter (Koa's `maxAge`); a no-op before the load. */
  setMaxInactiveSync(ms: number): void;
  /** A step each commit runs first (e.g. Express copies `req.session` into the handle). */
  onBeforeCommit(step: () => void): void;
  /**
   * Makes the stored session `id` this request's session, and the response gives the client
   * its cookie: the SSO hand-off (`unisession/sso`), once a single-use ticket has proven that
   * the hub's user holds that session. Never for an id a client sent. Resolves to false, and
   * changes nothing, when the session does not exist (ended meanwhile).
   */
  adopt(id: string): Promise<boolean>;
}

/** Set by `Session`'s static block, the one place outside its methods that may read its state. */
let internalsOfSession: (session: Session) => SessionInternals;

/** The adapter-only operations on `session` (see `SessionInternals`). Not exported by the package. */
export function internalsOf(session: Session): SessionInternals {
  return internalsOfSession(session);
}

/**
 * One request's view of one session. Nothing touches the store until the handler asks;
 * writes are buffered and go out in one delta at `commit()`, which adapters call before the
 * response headers leave. What it writes is `planCommit`'s decision; what the response says
 * is the transport's (cookie or header).
 */
export class Session {
  private state: State;
  private loading: Promise<void> | undefined;
  private committing: Promise<void> = Promise.resolve();
  private meta: SessionMeta | undefined;
  private persisted = false;
  /** The stored version this request last loaded or wrote, for the node's cache (undefined without one). */
  private version: number | undefined;
  private readonly attributes: AttributeTable;
  private readonly transport: Transport;
  private metaPatch: MetaPatch = {};
  private forceTouch = false;
  private readonly beforeCommit: Array<() => void> = [];
  private internals: SessionInternals | undefined;

  constructor(
    private readonly context: SessionContext,
    private readonly request: RequestInfo,
    ignored: boolean,
  ) {
    this.state = ignored ? 'ignored' : 'unloaded';
    this.transport = new Transport(context, request, ignored);
    this.attributes = new AttributeTable(context);
  }

  /** The session id; undefined until the session is loaded (or on an ignored URL). */
  get id(): string | undefined {
    return this.meta?.id;
  }

  /** True when the session did not exist before this request (or was just reset). */
  get isNew(): boolean {
    return !this.persisted;
  }

  /** True on requests whose URL matches the ignore pattern: the session is not available. */
  get isIgnored(): boolean {
    return this.state === 'ignored';
  }

  /** The session's metadata (a copy). */
  async metadata(): Promise<SessionMeta | undefined> {
    await this.load();
    return this.meta ? { ...this.meta, ...this.metaPatch } : undefined;
  }

  private load(): Promise<void> {
    if (this.state !== 'unloaded') return Promise.resolve();
    this.loading ??= this.loadFromStore();
    return this.loading;
  }

  /**
   * Loads the session: after a reload the current id, else each presented id in turn until one
   * loads. Extra round trips happen only when a stale or planted id comes before the real one.
   */
  private async loadFromStore(): Promise<void> {
    const current = this.meta?.id;
    const candidates =
      current !== undefined ? [{ id: current, resign: false }] : this.transport.presented.candidates;
    let loaded: SessionLoad | null = null;
    try {
      for (const candidate of candidates) {
        loaded = await this.context.sessions.load(candidate.id, Date.now());
        if (loaded) {
          // A reload reads the current id, which the client may not hold yet.
          if (current === undefined) this.transport.loadedFrom(candidate);
          break;
        }
      }
    } catch (error) {
      if (this.context.options.onStoreError === 'fail') {
        this.loading = undefined;
        throw storeUnavailable(this.context.store.name, error);
      }
      this.context.events.emit('error', { error, during: 'load' });
      this.state = 'degraded';
      this.startFresh();
      return;
    }
    if (loaded) {
      this.meta = loaded.meta;
      this.persisted = true;
      this.version = loaded.version;
      this.attributes.fromStore(loaded.attributes, loaded.complete);
    } else {
      // An id the store does not know is never adopted: the client gets a new one.
      this.startFresh();
    }
    this.state = 'ready';
  }

  /** A new, empty, unsaved session: no attributes, no principal, a new id. */
  private startFresh(): void {
    const now = Date.now();
    const { options } = this.context;
    const absoluteExpiresAt = options.absoluteTimeout > 0 ? now + options.absoluteTimeout : null;
    this.meta = {
      id: this.context.newId(this.request),
      app: options.app,
      createdAt: now,
      lastAccessedAt: now,
      maxInactive: options.maxInactive,
      expiresAt: null,
      absoluteExpiresAt,
      principal: null,
      host: this.context.host,
      clientAddress: clientAddress(this.request, this.context.trusted),
      userAgent: (this.request.header('user-agent') ?? '').slice(0, 512),
      createdUrl: this.requestPath(),
      lastUrl: this.requestPath(),
      lastHost: this.context.host,
    };
    this.meta.expiresAt = expiryAt(now, this.meta);
    this.persisted = false;
    this.version = undefined;
    this.metaPatch = {};
    this.attributes.reset();
  }

  /** This request's path, never its query string (which can carry tokens), at most 512 characters. */
  private requestPath(): string {
    return pathOf(this.request.url).slice(0, 512);
  }

  private async ready(): Promise<SessionMeta> {
    if (this.state === 'ignored') {
      throw new UnisessionError(
        'UNISESSION_INVALID_OPTION',
        `sessions are not available on ignored URL ${this.request.url}`,
      );
    }
    await this.load();
    return this.meta!;
  }

  /** Reads an attribute (shared or this app's private one). Undefined when absent or undecodable. */
  async get<T = unknown>(name: string): Promise<T | undefined> {
    checkName(name);
    if (this.state === 'ignored') return undefined;
    const meta = await this.ready();
    return (await this.attributes.get(meta.id, name, this.persisted)) as T | undefined;
  }

  async has(name: string): Promise<boolean> {
    return (await this.get(name)) !== undefined;
  }

  /** Every readable attribute of this app (shared plus its own namespace), by name. */
  async all(): Promise<Record<string, unknown>> {
    const meta = await this.ready();
    return this.attributes.all(meta.id, this.persisted);
  }

  /**
   * Sets an attribute. The value is encoded now, so an unencodable or oversized value fails
   * here, in the handler, rather than at commit. It is written at commit.
   */
  async set(name: string, value: unknown): Promise<void> {
    checkName(name);
    await this.ready();
    this.attributes.set(name, value);
  }

  async remove(name: string): Promise<void> {
    checkName(name);
    await this.ready();
    this.attributes.remove(name);
  }

  /** Links the session to a user, for "list / revoke all sessions of user X". */
  async setPrincipal(principal: string | null): Promise<void> {
    const meta = await this.ready();
    if (meta.principal !== principal) this.metaPatch.principal = principal;
  }

  /**
   * This user's live sessions, for an "active sessions" page: device (parsed from the user
   * agent), address, last seen, and which one is this. Another session's id is masked; its
   * `handle` is what `revokeDevice` takes. [] while the session has no principal. Needs a
   * store with a principal index (UNISESSION_UNSUPPORTED otherwise).
   */
  async devices(): Promise<Device[]> {
    const meta = await this.ready();
    return listDevices(this.context, { ...meta, ...this.metaPatch });
  }

  /** Signs this user out of every other session (reason 'revoked'). Returns how many ended. */
  async revokeOtherSessions(): Promise<number> {
    const meta = await this.ready();
    return revokeOthers(this.context, { ...meta, ...this.metaPatch });
  }

  /**
   * Ends another session of this user by the `handle` that `devices()` gave. False when no
   * other session of this user has it (it ended already, or the handle is foreign); the
   * current session is ended with `invalidate()`, not here.
   */
  async revokeDevice(handle: string): Promise<boolean> {
    if (typeof handle !== 'string') throw invalidArgument('revokeDevice', 'handle', 'a string', handle);
    const meta = await this.ready();
    return revokeDevice(this.context, { ...meta, ...this.metaPatch }, handle);
  }

  /**
   * Changes this session's sliding lifetime in ms (e.g. "remember me"); 0 means no expiry by
   * inactivity. Anything but a finite number >= 0 throws UNISESSION_INVALID_ARGUMENT.
   */
  async setMaxInactive(ms: number): Promise<void> {
    checkLifetime('setMaxInactive', ms);
    await this.ready();
    this.applyMaxInactive(ms);
  }

  private applyMaxInactive(ms: number): void {
    checkLifetime('setMaxInactive', ms);
    if (this.state !== 'ready') return;
    this.meta!.maxInactive = ms;
    this.metaPatch.maxInactive = ms;
    this.forceTouch = true;
  }

  /** Records an access at commit even if the throttle would skip it (and saves a new empty session). */
  touch(): void {
    this.forceTouch = true;
  }

  /**
   * Gives the session a new id and makes the old one load nothing: call it at login against
   * session fixation. With `keepAttributes: false` the attributes are dropped too.
   *
   * If the session had ended meanwhile (revoked, or invalidated by another request), the
   * request continues with a fresh, empty session, with no attributes and no principal, since
   * carrying the old ones over would undo the revocation; `isNew` is then true. Adapters that
   * mirror attributes in an object clear it when `isNew` turned true.
   */
  async regenerate(options: { keepAttributes?: boolean } = {}): Promise<void> {
    const meta = await this.ready();
    if (options.keepAttributes === false) {
      await this.invalidate();
      return;
    }
    const newId = this.context.newId(this.request);
    if (!this.persisted) {
      meta.id = newId;
      return;
    }
    let moved = false as number | boolean;
    await this.commitChain(async () => {
      moved = await this.storeCall(() => this.context.sessions.rename(meta.id, newId, this.version));
    });
    if (moved === false) {
      this.startFresh();
      return;
    }
    const oldId = meta.id;
    meta.id = newId;
    if (typeof moved === 'number') this.version = moved;
    this.context.events.emit('regenerated', { oldId, newId, app: this.context.options.app });
  }

  private async adopt(id: string): Promise<boolean> {
    await this.ready();
    const { store, preloadKeys } = this.context;
    const loaded = await this.storeCall(() => store.load(id, preloadKeys, Date.now()));
    if (!loaded) return false;
    await this.committing;
    this.meta = loaded.meta;
    this.persisted = true;
    this.metaPatch = {};
    this.forceTouch = false;
    this.attributes.fromStore(loaded.attributes, preloadKeys === 'all');
    return true;
  }

  /** Ends the session everywhere. The handle then holds a fresh, unsaved session. */
  async invalidate(): Promise<void> {
    const meta = await this.ready();
    if (this.persisted) {
      await this.commitChain(async () => {
        const removed = await this.storeCall(() => this.context.store.destroy(meta.id));
        this.context.sessions.forget(meta.id);
        if (removed) this.context.events.emit('destroyed', { meta: removed, reason: 'invalidated' });
      });
      this.transport.endedSession();
    }
    this.startFresh();
  }

  /**
   * Writes what changed in one round trip. Safe to call more than once; each call writes
   * only what changed since the previous one.
   */
  commit(): Promise<void> {
    return this.commitChain(() => this.writeChanges()).catch((error: unknown) => {
      if (
        this.context.options.onStoreError === 'continue' &&
        isUnisessionError(error, 'UNISESSION_STORE_UNAVAILABLE')
      ) {
        this.context.events.emit('error', { error, during: 'commit' });
        this.state = 'degraded';
        return;
      }
      throw error;
    });
  }

  /** Drops what this request holds and reads the session again from the store. */
  async reload(): Promise<void> {
    await this.ready();
    this.state = 'unloaded';
    this.loading = undefined;
    this.metaPatch = {};
    await this.load();
  }

  /**
   * The response headers this request must send (Set-Cookie, and the id header when
   * enabled) and has not been handed yet: call it after each `commit()` and add what it gives.
   */
  responseHeaders(): Array<[string, string]> {
    if (this.state !== 'ready') return [];
    const meta = this.meta!;
    return this.transport.headers({ id: meta.id, persisted: this.persisted, maxInactive: meta.maxInactive });
  }

  private commitChain(step: () => Promise<void>): Promise<void> {
    const next = this.committing.then(step);
    this.committing = next.catch(() => undefined);
    return next;
  }

  private async writeChanges(): Promise<void> {
    if (this.state !== 'ready') return;
    for (const step of this.beforeCommit) step();
    const meta = this.meta!;
    const { options } = this.context;
    const delta = this.attributes.delta();
    const plan = planCommit({
      persisted: this.persisted,
      meta,
      delta,
      pending: this.metaPatch,
      forceTouch: this.forceTouch,
      touchInterval: options.touchInterval,
      saveUninitialized: options.saveUninitialized,
      now: Date.now(),
      access: { url: this.requestPath(), host: this.context.host },
    });
    // At login (a principal being set), before anything is written: refusing writes nothing.
    const principal = plan.write === 'nothing' ? undefined : plan.patch?.principal;
    if (typeof principal === 'string') await enforceSessionLimit(this.context, meta.id, principal);
    if (plan.write === 'create') await this.create(meta, plan.patch, delta);
    else if (plan.write === 'update') await this.update(meta, plan.patch, delta);
    if (this.context.events.has('committed')) {
      const touchOnly =
        plan.write === 'update' &&
        delta.set.size === 0 &&
        delta.remove.length === 0 &&
        Object.keys(plan.patch ?? {}).every((key) => TOUCH_FIELDS.has(key));
      this.context.events.emit('committed', {
        kind: plan.write === 'nothing' ? 'none' : touchOnly ? 'touch' : 'delta',
        created: plan.write === 'create',
        app: this.context.options.app,
      });
    }
  }

  private async create(meta: SessionMeta, patch: MetaPatch, delta: AttributeDelta): Promise<void> {
    Object.assign(meta, patch);
    this.version = await this.storeCall(() => this.context.sessions.create(meta, delta.set));
    this.persisted = true;
    this.afterWrite(delta, true);
    this.context.events.emit('created', { meta: { ...meta } });
    this.attributes.emitChanges(meta.id, delta);
  }

  private async update(
    meta: SessionMeta,
    patch: MetaPatch | undefined,
    delta: AttributeDelta,
  ): Promise<void> {
    await this.attributes.resolvePriorValues(meta.id, delta);
    const applied = await this.storeCall(() =>
      this.context.sessions.update(meta.id, this.version, {
        meta: patch,
        set: delta.set,
        remove: delta.remove,
      }),
    );
    if (applied === false) {
      // Invalidated by another request meanwhile: never resurrect it; the client is logged out.
      this.startFresh();
      return;
    }
    if (typeof applied === 'number') this.version = applied;
    Object.assign(meta, patch);
    this.afterWrite(delta, patch?.lastAccessedAt !== undefined);
    this.attributes.emitChanges(meta.id, delta);
  }

  private afterWrite(delta: AttributeDelta, recordedAccess: boolean): void {
    this.attributes.markSaved(delta);
    this.metaPatch = {};
    this.forceTouch = false;
    if (recordedAccess) this.transport.recordedAccess();
  }

  private async storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isUnisessionError(error) && error.code !== 'UNISESSION_STORE_UNAVAILABLE') throw error;
      throw storeUnavailable(this.context.store.name, error);
    }
  }

  static {
    // Inside the class body, so it may read the private state; built once, on first use.
    internalsOfSession = (session) =>
      (session.internals ??= {
        load: () => session.load(),
        startFreshWithoutStore() {
          if (session.state !== 'unloaded' || session.transport.presented.candidates.length > 0) return false;
          session.startFresh();
          session.state = 'ready';
          return true;
        },
        loadedNames: () => session.attributes.visibleNames(),
        peek: (name) => session.attributes.peek(session.meta?.id ?? '', name),
        undecodedLength: (name) => session.attributes.undecodedLength(name),
        setSync(name, value) {
          checkName(name);
          if (session.state !== 'ready')
            throw new UnisessionError('UNISESSION_INVALID_OPTION', 'session not loaded');
          session.attributes.set(name, value);
        },
        removeSync(name) {
          checkName(name);
          if (session.state === 'ready') session.attributes.remove(name);
        },
        setMaxInactiveSync: (ms) => session.applyMaxInactive(ms),
        onBeforeCommit: (step) => {
          session.beforeCommit.push(step);
        },
        adopt: (id) => session.adopt(id),
      });
  }
}

/** A lifetime in ms: a finite number >= 0. `null` or `'5'` must never mean "never expires". */
function checkLifetime(where: string, ms: unknown): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw invalidArgument(where, 'ms', 'a finite number >= 0', ms);
  }
}
