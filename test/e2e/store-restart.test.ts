/**
 * A store with its data on disk is SIGKILLed under load, not stopped, and restarted; an
 * Express node (test/e2e/fixtures/failover-node.ts) serves counter increments from many
 * sessions throughout. No acknowledged write may be lost and no session corrupted.
 * - Redis with an append-only file, `appendfsync always`: the server is killed.
 * - PostgreSQL, a private instance (initdb): the whole server, postmaster and backends, is killed.
 * - FerretDB v1 on SQLite (the MongoDB store's second test server): the server is killed.
 * - SQLite: the store runs inside the app, so the app process itself is killed in the middle
 *   of its write loop (mid-commit), and a new process opens the same file.
 * The figures go to docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { CounterLoad, type LoadReport } from '../helpers/load.js';
import { RedisFleet, until } from '../helpers/private-redis.js';
import { type Node, startNode, stopNode } from '../helpers/processes.js';
import { freePort } from '../helpers/server.js';
import { installed } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';

await installed('redis');
const pgBin = await installed('postgres');
const ferretBin = await installed('ferretdb');

const FIXTURE = 'test/e2e/fixtures/failover-node.ts';
const SESSIONS = 30;
const dir = mkdtempSync(join(tmpdir(), 'unisession-restart-'));
const fleet = new RedisFleet();
const nodes: Node[] = [];
const crashes: Array<() => Promise<void>> = [];
after(async () => {
  for (const node of nodes) await stopNode(node, 'SIGKILL');
  for (const crash of crashes) await crash();
  await fleet.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

function describeReport(what: string, report: LoadReport, extra: string): string {
  return (
    `${what}: ${report.requests} requests from ${report.sessions} sessions, ${report.failed} failed ` +
    `${JSON.stringify(report.failures)} over ${report.failureWindowMs} ms, ${report.loggedOut} logged out, ` +
    `${report.lostWrites} acknowledged increments lost, ${report.appliedAfterFailure} applied after a failure${extra}`
  );
}

function assertNothingLost(report: LoadReport): void {
  assert.ok(report.ok >= 2000, `a steady load (${report.ok} answered)`);
  assert.equal(report.lostWrites, 0, 'lost acknowledged increments');
  assert.equal(report.loggedOut, 0, 'logged-out sessions');
}

/**
 * The shared scenario: one app node on `env`'s store under a steady counter load, the store
 * SIGKILLed and restarted, the load run on until it has done enough, then the audit: every
 * acknowledged increment is there and nobody was logged out.
 */
async function killAndRestartUnderLoad(
  t: TestContext,
  label: string,
  env: Record<string, string>,
  store: { kill(): Promise<void>; restart(): Promise<void> },
): Promise<void> {
  const node = await startNode(FIXTURE, env);
  nodes.push(node);
  const load = new CounterLoad(`http://127.0.0.1:${node.port}`, SESSIONS);
  load.start();
  await load.afterOk(1000);
  const killedAt = Date.now();
  await store.kill();
  await store.restart();
  const restartedMs = Date.now() - killedAt;
  await load.afterOk(Math.max(SESSIONS * 5, 2000 - load.okCount));
  await load.stop();
  const report = await load.verify();
  const recoveryMs = report.lastFailureAt === undefined ? 0 : report.lastFailureAt - killedAt;
  t.diagnostic(
    describeReport(
      label,
      report,
      `, accepting again ${restartedMs} ms after the kill, last failure ${recoveryMs} ms after it`,
    ),
  );
  assertNothingLost(report);
  await stopNode(node);
}

describe('store restart under load', () => {
  it('Redis with appendfsync always: SIGKILL the server, restart it, nothing acknowledged is lost', async (t) => {
    const redis = await fleet.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    await killAndRestartUnderLoad(
      t,
      'redis AOF always, SIGKILL + restart',
      { STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${redis.port}`, GROUP: uniqueGroup('aof') },
      { kill: () => fleet.kill(redis), restart: () => fleet.restart(redis) },
    );
  });

  it('SQLite: SIGKILL the app process mid-commit, a new process finds every acknowledged write', async (t) => {
    const file = join(dir, 'crash.sqlite');
    const env = { STORE: 'sqlite', SQLITE_FILE: file, GROUP: 'crash' };
    const port = await freePort();
    let node = await startNode(FIXTURE, { ...env, PORT: String(port) });
    nodes.push(node);
    const load = new CounterLoad(`http://127.0.0.1:${port}`, SESSIONS);
    load.start();
    let kills = 0;
    // Three crashes, each while 30 sessions are committing: some commit is always under way.
    for (; kills < 3; kills++) {
      await load.afterOk(600);
      await stopNode(node, 'SIGKILL');
      node = await startNode(FIXTURE, { ...env, PORT: String(port) });
      nodes.push(node);
    }
    await load.afterOk(Math.max(SESSIONS * 5, 2000 - load.okCount));
    await load.stop();
    const report = await load.verify();
    t.diagnostic(describeReport(`sqlite, app SIGKILLed ${kills} times mid-commit`, report, ''));
    assertNothingLost(report);
    await stopNode(node);
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'the file is not corrupted');
    } finally {
      db.close();
    }
  });

  it('PostgreSQL: SIGKILL the whole server, restart it, nothing acknowledged is lost', async (t) => {
    const pgServer = await privatePostgres();
    await killAndRestartUnderLoad(
      t,
      'postgres, SIGKILL the server + restart',
      { STORE: 'postgres', PG_URL: pgServer.url, GROUP: uniqueGroup('pgk') },
      { kill: () => pgServer.crash(), restart: () => pgServer.start() },
    );
    await pgServer.crash();
  });
  it('FerretDB (SQLite backend): SIGKILL the server, restart it, nothing acknowledged is lost', async (t) => {
    const data = join(dir, 'ferret');
    mkdirSync(data, { recursive: true });
    const port = await freePort();
    let ferret: ChildProcess | undefined;
    const start = async () => {
      ferret = spawn(
        ferretBin,
        [
          '--handler=sqlite',
          `--sqlite-url=file:${data}/`,
          `--listen-addr=127.0.0.1:${port}`,
          `--state-dir=${data}`,
          '--debug-addr=-',
          '--telemetry=disable',
          '--log-level=error',
        ],
        { stdio: 'ignore' },
      );
      await until('the private ferretdb', () => portAnswers(port));
    };
    const kill = async () => {
      if (!ferret || ferret.exitCode !== null || ferret.signalCode !== null) return;
      const exited = once(ferret, 'exit');
      ferret.kill('SIGKILL');
      await exited;
    };
    crashes.push(kill);
    await start();
    await killAndRestartUnderLoad(
      t,
      'ferretdb sqlite, SIGKILL + restart',
      {
        STORE: 'mongodb',
        MONGO_URL: `mongodb://127.0.0.1:${port}/`,
        GROUP: uniqueGroup('fer'),
        // FerretDB v1 cannot run the cache's conditional load (docs/stores/mongodb.md).
        CACHE: '0',
      },
      { kill, restart: start },
    );
    await kill();
  });
});

/**
 * A private PostgreSQL in its own process group (so SIGKILL takes the postmaster and its
 * backends at once, as a power cut would), with the defaults that matter here: fsync on,
 * synchronous_commit on. Run as the postgres user when we are root, as PostgreSQL requires.
 */
async function privatePostgres() {
  const data = join(dir, 'pg');
  mkdirSync(data, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  const [uid, gid] = asRoot
    ? ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' })))
    : [undefined, undefined];
  if (asRoot) {
    chownSync(dir, uid!, gid!);
    chownSync(data, uid!, gid!);
  }
  const user = asRoot ? { uid: uid!, gid: gid! } : {};
  execFileSync(join(pgBin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync'], {
    ...user,
    stdio: 'ignore',
  });
  const port = await freePort();
  let server: ChildProcess | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const handle = {
    url,
    async start() {
      server = spawn(
        join(pgBin, 'postgres'),
        ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', data, '-c', 'fsync=on'],
        { ...user, stdio: 'ignore', detached: true },
      );
      await until('the private postgres to accept connections', ready, 60_000);
    },
    async crash() {
      if (!server || server.exitCode !== null || server.signalCode !== null) return;
      const exited = once(server, 'exit');
      process.kill(-server.pid!, 'SIGKILL');
      await exited;
      // The backends were in the same group; wait until none holds the port any more.
      await until('the killed postgres to be gone', async () => !(await ready().catch(() => false)), 30_000);
    },
  };
  crashes.push(() => handle.crash());
  await handle.start();
  return handle;
}

/** Whether something accepts TCP connections on the port. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
