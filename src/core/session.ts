import { AttributeTable } from './attributes.js';
import type { SessionContext } from './context.js';
import { clearedCookie, type PresentedIds, readSessionIds, sessionCookie } from './cookie.js';
import { isUnisessionError, storeUnavailable, UnisessionError } from './errors.js';
import { generateSessionId } from './id.js';
import { checkName } from './names.js';
import { clientAddress, isSecureRequest, type RequestInfo } from './request.js';
import type { LoadedSession, MetaPatch, SessionMeta } from './store.js';
import { invalidArgument } from './validate.js';

type State = 'unloaded' | 'ready' | 'ignored' | 'degraded';

/**
 * One request's view of one session. Nothing touches the store until the handler asks;
 * writes are buffered and go out in one delta at `commit()`, which adapters call before the
 * response headers leave.
 */
export class Session {
  private state: State;
  private loading: Promise<void> | undefined;
  private committing: Promise<void> = Promise.resolve();
  private meta: SessionMeta | undefined;
  private persisted = false;
  private readonly attributes: AttributeTable;
  /** The ids the request presents (cookie or header), best first. */
  private readonly presented: PresentedIds;
  /** The presented id that loaded: the session the client's cookie names. */
  private clientId: string | undefined;
  /** That id's signature came from an older secret: re-issue the cookie with the first one. */
  private resign = false;
  /**
   * This request ended the session the client holds (invalidate, regenerate without keeping):
   * only then does the response clear the cookie. A request that merely presented an unknown or
   * stale id must not, or it would wipe the cookie a parallel login has just set.
   */
  private ended = false;
  private readonly secure: boolean;
  private metaPatch: MetaPatch = {};
  private forceTouch = false;
  private touched = false;
  private readonly beforeCommit: Array<() => void> = [];

  constructor(
    private readonly context: SessionContext,
    private readonly request: RequestInfo,
    ignored: boolean,
  ) {
    const { options } = context;
    this.state = ignored ? 'ignored' : 'unloaded';
    this.presented = ignored
      ? { candidates: [], transport: 'cookie' }
      : readSessionIds(request, options.cookie, options.header, context.signer);
    this.secure =
      options.cookie.secure === 'auto' ? isSecureRequest(request, context.trusted) : options.cookie.secure;
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

  /** Loads the session now (adapters that expose a synchronous API call this first). */
  load(): Promise<void> {
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
    const candidates = current !== undefined ? [{ id: current, resign: false }] : this.presented.candidates;
    let loaded: LoadedSession | null = null;
    try {
      for (const candidate of candidates) {
        loaded = await this.context.store.load(candidate.id, this.context.preloadKeys, Date.now());
        if (loaded) {
          // A reload reads the current id, which the client may not hold yet.
          if (current === undefined) {
            this.clientId = candidate.id;
            this.resign = candidate.resign;
          }
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
      this.attributes.fromStore(loaded.attributes, this.context.preloadKeys === 'all');
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
      id: generateSessionId(),
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
    };
    this.meta.expiresAt = expiryAt(now, this.meta);
    this.persisted = false;
    this.metaPatch = {};
    this.attributes.reset();
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
   * Changes this session's sliding lifetime in ms (e.g. "remember me"); 0 means no expiry by
   * inactivity. Anything but a finite number >= 0 throws UNISESSION_INVALID_ARGUMENT.
   */
  async setMaxInactive(ms: number): Promise<void> {
    checkLifetime('setMaxInactive', ms);
    await this.ready();
    this.setMaxInactiveSync(ms);
  }

  /** The synchronous form, for adapters' setters (Koa's `maxAge`); a no-op before the load. */
  setMaxInactiveSync(ms: number): void {
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
    const newId = generateSessionId();
    if (!this.persisted) {
      meta.id = newId;
      return;
    }
    let moved = false;
    await this.commitChain(async () => {
      moved = await this.storeCall(() => this.context.store.rename(meta.id, newId));
    });
    if (moved) meta.id = newId;
    else this.startFresh();
  }

  /** Ends the session everywhere. The handle then holds a fresh, unsaved session. */
  async invalidate(): Promise<void> {
    const meta = await this.ready();
    if (this.persisted) {
      await this.commitChain(async () => {
        const removed = await this.storeCall(() => this.context.store.destroy(meta.id));
        if (removed) this.context.events.emit('destroyed', { meta: removed, reason: 'invalidated' });
      });
      this.ended = true;
    }
    this.startFresh();
  }

  /** Adapters register a sync step here (e.g. Express copies `req.session` into the handle). */
  onBeforeCommit(step: () => void): void {
    this.beforeCommit.push(step);
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

  private commitChain(step: () => Promise<void>): Promise<void> {
    const next = this.committing.then(step);
    this.committing = next.catch(() => undefined);
    return next;
  }

  private async writeChanges(): Promise<void> {
    if (this.state !== 'ready') return;
    for (const step of this.beforeCommit) step();
    const meta = this.meta!;
    const now = Date.now();
    const delta = this.attributes.delta();
    const touchDue = this.forceTouch || now - meta.lastAccessedAt >= this.context.options.touchInterval;
    const patch: MetaPatch = { ...this.metaPatch };
    if (touchDue && this.persisted) {
      patch.lastAccessedAt = now;
      patch.expiresAt = expiryAt(now, { ...meta, ...patch });
    }
    const nothingToWrite =
      delta.set.size === 0 && delta.remove.length === 0 && Object.keys(patch).length === 0;

    if (!this.persisted) {
      const wanted =
        delta.set.size > 0 || this.context.options.saveUninitialized || this.forceTouch || patch.principal;
      if (!wanted) return;
      Object.assign(meta, patch);
      await this.storeCall(() => this.context.store.create(meta, delta.set));
      this.persisted = true;
      this.afterWrite(delta, patch, true);
      this.context.events.emit('created', { meta: { ...meta } });
      this.attributes.emitChanges(meta.id, delta);
      return;
    }
    if (nothingToWrite) return;
    await this.attributes.resolvePriorValues(meta.id, delta);
    const applied = await this.storeCall(() =>
      this.context.store.update(meta.id, {
        meta: Object.keys(patch).length > 0 ? patch : undefined,
        set: delta.set,
        remove: delta.remove,
      }),
    );
    if (!applied) {
      // Invalidated by another request meanwhile: never resurrect it; the client is logged out.
      this.startFresh();
      return;
    }
    Object.assign(meta, patch);
    this.afterWrite(delta, patch, false);
    this.attributes.emitChanges(meta.id, delta);
  }

  private afterWrite(delta: ReturnType<AttributeTable['delta']>, patch: MetaPatch, created: boolean): void {
    this.attributes.markSaved(delta);
    this.metaPatch = {};
    this.forceTouch = false;
    this.touched ||= created || patch.lastAccessedAt !== undefined;
  }

  private async storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isUnisessionError(error) && error.code !== 'UNISESSION_STORE_UNAVAILABLE') throw error;
      throw storeUnavailable(this.context.store.name, error);
    }
  }

  /**
   * The response headers this request must send (Set-Cookie, and the id header when
   * enabled). Call after `commit()`.
   */
  responseHeaders(): Array<[string, string]> {
    if (this.state !== 'ready') return [];
    const { options, signer } = this.context;
    const headers: Array<[string, string]> = [];
    const meta = this.meta!;
    if (this.persisted) {
      const persistent = options.cookie.persistent || meta.maxInactive !== options.maxInactive;
      const maxAge = persistent && meta.maxInactive > 0 ? meta.maxInactive : undefined;
      // A new id, an id signed by an old secret (rotation), or a persistent cookie's expiry
      // that slid with this touch: the browser needs the cookie again.
      const stale = this.clientId !== meta.id || (this.resign && signer.enabled);
      if (stale || (maxAge !== undefined && this.touched)) {
        headers.push([
          'set-cookie',
          sessionCookie(signer.sign(meta.id), options.cookie, this.secure, maxAge),
        ]);
      }
      // Only to a client that uses the header: echoed to a cookie client, page script could
      // read the id that HttpOnly hides from it.
      if (options.header && this.presented.transport === 'header') {
        headers.push([options.header, signer.sign(meta.id)]);
      }
    } else if (this.ended) {
      headers.push(['set-cookie', clearedCookie(options.cookie, this.secure)]);
    }
    return headers;
  }

  /** Attribute keys this request has touched; used by adapters that mirror values. */
  loadedNames(): string[] {
    return this.attributes.visibleNames();
  }

  /** Synchronous read of an attribute already loaded (Express-style adapters). */
  peek(name: string): unknown {
    return this.attributes.peek(this.meta?.id ?? '', name);
  }

  /** Length of the stored text of a loaded attribute not decoded yet (0 if none): lets adapters decode big values lazily. */
  undecodedLength(name: string): number {
    return this.attributes.undecodedLength(name);
  }

  /** Synchronous buffered write for adapters with a synchronous API. */
  setSync(name: string, value: unknown): void {
    checkName(name);
    if (this.state !== 'ready') throw new UnisessionError('UNISESSION_INVALID_OPTION', 'session not loaded');
    this.attributes.set(name, value);
  }

  removeSync(name: string): void {
    checkName(name);
    if (this.state !== 'ready') return;
    this.attributes.remove(name);
  }
}

/** A lifetime in ms: a finite number >= 0. `null` or `'5'` must never mean "never expires". */
function checkLifetime(where: string, ms: unknown): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw invalidArgument(where, 'ms', 'a finite number >= 0', ms);
  }
}

/** The sliding expiry capped by the absolute one; null when neither applies. */
export function expiryAt(
  now: number,
  meta: Pick<SessionMeta, 'maxInactive' | 'absoluteExpiresAt'>,
): number | null {
  const sliding = meta.maxInactive > 0 ? now + meta.maxInactive : null;
  if (meta.absoluteExpiresAt === null) return sliding;
  return sliding === null ? meta.absoluteExpiresAt : Math.min(sliding, meta.absoluteExpiresAt);
}
