/**
 * Issue 12: ids from the app's own generator (`generateId`, Express's `genid`) are checked on
 * every call, and a lifetime set on a new session gives it its expiry in the store.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { customIdProblem } from '../../src/core/id.js';
import type { SessionManager } from '../../src/core/manager.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { DirectClient } from '../helpers/direct-client.js';

const shop = (generateId?: () => string): SessionManager =>
  createSessionManager({ app: 'shop', store: memoryStore(), sweeper: false, secret: 's', generateId });

describe('generateId: the ids an app makes', () => {
  it('accepts UUIDs and random base64url, and the client is served by them', async () => {
    assert.equal(customIdProblem(randomUUID(), undefined), undefined);
    assert.equal(customIdProblem(randomBytes(16).toString('base64url'), undefined), undefined);
    const ids: string[] = [];
    const manager = shop(() => {
      const id = randomUUID();
      ids.push(id);
      return id;
    });
    const client = new DirectClient(manager);
    await client.request((session) => session.set('n', 1));
    assert.equal(ids.length, 1);
    assert.match(client.cookie, new RegExp(`^unisession=${ids[0]}\\.`));
    const again = await client.request((session) => session.get('n'));
    assert.equal(again.result, 1, 'the UUID cookie is read back');
    await manager.close();
  });

  it('refuses short, foreign-alphabet, low-entropy, patterned and repeated ids', () => {
    const cases: Array<[unknown, RegExp]> = [
      [42, /a string/],
      ['abc', /22 to 128 characters/],
      [`${'a'.repeat(30)}.b`, /22 to 128 characters/],
      ['a'.repeat(129), /22 to 128 characters/],
      ['aaaaaaaaaabbbbbbbbbbcccccc', /distinct characters/],
      ['abcdefghabcdefghabcdefghabcdefgh', /repeats a short pattern/],
    ];
    for (const [id, expected] of cases)
      assert.match(customIdProblem(id, undefined) ?? '', expected, String(id));
    const id = randomUUID();
    assert.match(customIdProblem(id, id) ?? '', /repeats the previous id/);
  });

  it('fails the request with UNISESSION_INVALID_OPTION, naming generateId, and stores nothing', async () => {
    const store = memoryStore();
    const manager = createSessionManager({ app: 'shop', store, sweeper: false, generateId: () => 'user-1' });
    const reply = await new DirectClient(manager).request((session) => session.set('n', 1));
    assert.equal((reply.error as { code?: string }).code, 'UNISESSION_INVALID_OPTION');
    assert.match(
      String((reply.error as Error).message),
      /option "generateId" must be a function returning 22 to 128/,
    );
    assert.equal(reply.headers.getSetCookie().length, 0);
    await manager.close();
  });

  it('refuses a generateId that is not a function at creation', () => {
    assert.throws(
      () => createSessionManager({ app: 'shop', store: memoryStore(), generateId: 'uuid' as never }),
      /option "generateId" must be a function/,
    );
  });
});

describe('setMaxInactive on a new session', () => {
  it('stores the new lifetime and its expiry, not the default ones', async () => {
    const store = memoryStore();
    const manager = createSessionManager({ app: 'shop', store, sweeper: false, maxInactive: 60_000 });
    const client = new DirectClient(manager);
    const week = 7 * 86_400_000;
    const before = Date.now();
    await client.request(async (session) => {
      await session.set('user', 'ada');
      await session.setMaxInactive(week);
    });
    const id = client.cookie.split('=')[1]!;
    const loaded = await store.load(id, [], Date.now());
    assert.equal(loaded?.meta.maxInactive, week);
    assert.ok(loaded!.meta.expiresAt! >= before + week, 'expiresAt follows the new lifetime');
    await manager.close();
  });
});
