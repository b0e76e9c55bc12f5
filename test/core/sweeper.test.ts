/**
 * The sweeper works from the store's capability groups: it sweeps with `sweeping`, takes the
 * `leases` lease first when the store has one, and does nothing for a store without `sweeping`.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SessionManager } from '../../src/core/manager.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { sampleMeta } from '../stores/conformance.js';

const managers: SessionManager[] = [];
after(() => Promise.all(managers.map((manager) => manager.close())));

/** One node: a manager whose timer is off, so that each test sweeps by hand. */
function node(store: Store): { manager: SessionManager; expired: string[] } {
  const manager = createSessionManager({ app: 'shop', store, sweeper: false, secret: 's' });
  managers.push(manager);
  const expired: string[] = [];
  manager.on('destroyed', ({ meta, reason }) => reason === 'expired' && expired.push(meta.id));
  return { manager, expired };
}

async function expire(store: Store, n: number, now: number): Promise<string[]> {
  const metas = Array.from({ length: n }, () => sampleMeta({ expiresAt: now - 1 }));
  for (const meta of metas) await store.create(meta, new Map());
  return metas.map((meta) => meta.id);
}

describe('sweeper', () => {
  it('sweeps only on the node that holds the lease', async () => {
    const store = memoryStore();
    const [a, b] = [node(store), node(store)];
    const now = Date.now();
    const first = await expire(store, 3, now);
    assert.equal(await a.manager.sweep(now), 3);
    assert.deepEqual(a.expired.sort(), first.sort());
    const second = await expire(store, 2, now);
    assert.equal(await b.manager.sweep(now + 1), 0, 'the other node holds the lease');
    assert.deepEqual(b.expired, []);
    assert.equal(await a.manager.sweep(now + 2), 2, 'the holder renews it and sweeps');
    assert.deepEqual(a.expired.slice(3).sort(), second.sort());
  });

  it('lets every node sweep a store without leases, each session expiring once', async () => {
    const store: Store = { ...memoryStore(), leases: undefined };
    const [a, b] = [node(store), node(store)];
    const now = Date.now();
    await expire(store, 2, now);
    assert.equal(await a.manager.sweep(now), 2);
    const more = await expire(store, 2, now);
    assert.equal(await b.manager.sweep(now + 1), 2);
    assert.deepEqual(b.expired.sort(), more.sort());
  });

  it('does nothing for a store that expires sessions by itself (no sweeping group)', async () => {
    const store: Store = { ...memoryStore(), sweeping: undefined };
    const { manager, expired } = node(store);
    const now = Date.now();
    const [id] = await expire(store, 1, now);
    assert.equal(await manager.sweep(now), 0);
    assert.deepEqual(expired, []);
    assert.equal(await store.load(id!, [], now), null, 'the store still never returns it');
  });
});
