import { serialize } from 'cookie';
import { isWellFormedId } from './id.js';
import type { ResolvedCookieOptions } from './options.js';
import type { RequestInfo } from './request.js';
import type { IdSigner, VerifiedId } from './signing.js';

/**
 * At most this many ids are tried per request, in the order the client sent them. Several
 * same-name cookies are normal (a sibling subdomain's, a stale one from another path), and a
 * hostile one first must not hide the genuine one behind it ("cookie tossing"); the cap bounds
 * the store round trips a request can cost.
 */
export const MAX_ID_CANDIDATES = 4;
/** Same-name values looked at before giving up: bounds the signature checks of a stuffed header. */
const MAX_VALUES_SCANNED = 32;
/** Longer than any id we accept (128 characters, plus a 43-character signature). */
const MAX_VALUE_LENGTH = 256;

/** The ids a request presents, best first, and how it presented them. */
export interface PresentedIds {
  candidates: VerifiedId[];
  /** 'header' when the request carried the id header (even empty): only then is it echoed. */
  transport: 'header' | 'cookie';
}

/**
 * The session ids the client presents: from the id header when enabled and present, else every
 * same-name cookie value. Malformed, oversized and badly signed values are skipped; they never
 * raise. The Cookie header has no length limit of its own: Node's header limit already applies.
 */
export function readSessionIds(
  request: RequestInfo,
  cookie: ResolvedCookieOptions,
  header: string | false,
  signer: IdSigner,
  customIds = false,
): PresentedIds {
  const fromHeader = header ? request.header(header) : undefined;
  const values =
    fromHeader === undefined ? cookieValues(request.header('cookie'), cookie.name) : fromHeader.split(',');
  const candidates: VerifiedId[] = [];
  for (const raw of values.slice(0, MAX_VALUES_SCANNED)) {
    const value = raw.trim();
    if (value.length === 0 || value.length > MAX_VALUE_LENGTH) continue;
    const verified = signer.check(value);
    if (verified === null || !isWellFormedId(verified.id, customIds)) continue;
    if (candidates.some((candidate) => candidate.id === verified.id)) continue;
    candidates.push(verified);
    if (candidates.length === MAX_ID_CANDIDATES) break;
  }
  return { candidates, transport: fromHeader === undefined ? 'cookie' : 'header' };
}

/**
 * Whether the request could present a session id at all, by a look at two headers that parses
 * nothing: false means `readSessionIds` would find none, so an adapter may skip opening the
 * session until the handler touches it. True does not mean the id is valid.
 */
export function mayPresentId(
  header: (name: string) => string | undefined,
  cookieName: string,
  idHeader: string | false,
): boolean {
  if (idHeader && header(idHeader) !== undefined) return true;
  return header('cookie')?.includes(cookieName) ?? false;
}

/** Every value of the cookie `name`, in header order (the `cookie` package keeps only the first). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    values.push(decode(pair.slice(eq + 1).trim()));
    if (values.length === MAX_VALUES_SCANNED) break;
  }
  return values;
}

/** As the `cookie` package decodes: percent-decoding when there is a `%`, the raw text when that fails. */
function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
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
