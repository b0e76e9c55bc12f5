/*
 * Attribute values as a person reads them in the monitor: a JSON-able tree in which
 * everything plain JSON cannot show (a Date, a Map, a BigInt, a class instance) is an object
 * with a `$type` (`Date`, `Map`, `@user` for a codec plugin's alias...). The JSON API returns
 * this tree; the UI renders it. Redaction applies on the way: any object key that matches a
 * redaction pattern shows as MASKED, at any depth.
 */

export type Readable = null | string | number | boolean | Readable[] | { [key: string]: Readable };

export const MASKED = '••••••';
/** Beyond these a value is cut (with a note), so one huge attribute cannot stall a page. */
const MAX_ITEMS = 200;
const MAX_STRING = 4000;
const MAX_DEPTH = 20;

export interface ReadableOptions {
  redact: readonly RegExp[];
}

export function isRedacted(name: string, redact: readonly RegExp[]): boolean {
  return redact.some((pattern) => {
    pattern.lastIndex = 0;
    return pattern.test(name);
  });
}

/**
 * `encoded` (the stored text) is walked beside the value when it is the JSON codec's format,
 * to name a plugin class by its alias (`@user`) rather than by its JavaScript class name.
 */
export function toReadable(value: unknown, encoded: string, options: ReadableOptions): Readable {
  let wire: unknown;
  try {
    wire = JSON.parse(encoded);
  } catch {
    wire = undefined;
  }
  return walk(value, wire, options, 0);
}

function tagOf(wire: unknown): { tag: string; v: unknown } | undefined {
  if (wire === null || typeof wire !== 'object' || Array.isArray(wire)) return undefined;
  const record = wire as Record<string, unknown>;
  return typeof record.$t === 'string' ? { tag: record.$t, v: record.v } : undefined;
}

function cutString(text: string): string {
  return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}… (${text.length} characters)` : text;
}

function walk(value: unknown, wire: unknown, options: ReadableOptions, depth: number): Readable {
  switch (typeof value) {
    case 'string':
      return cutString(value);
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : { $type: 'Number', value: String(value) };
    case 'bigint':
      return { $type: 'BigInt', value: value.toString() };
    case 'undefined':
      return { $type: 'undefined' };
    case 'object':
      if (value === null) return null;
      if (depth >= MAX_DEPTH) return { $type: 'cut', value: '… (nested too deeply to show)' };
      return walkObject(value, wire, options, depth + 1);
    default:
      return { $type: typeof value };
  }
}

function walkObject(value: object, wire: unknown, options: ReadableOptions, depth: number): Readable {
  const tagged = tagOf(wire);
  if (value instanceof Date) {
    return { $type: 'Date', value: Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString() };
  }
  if (Array.isArray(value)) {
    const wireItems = Array.isArray(wire) ? wire : [];
    const items = value.slice(0, MAX_ITEMS).map((item, i) => walk(item, wireItems[i], options, depth));
    if (value.length > MAX_ITEMS) items.push(`… ${value.length - MAX_ITEMS} more`);
    return items;
  }
  if (value instanceof Map) {
    const wirePairs = Array.isArray(tagged?.v) ? (tagged.v as unknown[]) : [];
    const entries: Readable[] = [];
    let i = 0;
    for (const [key, item] of value) {
      if (i >= MAX_ITEMS) break;
      const pair = Array.isArray(wirePairs[i]) ? (wirePairs[i] as unknown[]) : [];
      const hidden = typeof key === 'string' && isRedacted(key, options.redact);
      entries.push([
        walk(key, pair[0], options, depth),
        hidden ? MASKED : walk(item, pair[1], options, depth),
      ]);
      i++;
    }
    return { $type: 'Map', size: value.size, entries };
  }
  if (value instanceof Set) {
    const wireItems = Array.isArray(tagged?.v) ? (tagged.v as unknown[]) : [];
    const values = [...value].slice(0, MAX_ITEMS).map((item, i) => walk(item, wireItems[i], options, depth));
    return { $type: 'Set', size: value.size, values };
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const hex = Buffer.from(bytes.subarray(0, 64)).toString('hex');
    return {
      $type: value.constructor?.name ?? 'bytes',
      bytes: bytes.byteLength,
      hex: bytes.byteLength > 64 ? `${hex}…` : hex,
    };
  }
  const proto: unknown = Object.getPrototypeOf(value);
  const plain = proto === Object.prototype || proto === null;
  // A plain object wrapped by the codec because it owns a "$t" key; its fields sit under v.
  const wireFields =
    tagged && (tagged.tag === 'Object' || tagged.tag.startsWith('@')) ? tagged.v : tagged ? undefined : wire;
  const fields = walkRecord(value as Record<string, unknown>, wireFields, options, depth);
  if (plain && !('$type' in fields)) return fields;
  const type = tagged?.tag.startsWith('@')
    ? tagged.tag
    : plain
      ? 'Object'
      : (((proto as { constructor?: { name?: string } }).constructor?.name as string | undefined) ??
        'Object');
  return { $type: type, fields };
}

function walkRecord(
  record: Record<string, unknown>,
  wire: unknown,
  options: ReadableOptions,
  depth: number,
): { [key: string]: Readable } {
  const wireRecord =
    wire !== null && typeof wire === 'object' && !Array.isArray(wire)
      ? (wire as Record<string, unknown>)
      : {};
  const out: { [key: string]: Readable } = Object.create(null);
  const keys = Object.keys(record);
  for (const key of keys.slice(0, MAX_ITEMS)) {
    out[key] = isRedacted(key, options.redact)
      ? MASKED
      : walk(record[key], Object.hasOwn(wireRecord, key) ? wireRecord[key] : undefined, options, depth);
  }
  if (keys.length > MAX_ITEMS) out['…'] = `${keys.length - MAX_ITEMS} more fields`;
  return out;
}
