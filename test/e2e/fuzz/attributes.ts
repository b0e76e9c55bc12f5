/**
 * Hostile attribute names, values and stored texts, as fast-check arbitraries. Big and deep
 * values are *plans* ({ kind: 'deep', depth: 9000 }) built in the property, so that a
 * counterexample stays readable.
 */
import fc from 'fast-check';

/** Names that reach the prototype chain of a plain object. */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype'] as const;

/**
 * Names of members of the adapters' property-style sessions (express-session's,
 * koa-session's, @fastify/session's), and of methods everyone calls on an object.
 */
export const MEMBER_NAMES = [
  'id',
  'cookie',
  'get',
  'set',
  'isNew',
  'save',
  'destroy',
  'toJSON',
  'regenerate',
  'reload',
  'touch',
  'resetMaxAge',
  'req',
  'handle',
  'populated',
  'maxAge',
  'sessionId',
  'sessionID',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'then',
  'length',
] as const;

const withOdd = (odd: fc.Arbitrary<string>) =>
  fc.tuple(fc.string({ maxLength: 6 }), odd, fc.string({ maxLength: 6 })).map((parts) => parts.join(''));

/** Names with control characters, lone surrogates, 200+ chars, odd punctuation, any code point. */
export const oddName: fc.Arbitrary<string> = fc
  .oneof(
    withOdd(fc.constantFrom('\u0000', '\n', '\r', '\t', '\u007f', '\u001b', '\u0085')),
    withOdd(fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff')),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
    fc.string({ minLength: 195, maxLength: 260 }),
    fc.constantFrom('', ' ', ':', 'a:b', 'shop:cart', 'a.b', '$where', '$t', '\u2028', '\ufeff'),
  )
  // `marker` is each client's own secret-ish attribute, and `count` each app's private one.
  .filter((name) => name !== 'marker' && name !== 'count');

/** Names nobody would find odd, for the properties about odd values. */
export const plainName = fc.constantFrom('profile', 'cart', 'prefs', 'flash', 'x');

/** A value to set through the native API. */
export type ValuePlan =
  | { kind: 'value'; value: unknown }
  | { kind: 'deep'; shape: 'array' | 'object' | 'map' | 'set'; depth: number }
  | { kind: 'huge'; fill: string; length: number };

const oddNumber = fc.oneof(
  fc.constantFrom(Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.constantFrom(Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, -(2 ** 63)),
  fc.double(),
);

/** Values that look like the JSON codec's own tags ({"$t": ...}), as objects and as strings. */
const tagLookalike = fc.oneof(
  fc.constantFrom(
    { $t: 'Date', v: 'not a date' },
    { $t: 'undefined' },
    { $t: '@user', v: { name: 'x' } },
    { $t: 'Object', v: { $t: 'Map', v: [] } },
    { v: 1, $t: 'BigInt' },
    { $t: { $t: 'Set' } },
  ),
  fc.constantFrom(
    '{"$t":"Date","v":"2020-01-01T00:00:00.000Z"}',
    '{"$t":"undefined"}',
    '{"$t":"BigInt","v":"12345678901234567890"}',
    '{"$t":"@user","v":{}}',
  ),
  fc.record({ $t: fc.string(), v: fc.anything() }),
);

const anyValue = fc.anything({
  maxDepth: 4,
  maxKeys: 5,
  key: fc.oneof(fc.string(), fc.constantFrom('__proto__', '$t', 'constructor', 'toJSON', 'v')),
  stringUnit: 'binary',
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
});

/** Values of every type the codec knows, and some it does not, none of them big or deep. */
export const modestValuePlan: fc.Arbitrary<ValuePlan> = fc.record({
  kind: fc.constant('value' as const),
  value: fc.oneof(anyValue, oddNumber, tagLookalike, fc.bigInt(), fc.date({ noInvalidDate: false })),
});

/** Modest values, plus values nested deeper than the codec can go and values near the size limit. */
export const valuePlan: fc.Arbitrary<ValuePlan> = fc.oneof(
  { weight: 6, arbitrary: modestValuePlan },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      shape: fc.constantFrom('array', 'object', 'map', 'set'),
      // Around where the codec's recursion gives up (a few thousand levels), and far past it.
      depth: fc.oneof(fc.integer({ min: 1, max: 6_000 }), fc.integer({ min: 1, max: 50_000 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge' as const),
      fill: fc.constantFrom('x', '\u00e9', '"', '\ud83d\ude00'),
      length: fc.integer({ min: 10_000, max: 1_100_000 }),
    }),
  },
);

export function buildValue(plan: ValuePlan): unknown {
  switch (plan.kind) {
    case 'value':
      return plan.value;
    case 'huge':
      return plan.fill.repeat(Math.ceil(plan.length / plan.fill.length));
    case 'deep': {
      let value: unknown = 'bottom';
      for (let i = 0; i < plan.depth; i++) {
        if (plan.shape === 'array') value = [value];
        else if (plan.shape === 'object') value = { a: value };
        else if (plan.shape === 'map') value = new Map([['a', value]]);
        else value = new Set([value]);
      }
      return value;
    }
  }
}

/** Text written straight into the store's attribute row: what the codec would never write. */
export type TextPlan =
  | { kind: 'text'; text: string }
  | { kind: 'deep'; open: '[' | '{"a":'; depth: number }
  | { kind: 'huge'; length: number };

/** Texts the codec would never write (or would, for other types), none of them big or deep. */
export const modestTextPlan: fc.Arbitrary<TextPlan> = fc.record({
  kind: fc.constant('text' as const),
  text: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.json(),
    fc.constantFrom(
      '{"$t":"Date","v":"not a date"}',
      '{"$t":"Date","v":null}',
      '{"$t":"BigInt","v":"1.5"}',
      '{"$t":"RegExp","v":"/(/"}',
      '{"$t":"Map","v":[[1]]}',
      '{"$t":"Map","v":5}',
      '{"$t":"Set","v":{}}',
      '{"$t":"@nope","v":{}}',
      '{"$t":"Uint16Array","v":"AAA"}',
      '{"$t":"Buffer","v":"####"}',
      '{"$t":"Number","v":"1"}',
      '{"$t":5}',
      '{"$t":"undefined","x":1}',
      '{"$t":"Object","v":{"__proto__":{"isAdmin":true}}}',
      '{"__proto__":{"isAdmin":true}}',
      '{"constructor":{"prototype":{"isAdmin":true}}}',
      '{"$t":"undefined"}',
      'undefined',
      '',
      'null',
    ),
  ),
});

/** Modest texts, plus JSON nested deeper than the codec can go and texts past the size limit. */
export const textPlan: fc.Arbitrary<TextPlan> = fc.oneof(
  { weight: 6, arbitrary: modestTextPlan },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      open: fc.constantFrom<'[' | '{"a":'>('[', '{"a":'),
      depth: fc.oneof(fc.integer({ min: 1, max: 6_000 }), fc.integer({ min: 1, max: 100_000 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge' as const),
      length: fc.integer({ min: 10_000, max: 1_500_000 }),
    }),
  },
);

export function buildText(plan: TextPlan): string {
  switch (plan.kind) {
    case 'text':
      return plan.text;
    case 'huge':
      return JSON.stringify('y'.repeat(plan.length));
    case 'deep':
      return plan.open === '['
        ? `${'['.repeat(plan.depth)}${']'.repeat(plan.depth)}`
        : `${'{"a":'.repeat(plan.depth)}0${'}'.repeat(plan.depth)}`;
  }
}
