/**
 * The monitoring centre's part of the store conformance suite (issue 10): the metadata it
 * shows, every filter, sort and cursor of `listing`, the `stats` aggregates and the `audit`
 * log. `runStoreConformance` runs it; each test is gated on the group it needs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AuditEntry, ListFilter, SessionMeta, Store } from '../../src/core/store.js';
import { capability, conformanceIt, sampleMeta } from './conformance.js';

const invalid = { code: 'UNISESSION_INVALID_ARGUMENT' };
const freshApp = () => `app${randomBytes(4).toString('hex')}`;

/** Every page of a listing, in order, checking that no session appears twice. */
async function allPages(store: Store, filter: ListFilter): Promise<SessionMeta[]> {
  const listing = capability(store, 'listing');
  const seen: SessionMeta[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await listing.list({ ...filter, ...(cursor === undefined ? {} : { cursor }) });
    seen.push(...page.sessions);
    cursor = page.next;
    if (cursor === undefined) break;
  }
  assert.equal(new Set(seen.map((meta) => meta.id)).size, seen.length, 'no session appears twice');
  return seen;
}

const ids = (metas: SessionMeta[]) => metas.map((meta) => meta.id);
const sorted = (values: string[]) => [...values].sort();

export function runMonitorConformance(getStore: () => Store): void {
  conformanceIt(
    'keeps the created URL, last URL and last host, and updates the last two with a touch',
    async () => {
      const store = getStore();
      const meta = sampleMeta({ createdUrl: '/signup', lastUrl: '/signup', lastHost: 'node-a' });
      await store.create(meta, new Map());
      const loaded = await store.load(meta.id, [], Date.now());
      assert.equal(loaded?.meta.createdUrl, '/signup');
      assert.equal(loaded?.meta.lastUrl, '/signup');
      assert.equal(loaded?.meta.lastHost, 'node-a');
      const now = Date.now();
      assert.notEqual(
        await store.update(meta.id, { meta: { lastAccessedAt: now, lastUrl: '/cart', lastHost: 'node-b' } }),
        false,
      );
      const touched = await store.load(meta.id, [], Date.now());
      assert.deepEqual(
        [
          touched?.meta.createdUrl,
          touched?.meta.lastUrl,
          touched?.meta.lastHost,
          touched?.meta.lastAccessedAt,
        ],
        ['/signup', '/cart', 'node-b', now],
      );
      if (store.listing) {
        const [listed] = (await store.listing.list({ id: meta.id })).sessions;
        assert.equal(listed?.lastUrl, '/cart');
        assert.equal(listed?.createdUrl, '/signup');
      }
    },
  );

  conformanceIt(
    'filters by id, prefix, address or CIDR, hosts, authentication and time ranges',
    async (t) => {
      const store = getStore();
      if (!store.listing) return t.skip('cannot list');
      const listing = store.listing;
      const app = freshApp();
      const now = Date.now();
      const at = (minutesAgo: number) => now - minutesAgo * 60_000;
      const inAnHour = { expiresAt: now + 3_600_000 };
      const sessions = {
        alice: sampleMeta({
          ...inAnHour,
          app,
          principal: `${app}-alice`,
          clientAddress: '10.1.2.3',
          host: 'h1',
          lastHost: 'h2',
          createdAt: at(90),
          lastAccessedAt: at(1),
        }),
        aliceMapped: sampleMeta({
          ...inAnHour,
          app,
          principal: `${app}-alice`,
          clientAddress: '::ffff:10.1.9.9',
          host: 'h1',
          lastHost: 'h1',
          createdAt: at(30),
          lastAccessedAt: at(20),
        }),
        bob: sampleMeta({
          ...inAnHour,
          app,
          principal: `${app}-bob`,
          clientAddress: '192.168.0.7',
          host: 'h2',
          lastHost: 'h2',
          createdAt: at(10),
          lastAccessedAt: at(5),
        }),
        anon6: sampleMeta({
          app,
          clientAddress: '2001:db8::1',
          host: 'h2',
          lastHost: 'h3',
          createdAt: at(60),
          lastAccessedAt: at(45),
          expiresAt: now + 5 * 60_000,
        }),
        forever: sampleMeta({
          app,
          clientAddress: '10.1.200.1',
          host: 'h3',
          lastHost: 'h3',
          createdAt: at(5),
          lastAccessedAt: at(2),
          expiresAt: null,
          maxInactive: 0,
        }),
      };
      await Promise.all(Object.values(sessions).map((meta) => store.create(meta, new Map())));
      const expect = async (filter: ListFilter, names: Array<keyof typeof sessions>, label: string) => {
        const wanted = sorted(names.map((name) => sessions[name].id));
        const { sort: _s, order: _o, limit: _l, cursor: _c, ...countFilter } = filter;
        assert.deepEqual(
          sorted(ids(await allPages(store, { app, ...filter, limit: 2 }))),
          wanted,
          `list ${label}`,
        );
        assert.equal(await listing.count({ app, ...countFilter }), wanted.length, `count ${label}`);
      };
      await expect({}, ['alice', 'aliceMapped', 'bob', 'anon6', 'forever'], 'all');
      await expect({ id: sessions.bob.id }, ['bob'], 'id');
      await expect({ idPrefix: sessions.bob.id.slice(0, 12) }, ['bob'], 'idPrefix');
      await expect({ idPrefix: '%' }, [], 'a LIKE wildcard matches literally');
      const swapCase = (text: string) =>
        [...text].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
      const flipped = swapCase(sessions.bob.id.slice(0, 12));
      if (flipped !== sessions.bob.id.slice(0, 12))
        await expect({ idPrefix: flipped }, [], 'idPrefix is case-sensitive');
      await expect({ clientAddress: '10.1.2.3' }, ['alice'], 'exact address');
      await expect(
        { clientAddress: '10.1.0.0/16' },
        ['alice', 'aliceMapped', 'forever'],
        'IPv4 CIDR, mapped form included',
      );
      await expect({ clientAddress: '10.1.0.0/17' }, ['alice', 'aliceMapped'], 'IPv4 CIDR off an octet');
      await expect({ clientAddress: '2001:db8::/32' }, ['anon6'], 'IPv6 CIDR');
      await expect({ clientAddress: '0.0.0.0/0' }, ['alice', 'aliceMapped', 'bob', 'forever'], 'every IPv4');
      await expect({ host: 'h1' }, ['alice', 'aliceMapped'], 'creating host');
      await expect({ lastHost: 'h2' }, ['alice', 'bob'], 'last host');
      await expect({ authenticated: true }, ['alice', 'aliceMapped', 'bob'], 'authenticated');
      await expect({ authenticated: false }, ['anon6', 'forever'], 'anonymous');
      await expect({ principal: `${app}-alice`, authenticated: true }, ['alice', 'aliceMapped'], 'principal');
      await expect({ createdAfter: at(30) }, ['aliceMapped', 'bob', 'forever'], 'createdAfter is inclusive');
      await expect({ createdBefore: at(30) }, ['alice', 'anon6'], 'createdBefore is exclusive');
      await expect({ accessedAfter: at(5), accessedBefore: at(1) }, ['bob', 'forever'], 'access range');
      await expect({ accessedBefore: at(10) }, ['aliceMapped', 'anon6'], 'idle longer than 10 minutes');
      await expect({ expiresBefore: now + 10 * 60_000 }, ['anon6'], 'expiring soon; never-expiring excluded');
      await expect({ clientAddress: '10.1.0.0/16', host: 'h3', lastHost: 'h3' }, ['forever'], 'combined');
    },
  );

  conformanceIt(
    'sorts by last access or creation, either way, paging with a cursor that skips nothing',
    async (t) => {
      const store = getStore();
      if (!store.listing) return t.skip('cannot list');
      const app = freshApp();
      const now = Date.now();
      // Ties on purpose: the order falls back to the id, so paging through them skips none.
      const metas = Array.from({ length: 9 }, (_, i) =>
        sampleMeta({ app, lastAccessedAt: now - Math.floor(i / 3) * 1000, createdAt: now - 100_000 + i }),
      );
      await Promise.all(metas.map((meta) => store.create(meta, new Map())));
      const byAccess = await allPages(store, { app, sort: 'lastAccessedAt', limit: 2 });
      assert.equal(byAccess.length, 9);
      for (let i = 1; i < byAccess.length; i++) {
        const [a, b] = [byAccess[i - 1]!, byAccess[i]!];
        assert.ok(
          a.lastAccessedAt > b.lastAccessedAt || (a.lastAccessedAt === b.lastAccessedAt && a.id > b.id),
          'newest access first (default desc), ties by id',
        );
      }
      const byCreation = await allPages(store, { app, sort: 'createdAt', order: 'asc', limit: 4 });
      assert.deepEqual(ids(byCreation), ids(metas), 'oldest first');
      const newestFirst = await allPages(store, { app, sort: 'createdAt', limit: 5 });
      assert.deepEqual(ids(newestFirst), ids(metas).reverse(), 'createdAt defaults to newest first');
      const idDesc = await allPages(store, { app, sort: 'id', order: 'desc', limit: 3 });
      assert.deepEqual(ids(idDesc), [...ids(idDesc)].sort().reverse());
      assert.deepEqual(sorted(ids(idDesc)), sorted(ids(metas)));
      const principal = `${app}-p`;
      await Promise.all(metas.slice(0, 4).map((meta) => store.update(meta.id, { meta: { principal } })));
      const theirs = await allPages(store, { principal, sort: 'lastAccessedAt', limit: 1 });
      assert.deepEqual(
        ids(theirs),
        ids(metas.slice(0, 4))
          .sort((a, b) => (a < b ? 1 : -1))
          .sort((a, b) => {
            const [ma, mb] = [metas.find((m) => m.id === a)!, metas.find((m) => m.id === b)!];
            return mb.lastAccessedAt - ma.lastAccessedAt || (a < b ? 1 : -1);
          }),
      );
    },
  );

  conformanceIt(
    'refuses forged and foreign cursors and bad filter values with UNISESSION_INVALID_ARGUMENT',
    async (t) => {
      const store = getStore();
      if (!store.listing) return t.skip('cannot list');
      const listing = store.listing;
      const app = freshApp();
      await Promise.all([1, 2, 3].map(() => store.create(sampleMeta({ app }), new Map())));
      const page = await listing.list({ app, limit: 1 });
      assert.ok(page.next);
      await assert.rejects(
        listing.list({ app, limit: 1, sort: 'lastAccessedAt', cursor: page.next }),
        invalid,
        'foreign',
      );
      await assert.rejects(
        listing.list({ app, limit: 1, order: 'desc', cursor: page.next }),
        invalid,
        'other order',
      );
      for (const cursor of ['abc', 'not base64!', Buffer.from('c1.la.x.y').toString('base64url'), '']) {
        await assert.rejects(listing.list({ app, cursor }), invalid, `forged ${cursor}`);
      }
      const bad: Array<Record<string, unknown>> = [
        { clientAddress: 'not-an-address' },
        { clientAddress: '10.0.0.0/33' },
        { clientAddress: '2001:db8::/129' },
        { clientAddress: 7 },
        { sort: 'principal' },
        { order: 'up' },
        { authenticated: 'yes' },
        { createdAfter: '5' },
        { accessedBefore: Number.NaN },
        { expiresBefore: null },
        { idPrefix: { $ne: null } },
        { lastHost: ['h1'] },
      ];
      for (const filter of bad) {
        await assert.rejects(listing.list(filter as ListFilter), invalid, JSON.stringify(filter));
        if (!('sort' in filter) && !('order' in filter))
          await assert.rejects(listing.count(filter as ListFilter), invalid, JSON.stringify(filter));
      }
    },
  );

  conformanceIt('computes statistics in the store that equal what was written', async (t) => {
    const store = getStore();
    if (!store.stats) return t.skip('no stats');
    const stats = capability(store, 'stats');
    const app = freshApp();
    const now = Date.now();
    const min = 60_000;
    const write = (overrides: Partial<SessionMeta>) =>
      store.create(sampleMeta({ app, ...overrides }), new Map());
    await Promise.all([
      // p1 twice and online; p2 seen 20 minutes ago; two anonymous; one expired, not swept.
      write({ principal: `${app}-p1`, host: 'a', createdAt: now - 10 * min, lastAccessedAt: now - 30_000 }),
      write({
        principal: `${app}-p1`,
        host: 'b',
        createdAt: now - 2 * 3_600_000,
        lastAccessedAt: now - 2 * min,
      }),
      write({
        principal: `${app}-p2`,
        host: 'a',
        createdAt: now - 2 * 86_400_000,
        lastAccessedAt: now - 20 * min,
      }),
      write({ host: 'a', createdAt: now - 30 * min, lastAccessedAt: now - 10 * min }),
      write({
        host: 'c',
        createdAt: now - 40 * 86_400_000,
        lastAccessedAt: now - 2 * 86_400_000,
        expiresAt: null,
        maxInactive: 0,
      }),
      write({
        principal: `${app}-p3`,
        host: 'a',
        createdAt: now - 3 * min,
        lastAccessedAt: now - 3 * min,
        expiresAt: now - 1000,
      }),
      write({
        principal: `${app}-p3`,
        host: 'a',
        createdAt: now - 5 * min,
        lastAccessedAt: now - 5 * min,
        expiresAt: now - 5000,
      }),
    ]);
    // Another app's session, which an app-scoped query must not count.
    await store.create(sampleMeta({ app: freshApp(), principal: `${app}-p1` }), new Map());
    const result = await stats.compute({
      now,
      app,
      onlineSince: now - 5 * min,
      idleBounds: [min, 15 * min, 3_600_000],
      ageBounds: [3_600_000, 86_400_000],
    });
    assert.deepEqual(result, {
      live: 5,
      authenticated: 3,
      usersOnline: 1,
      createdLastHour: 2,
      createdLastDay: 3,
      idle: [
        { le: min, count: 1 },
        { le: 15 * min, count: 2 },
        { le: 3_600_000, count: 1 },
        { le: null, count: 1 },
      ],
      age: [
        { le: 3_600_000, count: 2 },
        { le: 86_400_000, count: 1 },
        { le: null, count: 2 },
      ],
      perHost: [
        { host: 'a', sessions: 3 },
        { host: 'b', sessions: 1 },
        { host: 'c', sessions: 1 },
      ],
      expiredPending: 2,
      oldestExpiredAt: now - 5000,
    });
    const all = await stats.compute({ now, onlineSince: now - 5 * min, idleBounds: [], ageBounds: [] });
    assert.ok(all.live >= 6, 'the whole group counts the other app too');
    assert.equal(all.idle.length, 1);
    assert.equal(all.idle[0]?.le, null);
    assert.equal(all.idle[0]?.count, all.live);
    for (const query of [
      { now, onlineSince: now, idleBounds: [5, 1], ageBounds: [] },
      { now, onlineSince: now, idleBounds: [-1], ageBounds: [] },
      { now: '1', onlineSince: now, idleBounds: [], ageBounds: [] },
      { now, onlineSince: now, idleBounds: [], ageBounds: 'x' },
      { now, onlineSince: now, idleBounds: [], ageBounds: [], app: { $ne: 1 } },
    ]) {
      await assert.rejects(stats.compute(query as never), invalid, JSON.stringify(query));
    }
  });

  conformanceIt('notes sweeper runs and reads back the last one', async (t) => {
    const store = getStore();
    if (!store.stats) return t.skip('no stats');
    const stats = capability(store, 'stats');
    const holder = `node-${randomBytes(3).toString('hex')}`;
    await stats.noteSweep({ at: 1000, removed: 3, durationMs: 12, holder });
    await stats.noteSweep({ at: 2000, removed: 5, durationMs: 7, holder });
    assert.deepEqual(await stats.lastSweep(), { at: 2000, removed: 5, durationMs: 7, holder });
    await assert.rejects(stats.noteSweep({ at: 'x', removed: 1, durationMs: 1, holder } as never), invalid);
  });

  conformanceIt('appends to the audit log and pages it newest first', async (t) => {
    const store = getStore();
    if (!store.audit) return t.skip('no audit log');
    const audit = capability(store, 'audit');
    const actor = `ops-${randomBytes(3).toString('hex')}`;
    const entries: AuditEntry[] = Array.from({ length: 5 }, (_, i) => ({
      at: 1_700_000_000_000 + i,
      actor,
      scope: i % 2 ? 'all' : 'shop',
      action: 'destroy',
      target: `session ${i}`,
      count: i,
      ...(i === 4 ? { detail: { dryRun: false, filter: 'principal=alice', took: 3 } } : {}),
    }));
    for (const entry of entries) await audit.append(entry);
    const read: AuditEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await audit.list({ limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      read.push(...page.entries.filter((entry) => entry.actor === actor));
      cursor = page.next;
    } while (cursor !== undefined && read.length < 5);
    assert.deepEqual(read, [...entries].reverse());
    await assert.rejects(audit.list({ limit: 2, cursor: 'forged' }), invalid);
    await assert.rejects(audit.list({ limit: 0 }), invalid);
    await assert.rejects(audit.append({ ...entries[0]!, actor: { $ne: 1 } } as never), invalid);
    await assert.rejects(audit.append({ ...entries[0]!, detail: { nested: { a: 1 } } } as never), invalid);
  });
}
