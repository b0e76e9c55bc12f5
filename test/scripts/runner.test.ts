/**
 * scripts/test.ts, the runner behind `npm test`: files that need no server install and start
 * nothing; a server that cannot be started skips its files when a developer picks them, and
 * fails the run under CI.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, it } from 'node:test';
import { installed } from '../helpers/servers.js';
import { cleanEnv, occupy, type Ran, removeTempDirs, runCommand, tempDir } from './fixtures/env.js';

await installed('redis'); // the runner asks redis-cli whether a port holds a Redis

after(removeTempDirs);

const runner = (args: string[], env: NodeJS.ProcessEnv) =>
  runCommand(process.execPath, ['--import', 'tsx', 'scripts/test.ts', ...args], env);

/** Every program a server module could run, each replaced by one that notes its call and fails. */
const PROGRAMS = [
  'apt-get',
  'sudo',
  'flock',
  'redis-server',
  'redis-cli',
  'memcached',
  'java',
  'mvn',
  'psql',
  'runuser',
];

it('runs files that need no server without installing or starting anything', async () => {
  const spies = tempDir('spies');
  const calls = join(spies, 'calls');
  for (const program of PROGRAMS) {
    writeFileSync(join(spies, program), `#!/bin/sh\necho "${program} $*" >> ${calls}\nexit 1\n`);
    chmodSync(join(spies, program), 0o755);
  }
  const state = join(tempDir('state'), 'services');
  const env = cleanEnv({ PATH: `${spies}${delimiter}${process.env.PATH}`, UNISESSION_SERVICES_DIR: state });
  const { code, output } = await runner(['test/core/errors.test.ts'], env);
  assert.equal(code, 0, output);
  assert.match(output, /# fail 0\n/);
  assert.equal(existsSync(calls) ? readFileSync(calls, 'utf8') : '', '', 'no program was run');
  assert.equal(existsSync(state), false, 'no state directory was made');
  assert.doesNotMatch(output, /\[servers\]/);
});

/** Runs the file that needs redis while something else holds the port redis would take. */
async function withRedisPortHeld(extra: Record<string, string>): Promise<Ran & { port: number }> {
  const held = await occupy(6390);
  try {
    const env = cleanEnv({
      ...extra,
      UNISESSION_SERVICES_DIR: tempDir('state'),
      UNISESSION_PORT_OFFSET: String(held.offset),
    });
    return { ...(await runner(['test/scripts/fixtures/needs-redis.ts'], env)), port: 6390 + held.offset };
  } finally {
    await held.close();
  }
}

it('skips a hand-picked file whose server cannot be started, saying why', async () => {
  const { code, output, port } = await withRedisPortHeld({});
  assert.equal(code, 0, output);
  assert.match(
    output,
    new RegExp(
      `redis could not be provided, so its tests will skip: port ${port} is in use by something that is not our redis`,
    ),
  );
  assert.match(output, /# SKIP redis is not running \(REDIS_URL is not set\)/);
});

it('fails the run under CI when a server cannot be started', async () => {
  const { code, output, port } = await withRedisPortHeld({ CI: 'true' });
  assert.equal(code, 1, output);
  assert.match(output, new RegExp(`ERROR: port ${port} is in use by something that is not our redis`));
  assert.doesNotMatch(output, /TAP version/, 'no test ran');
});
