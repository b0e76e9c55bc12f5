import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { defaultCodec, jsonCodec } from '../../src/codec/json.js';
import { msgpackCodec } from '../../src/codec/msgpack.js';
import { type Codec, definePlugin } from '../../src/codec/types.js';
import { isUnisessionError } from '../../src/core/errors.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { runWithoutPackage, sourcePath } from '../helpers/without-package.js';

/** Values every type-preserving codec must give back unchanged, prototypes included. */
const ROUND_TRIPS: Array<[string, unknown]> = [
  ['string', 'hi'],
  ['empty string', ''],
  ['number', 42.5],
  ['true', true],
  ['null', null],
  ['plain object', { a: 1, b: 'x', c: [1, 2, { d: null }] }],
  ['array', [1, 'two', false, null]],
  ['Date', new Date('2024-01-01T00:00:00.000Z')],
  [
    'Map with object keys',
    new Map<unknown, unknown>([
      [{ k: 1 }, 'v'],
      ['s', new Map([[1, 2]])],
    ]),
  ],
  ['Set', new Set([1, 'a', { b: 2 }])],
  ['BigInt', 123n],
  ['negative BigInt', -9007199254740993n],
  ['huge BigInt', 2n ** 200n],
  ['Buffer', Buffer.from([0, 1, 2, 250, 255])],
  ['Uint8Array', new Uint8Array([9, 8, 7])],
  ['undefined at top level', undefined],
  ['undefined prop', { a: undefined, b: 1 }],
  ['undefined in array', [1, undefined, 3]],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['-0', -0],
  ['RegExp', /a\/b+[c/]/gi],
  ['object owning "$t"', { $t: 'Date', v: 'not a date', nested: { $t: 'x' } }],
  [
    'nested mix',
    {
      when: new Date(0),
      tags: new Set([new Date(1), [undefined, Number.NaN]]),
      index: new Map([['k', { n: -1n, bytes: Buffer.from('hey') }]]),
      list: [{ $t: 'Object', v: {} }, new Map([[undefined, null]])],
    },
  ],
];

function roundTrip(codec: Codec, value: unknown): unknown {
  const text = codec.encode(value);
  assert.equal(typeof text, 'string');
  return codec.decode(text);
}

function assertCode(code: 'UNISESSION_ENCODE_FAILED' | 'UNISESSION_DECODE_FAILED', pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(isUnisessionError(error, code), `expected ${code}, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
class Point3 extends Point {
  z = 0;
}
class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
}

describe('jsonCodec round trips', () => {
  for (const [label, value] of ROUND_TRIPS) {
    it(label, () => {
      assert.deepStrictEqual(roundTrip(defaultCodec, value), value);
    });
  }

  // Separate because Node 20's deepStrictEqual finds two Invalid Dates unequal (NaN !== NaN).
  it('Invalid Date', () => {
    const back = roundTrip(defaultCodec, { d: new Date(Number.NaN) }) as { d: Date };
    assert.equal(Object.getPrototypeOf(back.d), Date.prototype);
    assert.ok(Number.isNaN(back.d.getTime()));
    assert.equal(defaultCodec.encode(new Date(Number.NaN)), '{"$t":"Date","v":null}');
  });

  it('keeps -0 distinct from 0', () => {
    assert.ok(Object.is(roundTrip(defaultCodec, -0), -0));
    assert.ok(Object.is((roundTrip(defaultCodec, [-0]) as number[])[0], -0));
  });

  it('gives Buffer back as Buffer and Uint8Array back as Uint8Array', () => {
    assert.ok(Buffer.isBuffer(roundTrip(defaultCodec, Buffer.from('x'))));
    const bytes = roundTrip(defaultCodec, new Uint8Array([1]));
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
  });

  it('round-trips other typed arrays and ArrayBuffer', () => {
    for (const value of [
      new Float64Array([1.5, -2, Number.NaN]),
      new Int16Array([-1, 300]),
      new BigInt64Array([-5n]),
      new Uint8Array([1, 2, 3, 4]).subarray(1, 3),
      new Uint8Array([7, 7]).buffer,
    ]) {
      assert.deepStrictEqual(roundTrip(defaultCodec, value), value);
    }
  });

  it('keeps an own "__proto__" key as data, not as the prototype', () => {
    // JSON.parse makes "__proto__" an own key; the Date forces the copy path.
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    value.d = new Date(5);
    const back = roundTrip(defaultCodec, { wrap: value }) as { wrap: Record<string, unknown> };
    assert.equal(Object.getPrototypeOf(back.wrap), Object.prototype);
    assert.deepStrictEqual(Object.keys(back.wrap), ['__proto__', 'a', 'd']);
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(back.wrap, '__proto__')?.value, {
      polluted: true,
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('decodes null-prototype objects as plain objects', () => {
    const value = Object.assign(Object.create(null) as object, { a: 1 });
    assert.deepStrictEqual(roundTrip(defaultCodec, value), { a: 1 });
  });

  it('duplicates shared references that are not cycles', () => {
    const shared = { n: 1 };
    const back = roundTrip(defaultCodec, { a: shared, b: [shared] }) as { a: object; b: object[] };
    assert.deepStrictEqual(back, { a: { n: 1 }, b: [{ n: 1 }] });
    assert.notEqual(back.a, back.b[0]);
  });
});

describe('jsonCodec readability', () => {
  it('encodes plain JSON values exactly like JSON.stringify', () => {
    for (const value of [
      'hi',
      0,
      1.5,
      true,
      null,
      { a: 1 },
      [1, 'x', { b: [null] }],
      { nested: { deep: 'x' } },
    ]) {
      assert.equal(defaultCodec.encode(value), JSON.stringify(value));
    }
  });

  it('tags special values with a single "$t" key', () => {
    assert.equal(
      defaultCodec.encode(new Date('2024-01-01T00:00:00.000Z')),
      '{"$t":"Date","v":"2024-01-01T00:00:00.000Z"}',
    );
    assert.equal(defaultCodec.encode({ a: undefined }), '{"a":{"$t":"undefined"}}');
    assert.equal(defaultCodec.encode(10n), '{"$t":"BigInt","v":"10"}');
  });

  it('escapes a plain object owning "$t"', () => {
    const text = defaultCodec.encode({ $t: 'Date', v: 'x' });
    assert.equal(text, '{"$t":"Object","v":{"$t":"Date","v":"x"}}');
    assert.deepStrictEqual(defaultCodec.decode(text), { $t: 'Date', v: 'x' });
  });

  it('does not mutate the value it encodes', () => {
    const value = { a: [1, undefined], d: new Date(0), $t: 'x' };
    defaultCodec.encode(value);
    assert.deepStrictEqual(value, { a: [1, undefined], d: new Date(0), $t: 'x' });
  });
});

describe('jsonCodec plugins', () => {
  it('restores the prototype with the default encode/decode', () => {
    const codec = jsonCodec({ plugins: [definePlugin({ alias: 'pt', type: Point })] });
    const text = codec.encode({ p: new Point(3, 4) });
    assert.equal(text, '{"p":{"$t":"@pt","v":{"x":3,"y":4}}}');
    const back = codec.decode(text) as { p: Point };
    assert.ok(back.p instanceof Point);
    assert.equal(back.p.norm(), 5);
    assert.deepStrictEqual(back, { p: new Point(3, 4) });
  });

  it('does not let stored "__proto__" data replace the plugin prototype', () => {
    const codec = jsonCodec({ plugins: [definePlugin({ alias: 'pt', type: Point })] });
    const back = codec.decode('{"$t":"@pt","v":{"__proto__":{"evil":1},"x":1,"y":0}}') as Point;
    assert.equal(Object.getPrototypeOf(back), Point.prototype);
    assert.equal(back.norm(), 1);
  });

  it('uses a custom encode/decode and encodes what it returns', () => {
    const money = definePlugin({
      alias: 'money',
      type: Money,
      encode: (m) => [m.cents, m.currency],
      decode: (data) => {
        const [cents, currency] = data as [bigint, string];
        return new Money(cents, currency);
      },
    });
    const codec = jsonCodec({ plugins: [money] });
    const text = codec.encode(new Money(1999n, 'EUR'));
    assert.equal(text, '{"$t":"@money","v":[{"$t":"BigInt","v":"1999"},"EUR"]}');
    assert.deepStrictEqual(codec.decode(text), new Money(1999n, 'EUR'));
  });

  it('resolves the most specific registered class', () => {
    const codec = jsonCodec({
      plugins: [definePlugin({ alias: 'pt', type: Point }), definePlugin({ alias: 'pt3', type: Point3 })],
    });
    assert.match(codec.encode(new Point3(1, 2)), /"@pt3"/);
    assert.deepStrictEqual(roundTrip(codec, new Point3(1, 2)), new Point3(1, 2));
    assert.match(codec.encode(new Point(1, 2)), /"@pt"/);
  });

  it('uses the base class plugin for an unregistered subclass', () => {
    const codec = jsonCodec({ plugins: [definePlugin({ alias: 'pt', type: Point })] });
    const back = roundTrip(codec, new Point3(1, 2));
    assert.equal(Object.getPrototypeOf(back), Point.prototype);
  });

  it('refuses a duplicate alias or class at construction', () => {
    assert.throws(
      () => jsonCodec({ plugins: [definePlugin({ alias: 'a', type: Point }), { alias: 'a', type: Money }] }),
      (error: unknown) => isUnisessionError(error, 'UNISESSION_INVALID_OPTION') && /"a"/.test(error.message),
    );
    assert.throws(
      () =>
        jsonCodec({
          plugins: [
            { alias: 'a', type: Point },
            { alias: 'b', type: Point },
          ],
        }),
      (error: unknown) => isUnisessionError(error, 'UNISESSION_INVALID_OPTION'),
    );
  });

  it('fails to decode an alias removed after a redeploy', () => {
    const before = jsonCodec({ plugins: [definePlugin({ alias: 'pt', type: Point })] });
    const after = jsonCodec();
    const text = before.encode({ p: new Point(1, 1) });
    assert.throws(() => after.decode(text), assertCode('UNISESSION_DECODE_FAILED', /"@pt"/));
  });

  it('wraps a throwing plugin encode', () => {
    const codec = jsonCodec({
      plugins: [
        definePlugin({
          alias: 'pt',
          type: Point,
          encode: () => {
            throw new Error('boom');
          },
        }),
      ],
    });
    assert.throws(
      () => codec.encode({ p: new Point(0, 0) }),
      assertCode('UNISESSION_ENCODE_FAILED', /@pt.*boom.*\.p/),
    );
  });
});

describe('jsonCodec unknown classes', () => {
  it("'plain' (default) stores own enumerable props and decodes a plain object", () => {
    const text = defaultCodec.encode(new Point(1, 2));
    assert.equal(text, '{"x":1,"y":2}');
    assert.deepStrictEqual(defaultCodec.decode(text), { x: 1, y: 2 });
  });

  it("'error' refuses them, naming the class", () => {
    const strict = jsonCodec({ unknownClasses: 'error' });
    assert.throws(
      () => strict.encode({ p: new Point(1, 2) }),
      assertCode('UNISESSION_ENCODE_FAILED', /Point/),
    );
    class MyMap extends Map {}
    assert.throws(() => strict.encode(new MyMap()), assertCode('UNISESSION_ENCODE_FAILED', /MyMap/));
    // Built-in types are not "unknown".
    assert.deepStrictEqual(roundTrip(strict, new Map([[1, new Date(0)]])), new Map([[1, new Date(0)]]));
  });

  it("'plain' keeps the data of a subclass of a built-in", () => {
    class MyMap extends Map<string, number> {}
    assert.deepStrictEqual(roundTrip(defaultCodec, new MyMap([['a', 1]])), new Map([['a', 1]]));
  });
});

describe('jsonCodec encode errors', () => {
  it('rejects a cycle', () => {
    const value: Record<string, unknown> = { a: { b: [] as unknown[] } };
    ((value.a as { b: unknown[] }).b as unknown[]).push(value);
    assert.throws(
      () => defaultCodec.encode(value),
      assertCode('UNISESSION_ENCODE_FAILED', /cycle.*\.a\.b\[0\]/),
    );
    const map = new Map<string, unknown>();
    map.set('self', map);
    assert.throws(() => defaultCodec.encode(map), assertCode('UNISESSION_ENCODE_FAILED', /cycle/));
  });

  it('rejects a function with its path', () => {
    assert.throws(
      () => defaultCodec.encode({ user: { cb: () => 1 } }),
      assertCode('UNISESSION_ENCODE_FAILED', /function.* at \.user\.cb$/),
    );
    assert.throws(
      () => defaultCodec.encode({ list: [1, { 'odd key': () => 1 }] }),
      assertCode('UNISESSION_ENCODE_FAILED', /at \.list\[1\]\["odd key"\]$/),
    );
    assert.throws(
      () => defaultCodec.encode(new Map([['k', new Set([Symbol('s')])]])),
      assertCode('UNISESSION_ENCODE_FAILED', /symbol.* at \.get\("k"\)\.values\(\)\[0\]$/),
    );
  });

  it('rejects a symbol at the top level', () => {
    assert.throws(() => defaultCodec.encode(Symbol('x')), assertCode('UNISESSION_ENCODE_FAILED', /symbol/));
  });
});

describe('jsonCodec decode errors', () => {
  for (const [label, text, pattern] of [
    ['malformed JSON', '{"a":', /malformed JSON/],
    ['an unknown tag', '{"$t":"Widget","v":1}', /"Widget"/],
    ['an unknown alias', '[{"$t":"@gone","v":{}}]', /"@gone"/],
    ['a malformed payload', '{"$t":"Map","v":"x"}', /"Map"/],
    ['a bad BigInt', '{"$t":"BigInt","v":"12x"}', /BigInt/],
    ['an extra key on a tag', '{"$t":"Date","v":"2024-01-01","x":1}', /"x"/],
  ] as const) {
    it(`fails on ${label}`, () => {
      assert.throws(() => defaultCodec.decode(text), assertCode('UNISESSION_DECODE_FAILED', pattern));
    });
  }
});

describe('msgpackCodec', () => {
  // -0 is msgpackr's one loss in the shared table: it stores it as the integer 0.
  const SKIPPED = new Set(['-0']);

  for (const [label, value] of ROUND_TRIPS) {
    if (SKIPPED.has(label)) continue;
    it(`round-trips ${label}`, () => {
      const codec = msgpackCodec();
      assert.deepStrictEqual(roundTrip(codec, value), value);
    });
  }

  it('round-trips Invalid Date, typed arrays and ArrayBuffer', () => {
    const codec = msgpackCodec();
    const back = roundTrip(codec, new Date(Number.NaN)) as Date;
    assert.ok(back instanceof Date && Number.isNaN(back.getTime()));
    for (const value of [
      new Float64Array([1.5, -2]),
      new Int16Array([-1, 300]),
      new Uint8Array([7, 7]).buffer,
    ]) {
      assert.deepStrictEqual(roundTrip(codec, value), value);
    }
  });

  it('stores base64 text that another instance decodes', () => {
    const [a, b] = [msgpackCodec(), msgpackCodec()];
    const text = a.encode({ user: { id: 1 }, at: new Date(0) });
    assert.match(text, /^[A-Za-z0-9+/]+=*$/);
    assert.deepStrictEqual(b.decode(text), { user: { id: 1 }, at: new Date(0) });
  });

  it('refuses functions, symbols and cycles, and still works afterwards', () => {
    const codec = msgpackCodec();
    assert.throws(
      () => codec.encode({ cb: function onSave() {} }),
      assertCode('UNISESSION_ENCODE_FAILED', /onSave/),
    );
    assert.throws(() => codec.encode({ s: Symbol('x') }), assertCode('UNISESSION_ENCODE_FAILED', /symbol/));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.throws(() => codec.encode(cycle), assertCode('UNISESSION_ENCODE_FAILED', /cycle/));
    assert.deepStrictEqual(roundTrip(codec, { a: [1, { b: 'x' }] }), { a: [1, { b: 'x' }] });
  });

  it('fails to decode malformed text', () => {
    const codec = msgpackCodec();
    const truncated = codec.encode({ a: 'hello world' }).slice(0, 8);
    for (const text of ['', 'not base64!', truncated, `${codec.encode(1)}AQI=`]) {
      assert.throws(() => codec.decode(text), assertCode('UNISESSION_DECODE_FAILED', /malformed/));
    }
  });

  it('is a plain option value, as the options table shows: codec: msgpackCodec()', async () => {
    const store = memoryStore();
    const manager = createSessionManager({ app: 'a', store, codec: msgpackCodec(), sweeper: false });
    try {
      const session = manager.open({
        url: '/',
        method: 'GET',
        header: () => undefined,
        remoteAddress: '127.0.0.1',
        encrypted: false,
      });
      await session.set('cart', { items: [1, 2] });
      await session.commit();
      assert.ok(session.id);
      const stored = (await store.load(session.id, 'all', Date.now()))?.attributes.get('a:cart');
      assert.ok(stored);
      assert.match(stored, /^[A-Za-z0-9+/]+=*$/, 'stored as MessagePack in base64, not as JSON');
      assert.deepStrictEqual(msgpackCodec().decode(stored), { items: [1, 2] });
    } finally {
      await manager.close();
    }
  });

  it('throws UNISESSION_DRIVER_MISSING when msgpackr is not installed', async () => {
    const stdout = await runWithoutPackage(
      'msgpackr',
      `import { msgpackCodec } from ${JSON.stringify(sourcePath('codec/msgpack.ts'))};
      try { msgpackCodec(); console.log('loaded'); } catch (e) { console.log(e.code, e.message); }`,
    );
    assert.match(stdout, /^UNISESSION_DRIVER_MISSING .*npm install msgpackr/);
  });
});
