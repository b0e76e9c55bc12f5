/**
 * The cross-framework acceptance test: node:http, Express, Koa, Fastify and Hono run as five
 * separate processes on one store (once on SQLite, once on Redis). One client session hops
 * between them at random; every request reads some attributes and writes others, and each
 * read must see exactly the last write, whichever framework made it. Then a regenerate() on
 * one framework and a logout on another must take effect on all the others.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../helpers/client.js';
import { type Node, startNode, stopNode } from '../helpers/processes.js';
import { server } from '../helpers/servers.js';

await server('redis');

const FRAMEWORKS = ['node', 'express', 'koa', 'fastify', 'hono'] as const;
type Framework = (typeof FRAMEWORKS)[number];
const REQUESTS = 500;
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** A small seeded PRNG (mulberry32), so that a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Whoami = { id: string; isNew: boolean; attributes: Record<string, unknown> };

function crossFramework(storeName: 'sqlite' | 'redis', env: () => Record<string, string>) {
  describe(`five frameworks in five processes on one ${storeName} store`, () => {
    const servers = new Map<Framework, Node>();
    const url = (fw: Framework, path: string) => `http://127.0.0.1:${servers.get(fw)!.port}${path}`;

    before(async () => {
      const shared = env();
      // Started one after the other: five tsx compilations at once would only fight over 2 cores.
      for (const fw of FRAMEWORKS) servers.set(fw, await startNode(`test/e2e/fixtures/${fw}.ts`, shared));
    });
    after(async () => {
      await Promise.all([...servers.values()].map((server) => stopNode(server)));
    });

    const seed = Number(process.env.E2E_SEED ?? Date.now() % 1_000_000);
    const client = new Client('');
    /** What every shared attribute must hold; absent = never written or removed. */
    const model = new Map<string, number>();
    const hits = new Map<Framework, number>(FRAMEWORKS.map((fw) => [fw, 0]));

    test(`${REQUESTS} requests hop between frameworks; every read sees the last write (seed ${seed})`, async () => {
      const next = random(seed);
      const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
      const served = new Set<Framework>();
      for (let i = 0; i < REQUESTS; i++) {
        const fw = pick(FRAMEWORKS);
        served.add(fw);
        const read = NAMES.filter(() => next() < 0.3);
        const write = NAMES.filter(() => next() < 0.2).map((name) => {
          // One write in ten removes the attribute.
          const value = next() < 0.1 ? undefined : Math.floor(next() * 1_000_000);
          return [name, value] as const;
        });
        const query = `read=${read.join(',')}&write=${write.map(([n, v]) => `${n}=${v ?? ''}`).join(',')}`;
        const reply = await client.json<{ values: Record<string, unknown>; hits: number }>(
          url(fw, `/step?${query}`),
        );
        const expected = Object.fromEntries(read.map((name) => [name, model.get(name) ?? null]));
        assert.deepEqual(reply.values, expected, `request ${i} on ${fw} (${query})`);
        hits.set(fw, hits.get(fw)! + 1);
        assert.equal(reply.hits, hits.get(fw), `request ${i}: ${fw}'s private counter`);
        for (const [name, value] of write) {
          if (value === undefined) model.delete(name);
          else model.set(name, value);
        }
      }
      assert.equal(served.size, FRAMEWORKS.length, 'every framework served some requests');

      // Afterwards every attribute holds exactly its last written value, on every framework.
      for (const fw of FRAMEWORKS) {
        const { attributes } = await client.json<Whoami>(url(fw, '/whoami'));
        assert.deepEqual(attributes, { ...Object.fromEntries(model), hits: hits.get(fw) }, fw);
      }
    });

    test('regenerate() on one framework: the old id loads nothing anywhere, the new one everything', async () => {
      const before = await client.json<Whoami>(url('hono', '/whoami'));
      const oldCookie = client.cookie;
      const { id } = await client.json<{ id: string }>(url('koa', '/regenerate'));
      assert.notEqual(id, before.id);
      assert.notEqual(client.cookie, oldCookie, 'the new id was sent as a cookie');
      const stale = new Client('');
      for (const fw of FRAMEWORKS) {
        stale.cookie = oldCookie;
        const old = await stale.json<Whoami>(url(fw, '/whoami'));
        assert.equal(old.isNew, true, `${fw} still loads the old id`);
        assert.deepEqual(old.attributes, {});
        const current = await client.json<Whoami>(url(fw, '/whoami'));
        assert.equal(current.id, id, fw);
        assert.equal(current.isNew, false);
        assert.deepEqual(current.attributes, { ...Object.fromEntries(model), hits: hits.get(fw) }, fw);
      }
    });

    test('a logout on another framework logs the session out of all of them', async () => {
      const cookie = client.cookie;
      await client.json(url('fastify', '/logout'));
      assert.equal(client.cookie, '', 'the logout cleared the cookie');
      const replay = new Client('');
      for (const fw of FRAMEWORKS) {
        // Even a client that kept the old cookie has no session any more.
        replay.cookie = cookie;
        const seen = await replay.json<Whoami>(url(fw, '/whoami'));
        assert.equal(seen.isNew, true, `${fw} still has the session`);
        assert.deepEqual(seen.attributes, {});
        const fresh = await client.json<Whoami>(url(fw, '/whoami'));
        assert.equal(fresh.isNew, true);
        assert.deepEqual(fresh.attributes, {});
      }
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'unisession-cross-'));
after(() => rmSync(dir, { recursive: true, force: true }));
crossFramework('sqlite', () => ({ E2E_STORE: 'sqlite', E2E_SQLITE_FILE: join(dir, 'sessions.sqlite') }));

if (process.env.REDIS_URL) {
  crossFramework('redis', () => ({
    E2E_STORE: 'redis',
    REDIS_URL: process.env.REDIS_URL!,
    // A group of its own, so that runs never see each other's keys.
    E2E_GROUP: `e2e_${process.pid}_${Date.now()}`,
  }));
} else {
  test('five frameworks on one redis store', {
    skip: 'REDIS_URL is not set (npm test sets it)',
  }, () => {});
}
