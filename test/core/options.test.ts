/**
 * Issue 8 (1d, 16, 17): every factory checks every option when it is called, naming the
 * option, the value and what was expected; unknown names are refused with the one meant.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsonCodec } from '../../src/codec/json.js';
import { msgpackCodec } from '../../src/codec/msgpack.js';
import { SessionManager } from '../../src/core/manager.js';
import type { SessionOptions } from '../../src/core/options.js';
import { createSessionManager } from '../../src/index.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { memoryStore } from '../../src/stores/memory.js';
import { mongodbStore } from '../../src/stores/mongodb.js';
import { postgresStore } from '../../src/stores/postgres.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'unisession-options-')), 'sessions.sqlite');

/** Creates a manager from these options (closing it if they were accepted). */
function create(options: Record<string, unknown>): void {
  const manager = createSessionManager({
    app: 'shop',
    store: memoryStore(),
    sweeper: false,
    ...options,
  } as never);
  void manager.close();
}

const refused = (message: RegExp) => ({ code: 'UNISESSION_INVALID_OPTION', message });

describe('session manager options', () => {
  it('refuses values of the wrong kind, naming the option, the value and what was expected', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ignore: '/static' }, /option "ignore" must be a RegExp or a function, got "\/static"/],
      [{ store: 'redis://127.0.0.1:6379' }, /option "store" must be a Store object .*got "redis:\/\/127/],
      [{ store: {} }, /option "store" must be a Store object .*missing load/],
      [
        { store: { ...memoryStore(), listing: { list: async () => ({ sessions: [] }) } } },
        /option "store" must be a Store object .*whose listing group is complete \(missing count\)/,
      ],
      [{ maxInactive: '30m' }, /option "maxInactive" must be a finite number >= 0, got "30m"/],
      [{ maxInactive: -1 }, /maxInactive/],
      [{ absoluteTimeout: null }, /option "absoluteTimeout"/],
      [{ touchInterval: Number.NaN }, /option "touchInterval"/],
      [{ app: 'has space' }, /option "app" must be an app code/],
      [{ app: undefined }, /option "app"/],
      [{ group: 'a.b' }, /option "group" must be a group name/],
      [{ secret: '' }, /option "secret"/],
      [{ secret: [] }, /option "secret" .*a non-empty array/],
      [{ secret: ['ok', ''] }, /option "secret"/],
      [{ secret: Buffer.alloc(0) }, /option "secret" .*a non-empty Buffer/],
      [{ secret: 42 }, /option "secret"/],
      [{ preload: ['ok', 'x\u0000'] }, /option "preload"/],
      [{ preload: 'some' }, /option "preload"/],
      [{ shared: ['__proto__'] }, /option "shared" .*reserved word "__proto__"/],
      [{ trustProxy: 'yes' }, /option "trustProxy"/],
      [{ header: 'bad header' }, /option "header" must be false or an HTTP header name/],
      [{ codec: Promise.resolve(msgpackCodec()) }, /option "codec" must be a Codec/],
      [{ saveUninitialized: 'no' }, /option "saveUninitialized" must be true or false/],
      [{ maxValueBytes: 0 }, /option "maxValueBytes" must be an integer > 0/],
      [{ onStoreError: 'ignore' }, /option "onStoreError" must be one of 'fail', 'continue'/],
      [{ sweeper: true }, /option "sweeper" must be false or an object/],
      [{ sweeper: { interval: 0 } }, /option "sweeper.interval" must be a finite number > 0/],
      [{ sweeper: { batchSize: 2.5 } }, /option "sweeper.batchSize"/],
    ];
    for (const [options, message] of cases)
      assert.throws(() => create(options), refused(message), message.source);
  });

  it('refuses unknown names, saying which option was meant', () => {
    assert.throws(
      () => create({ maxInactve: 1000 }),
      refused(/unknown option "maxInactve"; did you mean "maxInactive"\?/),
    );
    assert.throws(() => create({ cookie: { samesite: 'lax' } }), refused(/did you mean "cookie.sameSite"/));
    assert.throws(() => create({ sweeper: { intervl: 5 } }), refused(/did you mean "sweeper.interval"/));
    // Adapter-only options (express-session's) are the adapters' to take out; the core refuses them.
    assert.throws(() => create({ resave: false }), refused(/unknown option "resave"/));
  });

  it('checks the cookie options once, at creation, as a Set-Cookie header would need them', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ sameSite: 'auto' }, /option "cookie.sameSite" must be one of 'lax', 'strict', 'none', got "auto"/],
      [{ name: 'has space' }, /option "cookie.name" cannot be used in a Set-Cookie header/],
      [{ name: 'a;b' }, /option "cookie.name"/],
      [{ domain: 'exa mple.com' }, /option "cookie.domain" cannot be used in a Set-Cookie header/],
      [{ domain: 'bad name.com' }, /option "cookie.domain" cannot be used/],
      [{ path: 'relative' }, /option "cookie.path" must be a path starting with "\/"/],
      [{ path: '/a;b' }, /option "cookie.path" cannot be used in a Set-Cookie header/],
      [{ secure: 'always' }, /option "cookie.secure"/],
      [{ httpOnly: 1 }, /option "cookie.httpOnly"/],
      [
        { hostPrefix: true, domain: 'example.com' },
        /"cookie.hostPrefix" cannot be combined with "cookie.domain"/,
      ],
    ];
    for (const [cookie, message] of cases)
      assert.throws(() => create({ cookie }), refused(message), message.source);
    create({ cookie: { name: 'sid', path: '/app', domain: 'example.com', sameSite: 'none', secure: true } });
  });

  it('checks `new SessionManager` too, which also needs a store and a codec', () => {
    assert.throws(
      () => new SessionManager({ app: 'shop', maxInactive: '1' } as never),
      refused(/maxInactive/),
    );
    assert.throws(
      () => new SessionManager({ app: 'shop', codec: jsonCodec() } as never),
      refused(/option "store"/),
    );
  });
});

describe('group (17)', () => {
  it('names the default store group and must match a given store', async () => {
    assert.throws(
      () => create({ group: 'portal', store: memoryStore({ group: 'shop' }) }),
      refused(/option "group" is "portal" but the store's group is "shop"/),
    );
    const same = createSessionManager({
      app: 'a',
      group: 'my-portal',
      store: memoryStore({ group: 'my-portal' }),
    });
    const inherited = createSessionManager({
      app: 'a',
      store: sqliteStore({ file: tempFile(), group: 'my-shop' }),
    });
    const defaulted = createSessionManager({ app: 'a', group: 'my-portal', sweeper: false });
    try {
      assert.equal(same.options.group, 'my-portal');
      assert.equal(inherited.options.group, 'my-shop', "the store's group when the manager names none");
      assert.equal(defaulted.store.name, 'sqlite');
      assert.equal(defaulted.store.group, 'my-portal', 'the default SQLite store is made with the group');
    } finally {
      await Promise.all([same.close(), inherited.close(), defaulted.close()]);
    }
  });

  it('follows one rule on every store: `my-portal` works on SQLite', async () => {
    const store = sqliteStore({ file: tempFile(), group: 'my-portal' });
    const manager = createSessionManager({ app: 'a', group: 'my-portal', store, sweeper: false });
    try {
      const session = manager.open({
        url: '/',
        method: 'GET',
        header: () => undefined,
        remoteAddress: '127.0.0.1',
        encrypted: false,
      });
      await session.set('n', 1);
      await session.commit();
      assert.equal((await store.load(session.id!, 'all', Date.now()))?.attributes.get('a:n'), '1');
    } finally {
      await manager.close();
    }
    for (const make of [
      (group: string) => sqliteStore({ group }),
      (group: string) => memoryStore({ group }),
      (group: string) => redisStore({ group }),
      (group: string) => mongodbStore({ group }),
      (group: string) => postgresStore({ url: 'postgres://127.0.0.1/x', group }),
      (group: string) => memcachedStore({ nodes: '127.0.0.1:11211', group }),
    ]) {
      assert.equal(make('my-portal_2').group, 'my-portal_2');
      for (const bad of ['a.b', 'a b', 'a:b', '{tag}', 'x'.repeat(41), ''])
        assert.throws(() => make(bad), refused(/option "group" must be a group name/), bad);
    }
  });
});

describe('store and codec factories (16)', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'sqlite file',
      () => sqliteStore({ file: 123 as never }),
      /sqliteStore: option "file" must be a non-empty string, got 123/,
    ],
    [
      'sqlite name',
      () => sqliteStore({ fiel: 'x' } as never),
      /sqliteStore: unknown option "fiel"; did you mean "file"/,
    ],
    ['sqlite busy', () => sqliteStore({ busyTimeout: '5s' as never }), /option "busyTimeout"/],
    [
      'sqlite database',
      () => sqliteStore({ database: 'x.db' as never }),
      /option "database" must be an open better-sqlite3/,
    ],
    [
      'memory',
      () => memoryStore({ groups: 'x' } as never),
      /memoryStore: unknown option "groups"; did you mean "group"/,
    ],
    [
      'redis name',
      () => redisStore({ urll: 'redis://x' } as never),
      /redisStore: unknown option "urll"; did you mean "url"/,
    ],
    [
      'redis timeout',
      () => redisStore({ commandTimeout: 0 }),
      /redisStore: option "commandTimeout" must be a finite number > 0/,
    ],
    ['redis grace', () => redisStore({ expiryGraceMs: -1 }), /option "expiryGraceMs"/],
    [
      'redis client',
      () => redisStore({ client: 'redis://x' as never }),
      /option "client" must be an ioredis/,
    ],
    [
      'mongodb name',
      () => mongodbStore({ databse: 'x' } as never),
      /mongodbStore: unknown option "databse"; did you mean "database"/,
    ],
    [
      'mongodb database',
      () => mongodbStore({ database: 'a.b' }),
      /option "database" must be a MongoDB database name/,
    ],
    ['mongodb grace', () => mongodbStore({ ttlGraceSeconds: 1.5 }), /option "ttlGraceSeconds"/],
    ['mongodb ttl', () => mongodbStore({ ttlIndex: 'yes' as never }), /option "ttlIndex"/],
    [
      'postgres name',
      () => postgresStore({ url: 'postgres://x', poolsize: 2 } as never),
      /did you mean "poolSize"/,
    ],
    [
      'postgres pool',
      () => postgresStore({ pool: 'postgres://x' as never }),
      /option "pool" must be a pg Pool/,
    ],
    ['postgres size', () => postgresStore({ url: 'postgres://x', poolSize: 0 }), /option "poolSize"/],
    ['postgres schema', () => postgresStore({ url: 'postgres://x', schema: 'a-b' }), /option "schema"/],
    [
      'memcached name',
      () => memcachedStore({ nodes: '127.0.0.1:1', backupp: true } as never),
      /did you mean "backup"/,
    ],
    ['memcached nodes', () => memcachedStore({ nodes: 11211 as never }), /option "nodes"/],
    [
      'memcached grace',
      () => memcachedStore({ nodes: '127.0.0.1:1', expiryGraceSeconds: -1 }),
      /expiryGraceSeconds/,
    ],
    [
      'json name',
      () => jsonCodec({ plugin: [] } as never),
      /jsonCodec: unknown option "plugin"; did you mean "plugins"/,
    ],
    [
      'json classes',
      () => jsonCodec({ unknownClasses: 'drop' as never }),
      /option "unknownClasses" must be one of 'plain', 'error'/,
    ],
    ['json plugins', () => jsonCodec({ plugins: 'Cart' as never }), /option "plugins" must be an array/],
    ['msgpack', () => msgpackCodec({ compact: true } as never), /msgpackCodec: unknown option "compact"/],
  ];
  for (const [what, make, message] of cases) {
    it(`refuses a bad option at once: ${what}`, () => {
      assert.throws(make, refused(message));
    });
  }

  it('accepts every documented option', async () => {
    const stores = [
      sqliteStore({ file: tempFile(), group: 'g', busyTimeout: 100 }),
      memoryStore({ group: 'g' }),
      redisStore({
        url: 'redis://127.0.0.1:1',
        group: 'g',
        commandTimeout: 10,
        connectTimeout: 10,
        expiryGraceMs: 0,
      }),
      mongodbStore({
        url: 'mongodb://127.0.0.1:1',
        database: 'd',
        group: 'g',
        ttlIndex: false,
        ttlGraceSeconds: 0,
      }),
      postgresStore({
        url: 'postgres://127.0.0.1:1/x',
        group: 'g',
        schema: 's',
        createSchema: false,
        poolSize: 1,
        connectionTimeout: 10,
        statementTimeout: 10,
      }),
      memcachedStore({
        nodes: ['127.0.0.1:1'],
        failoverNodes: '127.0.0.1:2',
        backup: false,
        group: 'g',
        connectTimeout: 10,
        commandTimeout: 10,
        retryDeadNodeAfter: 0,
        expiryGraceSeconds: 0,
      }),
    ];
    await Promise.all(stores.map((store) => store.close()));
    jsonCodec({ plugins: [], unknownClasses: 'error' });
    await msgpackCodec({});
    const all: Required<Omit<SessionOptions, 'store' | 'codec'>> = {
      app: 'shop',
      group: 'unisession',
      maxInactive: 0,
      absoluteTimeout: 1000,
      touchInterval: 0,
      ignore: (path) => path.startsWith('/static'),
      preload: ['user'],
      shared: (name) => name === 'user',
      cookie: {
        name: 'sid',
        path: '/',
        httpOnly: false,
        sameSite: 'strict',
        secure: 'auto',
        hostPrefix: true,
        persistent: true,
      },
      secret: [Buffer.from('k'), 'old'],
      trustProxy: ['127.0.0.1'],
      header: 'X-Session-Id',
      saveUninitialized: true,
      maxValueBytes: 10,
      onStoreError: 'continue',
      sweeper: false,
      cache: { maxBytes: 0 },
      maxSessionsPerPrincipal: { limit: 3, policy: 'refuse' },
      generateId: () => randomUUID(),
    };
    create(all);
  });
});
