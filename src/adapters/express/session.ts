import type { Request } from 'express';
import type { Session } from '../../core/session.js';
import { type Callback, settle } from '../kit/commit.js';
import {
  defineHidden,
  exposeAttributes,
  handleOf,
  reservedNames,
  syncToHandle,
} from '../kit/property-session.js';
import type { SessionCookie } from './cookie.js';

export { SessionCookie } from './cookie.js';

/** What `req.session` asks of the middleware that made it: new cookies, and a new `req.session`. */
export interface SessionHost {
  /** The configured cookie for this request (after `regenerate`: a new session's cookie). */
  freshCookie(): SessionCookie;
  /** The cookie of the session as stored (the configured one, with what this session changed in it). */
  storedCookie(): SessionCookie;
  /** Puts a new `req.session` for the handle on the request. */
  install(cookie: SessionCookie): void;
  /** Where a failure with no callback to take it goes: Express's `next`. */
  fail(error: unknown): void;
}

/**
 * `req.session`: attributes are its own enumerable properties; the methods are express-session's.
 * Each method maps onto the native handle; changes are committed once, before the headers.
 */
export class ExpressSession {
  declare cookie: SessionCookie;
  declare private readonly req: Request;
  declare private readonly host: SessionHost;

  constructor(handle: Session, req: Request, cookie: SessionCookie, host: SessionHost) {
    defineHidden(this, { req, cookie, host });
    exposeAttributes(this, handle, RESERVED);
  }

  get id(): string {
    return handleOf(this).id!;
  }

  /** express-session semantics: a new id, an empty session and a new cookie (use `sessionHandle.regenerate()` to keep data). */
  regenerate(callback: Callback): this {
    const work = handleOf(this)
      .regenerate({ keepAttributes: false })
      .then(() => this.host.install(this.host.freshCookie()));
    this.#settle(work, callback);
    return this;
  }

  /** Ends the session in the store; `req.session` is gone afterwards, and the response clears the cookie. */
  destroy(callback?: Callback): this {
    const work = handleOf(this)
      .invalidate()
      .then(() => {
        delete (this.req as Partial<Request>).session;
      });
    this.#settle(work, callback);
    return this;
  }

  /** Writes what changed now (it is written before the response anyway). */
  save(callback?: Callback): this {
    this.#settle(handleOf(this).commit(), callback);
    return this;
  }

  /**
   * Reads the session again from the store, dropping this request's unsaved changes. As with
   * express-session, a session that is no longer there (destroyed, expired, never saved) is
   * an error: "failed to load session".
   */
  reload(callback: Callback): this {
    const handle = handleOf(this);
    const work = handle.reload().then(() => {
      if (handle.isNew) throw new Error('failed to load session');
      this.host.install(this.host.storedCookie());
    });
    this.#settle(work, callback);
    return this;
  }

  /** Resets the cookie's expiry to its full lifetime, and records the access in the store at the commit. */
  touch(): this {
    this.cookie.resetMaxAge();
    handleOf(this).touch();
    return this;
  }

  resetMaxAge(): this {
    this.cookie.resetMaxAge();
    return this;
  }

  /** As express-session's session serializes: the cookie, then the attributes (`res.json(req.session)`). */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = { cookie: this.cookie.toJSON() };
    for (const name of Object.keys(this)) json[name] = (this as unknown as Record<string, unknown>)[name];
    return json;
  }

  /** Never an unhandled rejection: without a callback, a failure goes to Express's error handling. */
  #settle(work: Promise<void>, callback: Callback | undefined): void {
    const fail = (error: unknown) => this.host.fail(error);
    settle(work, callback, fail).catch(fail);
  }
}

/**
 * The names `req.session` keeps for itself: a stored attribute with one of these names is not
 * exposed on `req.session` (read it with `req.sessionHandle.get(name)`), and setting one is
 * refused with UNISESSION_INVALID_NAME. `cookie` is also where a session keeps what its
 * cookie changed (see `cookieOverrides`).
 */
export const RESERVED: ReadonlySet<string> = reservedNames(ExpressSession, [
  'cookie',
  'req',
  'host',
  'handle',
]);

/** The `req.session` of `handle`, if the handler left it on the request (not replaced, not deleted). */
export function sessionOn(req: Request, handle: Session): ExpressSession | undefined {
  const session = (req as Partial<Request>).session as unknown;
  return session instanceof ExpressSession && handleOf(session) === handle ? session : undefined;
}

/** Copies what the handler changed on `req.session`'s attributes into the handle. */
export function syncAttributes(session: ExpressSession, handle: Session): void {
  syncToHandle(session, handle, RESERVED);
}
