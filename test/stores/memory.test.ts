import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { capability, sampleMeta } from './conformance.js';

it('the memory store does not leak: the default sweeper removes expired sessions nobody reads again', async () => {
  const store = memoryStore();
  const manager = createSessionManager({ app: 'shop', store, sweeper: { interval: 30 } });
  const expired: string[] = [];
  manager.on('destroyed', ({ meta, reason }) => reason === 'expired' && expired.push(meta.id));
  try {
    for (let i = 0; i < 1000; i++)
      await store.create(sampleMeta({ expiresAt: Date.now() + 20 }), new Map([[':a', 'x']]));
    await store.create(sampleMeta({ expiresAt: null }), new Map());
    for (let waited = 0; expired.length < 1000 && waited < 5000; waited += 20) await sleep(20);
    assert.equal(expired.length, 1000);
    assert.equal(await capability(store, 'listing').count({}), 1);
  } finally {
    await manager.close();
  }
});
