import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CommandStartedEvent, MongoClient } from 'mongodb';
import { generateSessionId } from '../../src/core/id.js';
import type { Store } from '../../src/core/store.js';
import { mongodbStore } from '../../src/stores/mongodb.js';
import { server } from '../helpers/servers.js';
import { runWithoutPackage, sourcePath } from '../helpers/without-package.js';
import { capability, runStoreConformance, sampleMeta, uniqueGroup } from './conformance.js';

const url = await server('mongo');
// A database of this run's own, dropped at the end, so a real MongoDB behind MONGO_URL is left clean.
const database = `unisession_test_${randomBytes(4).toString('hex')}`;

after(async () => {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 2000 });
  await client.db(database).dropDatabase();
  await client.close();
});

runStoreConformance('mongodb', () => mongodbStore({ url, database, group: uniqueGroup() }));

describe('mongodb store specifics', () => {
  const group = uniqueGroup();
  const commands: CommandStartedEvent[] = [];
  let client: MongoClient;
  let store: Store;

  before(async () => {
    client = new MongoClient(url, { monitorCommands: true, serverSelectionTimeoutMS: 2000 });
    client.on('commandStarted', (event) => commands.push(event));
    store = mongodbStore({ client, database, group });
  });
  after(async () => {
    await store.close();
    await client.close();
  });

  const raw = (id: string) =>
    client
      .db(database)
      .collection(`${group}_sessions`)
      .findOne({ _id: id as never });
  const commandsNamed = (name: string) => commands.filter((event) => event.commandName === name);

  it('writes an attribute change as $set/$unset on single fields, never a rewrite', async () => {
    const meta = sampleMeta();
    await store.create(
      meta,
      new Map([
        [':user', '"ann"'],
        ['shop:cart', '[1]'],
        ['shop:old', '0'],
      ]),
    );
    commands.length = 0;
    const later = meta.lastAccessedAt + 1000;
    const applied = await store.update(meta.id, {
      set: new Map([['shop:cart', '[1,2]']]),
      remove: ['shop:old'],
      meta: { lastAccessedAt: later },
    });
    assert.equal(applied, 2, 'the version after the write');
    // One findAndModify: the delta, the version's $inc, and the new version back.
    const updates = commandsNamed('findAndModify');
    assert.equal(updates.length, 1, 'one round trip');
    const statement = updates[0]!.command as { query: unknown; update: unknown; upsert?: boolean };
    assert.deepEqual(statement.query, { _id: meta.id });
    assert.deepEqual(statement.update, {
      $set: { 'meta.lastAccessedAt': later, 'attrs.shop:cart': '[1,2]' },
      $unset: { 'attrs.shop:old': '' },
      $inc: { v: 1 },
    });
    assert.notEqual(statement.upsert, true, 'an update never upserts');
    const doc = await raw(meta.id);
    assert.deepEqual(doc?.attrs, { ':user': '"ann"', 'shop:cart': '[1,2]' });
    assert.equal(doc?.meta.lastAccessedAt, later);
  });

  it('escapes . $ % and NUL in keys reversibly, in the document and in queries', async () => {
    const meta = sampleMeta();
    const keys = ['shop:a.b', 'shop:$set', ':100%2E', ':x\0y', ':%', 'a.b$c:d.e'];
    await store.create(meta, new Map(keys.map((key, i) => [key, String(i)])));
    const doc = await raw(meta.id);
    assert.deepEqual(Object.keys(doc?.attrs ?? {}).sort(), [
      ':%25',
      ':100%252E',
      ':x%00y',
      'a%2Eb%24c:d%2Ee',
      'shop:%24set',
      'shop:a%2Eb',
    ]);
    const loaded = await store.load(meta.id, ['shop:a.b', ':100%2E', ':x\0y', ':100.'], Date.now());
    assert.deepEqual(
      loaded?.attributes,
      new Map([
        ['shop:a.b', '0'],
        [':100%2E', '2'],
        [':x\0y', '3'],
      ]),
    );
    assert.deepEqual(
      (await store.load(meta.id, 'all', Date.now()))?.attributes,
      new Map(keys.map((k, i) => [k, String(i)])),
    );
    await store.update(meta.id, { remove: ['shop:$set', ':%'] });
    assert.deepEqual(Object.keys((await raw(meta.id))?.attrs ?? {}).sort(), [
      ':100%252E',
      ':x%00y',
      'a%2Eb%24c:d%2Ee',
      'shop:a%2Eb',
    ]);
  });

  it('loads with one findOne projected to the metadata and the asked-for attributes', async () => {
    const meta = sampleMeta();
    await store.create(
      meta,
      new Map([
        [':a', '1'],
        [':b', '2'],
        ['shop:c', '3'],
      ]),
    );
    commands.length = 0;
    const loaded = await store.load(meta.id, [':a', 'shop:c'], Date.now());
    assert.equal(loaded?.attributes.size, 2);
    const finds = commandsNamed('find');
    assert.equal(finds.length, 1);
    assert.deepEqual(finds[0]!.command.projection, { meta: 1, 'attrs.:a': 1, 'attrs.shop:c': 1, v: 1 });
    assert.deepEqual(finds[0]!.command.filter, { _id: meta.id });
    // The conditional load, current or not: one aggregate command.
    for (const known of [loaded!.version!, loaded!.version! - 1]) {
      commands.length = 0;
      const again = await store.load(meta.id, 'all', Date.now(), known);
      assert.deepEqual(
        commands.map((event) => event.commandName),
        ['aggregate'],
      );
      assert.equal(again?.unchanged, known === loaded!.version || undefined);
      assert.equal(again?.attributes.size, known === loaded!.version ? 0 : 3);
    }
  });

  it('creates the indexes, with a TTL index that leaves the sweeper a grace period', async () => {
    await capability(store, 'listing').count({});
    const indexes = await client.db(database).collection(`${group}_sessions`).indexes();
    const byName = new Map(indexes.map((index) => [index.name, index]));
    assert.deepEqual(byName.get('expiresAt')?.key, { 'meta.expiresAt': 1 });
    assert.deepEqual(byName.get('principal')?.key, { 'meta.principal': 1 });
    assert.deepEqual(byName.get('app_id')?.key, { 'meta.app': 1, _id: 1 });
    assert.deepEqual(byName.get('lastAccessedAt')?.key, { 'meta.lastAccessedAt': 1 });
    assert.deepEqual(byName.get('expireAt_ttl')?.key, { expireAt: 1 });
    assert.equal(byName.get('expireAt_ttl')?.expireAfterSeconds, 3600);
  });

  it('keeps the TTL date in step with expiresAt', async () => {
    const meta = sampleMeta();
    await store.create(meta, new Map());
    assert.equal((await raw(meta.id))?.expireAt.getTime(), meta.expiresAt);
    await store.update(meta.id, { meta: { expiresAt: meta.expiresAt! + 5000 } });
    assert.equal((await raw(meta.id))?.expireAt.getTime(), meta.expiresAt! + 5000);
    await store.update(meta.id, { meta: { expiresAt: null } });
    assert.equal((await raw(meta.id))?.expireAt, null);
  });

  it('passes the write concern to every write, majority by default', async () => {
    const meta = sampleMeta();
    commands.length = 0;
    await store.create(meta, new Map());
    await store.update(meta.id, { set: new Map([[':a', '1']]) });
    await store.destroy(meta.id);
    const writes = commands.filter((e) => ['insert', 'update', 'findAndModify'].includes(e.commandName));
    assert.equal(writes.length, 3);
    for (const write of writes)
      assert.deepEqual(write.command.writeConcern, { w: 'majority', wtimeout: 2000 });

    const custom = mongodbStore({ client, database, group, writeConcern: { w: 1, journal: true } });
    commands.length = 0;
    await custom.create(sampleMeta(), new Map());
    assert.deepEqual(commandsNamed('insert')[0]?.command.writeConcern, { w: 1, j: true });
    await custom.close();
    assert.ok(
      (await capability(store, 'listing').count({})) >= 0,
      'closing a store leaves a client passed in open',
    );
  });

  it('does not create a TTL index when ttlIndex is false', async () => {
    const plain = uniqueGroup();
    const noTtl = mongodbStore({ client, database, group: plain, ttlIndex: false });
    await capability(noTtl, 'listing').count({});
    const names = (await client.db(database).collection(`${plain}_sessions`).indexes()).map((i) => i.name);
    assert.ok(names.includes('expiresAt'));
    assert.ok(!names.includes('expireAt_ttl'));
    await noTtl.close();
  });

  it('renames so that the old id loads nothing, and refuses a taken new id without losing the session', async () => {
    const meta = sampleMeta();
    const taken = sampleMeta();
    await store.create(meta, new Map([[':a', '1']]));
    await store.create(taken, new Map());
    await assert.rejects(store.rename(meta.id, taken.id), { code: 'UNISESSION_SESSION_EXISTS' });
    assert.deepEqual((await store.load(meta.id, 'all', Date.now()))?.attributes, new Map([[':a', '1']]));
    const newId = generateSessionId();
    assert.equal(await store.rename(meta.id, newId), 2, 'the version moves on by one');
    assert.equal(await raw(meta.id), null);
  });

  it('racing sweepers on separate clients sweep every expired session, each exactly once', async () => {
    const sweepers = Array.from({ length: 4 }, () => mongodbStore({ url, database, group }));
    const expired = Array.from({ length: 40 }, () => sampleMeta({ expiresAt: Date.now() - 10 }));
    await Promise.all(expired.map((meta) => store.create(meta, new Map([[':a', '1']]))));
    const now = Date.now();
    const reported: string[] = [];
    // The manager's loop: a batch shorter than the limit means "nothing left", so it stops.
    const loop = async (sweeper: Store) => {
      for (;;) {
        const batch = await capability(sweeper, 'sweeping').sweep(now, 5);
        reported.push(...batch.map((meta) => meta.id));
        if (batch.length < 5) return;
      }
    };
    await Promise.all(sweepers.map(loop));
    await Promise.all(sweepers.map((sweeper) => sweeper.close()));
    const ours = reported.filter((id) => expired.some((meta) => meta.id === id));
    assert.equal(ours.length, 40, 'every expired session was swept');
    assert.equal(new Set(ours).size, 40, 'and reported once');
    for (const meta of expired) assert.equal(await raw(meta.id), null);
  });

  it('names the package to install when the mongodb driver is missing', async () => {
    const output = await runWithoutPackage(
      'mongodb',
      `import { mongodbStore } from ${JSON.stringify(sourcePath('stores/mongodb.ts'))};
      const store = mongodbStore();
      for (let i = 0; i < 2; i++) await store.load('x', 'all', 0).catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`,
    );
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { code: string; message: string });
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.equal(line.code, 'UNISESSION_DRIVER_MISSING');
      assert.match(line.message, /npm install mongodb/);
    }
  });

  it('rejects bad options with a clear error', () => {
    const bad = (options: Parameters<typeof mongodbStore>[0], message: RegExp) =>
      assert.throws(() => mongodbStore(options), { code: 'UNISESSION_INVALID_OPTION', message });
    bad({ group: 'no spaces' }, /option "group" must be a group name/);
    bad({ group: '' }, /option "group" must be a group name/);
    bad({ database: 'a.b' }, /option "database" must be a MongoDB database name, got "a.b"/);
    bad({ database: '' }, /option "database" must be a MongoDB database name/);
    bad({ url, client }, /either url or client/);
    bad({ writeConcern: { w: 0 } }, /w: 0 is not supported/);
    bad({ ttlGraceSeconds: -1 }, /ttlGraceSeconds/);
    bad({ ttlGraceSeconds: 1.5 }, /ttlGraceSeconds/);
  });

  it('never passes a non-string into a query: an operator object matches nothing', async () => {
    const meta = sampleMeta({ principal: `victim-${randomBytes(3).toString('hex')}` });
    await store.create(meta, new Map([[':a', '1']]));
    const operator = { $ne: null } as unknown as string;
    const refused = { code: 'UNISESSION_INVALID_ARGUMENT' };
    await assert.rejects(capability(store, 'principals').find(operator), refused);
    await assert.rejects(store.load(operator, 'all', Date.now()), refused);
    await assert.rejects(store.loadAttributes(operator, [':a']), refused);
    await assert.rejects(store.update(operator, { set: new Map([[':a', '2']]) }), refused);
    await assert.rejects(store.destroy(operator), refused);
    await assert.rejects(store.rename(operator, generateSessionId()), refused);
    await assert.rejects(capability(store, 'listing').list({ principal: operator }), refused);
    await assert.rejects(capability(store, 'listing').count({ app: operator }), refused);
    await assert.rejects(
      capability(store, 'listing').list({ cursor: { $gt: '' } as unknown as string }),
      refused,
    );
    assert.deepEqual((await store.load(meta.id, 'all', Date.now()))?.attributes, new Map([[':a', '1']]));
    assert.deepEqual(await capability(store, 'principals').find(meta.principal!), [meta.id]);
  });

  it('fails fast with UNISESSION_STORE_UNAVAILABLE when no server answers', async () => {
    const down = mongodbStore({
      url: 'mongodb://127.0.0.1:1',
      clientOptions: { serverSelectionTimeoutMS: 300 },
    });
    const started = Date.now();
    await assert.rejects(down.load(generateSessionId(), 'all', Date.now()), {
      code: 'UNISESSION_STORE_UNAVAILABLE',
      status: 503,
      message: /mongodb/,
    });
    assert.ok(Date.now() - started < 2000);
    await down.close();
    await assert.rejects(down.load(generateSessionId(), 'all', Date.now()), {
      code: 'UNISESSION_STORE_UNAVAILABLE',
    });
  });
});
