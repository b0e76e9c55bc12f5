/**
 * memcached's versions beyond the shared conformance section: what travels on a conditional
 * load (the metadata item alone while the version holds), records written before versions,
 * and the version surviving the loss of a session's primary copy.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemcacheClient } from 'memcache-client';
import { KeyLayout } from '../../src/stores/memcached/layout.js';
import { HashRing } from '../../src/stores/memcached/ring.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { server } from '../helpers/servers.js';
import { sampleMeta, uniqueGroup } from './conformance.js';

const nodes = await server('memcached');
if (nodes.length < 2) throw new Error('MEMCACHED_NODES must name two memcached servers');

/** A real client that records the keys of each multi-get it sends: one entry per round trip. */
function countingClient(address: string) {
  const client = new MemcacheClient({ server: address, cmdTimeout: 2000 });
  const trips: string[][] = [];
  const gets = client.gets.bind(client);
  client.gets = ((keys: string | string[], ...rest: unknown[]) => {
    trips.push(Array.isArray(keys) ? [...keys] : [keys]);
    return (gets as (...args: unknown[]) => unknown)(keys, ...rest);
  }) as typeof client.gets;
  return { client, trips };
}

const raw = nodes.map((server) => new MemcacheClient({ server, cmdTimeout: 2000 }));
after(() => {
  for (const client of raw) client.shutdown();
});

const attrs = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('memcached store: versions', () => {
  it('answers an unchanged conditional load with one get of the metadata item, and only then the attributes', async () => {
    const group = uniqueGroup();
    const layout = new KeyLayout(group);
    const counting = countingClient(nodes[0]!);
    const store = memcachedStore({ nodes: nodes[0]!, group, clients: { [nodes[0]!]: counting.client } });
    try {
      const meta = sampleMeta();
      const version = await store.create(meta, attrs({ ':user': '"ann"', 'shop:cart': 'x'.repeat(5000) }));
      assert.equal(typeof version, 'number');
      counting.trips.length = 0;
      const same = await store.load(meta.id, 'all', Date.now(), version as number);
      assert.equal(same?.unchanged, true);
      assert.deepEqual(counting.trips, [[layout.meta(meta.id)]], 'one trip, no attribute item');

      const next = await store.update(meta.id, { set: attrs({ ':user': '"bob"' }) });
      counting.trips.length = 0;
      const changed = await store.load(meta.id, 'all', Date.now(), version as number);
      assert.equal(changed?.version, next);
      assert.deepEqual(changed?.attributes, attrs({ ':user': '"bob"', 'shop:cart': 'x'.repeat(5000) }));
      assert.equal(
        counting.trips.length,
        2,
        'a changed version costs the same two trips as a plain load of all',
      );
      assert.deepEqual(
        counting.trips[0],
        [layout.meta(meta.id)],
        'the metadata first, so the attributes are at least as new',
      );

      counting.trips.length = 0;
      await store.load(meta.id, [':user'], Date.now());
      assert.equal(counting.trips.length, 1, 'an unconditional load of named keys stays one trip');
    } finally {
      await store.close();
      counting.client.shutdown();
    }
  });

  it('reads a record from before versions as version 0; a touch then reports true, a change 1', async () => {
    const group = uniqueGroup();
    const layout = new KeyLayout(group);
    const store = memcachedStore({ nodes: nodes[0]!, group });
    try {
      const meta = sampleMeta();
      await store.create(meta, attrs({ ':a': '1' }));
      // Rewrite the metadata item as the previous release wrote it: no `ver`.
      const item = await raw[0]!.get<string>(layout.meta(meta.id));
      const { ver: _ver, ...old } = JSON.parse(item!.value) as Record<string, unknown>;
      await raw[0]!.set(layout.meta(meta.id), JSON.stringify(old), { lifetime: 600 });
      assert.equal((await store.load(meta.id, 'all', Date.now()))?.version, 0);
      const now = Date.now();
      assert.equal(
        await store.update(meta.id, { meta: { lastAccessedAt: now, expiresAt: now + 60_000 } }),
        true,
      );
      assert.equal(await store.update(meta.id, { set: attrs({ ':a': '2' }) }), 1);
      assert.equal((await store.load(meta.id, 'all', Date.now(), 0))?.attributes.get(':a'), '2');
    } finally {
      await store.close();
    }
  });

  it('keeps the version on the backup: losing the primary copy neither resets it nor serves stale attributes', async () => {
    const group = uniqueGroup();
    const layout = new KeyLayout(group);
    const store = memcachedStore({ nodes, group });
    try {
      const meta = sampleMeta();
      await store.create(meta, attrs({ ':a': '1' }));
      const v2 = await store.update(meta.id, { set: attrs({ ':a': '2' }) });
      assert.equal(v2, 2);
      const primary = nodes.indexOf(new HashRing(nodes).walk(layout.sessionPart(meta.id))[0]!);
      // The primary restarted empty: only the backup holds the session now.
      await raw[primary]!.delete(layout.meta(meta.id));
      await raw[primary]!.delete(layout.attribute(meta.id, ':a'));
      const same = await store.load(meta.id, 'all', Date.now(), 2);
      assert.equal(same?.unchanged, true, 'the backup has the same version');
      const v3 = await store.update(meta.id, { set: attrs({ ':a': '3' }) });
      assert.equal(v3, 3);
      const changed = await store.load(meta.id, 'all', Date.now(), 2);
      assert.equal(changed?.version, 3);
      assert.equal(changed?.attributes.get(':a'), '3');
    } finally {
      await store.close();
    }
  });
});
