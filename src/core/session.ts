import { AttributeTable } from './attributes.js';
import type { SessionContext } from './context.js';
import { clearedCookie, readSessionId, sessionCookie } from './cookie.js';
import { isUnisessionError, storeUnavailable, UnisessionError } from './errors.js';
import { generateSessionId } from './id.js';
import { clientAddress, isSecureRequest, type RequestInfo } from './request.js';
import type { LoadedSession, MetaPatch, SessionMeta } from './store.js';

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
  private readonly incomingId: string | undefined;
  private readonly secure: boolean;
  private metaPatch: MetaPatch = {};
  private forceTouch = false;
  private touched = false;
  /** The id the client holds when it differs from the current one (after regenerate/invalidate). */
  private idChanged = false;
  private readonly beforeCommit: Array<() => void> = [];

  constructor(
    private readonly context: SessionContext,
    private readonly request: RequestInfo,
    ignored: boolean,
  ) {
    const { options } = context;
    this.state = ignored ? 'ignored' : 'unloaded';
    this.incomingId = ignored
      ? undefined
      : readSessionId(request, options.cookie, options.header, context.signer);
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

  private async loadFromStore(): Promise<void> {
    let loaded: LoadedSession | null = null;
    const id = this.meta?.id ?? this.incomingId;
    if (id !== undefined) {
      try {
        loaded = await this.context.store.load(id, this.context.preloadKeys, Date.now());
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
    this.idChanged = this.incomingId !== undefined;
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
    await this.ready();
    this.attributes.set(name, value);
  }

  async remove(name: string): Promise<void> {
    await this.ready();
    this.attributes.remove(name);
  }

  /** Links the session to a user, for "list / revoke all sessions of user X". */
  async setPrincipal(principal: string | null): Promise<void> {
    const meta = await this.ready();
    if (meta.principal !== principal) this.metaPatch.principal = principal;
  }

  /** Changes this session's sliding lifetime (e.g. "remember me"). */
  async setMaxInactive(ms: number): Promise<void> {
    await this.ready();
    this.setMaxInactiveSync(ms);
  }

  setMaxInactiveSync(ms: number): void {
    if (this.state !== 'ready' || !(ms >= 0)) return;
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
   */
  async regenerate(options: { keepAttributes?: boolean } = {}): Promise<void> {
    const meta = await this.ready();
    if (options.keepAttributes === false) {
      await this.invalidate();
      return;
    }
    const newId = generateSessionId();
    if (this.persisted) {
      await this.commitChain(async () => {
        const moved = await this.storeCall(() => this.context.store.rename(meta.id, newId));
        // Gone meanwhile (invalidated elsewhere): what this request holds becomes a new session.
        if (!moved) this.persisted = false;
        if (!moved) this.attributes.markAllUnsaved();
      });
    }
    meta.id = newId;
    this.idChanged = true;
  }

  /** Ends the session everywhere. The handle then holds a fresh, unsaved session. */
  async invalidate(): Promise<void> {
    const meta = await this.ready();
    if (this.persisted) {
      await this.commitChain(async () => {
        const removed = await this.storeCall(() => this.context.store.destroy(meta.id));
        if (removed) this.context.events.emit('destroyed', { meta: removed, reason: 'invalidated' });
      });
    }
    this.startFresh();
    this.idChanged = true;
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
      // Re-sending on every touch keeps a persistent cookie's expiry in step with the server's.
      if (this.idChanged || this.incomingId === undefined || (maxAge !== undefined && this.touched)) {
        headers.push([
          'set-cookie',
          sessionCookie(signer.sign(meta.id), options.cookie, this.secure, maxAge),
        ]);
      }
      if (options.header) headers.push([options.header, signer.sign(meta.id)]);
    } else if (this.incomingId !== undefined && this.idChanged) {
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
    if (this.state !== 'ready') throw new UnisessionError('UNISESSION_INVALID_OPTION', 'session not loaded');
    this.attributes.set(name, value);
  }

  removeSync(name: string): void {
    if (this.state !== 'ready') return;
    this.attributes.remove(name);
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
