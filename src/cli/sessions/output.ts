/**
 * How `unisession sessions` prints: aligned plain-text tables for people, JSON for scripts.
 * Nothing here colours or truncates ids, so a table's id can be pasted into `show` or `rm`.
 */
import { inspect } from 'node:util';

/** Where the command writes; the process's stdout and stderr, or a buffer in tests. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/**
 * An aligned table with a header row. Cells are made printable (control characters, which
 * a stored user agent or URL could carry, would otherwise move the terminal's cursor).
 */
export function table(headers: string[], rows: string[][]): string {
  const cells = [headers, ...rows].map((row) => row.map((cell) => printable(cell)));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Two columns, label and value: for one session's metadata, or the statistics. */
export function pairs(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${printable(value)}`).join('\n');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Replaces control characters (ESC, CR, …) with their escape, and caps very long cells. */
export function printable(text: string, max = 200): string {
  const safe = text.replace(CONTROL_CHARS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return safe.length > max ? `${safe.slice(0, max - 1)}…` : safe;
}

/** An epoch-ms time as `2026-01-31 12:00:05Z` (UTC, to the second); `-` for none. */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** A duration in ms for people, to its two largest units: `45s`, `12m`, `3h20m`, `2d4h`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const sign = ms < 0 ? '-' : '';
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 60) return `${sign}${seconds}s`;
  const parts: Array<[number, string]> = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor((seconds % 86_400) / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  const first = Math.max(
    0,
    parts.findIndex(([amount]) => amount > 0),
  );
  const shown = parts.slice(first, first + 2).filter(([amount], index) => index === 0 || amount > 0);
  return sign + shown.map(([amount, unit]) => `${amount}${unit}`).join('');
}

/** Pretty JSON for `--json`, one document per command run. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/**
 * A decoded attribute value as readable text: a Date as a date, a Map as a map, a class
 * instance by its name (util.inspect's rendering), bounded in depth and length.
 */
export function readable(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return inspect(value, {
    depth: 4,
    breakLength: Number.POSITIVE_INFINITY,
    maxArrayLength: 20,
    maxStringLength: 200,
    colors: false,
  });
}

/**
 * A decoded value as plain JSON for `--json`: Dates become ISO strings, Maps objects (or
 * entry arrays when a key is not a string), Sets arrays, BigInts strings, binary data
 * base64; a cycle or depth past 20 becomes a marker string instead of failing.
 */
export function jsonSafe(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'undefined') return null;
  if (typeof value !== 'object') return String(value);
  if (depth > 20) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
    if (value instanceof RegExp) return String(value);
    if (value instanceof Map) {
      const entries = [...value.entries()];
      return entries.every(([key]) => typeof key === 'string')
        ? Object.fromEntries(entries.map(([key, item]) => [key, jsonSafe(item, depth + 1, seen)]))
        : entries.map(([key, item]) => [jsonSafe(key, depth + 1, seen), jsonSafe(item, depth + 1, seen)]);
    }
    if (value instanceof Set) return [...value].map((item) => jsonSafe(item, depth + 1, seen));
    if (Array.isArray(value)) return value.map((item) => jsonSafe(item, depth + 1, seen));
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = jsonSafe(item, depth + 1, seen);
    return result;
  } finally {
    seen.delete(value);
  }
}
