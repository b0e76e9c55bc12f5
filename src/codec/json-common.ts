/** What the JSON codec's encoder (json.ts) and decoder (json-decode.ts) share. */
import type { ErrorCode } from '../core/errors.js';
import type { CodecPlugin } from './types.js';

export const TAG = '$t';

export interface Ctx {
  readonly byProto: ReadonlyMap<object, CodecPlugin>;
  readonly byAlias: ReadonlyMap<string, CodecPlugin>;
  readonly strict: boolean;
  /** The objects on the path from the root to the current value: a repeat is a cycle. */
  readonly ancestors: Set<object>;
  /** While decoding: how many containers enclose the current value. */
  depth: number;
}

/**
 * Thrown inside the pass. The path is collected while it unwinds (each container adds its
 * own segment), so the happy path never builds path strings.
 */
export class Failure {
  readonly segments: string[] = [];
  constructor(
    readonly detail: string,
    readonly cause?: unknown,
    /** The error code when it is not the pass's usual one (ENCODE_FAILED / DECODE_FAILED). */
    readonly code?: ErrorCode,
  ) {}
}

/** Sets an own data property even for "__proto__", which plain assignment would treat as the prototype. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type TypedArrayCtor = { new (buffer: ArrayBuffer): ArrayBufferView; readonly prototype: object };

/** Typed arrays store their raw bytes (platform byte order, little-endian in practice). */
export const TYPED_ARRAYS: Record<string, TypedArrayCtor> = {
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};
