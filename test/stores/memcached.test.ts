import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemcacheClient } from 'memcache-client';
import { generateSessionId } from '../../src/core/id.js';
import { exptime, KeyLayout } from '../../src/stores/memcached/layout.js';
import { HashRing } from '../../src/stores/memcached/ring.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { server } from '../helpers/servers.js';
import { runStoreConformance, sampleMeta, uniqueGroup } from './conformance.js';

const nodes = await server('memcached');
if (nodes.length < 2) throw new Error('MEMCACHED_NODES must name two memcached servers');

runStoreConformance('memcached (2 nodes, backup)', () => memcachedStore({ nodes, group: uniqueGroup() }));
runStoreConformance('memcached (1 node, no backup)', () =>
  memcachedStore({ nodes: nodes[0]!, group: uniqueGroup() }),
);

/** Plain clients straight to each server, to see where the store put things. */
const raw = nodes.map((server) => new MemcacheClient({ server, cmdTimeout: 2000 }));
after(() => {
  for (const client of raw) client.shutdown();
});
async function has(node: number, key: string): Promise<boolean> {
  return (await raw[node]!.get(key)) !== undefined;
}

describe('memcached store: layout and distribution', () => {
  it('spreads sessions over both nodes by consistent hashing, one node per session', async () => {
    const group = uniqueGroup();
    const store = memcachedStore({ nodes, group, backup: false });
    const layout = new KeyLayout(group);
    try {
      const metas = Array.from({ length: 40 }, () => sampleMeta());
      await Promise.all(metas.map((meta) => store.create(meta, new Map([[':a', '1']]))));
      const perNode = [0, 0];
      for (const meta of metas) {
        const where = [await has(0, layout.meta(meta.id)), await has(1, layout.meta(meta.id))];
        assert.equal(where.filter(Boolean).length, 1, 'without backup, exactly one node holds a session');
        const node = where.indexOf(true);
        perNode[node]! += 1;
        // The attribute sits with its session, so a load is one round trip to one node.
        assert.ok(await has(node, layout.attribute(meta.id, ':a')));
        // ...and on the node the ring names, as any other process would compute it.
        assert.equal(new HashRing(nodes).walk(layout.sessionPart(meta.id))[0], nodes[node]);
      }
      assert.ok(Math.min(...perNode) >= 8, `sessions per node: ${perNode}`);
    } finally {
      await store.close();
    }
  });

  it('keeps a full copy on the second node when backup is on', async () => {
    const group = uniqueGroup();
    const store = memcachedStore({ nodes, group });
    const layout = new KeyLayout(group);
    try {
      const meta = sampleMeta();
      await store.create(meta, new Map([[':a', '1']]));
      await store.update(meta.id, { set: new Map([[':b', '2']]) });
      for (const node of [0, 1]) {
        assert.ok(await has(node, layout.meta(meta.id)));
        assert.equal((await raw[node]!.get<string>(layout.attribute(meta.id, ':b')))?.value, '2');
      }
      assert.ok(await store.destroy(meta.id));
      for (const node of [0, 1]) assert.equal(await has(node, layout.attribute(meta.id, ':a')), false);
    } finally {
      await store.close();
    }
  });

  it('lets concurrent metadata changes both land (gets/cas, not last-writer-wins)', async () => {
    const store = memcachedStore({ nodes, group: uniqueGroup() });
    try {
      for (let round = 0; round < 20; round++) {
        const meta = sampleMeta();
        await store.create(meta, new Map());
        const later = meta.lastAccessedAt + 1000 + round;
        // A login on one node and a touch on another, at the same moment.
        const results = await Promise.all([
          store.update(meta.id, { meta: { principal: `user${round}` } }),
          store.update(meta.id, { meta: { lastAccessedAt: later, expiresAt: later + 60_000 } }),
          store.update(meta.id, { set: new Map([[':seen', String(round)]]) }),
        ]);
        assert.ok(
          results.every((result) => result !== false),
          JSON.stringify(results),
        );
        const loaded = await store.load(meta.id, 'all', Date.now());
        assert.equal(loaded?.version, 3, 'the login and the write each moved it once, the touch not');
        assert.equal(loaded?.meta.principal, `user${round}`);
        assert.equal(loaded?.meta.lastAccessedAt, later);
        assert.equal(loaded?.meta.expiresAt, later + 60_000);
        assert.equal(loaded?.attributes.get(':seen'), String(round));
      }
    } finally {
      await store.close();
    }
  });

  it('stores any attribute key and survives any session id without breaking the protocol', async () => {
    const group = uniqueGroup();
    const store = memcachedStore({ nodes, group });
    try {
      const meta = sampleMeta();
      const keys = [':with space', ':line\r\nbreak', `shop:${'long'.repeat(100)}`, ':ünï', ':'];
      await store.create(meta, new Map(keys.map((key, i) => [key, String(i)])));
      const loaded = await store.load(meta.id, 'all', Date.now());
      assert.deepEqual(loaded?.attributes, new Map(keys.map((key, i) => [key, String(i)])));
      const hostile = 'x\r\nflush_all\r\nget y';
      assert.equal(await store.load(hostile, 'all', Date.now()), null);
      await store.create({ ...sampleMeta(), id: hostile }, new Map([[':a', '1']]));
      assert.equal((await store.load(hostile, 'all', Date.now()))?.attributes.get(':a'), '1');
      // Nothing was flushed.
      assert.equal((await store.load(meta.id, [':'], Date.now()))?.attributes.get(':'), '4');
    } finally {
      await store.close();
    }
  });

  it('lets memcached expire the items with the session', async () => {
    const group = uniqueGroup();
    const store = memcachedStore({ nodes, group, backup: false, expiryGraceSeconds: 0 });
    const layout = new KeyLayout(group);
    try {
      const meta = sampleMeta({ expiresAt: Date.now() + 800, maxInactive: 100 });
      await store.create(meta, new Map([[':a', '1']]));
      const node = nodes.indexOf(new HashRing(nodes).walk(layout.sessionPart(meta.id))[0]!);
      assert.ok(await has(node, layout.meta(meta.id)));
      await new Promise((resolve) => setTimeout(resolve, 2300));
      assert.equal(await has(node, layout.meta(meta.id)), false);
      assert.equal(await has(node, layout.attribute(meta.id, ':a')), false);
    } finally {
      await store.close();
    }
  });

  it('computes memcached exptimes: 0 for never, relative up to 30 days, absolute beyond', () => {
    const now = 1_700_000_000_000;
    assert.equal(exptime(null, now, 60), 0);
    assert.equal(exptime(now + 10_500, now, 60), 71);
    assert.equal(exptime(now - 120_000, now, 60), -1);
    const far = now + 40 * 86_400_000;
    assert.equal(exptime(far, now, 0), Math.floor(now / 1000) + 40 * 86_400);
  });

  it('uses failover nodes only when the primaries are down', async () => {
    const group = uniqueGroup();
    const layout = new KeyLayout(group);
    const normal = memcachedStore({ nodes: [nodes[0]!], failoverNodes: [nodes[1]!], group });
    const primaryDown = memcachedStore({ nodes: ['127.0.0.1:1'], failoverNodes: [nodes[1]!], group });
    try {
      const one = sampleMeta();
      await normal.create(one, new Map());
      assert.ok(await has(0, layout.meta(one.id)));
      assert.equal(await has(1, layout.meta(one.id)), false, 'no backup by default with one node');
      const two = sampleMeta();
      await primaryDown.create(two, new Map([[':a', '1']]));
      assert.ok(await has(1, layout.meta(two.id)));
      assert.equal((await primaryDown.load(two.id, 'all', Date.now()))?.attributes.get(':a'), '1');
    } finally {
      await Promise.all([normal.close(), primaryDown.close()]);
    }
  });

  it('uses clients the app already has, and leaves them open', async () => {
    const own = new MemcacheClient({ server: nodes[0]!, cmdTimeout: 2000 });
    const store = memcachedStore({ nodes: [nodes[0]!], group: uniqueGroup(), clients: { [nodes[0]!]: own } });
    try {
      const meta = sampleMeta();
      await store.create(meta, new Map([[':a', '1']]));
      assert.equal((await store.load(meta.id, 'all', Date.now()))?.attributes.get(':a'), '1');
      await store.close();
      await own.set('still-open', 'yes', { lifetime: 10 });
      assert.equal((await own.get<string>('still-open'))?.value, 'yes');
    } finally {
      own.shutdown();
    }
  });

  it('rejects bad options clearly', () => {
    for (const bad of [
      { nodes: [] },
      { nodes: 'localhost' },
      { nodes: ['127.0.0.1:99999'] },
      { nodes: ['a b:1'] },
      { nodes: [nodes[0]!], failoverNodes: [nodes[0]!] },
      { nodes, group: 'no spaces' },
    ]) {
      assert.throws(() => memcachedStore(bad), { code: 'UNISESSION_INVALID_OPTION' }, JSON.stringify(bad));
    }
  });

  it('fails fast with STORE_UNAVAILABLE when no node answers', async () => {
    const store = memcachedStore({ nodes: ['127.0.0.1:1', '127.0.0.1:2'], group: uniqueGroup() });
    try {
      const started = Date.now();
      await assert.rejects(store.load(generateSessionId(), 'all', Date.now()), {
        code: 'UNISESSION_STORE_UNAVAILABLE',
      });
      await assert.rejects(store.create(sampleMeta(), new Map()), { code: 'UNISESSION_STORE_UNAVAILABLE' });
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    } finally {
      await store.close();
    }
  });

  it('reports a value too large for memcached as VALUE_TOO_LARGE', async () => {
    const store = memcachedStore({ nodes, group: uniqueGroup() });
    try {
      const meta = sampleMeta();
      await store.create(meta, new Map());
      await assert.rejects(store.update(meta.id, { set: new Map([[':huge', 'x'.repeat(2_000_000)]]) }), {
        code: 'UNISESSION_VALUE_TOO_LARGE',
      });
      assert.equal((await store.load(meta.id, 'all', Date.now()))?.attributes.size, 0);
    } finally {
      await store.close();
    }
  });
});
