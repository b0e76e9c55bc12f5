/**
 * The Redis store against the real standalone server in REDIS_URL: the shared conformance
 * suite, then what is specific to Redis (hash layout and deltas, native expiry with a grace
 * period, stale index entries, round trips, bad options, failure to connect).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { jsonCodec } from '../../src/codec/json.js';
import { generateSessionId } from '../../src/core/id.js';
import { SessionManager } from '../../src/core/manager.js';
import type { SessionMeta, Store } from '../../src/core/store.js';
import { RedisLayout } from '../../src/stores/redis/layout.js';
import { redisStore } from '../../src/stores/redis.js';
import { installed, server } from '../helpers/servers.js';
import { runWithoutPackage, sourcePath } from '../helpers/without-package.js';
import { capability, runStoreConformance, sampleMeta, uniqueGroup } from './conformance.js';

const url = await server('redis');
await installed('redis'); // the Sentinel suite starts private redis-server processes

runStoreConformance('redis', () => redisStore({ url, group: uniqueGroup() }));

// The same suite through Sentinel (the ioredis options pass through): a private master and one
// Sentinel watching it, on free ports, stopped when the file is done.
const sentinelDir = mkdtempSync(join(tmpdir(), 'unisession-sentinel-'));
const servers: ChildProcess[] = [];
after(async () => {
  for (const server of servers) {
    if (server.exitCode !== null || server.signalCode !== null) continue;
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(sentinelDir, { recursive: true, force: true });
});
runStoreConformance('redis via sentinel', async () => {
  const [masterPort, sentinelPort] = [await freePort(), await freePort()];
  const common = ['--bind', '127.0.0.1', '--dir', sentinelDir, '--save', ''];
  servers.push(spawn('redis-server', ['--port', String(masterPort), ...common], { stdio: 'ignore' }));
  const conf = join(sentinelDir, 'sentinel.conf');
  writeFileSync(conf, `port ${sentinelPort}\nsentinel monitor main 127.0.0.1 ${masterPort} 1\n`);
  servers.push(spawn('redis-server', [conf, '--sentinel', ...common.slice(0, 4)], { stdio: 'ignore' }));
  await Promise.all([waitForRedis(masterPort), waitForRedis(sentinelPort)]);
  return redisStore({
    redisOptions: { sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'main' },
    group: uniqueGroup(),
  });
});

async function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForRedis(port: number): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => {}); // refused until the server is up: retried below
  for (let i = 0; ; i++) {
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const attrs = (entries: Record<string, string>) => new Map(Object.entries(entries));
const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );

describe('redis store: layout, expiry, stale indexes', () => {
  const group = uniqueGroup('r');
  const layout = new RedisLayout(group);
  let store: Store;
  let raw: Redis;

  before(() => {
    store = redisStore({ url, group });
    raw = new Redis(url);
  });
  after(async () => {
    await store.close();
    raw.disconnect();
  });

  it('keeps one hash per session: metadata under #fields, one field per attribute', async () => {
    const meta = sampleMeta({ principal: 'ann' });
    await store.create(meta, attrs({ ':user': '"ann"', 'shop:cart': '[1]' }));
    const hash = await raw.hgetall(layout.session(meta.id));
    assert.equal(hash[':user'], '"ann"');
    assert.equal(hash['shop:cart'], '[1]');
    assert.equal(hash['#app'], 'shop');
    assert.equal(hash['#principal'], 'ann');
    assert.equal(hash['#expires'], String(meta.expiresAt));
    assert.equal(await raw.zscore(layout.expiry('shop'), meta.id), String(meta.expiresAt));
    assert.equal(await raw.sismember(layout.principal('ann'), meta.id), 1);
  });

  it('writes only the changed fields: a field changed by someone else meanwhile survives', async () => {
    const meta = sampleMeta();
    await store.create(meta, attrs({ ':a': '1', ':b': '2', ':c': '3' }));
    // Another node writes :a directly after our load; our delta on :b must not undo it.
    await raw.hset(layout.session(meta.id), ':a', 'theirs');
    assert.equal(await store.update(meta.id, { set: attrs({ ':b': 'ours' }), remove: [':c'] }), 2);
    assert.deepEqual(await raw.hgetall(layout.session(meta.id)).then((h) => [h[':a'], h[':b'], h[':c']]), [
      'theirs',
      'ours',
      undefined,
    ]);
  });

  it('sets the key TTL to expiresAt plus the grace period, and PERSISTs when expiresAt is null', async () => {
    const graceStore = redisStore({ url, group, expiryGraceMs: 5000 });
    try {
      const meta = sampleMeta({ expiresAt: Date.now() + 60_000 });
      await graceStore.create(meta, new Map());
      const key = layout.session(meta.id);
      near(await raw.pexpiretime(key), meta.expiresAt! + 5000, 2, 'PEXPIRETIME after create');
      const later = Date.now() + 120_000;
      await graceStore.update(meta.id, { meta: { expiresAt: later, lastAccessedAt: Date.now() } });
      near(await raw.pexpiretime(key), later + 5000, 2, 'PEXPIRETIME after touch');
      await graceStore.update(meta.id, { meta: { expiresAt: null } });
      assert.equal(await raw.pttl(key), -1, 'no TTL once the session never expires');
      assert.equal(await raw.zscore(layout.expiry('shop'), meta.id), 'inf');
    } finally {
      await graceStore.close();
    }
  });

  it('does not load a session past expiresAt that Redis still keeps for the grace period; the sweeper reports it', async () => {
    const meta = sampleMeta({ expiresAt: Date.now() - 5 });
    await store.create(meta, attrs({ ':a': '1' }));
    assert.equal(await store.load(meta.id, 'all', Date.now()), null);
    assert.equal(await raw.exists(layout.session(meta.id)), 1, 'kept for the sweeper');
    const manager = new SessionManager({
      app: 'shop',
      store: redisStore({ url, group }),
      codec: jsonCodec(),
      sweeper: false,
    });
    const expired: SessionMeta[] = [];
    manager.on('destroyed', (event) => {
      if (event.reason === 'expired' && event.meta.id === meta.id) expired.push(event.meta);
    });
    try {
      await manager.sweep();
      assert.deepEqual(expired, [meta], "'destroyed' (expired) fired once, with the metadata");
      assert.equal(await raw.exists(layout.session(meta.id)), 0);
    } finally {
      await manager.close();
    }
  });

  it('with expiryGraceMs 0, Redis removes an expired session itself and the sweeper cleans its index entry', async () => {
    const noGrace = redisStore({ url, group, expiryGraceMs: 0 });
    try {
      const meta = sampleMeta({ expiresAt: Date.now() - 5 });
      await noGrace.create(meta, new Map());
      assert.equal(await raw.exists(layout.session(meta.id)), 0, 'PEXPIREAT in the past deletes at once');
      assert.notEqual(await raw.zscore(layout.expiry('shop'), meta.id), null);
      const swept = await capability(noGrace, 'sweeping').sweep(Date.now(), 1000);
      assert.ok(!swept.some((m) => m.id === meta.id), 'no metadata left to report');
      assert.equal(await raw.zscore(layout.expiry('shop'), meta.id), null, 'stale entry removed');
      assert.equal(await raw.zscore(layout.ids('shop'), meta.id), null);
    } finally {
      await noGrace.close();
    }
  });

  it('tolerates and cleans index entries whose session is gone', async () => {
    const app = `stale${generateSessionId().slice(0, 6)}`;
    const principal = `p-${app}`;
    const live = sampleMeta({ app, principal });
    const gone = sampleMeta({ app, principal });
    await store.create(live, new Map());
    await store.create(gone, new Map());
    // The hash disappears behind the store's back (FLUSH of a key, eviction, a crashed node).
    await raw.del(layout.session(gone.id));
    assert.deepEqual(await capability(store, 'principals').find(principal), [live.id]);
    assert.equal(await raw.sismember(layout.principal(principal), gone.id), 0, 'principal entry cleaned');
    const page = await capability(store, 'listing').list({ app });
    assert.deepEqual(
      page.sessions.map((m) => m.id),
      [live.id],
    );
    assert.equal(await raw.zscore(layout.ids(app), gone.id), null, 'id index entry cleaned');
    assert.equal(await raw.zscore(layout.expiry(app), gone.id), null, 'expiry index entry cleaned');
    assert.equal(await capability(store, 'listing').count({ app, aliveAt: Date.now() }), 1);
    assert.equal(await capability(store, 'listing').count({ principal, aliveAt: Date.now() }), 1);
    assert.equal(await store.destroy(gone.id), null);
  });

  it("keeps the monitor's indexes in step with create, touch, principal, rename and destroy, leaving nothing behind", async () => {
    const app = `mon${generateSessionId().slice(0, 6)}`;
    const keys = (name: 'acc' | 'created' | 'auth' | 'who' | 'hosts') => layout.appIndex(app, name);
    const meta = sampleMeta({ app, host: 'node-x', createdAt: 1000, lastAccessedAt: 2000 });
    await store.create(meta, new Map());
    assert.equal(await raw.zscore(keys('acc'), meta.id), '2000');
    assert.equal(await raw.zscore(keys('created'), meta.id), '1000');
    assert.equal(await raw.zscore(keys('auth'), meta.id), null, 'anonymous: not in the auth index');
    assert.deepEqual(await raw.smembers(keys('hosts')), ['node-x']);
    assert.equal(await raw.zscore(layout.hostIndex(app, 'node-x'), meta.id), String(meta.expiresAt));
    await store.update(meta.id, { meta: { principal: 'ann' } });
    assert.equal(
      await raw.zscore(keys('auth'), meta.id),
      '2000',
      'a principal joins the auth index at its access time',
    );
    assert.equal(await raw.hget(keys('who'), meta.id), 'ann');
    const later = Date.now() + 120_000;
    await store.update(meta.id, { meta: { lastAccessedAt: 3000, expiresAt: later } });
    assert.equal(await raw.zscore(keys('acc'), meta.id), '3000');
    assert.equal(await raw.zscore(keys('auth'), meta.id), '3000');
    assert.equal(await raw.zscore(layout.hostIndex(app, 'node-x'), meta.id), String(later));
    const renamed = generateSessionId();
    await store.rename(meta.id, renamed);
    for (const name of ['acc', 'created', 'auth'] as const) {
      assert.equal(await raw.zscore(keys(name), meta.id), null, `${name}: old id gone`);
      assert.notEqual(await raw.zscore(keys(name), renamed), null, `${name}: new id there`);
    }
    await store.update(renamed, { meta: { principal: null } });
    assert.equal(await raw.zscore(keys('auth'), renamed), null);
    assert.equal(await raw.hget(keys('who'), renamed), null);
    await store.destroy(renamed);
    for (const name of ['acc', 'created', 'auth'] as const)
      assert.equal(await raw.zcard(keys(name)), 0, name);
    assert.equal(await raw.hlen(keys('who')), 0);
    assert.equal(await raw.zcard(layout.hostIndex(app, 'node-x')), 0);
  });

  it("indexes a session written before the monitor's indexes existed at its next recorded access", async () => {
    const app = `old${generateSessionId().slice(0, 6)}`;
    const meta = sampleMeta({
      app,
      principal: 'old-user',
      host: 'node-old',
      createdAt: 1000,
      lastAccessedAt: 2000,
    });
    await store.create(meta, new Map());
    // What an older release left: the hash and the id/expiry/principal indexes only.
    for (const name of ['acc', 'created', 'auth'] as const)
      await raw.zrem(layout.appIndex(app, name), meta.id);
    await raw.hdel(layout.appIndex(app, 'who'), meta.id);
    await raw.zrem(layout.hostIndex(app, 'node-old'), meta.id);
    const stats = capability(store, 'stats');
    const query = { now: Date.now(), app, onlineSince: 0, idleBounds: [], ageBounds: [] };
    assert.equal((await stats.compute(query)).usersOnline, 0, 'not indexed yet');
    const now = Date.now();
    await store.update(meta.id, { meta: { lastAccessedAt: now, expiresAt: now + 60_000 } });
    const after = await stats.compute({ ...query, now: Date.now() });
    assert.equal(after.usersOnline, 1);
    assert.equal(after.authenticated, 1);
    assert.deepEqual(after.perHost, [{ host: 'node-old', sessions: 1 }]);
    assert.equal(await raw.zscore(layout.appIndex(app, 'created'), meta.id), '1000');
  });

  it('does not sweep a session touched after its index entry was read', async () => {
    const app = `touch${generateSessionId().slice(0, 6)}`;
    const meta = sampleMeta({ app, expiresAt: Date.now() + 60_000 });
    await store.create(meta, new Map());
    // As if a toucher's index write were still in flight (Cluster): the index says expired.
    await raw.zadd(layout.expiry(app), Date.now() - 1000, meta.id);
    const swept = await capability(store, 'sweeping').sweep(Date.now(), 1000);
    assert.ok(!swept.some((m) => m.id === meta.id));
    assert.ok(await store.load(meta.id, [], Date.now()));
    assert.equal(await raw.zscore(layout.expiry(app), meta.id), String(meta.expiresAt), 'index corrected');
  });

  it('reports a destroyed session exactly once across separate connections', async () => {
    const stores = [redisStore({ url, group }), redisStore({ url, group }), redisStore({ url, group })];
    try {
      for (let round = 0; round < 10; round++) {
        const meta = sampleMeta();
        await store.create(meta, attrs({ ':a': '1' }));
        const results = await Promise.all(stores.map((s) => s.destroy(meta.id)));
        assert.equal(results.filter((r) => r !== null).length, 1);
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('costs one Redis command per load and per write (standalone)', async () => {
    // monitor() opens its own connection (a duplicate of this one): both are closed below.
    const connection = new Redis(url!);
    const monitor = await connection.monitor();
    const seen: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands run inside a script are listed with source "lua"; count only what the client sent.
      if (source !== 'lua' && args.some((arg) => arg.includes(`${group}:`)))
        seen.push(args[0]!.toLowerCase());
    });
    const count = async (work: () => Promise<unknown>) => {
      await work(); // warm: the first EVALSHA of a script may add an EVAL
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen.length = 0;
      await work();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return [...seen];
    };
    try {
      const meta = sampleMeta();
      await store.create(meta, attrs({ ':a': '1', ':b': '2' }));
      assert.deepEqual(await count(() => store.load(meta.id, 'all', Date.now())), ['hgetall']);
      assert.deepEqual(await count(() => store.load(meta.id, [':a'], Date.now())), ['hmget']);
      assert.deepEqual(await count(() => store.update(meta.id, { set: attrs({ ':a': '3' }) })), ['evalsha']);
      const touch = { meta: { lastAccessedAt: Date.now(), expiresAt: Date.now() + 60_000 } };
      assert.deepEqual(
        await count(() => store.update(meta.id, touch)),
        ['evalsha'],
        'touch + index: one script',
      );
      assert.deepEqual(await count(() => store.create(sampleMeta(), attrs({ ':x': '1' }))), ['evalsha']);
      // The conditional load, current or not, 'all' or some: one script.
      const version = (await store.load(meta.id, [], Date.now()))!.version!;
      for (const known of [version, version - 1]) {
        for (const keys of ['all', [':a']] as const) {
          const load = () => store.load(meta.id, keys === 'all' ? 'all' : [...keys], Date.now(), known);
          assert.deepEqual(await count(load), ['evalsha'], `known ${known}, ${keys}`);
          assert.equal((await load())?.unchanged, known === version || undefined);
        }
      }
    } finally {
      monitor.disconnect();
      connection.disconnect();
    }
  });
});

describe('redis store: options and bad input', () => {
  it('refuses bad options with UNISESSION_INVALID_OPTION', () => {
    const bad = [
      { group: 'has space' },
      { group: 'a:b' },
      { group: '{tag}' },
      { expiryGraceMs: -1 },
      { commandTimeout: 0 },
      { connectTimeout: Number.NaN },
      { url: '' },
      { url, cluster: ['127.0.0.1:7001'] },
      { cluster: [] },
      { cluster: ['7001'] },
      { cluster: ['127.0.0.1:notaport'] },
      { cluster: [{ host: '127.0.0.1', port: 70000 }] },
      { client: new Redis({ lazyConnect: true }), url },
    ];
    for (const options of bad) {
      assert.throws(
        () => redisStore(options),
        { code: 'UNISESSION_INVALID_OPTION' },
        JSON.stringify(options),
      );
    }
  });

  it('refuses attribute keys without a namespace, and writes nothing', async () => {
    const group = uniqueGroup();
    const store = redisStore({ url, group });
    const raw = new Redis(url!);
    try {
      const meta = sampleMeta();
      await assert.rejects(store.create(meta, attrs({ '#app': 'evil' })), {
        code: 'UNISESSION_INVALID_NAME',
      });
      assert.equal(await raw.exists(new RedisLayout(group).session(meta.id)), 0);
      await store.create(meta, attrs({ ':a': '1' }));
      await assert.rejects(store.update(meta.id, { set: attrs({ ':b': '2', '#expires': '0' }) }), {
        code: 'UNISESSION_INVALID_NAME',
      });
      await assert.rejects(store.update(meta.id, { remove: ['#created'] }), {
        code: 'UNISESSION_INVALID_NAME',
      });
      const loaded = await store.load(meta.id, 'all', Date.now());
      assert.deepEqual(loaded?.meta, meta);
      assert.deepEqual(loaded?.attributes, attrs({ ':a': '1' }));
      // A metadata field name asked for as an attribute is not an attribute.
      assert.equal((await store.loadAttributes(meta.id, ['#app', '#principal'])).size, 0);
      await assert.rejects(capability(store, 'listing').list({ limit: 0 }), {
        code: 'UNISESSION_INVALID_ARGUMENT',
      });
      await assert.rejects(capability(store, 'listing').list({ limit: 1.5 }), {
        code: 'UNISESSION_INVALID_ARGUMENT',
      });
    } finally {
      await store.close();
      raw.disconnect();
    }
  });

  it('names the package to install when ioredis is missing', async () => {
    const output = await runWithoutPackage(
      'ioredis',
      `import { redisStore } from ${JSON.stringify(sourcePath('stores/redis.ts'))};
      const store = redisStore({ url: ${JSON.stringify(url)} });
      await store.load('x', 'all', Date.now()).then(
        () => console.log('loaded'),
        (error) => console.log(JSON.stringify({ code: error.code, message: error.message })),
      );`,
    );
    const reply = JSON.parse(output) as { code: string; message: string };
    assert.equal(reply.code, 'UNISESSION_DRIVER_MISSING');
    assert.match(reply.message, /npm install ioredis/);
  });

  it('uses a client you pass in and leaves it open on close()', async () => {
    const client = new Redis(url!);
    const listeners = client.listenerCount('error');
    const store = redisStore({ client, group: uniqueGroup() });
    const meta = sampleMeta();
    await store.create(meta, new Map());
    assert.ok(await store.load(meta.id, [], Date.now()));
    await store.close();
    assert.equal(await client.ping(), 'PONG', 'still open');
    assert.equal(client.listenerCount('error'), listeners, 'no listener added to your client');
    await assert.rejects(store.load(meta.id, [], Date.now()), { code: 'UNISESSION_STORE_UNAVAILABLE' });
    client.disconnect();
  });

  it('fails fast with UNISESSION_STORE_UNAVAILABLE when nothing listens', async () => {
    const port = await freePort();
    const store = redisStore({ url: `redis://127.0.0.1:${port}` });
    try {
      for (const call of [
        () => store.load(generateSessionId(), 'all', Date.now()),
        () => store.create(sampleMeta(), new Map()),
        () => capability(store, 'sweeping').sweep(Date.now(), 10),
      ]) {
        const started = Date.now();
        await assert.rejects(call(), (error: Error & { code?: string }) => {
          assert.equal(error.code, 'UNISESSION_STORE_UNAVAILABLE');
          assert.equal(error.message, 'The session store is unavailable: redis');
          assert.ok(error.cause instanceof Error, 'the driver error is kept as the cause');
          return true;
        });
        assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      }
    } finally {
      await store.close();
    }
  });
});
