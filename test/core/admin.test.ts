/**
 * The manager's administration API for the monitoring centre (src/core/admin.ts), over the
 * memory store and through real sessions (no HTTP): queries with relative filters, stats with
 * health and the sweeper, inspect, the actions and their reasons, and the events the metrics
 * count. Store-side correctness of each filter and aggregate is the conformance suite's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_AGE_BOUNDS, DEFAULT_IDLE_BOUNDS } from '../../src/core/admin-types.js';
import type { SessionEvents } from '../../src/core/events.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { SessionOptions } from '../../src/core/options.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager, definePlugin, jsonCodec } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { countingStore } from '../helpers/counting-store.js';
import { DirectClient, routes } from '../helpers/direct-client.js';

function shop(options: Partial<SessionOptions> & { store?: Store } = {}): SessionManager {
  return createSessionManager({ app: 'shop', sweeper: false, store: memoryStore(), ...options });
}

function listen<E extends keyof SessionEvents>(manager: SessionManager, name: E): Array<SessionEvents[E]> {
  const seen: Array<SessionEvents[E]> = [];
  manager.on(name, (event) => seen.push(event));
  return seen;
}

const login = (user: string) => routes.login(user);
const invalid = { code: 'UNISESSION_INVALID_ARGUMENT' };

describe('manager admin: queries and statistics', () => {
  it('lists and counts with relative filters turned absolute, live sessions only', async () => {
    const manager = shop();
    const clients = [new DirectClient(manager), new DirectClient(manager), new DirectClient(manager)];
    await clients[0]!.call(login('ann'), { remoteAddress: '10.0.0.5' });
    await clients[1]!.call(login('bob'), { remoteAddress: '192.168.1.9' });
    await sleep(60);
    await clients[2]!.call(login('ann'), { remoteAddress: '10.0.0.6' });
    assert.equal(await manager.count(), 3);
    assert.equal(await manager.count({ principal: 'ann' }), 2);
    assert.equal(await manager.count({ clientAddress: '10.0.0.0/8' }), 2);
    assert.equal(await manager.count({ idleLongerThan: 40 }), 2, 'the two older logins');
    assert.equal(await manager.count({ idleLongerThan: 10_000 }), 0);
    assert.equal(await manager.count({ expiringWithin: 31 * 60_000 }), 3);
    assert.equal(await manager.count({ expiringWithin: 1000 }), 0);
    const page = await manager.list({ principal: 'ann', sort: 'lastAccessedAt', limit: 1 });
    assert.equal(page.sessions[0]?.id, clients[2]!.sessionId, 'most recent first');
    const next = await manager.list({
      principal: 'ann',
      sort: 'lastAccessedAt',
      limit: 1,
      cursor: page.next,
    });
    assert.equal(next.sessions[0]?.id, clients[0]!.sessionId);
    assert.equal(next.next, undefined);
  });

  it('refuses bad query keys and values with UNISESSION_INVALID_ARGUMENT', async () => {
    const manager = shop();
    for (const query of [
      { idleLongerThan: -1 },
      { idleLongerThan: '5' },
      { expiringWithin: Number.POSITIVE_INFINITY },
      { principle: 'ann' },
      { sort: 'random' },
      { clientAddress: '10.0.0.0/40' },
      { authenticated: 1 },
    ]) {
      await assert.rejects(manager.list(query as never), invalid, JSON.stringify(query));
    }
    await assert.rejects(manager.count({ limit: 5 } as never), invalid, 'count takes no paging');
    await assert.rejects(manager.stats({ onlineWindowMs: -5 }), invalid);
    await assert.rejects(manager.stats({ idleBounds: [5, 1] }), invalid);
    await assert.rejects(manager.stats({ app: 7 } as never), invalid);
  });

  it('computes statistics with the documented default buckets, store health and the sweeper', async () => {
    const manager = shop({ sweeper: { interval: 60_000 } });
    const other = createSessionManager({ app: 'blog', store: manager.store, sweeper: false });
    await new DirectClient(manager).call(login('ann'));
    await new DirectClient(manager).call(login('ann'));
    await new DirectClient(manager).call(routes.inc);
    await new DirectClient(other).call(login('cy'));
    const all = await manager.stats();
    assert.equal(all.app, null);
    assert.equal(all.live, 4);
    assert.equal(all.authenticated, 3);
    assert.equal(all.usersOnline, 2);
    assert.equal(all.createdLastHour, 4);
    assert.deepEqual(
      all.idle.map((bucket) => bucket.le),
      [...DEFAULT_IDLE_BOUNDS, null],
    );
    assert.deepEqual(
      all.age.map((bucket) => bucket.le),
      [...DEFAULT_AGE_BOUNDS, null],
    );
    assert.equal(all.idle[0]?.count, 4);
    assert.deepEqual(all.store, { name: 'memory', healthy: true, latencyMs: all.store.latencyMs });
    assert.equal(typeof all.store.latencyMs, 'number');
    assert.equal(all.sweeper.lastRun, null, 'no sweep has run yet');
    assert.equal(all.sweeper.lagMs, 0);
    assert.equal(all.sweeper.enabled, true);
    const shopOnly = await manager.stats({ app: 'shop', onlineWindowMs: 1 });
    assert.equal(shopOnly.app, 'shop');
    assert.equal(shopOnly.live, 3);
    await sleep(5);
    assert.equal(
      (await manager.stats({ app: 'shop', onlineWindowMs: 1 })).usersOnline,
      0,
      'outside the window',
    );
    await manager.close();
  });

  it('reports a sweep noted in the store to any process, and the lag of expired sessions waiting', async () => {
    const store = memoryStore();
    const manager = shop({ store, maxInactive: 30 });
    const monitor = createSessionManager({ app: 'monitor', store, sweeper: false });
    await new DirectClient(manager).call(routes.inc);
    await sleep(80);
    const waiting = await monitor.stats();
    assert.equal(waiting.expiredPending, 1);
    assert.ok((waiting.sweeper.lagMs ?? 0) >= 40, `lag ${waiting.sweeper.lagMs}`);
    assert.equal(await manager.sweep(), 1);
    const status = await monitor.sweeperStatus();
    assert.equal(status.lastRun?.removed, 1);
    assert.match(status.lastRun?.holder ?? '', /\/\d+\//, 'host/pid/uuid of the node that swept');
    assert.equal(status.lagMs, 0);
    assert.equal(status.enabled, false, "the monitor's own timer is off");
  });

  it('says UNISESSION_UNSUPPORTED for what a store without the groups cannot do, and still looks up by id', async () => {
    // A store shaped as memcached is: no listing, principals, stats or audit.
    const {
      listing: _l,
      principals: _p,
      stats: _s,
      audit: _a,
      sweeping: _w,
      leases: _e,
      ...bare
    } = memoryStore();
    const manager = shop({ store: bare });
    const client = new DirectClient(manager);
    await client.call(routes.set('cart', [1]));
    const unsupported = { code: 'UNISESSION_UNSUPPORTED' };
    await assert.rejects(manager.stats(), unsupported);
    await assert.rejects(manager.list(), unsupported);
    await assert.rejects(manager.count(), unsupported);
    await assert.rejects(manager.destroyWhere({ idleLongerThan: 1 }), unsupported);
    await assert.rejects(manager.revokePrincipal('ann'), unsupported);
    const status = await manager.sweeperStatus();
    assert.deepEqual([status.lastRun, status.lagMs], [null, null], 'no stats group: nothing to tell');
    assert.equal((await manager.inspect(client.sessionId!))?.attributes[0]?.value?.toString(), '1');
    assert.equal(await manager.removeAttribute(client.sessionId!, 'shop', 'cart'), true);
    assert.equal(await manager.destroy(client.sessionId!), true);
  });

  it('pings the store: healthy with a latency, or unhealthy with none once it fails', async () => {
    const manager = shop();
    const health = await manager.ping();
    assert.equal(health.healthy, true);
    assert.ok(typeof health.latencyMs === 'number' && health.latencyMs >= 0);
    await manager.store.close();
    assert.deepEqual(await manager.ping(), { healthy: false, latencyMs: null });
  });
});

class Money {
  constructor(readonly cents: number) {}
}

describe('manager admin: inspect and actions', () => {
  it('inspects every attribute of every app, decoded, with a generic error for one that cannot be', async () => {
    const codec = jsonCodec({
      plugins: [
        definePlugin({
          alias: 'money',
          type: Money,
          encode: (m) => m.cents,
          decode: (c) => new Money(c as number),
        }),
      ],
    });
    const store = memoryStore();
    const manager = shop({ store, codec, shared: ['user'] });
    const blog = createSessionManager({ app: 'blog', store, codec, shared: ['user'], sweeper: false });
    const client = new DirectClient(manager);
    const when = new Date('2026-01-02T03:04:05Z');
    await client.call(async (session) => {
      await session.set('user', 'ann');
      await session.set('since', when);
      await session.set('tags', new Map([['a', 1]]));
      await session.set('price', new Money(250));
    });
    await client.on(blog).call(routes.set('draft', 'hello'));
    const id = client.sessionId!;
    await store.update(id, { set: new Map([['shop:broken', '{not json']]) });
    const decodeErrors = listen(manager, 'decodeError');
    const view = await manager.inspect(id);
    assert.ok(view);
    assert.equal(view.meta.id, id);
    const byKey = new Map(view.attributes.map((attribute) => [attribute.key, attribute]));
    assert.deepEqual(
      [...byKey.keys()],
      [':user', 'blog:draft', 'shop:broken', 'shop:price', 'shop:since', 'shop:tags'],
    );
    assert.equal(byKey.get(':user')?.namespace, '');
    assert.equal(byKey.get('blog:draft')?.value, 'hello');
    assert.deepEqual(byKey.get('shop:since')?.value, when);
    assert.deepEqual(byKey.get('shop:tags')?.value, new Map([['a', 1]]));
    assert.ok(byKey.get('shop:price')?.value instanceof Money);
    assert.equal(byKey.get('shop:broken')?.value, undefined);
    assert.equal(byKey.get('shop:broken')?.error, 'the value cannot be decoded');
    assert.equal(byKey.get('shop:broken')?.encoded, '{not json');
    assert.equal(decodeErrors.length, 1);
    assert.equal(await manager.inspect('no-such-session'), null);
    await assert.rejects(manager.inspect({} as never), invalid);
  });

  it('destroys one, several, or by query (after a dry run), each with its reason on `destroyed`', async () => {
    const manager = shop();
    const destroyed = listen(manager, 'destroyed');
    const clients = Array.from({ length: 6 }, () => new DirectClient(manager));
    for (const [i, client] of clients.entries()) await client.call(login(i < 4 ? 'ann' : 'bob'));
    const ids = clients.map((client) => client.sessionId!);
    assert.equal(await manager.destroy(ids[0]!), true);
    assert.equal(destroyed.at(-1)?.reason, 'invalidated', "destroy's default reason stays 'invalidated'");
    assert.equal(await manager.destroy(ids[0]!, 'revoked'), false, 'gone already: no second event');
    assert.equal(await manager.destroyMany([ids[1]!, ids[1]!, 'unknown']), 1);
    assert.equal(destroyed.at(-1)?.reason, 'revoked');
    assert.equal(await manager.destroyWhere({ principal: 'ann' }, { dryRun: true }), 2);
    assert.equal(await manager.count({ principal: 'ann' }), 2, 'a dry run destroys nothing');
    assert.equal(await manager.destroyWhere({ principal: 'ann' }), 2);
    assert.equal(await manager.count(), 2);
    assert.deepEqual(
      destroyed.map((event) => event.reason),
      ['invalidated', 'revoked', 'revoked', 'revoked'],
    );
    // The user's next request finds the session gone.
    assert.equal((await clients[2]!.call(routes.read)).id === ids[2], false);
    await assert.rejects(manager.destroyMany('abc' as never), invalid);
    await assert.rejects(manager.destroyMany([{}] as never), invalid);
    await assert.rejects(manager.destroyWhere({}, { reason: 'bored' as never }), invalid);
    await assert.rejects(manager.destroyWhere({ principle: 'x' } as never), invalid);
  });

  it('destroys by query in bounded pages, however many match', async () => {
    const store = countingStore(memoryStore());
    const manager = shop({ store });
    await Promise.all(Array.from({ length: 1203 }, () => new DirectClient(manager).call(routes.inc)));
    store.reset();
    assert.equal(await manager.destroyWhere({ app: 'shop' }), 1203);
    assert.equal(store.calls.filter((call) => call === 'listing.list').length, 3, 'pages of 500');
    assert.equal(await manager.count(), 0);
  });

  it('expires sessions idle longer than N with reason expired', async () => {
    const manager = shop();
    const destroyed = listen(manager, 'destroyed');
    const old = new DirectClient(manager);
    await old.call(routes.inc);
    await sleep(60);
    const fresh = new DirectClient(manager);
    await fresh.call(routes.inc);
    assert.equal(await manager.expireIdle(40), 1);
    assert.deepEqual(
      destroyed.map((event) => [event.meta.id, event.reason]),
      [[old.sessionId, 'expired']],
    );
    await assert.rejects(manager.expireIdle(-1), invalid);
  });

  it('removes one attribute of any app and fires attributeRemoved with the old value', async () => {
    const manager = shop();
    const removed = listen(manager, 'attributeRemoved');
    const client = new DirectClient(manager);
    await client.call(routes.set('cart', [1, 2]));
    const id = client.sessionId!;
    assert.equal(await manager.removeAttribute(id, 'shop', 'cart'), true);
    assert.deepEqual(removed, [{ sessionId: id, namespace: 'shop', name: 'cart', oldValue: [1, 2] }]);
    assert.equal(await manager.removeAttribute(id, 'shop', 'cart'), false, 'gone already');
    assert.equal(await manager.removeAttribute('nope', 'shop', 'cart'), false);
    assert.equal(await client.call((session) => session.get('cart')), undefined);
    await assert.rejects(manager.removeAttribute(id, 1 as never, 'cart'), invalid);
  });

  it('revokes a principal everywhere but one session, with the reason asked', async () => {
    const manager = shop();
    const destroyed = listen(manager, 'destroyed');
    const keep = new DirectClient(manager);
    await keep.call(login('ann'));
    await new DirectClient(manager).call(login('ann'));
    await new DirectClient(manager).call(login('ann'));
    assert.equal(await manager.revokePrincipal('ann', { except: keep.sessionId! }), 2);
    assert.deepEqual(
      destroyed.map((event) => event.reason),
      ['revoked', 'revoked'],
    );
    assert.equal(await manager.revokePrincipal('ann', { reason: 'evicted' }), 1);
    assert.equal(destroyed.at(-1)?.reason, 'evicted');
    await assert.rejects(manager.revokePrincipal('ann', { except: 5 } as never), invalid);
  });
});

describe('manager admin: what the session records, and the events metrics count', () => {
  it('records the creating URL (path only), and the last URL and host with the throttled touch, adding no write', async () => {
    const store = countingStore(memoryStore());
    const manager = shop({ store, touchInterval: 50 });
    const client = new DirectClient(manager);
    await client.call(routes.inc, { url: '/signup?token=secret' });
    const id = client.sessionId!;
    let meta = (await store.load(id, [], Date.now()))!.meta;
    assert.equal(meta.createdUrl, '/signup');
    assert.equal(meta.lastUrl, '/signup');
    assert.ok(meta.lastHost.length > 0);
    store.reset();
    await client.call(routes.read, { url: '/early' });
    assert.deepEqual(store.calls, ['load'], 'within the touch interval: no write, so no URL recorded');
    assert.equal((await store.load(id, [], Date.now()))!.meta.lastUrl, '/signup');
    await sleep(60);
    store.reset();
    await client.call(routes.read, { url: '/cart?x=1' });
    assert.deepEqual(store.calls, ['load', 'update'], 'the touch alone carries it');
    meta = (await store.load(id, [], Date.now()))!.meta;
    assert.equal(meta.lastUrl, '/cart');
    assert.equal(meta.createdUrl, '/signup');
    const long = `/${'a'.repeat(600)}`;
    const other = new DirectClient(manager);
    await other.call(routes.inc, { url: long });
    assert.equal((await store.load(other.sessionId!, [], Date.now()))!.meta.createdUrl.length, 512);
  });

  it('fires committed (delta, touch or none), regenerated and storeOperation, only for listeners', async () => {
    const manager = shop({ touchInterval: 30 });
    const client = new DirectClient(manager);
    await client.call(routes.inc);
    const committed = listen(manager, 'committed');
    const regenerated = listen(manager, 'regenerated');
    const operations = listen(manager, 'storeOperation');
    await client.call(routes.inc);
    await client.call(routes.read);
    await sleep(40);
    await client.call(routes.read);
    const before = client.sessionId;
    await client.call(login('ann'));
    assert.deepEqual(
      committed.map((event) => event.kind),
      ['delta', 'none', 'touch', 'delta'],
    );
    assert.deepEqual(regenerated, [{ oldId: before, newId: client.sessionId, app: 'shop' }]);
    assert.ok(
      operations.some((op) => op.op === 'load' && op.ok && op.store === 'memory' && op.durationMs >= 0),
    );
    assert.ok(operations.some((op) => op.op === 'rename'));
    const fresh = new DirectClient(manager);
    await fresh.call(routes.inc);
    assert.deepEqual(committed.at(-1), { kind: 'delta', created: true, app: 'shop' });
    await manager.list();
    assert.ok(
      operations.some((op) => op.op === 'listing.list'),
      'admin calls are measured too',
    );
    await manager.store.close();
    await assert.rejects(fresh.call(routes.read));
    assert.ok(
      operations.some((op) => !op.ok),
      'a failed call is reported with ok: false',
    );
  });
});

describe('manager admin: the audit log', () => {
  it('appends to the store and fires audit; pages newest first; without the group it only fires', async () => {
    const manager = shop();
    const fired = listen(manager, 'audit');
    const entry = {
      at: Date.now(),
      actor: 'ops',
      scope: 'all',
      action: 'destroy',
      target: 'Xq3f…',
      count: 1,
    };
    await manager.audit(entry);
    await manager.audit({ ...entry, action: 'revokePrincipal', count: 3, detail: { principal: 'ann' } });
    assert.deepEqual(
      fired.map((event) => event.entry.action),
      ['destroy', 'revokePrincipal'],
    );
    const page = await manager.auditLog({ limit: 1 });
    assert.equal(page.entries[0]?.action, 'revokePrincipal');
    const next = await manager.auditLog({ limit: 1, cursor: page.next! });
    assert.deepEqual(next.entries, [entry]);
    await assert.rejects(manager.audit({ ...entry, actor: { $ne: 1 } } as never), invalid);
    const { audit: _none, ...bare } = memoryStore();
    const withoutLog = shop({ store: bare });
    const onlyFired = listen(withoutLog, 'audit');
    await withoutLog.audit(entry);
    assert.equal(onlyFired.length, 1);
    await assert.rejects(withoutLog.auditLog(), { code: 'UNISESSION_UNSUPPORTED' });
    await assert.rejects(withoutLog.audit({ ...entry, count: 'x' } as never), invalid);
  });
});
