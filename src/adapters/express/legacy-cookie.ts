import { createHmac, timingSafeEqual } from 'node:crypto';
import { cookieValues } from '../../core/cookie.js';
import { isWellFormedId } from '../../core/id.js';
import type { Secret } from '../../core/signing.js';

/**
 * express-session's cookie format, `s:<id>.<signature>`: the signature is cookie-signature's,
 * HMAC-SHA256 of the id in standard base64 without its `=` padding. Read so that users keep
 * their sessions when an app switches over; never written (the cookie is re-issued in
 * unisession's own format).
 */
const PREFIX = 's:';
/** Longer than any id express-session's stores hold (uid-safe's 32 characters, or a UUID), with its signature. */
const MAX_LENGTH = 256;

/** The id an express-session cookie value carries, if one of the secrets signed it; else undefined. */
export function unsignLegacy(value: string, secrets: readonly Secret[]): string | undefined {
  if (!value.startsWith(PREFIX) || value.length > MAX_LENGTH) return undefined;
  const signed = value.slice(PREFIX.length);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(legacySignature(id, secret));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return id;
  }
  return undefined;
}

/** cookie-signature's signature of `id` (exported for tests that play an express-session app). */
export function legacySignature(id: string, secret: Secret): string {
  return createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
}

/** The first id in the request's `name` cookies that is in express-session's format and verifies. */
export function legacyIdFrom(
  cookieHeader: string | undefined,
  name: string,
  secrets: readonly Secret[],
): string | undefined {
  if (secrets.length === 0) return undefined;
  for (const value of cookieValues(cookieHeader, name).slice(0, 4)) {
    const id = unsignLegacy(value, secrets);
    // An id unisession could not carry in its own cookie is left alone (its user gets a new session).
    if (id !== undefined && isWellFormedId(id, true)) return id;
  }
  return undefined;
}
