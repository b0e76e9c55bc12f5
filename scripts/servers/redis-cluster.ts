/**
 * A 3-master Redis Cluster without replicas on 127.0.0.1:7001-7003 (REDIS_CLUSTER_NODES).
 * A healthy cluster of ours is reused; anything partial or stale is recreated from scratch.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  failure,
  HOST,
  log,
  logFile,
  nodeList,
  port,
  portsStatus,
  run,
  sleep,
  stateDir,
  type TestServer,
  whenRunning,
} from './kit.js';
import { launchRedis, redis, redisCli, runningOurs, shutdownRedis, writeRedisConf } from './redis.js';

const READY_SECONDS = 30;
/** What a node keeps of an old cluster; a node that finds it would not join the new one. */
const STALE = /^(nodes\.conf|dump\.rdb|appendonly.*|temp-.*\.rdb)$/;

const clusterPorts = () => [7001, 7002, 7003].map(port);
const dataDir = (at: number) => join(stateDir(), 'redis-cluster', String(at));

/** The node sees the whole cluster: every master known, every slot assigned, state ok. */
async function nodeOk(at: number): Promise<boolean> {
  const info = (await redisCli(at, 'cluster', 'info'))?.replaceAll('\r', '').split('\n') ?? [];
  const size = clusterPorts().length;
  return [
    'cluster_state:ok',
    `cluster_known_nodes:${size}`,
    'cluster_slots_assigned:16384',
    `cluster_size:${size}`,
  ].every((line) => info.includes(line));
}

/** Writes each node's config; true when all three are ours, up and agree on a healthy cluster. */
async function healthy(): Promise<boolean> {
  let ok = true;
  for (const at of clusterPorts()) {
    writeRedisConf(at, dataDir(at), true);
    ok = (await runningOurs(at, dataDir(at))) && (await nodeOk(at)) && ok;
  }
  return ok;
}

async function stopNodes(): Promise<void> {
  for (const at of clusterPorts()) await shutdownRedis(at, dataDir(at), `redis cluster node ${at}`);
}

/** Fresh nodes (no nodes.conf, no data), joined into one cluster. */
async function create(): Promise<void> {
  log(`redis cluster: (re)creating on ${clusterPorts().join(' ')}`);
  await stopNodes();
  for (const at of clusterPorts()) {
    for (const stale of readdirSync(dataDir(at)).filter((file) => STALE.test(file))) {
      rmSync(join(dataDir(at), stale), { recursive: true, force: true });
    }
    await launchRedis(at, dataDir(at), `redis cluster node ${at}`);
  }
  const logs = logFile('redis-cluster-create.log');
  writeFileSync(logs, '');
  const nodes = clusterPorts().map((at) => `${HOST}:${at}`);
  const args = ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'];
  const created = await run('redis-cli', args, { log: logs, timeout: 60 });
  if (created.code !== 0) throw failure('redis-cli --cluster create failed', logs);
}

/** Waits until every node agrees; on a timeout, shows what each one reports. */
async function waitHealthy(): Promise<void> {
  for (let i = 0; i < READY_SECONDS * 5; i++) {
    let ok = true;
    for (const at of clusterPorts()) ok = ok && (await nodeOk(at));
    if (ok) {
      log('redis cluster: cluster_state:ok on all nodes');
      return;
    }
    await sleep(200);
  }
  for (const at of clusterPorts()) {
    const info = (await redisCli(at, 'cluster', 'info')) ?? '';
    const lines = info.replaceAll('\r', '').split('\n');
    log(`cluster info on ${at}: ${lines.filter((line) => /state|known|assigned/.test(line)).join(' ')}`);
  }
  const first = clusterPorts()[0]!;
  throw failure(
    `redis cluster did not reach cluster_state:ok within ${READY_SECONDS}s`,
    logFile('redis-cluster-create.log'),
    logFile(`redis-${first}.log`),
  );
}

export const redisCluster: TestServer = {
  name: 'redis-cluster',
  summary: '3-master Redis Cluster, no replicas (REDIS_CLUSTER_NODES)',
  variable: 'REDIS_CLUSTER_NODES',
  clientPort: 6379,
  missing: (need) => redis.missing(need),
  installedPath: () => redis.installedPath(),
  async start() {
    if (await healthy()) {
      log(`redis cluster: already running and healthy on ${clusterPorts().join(' ')}`);
      return;
    }
    await create();
    await waitHealthy();
  },
  stop: stopNodes,
  status: () => portsStatus('redis cluster', clusterPorts(), nodeOk, ['ok', 'NOT OK']),
  env: (need) => whenRunning(need, { REDIS_CLUSTER_NODES: nodeList(clusterPorts()) }),
};
