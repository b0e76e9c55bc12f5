import type { Request } from 'express';
import type { SessionManager } from '../../core/manager.js';
import { internalsOf, type Session } from '../../core/session.js';
import type { IdSigner } from '../../core/signing.js';
import {
  type CookieData,
  cookieFingerprint,
  cookieOverrides,
  readOverrides,
  SessionCookie,
} from './cookie.js';
import { ExpressSession, type SessionHost, sessionOn, syncAttributes } from './session.js';

/** What the middleware settled once for every request. */
export interface ExpressSettings {
  manager: SessionManager;
  signer: IdSigner;
  rolling: boolean;
  unsetDestroy: boolean;
  /** The store lifetime of a session whose cookie has no lifetime of its own. */
  defaultLifetime: number;
}

/**
 * One request's express-session state around the native handle: the cookie it started with,
 * what the session stores about its cookie, and the Set-Cookie the response gets. The core's
 * transport decides *whether* the cookie must be sent (new id, rotation, a persistent cookie's
 * slide, a cleared session); this adds express-session's own reasons (`rolling`, a cookie the
 * handler changed, a legacy cookie to re-issue) and writes the line from `req.session.cookie`.
 */
export class RequestSession implements SessionHost {
  /** The cookie last put on `req.session`: still used for the response after `destroy()`. */
  private cookie: SessionCookie | undefined;
  private installedFingerprint = '';
  /** The session's stored lifetime (its maxInactive), as last loaded or set. */
  private lifetime = 0;
  /** What the store holds under the session's `cookie` attribute, as JSON. */
  private storedOverrides = '{}';

  constructor(
    private readonly settings: ExpressSettings,
    private readonly req: Request,
    private readonly handle: Session,
    private readonly configured: CookieData & { expires: Date | undefined },
    private readonly secureRequest: boolean,
    readonly fail: (error: unknown) => void,
    /**
     * The id of the express-session cookie the request presented, if any: its session, once
     * loaded, gets the cookie re-issued in unisession's format; when no store had it, the
     * cookie is cleared, so that later requests stop asking the old store.
     */
    private readonly legacyId: string | undefined,
  ) {}

  get installed(): boolean {
    return this.cookie !== undefined;
  }

  freshCookie(): SessionCookie {
    const { expires, ...data } = this.configured;
    return new SessionCookie(data, expires);
  }

  storedCookie(): SessionCookie {
    const stored = readOverrides(internalsOf(this.handle).peek('cookie'));
    const { expires, ...data } = this.configured;
    const cookie = new SessionCookie(
      { ...data, ...stored },
      'originalMaxAge' in stored ? undefined : expires,
    );
    this.storedOverrides = JSON.stringify(stored);
    return cookie;
  }

  /** After the load: `req.session`, `req.sessionID`, and what the session's lifetime is now. */
  async start(): Promise<void> {
    const meta = await this.handle.metadata();
    this.lifetime = meta?.maxInactive ?? this.settings.defaultLifetime;
    this.install(this.handle.isNew ? this.freshCookie() : this.storedCookie());
  }

  /** `start` for a new session started without the store (`startFreshWithoutStore`): nothing to await. */
  startFresh(): void {
    this.lifetime = this.settings.defaultLifetime;
    this.install(this.freshCookie());
  }

  install(cookie: SessionCookie): void {
    this.cookie = cookie;
    this.installedFingerprint = cookieFingerprint(cookie);
    const { req, handle } = this;
    req.session = new ExpressSession(handle, req, cookie, this) as Request['session'];
    req.sessionID = handle.id!;
  }

  /**
   * Just before each commit: the attributes the handler changed, and what it changed in the
   * cookie, which a session keeps ("remember me"): the lifetime is the session's in the store
   * too, and the differences from the configured cookie are stored as its `cookie` attribute.
   */
  sync(): void {
    const session = sessionOn(this.req, this.handle);
    if (!session) return;
    syncAttributes(session, this.handle);
    const cookie = session.cookie instanceof SessionCookie ? session.cookie : this.cookie!;
    const internals = internalsOf(this.handle);
    // A new session is stored for its attributes, as express-session; its cookie alone does not make it worth a write.
    const saving = !this.handle.isNew || internals.loadedNames().some((name) => name !== 'cookie');
    const changed = cookieFingerprint(cookie) !== this.installedFingerprint;
    if (!saving || !(this.handle.isNew || changed)) return;
    const overrides = cookieOverrides(cookie, this.configured);
    const json = JSON.stringify(overrides);
    if (json !== this.storedOverrides) {
      if (json === '{}') internals.removeSync('cookie');
      else internals.setSync('cookie', overrides);
      this.storedOverrides = json;
    }
    const own = cookie.originalMaxAge;
    const lifetime = own !== null && own > 0 ? Math.round(own) : this.settings.defaultLifetime;
    if (lifetime !== this.lifetime) {
      internals.setMaxInactiveSync(lifetime);
      this.lifetime = lifetime;
    }
  }

  /** At the response: `unset: 'destroy'`, the commit, then the headers, our cookie written from `req.session.cookie`. */
  async commit(): Promise<Array<[string, string]>> {
    const { handle, settings } = this;
    const present = (this.req as Partial<Request>).session != null;
    if (settings.unsetDestroy && this.installed && !present) await handle.invalidate();
    await handle.commit();
    return this.headers(handle.responseHeaders(), present);
  }

  private headers(fromCore: Array<[string, string]>, present: boolean): Array<[string, string]> {
    const { name } = this.settings.manager.options.cookie;
    const headers: Array<[string, string]> = [];
    let value: string | undefined;
    let clear = false;
    for (const [header, line] of fromCore) {
      if (header === 'set-cookie' && line.startsWith(`${name}=`)) {
        const end = line.indexOf(';');
        value = line.slice(name.length + 1, end === -1 ? undefined : end);
        clear = value === '';
      } else headers.push([header, line]);
    }
    const session = sessionOn(this.req, this.handle);
    const cookie = session?.cookie instanceof SessionCookie ? session.cookie : this.cookie;
    if (!cookie) return headers;
    const persisted = !this.handle.isNew;
    if (value === undefined && persisted && present) {
      const changed = cookieFingerprint(cookie) !== this.installedFingerprint;
      const legacy = this.legacyId !== undefined && this.handle.id === this.legacyId;
      if (this.settings.rolling || legacy || changed) value = this.settings.signer.sign(this.handle.id!);
    }
    if (value === undefined && this.legacyId !== undefined && !persisted) {
      value = '';
      clear = true;
    }
    // express-session sends no Secure cookie over plain HTTP (the browser would drop it anyway).
    if (value === undefined || (cookie.secure && !this.secureRequest)) return headers;
    if (clear) headers.push(['set-cookie', cookie.cleared(name)]);
    else if (present) {
      cookie.resetMaxAge();
      headers.push(['set-cookie', cookie.serialize(name, value)]);
    }
    return headers;
  }
}
