import { invalidOption } from '../core/validate.js';

export const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_URI = 2000;

/**
 * A registered redirect URI: an absolute http(s) URL without fragment or credentials, written
 * exactly as `new URL(uri).href` writes it. Requiring the canonical form at registration is what
 * makes the per-request check a plain string comparison that look-alikes cannot pass.
 */
export function checkRedirectUri(where: string, option: string, uri: unknown): string {
  const expected =
    'an absolute http(s) URL in canonical form (as new URL(uri).href writes it), without "#" or user:password@';
  if (typeof uri !== 'string' || uri.length > MAX_URI) throw invalidOption(where, option, expected, uri);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalidOption(where, option, expected, uri);
  }
  const canonical = url.href === uri;
  const plain = !url.hash && !uri.includes('#') && url.username === '' && url.password === '';
  if (!canonical || !plain || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw invalidOption(where, option, expected, uri);
  }
  return uri;
}

/**
 * Exact match only (RFC 9700 §4.1.3, CAS 3.0 §2.5.4's "service" rules tightened): a prefix,
 * another case, a trailing slash, a percent-encoded variant or a `user@host` trick is another
 * string, hence refused.
 */
export function isRegisteredUri(registered: readonly string[], uri: string): boolean {
  return uri.length <= MAX_URI && registered.includes(uri);
}
