/**
 * Replica-acknowledged writes (`replicas`, `replicaTimeoutMs`) against private servers: a
 * standalone master with one replica, and a Cluster of 3 masters with a replica each. A replica
 * is paused with SIGSTOP to make it miss its acknowledgements, so each test can fail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import type { Store } from '../../src/core/store.js';
import { RedisLayout } from '../../src/stores/redis/layout.js';
import { redisStore } from '../../src/stores/redis.js';
import { type ClusterNodeInfo, type PrivateRedis, RedisFleet } from '../helpers/private-redis.js';
import { installed } from '../helpers/servers.js';
import { sampleMeta, uniqueGroup } from './conformance.js';

await installed('redis');

const fleet = new RedisFleet();
after(() => fleet.stopAll());

const attrs = (entries: Record<string, string>) => new Map(Object.entries(entries));
const unavailable = { code: 'UNISESSION_STORE_UNAVAILABLE' };

/** Runs `work` while `server` is paused (SIGSTOP): it keeps its connections but answers nothing. */
async function whilePaused<T>(server: PrivateRedis, work: () => Promise<T>): Promise<T> {
  server.process.kill('SIGSTOP');
  try {
    return await work();
  } finally {
    server.process.kill('SIGCONT');
  }
}

describe('redis replicas: a master and one replica', () => {
  let master: PrivateRedis;
  let replica: PrivateRedis;
  let replicaClient: Redis;
  const group = uniqueGroup('rep');
  const layout = new RedisLayout(group);
  const stores: Store[] = [];
  const open = (options: { replicas?: number; replicaTimeoutMs?: number }) => {
    const store = redisStore({ url: `redis://127.0.0.1:${master.port}`, group, ...options });
    stores.push(store);
    return store;
  };

  before(async () => {
    master = await fleet.start();
    replica = await fleet.replica(master);
    replicaClient = new Redis({ port: replica.port, host: '127.0.0.1' });
  });
  after(async () => {
    for (const store of stores) await store.close();
    replicaClient.disconnect();
  });

  it('with replicas: 1 a create resolves once the replica has the session', async () => {
    const store = open({ replicas: 1 });
    const meta = sampleMeta();
    await store.create(meta, attrs({ 'shop:cart': '"3 items"' }));
    // Read straight from the replica, no waiting: WAIT promised it is there.
    assert.equal(await replicaClient.hget(layout.session(meta.id), 'shop:cart'), '"3 items"');
    assert.notEqual(await store.update(meta.id, { set: attrs({ 'shop:cart': '"4 items"' }) }), false);
    assert.equal(await replicaClient.hget(layout.session(meta.id), 'shop:cart'), '"4 items"');
  });

  it('fails the write with UNISESSION_STORE_UNAVAILABLE when the replica does not acknowledge in time', async () => {
    const store = open({ replicas: 1, replicaTimeoutMs: 300 });
    const meta = sampleMeta();
    await store.create(meta, new Map());
    const started = Date.now();
    await whilePaused(replica, async () => {
      await assert.rejects(store.update(meta.id, { set: attrs({ 'shop:x': '1' }) }), (error: Error) => {
        assert.equal((error as { code?: string }).code, unavailable.code);
        // The message names only the store; the count is in the cause, for the logs.
        assert.doesNotMatch(error.message, /replica/);
        assert.match(String((error.cause as Error).message), /only 0 of 1 replicas/);
        return true;
      });
      await assert.rejects(store.create(sampleMeta(), new Map()), unavailable);
      await assert.rejects(store.destroy(meta.id), unavailable);
    });
    assert.ok(Date.now() - started >= 300 * 3, 'each write waited for its replicaTimeoutMs');
    // The replica is back: writes are acknowledged again, on the same connection.
    assert.equal(await store.update(meta.id, { set: attrs({ 'shop:y': '2' }) }), false, 'destroyed above');
    await store.create(sampleMeta(), new Map());
  });

  it('asks for more replicas than exist: every write fails, reads still work', async () => {
    const store = open({ replicas: 2, replicaTimeoutMs: 200 });
    const meta = sampleMeta();
    await assert.rejects(store.create(meta, attrs({ 'shop:a': '1' })), unavailable);
    // WAIT does not undo: the master took the write, as the docs say.
    assert.equal((await store.load(meta.id, 'all', Date.now()))?.attributes.get('shop:a'), '1');
  });

  it('with replicas: 0 (the default) a paused replica slows nothing', async () => {
    const store = open({});
    await whilePaused(replica, async () => {
      const meta = sampleMeta();
      await store.create(meta, new Map());
      assert.notEqual(await store.update(meta.id, { set: attrs({ 'shop:z': '1' }) }), false);
    });
  });

  it('refuses bad replicas options when the factory is called', () => {
    for (const options of [
      { replicas: -1 },
      { replicas: 1.5 },
      { replicas: '1' },
      { replicaTimeoutMs: 0 },
      { replicaTimeoutMs: 2.5 },
      { replicaTimeoutMs: '2000' },
      { replica: 1 },
    ]) {
      assert.throws(
        () => redisStore({ url: `redis://127.0.0.1:${master.port}`, ...(options as object) }),
        (error: Error) => {
          assert.equal((error as { code?: string }).code, 'UNISESSION_INVALID_OPTION');
          assert.match(error.message, /replica/);
          return true;
        },
        JSON.stringify(options),
      );
    }
  });
});

describe('redis replicas: Cluster, WAIT on the master of the session slot', () => {
  let nodes: ClusterNodeInfo[];
  let store: Store;
  let raw: Cluster;
  const group = uniqueGroup('repc');
  const layout = new RedisLayout(group);

  before(async () => {
    nodes = await fleet.cluster(3, 5000);
    const seeds = nodes.map((node) => ({ host: '127.0.0.1', port: node.server.port }));
    store = redisStore({ cluster: seeds, group, replicas: 1, replicaTimeoutMs: 300 });
    raw = new Cluster(seeds);
  });
  after(async () => {
    await store.close();
    raw.disconnect();
  });

  /** The replica of the master that serves `key`'s slot. */
  async function replicaOf(key: string): Promise<PrivateRedis> {
    const slot = Number(await raw.cluster('KEYSLOT', key));
    const shards = (await raw.cluster('SHARDS')) as Array<Array<unknown>>;
    for (const shard of shards) {
      const slots = shard[1] as number[];
      const inShard = slots.some((_, i) => i % 2 === 0 && slot >= slots[i]! && slot <= slots[i + 1]!);
      if (!inShard) continue;
      const members = shard[3] as Array<Array<unknown>>;
      for (const member of members) {
        const fields = new Map<string, unknown>();
        for (let i = 0; i < member.length; i += 2) fields.set(String(member[i]), member[i + 1]);
        if (fields.get('role') === 'replica') {
          return nodes.find((node) => node.server.port === Number(fields.get('port')))!.server;
        }
      }
    }
    throw new Error(`no replica serves slot ${slot}`);
  }

  it('resolves with the slot replica up, fails while it alone is paused', async () => {
    // Several sessions, so their slots fall on different masters: each one's own replica matters.
    for (let i = 0; i < 4; i++) {
      const meta = sampleMeta();
      await store.create(meta, attrs({ 'shop:n': String(i) }));
      const replica = await replicaOf(layout.session(meta.id));
      await whilePaused(replica, () =>
        assert.rejects(store.update(meta.id, { set: attrs({ 'shop:n': 'lost?' }) }), unavailable),
      );
      // The other masters' replicas answered all along: only this slot's replica was missing.
      const others = nodes.filter((node) => node.role === 'replica' && node.server !== replica);
      assert.equal(others.length, 2);
      // (An attribute-only update changes no index, so only the session's slot is waited on.)
      const kept = await whilePaused(others[0]!.server, () =>
        whilePaused(others[1]!.server, () => store.update(meta.id, { set: attrs({ 'shop:n': 'kept' }) })),
      );
      assert.notEqual(kept, false);
      assert.equal((await store.load(meta.id, 'all', Date.now()))?.attributes.get('shop:n'), 'kept');
    }
  });
});
