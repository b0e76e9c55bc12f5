/** The manager's administration (src/core/manager.ts) over sessions that requests made. No HTTP. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { DirectClient, routes } from '../helpers/direct-client.js';

describe('manager', () => {
  it('revokes every session of a principal', async () => {
    const manager = createSessionManager({ app: 'shop', store: memoryStore(), sweeper: false });
    const phone = new DirectClient(manager);
    const laptop = new DirectClient(manager);
    await phone.call(routes.login('bob'));
    await laptop.call(routes.login('bob'));
    assert.equal((await manager.sessionsOf('bob')).length, 2);
    assert.equal(await manager.revokePrincipal('bob'), 2);
    assert.equal((await phone.call(routes.all)).user, undefined);
    assert.equal((await laptop.call(routes.all)).user, undefined);
  });
});
