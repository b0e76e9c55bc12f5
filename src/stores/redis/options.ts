import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { UnisessionError } from '../../core/errors.js';
import { checkOptions, is, type OptionSpec } from '../../core/validate.js';
import { isGroupName, storeGroup } from '../kit/group.js';
import { type ClusterNode, type ConnectionSettings, parseClusterNodes } from './client.js';
import type { ReplicaPolicy } from './replicas.js';

export interface RedisStoreOptions {
  /** A standalone server's URL (`redis://[:password@]host:port[/db]`, `rediss://` for TLS). @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Redis Cluster seed nodes, as `{ host, port }` or `'host:port'`; `url` must then be left out. @default undefined */
  cluster?: ClusterNode[];
  /**
   * ioredis options passed through (password, TLS, db...). For Sentinel give
   * `{ sentinels: [{ host, port }], name: 'mymaster' }` here and leave `url` out. With
   * `cluster` these are the per-node options. @default {}
   */
  redisOptions?: RedisOptions;
  /** ioredis Cluster options passed through (natMap, scaleReads...). @default {} */
  clusterOptions?: Omit<ClusterOptions, 'redisOptions'>;
  /**
   * An ioredis `Redis` or `Cluster` client you already have; `close()` then leaves it open.
   * It keeps its own settings (see docs/stores/redis.md for the fail-fast ones). @default undefined
   */
  client?: Redis | Cluster;
  /** Key prefix; apps that share sessions use the same group. `[A-Za-z0-9_-]{1,40}`. @default 'unisession' */
  group?: string;
  /** A command with no reply after this many ms fails with UNISESSION_STORE_UNAVAILABLE. @default 2000 */
  commandTimeout?: number;
  /** Give up on a TCP connection attempt after this many ms (then retry in the background). @default 2000 */
  connectTimeout?: number;
  /**
   * Redis deletes a session's key natively this long after its `expiresAt` (PEXPIREAT), so
   * the sweeper normally deletes it first and fires `destroyed` (reason `expired`). With 0,
   * Redis may win the race and such sessions vanish without the event. @default 3_600_000 (1 h)
   */
  expiryGraceMs?: number;
  /**
   * Replica-acknowledged writes: every session write (create, update, destroy, rename) waits
   * with WAIT until this many replicas have it, and its commit fails with
   * UNISESSION_STORE_UNAVAILABLE when fewer acknowledge within `replicaTimeoutMs`. In a Cluster
   * the WAIT goes to the master of the session's slot. This narrows, not closes, the window in
   * which a failover loses acknowledged writes: see docs/stores/redis.md. @default 0 (no wait)
   */
  replicas?: number;
  /**
   * How long a write waits for its `replicas` acknowledgements, in ms (WAIT's timeout). A
   * shorter `commandTimeout` ends the wait sooner, with the same failure. @default 2000
   */
  replicaTimeoutMs?: number;
}

export interface ResolvedRedisOptions {
  group: string;
  grace: number;
  settings: ConnectionSettings;
  replicas: ReplicaPolicy;
}

const REDIS_OPTIONS: OptionSpec = {
  url: is.nonEmptyString,
  cluster: is.arrayOf(is.any),
  redisOptions: is.withMethods('an ioredis options object'),
  clusterOptions: is.withMethods('an ioredis Cluster options object'),
  client: is.withMethods('an ioredis Redis or Cluster client', 'evalsha', 'hgetall'),
  group: isGroupName,
  commandTimeout: is.positive,
  connectTimeout: is.positive,
  expiryGraceMs: is.nonNegative,
  replicas: is.nonNegativeInteger,
  replicaTimeoutMs: is.positiveInteger,
};

export const invalid = (detail: string) =>
  new UnisessionError('UNISESSION_INVALID_OPTION', `redis: ${detail}`);

/** Checks every option up front, so a misconfiguration fails at start-up, not on the first request. */
export function resolveRedisOptions(options: RedisStoreOptions): ResolvedRedisOptions {
  checkOptions('redisStore', options, REDIS_OPTIONS);
  const group = storeGroup('redisStore', options.group);
  if (options.client && (options.url || options.cluster || options.redisOptions)) {
    throw invalid('pass either client or url/cluster/redisOptions, not both');
  }
  if (options.url !== undefined && options.cluster !== undefined) throw invalid('pass either url or cluster');
  if (options.url !== undefined && (typeof options.url !== 'string' || options.url === '')) {
    throw invalid('url must be a non-empty string');
  }
  return {
    group,
    grace: options.expiryGraceMs ?? 3_600_000,
    replicas: { count: options.replicas ?? 0, timeoutMs: options.replicaTimeoutMs ?? 2000 },
    settings: {
      url: options.url ?? 'redis://127.0.0.1:6379',
      cluster: options.cluster === undefined ? undefined : parseClusterNodes(options.cluster),
      redisOptions: options.redisOptions ?? {},
      clusterOptions: options.clusterOptions ?? {},
      commandTimeout: options.commandTimeout ?? 2000,
      connectTimeout: options.connectTimeout ?? 2000,
    },
  };
}
