import { parse, serialize } from 'cookie';
import { isWellFormedSessionId } from './id.js';
import type { ResolvedCookieOptions } from './options.js';
import type { RequestInfo } from './request.js';
import type { IdSigner } from './signing.js';

/** Browsers cap a cookie header near 8 KB; anything longer is hostile and is not parsed. */
const MAX_COOKIE_HEADER = 8192;

/**
 * The session id the client presents: from the id header when enabled, else the cookie.
 * Malformed, oversized and badly signed values all count as "no id"; they never raise.
 */
export function readSessionId(
  request: RequestInfo,
  cookie: ResolvedCookieOptions,
  header: string | false,
  signer: IdSigner,
): string | undefined {
  const fromHeader = header ? request.header(header) : undefined;
  const raw = fromHeader ?? cookieValue(request.header('cookie'), cookie.name);
  if (raw === undefined || raw.length > 256) return undefined;
  const id = signer.verify(raw);
  return id !== null && isWellFormedSessionId(id) ? id : undefined;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > MAX_COOKIE_HEADER) return undefined;
  try {
    return parse(header)[name];
  } catch {
    return undefined;
  }
}

/** A Set-Cookie value carrying the id; `maxAgeMs` undefined makes a browser-session cookie. */
export function sessionCookie(
  value: string,
  cookie: ResolvedCookieOptions,
  secure: boolean,
  maxAgeMs: number | undefined,
): string {
  return serialize(cookie.name, value, {
    path: cookie.path,
    domain: cookie.domain,
    httpOnly: cookie.httpOnly,
    sameSite: cookie.sameSite,
    secure,
    maxAge: maxAgeMs === undefined ? undefined : Math.floor(maxAgeMs / 1000),
    // `encode` defaults to encodeURIComponent; ids and signatures are base64url already.
    encode: (text) => text,
  });
}

/** A Set-Cookie value that makes the browser forget the session cookie. */
export function clearedCookie(cookie: ResolvedCookieOptions, secure: boolean): string {
  return serialize(cookie.name, '', {
    path: cookie.path,
    domain: cookie.domain,
    httpOnly: cookie.httpOnly,
    sameSite: cookie.sameSite,
    secure,
    expires: new Date(0),
  });
}
