/**
 * The per-node session cache (src/core/cache.ts, src/core/cached-sessions.ts): the bounded
 * LRU on its own, then sessions driven through managers on one memory store, as two nodes
 * share one store: every read current, a destroy elsewhere seen, mutation detection and
 * request isolation as without the cache, the option checked. Real stores, many more rounds
 * and the memory bound under 100,000 sessions are in test/e2e/cache.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryBytes, SessionCache } from '../../src/core/cache.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { SessionOptions } from '../../src/core/options.js';
import type { LoadedSession, Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { DirectClient, requestInfo, routes } from '../helpers/direct-client.js';

const attrs = (entries: Record<string, string>) => new Map(Object.entries(entries));

/** A real memory store that records what each load answered: full, unchanged, or nothing. */
function watchedStore(inner: Store = memoryStore()) {
  const answers: Array<'full' | 'unchanged' | 'none'> = [];
  const store: Store = Object.assign(Object.create(inner) as Store, {
    async load(...args: Parameters<Store['load']>): Promise<LoadedSession | null> {
      const loaded = await inner.load(...args);
      answers.push(loaded === null ? 'none' : loaded.unchanged ? 'unchanged' : 'full');
      return loaded;
    },
  });
  return { store, answers };
}

function node(store: Store, options: Partial<SessionOptions> = {}): SessionManager {
  return createSessionManager({ app: 'shop', store, sweeper: false, ...options });
}

describe('SessionCache: the bounded LRU', () => {
  it('stays within its bound, dropping the least recently used first', () => {
    const cache = new SessionCache(100_000);
    const value = 'x'.repeat(1000);
    for (let i = 0; i < 1000; i++) {
      cache.put(`s${i}`, 1, attrs({ ':v': value }), true);
      if (i === 10) cache.get('s0');
      assert.ok(cache.bytes <= cache.maxBytes, `${cache.bytes} after ${i}`);
    }
    assert.equal(cache.get('s1'), undefined, 'the oldest went first');
    assert.equal(cache.get('s999')?.version, 1);
    const perEntry = entryBytes('s999', attrs({ ':v': value }));
    assert.equal(cache.size, Math.floor(100_000 / perEntry));
  });

  it('does not keep an entry larger than an eighth of the bound', () => {
    const cache = new SessionCache(8000);
    cache.put('big', 1, attrs({ ':v': 'x'.repeat(600) }), true);
    assert.equal(cache.size, 0);
    cache.put('small', 1, attrs({ ':v': 'x'.repeat(100) }), true);
    assert.equal(cache.size, 1);
  });

  it('keeps an entry after a write only when no other write came between', () => {
    const cache = new SessionCache(1_000_000);
    cache.put('a', 3, attrs({ ':x': '1', ':y': '2' }), true);
    cache.advance('a', 3, 4, attrs({ ':x': '10' }), [':y']);
    assert.deepEqual(cache.get('a'), { ...cache.get('a'), version: 4, attributes: attrs({ ':x': '10' }) });
    cache.advance('a', 4, 4, undefined, undefined);
    assert.equal(cache.get('a')?.version, 4, 'a touch keeps it');
    cache.advance('a', 4, 5, undefined, undefined);
    assert.equal(cache.get('a')?.version, 5, 'a principal change moves it by one');
    cache.advance('a', 5, 7, attrs({ ':x': '11' }), undefined);
    assert.equal(cache.get('a'), undefined, 'another write came between: dropped');
    cache.put('b', 1, attrs({ ':x': '1' }), true);
    cache.advance('b', 1, 1, attrs({ ':x': '2' }), undefined);
    assert.equal(cache.get('b'), undefined, 'an attribute write that kept the version: dropped');
    cache.put('c', 2, attrs({ ':x': '1' }), false);
    cache.advance('c', 1, 2, attrs({ ':x': '2' }), undefined);
    assert.equal(cache.get('c'), undefined, 'written from another version than cached: dropped');
  });

  it('moves an entry on rename only when the rename was the only write', () => {
    const cache = new SessionCache(1_000_000);
    cache.put('old', 2, attrs({ ':x': '1' }), true);
    cache.move('old', 'new', 2, 3);
    assert.equal(cache.get('old'), undefined);
    assert.equal(cache.get('new')?.version, 3);
    cache.move('new', 'newer', 3, 5);
    assert.equal(cache.get('new'), undefined);
    assert.equal(cache.get('newer'), undefined);
  });
});

describe('session cache: sessions through two nodes on one store', () => {
  it('fetches the attributes only when they changed since this node saw them', async () => {
    const { store, answers } = watchedStore();
    const a = node(store);
    const client = new DirectClient(a);
    await client.call(routes.inc);
    answers.length = 0;
    assert.deepEqual(await client.call(routes.read), { n: 1, id: client.sessionId });
    assert.deepEqual(await client.call(routes.inc), { n: 2 });
    assert.deepEqual(await client.call(routes.read), { n: 2, id: client.sessionId });
    assert.deepEqual(
      answers,
      ['unchanged', 'unchanged', 'unchanged'],
      'its own writes keep the cache current',
    );
    assert.equal(a.cacheUsage?.sessions, 1);
  });

  it('never serves a value older than the store, with two nodes and two apps alternating', async () => {
    const { store, answers } = watchedStore();
    const nodes = [node(store), node(store), node(store, { app: 'blog', shared: ['n'] })];
    // The shop's `n` is private; the blog's shares a name but is another attribute, so both count.
    const shared = [node(store, { shared: ['n'] }), nodes[2]!];
    const client = new DirectClient(nodes[0]!);
    for (let i = 1; i <= 200; i++) {
      const writer = client.on(nodes[i % 2]!);
      assert.deepEqual(await writer.call(routes.inc), { n: i });
      const reader = client.on(nodes[(i + 1) % 2]!);
      assert.equal((await reader.call(routes.read)).n, i, `round ${i}`);
      assert.equal((await reader.call(routes.read)).n, i, `round ${i}, again`);
      const app = client.on(shared[i % 2]!);
      assert.equal((await app.call(routes.inc)).n, i, `shared, round ${i}`);
    }
    assert.ok(answers.includes('unchanged') && answers.includes('full'));
  });

  it('never serves a session destroyed on another node, nor one that expired', async () => {
    const { store } = watchedStore();
    const [a, b] = [node(store), node(store)];
    const client = new DirectClient(a);
    await client.call(routes.inc);
    await client.call(routes.read);
    const id = client.sessionId!;
    assert.equal(await b.destroy(id), true);
    const after = await client.call(routes.read);
    assert.equal(after.n, null);
    assert.notEqual(after.id, id);
    assert.equal(a.cacheUsage?.sessions, 0, 'the load that found it gone evicted it');

    const short = node(store, { maxInactive: 50, touchInterval: 0 });
    const visitor = new DirectClient(short);
    await visitor.call(routes.inc);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal((await visitor.call(routes.read)).n, null);
  });

  it('sees a logout on another node at once, then serves the new session', async () => {
    const { store } = watchedStore();
    const [a, b] = [node(store), node(store)];
    const client = new DirectClient(a);
    await client.call(routes.login('ann'));
    await client.call(routes.read);
    await client.on(b).call(routes.logout);
    assert.equal(await client.call(async (s) => s.get('user')), undefined);
  });

  it('keeps mutation detection and isolation between requests as they were', async () => {
    const { store, answers } = watchedStore();
    const a = node(store);
    const client = new DirectClient(a);
    await client.call(routes.cart);
    await client.call(routes.cart);
    assert.deepEqual((await client.call(routes.cart)).cart, [1, 2, 3], 'an in-place push is saved');
    answers.length = 0;
    // A request that changed a value in place and has not committed: its copy is its own.
    const first = a.open(requestInfo({ headers: { cookie: client.cookie } }));
    const cart = (await first.get<number[]>('cart'))!;
    cart.push(99);
    const second = await client.call(async (s) => s.get<number[]>('cart'));
    assert.deepEqual(second, [1, 2, 3], 'another request never sees an uncommitted change');
    assert.deepEqual(answers, ['unchanged', 'unchanged']);
  });

  it('survives regenerate: the new id is cached with the attributes', async () => {
    const { store, answers } = watchedStore();
    const a = node(store);
    const client = new DirectClient(a);
    await client.call(routes.inc);
    await client.call(routes.login('bob'));
    answers.length = 0;
    assert.equal((await client.call(routes.read)).n, 1);
    assert.equal(await client.call(async (s) => s.get('user')), 'bob');
    assert.deepEqual(answers, ['unchanged', 'unchanged']);
  });

  it('is off with maxBytes 0, and with a store that keeps no versions', async () => {
    const { store, answers } = watchedStore();
    const off = node(store, { cache: { maxBytes: 0 } });
    assert.equal(off.cacheUsage, undefined);
    const client = new DirectClient(off);
    await client.call(routes.inc);
    await client.call(routes.read);
    assert.deepEqual(answers, ['full'], 'never asked conditionally');

    const inner = memoryStore();
    const plain: Store = Object.assign(Object.create(inner) as Store, {
      load: async (...args: Parameters<Store['load']>) => {
        const loaded = await inner.load(args[0], args[1], args[2]);
        return loaded && { meta: loaded.meta, attributes: loaded.attributes };
      },
      create: async (...args: Parameters<Store['create']>) => {
        await inner.create(...args);
      },
      update: async (...args: Parameters<Store['update']>) => (await inner.update(...args)) !== false,
    });
    const unversioned = new DirectClient(node(plain));
    for (let i = 1; i <= 3; i++) assert.deepEqual(await unversioned.call(routes.inc), { n: i });
  });

  it('refuses a bad cache option, naming it', () => {
    const bad: unknown[] = [{ maxBytes: -1 }, { maxBytes: 1.5 }, { maxBytes: '32mb' }, { max: 1 }, 5, null];
    for (const cache of bad) {
      assert.throws(
        () => createSessionManager({ app: 'shop', sweeper: false, cache: cache as { maxBytes: number } }),
        { code: 'UNISESSION_INVALID_OPTION', message: /option "cache/ },
        JSON.stringify(cache),
      );
    }
    const defaulted = createSessionManager({ app: 'shop', store: memoryStore(), sweeper: false });
    assert.equal(defaulted.cacheUsage?.maxBytes, 32 * 1024 * 1024);
  });
});
