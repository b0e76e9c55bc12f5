/**
 * The conformance section for session versions (the port's "Versions", in src/core/store.ts),
 * run by `runStoreConformance` for every store. It is skipped for a store that keeps no
 * versions (its `create` resolves to nothing): such a store is simply not cached.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { generateSessionId } from '../../src/core/id.js';
import type { Store } from '../../src/core/store.js';
import { conformanceIt, sampleMeta } from './conformance.js';

const attrs = (entries: Record<string, string>) => new Map(Object.entries(entries));

/** A session of `store` with two attributes; its version, or undefined when the store keeps none. */
async function versioned(store: Store) {
  const meta = sampleMeta();
  const version = await store.create(meta, attrs({ ':user': '"ann"', 'shop:cart': '[1]' }));
  return { meta, version: typeof version === 'number' ? version : undefined };
}

export function runVersionConformance(getStore: () => Store): void {
  describe('versions', () => {
    conformanceIt('returns the version from create, and the same from load', async (t) => {
      const store = getStore();
      const { meta, version } = await versioned(store);
      if (version === undefined) return t.skip('keeps no versions');
      assert.ok(Number.isSafeInteger(version) && version >= 1, `a positive integer, got ${version}`);
      assert.equal((await store.load(meta.id, 'all', Date.now()))?.version, version);
      assert.equal((await store.load(meta.id, [':user'], Date.now()))?.version, version);
    });

    conformanceIt(
      'adds exactly 1 on every change of attributes, principal, lifetime and id; never on a touch',
      async (t) => {
        const store = getStore();
        const { meta, version } = await versioned(store);
        if (version === undefined) return t.skip('keeps no versions');
        let expected = version;
        const now = Date.now();
        const touch = { lastAccessedAt: now + 1, expiresAt: now + 60_001 };
        assert.equal(await store.update(meta.id, { meta: touch }), expected, 'a touch keeps it');
        const changes = [
          { set: attrs({ ':user': '"bob"' }) },
          { set: attrs({ 'shop:new': '1' }) },
          { remove: [':user'] },
          { meta: { principal: 'bob' } },
          { meta: { principal: null } },
          { meta: { maxInactive: 5000, ...touch } },
          { meta: touch, set: attrs({ 'shop:cart': '[2]' }), remove: ['shop:new'] },
        ];
        for (const change of changes) {
          expected += 1;
          assert.equal(await store.update(meta.id, change), expected, JSON.stringify(change));
          assert.equal((await store.load(meta.id, [], Date.now()))?.version, expected);
        }
        const newId = generateSessionId();
        assert.equal(await store.rename(meta.id, newId), expected + 1, 'a rename moves it');
        assert.equal((await store.load(newId, 'all', Date.now()))?.version, expected + 1);
        assert.equal(await store.update(meta.id, { set: attrs({ ':x': '1' }) }), false, 'gone: false');
      },
    );

    conformanceIt('answers a conditional load with the metadata only while the version holds', async (t) => {
      const store = getStore();
      const { meta, version } = await versioned(store);
      if (version === undefined) return t.skip('keeps no versions');
      const touchedAt = Date.now() + 5;
      await store.update(meta.id, { meta: { lastAccessedAt: touchedAt, expiresAt: touchedAt + 60_000 } });
      for (const keys of ['all', [':user']] as const) {
        const same = await store.load(meta.id, keys === 'all' ? 'all' : [...keys], Date.now(), version);
        assert.equal(same?.unchanged, true);
        assert.equal(same?.version, version);
        assert.equal(same?.attributes.size, 0, 'no attributes travel');
        assert.deepEqual(same?.meta, { ...meta, lastAccessedAt: touchedAt, expiresAt: touchedAt + 60_000 });
      }
      const next = await store.update(meta.id, { set: attrs({ ':user': '"cid"' }) });
      const changed = await store.load(meta.id, 'all', Date.now(), version);
      assert.ok(!changed?.unchanged, 'a stale version gets the attributes');
      assert.equal(changed?.version, next);
      assert.deepEqual(changed?.attributes, attrs({ ':user': '"cid"', 'shop:cart': '[1]' }));
      const some = await store.load(meta.id, ['shop:cart', 'shop:none'], Date.now(), version);
      assert.deepEqual(some?.attributes, attrs({ 'shop:cart': '[1]' }));
      assert.equal(await store.load(generateSessionId(), 'all', Date.now(), 1), null, 'unknown id');
      assert.equal(await store.load(meta.id, 'all', Date.now() + 3_600_000, next as number), null, 'expired');
      await store.destroy(meta.id);
      assert.equal(await store.load(meta.id, 'all', Date.now(), next as number), null, 'destroyed');
    });

    conformanceIt('gives each of many concurrent writers its own version', async (t) => {
      const store = getStore();
      const { meta, version } = await versioned(store);
      if (version === undefined) return t.skip('keeps no versions');
      const writers = 20;
      const results = await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          store.update(meta.id, { set: attrs({ [`:k${i}`]: `${i}` }) }),
        ),
      );
      const expected = Array.from({ length: writers }, (_, i) => version + 1 + i);
      assert.deepEqual(
        [...results].sort((a, b) => Number(a) - Number(b)),
        expected,
      );
      const loaded = await store.load(meta.id, 'all', Date.now(), version);
      assert.equal(loaded?.version, version + writers);
      assert.equal(loaded?.attributes.size, 2 + writers);
    });

    conformanceIt('refuses a knownVersion that is not an integer >= 0', async () => {
      const store = getStore();
      for (const bad of [-1, 1.5, '1', Number.NaN, null, { $gt: 0 }]) {
        await assert.rejects(
          store.load(generateSessionId(), 'all', Date.now(), bad as number),
          { code: 'UNISESSION_INVALID_ARGUMENT' },
          String(bad),
        );
      }
    });
  });
}
