/**
 * The `sessions` filter-flag parser, without a store: every flag reaches the query under the
 * API's name with a checked value, and anything else is a UsageError naming the flag. The
 * properties throw arbitrary argv at it: it never throws anything but a UsageError, and what
 * it accepts is always a well-formed query.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../src/cli/command.js';
import { FILTER_FLAGS, parseFlags } from '../../src/cli/sessions/flags.js';
import { parseAddress, parseDuration, parseTime } from '../../src/cli/sessions/values.js';

const settings = { own: { limit: { type: 'string' } }, filters: true, positionals: true } as const;
const parse = (...argv: string[]) => parseFlags(['--store', 'memory:', ...argv], settings, {});
const usage = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
  assert.match(error.message, pattern);
  return true;
};

describe('sessions flags', () => {
  it('maps every filter flag to the query field of the API', () => {
    const { query, filtered, common } = parse(
      '--app',
      'shop',
      '--id',
      'abc',
      '--id-prefix',
      'ab',
      '--principal',
      'alice',
      '--address',
      '10.0.0.0/8',
      '--host',
      'node-1',
      '--last-host',
      'node-2',
      '--authenticated',
      '--created-after',
      '2026-01-01',
      '--created-before',
      '2026-02-01T00:00:00Z',
      '--accessed-after',
      '1767225600000',
      '--accessed-before',
      '1769904000000',
      '--idle-longer-than',
      '1h30m',
      '--expiring-before',
      '2026-03-01T12:00:00Z',
    );
    assert.equal(filtered, true);
    assert.equal(common.app, 'shop');
    assert.deepEqual(query, {
      app: 'shop',
      id: 'abc',
      idPrefix: 'ab',
      principal: 'alice',
      clientAddress: '10.0.0.0/8',
      host: 'node-1',
      lastHost: 'node-2',
      authenticated: true,
      createdAfter: Date.parse('2026-01-01'),
      createdBefore: Date.parse('2026-02-01T00:00:00Z'),
      accessedAfter: 1767225600000,
      accessedBefore: 1769904000000,
      idleLongerThan: 90 * 60_000,
      expiresBefore: Date.parse('2026-03-01T12:00:00Z'),
    });
  });

  it('reads the shared flags, with the environment as defaults', () => {
    const parsed = parseFlags(['--json'], settings, {
      UNISESSION_STORE: 'sqlite:x.sqlite',
      UNISESSION_GROUP: 'g1',
    });
    assert.deepEqual(parsed.common, {
      store: 'sqlite:x.sqlite',
      group: 'g1',
      app: undefined,
      codec: 'json',
      json: true,
    });
    assert.equal(parsed.filtered, false, '--app alone, or no flag, is not a filter');
    assert.equal(parse('--app', 'a').filtered, false);
    assert.equal(parse().common.group, 'unisession');
    assert.equal(parse('--anonymous').query.authenticated, false);
  });

  it('refuses bad flags and values, naming the flag', () => {
    assert.throws(() => parseFlags([], settings, {}), usage(/--store is required/));
    assert.throws(() => parse('--principle', 'x'), usage(/Unknown option '--principle'/));
    assert.throws(() => parse('--group', 'a b'), usage(/--group must be/));
    assert.throws(() => parse('--app', 'a/b'), usage(/--app must be/));
    assert.throws(() => parse('--codec', 'xml'), usage(/--codec must be json or msgpack/));
    assert.throws(
      () => parse('--address', '10.0.0.0/33'),
      usage(/--address must be an IP address or a CIDR/),
    );
    assert.throws(() => parse('--address', 'localhost'), usage(/--address/));
    assert.throws(() => parse('--idle-longer-than=-5m'), usage(/--idle-longer-than must be a duration/));
    assert.throws(() => parse('--idle-longer-than', '30 minutes'), usage(/--idle-longer-than/));
    assert.throws(() => parse('--created-after', 'yesterday'), usage(/--created-after must be an ISO 8601/));
    assert.throws(() => parse('--created-after', '2026-13-45'), usage(/--created-after/));
    assert.throws(() => parse('--principal', ''), usage(/--principal must not be empty/));
    assert.throws(() => parse('--authenticated', '--anonymous'), usage(/exclude each other/));
    assert.throws(
      () => parse('--created-after', '2026-02-01', '--created-before', '2026-01-01'),
      usage(/--created-after must be earlier than --created-before/),
    );
    assert.throws(() => parse('--principal'), usage(/argument missing/));
  });

  it('takes an operand that starts with "-" after "--", and says so when it is not', () => {
    assert.deepEqual(parse('--json', '--', '-qN3abc', '--x').positionals, ['-qN3abc', '--x']);
    assert.throws(() => parse('-qN3abc'), usage(/Unknown option '-q'.*after '--'/s));
  });

  it('reads durations, times and addresses', () => {
    assert.equal(parseDuration('--d', '1500'), 1500);
    assert.equal(parseDuration('--d', '90s'), 90_000);
    assert.equal(parseDuration('--d', '2h'), 7_200_000);
    assert.equal(parseDuration('--d', '1d12h'), 129_600_000);
    assert.equal(parseDuration('--d', '1w'), 604_800_000);
    assert.equal(parseDuration('--d', '250ms'), 250);
    assert.throws(() => parseDuration('--d', '1.5ms'), usage(/whole number of ms/));
    assert.throws(() => parseDuration('--d', '200y'), usage(/duration/));
    assert.throws(() => parseDuration('--d', '101000w'), usage(/up to 100 years/));
    assert.equal(parseTime('--t', '2026-01-31T12:00:00Z'), Date.UTC(2026, 0, 31, 12));
    assert.equal(parseTime('--t', '2026-01-31T12:00:00+01:00'), Date.UTC(2026, 0, 31, 11));
    assert.equal(parseTime('--t', '0'), 0);
    assert.equal(parseAddress('--a', '2001:db8::/32'), '2001:db8::/32');
    assert.equal(parseAddress('--a', '::1'), '::1');
    assert.throws(() => parseAddress('--a', '2001:db8::/129'), usage(/--a/));
  });

  // Flags and values drawn from the real flag names plus junk, as a user might type them.
  const names = Object.keys(FILTER_FLAGS);
  const token = fc.oneof(
    fc.constantFrom(
      ...names.map((name) => `--${name}`),
      '--app',
      '--group',
      '--codec',
      '--json',
      '--limit',
      '--',
      '-h',
    ),
    fc.constantFrom(
      '30m',
      '1h30m',
      '-1',
      '2026-01-01',
      '10.0.0.0/8',
      '::1',
      'alice',
      '',
      ' ',
      '1e3',
      'NaN',
      '99999999999999999',
    ),
    fc.string({ maxLength: 12 }),
  );

  it('on any argv, accepts a well-formed query or throws a UsageError, never anything else', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 10 }), (argv) => {
        let parsed: ReturnType<typeof parse>;
        try {
          parsed = parse(...argv);
        } catch (error) {
          assert.ok(error instanceof UsageError, `not a UsageError: ${String(error)}`);
          return;
        }
        for (const [key, value] of Object.entries(parsed.query)) {
          if (key === 'authenticated') assert.equal(typeof value, 'boolean');
          else if (/After|Before|LongerThan/.test(key))
            assert.ok(Number.isSafeInteger(value) && (value as number) >= 0, key);
          else assert.ok(typeof value === 'string' && value !== '', key);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads back every duration it can print as units', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w')), {
          minLength: 1,
          maxLength: 4,
        }),
        (parts) => {
          const units: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };
          const text = parts.map(([amount, unit]) => `${amount}${unit}`).join('');
          assert.equal(
            parseDuration('--d', text),
            parts.reduce((sum, [amount, unit]) => sum + amount * units[unit]!, 0),
          );
        },
      ),
    );
  });
});
