/**
 * nginx in front of the cluster: Debian's nginx with the shipped examples/deploy/nginx.conf
 * (round robin, passive health checks, proxy_next_upstream) before 3 Express nodes on Redis,
 * under a steady load of counter increments. A node is SIGKILLed, then every node is
 * restarted in turn with SIGTERM (open-source nginx has no drain API). No session may be
 * logged out and no acknowledged increment lost; failed requests are counted and reported
 * in docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CounterLoad, type LoadReport } from '../helpers/load.js';
import { until } from '../helpers/private-redis.js';
import { type Node, startNode, stopNode } from '../helpers/processes.js';
import { freePort } from '../helpers/server.js';
import { installed, server } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';

const redisUrl = await server('redis');
const nginxProgram = await installed('nginx');

const FIXTURE = 'test/e2e/fixtures/failover-node.ts';
const NAMES = ['node1', 'node2', 'node3'];
const SESSIONS = 40;

const dir = mkdtempSync(join(tmpdir(), 'unisession-nginx-'));
const group = uniqueGroup('ngx');
const nodes = new Map<string, Node>();
const ports = new Map<string, number>();
let nginx: ChildProcess;
let frontend: number;

const startOne = async (name: string) => {
  nodes.set(
    name,
    await startNode(FIXTURE, {
      STORE: 'redis',
      REDIS_URL: redisUrl,
      GROUP: group,
      PORT: String(ports.get(name)),
      NODE_NAME: name,
    }),
  );
};

/** The example config, pointed at our ports and our directory. */
function nginxConfig(): string {
  let config = readFileSync('examples/deploy/nginx.conf', 'utf8')
    .replace('/run/unisession-nginx.pid', join(dir, 'nginx.pid'))
    .replace('/var/log/nginx/unisession-error.log', join(dir, 'error.log'))
    .replace('listen 127.0.0.1:8080', `listen 127.0.0.1:${frontend}`);
  NAMES.forEach((name, i) => {
    config = config.replace(`127.0.0.1:${3001 + i}`, `127.0.0.1:${ports.get(name)}`);
  });
  return config;
}

function describeReport(what: string, report: LoadReport): string {
  return (
    `${what}: ${report.requests} requests from ${report.sessions} sessions, ${report.failed} failed ` +
    `${JSON.stringify(report.failures)} over ${report.failureWindowMs} ms, ${report.loggedOut} logged out, ` +
    `${report.lostWrites} acknowledged increments lost, ${report.appliedAfterFailure} applied after a failure`
  );
}

before(async () => {
  for (const name of NAMES) ports.set(name, await freePort());
  frontend = await freePort();
  await Promise.all(NAMES.map(startOne));
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig());
  nginx = spawn(nginxProgram, ['-c', join(dir, 'nginx.conf'), '-p', `${dir}/`, '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  await until('nginx to answer', async () => (await fetch(`http://127.0.0.1:${frontend}/health`)).ok);
});

after(async () => {
  if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
    const exited = once(nginx, 'exit');
    nginx.kill('SIGQUIT'); // nginx's graceful stop: workers finish, then the master exits
    await exited;
  }
  for (const node of nodes.values()) await stopNode(node, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('nginx in front of 3 Express nodes on Redis', () => {
  it('a node SIGKILLed, then a rolling restart with SIGTERM: no logout, no lost increment', async (t) => {
    const load = new CounterLoad(`http://127.0.0.1:${frontend}`, SESSIONS);
    load.start();
    await load.afterOk(800);
    await stopNode(nodes.get('node2')!, 'SIGKILL');
    await load.afterOk(800);
    await startOne('node2');
    await load.stop();
    const killed = await load.verify();
    t.diagnostic(describeReport('nginx SIGKILL', killed));

    const rolling = new CounterLoad(`http://127.0.0.1:${frontend}`, SESSIONS);
    rolling.start();
    await rolling.afterOk(300);
    for (const name of NAMES) {
      await stopNode(nodes.get(name)!, 'SIGTERM');
      await startOne(name);
      await rolling.afterOk(300);
    }
    await rolling.afterOk(Math.max(300, 2000 - rolling.okCount));
    await rolling.stop();
    const redeploy = await rolling.verify();
    t.diagnostic(describeReport('nginx rolling restart (SIGTERM, no drain)', redeploy));

    for (const report of [killed, redeploy]) {
      assert.ok(report.ok >= 1600, `a steady load (${report.ok} answered)`);
      assert.equal(report.loggedOut, 0, 'logged-out sessions');
      assert.equal(report.lostWrites, 0, 'lost acknowledged increments');
    }
    assert.ok(killed.ok + redeploy.ok >= 2000);
  });
});
