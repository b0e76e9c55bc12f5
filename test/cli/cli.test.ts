import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { server } from '../helpers/servers.js';

await server('postgres');

const run = promisify(execFile);
const { DATABASE_URL: _ignored, ...env } = process.env;
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env });

it('unisession migrate creates the PostgreSQL tables of a group, and can run again', async () => {
  const url = process.env.PG_URL;
  assert.ok(url, 'PG_URL is not set: run through `npm test`, which starts PostgreSQL');
  const group = `m${randomBytes(4).toString('hex')}`;
  for (let i = 0; i < 2; i++) {
    const { stdout } = await cli('migrate', '--url', url, '--group', group);
    assert.match(stdout, new RegExp(`group "${group}" are in place`));
  }
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT tablename FROM pg_tables WHERE tablename LIKE $1 ORDER BY 1',
      [`${group}_%`],
    );
    assert.deepEqual(
      rows.map((row) => row.tablename),
      [`${group}_attributes`, `${group}_audit`, `${group}_leases`, `${group}_sessions`, `${group}_state`],
    );
  } finally {
    await client.end();
  }
});

it('unisession migrate without a url is a usage error with exit code 2', async () => {
  await assert.rejects(cli('migrate'), (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr, /--url is required/);
    return true;
  });
});
