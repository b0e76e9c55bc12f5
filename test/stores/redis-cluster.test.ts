/**
 * The Redis store against the real 3-master Redis Cluster in REDIS_CLUSTER_NODES: the shared
 * conformance suite, then sessions whose keys land on every master, checked on the owning
 * node itself, including renames across masters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { generateSessionId } from '../../src/core/id.js';
import type { Store } from '../../src/core/store.js';
import { RedisLayout } from '../../src/stores/redis/layout.js';
import { redisStore } from '../../src/stores/redis.js';
import { server } from '../helpers/servers.js';
import { capability, runStoreConformance, sampleMeta, uniqueGroup } from './conformance.js';

const nodes = await server('redis-cluster');

runStoreConformance('redis cluster', () => redisStore({ cluster: nodes, group: uniqueGroup() }));

const attrs = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('redis cluster: sessions on every master', () => {
  const group = uniqueGroup('c');
  const layout = new RedisLayout(group);
  let store: Store;
  /** Plain (non-cluster) connections to each master, by port: they answer only for their own slots. */
  const direct = new Map<number, Redis>();
  let admin: Redis;
  let slots: Array<[start: number, end: number, port: number]> = [];

  const ownerOf = async (key: string): Promise<number> => {
    const slot = await admin.cluster('KEYSLOT', key);
    return slots.find(([start, end]) => slot >= start && slot <= end)![2];
  };

  /** The plain connection to the master that owns `key`. */
  const nodeFor = async (key: string): Promise<Redis> => direct.get(await ownerOf(key))!;

  /** A fresh id whose session key the master on `port` owns (or, with `not`, any other master). */
  const idOn = async (port: number, not = false): Promise<string> => {
    for (let i = 0; i < 500; i++) {
      const id = generateSessionId();
      if (((await ownerOf(layout.session(id))) === port) !== not) return id;
    }
    throw new Error(`no id found for ${port}`);
  };

  before(async () => {
    const [host, port] = nodes[0]!.split(':');
    admin = new Redis({ host, port: Number(port) });
    const reply = await admin.cluster('SLOTS');
    slots = reply.map(([start, end, master]) => [start, end, Number(master![1])]);
    for (const port of new Set(slots.map(([, , p]) => p))) direct.set(port, new Redis({ host, port }));
    store = redisStore({ cluster: nodes, group });
  });
  after(async () => {
    await store.close();
    admin.disconnect();
    for (const client of direct.values()) client.disconnect();
  });

  it('has three masters sharing all 16384 slots', () => {
    assert.equal(direct.size, 3);
    assert.equal(
      slots.reduce((n, [start, end]) => n + end - start + 1, 0),
      16384,
    );
  });

  it('keeps all index keys of a group in one slot', async () => {
    const keys = [layout.apps, layout.expiry('shop'), layout.ids('blog'), layout.principal('{x}:y')];
    const keySlots = await Promise.all(keys.map((key) => admin.cluster('KEYSLOT', key)));
    assert.equal(new Set(keySlots).size, 1, `slots ${keySlots}`);
  });

  it('loads, updates, renames and destroys sessions on each master', async () => {
    for (const port of direct.keys()) {
      const id = await idOn(port);
      const key = layout.session(id);
      const meta = sampleMeta({ id, principal: `user-${port}` });
      await store.create(meta, attrs({ ':user': `"${port}"`, 'shop:cart': '[]' }));
      assert.equal(await direct.get(port)!.exists(key), 1, `the hash lives on master ${port}`);

      const loaded = await store.load(id, 'all', Date.now());
      assert.deepEqual(loaded?.meta, meta);
      const touchedAt = Date.now();
      const touch = { lastAccessedAt: touchedAt, expiresAt: touchedAt + 90_000 };
      assert.equal(
        await store.update(id, { meta: touch, set: attrs({ 'shop:cart': '[1]' }) }),
        2,
        'version 2',
      );
      assert.deepEqual(
        (await store.load(id, ['shop:cart'], Date.now()))?.attributes,
        attrs({ 'shop:cart': '[1]' }),
      );
      assert.equal(
        await (await nodeFor(layout.expiry('shop'))).zscore(layout.expiry('shop'), id),
        String(touchedAt + 90_000),
        'index follows',
      );

      // Rename to an id owned by another master: the old id loads nothing, the new one everything.
      const newId = await idOn(port, true);
      assert.notEqual(await ownerOf(layout.session(newId)), port);
      assert.equal(await store.rename(id, newId), 3, 'the version moves with the hash, on by one');
      assert.equal(await store.load(id, 'all', Date.now()), null);
      assert.equal(await direct.get(port)!.exists(key), 0);
      const moved = await store.load(newId, 'all', Date.now());
      assert.deepEqual(moved?.meta, { ...meta, ...touch, id: newId });
      assert.deepEqual(moved?.attributes, attrs({ ':user': `"${port}"`, 'shop:cart': '[1]' }));
      assert.ok((await (await nodeFor(layout.session(newId))).pttl(layout.session(newId))) > 0);
      assert.deepEqual(await capability(store, 'principals').find(`user-${port}`), [newId]);

      assert.deepEqual(await store.destroy(newId), { ...meta, ...touch, id: newId });
      assert.equal(await store.destroy(newId), null);
      assert.deepEqual(await capability(store, 'principals').find(`user-${port}`), []);
      assert.equal(await (await nodeFor(layout.ids('shop'))).zscore(layout.ids('shop'), newId), null);
    }
  });

  it('refuses to rename onto an existing id across masters and keeps the original', async () => {
    const [first] = direct.keys();
    const a = sampleMeta({ id: await idOn(first!) });
    const b = sampleMeta({ id: await idOn(first!, true) });
    await store.create(a, attrs({ ':a': '1' }));
    await store.create(b, attrs({ ':b': '2' }));
    await assert.rejects(store.rename(a.id, b.id), { code: 'UNISESSION_SESSION_EXISTS' });
    assert.deepEqual((await store.load(a.id, 'all', Date.now()))?.attributes, attrs({ ':a': '1' }));
    assert.deepEqual((await store.load(b.id, 'all', Date.now()))?.attributes, attrs({ ':b': '2' }));
  });
});
