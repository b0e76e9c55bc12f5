import { UnisessionError } from '../../core/errors.js';
import type { AttributeKey, LoadedSession, SessionChange, SessionMeta } from '../../core/store.js';
import { bumpsVersion } from '../kit/versions.js';
import { isCluster, type RedisClient } from './client.js';
import { WriteFence } from './fence.js';
import {
  checkAttributeKey,
  encodePrincipal,
  expiryScore,
  isAttributeField,
  META_FIELD_NAMES,
  metaFromFields,
  metaFromFlat,
  metaPairs,
  type RedisLayout,
  VERSION_FIELD,
} from './layout.js';
import { type ReplicaPolicy, waitForReplicas } from './replicas.js';
import { evalScript, type LuaScript, SCRIPTS, type ScriptReply } from './scripts.js';

const flatten = (attributes: Map<AttributeKey, string>) =>
  [...attributes].flatMap(([key, value]) => [checkAttributeKey(key), value]);
/** A version as the hash holds it; absent (a session from before versions) is 0. */
const versionOf = (text: string | null | undefined): number => (text ? Number(text) : 0);
const exists = (id: string) => new UnisessionError('UNISESSION_SESSION_EXISTS', id);

/** The values at `fields` of a HMGET reply that starts at `offset`, present ones only. */
function present(fields: string[], values: Array<string | null>, offset: number): Map<AttributeKey, string> {
  const result = new Map<AttributeKey, string>();
  fields.forEach((field, i) => {
    const value = values[offset + i];
    if (value !== null && value !== undefined) result.set(field, value);
  });
  return result;
}

/** The session operations: one hash per session, changed by the Lua scripts of scripts.ts. */
export class RedisSessions {
  constructor(
    private readonly layout: RedisLayout,
    /** How long past expiresAt Redis keeps a hash (see expiryGraceMs). */
    private readonly grace: number,
    /** How many replicas each write waits for (the `replicas` option). */
    private readonly replicas: ReplicaPolicy = { count: 0, timeoutMs: 0 },
    /** Keeps writes that arrive after their caller gave up from being applied (fence.ts). */
    private readonly fence = new WriteFence(2000),
  ) {}

  /**
   * Runs a session script. Standalone: it maintains the indexes itself (one atomic round trip).
   * Cluster: the indexes are in another slot, so their changes follow in a second script.
   * With `replicas`, it resolves only once that many replicas have the write (the session's
   * slot, and in a Cluster the index slot too when the indexes changed).
   */
  async run(
    client: RedisClient,
    script: LuaScript,
    keys: string[],
    args: string[],
  ): Promise<[string, string[]]> {
    const { layout, fence } = this;
    const prefix = isCluster(client) ? '' : layout.indexPrefix;
    fence.refresh(client, Date.now());
    let reply = await this.fenced(client, script, keys, prefix, args);
    if (reply.status === 'late') {
      // We were still waiting, so the clocks disagree (fence.ts): nothing was written; the
      // reply corrects the offset, and the write goes once more.
      fence.learn(Number(reply.payload[0]), reply.sentAt, Date.now());
      reply = await this.fenced(client, script, keys, prefix, args);
      if (reply.status === 'late')
        throw new Error('Redis answered a write as late twice: its clock moves oddly');
    }
    const { status, payload, ops } = reply;
    if (ops.length > 0) await evalScript(client, SCRIPTS.index, [layout.apps], [layout.indexPrefix, ...ops]);
    const waits = [waitForReplicas(client, keys[0]!, this.replicas)];
    if (ops.length > 0 && prefix === '') waits.push(waitForReplicas(client, layout.apps, this.replicas));
    await Promise.all(waits);
    return [status, payload];
  }

  /** One run of a write script, with its deadline. */
  private async fenced(
    client: RedisClient,
    script: LuaScript,
    keys: string[],
    prefix: string,
    args: string[],
  ) {
    const sentAt = Date.now();
    const [status, payload, ops] = (await evalScript(client, script, keys, [
      this.fence.argument(prefix, sentAt),
      ...args,
    ])) as ScriptReply;
    return { status, payload, ops, sentAt };
  }

  async load(
    client: RedisClient,
    id: string,
    keys: AttributeKey[] | 'all',
    now: number,
    knownVersion: number | undefined,
  ) {
    const key = this.layout.session(id);
    let loaded: LoadedSession | null;
    if (knownVersion !== undefined) {
      loaded = await this.loadIfChanged(client, id, keys, knownVersion);
    } else if (keys === 'all') {
      // A plain HGETALL: packing the hash into one reply in Lua halves the client's decoding
      // but costs Redis, the component every node shares, two to eight times the CPU.
      const hash = await client.hgetall(key);
      const meta = metaFromFields(id, (field) => hash[field]);
      const fields = Object.keys(hash).filter(isAttributeField);
      loaded = meta && {
        meta,
        attributes: new Map(fields.map((field) => [field, hash[field]!])),
        version: versionOf(hash[VERSION_FIELD]),
      };
    } else {
      const wanted = keys.filter(isAttributeField);
      const values = await client.hmget(key, VERSION_FIELD, ...META_FIELD_NAMES, ...wanted);
      const meta = metaFromFields(id, (field) => values[1 + META_FIELD_NAMES.indexOf(field)]);
      loaded = meta && {
        meta,
        attributes: present(wanted, values, 1 + META_FIELD_NAMES.length),
        version: versionOf(values[0]),
      };
    }
    // Redis keeps the hash for a grace period past expiresAt (see expiryGraceMs): check it here.
    const expiresAt = loaded?.meta.expiresAt ?? null;
    return expiresAt !== null && expiresAt <= now ? null : loaded;
  }

  /** The conditional load: one script, which sends the attributes only when the version moved. */
  private async loadIfChanged(
    client: RedisClient,
    id: string,
    keys: AttributeKey[] | 'all',
    knownVersion: number,
  ): Promise<LoadedSession | null> {
    const wanted = keys === 'all' ? [] : keys.filter(isAttributeField);
    const [head, body] = (await evalScript(
      client,
      SCRIPTS.load,
      [this.layout.session(id)],
      [String(knownVersion), keys === 'all' ? 'all' : 'some', ...wanted],
    )) as [Array<string | null>, string[] | Array<string | null> | undefined];
    const meta = metaFromFields(id, (field) => head[1 + META_FIELD_NAMES.indexOf(field)]);
    if (!meta) return null;
    const version = versionOf(head[0]);
    if (body === undefined) return { meta, attributes: new Map(), version, unchanged: true };
    if (keys !== 'all') return { meta, attributes: present(wanted, body, 0), version };
    const attributes = new Map<AttributeKey, string>();
    for (let i = 0; i + 1 < body.length; i += 2) {
      const field = body[i]!;
      if (isAttributeField(field)) attributes.set(field, body[i + 1]!);
    }
    return { meta, attributes, version };
  }

  async loadAttributes(client: RedisClient, id: string, keys: AttributeKey[]) {
    const wanted = keys.filter(isAttributeField);
    if (wanted.length === 0) return new Map<AttributeKey, string>();
    return present(wanted, await client.hmget(this.layout.session(id), ...wanted), 0);
  }

  async create(client: RedisClient, meta: SessionMeta, attributes: Map<AttributeKey, string>) {
    const version = await this.put(client, meta, [...metaPairs(meta), ...flatten(attributes)]);
    if (version === null) throw exists(meta.id);
    return version;
  }

  async update(client: RedisClient, id: string, change: SessionChange) {
    const set = flatten(change.set ?? new Map());
    const remove = (change.remove ?? []).map(checkAttributeKey);
    const patch = change.meta ?? {};
    const pairs = [
      ...metaPairs({
        lastAccessedAt: patch.lastAccessedAt,
        maxInactive: patch.maxInactive,
        lastUrl: patch.lastUrl,
        lastHost: patch.lastHost,
      }),
      ...set,
    ];
    const expires =
      patch.expiresAt === undefined ? '' : patch.expiresAt === null ? 'null' : String(patch.expiresAt);
    const principal =
      patch.principal === undefined ? '' : patch.principal === null ? '-' : encodePrincipal(patch.principal);
    const [status, payload] = await this.run(
      client,
      SCRIPTS.update,
      [this.layout.session(id)],
      [
        id,
        expires,
        this.pexpireAt(patch.expiresAt ?? null),
        principal,
        String(pairs.length),
        patch.lastAccessedAt === undefined ? '' : String(patch.lastAccessedAt),
        bumpsVersion(change) ? '1' : '',
        ...pairs,
        ...remove,
      ],
    );
    // A hash from before versions stays at 0 through touches: report "applied" as true, never a falsy 0.
    return status === 'ok' ? versionOf(payload[0]) || true : false;
  }

  async destroy(client: RedisClient, id: string) {
    const [status, fields] = await this.run(client, SCRIPTS.destroy, [this.layout.session(id)], [id, '', '']);
    return status === 'deleted' ? metaFromFlat(id, fields) : null;
  }

  async rename(client: RedisClient, oldId: string, newId: string) {
    const { layout } = this;
    if (!isCluster(client)) {
      const keys = [layout.session(oldId), layout.session(newId)];
      const [status, payload] = await this.run(client, SCRIPTS.rename, keys, [oldId, newId]);
      if (status === 'exists') throw exists(newId);
      return status === 'ok' ? versionOf(payload[0]) : false;
    }
    // Cluster: the ids hash to different slots, so no single command moves the hash.
    // Take it (read + delete in one script: from here on the old id loads nothing), then
    // write it under the new id. A failure between the two loses the session; see the docs.
    const [status, flat] = await this.run(client, SCRIPTS.take, [layout.session(oldId)], [oldId]);
    if (status === 'gone') return false;
    const meta = metaFromFlat(newId, flat)!;
    // The pairs carry the old version, which the create script moves on by one.
    const version = await this.put(client, meta, flat);
    if (version === null) {
      await this.put(client, { ...meta, id: oldId }, flat);
      throw exists(newId);
    }
    return version;
  }

  /**
   * Writes a session from field/value pairs (create, and the second half of a Cluster rename).
   * Returns its version, or null when the id was taken.
   */
  private async put(client: RedisClient, meta: SessionMeta, pairs: string[]): Promise<number | null> {
    const [status, payload] = await this.run(
      client,
      SCRIPTS.create,
      [this.layout.session(meta.id)],
      [
        meta.id,
        meta.app,
        expiryScore(meta.expiresAt),
        encodePrincipal(meta.principal),
        this.pexpireAt(meta.expiresAt),
        String(meta.lastAccessedAt),
        String(meta.createdAt),
        meta.host,
        ...pairs,
      ],
    );
    return status === 'ok' ? versionOf(payload[0]) : null;
  }

  private pexpireAt(expiresAt: number | null): string {
    return expiresAt === null ? '' : String(Math.ceil(expiresAt + this.grace));
  }
}
