import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { openStoreFromUrl, parseStoreUrl, redactStoreUrl } from '../../src/cli/store-url.js';
import { isUnisessionError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'unisession-store-url-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const refused = (pattern: RegExp) => (error: unknown) => {
  assert.ok(isUnisessionError(error, 'UNISESSION_INVALID_OPTION'), String(error));
  assert.match(error.message, pattern);
  return true;
};

describe('parseStoreUrl', () => {
  it('reads every supported scheme', () => {
    assert.deepEqual(parseStoreUrl('sqlite:///var/lib/s.sqlite'), {
      kind: 'sqlite',
      file: '/var/lib/s.sqlite',
    });
    assert.deepEqual(parseStoreUrl('sqlite:/abs.sqlite'), { kind: 'sqlite', file: '/abs.sqlite' });
    assert.deepEqual(parseStoreUrl('sqlite::memory:'), { kind: 'sqlite', file: ':memory:' });
    assert.equal(parseStoreUrl('sqlite:rel.sqlite').kind, 'sqlite');
    assert.deepEqual(parseStoreUrl('memory:'), { kind: 'memory' });
    assert.deepEqual(parseStoreUrl('redis://127.0.0.1:6379/3'), {
      kind: 'redis',
      url: 'redis://127.0.0.1:6379/3',
    });
    assert.equal(parseStoreUrl('rediss://u:p@h:6380').kind, 'redis');
    assert.equal(parseStoreUrl('postgres://u@h:5432/db').kind, 'postgres');
    assert.equal(parseStoreUrl('postgresql://u@h/db').kind, 'postgres');
    assert.deepEqual(parseStoreUrl('mongodb://h1:1,h2:2/app?replicaSet=rs'), {
      kind: 'mongodb',
      url: 'mongodb://h1:1,h2:2/app?replicaSet=rs',
      database: 'app',
    });
    assert.equal((parseStoreUrl('mongodb://h') as { database: string }).database, 'unisession');
    assert.deepEqual(parseStoreUrl('memcached://a:11211,[::1]:11212'), {
      kind: 'memcached',
      nodes: ['a:11211', '[::1]:11212'],
    });
  });

  it('refuses bad values with UNISESSION_INVALID_OPTION naming --store', () => {
    assert.throws(() => parseStoreUrl(''), refused(/--store is required/));
    assert.throws(() => parseStoreUrl('sqlite:'), refused(/--store "sqlite:": sqlite needs a file/));
    assert.throws(() => parseStoreUrl('sqlite://rel'), refused(/sqlite needs a file/));
    assert.throws(() => parseStoreUrl('redis://h/zero'), refused(/database must be a number/));
    assert.throws(() => parseStoreUrl('mongodb://h/a.b'), refused(/not a MongoDB database name/));
    assert.throws(() => parseStoreUrl('memcached://a'), refused(/host:port pairs/));
    assert.throws(() => parseStoreUrl('memcached://a:99999'), refused(/host:port pairs/));
    assert.throws(() => parseStoreUrl('mysql://h/db'), refused(/is not a store URL/));
  });

  it('never prints a password from the URL', () => {
    for (const url of ['mysql://admin:hunter2@h/db', 'redis://:hunter2@h/x', 'nonsense admin:hunter2@h']) {
      assert.throws(
        () => parseStoreUrl(url),
        (error: Error) => !error.message.includes('hunter2'),
      );
    }
    assert.equal(redactStoreUrl('redis://:hunter2@h:1/0'), 'redis://:***@h:1/0');
    assert.equal(
      redactStoreUrl('postgres://u:hunter2@h/db?sslpassword=x'),
      'postgres://u:***@h/db?sslpassword=***',
    );
    assert.equal(redactStoreUrl('mongodb://u:hunter2@h1,h2/db'), 'mongodb://u:***@h1,h2/db');
    assert.equal(redactStoreUrl('mongodb://u:hunter2@h1:1,h2:2/db'), 'mongodb://***@h1:1,h2:2/db');
    assert.equal(redactStoreUrl('redis://h:1'), 'redis://h:1');
  });
});

describe('openStoreFromUrl', () => {
  it('opens a SQLite store of the group, which works', async () => {
    const store = await openStoreFromUrl(`sqlite:${join(dir, 'a.sqlite')}`, 'cli_url');
    try {
      assert.equal(store.name, 'sqlite');
      assert.equal(store.group, 'cli_url');
      assert.equal(await store.load('nope', 'all', Date.now()), null);
    } finally {
      await store.close();
    }
  });

  it('opens a memory store', async () => {
    const store = await openStoreFromUrl('memory:', 'g1');
    assert.equal(store.name, 'memory');
    await store.close();
  });

  it('refuses a bad group, naming --group', async () => {
    await assert.rejects(openStoreFromUrl('memory:', 'no spaces'), refused(/--group must be/));
  });

  it('with mustExist refuses a SQLite file that does not exist, and creates nothing', async () => {
    const file = join(dir, 'missing.sqlite');
    await assert.rejects(
      openStoreFromUrl(`sqlite:${file}`, 'g', { mustExist: true }),
      refused(/no such file/),
    );
    assert.equal(parseStoreUrl(`sqlite:${file}`).kind, 'sqlite');
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(file), false);
  });
});

describe('parseStoreUrl on arbitrary input', () => {
  it('throws only UNISESSION_INVALID_OPTION, and never prints the password', () => {
    const scheme = fc.constantFrom(
      'redis',
      'rediss',
      'postgres',
      'postgresql',
      'mongodb',
      'memcached',
      'mysql',
      'sqlite',
      'http',
    );
    const junk = fc.string({ maxLength: 10 });
    fc.assert(
      fc.property(
        scheme,
        junk,
        fc.integer({ min: 0x10000000, max: 0x7fffffff }).map((n) => n.toString(16)),
        junk,
        (name, host, secret, path) => {
          const password = `pw${secret}`;
          const url = `${name}://admin:${password}@${host}/${path}`;
          assert.equal(redactStoreUrl(url).includes(password), false, redactStoreUrl(url));
          try {
            parseStoreUrl(url);
          } catch (error) {
            assert.ok(isUnisessionError(error, 'UNISESSION_INVALID_OPTION'), String(error));
            assert.equal(error.message.includes(password), false, error.message);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
