/**
 * The helper a test file uses to reach a server, and one server module end to end. A file
 * whose server is missing is skipped with the reason when run by hand, and fails under CI or
 * in a whole run. The memcached module starts its server in a state directory and on ports of
 * its own, reuses it, stops it, and refuses a port that something else holds.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { port, readPid } from '../../scripts/servers/kit.js';
import { memcached, memcachedPing } from '../../scripts/servers/memcached.js';
import { freePort } from '../helpers/server.js';
import { installed } from '../helpers/servers.js';
import { cleanEnv, freeOffset, occupy, removeTempDirs, runCommand, tempDir } from './fixtures/env.js';

await installed('memcached');

after(removeTempDirs);

const fixture = (name: string, env: NodeJS.ProcessEnv) =>
  runCommand(process.execPath, ['--import', 'tsx', '--test', `test/scripts/fixtures/${name}.ts`], env);

describe('a test file whose server is missing', () => {
  it('is skipped by hand, with the reason and the command that starts it', async () => {
    const { code, output } = await fixture('needs-redis', cleanEnv());
    assert.equal(code, 0, output);
    assert.match(
      output,
      /# SKIP redis is not running \(REDIS_URL is not set\): run `npm test -- test\/scripts\/fixtures\/needs-redis\.ts`, which starts it/,
    );
    assert.match(output, /# skipped 1\n/);
    assert.doesNotMatch(output, /ran against/);
  });

  it('says so when nothing answers at the address it was given', async () => {
    const closed = await freePort();
    const { code, output } = await fixture(
      'needs-redis',
      cleanEnv({ REDIS_URL: `redis://127.0.0.1:${closed}` }),
    );
    assert.equal(code, 0, output);
    assert.match(
      output,
      new RegExp(`# SKIP redis is not running \\(nothing answers on 127\\.0\\.0\\.1:${closed}\\)`),
    );
  });

  it('is skipped when the program it needs is not installed', async () => {
    const { code, output } = await fixture(
      'needs-chromium',
      cleanEnv({ CHROMIUM_PATH: '/nonexistent/chromium' }),
    );
    assert.equal(code, 0, output);
    assert.match(output, /# SKIP chromium is not installed: run `npm test -- [^`]+`, which installs it/);
  });

  for (const [where, env] of [
    ['under CI', { CI: 'true' }],
    ['in a whole run', { UNISESSION_REQUIRE_SERVERS: '1' }],
  ] as const) {
    it(`fails ${where}`, async () => {
      const { code, output } = await fixture('needs-redis', cleanEnv(env));
      assert.equal(code, 1, output);
      assert.match(
        output,
        /redis is not running \(REDIS_URL is not set\): under CI, and in a whole run, a missing server fails the file/,
      );
      assert.doesNotMatch(output, /# SKIP/);
    });
  }

  it('runs when something answers there', async () => {
    const held = await occupy(0);
    try {
      const { code, output } = await fixture(
        'needs-redis',
        cleanEnv({ REDIS_URL: `redis://127.0.0.1:${held.offset}`, CI: '1' }),
      );
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`# ran against redis://127\\.0\\.0\\.1:${held.offset}`));
    } finally {
      await held.close();
    }
  });
});

describe('scripts/servers/memcached.ts', () => {
  const ports = () => [port(11311), port(11312)];
  const pids = (dir: string) => ports().map((at) => readPid(join(dir, 'run', `memcached-${at}.pid`)));

  before(async () => {
    process.env.UNISESSION_PORT_OFFSET = String(await freeOffset([11311, 11312]));
  });
  after(() => {
    delete process.env.UNISESSION_SERVICES_DIR;
    delete process.env.UNISESSION_PORT_OFFSET;
  });

  it('starts two memcached on its ports, reuses them on a second start, and stops them', async () => {
    const dir = tempDir('servers');
    process.env.UNISESSION_SERVICES_DIR = dir;
    try {
      await memcached.start!();
      for (const at of ports()) assert.equal(await memcachedPing(at), true, `memcached on ${at}`);
      const first = pids(dir);
      assert.ok(first.every(Boolean), 'a pid file for each');
      assert.deepEqual(memcached.env('running'), {
        MEMCACHED_NODES: ports()
          .map((at) => `127.0.0.1:${at}`)
          .join(','),
      });

      await memcached.start!();
      assert.deepEqual(pids(dir), first, 'the running ones are reused');
      assert.equal((await memcached.status()).up, true);
    } finally {
      await memcached.stop!();
    }
    for (const at of ports()) assert.equal(await memcachedPing(at), false, `stopped on ${at}`);
    assert.ok(!existsSync(join(dir, 'run', `memcached-${ports()[0]}.pid`)), 'the pid file is gone');
    assert.equal((await memcached.status()).up, false);
  });

  it('refuses a port that something else holds, and leaves it alone', async () => {
    const held = await occupy(11311);
    process.env.UNISESSION_PORT_OFFSET = String(held.offset);
    process.env.UNISESSION_SERVICES_DIR = tempDir('servers');
    try {
      await assert.rejects(
        memcached.start!(),
        new RegExp(`^Error: port ${port(11311)} is in use by something that is not our memcached`),
      );
      await memcached.stop!();
      assert.equal(await memcachedPing(port(11312)), false, 'nothing was started');
    } finally {
      await held.close();
    }
  });

  it('refuses a port offset that is not a whole number', () => {
    process.env.UNISESSION_PORT_OFFSET = '10k';
    assert.throws(
      () => port(11311),
      /^Error: UNISESSION_PORT_OFFSET must be a whole number from 0 to 40000, got "10k"$/,
    );
  });
});
