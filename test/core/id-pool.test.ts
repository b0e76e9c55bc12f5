/** Session ids come from a pool of random bytes: across refills they stay well formed and never repeat. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { generateSessionId, isWellFormedSessionId } from '../../src/core/id.js';

it('gives 32-character ids, all different, across several refills of the pool', () => {
  const ids = Array.from({ length: 2000 }, generateSessionId);
  for (const id of ids) assert.ok(isWellFormedSessionId(id), id);
  assert.equal(new Set(ids).size, ids.length);
  // Random bytes, not a counter: the first character takes all 64 values.
  assert.equal(new Set(ids.map((id) => id[0])).size, 64);
});
