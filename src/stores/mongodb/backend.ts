import type { ClientSession, UpdateFilter } from 'mongodb';
import { UnisessionError } from '../../core/errors.js';
import { AUDIT_LOG_LIMIT, type AuditEntry, type SessionMeta, type SweepRecord } from '../../core/store.js';
import type { Backend } from '../kit/backend.js';
import { collectPage, matches } from '../kit/paging.js';
import { bumpsVersion } from '../kit/versions.js';
import {
  deltaUpdate,
  type Fields,
  isAlive,
  listOrder,
  listQuery,
  loadProjection,
  needsAddressCheck,
  type SessionDoc,
  toAttributes,
  toDoc,
  toMeta,
} from './layout.js';
import type { MongodbSettings } from './options.js';
import { withProjection } from './projection.js';
import { inTransaction, isDuplicateKey, type MongoHandles } from './setup.js';
import { mongoStats } from './stats.js';
import { mongodbTickets } from './tickets.js';
import { conditionalLoadPipeline, VERSION_FIELD } from './versions.js';

const metaOnly = { projection: { meta: 1 } } as const;

/**
 * Moves a session to a new id: delete first, then insert, so the old id is dead from the
 * first step on, and updates racing with the move either land before the delete (and move
 * along) or find nothing. In a transaction when the server has them; otherwise, between the
 * two steps neither id loads, and a failed insert puts the document back under its old id.
 */
async function rename(h: MongoHandles, settings: MongodbSettings, oldId: string, newId: string) {
  // The moved document's version is one more: a rename is a change (see "Versions").
  const version = (doc: SessionDoc) => Number(doc.v ?? 0) + 1;
  const insertAs = (doc: SessionDoc, session?: ClientSession) =>
    h.sessions
      .insertOne({ ...doc, _id: newId, [VERSION_FIELD]: version(doc) }, { session })
      .catch((error: unknown) => {
        throw isDuplicateKey(error) ? new UnisessionError('UNISESSION_SESSION_EXISTS', newId) : error;
      });
  if (h.transactions) {
    return inTransaction(h, settings.writeConcern, async (session) => {
      const doc = await h.sessions.findOneAndDelete({ _id: oldId }, { session });
      if (doc) await insertAs(doc, session);
      return doc ? version(doc) : false;
    });
  }
  const doc = await h.sessions.findOneAndDelete({ _id: oldId });
  if (!doc) return false;
  try {
    await insertAs(doc);
  } catch (error) {
    await h.sessions.insertOne(doc).catch(() => undefined);
    throw error;
  }
  return version(doc);
}

/** An aggregate's object of named attributes may hold nulls for the absent ones. */
const presentOnly = (attrs: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(attrs ?? {}).filter(([, value]) => typeof value === 'string')) as Record<
    string,
    string
  >;

/**
 * A racing sweeper may delete some of our candidates first: look again until this call has
 * `limit` sessions or none is left, so that a short batch means "nothing more".
 */
async function sweep({ sessions }: MongoHandles, now: number, limit: number): Promise<SessionMeta[]> {
  const expired = { 'meta.expiresAt': { $lte: now } };
  const swept: SessionMeta[] = [];
  while (swept.length < limit) {
    const want = limit - swept.length;
    const candidates = await sessions
      .find(expired, { projection: { _id: 1 } })
      .limit(want)
      .toArray();
    // Each delete re-checks expiry (a touch may have revived the session since the find)
    // and returns the document only to the sweeper that removed it.
    const deleted = await Promise.all(
      candidates.map((doc) =>
        withProjection(sessions, metaOnly.projection, (options) =>
          sessions.findOneAndDelete({ _id: doc._id, ...expired }, options),
        ),
      ),
    );
    for (const doc of deleted) if (doc) swept.push(toMeta(doc));
    if (candidates.length < want) break;
  }
  return swept;
}

/**
 * The MongoDB operations: one document per session, written with `$set`/`$unset` on single
 * attribute fields so concurrent requests never overwrite each other.
 */
export function mongodbBackend(settings: MongodbSettings): Backend<MongoHandles> {
  return {
    async load({ sessions }, id, keys, now, knownVersion) {
      if (knownVersion !== undefined) {
        const [doc] = await sessions
          .aggregate<SessionDoc & { v: number; unchanged: boolean }>(
            conditionalLoadPipeline(id, keys, knownVersion),
          )
          .toArray();
        if (!doc || !isAlive(doc.meta, now)) return null;
        const version = Number(doc.v);
        if (doc.unchanged) return { meta: toMeta(doc), attributes: new Map(), version, unchanged: true };
        return { meta: toMeta(doc), attributes: toAttributes(presentOnly(doc.attrs)), version };
      }
      const projection = { ...loadProjection(keys), [VERSION_FIELD]: 1 };
      const doc = await sessions.findOne({ _id: id }, { projection });
      if (!doc || !isAlive(doc.meta, now)) return null;
      const version = Number(doc.v ?? 0);
      return { meta: toMeta(doc), attributes: toAttributes(doc.attrs), version };
    },

    async loadAttributes({ sessions }, id, keys) {
      if (keys.length === 0) return new Map();
      const { meta: _meta, ...projection } = loadProjection(keys);
      const doc = await sessions.findOne({ _id: id }, { projection: { _id: 0, ...projection } });
      return toAttributes(doc?.attrs);
    },

    async create({ sessions }, meta, attributes) {
      try {
        await sessions.insertOne({ ...toDoc(meta, attributes), [VERSION_FIELD]: 1 });
        return 1;
      } catch (error) {
        if (isDuplicateKey(error)) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
        throw error;
      }
    },

    async update({ sessions }, _id, change) {
      const delta = deltaUpdate(change.meta, change.set, change.remove);
      const update: Fields | null = bumpsVersion(change) ? { ...delta, $inc: { [VERSION_FIELD]: 1 } } : delta;
      const projection = { _id: 1, [VERSION_FIELD]: 1 };
      // No upsert: a session deleted meanwhile (logout, sweep) must stay deleted. One command
      // either way; the updated document comes back with its version.
      const doc = update
        ? await withProjection(sessions, projection, (options) =>
            sessions.findOneAndUpdate({ _id }, update as UpdateFilter<SessionDoc>, {
              returnDocument: 'after',
              ...options,
            }),
          )
        : await sessions.findOne({ _id }, { projection });
      if (!doc) return false;
      // A document from before versions stays at 0 through touches: "applied" is then true, never a falsy 0.
      return Number(doc.v ?? 0) || true;
    },

    async destroy({ sessions }, id) {
      // findOneAndDelete returns the document only to the caller whose delete removed it.
      const doc = await withProjection(sessions, metaOnly.projection, (options) =>
        sessions.findOneAndDelete({ _id: id }, options),
      );
      return doc ? toMeta(doc) : null;
    },

    rename: (handles, oldId, newId) => rename(handles, settings, oldId, newId),

    listing: {
      async list({ sessions }, query) {
        const base = listQuery(query.filter);
        return collectPage(query, async (after, limit) => {
          const { sort, after: beyond } = listOrder({ ...query, after });
          const docs = await sessions
            .find(beyond ? { $and: [base, beyond] } : base, metaOnly)
            .sort(sort)
            .limit(limit)
            .toArray();
          return docs.map(toMeta);
        });
      },
      async count({ sessions }, filter) {
        if (!needsAddressCheck(filter)) return sessions.countDocuments(listQuery(filter));
        let n = 0;
        for await (const doc of sessions.find(listQuery(filter), metaOnly))
          if (matches(toMeta(doc), filter)) n++;
        return n;
      },
    },

    principals: {
      async find({ sessions }, principal) {
        const docs = await sessions
          .find({ 'meta.principal': principal }, { projection: { _id: 1 } })
          .toArray();
        return docs.map((doc) => doc._id);
      },
    },

    sweeping: { sweep },

    stats: {
      compute: mongoStats,
      async noteSweep({ state }, record) {
        await state.updateOne({ _id: 'lastSweep' }, { $set: { value: { ...record } } }, { upsert: true });
      },
      async lastSweep({ state }) {
        const doc = await state.findOne({ _id: 'lastSweep' });
        const value = doc?.value as Partial<SweepRecord> | undefined;
        if (typeof value?.at !== 'number' || typeof value.holder !== 'string') return null;
        return {
          at: value.at,
          removed: Number(value.removed ?? 0),
          durationMs: Number(value.durationMs ?? 0),
          holder: value.holder,
        };
      },
    },

    audit: {
      async append({ audit, state }, entry) {
        // The sequence orders the log and makes the trim a range delete on _id.
        const counter = await state.findOneAndUpdate(
          { _id: 'auditSeq' },
          { $inc: { seq: 1 } },
          { upsert: true, returnDocument: 'after' },
        );
        const seq = Number(counter?.seq ?? 1);
        await audit.insertOne({ _id: seq, ...entry });
        await audit.deleteMany({ _id: { $lte: seq - AUDIT_LOG_LIMIT } });
      },
      async list({ audit }, limit, before) {
        const docs = await audit
          .find(before === undefined ? {} : { _id: { $lt: Number(before) } })
          .sort({ _id: -1 })
          .limit(limit + 1)
          .toArray();
        return docs.map(({ _id, ...fields }) => {
          const entry: AuditEntry = {
            at: Number(fields.at),
            actor: String(fields.actor),
            scope: String(fields.scope),
            action: String(fields.action),
            target: String(fields.target),
            count: Number(fields.count),
          };
          if (fields.detail) entry.detail = fields.detail;
          return { position: String(_id), entry };
        });
      },
    },

    leases: {
      async acquire({ leases }, name, holder, ttlMs, now) {
        try {
          // Matches when we hold it or it lapsed; when someone else holds it, the upsert's
          // insert collides on _id, which means "not acquired".
          const doc = await leases.findOneAndUpdate(
            { _id: name, $or: [{ holder }, { expiresAt: { $lte: now } }] },
            { $set: { holder, expiresAt: now + ttlMs } },
            { upsert: true, returnDocument: 'after' },
          );
          return doc?.holder === holder;
        } catch (error) {
          if (isDuplicateKey(error)) return false;
          throw error;
        }
      },
    },

    tickets: mongodbTickets(settings),
  };
}
