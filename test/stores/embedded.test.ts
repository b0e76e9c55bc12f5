import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { memoryStore } from '../../src/stores/memory.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { capability, runStoreConformance, uniqueGroup } from './conformance.js';
import { OLD_ROW_VALUES, oldSessionsTableSql } from './sql-migration.js';

runStoreConformance('memory', () => memoryStore());
runStoreConformance('sqlite', () =>
  sqliteStore({
    file: join(mkdtempSync(join(tmpdir(), 'unisession-')), 'sessions.sqlite'),
    group: uniqueGroup(),
  }),
);

it('sqlite: adds the new metadata columns to a sessions table made by an older release, keeping its rows', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'unisession-')), 'old.sqlite');
  const group = uniqueGroup();
  const db = new Database(file);
  db.exec(oldSessionsTableSql(`"${group}_sessions"`, 'INTEGER'));
  const now = Date.now();
  db.prepare(`INSERT INTO "${group}_sessions" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
    ...OLD_ROW_VALUES('old-id', now),
  );
  db.close();
  // Two stores open the old file at once: the columns are added once, without an error.
  const stores = [sqliteStore({ file, group }), sqliteStore({ file, group })];
  try {
    const [first, second] = await Promise.all(stores.map((store) => store.load('old-id', 'all', Date.now())));
    assert.deepEqual(
      [first?.meta.principal, first?.meta.createdUrl, first?.meta.lastUrl, first?.meta.lastHost],
      ['old-user', '', '', ''],
    );
    assert.equal(second?.meta.id, 'old-id');
    assert.equal(first?.version, 0, 'a row from before versions reads as version 0');
    assert.equal(
      await stores[0]!.update('old-id', { meta: { lastUrl: '/now', lastHost: 'n2' } }),
      true,
      'a touch keeps it at 0, reported as true',
    );
    assert.equal((await stores[1]!.load('old-id', [], Date.now()))?.meta.lastHost, 'n2');
    const page = await capability(stores[0]!, 'listing').list({ sort: 'createdAt' });
    assert.deepEqual(
      page.sessions.map((meta) => meta.id),
      ['old-id'],
    );
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
});
