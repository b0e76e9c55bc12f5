/**
 * The late-write fence (src/stores/redis/fence.ts) against private servers, standalone and
 * Cluster. CLIENT PAUSE WRITE holds a write inside Redis past the store's commandTimeout: the
 * caller is told it failed, and when the pause ends the write must not be applied. Without the
 * fence it is, and it would overwrite whatever the user wrote next.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../src/core/store.js';
import { WriteFence } from '../../src/stores/redis/fence.js';
import { SCRIPTS } from '../../src/stores/redis/scripts.js';
import { redisStore } from '../../src/stores/redis.js';
import { type PrivateRedis, RedisFleet, redisCommand } from '../helpers/private-redis.js';
import { installed } from '../helpers/servers.js';
import { sampleMeta, uniqueGroup } from './conformance.js';

await installed('redis');

const fleet = new RedisFleet();
after(() => fleet.stopAll());

const attrs = (entries: Record<string, string>) => new Map(Object.entries(entries));
const unavailable = { code: 'UNISESSION_STORE_UNAVAILABLE' };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const COMMAND_TIMEOUT_MS = 300;
const PAUSE_MS = 1200;

/**
 * Holds every write on `servers` for PAUSE_MS; the function it returns resolves when the pause
 * is over. The scripts are loaded first: a paused EVALSHA of an unknown script would fail with
 * NOSCRIPT once resumed, and the test would pass without any fence.
 */
async function pauseWrites(servers: PrivateRedis[]): Promise<() => Promise<void>> {
  for (const server of servers) {
    for (const script of Object.values(SCRIPTS))
      await redisCommand(server.port, 'script', 'load', script.lua);
  }
  for (const server of servers) await redisCommand(server.port, 'client', 'pause', PAUSE_MS, 'WRITE');
  const over = Date.now() + PAUSE_MS;
  return () => sleep(Math.max(0, over - Date.now()) + 300);
}

/** The scenario for one deployment: `masters` are the servers whose writes get paused. */
function lateWrites(what: string, setup: () => Promise<{ store: Store; masters: PrivateRedis[] }>) {
  describe(`redis late-write fence: ${what}`, () => {
    let store: Store;
    let masters: PrivateRedis[];
    before(async () => {
      ({ store, masters } = await setup());
    });
    after(() => store.close());

    it('does not apply an update that reaches Redis after its caller was told it failed', async () => {
      const meta = sampleMeta();
      await store.create(meta, attrs({ 'shop:count': '1' }));
      const resumed = await pauseWrites(masters);
      await assert.rejects(store.update(meta.id, { set: attrs({ 'shop:count': '2' }) }), unavailable);
      await resumed();
      const loaded = await store.load(meta.id, 'all', Date.now());
      assert.equal(loaded?.attributes.get('shop:count'), '1', 'the late write was applied');
      // And the store goes on: the next write lands.
      assert.notEqual(await store.update(meta.id, { set: attrs({ 'shop:count': '3' }) }), false);
      assert.equal((await store.load(meta.id, 'all', Date.now()))?.attributes.get('shop:count'), '3');
    });

    it('does not create, destroy or rename late either', async () => {
      const kept = sampleMeta();
      await store.create(kept, attrs({ 'shop:a': 'x' }));
      const created = sampleMeta();
      const resumed = await pauseWrites(masters);
      const attempts = await Promise.allSettled([
        store.create(created, attrs({ 'shop:a': 'y' })),
        store.destroy(kept.id),
      ]);
      assert.deepEqual(
        attempts.map((attempt) => attempt.status),
        ['rejected', 'rejected'],
      );
      await resumed();
      assert.equal(await store.load(created.id, 'all', Date.now()), null, 'the late create was applied');
      assert.ok(await store.load(kept.id, 'all', Date.now()), 'the late destroy was applied');
      const resumedAgain = await pauseWrites(masters);
      const renamedTo = sampleMeta().id;
      await assert.rejects(store.rename(kept.id, renamedTo), unavailable);
      await resumedAgain();
      assert.ok(await store.load(kept.id, 'all', Date.now()), 'the late rename moved the session');
      assert.equal(await store.load(renamedTo, 'all', Date.now()), null);
    });
  });
}

lateWrites('standalone', async () => {
  const server = await fleet.start();
  const store = redisStore({
    url: `redis://127.0.0.1:${server.port}`,
    group: uniqueGroup('fence'),
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
  return { store, masters: [server] };
});

lateWrites('Cluster', async () => {
  const nodes = await fleet.cluster(3, 5000);
  const store = redisStore({
    cluster: nodes.map((node) => ({ host: '127.0.0.1', port: node.server.port })),
    group: uniqueGroup('fencec'),
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
  return { store, masters: nodes.filter((node) => node.role === 'master').map((node) => node.server) };
});

describe('redis late-write fence: clocks that disagree', () => {
  let server: PrivateRedis;
  before(async () => {
    server = await fleet.start();
  });

  for (const skewMs of [-30_000, 30_000]) {
    it(`writes as usual when this node's clock is ${skewMs > 0 ? 'ahead of' : 'behind'} Redis's by ${Math.abs(skewMs / 1000)} s`, async (t) => {
      const realNow = Date.now.bind(Date);
      t.mock.method(Date, 'now', () => realNow() + skewMs);
      const store = redisStore({ url: `redis://127.0.0.1:${server.port}`, group: uniqueGroup('skew') });
      try {
        const meta = sampleMeta();
        assert.equal(await store.create(meta, attrs({ 'shop:n': '1' })), 1);
        for (let i = 2; i <= 5; i++) {
          assert.equal(await store.update(meta.id, { set: attrs({ 'shop:n': String(i) }) }), i);
        }
        assert.equal((await store.load(meta.id, 'all', Date.now()))?.attributes.get('shop:n'), '5');
      } finally {
        await store.close();
      }
    });
  }

  it('learns the offset from a late reply, and from TIME', () => {
    const fence = new WriteFence(2000);
    assert.equal(fence.argument('p:', 1000), '3000|p:');
    // The server said 11,000 while we sent at 1,000 and got the reply at 1,010: +9,995 ms.
    fence.learn(11_000, 1000, 1010);
    assert.equal(fence.argument('', 1000), '12995|');
    fence.learn(Number.NaN, 0, 0);
    assert.equal(fence.argument('', 1000), '12995|', 'a reply without a time changes nothing');
  });
});
