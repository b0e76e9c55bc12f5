import type { MongoClient, MongoClientOptions, ReadPreferenceLike, WriteConcernSettings } from 'mongodb';
import { UnisessionError } from '../../core/errors.js';
import { checkOptions, is, type OptionSpec } from '../../core/validate.js';
import { isGroupName, storeGroup } from '../kit/group.js';

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

/** The options, checked and with their defaults. */
export interface MongodbSettings {
  url: string;
  /** The app's client; undefined when the store makes (and owns) its own. */
  client: MongoClient | undefined;
  clientOptions: MongoClientOptions;
  database: string;
  group: string;
  writeConcern: WriteConcernSettings;
  readPreference: ReadPreferenceLike;
  /** Seconds the TTL index waits past expiresAt before the server deletes; null = no TTL index. */
  ttlGraceSeconds: number | null;
}

export function resolveMongodbOptions(options: MongodbStoreOptions): MongodbSettings {
  checkOptions('mongodbStore', options, MONGODB_OPTIONS);
  const invalid = (detail: string) =>
    new UnisessionError('UNISESSION_INVALID_OPTION', `mongodbStore: ${detail}`);
  if (options.client && options.url) throw invalid('pass either url or client, not both');
  const writeConcern = options.writeConcern ?? { w: 'majority', wtimeoutMS: 2000 };
  if (writeConcern.w === 0) throw invalid('writeConcern w: 0 is not supported (writes must be acknowledged)');
  const grace = options.ttlGraceSeconds ?? 3600;
  return {
    url: options.url ?? 'mongodb://127.0.0.1:27017',
    client: options.client,
    clientOptions: { serverSelectionTimeoutMS: 2000, ...options.clientOptions },
    database: options.database ?? 'unisession',
    group: storeGroup('mongodbStore', options.group),
    writeConcern,
    readPreference: options.readPreference ?? 'primary',
    ttlGraceSeconds: options.ttlIndex === false ? null : grace,
  };
}
