import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { driverMissing, UnisessionError } from '../../core/errors.js';

export type RedisClient = Redis | Cluster;
export const isCluster = (client: RedisClient) => (client as { isCluster?: boolean }).isCluster === true;
export type ClusterNode = { host: string; port: number } | string;

export interface ConnectionSettings {
  url: string;
  cluster: Array<{ host: string; port: number }> | undefined;
  redisOptions: RedisOptions;
  clusterOptions: ClusterOptions;
  commandTimeout: number;
  connectTimeout: number;
}

/**
 * Defaults that make a request against a stopped Redis fail at once (or within
 * `commandTimeout`) instead of hanging, while the client keeps reconnecting in the background,
 * at most a second apart, so service resumes by itself when Redis is back.
 *
 * No command is ever queued for later: ioredis's offline queue and its resending of
 * unanswered commands after a reconnect are off, because a write that was already reported
 * as failed (503) must not happen afterwards, behind newer writes. `whenReady` waits for the
 * first connection instead. A Cluster client still queues per node and re-sends after a
 * failover whatever these say, so the write scripts also refuse to run late (fence.ts).
 */
function resilientOptions(settings: ConnectionSettings): RedisOptions {
  return {
    commandTimeout: settings.commandTimeout,
    connectTimeout: settings.connectTimeout,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
  };
}

/** The last connection error of each client we created, to say why it is down. */
const lastErrors = new WeakMap<RedisClient, Error>();
const waits = new WeakMap<RedisClient, Promise<void>>();

/**
 * Resolves when the client can take commands. While it is reconnecting after a loss this
 * fails at once (a request must not wait for an outage to end); while it is connecting
 * (start-up, or a reconnect attempt under way) it waits up to `timeoutMs`.
 */
export function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  const status = client.status;
  if (status === 'ready') return Promise.resolve();
  const down = (what: string) => {
    const cause = lastErrors.get(client);
    return new Error(cause ? `${what}: ${cause.message}` : what, { cause });
  };
  if (status === 'reconnecting' || status === 'close' || status === 'end' || status === 'disconnecting') {
    return Promise.reject(down(`not connected (${status})`));
  }
  let wait = waits.get(client);
  if (!wait) {
    if (status === 'wait') client.connect().catch(() => {}); // lazyConnect: start now
    wait = new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('close', onClose);
        client.off('end', onClose);
        waits.delete(client);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      const onClose = () => settle(down('could not connect'));
      const timer = setTimeout(() => settle(down(`no connection within ${timeoutMs} ms`)), timeoutMs);
      client.once('ready', onReady);
      client.once('close', onClose);
      client.once('end', onClose);
    });
    waits.set(client, wait);
  }
  return wait;
}

/** Builds the ioredis client the options ask for: Cluster, Sentinel (via redisOptions) or standalone. */
export async function createClient(settings: ConnectionSettings): Promise<RedisClient> {
  type Classes = { Redis?: typeof Redis; Cluster?: typeof Cluster };
  let ioredis: Classes & { default?: Classes };
  try {
    ioredis = (await import('ioredis')) as unknown as typeof ioredis;
  } catch (cause) {
    throw driverMissing('ioredis', 'redis', cause);
  }
  // ioredis is CommonJS: depending on the loader its classes are named exports or hang off default.
  const RedisClass = (ioredis.Redis ?? ioredis.default?.Redis)!;
  const ClusterClass = (ioredis.Cluster ?? ioredis.default?.Cluster)!;
  const redisOptions = { ...resilientOptions(settings), ...settings.redisOptions };
  let client: RedisClient;
  if (settings.cluster) {
    client = new ClusterClass(settings.cluster, {
      clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
      enableOfflineQueue: false,
      ...settings.clusterOptions,
      redisOptions,
    });
  } else if (settings.redisOptions.sentinels) {
    client = new RedisClass(redisOptions);
  } else {
    client = new RedisClass(settings.url, redisOptions);
  }
  // The store reports failures per operation (UNISESSION_STORE_UNAVAILABLE); without a
  // listener ioredis would also print every reconnect failure to the console.
  client.on('error', (error: Error) => lastErrors.set(client, error));
  return client;
}

/** Parses Cluster seed nodes given as `{host, port}` or `'host:port'`. */
export function parseClusterNodes(nodes: readonly ClusterNode[]): Array<{ host: string; port: number }> {
  const invalid = (detail: string) =>
    new UnisessionError('UNISESSION_INVALID_OPTION', `redis cluster: ${detail}`);
  if (!Array.isArray(nodes) || nodes.length === 0) throw invalid('give at least one node');
  return nodes.map((node) => {
    const colon = typeof node === 'string' ? node.lastIndexOf(':') : -1;
    const { host, port } =
      typeof node === 'string'
        ? { host: colon > 0 ? node.slice(0, colon) : '', port: Number(node.slice(colon + 1)) }
        : (node ?? { host: '', port: 0 });
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalid(`"${typeof node === 'string' ? node : JSON.stringify(node)}" is not host:port`);
    }
    return { host, port };
  });
}
