import { randomBytes } from 'node:crypto';

/** 24 random bytes: 192 bits, well over the 128 bits OWASP asks of a session id. */
const ID_BYTES = 24;
const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export function generateSessionId(): string {
  return randomBytes(ID_BYTES).toString('base64url');
}

/**
 * Whether a client-sent id could be one of ours. Anything else is treated as "no id"
 * before the store is asked, so garbage never costs a round trip.
 */
export function isWellFormedSessionId(id: string): boolean {
  return ID_PATTERN.test(id);
}
