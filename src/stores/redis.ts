import { isUnisessionError, storeUnavailable, UnisessionError } from '../core/errors.js';
import type { AttributeKey, SessionMeta, Store } from '../core/store.js';
import { checkLimit, invalidArgument } from '../core/validate.js';
import { createClient, type RedisClient, whenReady } from './redis/client.js';
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
import { type RedisStoreOptions, resolveRedisOptions } from './redis/options.js';
import { RedisQueries } from './redis/queries.js';
import { evalScript, type LuaScript, SCRIPTS, type ScriptReply } from './redis/scripts.js';

export type { RedisStoreOptions } from './redis/options.js';

const STORE = 'redis';

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
  const { group, grace, settings } = resolveRedisOptions(options);
  const layout = new RedisLayout(group);
  const queries = new RedisQueries(layout);
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

  return {
    name: STORE,
    group,
    flags: { list: true, principalIndex: true, sweep: true, lease: true },

    load(id, keys, now) {
      return withClient(async (client) => {
        const key = layout.session(id);
        let meta: SessionMeta | null;
        const attributes = new Map<AttributeKey, string>();
        if (keys === 'all') {
          // A plain HGETALL: packing the hash into one reply in Lua halves the client's decoding
          // but costs Redis, the component every node shares, two to eight times the CPU.
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
      return withClient(async (client) =>
        queries.list(client, filter, checkLimit('redisStore.list', filter.limit)),
      );
    },

    count(filter) {
      return withClient((client) => queries.count(client, filter));
    },

    findByPrincipal(principal) {
      return withClient(async (client) =>
        (await queries.principalSessions(client, principal)).map((meta) => meta.id),
      );
    },

    sweep(now, limit) {
      return withClient(async (client) => {
        if (!Number.isSafeInteger(limit) || limit < 1)
          throw invalidArgument('redisStore.sweep', 'limit', 'an integer > 0', limit);
        const swept: SessionMeta[] = [];
        for (const app of await queries.apps(client, undefined)) {
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
