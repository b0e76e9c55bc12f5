/** Listener events (src/core/events.ts), as a session's commits fire them. No HTTP. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionEvents } from '../../src/core/events.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { DirectClient, recordEvents, routes } from '../helpers/direct-client.js';

describe('events', () => {
  it('fires each listener event exactly once', async () => {
    const manager = createSessionManager({ app: 'shop', store: memoryStore(), sweeper: false });
    const events = recordEvents(manager);
    const client = new DirectClient(manager);
    await client.call(routes.set('a', '1'));
    await client.call(routes.set('a', '2'));
    await client.call(routes.set('b', 'x'));
    await client.call(routes.remove('a'));
    await client.call(routes.remove('a'));
    await client.call(routes.logout);
    await client.call(routes.logout);
    const id = events.find(([name]) => name === 'created')?.[1] as SessionEvents['created'];
    const summary = events.map(([name, event]) => {
      const e = event as { name?: string; value?: unknown; oldValue?: unknown; reason?: string };
      return [name, e.name ?? e.reason ?? '', e.value ?? null, e.oldValue ?? null];
    });
    assert.deepEqual(summary, [
      ['created', '', null, null],
      ['attributeAdded', 'a', '1', null],
      ['attributeReplaced', 'a', '2', '1'],
      ['attributeAdded', 'b', 'x', null],
      ['attributeRemoved', 'a', null, '2'],
      ['destroyed', 'invalidated', null, null],
    ]);
    assert.equal((events.at(-1)![1] as SessionEvents['destroyed']).meta.id, id.meta.id);
    assert.equal(client.cookie, '', 'logout clears the cookie');
  });
});
