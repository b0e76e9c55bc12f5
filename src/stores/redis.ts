import type { Store } from '../core/store.js';
import type { Backend } from './kit/backend.js';
import { defineStore } from './kit/define.js';
import { createClient, type RedisClient, whenReady } from './redis/client.js';
import { RedisExpiry } from './redis/expiry.js';
import { WriteFence } from './redis/fence.js';
import { META_FIELDS, RedisLayout } from './redis/layout.js';
import { RedisMonitor } from './redis/monitor.js';
import { type RedisStoreOptions, resolveRedisOptions } from './redis/options.js';
import { RedisQueries } from './redis/queries.js';
import type { ReplicaPolicy } from './redis/replicas.js';
import { RedisSessions } from './redis/sessions.js';
import { redisTickets } from './redis/tickets.js';

export type { RedisStoreOptions } from './redis/options.js';

/** The operations of one group's layout: sessions, the index readers, and expiry. */
function redisBackend(
  layout: RedisLayout,
  grace: number,
  replicas: ReplicaPolicy,
  commandTimeout: number,
): Backend<RedisClient> {
  const sessions = new RedisSessions(layout, grace, replicas, new WriteFence(commandTimeout));
  const queries = new RedisQueries(layout);
  const expiry = new RedisExpiry(layout, queries, sessions);
  const monitor = new RedisMonitor(layout, queries);
  queries.rangeCount = (client, filter) => monitor.countByRange(client, filter);
  return {
    load: (client, id, keys, now, knownVersion) => sessions.load(client, id, keys, now, knownVersion),
    loadAttributes: (client, id, keys) => sessions.loadAttributes(client, id, keys),
    create: (client, meta, attributes) => sessions.create(client, meta, attributes),
    update: (client, id, change) => sessions.update(client, id, change),
    destroy: (client, id) => sessions.destroy(client, id),
    rename: (client, oldId, newId) => sessions.rename(client, oldId, newId),
    listing: {
      list: (client, filter) => queries.list(client, filter),
      count: (client, filter) => queries.count(client, filter),
    },
    principals: {
      find: async (client, principal) =>
        (await queries.principalSessions(client, principal)).map((meta) => meta.id),
    },
    sweeping: { sweep: (client, now, limit) => expiry.sweep(client, now, limit) },
    leases: { acquire: (client, ...lease) => expiry.acquireLease(client, ...lease) },
    stats: {
      compute: (client, query) => monitor.stats(client, query),
      noteSweep: (client, record) => monitor.noteSweep(client, record),
      lastSweep: (client) => monitor.lastSweep(client),
    },
    audit: {
      append: (client, entry) => monitor.appendAudit(client, entry),
      list: (client, limit, before) => monitor.listAudit(client, limit, before),
    },
    tickets: redisTickets(layout),
  };
}

/** QUIT lets in-flight replies arrive; a dead server must not hold close() up. */
async function quit(client: RedisClient): Promise<void> {
  await Promise.race([
    client.quit().catch(() => undefined),
    new Promise((done) => setTimeout(done, 1000).unref()),
  ]);
  client.disconnect();
}

/**
 * Sessions in Redis (standalone, Sentinel or Cluster) through ioredis: one hash per session,
 * written in deltas (HSET/HDEL of the changed fields), expired natively with PEXPIREAT after a
 * grace period and by the sweeper before it. See docs/stores/redis.md for the layout.
 *
 * @example
 * createSessionManager({ app: 'shop', store: redisStore({ url: process.env.REDIS_URL }) });
 */
export function redisStore(options: RedisStoreOptions = {}): Store {
  const { group, grace, settings, replicas } = resolveRedisOptions(options);
  const { client } = options;
  return defineStore({
    name: 'redis',
    group,
    open: async () => client ?? createClient(settings),
    // A client you pass in keeps its own queueing behaviour and stays open; ours never queue
    // (see client.ts), so each operation waits for the connection instead.
    ready: client ? undefined : (own) => whenReady(own, settings.connectTimeout),
    release: client ? undefined : quit,
    backend: redisBackend(new RedisLayout(group), grace, replicas, settings.commandTimeout),
  });
}

/** The metadata field names inside a session hash (for tools that read Redis directly). */
export const REDIS_META_FIELDS = META_FIELDS;
