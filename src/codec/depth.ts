import { MAX_VALUE_DEPTH } from '../core/codec.js';

/**
 * How a value nests, for codecs whose own encoder and decoder have no depth limit (msgpackr
 * recurses until the stack runs out). The walk itself stops at `limit + 1` levels, so it never
 * recurses deeper than that.
 */
export type Nesting = 'ok' | 'too deep' | 'cycle';

export function nestingOf(value: unknown, limit = MAX_VALUE_DEPTH): Nesting {
  return walk(value, limit, new Set());
}

function walk(value: unknown, limit: number, ancestors: Set<object>): Nesting {
  if (typeof value !== 'object' || value === null || isLeaf(value)) return 'ok';
  if (ancestors.has(value)) return 'cycle';
  if (ancestors.size >= limit) return 'too deep';
  ancestors.add(value);
  let result: Nesting = 'ok';
  for (const child of children(value)) {
    result = walk(child, limit, ancestors);
    if (result !== 'ok') break;
  }
  ancestors.delete(value);
  return result;
}

/** Values stored as bytes or text, whatever their class: nothing inside them nests. */
function isLeaf(value: object): boolean {
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof Date ||
    value instanceof RegExp
  );
}

function* children(value: object): Iterable<unknown> {
  if (value instanceof Map) {
    for (const [key, item] of value) {
      yield key;
      yield item;
    }
  } else if (value instanceof Set || Array.isArray(value)) {
    yield* value;
  } else {
    for (const key of Object.keys(value)) yield (value as Record<string, unknown>)[key];
  }
}
