import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SessionManager } from '../core/manager.js';
import type { CookieOptions, SessionOptions } from '../core/options.js';
import {
  defineHidden,
  fillFromHandle,
  guardPrototype,
  reservedNames,
  syncToHandle,
} from '../core/property-session.js';
import type { Session } from '../core/session.js';
import { checkOptions, invalidOption, is } from '../core/validate.js';
import { createSessionManager } from '../index.js';
import { holdResponseUntilCommitted, nodeRequestInfo } from './node.js';

/**
 * Augment this interface to type your session data, as with express-session:
 * `declare module 'unisession/express' { interface SessionData { views: number } }`
 */
// biome-ignore lint/suspicious/noEmptyInterface: an interface users augment.
export interface SessionData {}

declare global {
  namespace Express {
    interface Request {
      /** The express-session-compatible session; absent on ignored URLs and after `destroy()`. */
      session: ExpressSession & Partial<SessionData>;
      sessionID: string;
      /** unisession's native, async session API for the same session. */
      sessionHandle: Session;
    }
  }
}

export interface ExpressSessionOptions extends Omit<SessionOptions, 'app' | 'cookie'> {
  /** The app code (namespace of private attributes). @default 'app' */
  app?: string;
  /** express-session's cookie name option. @default 'unisession' */
  name?: string;
  /** Cookie options; `maxAge` (ms) as in express-session makes the cookie persistent and sets maxInactive. */
  cookie?: CookieOptions & { maxAge?: number | null };
  /** express-session's `proxy`: trust X-Forwarded-Proto. @default Express's own `trust proxy` setting */
  proxy?: boolean;
  /** Accepted for compatibility and ignored: unisession only ever writes what changed. */
  resave?: boolean;
  /** Accepted for compatibility: the cookie slides with each (throttled) touch already. */
  rolling?: boolean;
}

type Callback = (error?: unknown) => void;

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
 */
export class ExpressSession {
  declare cookie: SessionCookie;
  declare private readonly handle: Session;
  declare private readonly req: Request;
  readonly #fail: (error: unknown) => void;

  constructor(handle: Session, req: Request, cookie: SessionCookie, fail: (error: unknown) => void) {
    defineHidden(this, { handle, req, cookie });
    guardPrototype(this);
    this.#fail = fail;
    fillFromHandle(this, handle, RESERVED);
  }

  get id(): string {
    return this.handle.id!;
  }

  /** express-session semantics: a new id and an empty session (use `sessionHandle.regenerate()` to keep data). */
  regenerate(callback: Callback): this {
    settle(this.handle.regenerate({ keepAttributes: false }), callback, this.#fail, () =>
      install(this.req, this.handle, this.cookie, this.#fail),
    );
    return this;
  }

  destroy(callback?: Callback): this {
    settle(this.handle.invalidate(), callback, this.#fail, () => {
      delete (this.req as Partial<Request>).session;
    });
    return this;
  }

  save(callback?: Callback): this {
    settle(this.handle.commit(), callback, this.#fail);
    return this;
  }

  reload(callback: Callback): this {
    settle(this.handle.reload(), callback, this.#fail, () =>
      install(this.req, this.handle, this.cookie, this.#fail),
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
}

/**
 * The names `req.session` keeps for itself: a stored attribute with one of these names is not
 * exposed on `req.session` (read it with `req.sessionHandle.get(name)`), and setting one is
 * refused with UNISESSION_INVALID_NAME.
 */
const RESERVED: ReadonlySet<string> = reservedNames(ExpressSession, ['cookie', 'handle', 'req']);

/**
 * Runs the callback when `work` is done. Whatever fails, including the callback itself, goes to
 * the callback or, when there is none (or it throws), to Express's error handling: never to an
 * unhandled rejection.
 */
function settle(
  work: Promise<void>,
  callback: Callback | undefined,
  fail: (error: unknown) => void,
  then?: () => void,
): void {
  work
    .then(then)
    .then(
      () => callback?.(),
      (error: unknown) => (callback ? callback(error) : fail(error)),
    )
    .catch(fail);
}

function install(req: Request, handle: Session, cookie: SessionCookie, fail: (error: unknown) => void): void {
  req.session = new ExpressSession(handle, req, cookie, fail) as ExpressSession & Partial<SessionData>;
  req.sessionID = handle.id!;
}

/** Copies what the handler changed on `req.session` into the handle just before it commits. */
function syncFromRequest(req: Request, handle: Session, initialMaxAge: number | null): void {
  const session = req.session as (ExpressSession & Record<string, unknown>) | undefined;
  if (!(session instanceof ExpressSession) || (session as unknown as { handle: Session }).handle !== handle)
    return;
  syncToHandle(session, handle, RESERVED);
  if (session.cookie.originalMaxAge !== initialMaxAge && session.cookie.originalMaxAge !== null) {
    handle.setMaxInactiveSync(session.cookie.originalMaxAge);
  }
}

/**
 * An express-session drop-in: `app.use(session({ secret }))`, then `req.session.views = 1`.
 * The session is loaded before your handler runs (one store round trip when the client has
 * a session cookie, none otherwise) and committed before the response headers leave. A
 * failure, at the load or at the commit, goes to your error middleware (`next(err)`); a
 * response held for a commit that failed is discarded, so the error middleware answers.
 */
export function session(
  options: ExpressSessionOptions | SessionManager = {},
): RequestHandler & { manager: SessionManager } {
  const manager =
    options instanceof SessionManager ? options : createSessionManager(toSessionOptions(options));
  const useExpressTrust =
    !(options instanceof SessionManager) && options.trustProxy === undefined && options.proxy === undefined;
  const maxAge = options instanceof SessionManager ? null : (options.cookie?.maxAge ?? null);
  const { cookie } = manager.options;
  const report = (error: unknown) => manager.reportError(error, 'response');

  const middleware = (req: Request, res: Response, next: NextFunction) => {
    if (manager.isIgnored(req.originalUrl ?? req.url)) return next();
    const info = nodeRequestInfo(req);
    // Without options of our own, follow Express's `trust proxy` setting, as express-session does.
    const handle = manager.open(
      useExpressTrust ? { ...info, encrypted: req.secure, remoteAddress: req.ip } : info,
    );
    req.sessionHandle = handle;
    // As express-session does from its res.end wrapper: a commit failure goes to next(err).
    holdResponseUntilCommitted(res, handle, { fail: next, report });
    handle.onBeforeCommit(() => syncFromRequest(req, handle, maxAge));
    handle
      .load()
      .then(() => {
        const sessionCookie = new SessionCookie(
          maxAge,
          cookie.path,
          cookie.httpOnly,
          cookie.domain,
          cookie.sameSite,
          cookie.secure,
        );
        install(req, handle, sessionCookie, next);
      })
      .then(() => next(), next)
      .catch(report);
  };
  return Object.assign(middleware, { manager });
}

const ADAPTER_OPTIONS = {
  name: is.nonEmptyString,
  proxy: is.boolean,
  resave: is.boolean,
  rolling: is.boolean,
  cookie: is.object({ maxAge: is.anyOf(is.nonNegative, (value) => (value === null ? undefined : 'null')) }),
};

/** Checks express-session's own options, and maps them onto unisession's. */
function toSessionOptions(options: ExpressSessionOptions): SessionOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('session', 'options', 'an object or a SessionManager', options);
  const { name, cookie, proxy, resave, rolling, app, ...rest } = options;
  const ownCookie = isRecord(cookie) ? { maxAge: cookie.maxAge } : cookie;
  checkOptions('session', { name, proxy, resave, rolling, cookie: ownCookie }, ADAPTER_OPTIONS);
  const { maxAge, ...cookieOptions } = cookie ?? {};
  return {
    ...rest,
    app: app ?? 'app',
    maxInactive: rest.maxInactive ?? maxAge ?? undefined,
    trustProxy: rest.trustProxy ?? proxy,
    cookie: {
      ...cookieOptions,
      name: name ?? cookieOptions.name,
      persistent: cookieOptions.persistent ?? (maxAge !== undefined && maxAge !== null),
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export default session;
