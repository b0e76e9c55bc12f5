import type { Request } from 'express';
import { generateSessionId } from '../../core/id.js';
import type { ResolvedOptions, SessionOptions } from '../../core/options.js';
import { type Check, checkOptions, is, type OptionSpec } from '../../core/validate.js';
import type { OwnOptions } from '../kit/setup.js';
import { type CookieData, MAX_LIFETIME_MS, type SameSite } from './cookie.js';
import { genidGenerator } from './genid.js';
import type { LegacyStore } from './legacy-store.js';

/** express-session's `cookie` option: every attribute of its README, plus unisession's `hostPrefix`. */
export interface ExpressCookieOptions {
  /** @default '/' A request whose path is outside it gets no session, as with express-session. */
  path?: string;
  /** @default undefined (host only) */
  domain?: string;
  /** @default true */
  httpOnly?: boolean;
  /**
   * `'auto'`: Secure when the request is HTTPS (directly, or through a proxy `proxy` or Express's
   * `trust proxy` trusts). `true` over plain HTTP sends no cookie, as express-session.
   * @default 'auto'
   */
  secure?: boolean | 'auto';
  /** `true` is `'strict'`, `false` sends none; `'auto'` is `'none'` over HTTPS and `'lax'` otherwise. @default 'lax' */
  sameSite?: SameSite | 'auto';
  /** The cookie's (and the session's) lifetime in ms; null: a browser-session cookie. @default null */
  maxAge?: number | null;
  /** A fixed Expires date for every new session's cookie (express-session advises `maxAge` instead). @default undefined */
  expires?: Date;
  /** @default undefined (not sent) */
  partitioned?: boolean;
  /** @default undefined (not sent) */
  priority?: 'low' | 'medium' | 'high';
  /** Prefix the name with `__Host-` (forces Secure and Path=/, no Domain). @default false */
  hostPrefix?: boolean;
}

/** express-session's options that unisession understands, beside its own. */
export interface ExpressOwnOptions extends Record<string, unknown> {
  name?: string;
  proxy?: boolean;
  resave?: boolean;
  rolling?: boolean;
  unset?: 'keep' | 'destroy';
  genid?: (req: Request) => string;
  cookie?: ExpressCookieOptions | ((req: Request) => ExpressCookieOptions);
  migrateFrom?: LegacyStore;
  legacyCookies?: boolean;
  store?: unknown;
}

/** A cookie lifetime in ms, or null; beyond 100 years its Expires date would stop being a date. */
const isLifetime: Check = (value) => {
  if (value === null) return undefined;
  if (is.nonNegative(value) !== undefined) return 'a finite number >= 0 or null';
  return (value as number) <= MAX_LIFETIME_MS
    ? undefined
    : 'a finite number >= 0 of at most 100 years (in ms) or null';
};

const COOKIE_SPEC: OptionSpec = {
  path: is.matching(/^\//, 'a path starting with "/"'),
  domain: is.nonEmptyString,
  httpOnly: is.boolean,
  secure: is.anyOf(is.boolean, is.oneOf('auto')),
  sameSite: is.anyOf(is.boolean, is.oneOf('lax', 'strict', 'none', 'auto')),
  maxAge: isLifetime,
  expires: (value) =>
    value instanceof Date && Number.isFinite(value.getTime()) ? undefined : 'a valid Date',
  partitioned: is.boolean,
  priority: is.oneOf('low', 'medium', 'high'),
  hostPrefix: is.boolean,
};

const isCookieOption = is.object(COOKIE_SPEC, is.function);

/** An express-session store given as `store`: the one mistake worth its own message. */
const notExpressSessionStore: Check = (value) => {
  const store = value as Record<string, unknown> | null;
  const legacy =
    typeof store === 'object' &&
    store !== null &&
    typeof store.get === 'function' &&
    typeof store.destroy === 'function' &&
    typeof store.loadAttributes !== 'function';
  return legacy
    ? 'a unisession store (unisession/stores/<name>), not an express-session store; ' +
        'to move its sessions over, pass it as `migrateFrom`'
    : undefined;
};

/** express-session's own options: taken out, checked, then mapped onto unisession's. */
export const EXPRESS_OPTIONS: OwnOptions<ExpressOwnOptions> = {
  spec: {
    name: is.nonEmptyString,
    proxy: is.boolean,
    resave: is.boolean,
    rolling: is.boolean,
    unset: is.oneOf('keep', 'destroy'),
    genid: is.function,
    cookie: isCookieOption,
    migrateFrom: is.withMethods('an express-session store (with get and destroy)', 'get', 'destroy'),
    legacyCookies: is.boolean,
    store: notExpressSessionStore,
  },
  pick: ({ name, proxy, resave, rolling, unset, genid, cookie, migrateFrom, legacyCookies, store }) =>
    ({
      name,
      proxy,
      resave,
      rolling,
      unset,
      genid,
      cookie,
      migrateFrom,
      legacyCookies,
      store,
    }) as ExpressOwnOptions,
  toCore(options, own) {
    const {
      name: _name,
      proxy: _proxy,
      resave: _resave,
      rolling: _rolling,
      unset: _unset,
      genid: _genid,
      cookie: _cookie,
      migrateFrom: _migrateFrom,
      legacyCookies: _legacyCookies,
      ...rest
    } = options as SessionOptions & ExpressOwnOptions;
    // A function of the request is resolved per request; only a static cookie informs the core.
    const cookie = typeof own.cookie === 'object' ? own.cookie : {};
    const maxAge = cookie.maxAge ?? undefined;
    return {
      ...rest,
      app: rest.app ?? 'app',
      // The cookie's lifetime is the session's, as "remember me" users expect; 0 ms would mean "never".
      maxInactive: rest.maxInactive ?? (maxAge !== undefined && maxAge > 0 ? maxAge : undefined),
      trustProxy: rest.trustProxy ?? own.proxy,
      // Reading express-session's cookies: their ids (a UUID from its `genid`, say) must pass
      // the transport's id check, which is the wider one when ids are made by a generator.
      ...(own.genid
        ? { generateId: genidGenerator(own.genid) }
        : own.migrateFrom || own.legacyCookies
          ? { generateId: generateSessionId }
          : {}),
      // The core reads the cookie by this name; the Set-Cookie lines are the adapter's own.
      cookie: {
        name: own.name,
        hostPrefix: cookie.hostPrefix,
        path: cookie.path,
        domain: cookie.domain,
      },
    };
  },
};

/**
 * The cookie a request starts with: the `cookie` option (or what its function returns for
 * this request), with 'auto' settled for this request and unisession's defaults filled in.
 * A function's result is checked as the option is; a bad one throws UNISESSION_INVALID_OPTION.
 */
export function requestCookie(
  option: ExpressOwnOptions['cookie'],
  req: Request,
  secureRequest: boolean,
  manager: Pick<ResolvedOptions, 'cookie' | 'maxInactive'>,
): CookieData & { expires: Date | undefined } {
  let cookie: ExpressCookieOptions = {};
  if (typeof option === 'function') {
    cookie = option(req);
    checkOptions('session (the cookie function)', cookie, COOKIE_SPEC);
  } else if (option) cookie = option;
  // What the option leaves out is the manager's (its defaults, or those of a manager the app passed in).
  const base = manager.cookie;
  const hostPrefix = cookie.hostPrefix === true || base.name.startsWith('__Host-');
  const wanted = cookie.secure ?? base.secure;
  const secure = hostPrefix || (wanted === 'auto' ? secureRequest : wanted);
  const sameSite =
    cookie.sameSite === 'auto' ? (secureRequest ? 'none' : 'lax') : (cookie.sameSite ?? base.sameSite);
  // express-session: whichever of maxAge and expires is set wins; maxAge when both are.
  const fallback =
    cookie.expires === undefined && base.persistent && manager.maxInactive > 0 ? manager.maxInactive : null;
  const maxAge = cookie.maxAge === undefined ? fallback : cookie.maxAge;
  return {
    path: hostPrefix ? '/' : (cookie.path ?? base.path),
    domain: hostPrefix ? undefined : (cookie.domain ?? base.domain),
    httpOnly: cookie.httpOnly ?? base.httpOnly,
    secure,
    sameSite,
    partitioned: cookie.partitioned,
    priority: cookie.priority,
    originalMaxAge: maxAge === null && cookie.expires ? cookie.expires.getTime() - Date.now() : maxAge,
    expires: maxAge === null ? cookie.expires : undefined,
  };
}

/** Whether `secure: true` may be honoured: the request is HTTPS, as express-session's `issecure` decides it. */
export function isSecure(req: Request, proxy: boolean | undefined): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  if (proxy === false) return false;
  if (proxy !== true) return req.secure === true;
  const header = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(header) ? header[0] : header) ?? '';
  return proto.split(',')[0]!.trim().toLowerCase() === 'https';
}
