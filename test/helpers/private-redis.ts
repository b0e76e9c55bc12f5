/**
 * Private redis-server processes for the failover tests: each on a free port, in a temporary
 * directory, killed by `stopAll` (call it in `after`). The shared test servers have no
 * replicas and must never be killed, so these tests start their own.
 *
 * Declare the binary at the top of the test file: `await installed('redis')`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './server.js';

export interface PrivateRedis {
  port: number;
  dir: string;
  process: ChildProcess;
  /** The arguments it was started with, to restart it the same way (same port, same data). */
  args: string[];
}

/** Polls `condition` every 50 ms until it holds; fails with `what` after `timeoutMs`. */
export async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // not yet: a server still starting refuses connections
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One command on a short-lived connection; fails at once when nothing answers. */
export async function redisCommand(port: number, ...args: Array<string | number>): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    client.disconnect();
  }
}

/** A field of INFO's text (`role`, `master_link_status`...). */
export async function info(port: number, field: string): Promise<string | undefined> {
  const text = String(await redisCommand(port, 'info'));
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

export class RedisFleet {
  readonly root = mkdtempSync(join(tmpdir(), 'unisession-failover-'));
  readonly servers: PrivateRedis[] = [];

  /** Starts a redis-server with `extra` arguments; resolves once it answers PING. */
  async start(extra: string[] = []): Promise<PrivateRedis> {
    const port = await freePort();
    const dir = join(this.root, String(port));
    mkdirSync(dir, { recursive: true });
    const args = ['--port', String(port), '--dir', dir, '--save', '', '--bind', '127.0.0.1', ...extra];
    return this.launch(port, dir, args);
  }

  /** A Sentinel watching `master` as `name`, with a quorum of `quorum` and fast failover. */
  async sentinel(master: PrivateRedis, name: string, quorum: number): Promise<PrivateRedis> {
    const port = await freePort();
    const dir = join(this.root, String(port));
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${master.port} ${quorum}`,
        // Short, but not so short that a busy shared machine looks like a dead master.
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 10000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    return this.launch(port, dir, [conf, '--sentinel']);
  }

  private async launch(port: number, dir: string, args: string[]): Promise<PrivateRedis> {
    const server: PrivateRedis = { port, dir, args, process: this.spawn(args) };
    this.servers.push(server);
    await until(`redis on ${port}`, async () => (await redisCommand(port, 'ping')) === 'PONG');
    return server;
  }

  /** Starts it again after a kill, with the same arguments, port and data directory. */
  async restart(server: PrivateRedis): Promise<void> {
    server.process = this.spawn(server.args);
    await until(
      `redis on ${server.port} again`,
      async () => (await redisCommand(server.port, 'ping')) === 'PONG',
    );
  }

  /** Kills it with `signal` (SIGKILL by default: a crash, nothing flushed) and waits for the exit. */
  async kill(server: PrivateRedis, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = server.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  /** A replica of `master`, resolved once its replication link is up. */
  async replica(master: PrivateRedis, extra: string[] = []): Promise<PrivateRedis> {
    const replica = await this.start(['--replicaof', '127.0.0.1', String(master.port), ...extra]);
    await until(
      `replica ${replica.port} in sync`,
      async () => (await info(replica.port, 'master_link_status')) === 'up',
    );
    return replica;
  }

  /**
   * A Redis Cluster of `masters` masters with one replica each, created with redis-cli, resolved
   * once every node reports cluster_state:ok and every replica is in sync. `nodeTimeoutMs` is
   * cluster-node-timeout: how long a master may be silent before its replica takes over.
   */
  async cluster(masters: number, nodeTimeoutMs: number, extra: string[] = []): Promise<ClusterNodeInfo[]> {
    const nodes: PrivateRedis[] = [];
    for (let i = 0; i < masters * 2; i++) {
      nodes.push(
        await this.start([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          ...extra,
        ]),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    const create = spawn(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'],
      {
        stdio: 'ignore',
      },
    );
    const [code] = (await once(create, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}`);
    let layout: ClusterNodeInfo[] = [];
    await until(
      'the private cluster to be ok everywhere, replicas in sync',
      async () => {
        for (const node of nodes) if ((await clusterInfo(node.port, 'cluster_state')) !== 'ok') return false;
        layout = await clusterLayout(nodes);
        const replicas = layout.filter((node) => node.role === 'replica');
        if (replicas.length !== masters) return false;
        for (const replica of replicas) {
          if ((await info(replica.server.port, 'master_link_status')) !== 'up') return false;
        }
        return true;
      },
      60_000,
    );
    return layout;
  }

  async stopAll(): Promise<void> {
    for (const server of this.servers) {
      // A paused (SIGSTOP) server would not die on SIGTERM: continue it first.
      if (server.process.exitCode === null && server.process.signalCode === null)
        server.process.kill('SIGCONT');
      await this.kill(server);
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  private spawn(args: string[]): ChildProcess {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    child.on('error', () => {}); // a missing binary shows up as the PING wait timing out
    return child;
  }
}

export interface ClusterNodeInfo {
  server: PrivateRedis;
  id: string;
  role: 'master' | 'replica';
  /** A replica's master's node id. */
  masterId?: string;
}

/** A field of CLUSTER INFO. */
export async function clusterInfo(port: number, field: string): Promise<string | undefined> {
  const text = String(await redisCommand(port, 'cluster', 'info'));
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

/** Who is master and who replicates whom, as the first live node sees it. */
export async function clusterLayout(nodes: PrivateRedis[]): Promise<ClusterNodeInfo[]> {
  const live = nodes.filter((node) => node.process.exitCode === null && node.process.signalCode === null);
  const text = String(await redisCommand(live[0]!.port, 'cluster', 'nodes'));
  const result: ClusterNodeInfo[] = [];
  for (const line of text.trim().split('\n')) {
    const [id, address, flags, master] = line.split(' ');
    const port = Number(/:(\d+)@/.exec(address ?? '')?.[1]);
    const server = nodes.find((node) => node.port === port);
    if (!server || !id || !flags || flags.includes('fail')) continue;
    const role = flags.includes('master') ? 'master' : 'replica';
    result.push({ server, id, role, masterId: role === 'replica' ? master : undefined });
  }
  return result;
}
