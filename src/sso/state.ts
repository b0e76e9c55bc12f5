import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { cookieValues } from '../core/cookie.js';
import type { Secret } from '../core/signing.js';
import type { SsoRequest } from './http.js';

/**
 * The client's `state`, kept in a short-lived signed cookie scoped to its callback path: the
 * callback accepts a ticket only with the state this browser was sent away with, so a ticket
 * made for someone else's browser (login CSRF) or replayed from a log cannot log this one in.
 * The cookie also carries where to return to after the hand-off.
 */

export interface PendingLogin {
  state: string;
  /** A local path of the client app. */
  returnTo: string;
  /** Epoch ms after which the cookie is refused even if the browser still sends it. */
  expiresAt: number;
}

export function newState(): string {
  return randomBytes(16).toString('base64url');
}

function mac(secret: Secret, payload: string): string {
  return createHmac('sha256', secret).update(`unisession-sso-state\n${payload}`).digest('base64url');
}

export function encodePending(pending: PendingLogin, secret: Secret): string {
  const payload = Buffer.from(JSON.stringify(pending)).toString('base64url');
  return `${payload}.${mac(secret, payload)}`;
}

/** The pending login in the request's state cookie, if one verifies under any secret and is still valid. */
export function readPending(
  request: SsoRequest,
  name: string,
  secrets: readonly Secret[],
  now: number,
): PendingLogin | undefined {
  for (const value of cookieValues(request.info.header('cookie'), name).slice(0, 4)) {
    const dot = value.lastIndexOf('.');
    if (dot <= 0 || value.length > 2048) continue;
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const verified = secrets.some((secret) => {
      const expected = Buffer.from(mac(secret, payload));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!verified) continue;
    try {
      const pending = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PendingLogin;
      if (
        typeof pending.state === 'string' &&
        typeof pending.returnTo === 'string' &&
        pending.expiresAt > now
      ) {
        return pending;
      }
    } catch {
      // A verified payload we cannot read was written by another version: no pending login.
    }
  }
  return undefined;
}

/** Constant-time comparison of the state sent back with the one in the cookie. */
export function sameState(a: string, b: string | undefined): boolean {
  if (b === undefined) return false;
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A path of this app to go back to: `/...` but not `//host` or `/\host` (which browsers read as
 * another host), no control characters, at most 2000 characters. Anything else is `fallback`.
 */
export function localPath(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length > 2000) return fallback;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (!/^\/(?![/\\])/.test(value) || /[\u0000-\u001f\u007f\\]/.test(value)) return fallback;
  return value;
}
