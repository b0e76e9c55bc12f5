import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { migrate } from '../../src/cli/migrate.js';
import { postgresStore, postgresTables } from '../../src/stores/postgres.js';
import { server } from '../helpers/servers.js';
import { capability, runStoreConformance, sampleMeta, uniqueGroup } from './conformance.js';
import { OLD_ROW_VALUES, oldSessionsTableSql } from './sql-migration.js';

const url = await server('postgres');

runStoreConformance('postgres', () => postgresStore({ url, group: uniqueGroup() }));
// A pool the app already has: the store uses it and leaves it open.
const ownPool = new pg.Pool({ connectionString: url, max: 4 });
after(() => ownPool.end());
runStoreConformance('postgres (own pool, schema)', () =>
  postgresStore({ pool: ownPool, group: uniqueGroup(), schema: uniqueGroup('s') }),
);

describe('postgres store: schema', () => {
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  after(() => admin.end());

  async function tableNames(group: string, schema = 'public'): Promise<string[]> {
    const { rows } = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE $2 ORDER BY 1',
      [schema, `${group}\\_%`],
    );
    return rows.map((row) => row.table_name);
  }

  it('creates the schema once when three processes start at the same moment', async () => {
    const group = uniqueGroup();
    const stores = [1, 2, 3].map(() => postgresStore({ url, group }));
    try {
      // Each store's first use runs the DDL; they race on a fresh group.
      const metas = stores.map(() => sampleMeta());
      await Promise.all(stores.map((store, i) => store.create(metas[i]!, new Map([[':n', String(i)]]))));
      for (const [i, meta] of metas.entries()) {
        const loaded = await stores[(i + 1) % 3]!.load(meta.id, 'all', Date.now());
        assert.equal(loaded?.attributes.get(':n'), String(i));
      }
      assert.deepEqual(await tableNames(group), [
        `${group}_attributes`,
        `${group}_audit`,
        `${group}_leases`,
        `${group}_sessions`,
        `${group}_state`,
        `${group}_tickets`,
      ]);
      const { rows } = await admin.query('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1', [
        `${group}_sessions`,
      ]);
      assert.deepEqual(
        rows.map((row) => row.indexname),
        [
          `${group}_sessions_accessed`,
          `${group}_sessions_app`,
          `${group}_sessions_created`,
          `${group}_sessions_expires`,
          `${group}_sessions_pkey`,
          `${group}_sessions_principal`,
          `${group}_sessions_principal_accessed`,
        ],
      );
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('migrate() creates the tables that a createSchema:false store then uses', async () => {
    const group = uniqueGroup();
    const schema = uniqueGroup('m');
    const store = postgresStore({ url, group, schema, createSchema: false });
    try {
      await assert.rejects(store.load('nope', 'all', Date.now()), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'UNISESSION_STORE_UNAVAILABLE');
        // The driver's text stays on `cause`; the message carries only the safe hint.
        assert.match((error.cause as Error).message, /does not exist/);
        assert.match(error.message, /do not exist.*unisession migrate/);
        return true;
      });
      await migrate({ url, group, schema });
      await migrate({ url, group, schema }); // idempotent
      assert.deepEqual(await tableNames(group, schema), [
        `${group}_attributes`,
        `${group}_audit`,
        `${group}_leases`,
        `${group}_sessions`,
        `${group}_state`,
        `${group}_tickets`,
      ]);
      const meta = sampleMeta();
      await store.create(meta, new Map([[':a', '1']]));
      assert.equal((await store.load(meta.id, 'all', Date.now()))?.attributes.get(':a'), '1');
    } finally {
      await store.close();
    }
  });

  it('adds the new metadata columns to a sessions table made by an older release, keeping its rows', async () => {
    const group = uniqueGroup();
    const schema = uniqueGroup('o');
    const table = `"${schema}"."${group}_sessions"`;
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(oldSessionsTableSql(table, 'BIGINT'));
    const now = Date.now();
    await admin.query(
      `INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      OLD_ROW_VALUES('old-id', now),
    );
    const store = postgresStore({ url, group, schema });
    try {
      const old = await store.load('old-id', 'all', Date.now());
      assert.deepEqual(
        [old?.meta.principal, old?.meta.createdUrl, old?.meta.lastUrl, old?.meta.lastHost],
        ['old-user', '', '', ''],
      );
      assert.notEqual(await store.update('old-id', { meta: { lastUrl: '/now', lastHost: 'n2' } }), false);
      assert.equal((await store.load('old-id', [], Date.now()))?.meta.lastUrl, '/now');
      const page = await capability(store, 'listing').list({ sort: 'lastAccessedAt' });
      assert.deepEqual(
        page.sessions.map((meta) => meta.id),
        ['old-id'],
      );
    } finally {
      await store.close();
    }
  });

  it('rejects unsafe names before touching the server', async () => {
    assert.throws(() => postgresStore({ url, group: 'x"; DROP TABLE y; --' }), {
      code: 'UNISESSION_INVALID_OPTION',
    });
    assert.throws(() => postgresStore({ url, schema: 'a.b' }), { code: 'UNISESSION_INVALID_OPTION' });
    assert.throws(() => postgresStore({}), { code: 'UNISESSION_INVALID_OPTION' });
    await assert.rejects(migrate({ url, group: 'bad name' }), { code: 'UNISESSION_INVALID_OPTION' });
    assert.equal(postgresTables({ group: 'g', schema: 's' }).sessions, '"s"."g_sessions"');
  });

  it('fails fast with STORE_UNAVAILABLE when nothing listens, and says so from migrate() too', async () => {
    const dead = 'postgres://postgres@127.0.0.1:1/unisession';
    const store = postgresStore({ url: dead, group: uniqueGroup() });
    const started = Date.now();
    await assert.rejects(store.load('x', 'all', Date.now()), { code: 'UNISESSION_STORE_UNAVAILABLE' });
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    await store.close();
    await assert.rejects(migrate({ url: dead }), { code: 'UNISESSION_STORE_UNAVAILABLE' });
  });

  it('takes a group with a hyphen, as every store does (identifiers are quoted)', async () => {
    const group = `my-portal-${uniqueGroup()}`;
    const store = postgresStore({ url, group, schema: `${uniqueGroup('s')}` });
    try {
      const meta = sampleMeta({ principal: 'ann', expiresAt: Date.now() - 1 });
      await store.create(meta, new Map([[':a', '1']]));
      assert.equal(store.group, group);
      assert.equal(await capability(store, 'listing').count({}), 1);
      assert.deepEqual(await capability(store, 'principals').find('ann'), [meta.id]);
      assert.deepEqual(
        (await capability(store, 'sweeping').sweep(Date.now(), 10)).map((swept) => swept.id),
        [meta.id],
      );
    } finally {
      await store.close();
    }
  });

  it('refuses to rename onto an id that exists', async () => {
    const store = postgresStore({ url, group: uniqueGroup() });
    try {
      const one = sampleMeta();
      const two = sampleMeta();
      await store.create(one, new Map([[':a', '1']]));
      await store.create(two, new Map([[':a', '2']]));
      await assert.rejects(store.rename(one.id, two.id), { code: 'UNISESSION_SESSION_EXISTS' });
      assert.equal((await store.load(one.id, 'all', Date.now()))?.attributes.get(':a'), '1');
      assert.equal((await store.load(two.id, 'all', Date.now()))?.attributes.get(':a'), '2');
    } finally {
      await store.close();
    }
  });
});
