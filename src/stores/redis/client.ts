import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { driverMissing, UnisessionError } from '../../core/errors.js';

export type RedisClient = Redis | Cluster;
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
 * Defaults that make a request against a stopped Redis fail within about `commandTimeout`
 * instead of hanging (ioredis would otherwise queue commands and retry them 20 times), while
 * the client keeps reconnecting in the background, at most a second apart, so service resumes
 * by itself when Redis is back.
 */
function resilientOptions(settings: ConnectionSettings): RedisOptions {
  return {
    commandTimeout: settings.commandTimeout,
    connectTimeout: settings.connectTimeout,
    // A command queued while disconnected is failed after one further reconnect attempt.
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    // Commands issued before the first connection completes wait for it (bounded by commandTimeout).
    enableOfflineQueue: true,
  };
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
  client.on('error', () => {});
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
