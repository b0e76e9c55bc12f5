// The JSON codec's decoder: the tree JSON.parse made, back into values (the format is in json.ts).
import { Buffer } from 'node:buffer';
import { MAX_VALUE_DEPTH } from '../core/codec.js';
import { type Ctx, errorMessage, Failure, setOwn, TAG, TYPED_ARRAYS } from './json-common.js';

/**
 * Decodes in place: the tree comes fresh from JSON.parse, so nobody else holds it. A tree
 * nested past MAX_VALUE_DEPTH (the encoder never writes one) fails, so it reads as absent.
 */
export function decodeValue(value: unknown, ctx: Ctx): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (++ctx.depth > MAX_VALUE_DEPTH)
    throw new Failure(`the value is nested deeper than ${MAX_VALUE_DEPTH} levels`);
  let result: unknown = value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) value[i] = decodeValue(item, ctx);
    }
  } else {
    const rec = value as Record<string, unknown>;
    result = Object.hasOwn(rec, TAG) ? decodeTag(rec, ctx) : decodeProps(rec, ctx);
  }
  ctx.depth--;
  return result;
}

function decodeProps(rec: Record<string, unknown>, ctx: Ctx): Record<string, unknown> {
  for (const key of Object.keys(rec)) {
    const item = rec[key];
    if (typeof item === 'object' && item !== null) {
      const decoded = decodeValue(item, ctx);
      if (decoded !== item) setOwn(rec, key, decoded);
    }
  }
  return rec;
}

function decodeTag(rec: Record<string, unknown>, ctx: Ctx): unknown {
  const name = rec[TAG];
  if (typeof name !== 'string') throw new Failure('a "$t" key whose value is not a string');
  for (const key in rec) {
    if (key !== TAG && key !== 'v') throw new Failure(`the tag "${name}" has an unexpected key "${key}"`);
  }
  const v = rec.v;
  switch (name) {
    case 'undefined':
      return undefined;
    case 'Number':
      if (v === 'NaN' || v === 'Infinity' || v === '-Infinity' || v === '-0') return Number(v);
      throw malformed(name);
    case 'BigInt':
      return BigInt(str(v, name));
    case 'Date':
      return new Date(v === null ? Number.NaN : str(v, name));
    case 'RegExp': {
      const text = str(v, name);
      const end = text.lastIndexOf('/');
      if (text[0] !== '/' || end < 1) throw malformed(name);
      return new RegExp(text.slice(1, end), text.slice(end + 1));
    }
    case 'Map':
      return new Map(
        arr(v, name).map((entry) => {
          if (!Array.isArray(entry) || entry.length !== 2) throw malformed(name);
          return [decodeValue(entry[0], ctx), decodeValue(entry[1], ctx)] as const;
        }),
      );
    case 'Set':
      return new Set(arr(v, name).map((item) => decodeValue(item, ctx)));
    case 'Buffer':
      return Buffer.from(str(v, name), 'base64');
    case 'ArrayBuffer':
      return new Uint8Array(Buffer.from(str(v, name), 'base64')).buffer;
    case 'Object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(name);
      return decodeProps(v as Record<string, unknown>, ctx);
  }
  const typed = Object.hasOwn(TYPED_ARRAYS, name) ? TYPED_ARRAYS[name] : undefined;
  if (typed) {
    // Copy into a fresh buffer: the base64 result may sit at an unaligned pool offset.
    return new typed(new Uint8Array(Buffer.from(str(v, name), 'base64')).buffer);
  }
  if (name.startsWith('@')) return decodePlugin(name, v, ctx);
  throw new Failure(`unknown tag "${name}"`);
}

function decodePlugin(alias: string, v: unknown, ctx: Ctx): unknown {
  const plugin = ctx.byAlias.get(alias.slice(1));
  if (!plugin) throw new Failure(`unknown type alias "${alias}" (no plugin is registered under it)`);
  // The tag and its data are one level: the encoder counts the instance (and its encode's result).
  ctx.depth--;
  const data = decodeValue(v, ctx);
  ctx.depth++;
  if (plugin.decode) {
    try {
      return plugin.decode(data);
    } catch (cause) {
      throw new Failure(`the decode of plugin ${alias} threw: ${errorMessage(cause)}`, cause);
    }
  }
  if (typeof data !== 'object' || data === null) throw malformed(alias);
  // Not Object.assign: an own "__proto__" key in stored data must not swap the prototype.
  const instance = Object.create(plugin.type.prototype) as Record<string, unknown>;
  for (const key of Object.keys(data)) setOwn(instance, key, (data as Record<string, unknown>)[key]);
  return instance;
}

function malformed(name: string): Failure {
  return new Failure(`a malformed "${name}" tag`);
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string') throw malformed(name);
  return v;
}

function arr(v: unknown, name: string): unknown[] {
  if (!Array.isArray(v)) throw malformed(name);
  return v;
}
