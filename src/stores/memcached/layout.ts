import { createHash } from 'node:crypto';
import type { AttributeKey, MetaPatch, SessionChange, SessionMeta } from '../../core/store.js';
import { bumpsVersion } from '../kit/versions.js';

/**
 * How a session sits in memcached:
 *   <group>:<sid>:m           the metadata record (JSON), updated with gets/cas
 *   <group>:<sid>:a:<base64>  one item per attribute, the codec's string as is
 * Memcached keys are at most 250 bytes of printable non-space ASCII, so attribute keys are
 * base64url-encoded, and hashed (`:h:` + sha256) when that would be too long. Session ids
 * that are not plain base64url are hashed too: whatever a client sends can never break the
 * text protocol.
 */
const MAX_KEY_BYTES = 250;
const PLAIN_ID = /^[A-Za-z0-9_-]{1,128}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

export class KeyLayout {
  constructor(readonly group: string) {}

  /** The part of every key of a session; it is also what the ring hashes, so a session stays on one node. */
  sessionPart(id: string): string {
    return `${this.group}:${PLAIN_ID.test(id) ? id : `~${sha256(id)}`}`;
  }

  meta(id: string): string {
    return `${this.sessionPart(id)}:m`;
  }

  attribute(id: string, key: AttributeKey): string {
    const plain = `${this.sessionPart(id)}:a:${Buffer.from(key, 'utf8').toString('base64url')}`;
    return plain.length <= MAX_KEY_BYTES ? plain : `${this.sessionPart(id)}:h:${sha256(key)}`;
  }
}

/** What the metadata item holds: the metadata, and the index of attribute keys (for `load(id, 'all')`). */
export interface MetaRecord {
  meta: SessionMeta;
  keys: AttributeKey[];
  /**
   * Until when (epoch ms, null = never) the attribute items are kept alive. It runs ahead of
   * `expiresAt` by one `maxInactive`, so a touch need not re-touch every attribute item: only
   * when `expiresAt` passes it are they all touched again (once per `maxInactive` at most).
   */
  attrsUntil: number | null;
  /**
   * Bumped by every metadata write. The primary and the backup are read side by side and the
   * higher revision wins, so a node that was unreachable for a while (a hung host, a network
   * blip) and comes back with old data is recognised as stale, not believed.
   */
  rev: number;
  /**
   * The session's version (the port's "Versions"): unlike `rev`, a touch leaves it. It sits in
   * the metadata item, which every change publishes last with a CAS, after its attribute items
   * (see docs/decisions.md, "memcached versions"). 0 for a record written before versions.
   */
  ver: number;
}

const FORMAT = 1;

export function encodeRecord(record: MetaRecord): string {
  const { id: _id, ...meta } = record.meta;
  return JSON.stringify({
    v: FORMAT,
    ...meta,
    keys: record.keys,
    attrsUntil: record.attrsUntil,
    rev: record.rev,
    ver: record.ver,
  });
}

/** A destroyed (or moved) session: holds the key against a racing writer or a stale copy. */
export function encodeTombstone(rev: number): string {
  return JSON.stringify({ v: FORMAT, gone: true, rev });
}

/** The record; a tombstone; or null for anything unreadable (which counts as no session). */
export function decodeRecord(id: string, text: string): MetaRecord | { gone: true; rev: number } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { v, gone, keys, attrsUntil, rev, ver, ...meta } = parsed as Record<string, unknown>;
  if (v !== FORMAT) return null;
  const revision = typeof rev === 'number' ? rev : 0;
  if (gone === true) return { gone: true, rev: revision };
  if (!Array.isArray(keys) || typeof meta.app !== 'string') return null;
  return {
    meta: { ...(meta as Omit<SessionMeta, 'id'>), id },
    keys: keys.filter((key): key is string => typeof key === 'string'),
    attrsUntil: typeof attrsUntil === 'number' ? attrsUntil : null,
    rev: revision,
    ver: typeof ver === 'number' && Number.isSafeInteger(ver) && ver >= 0 ? ver : 0,
  };
}

const THIRTY_DAYS = 30 * 86_400;

/**
 * memcached's exptime for a session's items: 0 is never; up to 30 days it is relative seconds
 * (which keeps us independent of the server's clock); beyond that memcached reads it as a
 * unix time. `grace` lets items outlive `expiresAt` a little: the store itself decides
 * expiry against the caller's clock, so a small skew never makes data vanish early.
 */
export function exptime(expiresAt: number | null, now: number, graceSeconds: number): number {
  if (expiresAt === null) return 0;
  const seconds = Math.ceil((expiresAt - now) / 1000) + graceSeconds;
  if (seconds <= 0) return -1; // already over: store nothing that lives
  return seconds <= THIRTY_DAYS ? seconds : Math.floor(now / 1000) + seconds;
}

/** Attribute items live up to one maxInactive past expiresAt (see MetaRecord.attrsUntil). */
export function horizon(meta: SessionMeta): number | null {
  return meta.expiresAt === null ? null : meta.expiresAt + meta.maxInactive;
}

/** The record after one delta: patched metadata, updated index, next revision, and the next version unless it is a touch. */
export function applyChange(record: MetaRecord, change: SessionChange): MetaRecord {
  const patch = Object.fromEntries(
    Object.entries(change.meta ?? {}).filter(([, value]) => value !== undefined),
  ) as MetaPatch;
  const meta = { ...record.meta, ...patch };
  const removed = new Set(change.remove ?? []);
  const keys = [...new Set([...record.keys, ...(change.set?.keys() ?? [])])].filter(
    (key) => !removed.has(key),
  );
  const { attrsUntil } = record;
  const stillCovered = meta.expiresAt !== null && attrsUntil !== null && meta.expiresAt <= attrsUntil;
  return {
    meta,
    keys,
    attrsUntil: stillCovered ? attrsUntil : horizon(meta),
    rev: record.rev + 1,
    ver: bumpsVersion(change) ? record.ver + 1 : record.ver,
  };
}
