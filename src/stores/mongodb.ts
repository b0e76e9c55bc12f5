import type {
  ClientSession,
  Collection,
  Db,
  Document,
  MongoClient,
  MongoClientOptions,
  ReadPreferenceLike,
  UpdateFilter,
  WriteConcernSettings,
} from 'mongodb';
import { storeUnavailable, UnisessionError } from '../core/errors.js';
import type { ListFilter, SessionMeta, Store } from '../core/store.js';
import {
  checkGroup,
  checkLimit,
  checkOptions,
  checkString,
  invalidArgument,
  is,
  isGroupName,
  type OptionSpec,
} from '../core/validate.js';
import {
  deltaUpdate,
  isAlive,
  listQuery,
  loadProjection,
  type SessionDoc,
  toAttributes,
  toDoc,
  toMeta,
} from './mongodb/layout.js';
import { ensureIndexes, isDuplicateKey, makeClient, supportsTransactions } from './mongodb/setup.js';

export interface MongodbStoreOptions {
  /** Connection string, used when no `client` is given. @default 'mongodb://127.0.0.1:27017' */
  url?: string;
  /** A MongoClient you already have (connected or not). The store uses it and `close()` leaves it open. */
  client?: MongoClient;
  /** Options for the client the store makes from `url` (ignored with `client`). @default { serverSelectionTimeoutMS: 2000 } */
  clientOptions?: MongoClientOptions;
  /** The database. @default 'unisession' */
  database?: string;
  /** Names the collections (`<group>_sessions`, `<group>_leases`); apps sharing sessions share it. @default 'unisession' */
  group?: string;
  /**
   * Write concern of every write. `majority` survives a primary failover, so a read on the
   * (new) primary always sees the write; on a standalone server it is the same as `w: 1`.
   * `w: 0` is refused: the store needs acknowledged writes to report what it changed.
   * @default { w: 'majority', wtimeoutMS: 2000 }
   */
  writeConcern?: WriteConcernSettings;
  /** Read preference. Reading from secondaries needs `w` = every data-bearing member to see your own writes. @default 'primary' */
  readPreference?: ReadPreferenceLike;
  /**
   * Create a TTL index on `expireAt` so the server itself removes sessions nobody swept (for
   * example when no app node ran for a while). The manager's sweeper still removes expired
   * sessions first, so that "destroyed" events fire; see `ttlGraceSeconds`. @default true
   */
  ttlIndex?: boolean;
  /** How long after expiresAt the TTL index deletes a session (the sweeper normally wins by far). @default 3600 */
  ttlGraceSeconds?: number;
}

const NAME = 'mongodb';
const DATABASE_PATTERN = /^[^/\\. "$*<>:|?\0]{1,63}$/;

const MONGODB_OPTIONS: OptionSpec = {
  url: is.nonEmptyString,
  client: is.withMethods('a MongoClient', 'db', 'connect'),
  clientOptions: is.withMethods('MongoClient options'),
  database: is.matching(DATABASE_PATTERN, 'a MongoDB database name'),
  group: isGroupName,
  writeConcern: is.withMethods('write concern settings ({ w, wtimeoutMS })'),
  readPreference: is.any,
  ttlIndex: is.boolean,
  ttlGraceSeconds: is.nonNegativeInteger,
};

/**
 * Defence in depth: a query value that is not a string (`{ $ne: null }`) would be read as an
 * operator and match every session. The manager checks its arguments; the store checks again.
 */
const id = (where: string, value: unknown) => checkString(`mongodbStore.${where}`, 'id', value);

function finite(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalidArgument(`mongodbStore.${where}`, name, 'a finite number', value);
  return value;
}

/** The filter's values, each of the type its field holds. */
function checkFilter(where: string, filter: Omit<ListFilter, 'limit'>): void {
  for (const field of ['app', 'principal', 'cursor'] as const) {
    if (filter[field] !== undefined) checkString(`mongodbStore.${where}`, field, filter[field]);
  }
  if (filter.aliveAt !== undefined) finite(where, 'aliveAt', filter.aliveAt);
}

interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: number;
}

interface Handles {
  client: MongoClient;
  sessions: Collection<SessionDoc>;
  leases: Collection<LeaseDoc>;
  transactions: boolean;
}

/**
 * Sessions in MongoDB (or a wire-compatible server), one document per session, written with
 * `$set`/`$unset` on single attribute fields so concurrent requests never overwrite each other.
 * Needs the `mongodb` package (v6 or v7). See docs/stores/mongodb.md.
 *
 * @example
 * const store = mongodbStore({ url: process.env.MONGO_URL, group: 'shop' });
 */
export function mongodbStore(options: MongodbStoreOptions = {}): Store {
  const settings = resolveSettings(options);
  const collectionOptions = {
    writeConcern: settings.writeConcern,
    readPreference: options.readPreference ?? 'primary',
  };
  let client: Promise<MongoClient> | undefined;
  let ready: Promise<Handles> | undefined;
  let closed = false;

  function getClient(): Promise<MongoClient> {
    client ??= options.client
      ? Promise.resolve(options.client)
      : makeClient(options.url ?? 'mongodb://127.0.0.1:27017', {
          serverSelectionTimeoutMS: 2000,
          ...options.clientOptions,
        }).catch((error: unknown) => {
          client = undefined;
          throw error;
        });
    return client;
  }

  /** Memoised once it succeeds; a failure (server down) is retried by the next operation. */
  function open(): Promise<Handles> {
    if (closed)
      return Promise.reject(new UnisessionError('UNISESSION_STORE_UNAVAILABLE', 'mongodb: store closed'));
    if (ready) return ready;
    const pending = (async (): Promise<Handles> => {
      const mongo = await getClient();
      // An explicit connect: after a failed first connection the driver's auto-connect keeps
      // reusing the closed topology ("Topology is closed"), while connect() starts a new one.
      // On a connected client it returns at once.
      await mongo.connect();
      const db: Db = mongo.db(settings.database);
      const sessions = db.collection<SessionDoc>(`${settings.group}_sessions`, collectionOptions);
      await ensureIndexes(sessions as unknown as Collection<Document>, db, {
        ttlGraceSeconds: settings.ttlGraceSeconds,
      });
      return {
        client: mongo,
        sessions,
        leases: db.collection<LeaseDoc>(`${settings.group}_leases`, collectionOptions),
        transactions: await supportsTransactions(db),
      };
    })().catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    ready = pending;
    return pending;
  }

  /** Every operation: wait for setup, and turn driver failures into UNISESSION_STORE_UNAVAILABLE. */
  async function run<T>(work: (handles: Handles) => Promise<T>): Promise<T> {
    try {
      return await work(await open());
    } catch (error) {
      throw storeUnavailable(NAME, error);
    }
  }

  const metaOnly = { projection: { meta: 1 } } as const;

  const store: Store = {
    name: NAME,
    group: settings.group,
    flags: { list: true, principalIndex: true, sweep: true, lease: true },

    load: (sessionId, keys, now) =>
      run(async ({ sessions }) => {
        const doc = await sessions.findOne(
          { _id: id('load', sessionId) },
          { projection: loadProjection(keys) },
        );
        if (!doc || !isAlive(doc.meta, now)) return null;
        return { meta: toMeta(doc), attributes: toAttributes(doc.attrs) };
      }),

    loadAttributes: (sessionId, keys) =>
      run(async ({ sessions }) => {
        if (keys.length === 0) return new Map();
        const { meta: _meta, ...projection } = loadProjection(keys);
        const doc = await sessions.findOne(
          { _id: id('loadAttributes', sessionId) },
          { projection: { _id: 0, ...projection } },
        );
        return toAttributes(doc?.attrs);
      }),

    create: (meta, attributes) =>
      run(async ({ sessions }) => {
        id('create', meta.id);
        try {
          await sessions.insertOne(toDoc(meta, attributes));
        } catch (error) {
          if (isDuplicateKey(error)) throw new UnisessionError('UNISESSION_SESSION_EXISTS', meta.id);
          throw error;
        }
      }),

    update: (sessionId, change) =>
      run(async ({ sessions }) => {
        const _id = id('update', sessionId);
        const update = deltaUpdate(change.meta, change.set, change.remove);
        // No upsert: a session deleted meanwhile (logout, sweep) must stay deleted.
        if (!update) return (await sessions.findOne({ _id }, { projection: { _id: 1 } })) !== null;
        return (await sessions.updateOne({ _id }, update as UpdateFilter<SessionDoc>)).matchedCount > 0;
      }),

    destroy: (sessionId) =>
      run(async ({ sessions }) => {
        // findOneAndDelete returns the document only to the caller whose delete removed it.
        const doc = await sessions.findOneAndDelete({ _id: id('destroy', sessionId) }, metaOnly);
        return doc ? toMeta(doc) : null;
      }),

    rename: (oldId, newId) =>
      run(async ({ client: mongo, sessions, transactions }) => {
        id('rename', oldId);
        id('rename', newId);
        // Delete first, then insert: the old id is dead from the first step on, and updates
        // racing with the move either land before the delete (and move along) or find nothing.
        const insertAs = (doc: SessionDoc, session?: ClientSession) =>
          sessions.insertOne({ ...doc, _id: newId }, { session }).catch((error: unknown) => {
            throw isDuplicateKey(error) ? new UnisessionError('UNISESSION_SESSION_EXISTS', newId) : error;
          });
        const move = async (session?: ClientSession): Promise<boolean> => {
          const doc = await sessions.findOneAndDelete({ _id: oldId }, { session });
          if (!doc) return false;
          await insertAs(doc, session);
          return true;
        };
        if (transactions) {
          const session = mongo.startSession();
          try {
            let moved = false;
            await session.withTransaction(
              async () => {
                moved = await move(session);
              },
              { writeConcern: settings.writeConcern, readPreference: 'primary' },
            );
            return moved;
          } finally {
            await session.endSession();
          }
        }
        // No transactions (standalone server): between the two steps neither id loads, and a
        // failure of the insert puts the document back under its old id.
        const doc = await sessions.findOneAndDelete({ _id: oldId });
        if (!doc) return false;
        try {
          await insertAs(doc);
        } catch (error) {
          await sessions.insertOne(doc).catch(() => undefined);
          throw error;
        }
        return true;
      }),

    list: (filter) =>
      run(async ({ sessions }) => {
        const limit = checkLimit('mongodbStore.list', filter.limit);
        checkFilter('list', filter);
        const docs = await sessions
          .find(listQuery(filter), metaOnly)
          .sort({ _id: 1 })
          .limit(limit + 1)
          .toArray();
        const page = docs.slice(0, limit).map(toMeta);
        return docs.length > limit ? { sessions: page, next: page[page.length - 1]!.id } : { sessions: page };
      }),

    count: (filter) =>
      run(({ sessions }) => {
        checkFilter('count', filter);
        return sessions.countDocuments(listQuery(filter));
      }),

    findByPrincipal: (principal) =>
      run(async ({ sessions }) => {
        checkString('mongodbStore.findByPrincipal', 'principal', principal);
        const docs = await sessions
          .find({ 'meta.principal': principal }, { projection: { _id: 1 } })
          .toArray();
        return docs.map((doc) => doc._id);
      }),

    sweep: (now, limit) =>
      run(async ({ sessions }) => {
        finite('sweep', 'now', now);
        finite('sweep', 'limit', limit);
        const expired = { 'meta.expiresAt': { $lte: now } };
        const swept: SessionMeta[] = [];
        // A racing sweeper may delete some of our candidates first: look again until this call
        // has `limit` sessions or none is left, so that a short batch means "nothing more".
        while (swept.length < limit) {
          const want = limit - swept.length;
          const candidates = await sessions
            .find(expired, { projection: { _id: 1 } })
            .limit(want)
            .toArray();
          // Each delete re-checks expiry (a touch may have revived the session since the find)
          // and returns the document only to the sweeper that removed it.
          const deleted = await Promise.all(
            candidates.map((doc) => sessions.findOneAndDelete({ _id: doc._id, ...expired }, metaOnly)),
          );
          for (const doc of deleted) if (doc) swept.push(toMeta(doc));
          if (candidates.length < want) break;
        }
        return swept;
      }),

    acquireLease: (name, holder, ttlMs, now) =>
      run(async ({ leases }) => {
        checkString('mongodbStore.acquireLease', 'name', name);
        checkString('mongodbStore.acquireLease', 'holder', holder);
        finite('acquireLease', 'ttlMs', ttlMs);
        finite('acquireLease', 'now', now);
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
      }),

    async close() {
      closed = true;
      const made = client && !options.client ? client : undefined;
      client = undefined;
      ready = undefined;
      await (await made?.catch(() => undefined))?.close();
    },
  };
  return store;
}

interface Settings {
  database: string;
  group: string;
  writeConcern: WriteConcernSettings;
  ttlGraceSeconds: number | null;
}

function resolveSettings(options: MongodbStoreOptions): Settings {
  checkOptions('mongodbStore', options, MONGODB_OPTIONS);
  const invalid = (detail: string) =>
    new UnisessionError('UNISESSION_INVALID_OPTION', `mongodbStore: ${detail}`);
  if (options.client && options.url) throw invalid('pass either url or client, not both');
  const group = checkGroup('mongodbStore', options.group ?? 'unisession');
  const database = options.database ?? 'unisession';
  const writeConcern = options.writeConcern ?? { w: 'majority', wtimeoutMS: 2000 };
  if (writeConcern.w === 0) throw invalid('writeConcern w: 0 is not supported (writes must be acknowledged)');
  const grace = options.ttlGraceSeconds ?? 3600;
  return { database, group, writeConcern, ttlGraceSeconds: options.ttlIndex === false ? null : grace };
}
