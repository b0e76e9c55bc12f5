/**
 * haproxy in front of the cluster, as bboss deploys it: Debian's haproxy with the shipped
 * examples/deploy/haproxy.cfg (round robin, health checks, retries and redispatch) before 3
 * Express nodes on Redis, under a steady load of counter increments from many sessions.
 * - A node is SIGKILLed: no session may be logged out and no acknowledged increment lost;
 *   the failed requests are counted (haproxy's retries should leave none).
 * - A rolling redeploy through the runtime API (drain, SIGTERM, restart, ready): no request
 *   may fail at all.
 * The figures go to docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Haproxy, runtime, serverStates, startHaproxy, stopHaproxy } from '../helpers/haproxy.js';
import { CounterLoad, type LoadReport } from '../helpers/load.js';
import { until } from '../helpers/private-redis.js';
import { type Node, startNode, stopNode } from '../helpers/processes.js';
import { freePort } from '../helpers/server.js';
import { installed, server } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';

const redisUrl = await server('redis');
const haproxyProgram = await installed('haproxy');

const FIXTURE = 'test/e2e/fixtures/failover-node.ts';
const NAMES = ['node1', 'node2', 'node3'];
const SESSIONS = 40;

const dir = mkdtempSync(join(tmpdir(), 'unisession-haproxy-'));
const group = uniqueGroup('hap');
const nodes = new Map<string, Node>();
const ports = new Map<string, number>();
let proxy: Haproxy;

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

/** Until haproxy's checks see every node in `names` up (srv_op_state 2). */
const upInHaproxy = (names: string[]) =>
  until(`${names.join(', ')} up in haproxy`, async () => {
    const states = await serverStates(proxy, 'app');
    return names.every((name) => states.get(name) === 2);
  });

function describeReport(what: string, report: LoadReport, extra = ''): string {
  return (
    `${what}: ${report.requests} requests from ${report.sessions} sessions, ${report.failed} failed ` +
    `${JSON.stringify(report.failures)} over ${report.failureWindowMs} ms, ${report.loggedOut} logged out, ` +
    `${report.lostWrites} acknowledged increments lost, ${report.appliedAfterFailure} applied after a failure${extra}`
  );
}

before(async () => {
  for (const name of NAMES) ports.set(name, await freePort());
  await Promise.all(NAMES.map(startOne));
  proxy = await startHaproxy(haproxyProgram, dir, await freePort(), [...ports.values()]);
  await upInHaproxy(NAMES);
});

after(async () => {
  if (proxy) await stopHaproxy(proxy);
  for (const node of nodes.values()) await stopNode(node, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('haproxy in front of 3 Express nodes on Redis', () => {
  it('a node is SIGKILLed under load: no logout, no lost increment', async (t) => {
    const load = new CounterLoad(`http://127.0.0.1:${proxy.port}`, SESSIONS);
    load.start();
    await load.afterOk(800);
    const killedAt = Date.now();
    await stopNode(nodes.get('node2')!, 'SIGKILL');
    // haproxy notices within fall × inter (3 × 500 ms); its retries cover the requests meanwhile.
    await until(
      'haproxy to see node2 down',
      async () => (await serverStates(proxy, 'app')).get('node2') === 0,
    );
    const detectedMs = Date.now() - killedAt;
    await load.afterOk(1200);
    // node2 comes back (same port), and takes requests again.
    await startOne('node2');
    await upInHaproxy(NAMES);
    await load.afterOk(300);
    await load.stop();
    const report = await load.verify();
    t.diagnostic(describeReport('haproxy SIGKILL', report, `, node2 out of rotation after ${detectedMs} ms`));
    assert.ok(report.ok >= 2000, `a steady load of 2,000+ requests (${report.ok})`);
    assert.equal(report.loggedOut, 0, 'logged-out sessions');
    assert.equal(report.lostWrites, 0, 'lost acknowledged increments');
    // haproxy resends what the dead node never answered (retry-on empty-response conn-failure).
    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.failures)}`);
  });

  it('a rolling redeploy through the runtime API fails no request', async (t) => {
    const load = new CounterLoad(`http://127.0.0.1:${proxy.port}`, SESSIONS);
    load.start();
    await load.afterOk(500);
    const started = Date.now();
    for (const name of NAMES) {
      assert.match(await runtime(proxy, `set server app/${name} state drain`), /^\s*$/);
      // Drained: haproxy sends it nothing new. SIGTERM: gracefulShutdown finishes what it has.
      const node = nodes.get(name)!;
      const exited = new Promise<number | null>((resolve) => node.process.once('exit', resolve));
      node.process.kill('SIGTERM');
      assert.equal(await exited, 0, `${name} exited cleanly`);
      await startOne(name);
      await upInHaproxy([name]);
      await runtime(proxy, `set server app/${name} state ready`);
      await load.afterOk(300);
    }
    const redeployMs = Date.now() - started;
    await load.afterOk(500);
    await load.stop();
    const report = await load.verify();
    t.diagnostic(
      describeReport('haproxy rolling redeploy', report, `, redeploy of 3 nodes took ${redeployMs} ms`),
    );
    assert.ok(report.ok >= 2000, `a steady load of 2,000+ requests (${report.ok})`);
    assert.equal(report.loggedOut, 0, 'logged-out sessions');
    assert.equal(report.lostWrites, 0, 'lost acknowledged increments');
    assert.equal(report.failed, 0, `failed requests: ${JSON.stringify(report.failures)}`);
  });
});
