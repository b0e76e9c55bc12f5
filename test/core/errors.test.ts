import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ERROR_CODES } from '../../src/core/errors.js';

it('documents every error code in the README, and no code that does not exist', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const documented = [...readme.matchAll(/^\| `(UNISESSION_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  const actual = Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]);
  assert.deepEqual(documented.sort(), actual.sort());
});
