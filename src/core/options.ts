import { serialize } from 'cookie';
import type { SessionLimit } from './admin-types.js';
import { DEFAULT_CACHE_BYTES } from './cache.js';
import type { Codec } from './codec.js';
import { UnisessionError } from './errors.js';
import { nameProblem } from './names.js';
import type { RequestInfo, TrustProxy } from './request.js';
import type { Secret } from './signing.js';
import { CAPABILITY_METHODS, type Store } from './store.js';
import { type Check, checkOptions, invalidOption, is, isGroupName, type OptionSpec } from './validate.js';

export interface CookieOptions {
  /** @default 'unisession' */
  name?: string;
  /** @default '/' */
  path?: string;
  /** Set it to the root domain (e.g. `example.com`) to share the session across subdomains. @default undefined (host only) */
  domain?: string;
  /** @default true */
  httpOnly?: boolean;
  /** @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none';
  /**
   * `'auto'` sets Secure when the request is HTTPS, directly or through a trusted proxy
   * (see `trustProxy`). `true` always sets it, `false` never.
   * @default 'auto'
   */
  secure?: boolean | 'auto';
  /**
   * Prefix the name with `__Host-`: the browser then refuses the cookie unless it is Secure,
   * has Path=/ and no Domain. Forces `secure: true`; incompatible with `domain`.
   * @default false
   */
  hostPrefix?: boolean;
  /**
   * Make the cookie persistent (Max-Age = the session's maxInactive), re-sent on every
   * touch so that the browser's expiry slides with the server's. Otherwise the cookie lives
   * until the browser closes, and the server alone decides expiry.
   * @default false
   */
  persistent?: boolean;
}

export interface SessionOptions {
  /** This application's code: the namespace of its private attributes. `[A-Za-z0-9_-]{1,64}`. */
  app: string;
  /**
   * The code of the group of apps that share sessions; names the table, collection or key
   * prefix in the store. Apps that share a session must use the same group and store. Without
   * `store` it names the default SQLite store's group; with one, it must equal the store's
   * own `group` (a mismatch is refused at creation). `[A-Za-z0-9_-]{1,40}`.
   * @default the store's group, else 'unisession'
   */
  group?: string;
  /** Where sessions live. @default a SQLite file `./unisession.sqlite` (needs better-sqlite3), `sqliteStore({ group })` */
  store?: Store;
  /** Sliding lifetime in ms; 0 means sessions never expire by inactivity. @default 1_800_000 (30 min) */
  maxInactive?: number;
  /** Absolute lifetime in ms from creation, whatever the activity; 0 means none. @default 0 */
  absoluteTimeout?: number;
  /**
   * A request only records its access (a write) when the last recorded access is older than
   * this, so read-only traffic costs no writes. @default min(60 s, maxInactive / 10)
   */
  touchInterval?: number;
  /** Requests whose path matches never touch the store (static files). @default undefined */
  ignore?: RegExp | ((path: string) => boolean);
  /**
   * Attribute names fetched with the session in its one load round trip; others load on
   * first read. `'all'` fetches every attribute. @default 'all'
   */
  preload?: 'all' | readonly string[];
  /**
   * Attributes shared by every app of the group (the login, say); all others are private to
   * this app's namespace. @default [] (everything private)
   */
  shared?: readonly string[] | ((name: string) => boolean);
  cookie?: CookieOptions;
  /**
   * Sign the id in the cookie with HMAC-SHA256: a string, a Buffer (`crypto.randomBytes(32)`),
   * or a non-empty list of them. The first secret signs, all verify, and a cookie an older
   * secret verified is re-issued signed with the first. Without one, a warning is printed once
   * per process. @default undefined (unsigned)
   */
  secret?: Secret | readonly Secret[];
  /** Which peers may set X-Forwarded-Proto/-For (see `RequestInfo`). @default false */
  trustProxy?: TrustProxy;
  /**
   * Also accept the id from this request header, for API clients without cookies (e.g.
   * `'x-session-id'`). The id is echoed in that response header only to a request that sent
   * the header (an empty one asks for a new session), never to a cookie request, so page
   * script cannot read an HttpOnly cookie's id. @default false
   */
  header?: string | false;
  /** Turns attribute values into stored text. @default the type-preserving JSON codec */
  codec?: Codec;
  /** Persist sessions that have no attributes yet. @default false */
  saveUninitialized?: boolean;
  /** Largest encoded attribute value, in bytes. @default 1_048_576 */
  maxValueBytes?: number;
  /**
   * When the store fails: `'fail'` ends the request with 503 UNISESSION_STORE_UNAVAILABLE,
   * `'continue'` serves it with an empty, unsaved session. @default 'fail'
   */
  onStoreError?: 'fail' | 'continue';
  /**
   * Makes the id of each new session (Express's `genid`). Each id is checked: 22 to 128
   * characters of `[A-Za-z0-9_-]` that look random; a weak one fails the request with
   * UNISESSION_INVALID_OPTION. @default 24 random bytes, base64url (192 bits)
   */
  generateId?: (request: RequestInfo) => string;
  /** The expired-session sweeper; `false` turns it off on this node. @default { interval: 60_000, batchSize: 500 } */
  sweeper?: false | { interval?: number; batchSize?: number };
  /**
   * The session cache of this node: the attributes of recently used sessions, kept encoded
   * with their version, so a request whose session did not change since it was last seen
   * here fetches only its metadata. Bounded by `maxBytes` of estimated memory; `0` turns it
   * off. Used with stores that keep versions: Redis, SQLite, PostgreSQL, MongoDB, memory (see docs/decisions.md). @default { maxBytes: 33_554_432 } (32 MiB)
   */
  cache?: { maxBytes?: number };
  /**
   * How many sessions one principal may have at once, checked when a session gets its
   * principal (at login). A number means `{ limit, policy: 'evict-oldest' }`: the oldest
   * others are destroyed (reason `evicted`). With `policy: 'refuse'` the commit fails with
   * UNISESSION_TOO_MANY_SESSIONS (409) and writes nothing. Needs a store with a principal
   * index. Two logins racing on two nodes may both pass the check. @default none
   */
  maxSessionsPerPrincipal?: number | SessionLimit;
}

export interface ResolvedCookieOptions {
  name: string;
  path: string;
  domain: string | undefined;
  httpOnly: boolean;
  sameSite: 'lax' | 'strict' | 'none';
  secure: boolean | 'auto';
  persistent: boolean;
}

export interface ResolvedOptions {
  app: string;
  group: string;
  maxInactive: number;
  absoluteTimeout: number;
  touchInterval: number;
  ignore: ((path: string) => boolean) | undefined;
  preload: 'all' | readonly string[];
  isShared: (name: string) => boolean;
  cookie: ResolvedCookieOptions;
  secret: Secret | readonly Secret[] | undefined;
  trustProxy: TrustProxy;
  header: string | false;
  saveUninitialized: boolean;
  maxValueBytes: number;
  onStoreError: 'fail' | 'continue';
  sweeper: false | { interval: number; batchSize: number };
  cache: { maxBytes: number };
  maxSessionsPerPrincipal: SessionLimit | undefined;
  generateId: ((request: RequestInfo) => string) | undefined;
}

export const APP_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** An HTTP header name (RFC 9110 token). */
const HEADER_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const isName: Check = (value) => {
  const problem = nameProblem(value);
  return problem === undefined ? undefined : `an attribute name (${JSON.stringify(value)} ${problem})`;
};
const isSecret = is.anyOf(is.nonEmptyString, is.nonEmptyBuffer);

const STORE = 'a Store object (e.g. redisStore({ url }), not a connection string)';
const hasStoreMethods = is.withMethods(
  STORE,
  'load',
  'loadAttributes',
  'create',
  'update',
  'destroy',
  'rename',
  'close',
);
/** Duck-typed, as capabilities are: the methods, a name for errors, and whole capability groups. */
const isStore: Check = (value) => {
  const missing = hasStoreMethods(value);
  if (missing !== undefined) return missing;
  const store = value as Record<string, unknown>;
  if (typeof store.name !== 'string') return `${STORE} (missing its name)`;
  for (const [group, methods] of Object.entries(CAPABILITY_METHODS)) {
    if (store[group] === undefined) continue;
    const incomplete = is.withMethods(`${STORE} whose ${group} group is complete`, ...methods)(store[group]);
    if (incomplete !== undefined) return incomplete;
  }
  return undefined;
};

const LIMIT_EXPECTED = "an integer >= 1 or { limit: integer >= 1, policy: 'evict-oldest' | 'refuse' }";
const isSessionLimit: Check = (value) => {
  if (is.positiveInteger(value) === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return LIMIT_EXPECTED;
  const { limit, policy, ...rest } = value as Record<string, unknown>;
  const ok =
    Object.keys(rest).length === 0 &&
    is.positiveInteger(limit) === undefined &&
    (policy === 'evict-oldest' || policy === 'refuse');
  return ok ? undefined : LIMIT_EXPECTED;
};

/** Every option `SessionOptions` has, with its check. Adapter-only options never reach it. */
const SESSION_OPTIONS: OptionSpec = {
  app: is.matching(APP_PATTERN, `an app code matching ${APP_PATTERN}`),
  group: isGroupName,
  store: isStore,
  maxInactive: is.nonNegative,
  absoluteTimeout: is.nonNegative,
  touchInterval: is.nonNegative,
  ignore: is.anyOf(is.instanceOf(RegExp, 'a RegExp'), is.function),
  preload: is.anyOf(is.oneOf('all'), is.arrayOf(isName)),
  shared: is.anyOf(is.arrayOf(isName), is.function),
  cookie: is.object({
    name: is.nonEmptyString,
    path: is.matching(/^\//, 'a path starting with "/"'),
    domain: is.nonEmptyString,
    httpOnly: is.boolean,
    sameSite: is.oneOf('lax', 'strict', 'none'),
    secure: is.anyOf(is.boolean, is.oneOf('auto')),
    hostPrefix: is.boolean,
    persistent: is.boolean,
  }),
  secret: is.anyOf(isSecret, is.arrayOf(isSecret, { nonEmpty: true })),
  trustProxy: is.anyOf(is.boolean, is.arrayOf(is.nonEmptyString), is.function),
  header: is.anyOf(is.oneOf(false), is.matching(HEADER_PATTERN, 'an HTTP header name')),
  codec: is.withMethods('a Codec', 'encode', 'decode'),
  saveUninitialized: is.boolean,
  maxValueBytes: is.positiveInteger,
  onStoreError: is.oneOf('fail', 'continue'),
  sweeper: is.object({ interval: is.positive, batchSize: is.positiveInteger }, is.oneOf(false)),
  cache: is.object({ maxBytes: is.nonNegativeInteger }),
  maxSessionsPerPrincipal: isSessionLimit,
  generateId: is.function,
};

/**
 * Checks every option, and that `cookie` makes a Set-Cookie the browser accepts, so that a bad
 * option fails when the manager is created rather than on every request.
 */
export function checkSessionOptions(where: string, options: unknown): void {
  checkOptions(where, options, SESSION_OPTIONS);
  const { app, cookie = {} } = options as SessionOptions;
  if (app === undefined) throw invalidOption(where, 'app', `an app code matching ${APP_PATTERN}`, app);
  if (cookie.hostPrefix && cookie.domain !== undefined) {
    throw new UnisessionError(
      'UNISESSION_INVALID_OPTION',
      `${where}: option "cookie.hostPrefix" cannot be combined with "cookie.domain" (a __Host- cookie has no Domain)`,
    );
  }
  checkCookieSerializes(where, resolveCookie(cookie));
}

/** Serializes a sample cookie once; whatever the `cookie` package refuses is named as an option. */
function checkCookieSerializes(where: string, cookie: ResolvedCookieOptions): void {
  try {
    serialize(cookie.name, 'sample', {
      path: cookie.path,
      domain: cookie.domain,
      httpOnly: cookie.httpOnly,
      sameSite: cookie.sameSite,
      secure: cookie.secure !== false,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    // The package says which argument it refused first ("argument name is invalid: …").
    const option = /^argument name\b/.test(message)
      ? ['name', cookie.name]
      : /^option domain\b/.test(message)
        ? ['domain', cookie.domain]
        : /^option path\b/.test(message)
          ? ['path', cookie.path]
          : ['', undefined];
    const [field, value] = option;
    throw new UnisessionError(
      'UNISESSION_INVALID_OPTION',
      `${where}: option "cookie${field ? `.${field}` : ''}" cannot be used in a Set-Cookie header, got ${JSON.stringify(value)}`,
      { cause: error },
    );
  }
}

function resolveCookie(cookie: CookieOptions): ResolvedCookieOptions {
  return {
    name: cookie.hostPrefix ? `__Host-${cookie.name ?? 'unisession'}` : (cookie.name ?? 'unisession'),
    path: cookie.hostPrefix ? '/' : (cookie.path ?? '/'),
    domain: cookie.domain,
    httpOnly: cookie.httpOnly ?? true,
    sameSite: cookie.sameSite ?? 'lax',
    secure: cookie.hostPrefix ? true : (cookie.secure ?? 'auto'),
    persistent: cookie.persistent ?? false,
  };
}

/**
 * Checks and fills in the options. `storeGroup` is the store's own group (when it says): the
 * manager's `group` defaults to it, and must not differ from it.
 */
export function resolveOptions(options: SessionOptions, storeGroup?: string): ResolvedOptions {
  checkSessionOptions('SessionManager', options);
  if (options.group !== undefined && storeGroup !== undefined && options.group !== storeGroup) {
    throw new UnisessionError(
      'UNISESSION_INVALID_OPTION',
      `SessionManager: option "group" is "${options.group}" but the store's group is "${storeGroup}"; ` +
        "give the store the same group (or leave the manager's group out)",
    );
  }
  const maxInactive = options.maxInactive ?? 30 * 60_000;
  const shared = options.shared ?? [];
  const sharedSet = typeof shared === 'function' ? undefined : new Set(shared);
  const { ignore } = options;
  const sweeper = options.sweeper ?? {};
  return {
    app: options.app,
    group: options.group ?? storeGroup ?? 'unisession',
    maxInactive,
    absoluteTimeout: options.absoluteTimeout ?? 0,
    touchInterval: options.touchInterval ?? (maxInactive === 0 ? 60_000 : Math.min(60_000, maxInactive / 10)),
    ignore: ignore instanceof RegExp ? (path) => ignore.test(path) : ignore,
    preload: options.preload ?? 'all',
    isShared: sharedSet ? (name) => sharedSet.has(name) : (shared as (name: string) => boolean),
    cookie: resolveCookie(options.cookie ?? {}),
    secret: options.secret,
    trustProxy: options.trustProxy ?? false,
    header: options.header ? options.header.toLowerCase() : false,
    saveUninitialized: options.saveUninitialized ?? false,
    maxValueBytes: options.maxValueBytes ?? 1_048_576,
    onStoreError: options.onStoreError ?? 'fail',
    sweeper:
      sweeper === false
        ? false
        : { interval: sweeper.interval ?? 60_000, batchSize: sweeper.batchSize ?? 500 },
    cache: { maxBytes: options.cache?.maxBytes ?? DEFAULT_CACHE_BYTES },
    maxSessionsPerPrincipal:
      typeof options.maxSessionsPerPrincipal === 'number'
        ? { limit: options.maxSessionsPerPrincipal, policy: 'evict-oldest' }
        : options.maxSessionsPerPrincipal,
    generateId: options.generateId,
  };
}
