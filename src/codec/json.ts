import { Buffer } from 'node:buffer';
import { type Codec, MAX_VALUE_DEPTH } from '../core/codec.js';
import { UnisessionError } from '../core/errors.js';
import { checkOptions, is } from '../core/validate.js';
import { type Ctx, errorMessage, Failure, TAG, TYPED_ARRAYS } from './json-common.js';
import { decodeValue } from './json-decode.js';
import type { CodecPlugin } from './types.js';

/*
 * Wire format: plain JSON values are stored as themselves, so an admin UI shows ordinary
 * JSON. Anything JSON cannot say is a tagged object with the reserved key "$t":
 *   {"$t":"Date","v":"2024-01-01T00:00:00.000Z"}   {"$t":"undefined"}   {"$t":"@user","v":{...}}
 * A plain object that happens to own a "$t" key is wrapped as {"$t":"Object","v":{...}}, so
 * the decoder never mistakes user data for a tag.
 *
 * Encoding is one recursive pass that builds a JSON-able tree and then calls JSON.stringify
 * once (a replacer would run for every value and sees Dates already turned into strings).
 * The pass is copy-on-write: a container whose children all encode as themselves is reused
 * as is, so the common all-plain attribute costs a walk and no allocation.
 */

export interface JsonCodecOptions {
  /** Classes that must come back with their prototype. Aliases must be unique. */
  plugins?: readonly CodecPlugin[];
  /**
   * What to do with an instance of a class that has no plugin: 'plain' (default) stores its
   * own enumerable props and it comes back as a plain object; 'error' refuses to encode it.
   */
  unknownClasses?: 'plain' | 'error';
}

const UNDEFINED = Object.freeze({ [TAG]: 'undefined' });

function addSegment(error: unknown, segment: string): unknown {
  if (error instanceof Failure) error.segments.push(segment);
  return error;
}

function keySegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function pathOf(failure: Failure): string {
  return failure.segments.length === 0 ? 'the top level' : failure.segments.reverse().join('');
}

function tag(name: string, v: unknown): { [TAG]: string; v: unknown } {
  return { [TAG]: name, v };
}

function className(proto: object): string {
  const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
  return typeof ctor === 'function' && ctor.name ? ctor.name : '(anonymous class)';
}

// ---------------------------------------------------------------------------------- encode

function encodeValue(value: unknown, ctx: Ctx): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON turns NaN and the infinities into null and -0 into 0.
      if (value === 0 ? 1 / value > 0 : Number.isFinite(value)) return value;
      return tag('Number', Object.is(value, -0) ? '-0' : String(value));
    case 'undefined':
      return UNDEFINED;
    case 'bigint':
      return tag('BigInt', value.toString());
    case 'object':
      return value === null ? null : encodeObject(value, ctx);
    case 'function':
      throw new Failure(`a function (${value.name || 'anonymous'}) cannot be stored`);
    default:
      throw new Failure(`a ${typeof value} cannot be stored`);
  }
}

function encodeObject(obj: object, ctx: Ctx): unknown {
  if (ctx.ancestors.has(obj)) throw new Failure('the value contains itself (a cycle)');
  // The path from the root is the nesting depth: stop before the stack (and the decoder) must.
  if (ctx.ancestors.size >= MAX_VALUE_DEPTH) {
    throw new Failure(
      `the value is nested deeper than ${MAX_VALUE_DEPTH} levels`,
      undefined,
      'UNISESSION_VALUE_TOO_DEEP',
    );
  }
  ctx.ancestors.add(obj);
  const out = encodeContainer(obj, ctx);
  ctx.ancestors.delete(obj);
  return out;
}

function encodeContainer(obj: object, ctx: Ctx): unknown {
  if (Array.isArray(obj)) return encodeArray(obj, ctx);
  const proto: object | null = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null) return encodeRecord(obj, ctx, false);
  // Most specific first: the first registered prototype met walking up the chain wins.
  for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const plugin = ctx.byProto.get(p);
    if (plugin) return encodePlugin(obj, plugin, ctx);
    const builtin = BUILTINS.get(p);
    if (builtin) {
      // A subclass of Map, Date... without a plugin would come back as the base class.
      if (p !== proto && ctx.strict) throw unregistered(proto);
      return builtin(obj, ctx);
    }
  }
  if (ctx.strict) throw unregistered(proto);
  return encodeRecord(obj, ctx, true);
}

function unregistered(proto: object): Failure {
  return new Failure(`an instance of the unregistered class ${className(proto)} (register a plugin for it)`);
}

function encodeArray(arr: readonly unknown[], ctx: Ctx): unknown[] {
  let out: unknown[] | undefined;
  let i = 0;
  try {
    for (; i < arr.length; i++) {
      const item = arr[i];
      const encoded = encodeValue(item, ctx);
      if (out === undefined && encoded !== item) out = arr.slice(0, i);
      out?.push(encoded);
    }
  } catch (error) {
    throw addSegment(error, `[${i}]`);
  }
  return out ?? (arr as unknown[]);
}

/** `fresh` forces a copy: class instances must not reach JSON.stringify (it would call their toJSON). */
function encodeRecord(obj: object, ctx: Ctx, fresh: boolean): unknown {
  const src = obj as Record<string, unknown>;
  const keys = Object.keys(src);
  // Null-prototype output: "__proto__" keys stay ordinary keys.
  let out: Record<string, unknown> | undefined = fresh ? Object.create(null) : undefined;
  let hasTagKey = false;
  let key = '';
  try {
    for (let i = 0; i < keys.length; i++) {
      key = keys[i]!;
      if (key === TAG) hasTagKey = true;
      const item = src[key];
      const encoded = encodeValue(item, ctx);
      if (out === undefined && encoded !== item) {
        out = Object.create(null) as Record<string, unknown>;
        for (let j = 0; j < i; j++) out[keys[j]!] = src[keys[j]!];
      }
      if (out !== undefined) out[key] = encoded;
    }
  } catch (error) {
    throw addSegment(error, keySegment(key));
  }
  const result = out ?? src;
  return hasTagKey ? tag('Object', result) : result;
}

function encodePlugin(obj: object, plugin: CodecPlugin, ctx: Ctx): unknown {
  const alias = `@${plugin.alias}`;
  if (!plugin.encode) return tag(alias, encodeRecord(obj, ctx, true));
  let data: unknown;
  try {
    data = plugin.encode(obj);
  } catch (cause) {
    throw new Failure(`the encode of plugin ${alias} threw: ${errorMessage(cause)}`, cause);
  }
  if (data === obj) throw new Failure(`the encode of plugin ${alias} returned the instance itself`);
  return tag(alias, encodeValue(data, ctx));
}

function encodeMap(map: Map<unknown, unknown>, ctx: Ctx): unknown[] {
  const out: unknown[] = [];
  let inKey = true;
  let key: unknown;
  try {
    for (const [k, v] of map) {
      key = k;
      inKey = true;
      const encodedKey = encodeValue(k, ctx);
      inKey = false;
      out.push([encodedKey, encodeValue(v, ctx)]);
    }
  } catch (error) {
    const shown = typeof key === 'string' || typeof key === 'number' ? JSON.stringify(key) : '…';
    throw addSegment(error, inKey ? `.keys()[${out.length}]` : `.get(${shown})`);
  }
  return out;
}

function encodeSet(set: Set<unknown>, ctx: Ctx): unknown[] {
  const out: unknown[] = [];
  try {
    for (const item of set) out.push(encodeValue(item, ctx));
  } catch (error) {
    throw addSegment(error, `.values()[${out.length}]`);
  }
  return out;
}

function bytesOf(view: ArrayBufferView | ArrayBuffer): string {
  const buf = ArrayBuffer.isView(view)
    ? Buffer.from(view.buffer, view.byteOffset, view.byteLength)
    : Buffer.from(view);
  return buf.toString('base64');
}

/** Keyed by the exact prototype so the common lookup is one Map hit, not a chain of instanceof. */
const BUILTINS = new Map<object, (value: object, ctx: Ctx) => unknown>([
  [
    Date.prototype,
    (d) => tag('Date', Number.isNaN((d as Date).getTime()) ? null : (d as Date).toISOString()),
  ],
  [RegExp.prototype, (r) => tag('RegExp', String(r))],
  [Map.prototype, (m, ctx) => tag('Map', encodeMap(m as Map<unknown, unknown>, ctx))],
  [Set.prototype, (s, ctx) => tag('Set', encodeSet(s as Set<unknown>, ctx))],
  // Before Uint8Array in the chain walk, since Buffer.prototype inherits from it.
  [Buffer.prototype, (b) => tag('Buffer', bytesOf(b as Buffer))],
  [ArrayBuffer.prototype, (b) => tag('ArrayBuffer', bytesOf(b as ArrayBuffer))],
  ...Object.entries(TYPED_ARRAYS).map(
    ([name, ctor]) => [ctor.prototype, (a: object) => tag(name, bytesOf(a as ArrayBufferView))] as const,
  ),
]);

// ---------------------------------------------------------------------------------- codec

function registry(plugins: readonly CodecPlugin[]): Pick<Ctx, 'byProto' | 'byAlias'> {
  const byProto = new Map<object, CodecPlugin>();
  const byAlias = new Map<string, CodecPlugin>();
  for (const plugin of plugins) {
    const { alias, type } = plugin;
    if (typeof alias !== 'string' || alias === '') {
      throw new UnisessionError(
        'UNISESSION_INVALID_OPTION',
        'a codec plugin alias must be a non-empty string',
      );
    }
    if (typeof type !== 'function' || type.prototype === Object.prototype || type === Object) {
      throw new UnisessionError('UNISESSION_INVALID_OPTION', `codec plugin "${alias}" needs a class as type`);
    }
    if (byAlias.has(alias)) {
      throw new UnisessionError(
        'UNISESSION_INVALID_OPTION',
        `codec plugin alias "${alias}" is registered twice`,
      );
    }
    if (byProto.has(type.prototype)) {
      const other = byProto.get(type.prototype)!.alias;
      throw new UnisessionError(
        'UNISESSION_INVALID_OPTION',
        `class ${type.name} is registered twice, as "${other}" and "${alias}"`,
      );
    }
    byAlias.set(alias, plugin);
    byProto.set(type.prototype, plugin);
  }
  return { byProto, byAlias };
}

/** The type-preserving JSON codec; see the wire format above. */
export function jsonCodec(options: JsonCodecOptions = {}): Codec {
  checkOptions('jsonCodec', options, {
    plugins: is.arrayOf(is.withMethods('a plugin object ({ alias, type })')),
    unknownClasses: is.oneOf('plain', 'error'),
  });
  const { plugins = [], unknownClasses = 'plain' } = options;
  const { byProto, byAlias } = registry(plugins);
  const strict = unknownClasses === 'error';
  // A fresh ancestor set per call keeps encode re-entrant (a plugin may call a codec itself).
  const ctx = (): Ctx => ({ byProto, byAlias, strict, ancestors: new Set(), depth: 0 });

  return {
    name: 'json',
    encode(value: unknown): string {
      if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
      try {
        return JSON.stringify(encodeValue(value, ctx()));
      } catch (error) {
        if (error instanceof Failure) {
          const code = error.code ?? 'UNISESSION_ENCODE_FAILED';
          throw new UnisessionError(code, `${error.detail}, at ${pathOf(error)}`, { cause: error.cause });
        }
        throw new UnisessionError('UNISESSION_ENCODE_FAILED', errorMessage(error), { cause: error });
      }
    },
    decode(text: string): unknown {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (cause) {
        throw new UnisessionError('UNISESSION_DECODE_FAILED', `malformed JSON: ${errorMessage(cause)}`, {
          cause,
        });
      }
      try {
        return decodeValue(parsed, ctx());
      } catch (error) {
        if (error instanceof Failure) {
          throw new UnisessionError('UNISESSION_DECODE_FAILED', error.detail, { cause: error.cause });
        }
        throw new UnisessionError('UNISESSION_DECODE_FAILED', errorMessage(error), { cause: error });
      }
    },
  };
}

/** What a session manager uses when it is given no codec. */
export const defaultCodec: Codec = jsonCodec();
