/**
 * The MongoDB store on a second server, FerretDB v1 on SQLite (FERRETDB_URL), with the
 * mongodb driver v6 (the project's) and, when the `mongodb7` alias is installed, v7, which
 * refuses mongo-java-server's wire version. Then what FerretDB does with the features the
 * store relies on (TTL index, transactions, write concern), as docs/stores/mongodb.md says.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { mongodbStore } from '../../src/stores/mongodb.js';
import { server } from '../helpers/servers.js';
import { runStoreConformance, sampleMeta, uniqueGroup } from './conformance.js';

const url = await server('ferretdb');
const database = `unisession_test_${randomBytes(4).toString('hex')}`;
const clients: Array<{ close(): Promise<void> }> = [];

after(async () => {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000 });
  await client.db(database).dropDatabase();
  await client.close();
  for (const open of clients) await open.close();
});

/**
 * What FerretDB v1.24.2 (SQLite backend) cannot do, measured: these conformance tests run, as
 * `todo`, so the day FerretDB does them the output says so. docs/stores/mongodb.md explains.
 */
const NO_PROJECTION = 'FerretDB v1 does not implement findAndModify with "fields" (a projection)';
const FERRETDB_GAPS: Record<string, string> = {
  'destroys a session and its attributes, reporting it exactly once': NO_PROJECTION,
  'finds and follows the sessions of a principal': NO_PROJECTION,
  'sweeps expired sessions in batches, each reported by exactly one sweeper': NO_PROJECTION,
  'keeps every change when writers race on different attributes of one session':
    'FerretDB v1 on SQLite loses concurrent $set of different fields of one document',
  'computes statistics in the store that equal what was written':
    'FerretDB v1 does not run the aggregation stages the statistics use',
  'tickets: of concurrent takes of one key exactly one wins':
    'FerretDB v1 on SQLite lets two concurrent findOneAndDelete of one document both return it',
  'answers a conditional load with the metadata only while the version holds':
    "FerretDB v1 does not run the conditional load's aggregation pipeline",
  'gives each of many concurrent writers its own version':
    'FerretDB v1 on SQLite does not apply concurrent $inc of one document atomically',
};

runStoreConformance(
  'mongodb on ferretdb (driver v6)',
  () => mongodbStore({ url, database, group: uniqueGroup() }),
  {
    knownGaps: FERRETDB_GAPS,
  },
);

/** The v7 driver, installed as the npm alias `mongodb7` (devDependencies), or undefined. */
function driver7(): typeof import('mongodb') | undefined {
  try {
    return createRequire(import.meta.url)('mongodb7') as typeof import('mongodb');
  } catch {
    return undefined;
  }
}

const v7 = driver7();
if (v7) {
  runStoreConformance(
    'mongodb on ferretdb (driver v7)',
    () => {
      const client = new v7.MongoClient(url, { serverSelectionTimeoutMS: 2000 });
      clients.push(client);
      return mongodbStore({ client: client as unknown as MongoClient, database, group: uniqueGroup() });
    },
    { knownGaps: FERRETDB_GAPS },
  );
} else {
  it('mongodb driver v7 on ferretdb', {
    skip: 'the mongodb7 alias (npm:mongodb@^7) is not installed',
  }, () => {});
}

describe('what ferretdb supports of what the store uses', () => {
  it('accepts the TTL index request but keeps no TTL, has no transactions, accepts w: majority', async () => {
    const group = uniqueGroup();
    const store = mongodbStore({ url, database, group, ttlIndex: true });
    await store.create(sampleMeta(), new Map([['shop:a', '1']]));
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000 });
    try {
      const indexes = await client.db(database).collection(`${group}_sessions`).indexes();
      // The store asked for expireAt_ttl; FerretDB v1 answered ok and kept no such index, so
      // on FerretDB only the sweeper removes expired sessions.
      assert.ok(indexes.length > 1, 'the other indexes are there');
      assert.equal(
        indexes.find((index) => index.expireAfterSeconds !== undefined),
        undefined,
        `FerretDB keeps a TTL index now: update docs/stores/mongodb.md (${JSON.stringify(indexes)})`,
      );
      // A standalone FerretDB is no replica set: no transactions, as on a standalone mongod.
      const hello = await client.db('admin').command({ hello: 1 });
      assert.equal(hello.setName, undefined);
      const written = await client
        .db(database)
        .collection('probe')
        .insertOne({ a: 1 }, { writeConcern: { w: 'majority', wtimeoutMS: 2000 } });
      assert.equal(written.acknowledged, true);
    } finally {
      await client.close();
      await store.close();
    }
  });
});
