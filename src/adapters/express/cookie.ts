import { serialize } from 'cookie';

/** `cookie.sameSite` as express-session takes it: `true` is `'strict'`, `false` sets none. */
export type SameSite = boolean | 'lax' | 'strict' | 'none';

/** The attributes of the session cookie, as express-session's `cookie` option and `req.session.cookie` have them. */
export interface CookieData {
  path: string;
  httpOnly: boolean;
  secure: boolean;
  domain: string | undefined;
  sameSite: SameSite | undefined;
  partitioned: boolean | undefined;
  priority: 'low' | 'medium' | 'high' | undefined;
  /** The lifetime in ms the cookie was given; null for a browser-session cookie. */
  originalMaxAge: number | null;
}

/** What is stored with a session when its cookie differs from the configured one (see `cookieOverrides`). */
export type CookieOverrides = Partial<CookieData>;

/** The longest lifetime a cookie may be given: any longer and its Expires date stops being a date. */
export const MAX_LIFETIME_MS = 100 * 365 * 86_400_000;

/** Lifetimes closer than this are one lifetime (a cookie's originalMaxAge drifts by the ms it took to compute). */
const SAME_LIFETIME_MS = 1_000;

const FIELDS = [
  'path',
  'httpOnly',
  'secure',
  'domain',
  'sameSite',
  'partitioned',
  'priority',
  'originalMaxAge',
] as const satisfies ReadonlyArray<keyof CookieData>;

/**
 * `req.session.cookie`: express-session's Cookie. Every member is writable per request and
 * decides the Set-Cookie this response sends: `maxAge = null` or `expires = false` makes a
 * browser-session cookie ("forget me"), `maxAge = 30 * 86_400_000` a persistent one
 * ("remember me"), which is then also the session's lifetime in the store.
 */
export class SessionCookie implements CookieData {
  path: string;
  httpOnly: boolean;
  secure: boolean;
  domain: string | undefined;
  sameSite: SameSite | undefined;
  partitioned: boolean | undefined;
  priority: 'low' | 'medium' | 'high' | undefined;
  originalMaxAge: number | null;
  /** The Expires date; not an own enumerable field, so `toJSON` and `data` decide what is shown. */
  declare private _expires: Date | null;

  constructor(data: CookieData, expires?: Date | null) {
    Object.defineProperty(this, '_expires', { value: null, writable: true, enumerable: false });
    this.path = data.path;
    this.httpOnly = data.httpOnly;
    this.secure = data.secure;
    this.domain = data.domain;
    this.sameSite = data.sameSite;
    this.partitioned = data.partitioned;
    this.priority = data.priority;
    this.originalMaxAge = data.originalMaxAge;
    if (expires !== undefined) this.expires = expires;
    else this.resetMaxAge();
  }

  /** The Expires date, or null (a browser-session cookie). Setting it sets `originalMaxAge` too. */
  get expires(): Date | null {
    return this._expires;
  }
  set expires(date: Date | null | false) {
    if (date instanceof Date && !Number.isFinite(date.getTime())) {
      throw new TypeError('req.session.cookie.expires must be a valid Date, null or false');
    }
    this._expires = date instanceof Date ? date : null;
    this.originalMaxAge = this._expires === null ? null : this._expires.getTime() - Date.now();
  }

  /** The ms left until Expires; null for a browser-session cookie. Setting it is "remember me". */
  get maxAge(): number | null {
    return this._expires === null ? null : this._expires.getTime() - Date.now();
  }
  set maxAge(ms: number | null) {
    if (ms !== null && (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > MAX_LIFETIME_MS)) {
      throw new TypeError(
        'req.session.cookie.maxAge must be a number of milliseconds (up to 100 years) or null',
      );
    }
    this.expires = ms === null ? null : new Date(Date.now() + ms);
  }

  /** Expires again `originalMaxAge` from now, as express-session's `touch()` does at each response. */
  resetMaxAge(): void {
    const ms = this.originalMaxAge;
    this._expires = ms === null ? null : new Date(Date.now() + ms);
  }

  /** The attributes, as express-session's `cookie.data`. */
  get data(): CookieData & { expires: Date | null } {
    return { ...pickData(this), expires: this._expires };
  }

  toJSON(): CookieData & { expires: Date | null } {
    return this.data;
  }

  /** The Set-Cookie value for `value` with these attributes; Max-Age beside Expires, so clock skew does not matter. */
  serialize(name: string, value: string): string {
    const expires = this._expires;
    return serialize(name, value, {
      path: this.path,
      domain: this.domain,
      httpOnly: this.httpOnly,
      secure: this.secure,
      sameSite: this.sameSite,
      partitioned: this.partitioned,
      priority: this.priority,
      expires: expires ?? undefined,
      maxAge: expires === null ? undefined : Math.max(0, Math.round((expires.getTime() - Date.now()) / 1000)),
      // Ids and signatures are cookie-safe already (base64url, or the `s:` legacy form never re-sent).
      encode: (text) => text,
    });
  }

  /** The Set-Cookie value that makes the browser drop the cookie (same path and domain, or it would not match). */
  cleared(name: string): string {
    return serialize(name, '', {
      path: this.path,
      domain: this.domain,
      httpOnly: this.httpOnly,
      secure: this.secure,
      sameSite: this.sameSite,
      partitioned: this.partitioned,
      expires: new Date(0),
    });
  }
}

function pickData(source: CookieData): CookieData {
  const data = {} as Record<string, unknown>;
  for (const field of FIELDS) data[field] = source[field];
  return data as unknown as CookieData;
}

/**
 * What `cookie` has that `configured` has not: stored with the session (as its `cookie`
 * attribute, as express-session stores `req.session.cookie`), so that "remember me" or a
 * per-session domain lasts beyond the request that set it. Empty when nothing differs, which
 * is the usual case, so most sessions store nothing for their cookie.
 */
export function cookieOverrides(cookie: CookieData, configured: CookieData): CookieOverrides {
  const overrides: Record<string, unknown> = {};
  for (const field of FIELDS) {
    if (field === 'originalMaxAge') {
      // A lifetime is compared to the configured one; whether the cookie is persistent is what matters.
      const mine = cookie.originalMaxAge === null ? null : Math.round(cookie.originalMaxAge);
      const theirs = configured.originalMaxAge;
      // express-session computes originalMaxAge from a Date, so "the same lifetime" can be a few ms off.
      const same =
        mine === null || theirs === null ? mine === theirs : Math.abs(mine - theirs) < SAME_LIFETIME_MS;
      if (!same) overrides[field] = mine;
    } else if (cookie[field] !== configured[field]) overrides[field] = cookie[field];
  }
  return overrides as CookieOverrides;
}

/** Checks a stored `cookie` attribute field by field; whatever does not fit is left out (a stored value never crashes a request). */
export function readOverrides(stored: unknown): CookieOverrides {
  if (typeof stored !== 'object' || stored === null) return {};
  const record = stored as Record<string, unknown>;
  const overrides: Record<string, unknown> = {};
  const fits: Record<(typeof FIELDS)[number], (value: unknown) => boolean> = {
    path: (value) => typeof value === 'string' && value.startsWith('/'),
    httpOnly: (value) => typeof value === 'boolean',
    secure: (value) => typeof value === 'boolean',
    domain: (value) => value === undefined || (typeof value === 'string' && value.length > 0),
    sameSite: (value) =>
      typeof value === 'boolean' || value === 'lax' || value === 'strict' || value === 'none',
    partitioned: (value) => typeof value === 'boolean',
    priority: (value) => value === 'low' || value === 'medium' || value === 'high',
    originalMaxAge: (value) =>
      value === null ||
      (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_LIFETIME_MS),
  };
  for (const field of FIELDS)
    if (field in record && fits[field](record[field])) overrides[field] = record[field];
  return overrides as CookieOverrides;
}

/** A snapshot that changes when a handler changes any attribute or the lifetime (not when time passes). */
export function cookieFingerprint(cookie: CookieData): string {
  return JSON.stringify(pickData(cookie));
}
