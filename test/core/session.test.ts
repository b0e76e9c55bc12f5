/**
 * The request-scoped Session (src/core/session.ts), driven as an adapter drives it but with
 * no HTTP: `manager.open(requestInfo)`, the handler's calls, `commit()`, then the store and
 * `responseHeaders()` are read. Lazy loading, deltas, round trips, in-place mutation,
 * regenerate, bad names and values, undecodable values, expiry and store failures.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionEvents } from '../../src/core/events.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { SessionOptions } from '../../src/core/options.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { countingStore } from '../helpers/counting-store.js';
import { DirectClient, recordEvents, routes } from '../helpers/direct-client.js';

/** The manager of the app these tests stand for: app 'shop', static files ignored. */
function shop(options: Partial<SessionOptions> & { store: Store }): SessionManager {
  return createSessionManager({ app: 'shop', ignore: /^\/static\//, sweeper: false, ...options });
}

const staticFile = (session: { isIgnored: boolean; id: string | undefined }) => ({
  ignored: session.isIgnored,
  id: session.id ?? null,
});

describe('session: loading and writing', () => {
  const store = countingStore(memoryStore());
  const manager = shop({ store });

  it('costs 0 round trips without a session, 1 to create, 1 to read, 2 to write', async () => {
    const client = new DirectClient(manager);
    store.reset();
    await client.call(routes.read);
    assert.deepEqual(store.calls, [], 'no cookie: nothing to load');
    await client.call(routes.inc);
    assert.deepEqual(store.calls, ['create']);
    store.reset();
    assert.equal((await client.call(routes.read)).n, 1);
    assert.deepEqual(store.calls, ['load']);
    store.reset();
    assert.equal((await client.call(routes.inc)).n, 2);
    assert.deepEqual(store.calls, ['load', 'update']);
    store.reset();
    await client.call(routes.noop);
    await client.call(staticFile, { url: '/static/app.css' });
    assert.deepEqual(store.calls, [], 'an untouched session and an ignored URL cost nothing');
  });

  it('writes nothing when a value is set to what it already was', async () => {
    const client = new DirectClient(manager);
    await client.call(routes.set('a', '1'));
    store.reset();
    await client.call(routes.set('a', '1'));
    assert.deepEqual(store.calls, ['load']);
  });

  it('saves in-place mutation of an object that was read', async () => {
    const client = new DirectClient(manager);
    await client.call(routes.cart);
    await client.call(routes.cart);
    assert.deepEqual((await client.call(routes.cart)).cart, [1, 2, 3]);
    assert.deepEqual((await client.call(routes.all)).cart, [1, 2, 3]);
  });

  it('keeps all 200 attributes written by 200 concurrent requests on one session', async () => {
    const client = new DirectClient(manager);
    await client.call(routes.inc);
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.request(routes.set(`k${i}`, String(i)))),
    );
    assert.ok(replies.every((reply) => reply.error === undefined));
    const all = await client.call(routes.all);
    for (let i = 0; i < 200; i++) assert.equal(all[`k${i}`], String(i));
    assert.equal(all.n, 1);
  });

  it('rejects bad attribute names and oversized values with a clear error, keeping the session', async () => {
    const client = new DirectClient(manager);
    await client.call(routes.inc);
    await assert.rejects(client.call(routes.set('', 'x')), { status: 400, code: 'UNISESSION_INVALID_NAME' });
    await client.call(routes.set('big', 'x'.repeat(10_000))); // under the default limit
    const limited = new DirectClient(shop({ store, maxValueBytes: 1000 }));
    limited.cookie = client.cookie;
    await assert.rejects(limited.call(routes.set('big2', 'x'.repeat(2000))), {
      status: 413,
      code: 'UNISESSION_VALUE_TOO_LARGE',
    });
    assert.equal((await client.call(routes.read)).n, 1, 'nothing was lost');
  });

  it('drops a stored value that no longer decodes, with an event, and serves the rest', async () => {
    const client = new DirectClient(manager);
    await client.call(routes.inc);
    await store.update(client.sessionId!, {
      set: new Map([
        ['shop:gone', '{"$t":"@RemovedClass","v":{}}'],
        ['shop:garbage', '{not json'],
      ]),
    });
    const events = recordEvents(manager);
    assert.deepEqual(await client.call(routes.all), { n: 1 });
    assert.deepEqual(events.map(([name, event]) => [name, (event as { name: string }).name]).sort(), [
      ['decodeError', 'garbage'],
      ['decodeError', 'gone'],
    ]);
    await client.call(routes.set('gone', 'new'));
    assert.equal((await client.call(routes.all)).gone, 'new', 'a fresh value replaces the undecodable one');
  });

  it('regenerate() keeps the attributes under a new id; the old id loads nothing', async () => {
    const client = new DirectClient(manager);
    await client.call(routes.inc);
    const oldCookie = client.cookie;
    const oldId = client.sessionId!;
    const { id } = await client.call(routes.login('alice'));
    assert.notEqual(id, oldId);
    assert.equal(client.sessionId, id);
    assert.deepEqual(await client.call(routes.all), { n: 1, user: 'alice' });
    assert.equal(await store.load(oldId, 'all', Date.now()), null);
    const attacker = new DirectClient(manager);
    attacker.cookie = oldCookie;
    assert.equal((await attacker.call(routes.read)).n, null, 'the fixated id is worthless');
    assert.deepEqual(
      (await manager.sessionsOf('alice')).map((meta) => meta.id),
      [id],
    );
  });
});

describe('session: lifetimes', () => {
  it('expires idle sessions, and the sweeper reports each once', async () => {
    const manager = shop({ store: memoryStore(), maxInactive: 1000, touchInterval: 20 });
    const events = recordEvents(manager);
    const client = new DirectClient(manager);
    await client.call(routes.inc);
    await sleep(500);
    assert.equal((await client.call(routes.inc)).n, 2, 'activity slides the expiry');
    await sleep(500);
    assert.equal((await client.call(routes.read)).n, 2, 'still alive: the last access was recorded');
    const id = client.sessionId;
    await sleep(1100);
    assert.equal((await client.call(routes.read)).n, null, 'idle past maxInactive: gone');
    assert.equal(await manager.sweep(), 1);
    assert.equal(await manager.sweep(), 0);
    const destroyed = events
      .filter(([name]) => name === 'destroyed')
      .map(([, e]) => e as SessionEvents['destroyed']);
    assert.deepEqual(
      destroyed.map((e) => [e.meta.id, e.reason]),
      [[id, 'expired']],
    );
  });

  it('ends a session at its absolute timeout whatever the activity', async () => {
    const manager = shop({
      store: memoryStore(),
      maxInactive: 60_000,
      absoluteTimeout: 250,
      touchInterval: 0,
    });
    const client = new DirectClient(manager);
    await client.call(routes.inc);
    for (let i = 0; i < 3; i++) {
      await sleep(60);
      await client.call(routes.inc);
    }
    await sleep(100);
    assert.equal((await client.call(routes.read)).n, null);
  });

  it('throttles touches: read-only requests write only once per touchInterval', async () => {
    const store = countingStore(memoryStore());
    const client = new DirectClient(shop({ store, touchInterval: 1000 }));
    await client.call(routes.inc);
    store.reset();
    for (let i = 0; i < 5; i++) await client.call(routes.read);
    assert.deepEqual(store.calls, Array(5).fill('load'));
    await sleep(1050);
    store.reset();
    await client.call(routes.read);
    assert.deepEqual(store.calls, ['load', 'update']);
  });
});

describe('session: a store that fails', () => {
  it('throws 503 UNISESSION_STORE_UNAVAILABLE when the store is down, or carries on if told to', async () => {
    const working = memoryStore();
    let down = false;
    const flaky = new Proxy(working, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || property === 'close') return value;
        return (...args: unknown[]) =>
          down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) : value.apply(target, args);
      },
    });
    const failing = shop({ store: flaky });
    const lenient = shop({ store: flaky, onStoreError: 'continue' });
    const client = new DirectClient(failing);
    await client.call(routes.inc);
    down = true;
    // The driver's text stays on the error's cause: the message names only the store.
    await assert.rejects(client.call(routes.inc), {
      status: 503,
      code: 'UNISESSION_STORE_UNAVAILABLE',
      message: /unavailable: memory$/,
    });
    const newcomer = new DirectClient(failing);
    await assert.rejects(
      newcomer.call(routes.inc),
      { status: 503 },
      'a write that cannot be saved is not acknowledged',
    );
    const carryOn = Object.assign(new DirectClient(lenient), { cookie: client.cookie });
    assert.deepEqual(await carryOn.call(routes.inc), { n: 1 }, 'continue: an empty, unsaved session');
    down = false;
    assert.deepEqual(await client.call(routes.inc), { n: 2 }, 'recovered; nothing corrupted');
  });
});
