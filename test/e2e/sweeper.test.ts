/** Two processes sweep one store: each expired session fires `destroyed` exactly once. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { startNode, stopNode } from '../helpers/processes.js';
import { capability, sampleMeta } from '../stores/conformance.js';

for (const lease of ['on', 'off']) {
  describe(`sweeper in two processes, lease ${lease}`, () => {
    it('fires destroyed/expired exactly once per session across the processes', async () => {
      const db = join(mkdtempSync(join(tmpdir(), 'unisession-sweep-')), 'sessions.sqlite');
      const store = sqliteStore({ file: db });
      const expiring = Array.from({ length: 60 }, (_, i) =>
        sampleMeta({ app: 'sweep', expiresAt: Date.now() + 300 + i * 5 }),
      );
      const alive = sampleMeta({ app: 'sweep', expiresAt: Date.now() + 3_600_000 });
      for (const meta of [...expiring, alive]) await store.create(meta, new Map([[':a', '1']]));
      const nodes = [
        await startNode('test/e2e/fixtures/sweeper-node.ts', { DB: db, LEASE: lease }),
        await startNode('test/e2e/fixtures/sweeper-node.ts', { DB: db, LEASE: lease }),
      ];
      try {
        const events = () =>
          nodes.flatMap((node) =>
            node.output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)),
          );
        for (let waited = 0; events().length < expiring.length && waited < 10_000; waited += 100)
          await sleep(100);
        await sleep(300);
        const seen = events();
        assert.deepEqual(
          seen.map((e) => e.reason),
          Array(expiring.length).fill('expired'),
        );
        assert.deepEqual(seen.map((e) => e.id).sort(), expiring.map((m) => m.id).sort());
        assert.ok(await store.load(alive.id, [], Date.now()), 'a live session is not swept');
        assert.equal(await capability(store, 'listing').count({}), 1);
      } finally {
        await Promise.all(nodes.map((node) => stopNode(node)));
        await store.close();
      }
    });
  });
}
