/**
 * SQLite fails like every other store: a file it cannot open is UNISESSION_STORE_UNAVAILABLE
 * whose message names only the store (the driver's text, with the path, stays on `cause`),
 * and the store opens the file on a later call once it can.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { sampleMeta } from './conformance.js';

it('reports a file it cannot open as UNISESSION_STORE_UNAVAILABLE, and opens it once it can', async () => {
  const directory = join(mkdtempSync(join(tmpdir(), 'unisession-')), 'not-yet');
  const store = sqliteStore({ file: join(directory, 'sessions.sqlite') });
  try {
    const meta = sampleMeta();
    await assert.rejects(store.create(meta, new Map()), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'UNISESSION_STORE_UNAVAILABLE');
      assert.equal(error.message, 'The session store is unavailable: sqlite');
      assert.match((error.cause as Error).message, /directory does not exist/);
      return true;
    });
    mkdirSync(directory);
    await store.create(meta, new Map([[':a', '1']]));
    assert.equal((await store.load(meta.id, 'all', Date.now()))?.attributes.get(':a'), '1');
  } finally {
    await store.close();
  }
});
