import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import { pathOf } from '../core/request.js';
import { internalsOf, type Session } from '../core/session.js';
import { IdSigner, type Secret } from '../core/signing.js';
import type { Store } from '../core/store.js';
import { onFirstTouch } from './express/first-touch.js';
import { rememberRequest } from './express/genid.js';
import { legacyIdFrom } from './express/legacy-cookie.js';
import type { LegacyStore } from './express/legacy-store.js';
import { migrateSession } from './express/migrate.js';
import {
  EXPRESS_OPTIONS,
  type ExpressCookieOptions,
  type ExpressOwnOptions,
  isSecure,
  requestCookie,
} from './express/options.js';
import { RequestSession } from './express/request-session.js';
import type { ExpressSession } from './express/session.js';
import { setUpAdapter } from './kit/setup.js';
import { trustRule } from './kit/trust.js';
import { holdResponseUntilCommitted } from './node/hold.js';
import { headerOf, nodeRequestInfo } from './node/request.js';

export type { LegacySession, LegacyStore } from './express/legacy-store.js';
export type { ExpressCookieOptions } from './express/options.js';
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
      /** The express-session-compatible session; absent on ignored URLs, outside `cookie.path` and after `destroy()`. */
      session: ExpressSession & Partial<SessionData>;
      sessionID: string;
      /** The store sessions live in (express-session's `req.sessionStore`): a unisession store. */
      sessionStore: Store;
      /** unisession's native, async session API for the same session. */
      sessionHandle: Session;
    }
  }
}

export interface ExpressSessionOptions extends Omit<SessionOptions, 'app' | 'cookie' | 'generateId'> {
  /** The app code (namespace of private attributes). @default 'app' */
  app?: string;
  /** The cookie's name. @default 'unisession' (express-session's is 'connect.sid': pass it to keep your users' cookies) */
  name?: string;
  /** The session cookie, or a function of the request that returns it (see `ExpressCookieOptions`). */
  cookie?: ExpressCookieOptions | ((req: Request) => ExpressCookieOptions);
  /** Makes each new session's id; each result is checked (22+ random-looking `[A-Za-z0-9_-]`). @default 192 random bits */
  genid?: (req: Request) => string;
  /** express-session's `proxy`: trust X-Forwarded-Proto (true), never (false). @default Express's own `trust proxy` setting */
  proxy?: boolean;
  /** Accepted for compatibility and ignored: unisession only ever writes what changed. */
  resave?: boolean;
  /** Send the cookie on every response, its expiry reset to the full `maxAge`. @default false */
  rolling?: boolean;
  /** What `req.session = null` or `delete req.session` does: `'destroy'` ends the session; `'keep'` drops the request's changes. @default 'keep' */
  unset?: 'keep' | 'destroy';
  /**
   * The express-session store the app used before (connect-redis, connect-mongo, any store with
   * `get` and `destroy`): a session found there is moved into `store` at its user's next request,
   * so nobody is logged out by the switch. See docs/migrating-from-express-session.md.
   */
  migrateFrom?: LegacyStore;
  /** Accept express-session's `s:<id>.<signature>` cookies (same secret), re-issued in unisession's format. @default true with `migrateFrom`, else false */
  legacyCookies?: boolean;
}

const asList = (secret: SessionOptions['secret']): Secret[] =>
  secret === undefined ? [] : Array.isArray(secret) ? [...secret] : [secret as Secret];

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
  const { manager, own } = setup;
  // Without options of our own, follow Express's `trust proxy` setting, as express-session does.
  const trusted = trustRule(setup.options);
  const report = (error: unknown) => manager.reportError(error, 'response');
  const secrets = asList(manager.options.secret);
  const migrateFrom = own.migrateFrom;
  const readLegacy = (own.legacyCookies ?? migrateFrom !== undefined) && secrets.length > 0;
  const settings = {
    manager,
    signer: new IdSigner(manager.options.secret),
    rolling: own.rolling === true,
    unsetDestroy: own.unset === 'destroy',
    defaultLifetime: manager.options.maxInactive,
  };
  const { name } = manager.options.cookie;
  const { saveUninitialized } = manager.options;

  const middleware = (req: Request, res: Response, next: NextFunction) => {
    // As express-session: a session put there by earlier middleware is left alone.
    if ((req as Partial<Request>).session) return next();
    const url = req.originalUrl ?? req.url;
    if (manager.isIgnored(url)) return next();
    const secureRequest = isSecure(req, own.proxy);
    let configured: ReturnType<typeof requestCookie>;
    try {
      configured = requestCookie(own.cookie, req, secureRequest, manager.options);
    } catch (error) {
      return next(error);
    }
    // As express-session: no session outside the cookie's path (the browser would not send it back).
    if (!pathOf(url).startsWith(configured.path)) return next();
    req.sessionStore = manager.store;
    const legacyId = readLegacy ? legacyIdFrom(req.headers.cookie, name, secrets) : undefined;
    const openHandle = () => {
      let info = trusted(nodeRequestInfo(req), () => ({ encrypted: req.secure, remoteAddress: req.ip }));
      if (legacyId !== undefined) info = presenting(info, name, settings.signer.sign(legacyId));
      return manager.open(rememberRequest(info, req));
    };
    // No session cookie (nor an id header): nothing to load, and nothing to save unless the
    // handler uses the session. So the session, and the response hold that commits it, are
    // made at the first touch of req.session, req.sessionID or req.sessionHandle; a request
    // that never touches them costs little more than without this middleware.
    if (
      legacyId === undefined &&
      !saveUninitialized &&
      !manager.mayPresentId((key) => headerOf(req.headers, key))
    ) {
      onFirstTouch(req, () => {
        const handle = openHandle();
        req.sessionHandle = handle;
        internalsOf(handle).startFreshWithoutStore();
        const state = new RequestSession(settings, req, handle, configured, secureRequest, next, undefined);
        internalsOf(handle).onBeforeCommit(() => state.sync());
        state.startFresh();
        // Touched after the response left: as with express-session, nothing is saved any more.
        if (!res.headersSent)
          holdResponseUntilCommitted(res, handle, { fail: next, report }, () => state.commit());
      });
      return next();
    }
    const handle = openHandle();
    req.sessionHandle = handle;
    const start = async (): Promise<RequestSession> => {
      if (legacyId !== undefined && migrateFrom) {
        await migrateSession(manager, migrateFrom, legacyId, configured, {
          clientAddress: req.ip ?? '',
          userAgent: req.headers['user-agent'] ?? '',
          url: req.originalUrl ?? req.url ?? '',
        });
      }
      return new RequestSession(settings, req, handle, configured, secureRequest, next, legacyId);
    };
    const ready = start();
    // As express-session does from its res.end wrapper: a commit failure goes to next(err).
    // A failed start has gone to next(err) already: its error response then carries no session headers.
    const commit = async () => {
      const state = await ready.catch(() => undefined);
      return state ? state.commit() : [];
    };
    holdResponseUntilCommitted(res, handle, { fail: next, report }, commit);
    ready
      .then(async (state) => {
        internalsOf(handle).onBeforeCommit(() => state.sync());
        await internalsOf(handle).load();
        await state.start();
      })
      .then(() => next(), next)
      .catch(report);
  };
  return Object.assign(middleware, { manager });
}

/** The request as the core sees it, with the id of a verified express-session cookie presented in unisession's format. */
function presenting(
  info: ReturnType<typeof nodeRequestInfo>,
  name: string,
  signed: string,
): ReturnType<typeof nodeRequestInfo> {
  const header = info.header('cookie');
  return {
    ...info,
    header: (key) =>
      key === 'cookie' ? `${name}=${signed}${header ? `; ${header}` : ''}` : info.header(key),
  };
}

export default session;
