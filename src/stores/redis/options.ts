import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { UnisessionError } from '../../core/errors.js';
import { type ClusterNode, type ConnectionSettings, parseClusterNodes } from './client.js';

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
  /** Key prefix; apps that share sessions use the same group. `[A-Za-z0-9_-]{1,64}`. @default 'unisession' */
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
}

export interface ResolvedRedisOptions {
  group: string;
  grace: number;
  settings: ConnectionSettings;
}

const GROUP_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const invalid = (detail: string) =>
  new UnisessionError('UNISESSION_INVALID_OPTION', `redis: ${detail}`);

function ms(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw invalid(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of ms, got ${value}`);
  }
  return value;
}

/** Checks every option up front, so a misconfiguration fails at start-up, not on the first request. */
export function resolveRedisOptions(options: RedisStoreOptions): ResolvedRedisOptions {
  const group = options.group ?? 'unisession';
  if (!GROUP_PATTERN.test(group)) throw invalid(`group must match ${GROUP_PATTERN}, got "${group}"`);
  if (options.client && (options.url || options.cluster || options.redisOptions)) {
    throw invalid('pass either client or url/cluster/redisOptions, not both');
  }
  if (options.url !== undefined && options.cluster !== undefined) throw invalid('pass either url or cluster');
  if (options.url !== undefined && (typeof options.url !== 'string' || options.url === '')) {
    throw invalid('url must be a non-empty string');
  }
  return {
    group,
    grace: ms('expiryGraceMs', options.expiryGraceMs, 3_600_000, true),
    settings: {
      url: options.url ?? 'redis://127.0.0.1:6379',
      cluster: options.cluster === undefined ? undefined : parseClusterNodes(options.cluster),
      redisOptions: options.redisOptions ?? {},
      clusterOptions: options.clusterOptions ?? {},
      commandTimeout: ms('commandTimeout', options.commandTimeout, 2000),
      connectTimeout: ms('connectTimeout', options.connectTimeout, 2000),
    },
  };
}

export function checkLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) throw invalid(`limit must be a positive integer, got ${limit}`);
  return limit;
}
