/**
 * The session cache's correctness on real stores (Redis, SQLite and memcached): nodes are managers with
 * caches of their own, each on its own connection to the one store, as processes of a
 * cluster are. (Five frameworks in five processes on these stores, cache on, are in
 * cross-framework.test.ts.) No read may be stale, a destroy elsewhere is seen at once, and the
 * cache stays within its bound under 100,000 sessions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { entryBytes } from '../../src/core/cache.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { SessionOptions } from '../../src/core/options.js';
import type { LoadedSession, Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { DirectClient, routes } from '../helpers/direct-client.js';
import { server } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';

const redisUrl = await server('redis');
const memcachedNodes = await server('memcached');
const ROUNDS = 1000;

/** A real store that counts what its loads answered, to show the cache was used (not only correct). */
function watched(inner: Store) {
  const answers = { full: 0, unchanged: 0, none: 0 };
  const store: Store = Object.assign(Object.create(inner) as Store, {
    async load(...args: Parameters<Store['load']>): Promise<LoadedSession | null> {
      const loaded = await inner.load(...args);
      answers[loaded === null ? 'none' : loaded.unchanged ? 'unchanged' : 'full']++;
      return loaded;
    },
  });
  return { store, answers };
}

type StoreMaker = (group: string) => Store;
const makers: Array<[string, StoreMaker]> = [
  ['redis', (group) => redisStore({ url: redisUrl, group })],
  ['sqlite', (group) => sqliteStore({ file: join(sqliteDir, 'sessions.sqlite'), group })],
  // Two nodes with backup: a session's two copies, and attribute items beside the metadata item.
  ['memcached', (group) => memcachedStore({ nodes: memcachedNodes, group })],
];
const sqliteDir = mkdtempSync(join(tmpdir(), 'unisession-cache-'));

for (const [name, make] of makers) {
  describe(`session cache on ${name}: nodes and apps sharing one session`, () => {
    const group = uniqueGroup('cache');
    const managers: SessionManager[] = [];
    const node = (options: Partial<SessionOptions> = {}) => {
      const { store, answers } = watched(make(group));
      const manager = createSessionManager({ app: 'shop', store, sweeper: false, secret: 's', ...options });
      managers.push(manager);
      return { manager, answers };
    };
    after(async () => {
      await Promise.all(managers.map((manager) => manager.close()));
    });

    it(`two nodes and two apps alternate writes and reads ${ROUNDS} times: no read is stale`, async () => {
      const nodes = [node(), node()];
      const apps = [node({ shared: ['n'] }), node({ app: 'blog', shared: ['n'] })];
      const client = new DirectClient(nodes[0]!.manager);
      let shared = 0;
      for (let i = 1; i <= ROUNDS; i++) {
        const writer = client.on(nodes[i % 2]!.manager);
        assert.deepEqual(await writer.call(routes.inc), { n: i }, `node write ${i}`);
        // The writer's cache was advanced by its own write; the other node's is a version behind.
        for (const reader of [writer, client.on(nodes[(i + 1) % 2]!.manager)])
          assert.equal((await reader.call(routes.read)).n, i, `node read ${i}`);
        const app = client.on(apps[i % 2]!.manager);
        shared += 1;
        assert.equal((await app.call(routes.inc)).n, shared, `app write ${i}`);
        assert.equal(
          (await client.on(apps[(i + 1) % 2]!.manager).call(routes.read)).n,
          shared,
          `app read ${i}`,
        );
      }
      const answers = [...nodes, ...apps].map((n) => n.answers);
      const total = (key: 'full' | 'unchanged') => answers.reduce((sum, a) => sum + a[key], 0);
      assert.ok(total('unchanged') >= ROUNDS, `the cache answered: ${JSON.stringify(answers)}`);
      assert.ok(total('full') >= ROUNDS, 'and every change elsewhere was fetched');
    });

    it('never serves a session destroyed, revoked or logged out elsewhere', async () => {
      const [a, b] = [node(), node()];
      for (let i = 0; i < 50; i++) {
        const client = new DirectClient(a.manager);
        await client.call(routes.login(`user-${i}`));
        await client.call(routes.inc);
        assert.equal((await client.call(routes.read)).n, 1, 'cached on a');
        const id = client.sessionId!;
        if (i % 3 === 0) assert.equal(await b.manager.destroy(id), true);
        // memcached keeps no principal index: it is destroyed there by id instead.
        else if (i % 3 === 1 && name !== 'memcached')
          assert.equal(await b.manager.revokePrincipal(`user-${i}`), 1);
        else if (i % 3 === 1) assert.equal(await b.manager.destroy(id), true);
        else await client.on(b.manager).call(routes.logout);
        const after = await client.call(async (session) => ({ n: await session.get('n'), id: session.id }));
        assert.equal(after.n, undefined, `round ${i}: nothing of the old session`);
        assert.notEqual(after.id, id);
      }
    });

    it('sees a change made by another app at once, attribute by attribute', async () => {
      const [shop, blog] = [node({ shared: ['user'] }), node({ app: 'blog', shared: ['user'] })];
      const client = new DirectClient(shop.manager);
      await client.call(routes.set('user', 'ann'));
      for (let i = 0; i < 100; i++) {
        await client.on(blog.manager).call(routes.set('user', `ann-${i}`));
        assert.equal(await client.call((s) => s.get('user')), `ann-${i}`);
        await client.call(routes.set('user', `shop-${i}`));
        assert.equal(await client.on(blog.manager).call((s) => s.get('user')), `shop-${i}`);
      }
    });
  });
}

describe('session cache: its memory bound', () => {
  it('stays within maxBytes under 100,000 sessions, and keeps the most recent', async () => {
    const maxBytes = 4 * 1024 * 1024;
    const store = sqliteStore({ file: join(sqliteDir, 'many.sqlite'), group: uniqueGroup('many') });
    const manager = createSessionManager({ app: 'shop', store, sweeper: false, cache: { maxBytes } });
    try {
      const value = 'v'.repeat(200);
      const last: DirectClient[] = [];
      for (let i = 0; i < 100_000; i++) {
        const client = new DirectClient(manager);
        await client.call(routes.set('profile', `${i}:${value}`));
        if (i >= 99_990) last.push(client);
        if (i % 10_000 === 9_999) {
          const usage = manager.cacheUsage!;
          assert.ok(usage.bytes <= maxBytes, `${usage.bytes} bytes after ${i + 1} sessions`);
        }
      }
      const usage = manager.cacheUsage!;
      const lastId = last.at(-1)!.sessionId!;
      const perSession = entryBytes(lastId, new Map([['shop:profile', `"99999:${value}"`]]));
      assert.ok(usage.sessions <= Math.floor(maxBytes / perSession) + 1, JSON.stringify(usage));
      assert.ok(usage.sessions >= Math.floor(maxBytes / perSession) - 100, 'and it uses its room');
      for (const [i, client] of last.entries())
        assert.equal(await client.call((s) => s.get('profile')), `${99_990 + i}:${value}`);
    } finally {
      await manager.close();
    }
  });
});
