import { UnisessionError } from '../../core/errors.js';
import type { AttributeKey, SessionMeta } from '../../core/store.js';

/**
 * Key and field layout of the Redis store, for a group `G`:
 *
 *   G:{<id>}                    hash: one session (metadata fields + one field per attribute)
 *   G:#idx{G}:apps              set: the apps that have created sessions
 *   G:#idx{G}:exp:<app>         sorted set: id -> expiresAt (+inf when it never expires)
 *   G:#idx{G}:ids:<app>         sorted set: id -> 0, read in id order (ZRANGEBYLEX) for paging
 *   G:#idx{G}:principal:<p>     set: the ids of a principal's sessions
 *   G:#idx{G}:app:<app>:acc     sorted set: id -> lastAccessedAt (time-ordered listing, idle stats)
 *   G:#idx{G}:app:<app>:created sorted set: id -> createdAt
 *   G:#idx{G}:app:<app>:auth    sorted set: id -> lastAccessedAt, sessions with a principal
 *   G:#idx{G}:app:<app>:who     hash: id -> principal (distinct users online)
 *   G:#idx{G}:app:<app>:hosts   set: creating hosts; ...:host:<h> sorted set id -> expiresAt
 *   G:#idx{G}:audit             sorted set: seq -> entry JSON (the audit log); audit-seq, last-sweep
 *   G:#lease:<name>             hash: holder and end of a lease
 *   G:#ticket:<key>             string: one SSO ticket (see tickets.ts)
 *
 * Session keys start with `G:{` and every other key with `G:#`, so no id, app or principal
 * can make two kinds of key collide. The session key's hash tag is the id, so a session is
 * one key in one Cluster slot; the index keys share the tag `{G}`, so in a Cluster they all
 * sit in one slot and one script can update them atomically.
 */
export class RedisLayout {
  /** Prefix of every index key, ending in ':' (the Lua scripts append `apps`, `exp:<app>`...). */
  readonly indexPrefix: string;

  constructor(readonly group: string) {
    this.indexPrefix = `${group}:#idx{${group}}:`;
  }

  session(id: string): string {
    return `${this.group}:{${id}}`;
  }

  get apps(): string {
    return `${this.indexPrefix}apps`;
  }

  expiry(app: string): string {
    return `${this.indexPrefix}exp:${app}`;
  }

  ids(app: string): string {
    return `${this.indexPrefix}ids:${app}`;
  }

  principal(principal: string): string {
    return `${this.indexPrefix}principal:${principal}`;
  }

  /** The monitor's indexes of one app (see scripts.ts `apply_ops`): `acc`, `created`, `auth`, `who`, `hosts`, `host:<h>`. */
  appIndex(app: string, name: 'acc' | 'created' | 'auth' | 'who' | 'hosts'): string {
    return `${this.indexPrefix}app:${app}:${name}`;
  }

  hostIndex(app: string, host: string): string {
    return `${this.indexPrefix}app:${app}:host:${host}`;
  }

  /** The group's audit log (a list, newest first) and its sequence, in the index slot. */
  get audit(): string {
    return `${this.indexPrefix}audit`;
  }

  get auditSequence(): string {
    return `${this.indexPrefix}audit-seq`;
  }

  /** The last sweeper run, as JSON. */
  get lastSweep(): string {
    return `${this.indexPrefix}last-sweep`;
  }

  lease(name: string): string {
    return `${this.group}:#lease:${name}`;
  }
}

/**
 * Metadata field names inside the session hash. They start with '#' and contain no ':',
 * while every attribute key contains ':' (`<namespace>:<name>`), so the two never collide.
 * The Lua scripts refer to `#app`, `#expires` and `#principal` by these names.
 */
export const META_FIELDS = {
  app: '#app',
  createdAt: '#created',
  lastAccessedAt: '#accessed',
  maxInactive: '#maxInactive',
  expiresAt: '#expires',
  absoluteExpiresAt: '#absolute',
  principal: '#principal',
  host: '#host',
  clientAddress: '#address',
  userAgent: '#userAgent',
  createdUrl: '#createdUrl',
  lastUrl: '#lastUrl',
  lastHost: '#lastHost',
} as const satisfies Record<Exclude<keyof SessionMeta, 'id'>, string>;

/**
 * The session's version (see the port's "Versions"), a metadata-style field beside the
 * others: HINCRBY'd by the scripts with every change but a touch. Absent reads as 0.
 */
export const VERSION_FIELD = '#version';

type MetaField = keyof typeof META_FIELDS;
export const META_FIELD_NAMES: readonly string[] = Object.values(META_FIELDS);
const META_KEYS = Object.keys(META_FIELDS) as MetaField[];

/** Field/value pairs for the metadata present in `meta`; null values are left out (absent = null). */
export function metaPairs(meta: Partial<SessionMeta>): string[] {
  const pairs: string[] = [];
  for (const field of META_KEYS) {
    const value = meta[field];
    if (value !== null && value !== undefined) pairs.push(META_FIELDS[field], String(value));
  }
  return pairs;
}

/**
 * The metadata read back from the hash; `get` returns a field's stored value or
 * null/undefined when absent. Returns null when the hash holds no session (no `#created`).
 */
export function metaFromFields(
  id: string,
  get: (field: string) => string | null | undefined,
): SessionMeta | null {
  const text = (field: MetaField) => get(META_FIELDS[field]) ?? null;
  const created = text('createdAt');
  if (created === null) return null;
  const num = (field: MetaField) => Number(text(field) ?? 0);
  const nullableNum = (field: MetaField) => {
    const value = text(field);
    return value === null ? null : Number(value);
  };
  return {
    id,
    app: text('app') ?? '',
    createdAt: Number(created),
    lastAccessedAt: num('lastAccessedAt'),
    maxInactive: num('maxInactive'),
    expiresAt: nullableNum('expiresAt'),
    absoluteExpiresAt: nullableNum('absoluteExpiresAt'),
    principal: text('principal'),
    host: text('host') ?? '',
    clientAddress: text('clientAddress') ?? '',
    createdUrl: text('createdUrl') ?? '',
    lastUrl: text('lastUrl') ?? '',
    lastHost: text('lastHost') ?? '',
    userAgent: text('userAgent') ?? '',
  };
}

/** Decodes a flat [field, value, field, value...] reply (as HGETALL gives it) into metadata. */
export function metaFromFlat(id: string, flat: readonly string[]): SessionMeta | null {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
  return metaFromFields(id, (field) => fields.get(field));
}

/**
 * Attribute keys are `<namespace>:<name>`; one without ':' could be mistaken for a metadata
 * field, so it is refused before anything is written.
 */
export function checkAttributeKey(key: AttributeKey): AttributeKey {
  if (!key.includes(':')) {
    throw new UnisessionError(
      'UNISESSION_INVALID_NAME',
      `attribute key "${key}" is not of the form <namespace>:<name>`,
    );
  }
  return key;
}

/** Whether a field of the session hash is an attribute (not metadata). */
export const isAttributeField = (field: string): boolean => field.includes(':');

/** Score of a session in its app's expiry index. */
export const expiryScore = (expiresAt: number | null): string =>
  expiresAt === null ? '+inf' : String(expiresAt);

/** How a principal travels to the Lua scripts: '' for none, '=' + value otherwise (so '' can be a principal). */
export const encodePrincipal = (principal: string | null): string =>
  principal === null ? '' : `=${principal}`;
