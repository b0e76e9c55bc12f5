/**
 * Redis failover under load, on private servers: an Express node (test/e2e/fixtures/
 * failover-node.ts) serves counter increments from many sessions while a master is SIGKILLed.
 * - Redis Cluster, 3 masters and 3 replicas, cluster-node-timeout 3 s: the dead master's
 *   replica is promoted. Once with `replicas: 0`, once with `replicas: 1`, which must lose no
 *   acknowledged write.
 * - Redis Sentinel, a master, a replica and 3 sentinels: the replica is promoted.
 * The killed server is restarted after the failover (its supervisor would), and rejoins as a
 * replica: with `replicas: 1` writes need it back. Every figure goes to docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CounterLoad, type LoadReport } from '../helpers/load.js';
import {
  clusterInfo,
  info,
  type PrivateRedis,
  RedisFleet,
  redisCommand,
  until,
} from '../helpers/private-redis.js';
import { type Node, startNode, stopNode } from '../helpers/processes.js';
import { installed } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';

await installed('redis');

const FIXTURE = 'test/e2e/fixtures/failover-node.ts';
const SESSIONS = 40;
/** Long enough that a starved machine does not look like a dead master. */
const NODE_TIMEOUT_MS = 3000;

const fleet = new RedisFleet();
const nodes: Node[] = [];
after(async () => {
  for (const node of nodes) await stopNode(node, 'SIGKILL');
  await fleet.stopAll();
});

function describeReport(what: string, report: LoadReport, extra: string): string {
  return (
    `${what}: ${report.requests} requests from ${report.sessions} sessions, ${report.failed} failed ` +
    `${JSON.stringify(report.failures)} over ${report.failureWindowMs} ms, ${report.loggedOut} logged out, ` +
    `${report.lostWrites} acknowledged increments lost, ${report.appliedAfterFailure} applied after a failure${extra}`
  );
}

/** Runs the load, kills `victim` once it is steady, restarts it after `failedOver`, reports. */
async function killUnderLoad(
  node: Node,
  victim: PrivateRedis,
  failedOver: () => Promise<boolean>,
  rejoined: () => Promise<boolean>,
) {
  const load = new CounterLoad(`http://127.0.0.1:${node.port}`, SESSIONS, { timeoutMs: 15_000 });
  load.start();
  await load.afterOk(1000);
  const killedAt = Date.now();
  await fleet.kill(victim);
  await until('the failover', failedOver, 60_000);
  const failoverMs = Date.now() - killedAt;
  await fleet.restart(victim);
  await until('the killed server to rejoin as a replica', rejoined, 60_000);
  // Every session must be served again: a few rounds of successes after the rejoin, and
  // 2,000 answered in all.
  await load.afterOk(Math.max(SESSIONS * 5, 2000 - load.okCount));
  await load.stop();
  const report = await load.verify();
  const recoveryMs = report.lastFailureAt === undefined ? 0 : report.lastFailureAt - killedAt;
  return { report, failoverMs, recoveryMs };
}

for (const replicas of [0, 1]) {
  describe(`Redis Cluster failover under load, replicas: ${replicas}`, () => {
    it('SIGKILLs a master: its replica takes over, no session is logged out', async (t) => {
      const layout = await fleet.cluster(3, NODE_TIMEOUT_MS);
      const node = await startNode(FIXTURE, {
        STORE: 'cluster',
        CLUSTER_NODES: layout.map((entry) => `127.0.0.1:${entry.server.port}`).join(','),
        REPLICAS: String(replicas),
        GROUP: uniqueGroup('cf'),
      });
      nodes.push(node);
      const master = layout.find((entry) => entry.role === 'master')!;
      const replica = layout.find((entry) => entry.masterId === master.id)!.server;
      const { report, failoverMs, recoveryMs } = await killUnderLoad(
        node,
        master.server,
        async () =>
          (await info(replica.port, 'role')) === 'master' &&
          (await clusterInfo(replica.port, 'cluster_state')) === 'ok',
        async () => (await info(master.server.port, 'master_link_status')) === 'up',
      );
      t.diagnostic(
        describeReport(
          `redis cluster, replicas: ${replicas}, SIGKILL a master`,
          report,
          `, replica promoted after ${failoverMs} ms, last failure ${recoveryMs} ms after the kill`,
        ),
      );
      assert.ok(report.ok >= 2000, `a steady load (${report.ok} answered)`);
      if (replicas === 1) {
        assert.equal(report.lostWrites, 0, 'replicas: 1 loses no acknowledged increment');
        assert.equal(report.loggedOut, 0, 'replicas: 1 logs nobody out');
      }
      await stopNode(node);
    });
  });
}

describe('Redis Sentinel failover under load, replicas: 1', () => {
  it('kills the master: Sentinel promotes the replica, no write acknowledged is lost', async (t) => {
    const master = await fleet.start();
    const replica = await fleet.replica(master);
    const sentinels: PrivateRedis[] = [];
    for (let i = 0; i < 3; i++) sentinels.push(await fleet.sentinel(master, 'main', 2));
    const node = await startNode(FIXTURE, {
      STORE: 'sentinel',
      SENTINELS: sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(','),
      SENTINEL_NAME: 'main',
      REPLICAS: '1',
      GROUP: uniqueGroup('sf'),
    });
    nodes.push(node);
    const { report, failoverMs, recoveryMs } = await killUnderLoad(
      node,
      master,
      async () => {
        const address = (await redisCommand(
          sentinels[0]!.port,
          'sentinel',
          'get-master-addr-by-name',
          'main',
        )) as string[];
        return Number(address[1]) === replica.port && (await info(replica.port, 'role')) === 'master';
      },
      async () =>
        (await info(master.port, 'role')) === 'slave' &&
        (await info(master.port, 'master_link_status')) === 'up',
    );
    t.diagnostic(
      describeReport(
        'redis sentinel, replicas: 1, SIGKILL the master',
        report,
        `, replica promoted after ${failoverMs} ms, last failure ${recoveryMs} ms after the kill`,
      ),
    );
    assert.ok(report.ok >= 2000, `a steady load (${report.ok} answered)`);
    assert.equal(report.lostWrites, 0, 'no acknowledged increment lost');
    assert.equal(report.loggedOut, 0, 'nobody logged out');
    await stopNode(node);
  });
});
