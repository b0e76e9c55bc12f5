import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SessionManager } from '../core/manager.js';
import type { CookieOptions, SessionOptions } from '../core/options.js';
import { internalsOf, type Session } from '../core/session.js';
import { EXPRESS_OPTIONS, type ExpressOwnOptions } from './express/options.js';
import { type ExpressSession, installSession, SessionCookie, syncFromRequest } from './express/session.js';
import { setUpAdapter } from './kit/setup.js';
import { trustRule } from './kit/trust.js';
import { holdResponseUntilCommitted } from './node/hold.js';
import { nodeRequestInfo } from './node/request.js';

export { ExpressSession, SessionCookie } from './express/session.js';

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
  const setup = setUpAdapter<ExpressOwnOptions>('session', options, EXPRESS_OPTIONS);
  const { manager } = setup;
  const maxAge = setup.own.cookie?.maxAge ?? null;
  // Without options of our own, follow Express's `trust proxy` setting, as express-session does.
  const trusted = trustRule(setup.options);
  const { cookie } = manager.options;
  const report = (error: unknown) => manager.reportError(error, 'response');

  const middleware = (req: Request, res: Response, next: NextFunction) => {
    if (manager.isIgnored(req.originalUrl ?? req.url)) return next();
    const handle = manager.open(
      trusted(nodeRequestInfo(req), () => ({ encrypted: req.secure, remoteAddress: req.ip })),
    );
    req.sessionHandle = handle;
    // As express-session does from its res.end wrapper: a commit failure goes to next(err).
    holdResponseUntilCommitted(res, handle, { fail: next, report });
    const internals = internalsOf(handle);
    internals.onBeforeCommit(() => syncFromRequest(req, handle, maxAge));
    internals
      .load()
      .then(() => {
        const { path, httpOnly, domain, sameSite, secure } = cookie;
        installSession(
          req,
          handle,
          new SessionCookie(maxAge, path, httpOnly, domain, sameSite, secure),
          next,
        );
      })
      .then(() => next(), next)
      .catch(report);
  };
  return Object.assign(middleware, { manager });
}

export default session;
