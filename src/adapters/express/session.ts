import type { Request } from 'express';
import { internalsOf, type Session } from '../../core/session.js';
import { type Callback, settle } from '../kit/commit.js';
import { defineHidden, exposeAttributes, reservedNames, syncToHandle } from '../kit/property-session.js';

/** The cookie as express-session exposes it on `req.session.cookie`. */
export class SessionCookie {
  originalMaxAge: number | null;
  expires: Date | null;
  constructor(
    maxAge: number | null,
    readonly path: string,
    readonly httpOnly: boolean,
    readonly domain: string | undefined,
    readonly sameSite: string,
    readonly secure: boolean | 'auto',
  ) {
    this.originalMaxAge = maxAge;
    this.expires = maxAge === null ? null : new Date(Date.now() + maxAge);
  }
  /** Remaining lifetime in ms; setting it is the "remember me" switch. */
  get maxAge(): number | null {
    return this.expires === null ? null : this.expires.getTime() - Date.now();
  }
  set maxAge(ms: number | null) {
    this.originalMaxAge = ms;
    this.expires = ms === null ? null : new Date(Date.now() + ms);
  }
}

/**
 * `req.session`: attributes are its own enumerable properties; the methods are express-session's.
 * Each method maps onto the native handle; changes are committed once, before the headers.
 * A failure with no callback to take it (or in the callback) goes to `fail`: Express's `next`.
 */
export class ExpressSession {
  declare cookie: SessionCookie;
  declare private readonly handle: Session;
  declare private readonly req: Request;
  readonly #fail: (error: unknown) => void;

  constructor(handle: Session, req: Request, cookie: SessionCookie, fail: (error: unknown) => void) {
    defineHidden(this, { handle, req, cookie });
    this.#fail = fail;
    exposeAttributes(this, handle, RESERVED);
  }

  get id(): string {
    return this.handle.id!;
  }

  /** express-session semantics: a new id and an empty session (use `sessionHandle.regenerate()` to keep data). */
  regenerate(callback: Callback): this {
    const work = this.handle.regenerate({ keepAttributes: false }).then(() => this.#reinstall());
    this.#settle(work, callback);
    return this;
  }

  destroy(callback?: Callback): this {
    const work = this.handle.invalidate().then(() => {
      delete (this.req as Partial<Request>).session;
    });
    this.#settle(work, callback);
    return this;
  }

  save(callback?: Callback): this {
    this.#settle(this.handle.commit(), callback);
    return this;
  }

  reload(callback: Callback): this {
    this.#settle(
      this.handle.reload().then(() => this.#reinstall()),
      callback,
    );
    return this;
  }

  touch(): this {
    this.handle.touch();
    return this;
  }

  resetMaxAge(): this {
    this.cookie.maxAge = this.cookie.originalMaxAge;
    return this;
  }

  #reinstall(): void {
    installSession(this.req, this.handle, this.cookie, this.#fail);
  }

  /** Never an unhandled rejection: without a callback, a failure goes to Express's error handling. */
  #settle(work: Promise<void>, callback: Callback | undefined): void {
    settle(work, callback, this.#fail).catch(this.#fail);
  }
}

/**
 * The names `req.session` keeps for itself: a stored attribute with one of these names is not
 * exposed on `req.session` (read it with `req.sessionHandle.get(name)`), and setting one is
 * refused with UNISESSION_INVALID_NAME.
 */
const RESERVED: ReadonlySet<string> = reservedNames(ExpressSession, ['cookie', 'handle', 'req']);

/** Puts a new `req.session` for `handle` on the request (at the load, and after regenerate or reload). */
export function installSession(
  req: Request,
  handle: Session,
  cookie: SessionCookie,
  fail: (error: unknown) => void,
): void {
  req.session = new ExpressSession(handle, req, cookie, fail) as Request['session'];
  req.sessionID = handle.id!;
}

/** Copies what the handler changed on `req.session` into the handle just before it commits. */
export function syncFromRequest(req: Request, handle: Session, initialMaxAge: number | null): void {
  const session = req.session as (ExpressSession & Record<string, unknown>) | undefined;
  if (!(session instanceof ExpressSession) || (session as unknown as { handle: Session }).handle !== handle)
    return;
  syncToHandle(session, handle, RESERVED);
  if (session.cookie.originalMaxAge !== initialMaxAge && session.cookie.originalMaxAge !== null) {
    internalsOf(handle).setMaxInactiveSync(session.cookie.originalMaxAge);
  }
}
