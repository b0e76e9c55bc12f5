import { UnisessionError } from './errors.js';

/**
 * Option and argument checking, shared by every factory (manager, stores, codecs, adapters).
 * A bad option is refused when the factory is called, not on the first request, with one
 * message that names the option, the value it got and what was expected; a misspelled name
 * is refused too, with the option that was probably meant.
 */

/** Returns undefined when `value` is acceptable, else a description of what was expected. */
export type Check = (value: unknown) => string | undefined;

/** The checks for each known option of one factory. `undefined` always passes (defaults apply). */
export type OptionSpec = Record<string, Check>;

/** A short, safe rendering of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    default:
      return value instanceof RegExp
        ? String(value)
        : `an object (${value?.constructor?.name ?? 'null prototype'})`;
  }
}

export function invalidOption(
  where: string,
  name: string,
  expected: string,
  value: unknown,
): UnisessionError {
  return new UnisessionError(
    'UNISESSION_INVALID_OPTION',
    `${where}: option "${name}" must be ${expected}, got ${describeValue(value)}`,
  );
}

/**
 * Checks `options` against `spec`: every known option present passes its check, and no
 * unknown option is present. Nested objects use `is.object(spec)`, whose errors name the
 * full path (`cookie.sameSite`).
 */
export function checkOptions(where: string, options: unknown, spec: OptionSpec): void {
  if (options === undefined) return;
  if (!isPlainRecord(options)) throw invalidOption(where, 'options', 'an object', options);
  checkRecord(where, '', options, spec, optionErrors);
}

/**
 * The same check for a method's argument object (a list filter, say): a bad or unknown key
 * is a caller's mistake at run time, so it raises UNISESSION_INVALID_ARGUMENT (400).
 */
export function checkArgument(where: string, name: string, value: unknown, spec: OptionSpec): void {
  if (value === undefined) return;
  if (!isPlainRecord(value)) throw invalidArgument(where, name, 'an object', value);
  checkRecord(where, '', value, spec, {
    unknown: (key, hint) =>
      new UnisessionError('UNISESSION_INVALID_ARGUMENT', `${where}: unknown ${name} key "${key}"${hint}`),
    invalid: (key, expected, bad) => invalidArgument(where, `${name}.${key}`, expected, bad),
  });
}

interface RecordErrors {
  unknown(path: string, hint: string): UnisessionError;
  invalid(path: string, expected: string, value: unknown): UnisessionError;
}

const optionErrors = (where: string): RecordErrors => ({
  unknown: (path, hint) =>
    new UnisessionError('UNISESSION_INVALID_OPTION', `${where}: unknown option "${path}"${hint}`),
  invalid: (path, expected, value) => invalidOption(where, path, expected, value),
});

function checkRecord(
  where: string,
  prefix: string,
  record: Record<string, unknown>,
  spec: OptionSpec,
  errors: RecordErrors | ((where: string) => RecordErrors),
): void {
  const fail = typeof errors === 'function' ? errors(where) : errors;
  for (const name of Object.keys(record)) {
    const check = spec[name];
    if (!Object.hasOwn(spec, name) || check === undefined) {
      throw fail.unknown(`${prefix}${name}`, suggestion(name, Object.keys(spec), prefix));
    }
    const value = record[name];
    if (value === undefined) continue;
    const nested = nestedSpecs.get(check);
    if (nested && isPlainRecord(value)) {
      checkRecord(where, `${prefix}${name}.`, value, nested, fail);
      continue;
    }
    const expected = check(value);
    if (expected !== undefined) throw fail.invalid(`${prefix}${name}`, expected, value);
  }
}

function suggestion(name: string, known: string[], prefix: string): string {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return `; did you mean "${prefix}${best}"?`;
  return `; known options: ${known.map((option) => `${prefix}${option}`).join(', ')}`;
}

/** Levenshtein distance, for "did you mean". Names are short, so the quadratic table is fine. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const nestedSpecs = new WeakMap<Check, OptionSpec>();

/** The usual checks; each returns undefined when the value is fine. */
export const is = {
  string: ((value) => (typeof value === 'string' ? undefined : 'a string')) as Check,
  nonEmptyString: ((value) =>
    typeof value === 'string' && value.length > 0 ? undefined : 'a non-empty string') as Check,
  boolean: ((value) => (typeof value === 'boolean' ? undefined : 'true or false')) as Check,
  function: ((value) => (typeof value === 'function' ? undefined : 'a function')) as Check,
  /** A finite number >= 0 (a duration in ms, a size in bytes). */
  nonNegative: ((value) =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0
      ? undefined
      : 'a finite number >= 0') as Check,
  /** A finite number > 0 (an interval that must not spin). */
  positive: ((value) =>
    typeof value === 'number' && Number.isFinite(value) && value > 0
      ? undefined
      : 'a finite number > 0') as Check,
  /** A Buffer with at least one byte (a binary secret). */
  nonEmptyBuffer: ((value) =>
    Buffer.isBuffer(value) && value.length > 0 ? undefined : 'a non-empty Buffer') as Check,
  nonNegativeInteger: ((value) =>
    Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'an integer >= 0') as Check,
  positiveInteger: ((value) =>
    Number.isSafeInteger(value) && (value as number) > 0 ? undefined : 'an integer > 0') as Check,
  /** Anything: for options whose shape the factory checks itself (a client object, say). */
  any: (() => undefined) as Check,
  oneOf(...values: readonly unknown[]): Check {
    const expected = values.map((value) => (typeof value === 'string' ? `'${value}'` : String(value)));
    const description = expected.length === 1 ? expected[0]! : `one of ${expected.join(', ')}`;
    return (value) => (values.includes(value) ? undefined : description);
  },
  /** Passes when any of the checks passes; the message lists what each expected. */
  anyOf(...checks: Check[]): Check {
    return (value) => {
      const failures: string[] = [];
      for (const check of checks) {
        const expected = check(value);
        if (expected === undefined) return undefined;
        failures.push(expected);
      }
      return failures.join(' or ');
    };
  },
  arrayOf(item: Check, options: { nonEmpty?: boolean } = {}): Check {
    return (value) => {
      if (!Array.isArray(value)) return `an array`;
      if (options.nonEmpty && value.length === 0) return 'a non-empty array';
      for (const element of value) {
        const expected = item(element);
        if (expected !== undefined) return `an array of ${expected}`;
      }
      return undefined;
    };
  },
  matching(pattern: RegExp, description = `a string matching ${pattern}`): Check {
    return (value) => (typeof value === 'string' && pattern.test(value) ? undefined : description);
  },
  instanceOf(type: abstract new (...args: never[]) => unknown, description: string): Check {
    return (value) => (value instanceof type ? undefined : description);
  },
  /**
   * A nested options object, itself checked against `spec` (unknown keys refused). With
   * `otherwise`, a value that is not an object may pass that check instead (`sweeper: false`).
   */
  object(spec: OptionSpec, otherwise?: Check): Check {
    const check: Check = (value) => {
      if (isPlainRecord(value)) return undefined;
      const alternative = otherwise?.(value);
      if (otherwise && alternative === undefined) return undefined;
      return alternative === undefined ? 'an object' : `${alternative} or an object`;
    };
    nestedSpecs.set(check, spec);
    return check;
  },
  /** An object with these methods (a Store, a Codec, a client): duck-typed, never `instanceof`. */
  withMethods(description: string, ...methods: string[]): Check {
    return (value) => {
      if (typeof value !== 'object' || value === null) return description;
      const target = value as Record<string, unknown>;
      const missing = methods.filter((method) => typeof target[method] !== 'function');
      return missing.length === 0 ? undefined : `${description} (missing ${missing.join(', ')})`;
    };
  },
};

/**
 * The one rule for group names on every store: they name tables, collections and key
 * prefixes. 40 characters keep PostgreSQL's derived index names (`<group>_sessions_principal`)
 * under its 63-byte identifier limit, so no two groups can collide by truncation.
 */
export const GROUP_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

export const isGroupName: Check = is.matching(GROUP_PATTERN, `a group name matching ${GROUP_PATTERN}`);

/** Validates a group name, for stores that check it outside `checkOptions`. */
export function checkGroup(where: string, group: unknown): string {
  const expected = isGroupName(group);
  if (expected !== undefined) throw invalidOption(where, 'group', expected, group);
  return group as string;
}

/** Thrown by manager and store methods for a bad argument (a limit, a cursor, an id of the wrong type). */
export function invalidArgument(
  where: string,
  name: string,
  expected: string,
  value: unknown,
): UnisessionError {
  return new UnisessionError(
    'UNISESSION_INVALID_ARGUMENT',
    `${where}: ${name} must be ${expected}, got ${describeValue(value)}`,
  );
}

/** The largest page `list()` returns: an admin screen's page, not a dump of the store. */
export const MAX_PAGE_SIZE = 1000;

/** A page size: an integer from 1 to MAX_PAGE_SIZE; `fallback` when undefined. */
export function checkLimit(where: string, limit: unknown, fallback = 100): number {
  if (limit === undefined) return fallback;
  if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_PAGE_SIZE) {
    throw invalidArgument(where, 'limit', `an integer from 1 to ${MAX_PAGE_SIZE}`, limit);
  }
  return limit as number;
}

/** A string argument (an id, a principal), refused otherwise before it can reach a query. */
export function checkString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidArgument(where, name, 'a string', value);
  return value;
}
