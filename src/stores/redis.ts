import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { isUnisessionError, storeUnavailable, UnisessionError } from '../core/errors.js';
import type { AttributeKey, ListFilter, SessionMeta, Store } from '../core/store.js';
import {
  type ClusterNode,
  createClient,
  parseClusterNodes,
  type RedisClient,
  whenReady,
} from './redis/client.js';
import {
  checkAttributeKey,
  encodePrincipal,
  expiryScore,
  isAttributeField,
  META_FIELD_NAMES,
  META_FIELDS,
  metaFromFields,
  metaFromFlat,
  metaPairs,
  RedisLayout,
} from './redis/layout.js';
import { evalScript, type LuaScript, SCRIPTS, type ScriptReply } from './redis/scripts.js';

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
  /** An ioredis `Redis` or `Cluster` client you already have; `close()` then leaves it open. @default undefined */
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

const STORE = 'redis';
const GROUP_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** How many ids one list/count step reads at a time. */
const SCAN_CHUNK = 200;

const invalid = (detail: string) => new UnisessionError('UNISESSION_INVALID_OPTION', `redis: ${detail}`);

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw invalid(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of ms, got ${value}`);
  }
  return value;
}

function checkLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1) throw invalid(`limit must be a positive integer, got ${limit}`);
  return limit;
}

/** Redis orders members by bytes (ZRANGEBYLEX); merge ids from several sets the same way. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

const isCluster = (client: RedisClient) => (client as { isCluster?: boolean }).isCluster === true;

/**
 * Sessions in Redis (standalone, Sentinel or Cluster) through ioredis: one hash per session,
 * written in deltas (HSET/HDEL of the changed fields), expired natively with PEXPIREAT after a
 * grace period and by the sweeper before it. See docs/stores/redis.md for the layout.
 *
 * @example
 * createSessionManager({ app: 'shop', store: redisStore({ url: process.env.REDIS_URL }) });
 */
export function redisStore(options: RedisStoreOptions = {}): Store {
  const group = options.group ?? 'unisession';
  if (!GROUP_PATTERN.test(group)) throw invalid(`group must match ${GROUP_PATTERN}, got "${group}"`);
  if (options.client && (options.url || options.cluster || options.redisOptions)) {
    throw invalid('pass either client or url/cluster/redisOptions, not both');
  }
  if (options.url !== undefined && options.cluster !== undefined) throw invalid('pass either url or cluster');
  if (options.url !== undefined && (typeof options.url !== 'string' || options.url === '')) {
    throw invalid('url must be a non-empty string');
  }
  const grace = positive('expiryGraceMs', options.expiryGraceMs, 3_600_000, true);
  const settings = {
    url: options.url ?? 'redis://127.0.0.1:6379',
    cluster: options.cluster === undefined ? undefined : parseClusterNodes(options.cluster),
    redisOptions: options.redisOptions ?? {},
    clusterOptions: options.clusterOptions ?? {},
    commandTimeout: positive('commandTimeout', options.commandTimeout, 2000),
    connectTimeout: positive('connectTimeout', options.connectTimeout, 2000),
  };
  const layout = new RedisLayout(group);
  const owned = options.client === undefined;
  let pending: Promise<RedisClient> | undefined;
  let closed = false;

  function connect(): Promise<RedisClient> {
    if (closed) return Promise.reject(storeUnavailable(STORE, new Error('the store is closed')));
    if (options.client) return Promise.resolve(options.client);
    pending ??= createClient(settings).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  }

  /** Runs one operation; every driver failure becomes UNISESSION_STORE_UNAVAILABLE. */
  async function withClient<T>(work: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = await connect();
    try {
      // A client you pass in keeps its own queueing behaviour; ours never queue (see client.ts).
      if (owned) await whenReady(client, settings.connectTimeout);
      return await work(client);
    } catch (error) {
      if (isUnisessionError(error)) throw error;
      throw storeUnavailable(STORE, error);
    }
  }

  /**
   * Runs a session script. Standalone: it maintains the indexes itself (one atomic round trip).
   * Cluster: the indexes are in another slot, so their changes follow in a second script.
   */
  async function run(
    client: RedisClient,
    script: LuaScript,
    keys: string[],
    args: string[],
  ): Promise<[string, string[]]> {
    const prefix = isCluster(client) ? '' : layout.indexPrefix;
    const [status, payload, ops] = (await evalScript(client, script, keys, [prefix, ...args])) as ScriptReply;
    if (ops.length > 0) await evalScript(client, SCRIPTS.index, [layout.apps], [layout.indexPrefix, ...ops]);
    return [status, payload];
  }

  const pexpireAt = (expiresAt: number | null) =>
    expiresAt === null ? '' : String(Math.ceil(expiresAt + grace));
  const flatten = (attributes: Map<AttributeKey, string>) =>
    [...attributes].flatMap(([key, value]) => [checkAttributeKey(key), value]);
  const exists = (id: string) => new UnisessionError('UNISESSION_SESSION_EXISTS', id);

  /** Writes a session from field/value pairs (create, and the second half of a Cluster rename). */
  async function put(client: RedisClient, meta: SessionMeta, pairs: string[]): Promise<boolean> {
    const [status] = await run(
      client,
      SCRIPTS.create,
      [layout.session(meta.id)],
      [
        meta.id,
        meta.app,
        expiryScore(meta.expiresAt),
        encodePrincipal(meta.principal),
        pexpireAt(meta.expiresAt),
        ...pairs,
      ],
    );
    return status === 'ok';
  }

  async function readMetas(client: RedisClient, ids: string[]): Promise<Array<SessionMeta | null>> {
    return Promise.all(
      ids.map(async (id) => {
        const values = await client.hmget(layout.session(id), ...META_FIELD_NAMES);
        return metaFromFields(id, (field) => values[META_FIELD_NAMES.indexOf(field)]);
      }),
    );
  }

  /** The next `n` ids after `after`, in byte order, across the given apps' id indexes. */
  async function nextIds(client: RedisClient, apps: string[], after: string | undefined, n: number) {
    const perApp = await Promise.all(
      apps.map(async (app) => {
        const ids = await client.zrangebylex(
          layout.ids(app),
          after === undefined ? '-' : `(${after}`,
          '+',
          'LIMIT',
          0,
          n,
        );
        return ids.map((id) => ({ id, app }));
      }),
    );
    return perApp
      .flat()
      .sort((a, b) => byteOrder(a.id, b.id))
      .slice(0, n);
  }

  /** The ids of a principal whose session still exists with that principal; stale entries are removed. */
  async function principalSessions(client: RedisClient, principal: string) {
    const key = layout.principal(principal);
    const ids = (await client.smembers(key)).sort(byteOrder);
    const metas = await readMetas(client, ids);
    const stale = ids.filter((_, i) => metas[i]?.principal !== principal);
    if (stale.length > 0) await client.srem(key, ...stale);
    return metas.filter((meta): meta is SessionMeta => meta?.principal === principal);
  }

  async function removeStale(client: RedisClient, stale: Array<{ id: string; app: string }>): Promise<void> {
    await Promise.all(
      stale.map(({ id, app }) =>
        Promise.all([client.zrem(layout.expiry(app), id), client.zrem(layout.ids(app), id)]),
      ),
    );
  }

  const matches = (meta: SessionMeta, filter: ListFilter) =>
    (filter.app === undefined || meta.app === filter.app) &&
    (filter.principal === undefined || meta.principal === filter.principal) &&
    (filter.aliveAt === undefined || meta.expiresAt === null || meta.expiresAt > filter.aliveAt);

  const appsOf = async (client: RedisClient, filter: { app?: string }) =>
    filter.app !== undefined ? [filter.app] : (await client.smembers(layout.apps)).sort(byteOrder);

  return {
    name: STORE,
    flags: { list: true, principalIndex: true, sweep: true, lease: true },

    load(id, keys, now) {
      return withClient(async (client) => {
        const key = layout.session(id);
        let meta: SessionMeta | null;
        const attributes = new Map<AttributeKey, string>();
        if (keys === 'all') {
          const hash = await client.hgetall(key);
          meta = metaFromFields(id, (field) => hash[field]);
          for (const [field, value] of Object.entries(hash))
            if (isAttributeField(field)) attributes.set(field, value);
        } else {
          const wanted = keys.filter(isAttributeField);
          const values = await client.hmget(key, ...META_FIELD_NAMES, ...wanted);
          meta = metaFromFields(id, (field) => values[META_FIELD_NAMES.indexOf(field)]);
          wanted.forEach((field, i) => {
            const value = values[META_FIELD_NAMES.length + i];
            if (value !== null && value !== undefined) attributes.set(field, value);
          });
        }
        // Redis keeps the hash for a grace period past expiresAt (see expiryGraceMs): check it here.
        if (!meta || (meta.expiresAt !== null && meta.expiresAt <= now)) return null;
        return { meta, attributes };
      });
    },

    loadAttributes(id, keys) {
      return withClient(async (client) => {
        const wanted = keys.filter(isAttributeField);
        const result = new Map<AttributeKey, string>();
        if (wanted.length === 0) return result;
        const values = await client.hmget(layout.session(id), ...wanted);
        wanted.forEach((field, i) => {
          const value = values[i];
          if (value !== null && value !== undefined) result.set(field, value);
        });
        return result;
      });
    },

    async create(meta, attributes) {
      const pairs = [...metaPairs(meta), ...flatten(attributes)];
      const created = await withClient((client) => put(client, meta, pairs));
      if (!created) throw exists(meta.id);
    },

    async update(id, change) {
      const set = flatten(change.set ?? new Map());
      const remove = (change.remove ?? []).map(checkAttributeKey);
      const patch = change.meta ?? {};
      const pairs = [
        ...metaPairs({ lastAccessedAt: patch.lastAccessedAt, maxInactive: patch.maxInactive }),
        ...set,
      ];
      const expires =
        patch.expiresAt === undefined ? '' : patch.expiresAt === null ? 'null' : String(patch.expiresAt);
      const principal =
        patch.principal === undefined
          ? ''
          : patch.principal === null
            ? '-'
            : encodePrincipal(patch.principal);
      const [status] = await withClient((client) =>
        run(
          client,
          SCRIPTS.update,
          [layout.session(id)],
          [
            id,
            expires,
            pexpireAt(patch.expiresAt ?? null),
            principal,
            String(pairs.length),
            ...pairs,
            ...remove,
          ],
        ),
      );
      return status === 'ok';
    },

    destroy(id) {
      return withClient(async (client) => {
        const [status, fields] = await run(client, SCRIPTS.destroy, [layout.session(id)], [id, '', '']);
        return status === 'deleted' ? metaFromFlat(id, fields) : null;
      });
    },

    rename(oldId, newId) {
      return withClient(async (client) => {
        if (!isCluster(client)) {
          const [status] = await run(
            client,
            SCRIPTS.rename,
            [layout.session(oldId), layout.session(newId)],
            [oldId, newId],
          );
          if (status === 'exists') throw exists(newId);
          return status === 'ok';
        }
        // Cluster: the ids hash to different slots, so no single command moves the hash.
        // Take it (read + delete in one script: from here on the old id loads nothing), then
        // write it under the new id. A failure between the two loses the session; see the docs.
        const [status, flat] = await run(client, SCRIPTS.take, [layout.session(oldId)], [oldId]);
        if (status === 'gone') return false;
        const meta = metaFromFlat(newId, flat)!;
        if (!(await put(client, meta, flat))) {
          await put(client, { ...meta, id: oldId }, flat);
          throw exists(newId);
        }
        return true;
      });
    },

    list(filter) {
      return withClient(async (client) => {
        const limit = checkLimit(filter.limit, 100);
        // One more than a page tells whether there is a next page.
        const found: SessionMeta[] = [];
        const take = (meta: SessionMeta | null) => {
          if (meta && matches(meta, filter) && found.length <= limit) found.push(meta);
        };
        if (filter.principal !== undefined) {
          const cursor = filter.cursor;
          for (const meta of await principalSessions(client, filter.principal)) {
            if (cursor === undefined || byteOrder(meta.id, cursor) > 0) take(meta);
          }
        } else {
          const apps = await appsOf(client, filter);
          let after = filter.cursor;
          while (found.length <= limit) {
            const batch = await nextIds(client, apps, after, SCAN_CHUNK);
            if (batch.length === 0) break;
            const metas = await readMetas(
              client,
              batch.map((entry) => entry.id),
            );
            await removeStale(
              client,
              batch.filter((_, i) => metas[i] === null),
            );
            for (const meta of metas) take(meta);
            after = batch[batch.length - 1]!.id;
          }
        }
        const page = found.slice(0, limit);
        return found.length > limit ? { sessions: page, next: page[limit - 1]!.id } : { sessions: page };
      });
    },

    count(filter) {
      return withClient(async (client) => {
        if (filter.principal !== undefined) {
          return (await principalSessions(client, filter.principal)).filter((meta) => matches(meta, filter))
            .length;
        }
        // O(log n) per app from the expiry index; see the docs on index staleness.
        const apps = await appsOf(client, filter);
        const counts = await Promise.all(
          apps.map((app) =>
            filter.aliveAt === undefined
              ? client.zcard(layout.expiry(app))
              : client.zcount(layout.expiry(app), `(${filter.aliveAt}`, '+inf'),
          ),
        );
        return counts.reduce((sum, n) => sum + n, 0);
      });
    },

    findByPrincipal(principal) {
      return withClient(async (client) =>
        (await principalSessions(client, principal)).map((meta) => meta.id),
      );
    },

    sweep(now, limit) {
      return withClient(async (client) => {
        checkLimit(limit, 1);
        const swept: SessionMeta[] = [];
        for (const app of await appsOf(client, {})) {
          // Every candidate leaves the expired range once processed (deleted, found stale, or
          // re-scored because it was touched meanwhile), so this loop ends; the cap is a guard.
          for (let round = 0; swept.length < limit && round < 100; round++) {
            const ids = await client.zrangebyscore(
              layout.expiry(app),
              '-inf',
              now,
              'LIMIT',
              0,
              limit - swept.length,
            );
            if (ids.length === 0) break;
            const replies = await Promise.all(
              ids.map((id) => run(client, SCRIPTS.destroy, [layout.session(id)], [id, String(now), app])),
            );
            replies.forEach(([status, fields], i) => {
              if (status === 'deleted') swept.push(metaFromFlat(ids[i]!, fields)!);
            });
          }
          if (swept.length >= limit) break;
        }
        return swept;
      });
    },

    acquireLease(name, holder, ttlMs, now) {
      return withClient(async (client) => {
        const args = [holder, String(now), String(now + ttlMs), String(Math.max(1, Math.ceil(ttlMs * 2)))];
        return (await evalScript(client, SCRIPTS.lease, [layout.lease(name)], args)) === 1;
      });
    },

    async close() {
      closed = true;
      const opened = pending;
      pending = undefined;
      if (!owned || !opened) return;
      const client = await opened.catch(() => undefined);
      if (!client) return;
      // QUIT lets in-flight replies arrive; a dead server must not hold close() up.
      await Promise.race([
        client.quit().catch(() => undefined),
        new Promise((done) => setTimeout(done, 1000).unref()),
      ]);
      client.disconnect();
    },
  };
}

/** The metadata field names inside a session hash (for tools that read Redis directly). */
export const REDIS_META_FIELDS = META_FIELDS;
