/**
 * The value syntaxes of the `sessions` flags: durations (`30m`, `1h30m`, `1500` ms), points
 * in time (ISO 8601 or epoch ms) and client addresses (an IP or a CIDR block). Each parser
 * is pure and throws a UsageError naming the flag, so a typo never reaches a store.
 */
import { isIP } from 'node:net';
import { UsageError } from '../command.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** The longest duration a flag takes: 100 years, far past any session's life, well inside a safe integer. */
const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/**
 * A duration in ms: `1500` (ms), `90s`, `30m`, `2h`, `7d`, `1w`, or a sum such as `1h30m`.
 * Refuses negatives, fractions of a ms and anything above 100 years.
 */
export function parseDuration(flag: string, text: string): number {
  const value = text.trim();
  let ms: number;
  if (/^\d+$/.test(value)) ms = Number(value);
  else if (DURATION.test(value)) {
    ms = 0;
    for (const [, amount, unit] of value.matchAll(DURATION_PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  } else {
    throw new UsageError(
      `${flag} must be a duration such as 30m, 2h, 1h30m, 7d or a number of ms, got "${text}"`,
    );
  }
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) {
    throw new UsageError(`${flag} must be a whole number of ms up to 100 years, got "${text}"`);
  }
  return ms;
}

/** ISO 8601 as `Date.parse` reads it, from a date (`2026-01-31`) to a full timestamp with zone. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A point in time as epoch ms: an ISO 8601 date or timestamp (`2026-01-31`,
 * `2026-01-31T12:00:00Z`; without a zone it is local time, as in `Date.parse`) or epoch ms.
 */
export function parseTime(flag: string, text: string): number {
  const value = text.trim();
  if (/^\d{1,16}$/.test(value)) return Number(value);
  if (ISO.test(value)) {
    // `2026-01-31 12:00` reads as ISO with a T; Date.parse refuses the space in some engines.
    const ms = Date.parse(value.replace(' ', 'T'));
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  throw new UsageError(
    `${flag} must be an ISO 8601 date or time (2026-01-31, 2026-01-31T12:00:00Z) or epoch ms, got "${text}"`,
  );
}

/** An exact IPv4/IPv6 address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`), as the store filter takes it. */
export function parseAddress(flag: string, text: string): string {
  const value = text.trim();
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const kind = isIP(address);
  const bits = kind === 4 ? 32 : 128;
  const prefix = slash === -1 ? '' : value.slice(slash + 1);
  if (kind === 0 || (slash !== -1 && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits))) {
    throw new UsageError(
      `${flag} must be an IP address or a CIDR block (203.0.113.7, 10.0.0.0/8, 2001:db8::/32), got "${text}"`,
    );
  }
  return value;
}

/** A whole number from `min` to `max` (a page size). */
export function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = text.trim();
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return number;
}
