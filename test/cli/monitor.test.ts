/** `unisession monitor` as a process over a real SQLite file: credentials, local-only, refusals, hash. */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { defaultCodec } from '../../src/codec/json.js';
import { SessionManager } from '../../src/core/manager.js';
import { hashSecret, verifySecret } from '../../src/monitor/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { DirectClient } from '../helpers/direct-client.js';
import { uniqueGroup } from '../stores/conformance.js';

const run = promisify(execFile);
const ARGS = ['--import', 'tsx', 'src/cli/index.ts', 'monitor'];

/** Starts the command and resolves with the URL it prints (and everything on stderr). */
function start(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [...ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
      if (url) resolve({ child, url, stderr: () => err });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('unisession monitor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unisession-monitor-cli-'));
  const file = join(dir, 'sessions.sqlite');
  const group = uniqueGroup('cli');

  it('serves the API and UI over the store with a credentials file', async () => {
    const store = sqliteStore({ file, group });
    const shop = new SessionManager({
      app: 'shop',
      store,
      codec: defaultCodec,
      sweeper: false,
      secret: 'cli-test',
    });
    await new DirectClient(shop).request(async (session) => {
      await session.set('user', 'dora');
      await session.setPrincipal('dora');
    });
    const credentials = join(dir, 'credentials.json');
    writeFileSync(
      credentials,
      JSON.stringify([
        { name: 'ops', secretHash: await hashSecret('cli-secret-123'), scope: 'all', role: 'operator' },
      ]),
    );
    const monitor = await start([
      '--store',
      `sqlite:${file}`,
      '--group',
      group,
      '--port',
      '0',
      '--credentials',
      credentials,
      '--apps',
      'shop',
    ]);
    try {
      const denied = await fetch(`${monitor.url}api/stats`);
      assert.equal(denied.status, 401);
      const stats = await fetch(`${monitor.url}api/stats`, {
        headers: { authorization: 'Bearer ops:cli-secret-123' },
      });
      assert.equal(stats.status, 200);
      const body = (await stats.json()) as {
        overall: { live: number };
        apps: Array<{ app: string; live: number }>;
      };
      assert.equal(body.overall.live, 1);
      assert.deepEqual(
        body.apps.map((a) => [a.app, a.live]),
        [['shop', 1]],
      );
      const list = (await (
        await fetch(`${monitor.url}api/sessions?principal=dora`, {
          headers: { authorization: 'Bearer ops:cli-secret-123' },
        })
      ).json()) as { sessions: unknown[] };
      assert.equal(list.sessions.length, 1);
      const login = await fetch(`${monitor.url}login`);
      assert.equal(login.status, 200);
    } finally {
      assert.equal(await stop(monitor.child), 0);
      await shop.close();
    }
  });

  it('--local-only prints a one-time token that works from loopback', async () => {
    const monitor = await start([
      '--store',
      `sqlite:${file}`,
      '--group',
      group,
      '--port',
      '0',
      '--local-only',
    ]);
    try {
      const token = /(local:[A-Za-z0-9_-]+)/.exec(monitor.stderr())?.[1];
      assert.ok(token, monitor.stderr());
      const me = await fetch(`${monitor.url}api/whoami`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(await me.json(), { name: 'local', scope: 'all', role: 'operator' });
    } finally {
      await stop(monitor.child);
    }
  });

  it('refuses to start without credentials, with both, or local-only on a public address (exit 2)', async () => {
    const cases = [
      ['--store', `sqlite:${file}`, '--group', group],
      ['--store', `sqlite:${file}`, '--local-only', '--credentials', 'x.json'],
      ['--store', `sqlite:${file}`, '--local-only', '--host', '0.0.0.0'],
      ['--group', group, '--local-only'],
      ['--store', `sqlite:${file}`, '--credentials', join(dir, 'missing.json')],
      ['--store', `sqlite:${file}`, '--port', 'http', '--local-only'],
    ];
    for (const args of cases) {
      await assert.rejects(
        run(process.execPath, [...ARGS, ...args]),
        (error: { code?: number; stderr?: string }) => {
          assert.equal(error.code, 2, args.join(' '));
          assert.match(error.stderr ?? '', /unisession monitor: /);
          return true;
        },
      );
    }
  });

  it('a credentials file with a plain secret is refused, naming the field', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify([{ name: 'ops', secretHash: 'hunter22', scope: 'all', role: 'operator' }]),
    );
    await assert.rejects(
      run(process.execPath, [...ARGS, '--store', `sqlite:${file}`, '--group', group, '--credentials', bad]),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? '', /credentials\[0\]\.secretHash/);
        return true;
      },
    );
  });

  it('`monitor hash` turns a secret on stdin into a verifiable hash', async () => {
    const child = spawn(process.execPath, [...ARGS, 'hash'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stdin.end('my monitor secret\n');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
    assert.equal(await verifySecret('my monitor secret', out.trim()), true);
  });

  it('--help describes the options', async () => {
    const { stdout } = await run(process.execPath, [...ARGS, '--help']);
    assert.match(stdout, /--local-only/);
    assert.match(stdout, /--credentials <file>/);
  });
});
