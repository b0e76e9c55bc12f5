/**
 * The one store conformance suite. Every store runs it against a real server of its kind:
 *
 *   runStoreConformance('redis', () => redisStore({ url: process.env.REDIS_URL, group: uniqueGroup() }));
 *
 * Tests use fresh random ids, so a store may keep data between tests. Capability-dependent
 * tests are skipped when the store lacks the capability group (`if (!store.listing) skip`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it as nodeIt, type TestContext, type TestOptions } from 'node:test';
import { generateSessionId } from '../../src/core/id.js';
import type { SessionMeta, Store, StoreCapabilities } from '../../src/core/store.js';
import { runMonitorConformance } from './conformance-monitor.js';
import { runVersionConformance } from './conformance-versions.js';

export function uniqueGroup(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export function sampleMeta(overrides: Partial<SessionMeta> = {}): SessionMeta {
  const now = Date.now();
  return {
    id: generateSessionId(),
    app: 'shop',
    createdAt: now,
    lastAccessedAt: now,
    maxInactive: 60_000,
    expiresAt: now + 60_000,
    absoluteExpiresAt: null,
    principal: null,
    host: 'node-1',
    clientAddress: '127.0.0.1',
    userAgent: 'conformance',
    createdUrl: '/login',
    lastUrl: '/login',
    lastHost: 'node-1',
    ...overrides,
  };
}

/** The store's capability group, for a test that needs it: the test fails when the store lacks it. */
export function capability<G extends keyof StoreCapabilities>(store: Store, name: G): NonNullable<Store[G]> {
  const group = store[name];
  assert.ok(group, `the ${store.name} store has no ${name} group`);
  return group;
}

const attrs = (entries: Record<string, string>) => new Map(Object.entries(entries));

/**
 * `knownGaps`: conformance tests a server is known to fail, by title, with the reason. They
 * still run, as `todo`: reported, not failing the suite (FerretDB v1, see docs/stores/mongodb.md).
 */
/**
 * The known gaps of the suite being registered: node:test runs a describe's body at once, so
 * the sections in other files (monitor, versions) and below (tickets) register their tests
 * through `conformanceIt` while it is set, and a gap there is marked the same way.
 */
let activeGaps: Record<string, string> = {};
type Body = (t: TestContext) => Promise<void> | void;

/** node:test's `it`, marking a test of the store under registration `todo` when it is a known gap. */
export function conformanceIt(title: string, ...rest: [Body] | [TestOptions, Body]): void {
  const [given, fn] = rest.length === 2 ? rest : [{}, rest[0]];
  const gap = activeGaps[title];
  nodeIt(title, gap === undefined ? given : { ...given, todo: gap }, fn);
}

export function runStoreConformance(
  name: string,
  makeStore: () => Store | Promise<Store>,
  options: { knownGaps?: Record<string, string> } = {},
): void {
  describe(`store conformance: ${name}`, () => {
    const previous = activeGaps;
    activeGaps = options.knownGaps ?? {};
    // Shadows node:test's `it` for this suite only, so each test below can be marked a known gap.
    const it = conformanceIt;
    let store: Store;
    before(async () => {
      store = await makeStore();
    });
    after(async () => {
      await store?.close();
    });

    it('creates and loads a session with all or some attributes', async () => {
      const meta = sampleMeta({ principal: 'alice' });
      await store.create(meta, attrs({ ':user': '"alice"', 'shop:cart': '[1,2]', 'blog:draft': '"x"' }));
      const all = await store.load(meta.id, 'all', Date.now());
      assert.ok(all);
      assert.deepEqual(all.meta, meta);
      assert.deepEqual(
        all.attributes,
        attrs({ ':user': '"alice"', 'shop:cart': '[1,2]', 'blog:draft': '"x"' }),
      );
      const some = await store.load(meta.id, [':user', 'shop:missing'], Date.now());
      assert.deepEqual(some?.attributes, attrs({ ':user': '"alice"' }));
      const none = await store.load(meta.id, [], Date.now());
      assert.equal(none?.attributes.size, 0);
      assert.deepEqual(
        await store.loadAttributes(meta.id, ['shop:cart', 'shop:nope']),
        attrs({ 'shop:cart': '[1,2]' }),
      );
    });

    it('names its group', () => {
      assert.equal(typeof store.group, 'string');
    });

    it('returns null for an unknown id', async () => {
      assert.equal(await store.load(generateSessionId(), 'all', Date.now()), null);
      assert.equal((await store.loadAttributes(generateSessionId(), [':a'])).size, 0);
    });

    it('refuses to create an id that exists', async () => {
      const meta = sampleMeta();
      await store.create(meta, new Map());
      await assert.rejects(store.create(meta, new Map()), { code: 'UNISESSION_SESSION_EXISTS' });
    });

    it('writes attribute deltas without touching other attributes', async () => {
      const meta = sampleMeta();
      await store.create(meta, attrs({ ':a': '1', ':b': '2', ':c': '3' }));
      const applied = await store.update(meta.id, {
        set: attrs({ ':b': '20', ':d': '4' }),
        remove: [':c', ':never'],
      });
      assert.notEqual(applied, false, 'applied: true, or the new version');
      const loaded = await store.load(meta.id, 'all', Date.now());
      assert.deepEqual(loaded?.attributes, attrs({ ':a': '1', ':b': '20', ':d': '4' }));
    });

    it('patches metadata, including clearing a field to null', async () => {
      const meta = sampleMeta({ principal: 'bob' });
      await store.create(meta, new Map());
      const later = meta.lastAccessedAt + 5000;
      await store.update(meta.id, {
        meta: { lastAccessedAt: later, expiresAt: null, principal: null, maxInactive: 0 },
      });
      const loaded = await store.load(meta.id, [], Date.now());
      assert.deepEqual(loaded?.meta, {
        ...meta,
        lastAccessedAt: later,
        expiresAt: null,
        principal: null,
        maxInactive: 0,
      });
    });

    it('never resurrects a session that is gone', async () => {
      const meta = sampleMeta();
      assert.equal(
        await store.update(meta.id, { set: attrs({ ':x': '1' }), meta: { lastAccessedAt: Date.now() } }),
        false,
      );
      assert.equal(await store.update(meta.id, { set: attrs({ ':x': '1' }) }), false);
      assert.equal(await store.load(meta.id, 'all', Date.now()), null);
      assert.equal((await store.loadAttributes(meta.id, [':x'])).size, 0);
    });

    it('destroys a session and its attributes, reporting it exactly once', async () => {
      const meta = sampleMeta();
      await store.create(meta, attrs({ ':a': '1' }));
      const results = await Promise.all([
        store.destroy(meta.id),
        store.destroy(meta.id),
        store.destroy(meta.id),
      ]);
      assert.deepEqual(
        results.filter((r) => r !== null),
        [meta],
      );
      assert.equal(await store.load(meta.id, 'all', Date.now()), null);
      assert.equal((await store.loadAttributes(meta.id, [':a'])).size, 0);
    });

    it('does not load an expired session', async () => {
      const meta = sampleMeta({ expiresAt: Date.now() - 1 });
      await store.create(meta, attrs({ ':a': '1' }));
      assert.equal(await store.load(meta.id, 'all', Date.now()), null);
      const never = sampleMeta({ expiresAt: null, maxInactive: 0 });
      await store.create(never, new Map());
      assert.ok(await store.load(never.id, [], Date.now() + 10 * 365 * 86_400_000));
    });

    it('renames a session atomically, attributes included', async () => {
      const meta = sampleMeta({ principal: 'carol' });
      await store.create(meta, attrs({ ':user': '"carol"', 'shop:cart': '[]' }));
      const newId = generateSessionId();
      assert.notEqual(await store.rename(meta.id, newId), false, 'renamed: true, or the new version');
      assert.equal(await store.load(meta.id, 'all', Date.now()), null);
      assert.equal((await store.loadAttributes(meta.id, [':user'])).size, 0);
      const moved = await store.load(newId, 'all', Date.now());
      assert.deepEqual(moved?.meta, { ...meta, id: newId });
      assert.deepEqual(moved?.attributes, attrs({ ':user': '"carol"', 'shop:cart': '[]' }));
      assert.equal(await store.rename(meta.id, generateSessionId()), false);
      if (store.principals) {
        const ids = await store.principals.find('carol');
        assert.ok(ids.includes(newId));
        assert.ok(!ids.includes(meta.id));
      }
    });

    it('refuses to rename onto an id that exists, changing neither session', async () => {
      const moving = sampleMeta({ principal: 'dave' });
      const taken = sampleMeta();
      await store.create(moving, attrs({ ':user': '"dave"', 'shop:cart': '[1]' }));
      await store.create(taken, attrs({ ':user': '"erin"' }));
      await assert.rejects(store.rename(moving.id, taken.id), { code: 'UNISESSION_SESSION_EXISTS' });
      const stayed = await store.load(moving.id, 'all', Date.now());
      assert.deepEqual(stayed?.meta, moving);
      assert.deepEqual(stayed?.attributes, attrs({ ':user': '"dave"', 'shop:cart': '[1]' }));
      const untouched = await store.load(taken.id, 'all', Date.now());
      assert.deepEqual(untouched?.meta, taken);
      assert.deepEqual(untouched?.attributes, attrs({ ':user': '"erin"' }));
      if (store.principals) assert.deepEqual(await store.principals.find('dave'), [moving.id]);
    });

    it('keeps every change when writers race on different attributes of one session', async () => {
      const meta = sampleMeta();
      await store.create(meta, new Map());
      const writers = Array.from({ length: 50 }, (_, i) =>
        store.update(meta.id, {
          set: attrs({ [`:k${i}`]: String(i) }),
          meta: { lastAccessedAt: Date.now() },
        }),
      );
      assert.ok((await Promise.all(writers)).every((applied) => applied !== false));
      const loaded = await store.load(meta.id, 'all', Date.now());
      assert.equal(loaded?.attributes.size, 50);
      for (let i = 0; i < 50; i++) assert.equal(loaded?.attributes.get(`:k${i}`), String(i));
    });

    it('stores values and keys byte for byte, whatever they contain', async () => {
      const meta = sampleMeta();
      const tricky = attrs({
        ':plain': 'not json at all {',
        ':empty': '',
        ':unicode': '"日本語 🎉 \\u0000 \u2028"',
        'shop:dots.and$dollars': '"x"',
        'shop:$set': '1',
        ':a.b': '2',
        ':big': 'x'.repeat(200_000),
      });
      await store.create(meta, tricky);
      assert.deepEqual((await store.load(meta.id, 'all', Date.now()))?.attributes, tricky);
      await store.update(meta.id, { set: attrs({ 'shop:dots.and$dollars': '"y"' }), remove: ['shop:$set'] });
      const loaded = await store.loadAttributes(meta.id, ['shop:dots.and$dollars', 'shop:$set', ':a.b']);
      assert.deepEqual(loaded, attrs({ 'shop:dots.and$dollars': '"y"', ':a.b': '2' }));
    });

    it('refuses an argument of the wrong type in every method, before the backend sees it', async () => {
      const meta = sampleMeta({ principal: `p-${randomBytes(3).toString('hex')}` });
      await store.create(meta, attrs({ ':a': '1' }));
      const operator = { $ne: null } as unknown as string;
      const refused = { code: 'UNISESSION_INVALID_ARGUMENT' };
      await assert.rejects(store.load(operator, 'all', Date.now()), refused);
      await assert.rejects(store.loadAttributes(operator, [':a']), refused);
      await assert.rejects(store.create({ ...sampleMeta(), id: operator }, new Map()), refused);
      await assert.rejects(store.update(operator, { set: attrs({ ':a': '2' }) }), refused);
      await assert.rejects(store.destroy(operator), refused);
      await assert.rejects(store.rename(meta.id, operator), refused);
      if (store.listing) {
        await assert.rejects(store.listing.list({ app: operator }), refused);
        await assert.rejects(store.listing.count({ aliveAt: '1' as unknown as number }), refused);
      }
      if (store.principals) await assert.rejects(store.principals.find(operator), refused);
      if (store.sweeping) await assert.rejects(store.sweeping.sweep(Date.now(), 0), refused);
      if (store.leases) await assert.rejects(store.leases.acquire(operator, 'a', 1000, Date.now()), refused);
      assert.deepEqual((await store.load(meta.id, 'all', Date.now()))?.attributes, attrs({ ':a': '1' }));
    });

    it('refuses every call after close with UNISESSION_STORE_UNAVAILABLE', async () => {
      const closing = await makeStore();
      const meta = sampleMeta();
      await closing.create(meta, new Map());
      await closing.close();
      await closing.close();
      const unavailable = { code: 'UNISESSION_STORE_UNAVAILABLE', message: /\(closed\)/ };
      await assert.rejects(closing.load(meta.id, 'all', Date.now()), unavailable);
      await assert.rejects(closing.create(sampleMeta(), new Map()), unavailable);
      await assert.rejects(closing.destroy(meta.id), unavailable);
      if (closing.listing) await assert.rejects(closing.listing.count({}), unavailable);
    });

    it('finds and follows the sessions of a principal', { skip: false }, async (t) => {
      const { principals } = store;
      if (!principals) return t.skip('no principal index');
      const principal = `user-${randomBytes(4).toString('hex')}`;
      const one = sampleMeta({ principal });
      const two = sampleMeta({ principal });
      const other = sampleMeta();
      await Promise.all([
        store.create(one, new Map()),
        store.create(two, new Map()),
        store.create(other, new Map()),
      ]);
      assert.deepEqual((await principals.find(principal)).sort(), [one.id, two.id].sort());
      await store.update(other.id, { meta: { principal } });
      await store.update(one.id, { meta: { principal: null } });
      await store.destroy(two.id);
      assert.deepEqual(await principals.find(principal), [other.id]);
    });

    it('lists and counts sessions by app and principal, page by page', async (t) => {
      const { listing } = store;
      if (!listing) return t.skip('cannot list');
      const app = `app${randomBytes(3).toString('hex')}`;
      const metas = Array.from({ length: 7 }, (_, i) =>
        sampleMeta({ app, principal: i < 3 ? `${app}-p` : null }),
      );
      const dead = sampleMeta({ app, expiresAt: Date.now() - 1000 });
      await Promise.all([...metas, dead].map((meta) => store.create(meta, new Map())));
      const now = Date.now();
      assert.equal(await listing.count({ app, aliveAt: now }), 7);
      assert.equal(await listing.count({ app }), 8);
      assert.equal(await listing.count({ app, principal: `${app}-p`, aliveAt: now }), 3);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listing.list({ app, aliveAt: now, limit: 3, cursor });
        assert.ok(page.sessions.length <= 3);
        seen.push(...page.sessions.map((meta) => meta.id));
        cursor = page.next;
      } while (cursor);
      assert.deepEqual(seen.sort(), metas.map((meta) => meta.id).sort());
    });

    it('refuses a page size outside 1..1000 with UNISESSION_INVALID_ARGUMENT', async (t) => {
      const { listing } = store;
      if (!listing) return t.skip('cannot list');
      for (const limit of [0, -1, 1.5, 1001, Number.NaN, '5', '1) OR (1=1', null]) {
        await assert.rejects(
          listing.list({ limit: limit as number }),
          { code: 'UNISESSION_INVALID_ARGUMENT' },
          String(limit),
        );
      }
      assert.ok((await listing.list({ limit: 1000 })).sessions.length <= 1000);
    });

    it('sweeps expired sessions in batches, each reported by exactly one sweeper', async (t) => {
      const { sweeping } = store;
      if (!sweeping) return t.skip('expires by itself');
      const expired = Array.from({ length: 12 }, () => sampleMeta({ expiresAt: Date.now() - 10 }));
      const alive = sampleMeta();
      await Promise.all([...expired, alive].map((meta) => store.create(meta, attrs({ ':a': '1' }))));
      const now = Date.now();
      // Two sweepers race, as two nodes would; together they report each session once.
      const swept: SessionMeta[] = [];
      const sweeper = async () => {
        for (;;) {
          const batch = await sweeping.sweep(now, 5);
          swept.push(...batch);
          if (batch.length < 5) return;
        }
      };
      await Promise.all([sweeper(), sweeper()]);
      const ours = swept.filter((meta) => expired.some((e) => e.id === meta.id));
      assert.equal(ours.length, 12);
      assert.equal(new Set(ours.map((meta) => meta.id)).size, 12);
      assert.ok(await store.load(alive.id, [], now));
      for (const meta of expired) assert.equal((await store.loadAttributes(meta.id, [':a'])).size, 0);
    });

    it('grants a lease to one holder at a time until it lapses', async (t) => {
      const { leases } = store;
      if (!leases) return t.skip('no leases');
      const lease = `lease-${randomBytes(4).toString('hex')}`;
      const now = Date.now();
      assert.equal(await leases.acquire(lease, 'a', 1000, now), true);
      assert.equal(await leases.acquire(lease, 'b', 1000, now + 10), false);
      assert.equal(await leases.acquire(lease, 'a', 1000, now + 500), true, 'the holder renews');
      assert.equal(await leases.acquire(lease, 'b', 1000, now + 1400), false, 'renewal moved the end');
      assert.equal(await leases.acquire(lease, 'b', 1000, now + 1600), true, 'lapsed: another takes it');
      const racers = await Promise.all(
        ['x', 'y', 'z'].map((h) => leases.acquire(`${lease}-race`, h, 1000, now)),
      );
      assert.equal(racers.filter(Boolean).length, 1);
    });

    runMonitorConformance(() => store);
    runTicketConformance(() => store);
    runVersionConformance(() => store);
    activeGaps = previous;
  });
}

// ---- tickets: put a value with a TTL; take it at most once --------------------------------

function runTicketConformance(current: () => Store): void {
  const key = () => `ticket-${randomBytes(16).toString('base64url')}`;

  conformanceIt('tickets: a put value is taken once, then never again', async (t) => {
    if (!current().tickets) return t.skip('no tickets group');
    const tickets = capability(current(), 'tickets');
    const k = key();
    const now = Date.now();
    await tickets.put(k, '{"client":"partner","session":"s1"}', 60_000, now);
    assert.equal(await tickets.take(k, now + 1), '{"client":"partner","session":"s1"}');
    assert.equal(await tickets.take(k, now + 2), null, 'replayed');
    assert.equal(await tickets.take(key(), now), null, 'never put');
    await tickets.put(k, 'again', 60_000, now);
    await tickets.put(k, 'replaced', 60_000, now);
    assert.equal(await tickets.take(k, now), 'replaced', 'a put replaces the value');
  });

  conformanceIt('tickets: of concurrent takes of one key exactly one wins', async (t) => {
    if (!current().tickets) return t.skip('no tickets group');
    const tickets = capability(current(), 'tickets');
    const now = Date.now();
    for (let round = 0; round < 5; round++) {
      const k = key();
      await tickets.put(k, `value-${round}`, 60_000, now);
      const takes = await Promise.all(Array.from({ length: 8 }, () => tickets.take(k, now)));
      assert.deepEqual(
        takes.filter((value) => value !== null),
        [`value-${round}`],
      );
    }
  });

  conformanceIt(
    "tickets: expire by the caller's clock, and an expired take still removes the value",
    async (t) => {
      if (!current().tickets) return t.skip('no tickets group');
      const tickets = capability(current(), 'tickets');
      const now = Date.now();
      const k = key();
      await tickets.put(k, 'short', 30_000, now);
      assert.equal(await tickets.take(k, now + 30_000), null, 'at its end it is expired');
      assert.equal(await tickets.take(k, now), null, 'the expired take removed it');
      // Natively expired too: a real 1.2 s TTL, read with the real clock afterwards.
      const native = key();
      await tickets.put(native, 'soon', 1200, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 2300));
      assert.equal(await tickets.take(native, Date.now()), null);
      // Values are opaque text, kept as they are.
      const odd = key();
      const text = 'a|b\n"c" \u00e9\u{1f600} 100%';
      await tickets.put(odd, text, 60_000, Date.now());
      assert.equal(await tickets.take(odd, Date.now()), text);
    },
  );

  conformanceIt('tickets: refuse arguments of the wrong type with UNISESSION_INVALID_ARGUMENT', async (t) => {
    if (!current().tickets) return t.skip('no tickets group');
    const tickets = capability(current(), 'tickets');
    const refused = { code: 'UNISESSION_INVALID_ARGUMENT' };
    const now = Date.now();
    const bad: Array<[string, unknown[]]> = [
      ['object key', [{ $ne: null }, 'v', 1000, now]],
      ['empty key', ['', 'v', 1000, now]],
      ['key with a space', ['a b', 'v', 1000, now]],
      ['number value', [key(), 5, 1000, now]],
      ['zero ttl', [key(), 'v', 0, now]],
      ['NaN ttl', [key(), 'v', Number.NaN, now]],
      ['string now', [key(), 'v', 1000, String(now)]],
    ];
    for (const [label, args] of bad) {
      await assert.rejects((tickets.put as (...a: unknown[]) => Promise<void>)(...args), refused, label);
    }
    await assert.rejects(tickets.take({ $gt: '' } as unknown as string, now), refused);
    await assert.rejects(tickets.take(key(), '1' as unknown as number), refused);
  });
}
