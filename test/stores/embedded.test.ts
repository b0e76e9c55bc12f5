import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryStore } from '../../src/stores/memory.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { runStoreConformance, uniqueGroup } from './conformance.js';

runStoreConformance('memory', () => memoryStore());
runStoreConformance('sqlite', () =>
  sqliteStore({
    file: join(mkdtempSync(join(tmpdir(), 'unisession-')), 'sessions.sqlite'),
    group: uniqueGroup(),
  }),
);
