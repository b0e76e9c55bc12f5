import type { Codec } from '../codec/types.js';
import { UnisessionError } from './errors.js';
import type { TrustProxy } from './request.js';
import type { Store } from './store.js';

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
   * prefix in the store. Apps that share a session must use the same group and store.
   * @default 'unisession'
   */
  group?: string;
  /** Where sessions live. @default a SQLite file `./unisession.sqlite` (needs better-sqlite3) */
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
  /** Sign the id in the cookie with HMAC-SHA256. The first secret signs, all verify. @default undefined (unsigned) */
  secret?: string | readonly string[];
  /** Which peers may set X-Forwarded-Proto/-For (see `RequestInfo`). @default false */
  trustProxy?: TrustProxy;
  /**
   * Also accept the id from this request header, and echo it in the same response header,
   * for API clients without cookies (e.g. `'x-session-id'`). @default false
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
  /** The expired-session sweeper; `false` turns it off on this node. @default { interval: 60_000, batchSize: 500 } */
  sweeper?: false | { interval?: number; batchSize?: number };
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
  secret: string | readonly string[] | undefined;
  trustProxy: TrustProxy;
  header: string | false;
  saveUninitialized: boolean;
  maxValueBytes: number;
  onStoreError: 'fail' | 'continue';
  sweeper: false | { interval: number; batchSize: number };
}

const CODE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function resolveOptions(options: SessionOptions): ResolvedOptions {
  const invalid = (detail: string) => new UnisessionError('UNISESSION_INVALID_OPTION', detail);
  if (!CODE_PATTERN.test(options.app ?? ''))
    throw invalid(`app must match ${CODE_PATTERN}, got "${options.app}"`);
  const group = options.group ?? 'unisession';
  if (!CODE_PATTERN.test(group)) throw invalid(`group must match ${CODE_PATTERN}, got "${group}"`);
  const maxInactive = options.maxInactive ?? 30 * 60_000;
  if (!(maxInactive >= 0)) throw invalid('maxInactive must be >= 0');
  const cookie = options.cookie ?? {};
  if (cookie.hostPrefix && cookie.domain)
    throw invalid('cookie.hostPrefix cannot be combined with cookie.domain');
  const shared = options.shared ?? [];
  const sharedSet = typeof shared === 'function' ? undefined : new Set(shared);
  const ignore = options.ignore;
  const sweeper = options.sweeper ?? {};
  return {
    app: options.app,
    group,
    maxInactive,
    absoluteTimeout: options.absoluteTimeout ?? 0,
    touchInterval: options.touchInterval ?? (maxInactive === 0 ? 60_000 : Math.min(60_000, maxInactive / 10)),
    ignore: ignore instanceof RegExp ? (path) => ignore.test(path) : ignore,
    preload: options.preload ?? 'all',
    isShared: sharedSet ? (name) => sharedSet.has(name) : (shared as (name: string) => boolean),
    cookie: {
      name: cookie.hostPrefix ? `__Host-${cookie.name ?? 'unisession'}` : (cookie.name ?? 'unisession'),
      path: cookie.hostPrefix ? '/' : (cookie.path ?? '/'),
      domain: cookie.domain,
      httpOnly: cookie.httpOnly ?? true,
      sameSite: cookie.sameSite ?? 'lax',
      secure: cookie.hostPrefix ? true : (cookie.secure ?? 'auto'),
      persistent: cookie.persistent ?? false,
    },
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
  };
}
