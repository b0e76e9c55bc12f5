import { UnisessionError } from './errors.js';

/**
 * The one rule for attribute names, applied by every method that takes one (get, has, set,
 * remove, the preload and shared lists) and to every name read back from a store.
 */

export const MAX_NAME_LENGTH = 200;

/**
 * Names that would reach an object's prototype machinery when a session is turned into an
 * object (`req.session`, `all()`): `session.__proto__ = x` swaps the prototype instead of
 * storing an attribute.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/**
 * A lone surrogate: SQLite and PostgreSQL store it as U+FFFD, so `x\ud800` and `x\udbff`
 * would be one row. (String.prototype.isWellFormed says the same, but is not in ES2022's lib.)
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with `name` as an attribute name, or undefined when it is fine. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'is not a string';
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (CONTROL_CHARS.test(name)) return 'has a control character';
  if (LONE_SURROGATE.test(name)) return 'is not well-formed UTF-16 (a lone surrogate)';
  if (RESERVED_NAMES.has(name)) return `is the reserved word "${name}"`;
  return undefined;
}

export function isValidName(name: unknown): name is string {
  return nameProblem(name) === undefined;
}

/** Throws UNISESSION_INVALID_NAME, saying what is wrong, unless `name` is a valid attribute name. */
export function checkName(name: unknown): string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 50)) : typeof name;
    throw new UnisessionError('UNISESSION_INVALID_NAME', `${shown} ${problem}`);
  }
  return name as string;
}
