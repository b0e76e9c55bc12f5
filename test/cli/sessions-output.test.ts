/** What `unisession sessions` prints, without a store: CSV cells, table cells, values. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { csv, sessionTable } from '../../src/cli/sessions/list.js';
import { duration, jsonSafe, readable } from '../../src/cli/sessions/output.js';
import { sampleMeta } from '../stores/conformance.js';

it('CSV keeps ids exact and turns client-controlled formulas into text', () => {
  const meta = sampleMeta({
    id: '-qN3abc',
    principal: '=1+1',
    userAgent: '@SUM(A1), "quoted"',
    clientAddress: '10.0.0.1',
  });
  const [header, row] = csv([meta]).split('\r\n');
  assert.ok(header!.startsWith('id,app,principal,clientAddress,'));
  assert.ok(row!.startsWith('-qN3abc,'), row);
  assert.ok(row!.includes(",'=1+1,10.0.0.1,"), row);
  assert.ok(row!.includes(`"'@SUM(A1), ""quoted"""`), row);
});

it('tables escape control characters a stored value could carry', () => {
  const meta = sampleMeta({ principal: 'eve\u001b[2J\r' });
  const text = sessionTable([meta], Date.now());
  assert.ok(!text.includes('\u001b') && !text.includes('\r'), text);
  assert.match(text, /eve\\x1b\[2J\\x0d/);
});

it('renders values readably and as plain JSON', () => {
  assert.equal(readable(new Map([['a', 1]])), "Map(1) { 'a' => 1 }");
  assert.equal(readable('text'), '"text"');
  const circular: Record<string, unknown> = { when: new Date(0), tags: new Set(['x']), big: 10n };
  circular.self = circular;
  assert.deepEqual(jsonSafe(circular), {
    when: '1970-01-01T00:00:00.000Z',
    tags: ['x'],
    big: '10',
    self: '[circular]',
  });
  assert.deepEqual(jsonSafe(new Map([[1, 'one']])), [[1, 'one']]);
  assert.deepEqual(
    [duration(59_000), duration(61_000), duration(3_723_000), duration(90_061_000)],
    ['59s', '1m1s', '1h2m', '1d1h'],
  );
});
