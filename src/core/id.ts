import { randomFillSync } from 'node:crypto';

/** 24 random bytes: 192 bits, well over the 128 bits OWASP asks of a session id. */
const ID_BYTES = 24;
const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/**
 * Random bytes for the next 256 ids, filled in one call: a request without a session gets a
 * new id, and one `randomBytes` per id (a buffer and a system call each) was 4% of such a
 * request's CPU. Every byte is used for one id only; the pool is refilled when spent.
 */
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

export function generateSessionId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

/**
 * Whether a client-sent id could be one of ours. Anything else is treated as "no id"
 * before the store is asked, so garbage never costs a round trip.
 */
export function isWellFormedSessionId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Ids from an app's own generator (`generateId`, Express's `genid`): a UUID fits, a counter does not. */
const CUSTOM_ID_PATTERN = /^[A-Za-z0-9_-]{22,128}$/;
/** Fewer distinct characters than this over 22 or more is a pattern, not randomness. */
const MIN_DISTINCT_CHARACTERS = 8;

/**
 * Why an id from an app's generator is unsafe, or undefined when it looks random enough. A
 * heuristic, not a proof: it refuses what is short, outside the cookie-safe alphabet, made of
 * few distinct characters, a repeated short pattern, or the same as the previous one.
 */
export function customIdProblem(id: unknown, previous: string | undefined): string | undefined {
  if (typeof id !== 'string') return 'a string';
  if (!CUSTOM_ID_PATTERN.test(id)) return `22 to 128 characters of [A-Za-z0-9_-]`;
  if (new Set(id).size < MIN_DISTINCT_CHARACTERS)
    return `a random id (this one has fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters)`;
  if (/^(.{1,8})\1+.{0,7}$/.test(id)) return 'a random id (this one repeats a short pattern)';
  if (id === previous) return 'a new id on each call (this one repeats the previous id)';
  return undefined;
}

/** `isWellFormedSessionId`, widened to what `customIdProblem` lets through when the app generates ids. */
export function isWellFormedId(id: string, custom: boolean): boolean {
  return custom ? CUSTOM_ID_PATTERN.test(id) : ID_PATTERN.test(id);
}
