/**
 * The store kit on its own: the lazy open, the error mapping, the argument checks and the
 * driver loader that every store gets from `defineStore`. The stores' behaviour against real
 * servers is the conformance suite's; here a backend of a few lines shows what the kit adds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnisessionError } from '../../src/core/errors.js';
import { isAddressFilter, parseAddressFilter } from '../../src/stores/kit/address.js';
import type { Backend } from '../../src/stores/kit/backend.js';
import { defineStore, type StoreDefinition } from '../../src/stores/kit/define.js';
import { loadDriver } from '../../src/stores/kit/driver.js';
import { lazyHandle } from '../../src/stores/kit/lazy.js';
import { decodeCursor, encodeCursor, ID_ORDER, matches, pageOf } from '../../src/stores/kit/paging.js';
import { capability, sampleMeta } from './conformance.js';

const unavailable = { code: 'UNISESSION_STORE_UNAVAILABLE' };

/** A handle that counts how often it was opened and released. */
function counter(failures = 0) {
  const seen = { opened: 0, released: 0 };
  return {
    seen,
    open: async () => {
      seen.opened++;
      if (seen.opened <= failures) throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      return seen;
    },
    release: () => {
      seen.released++;
    },
  };
}

describe('store kit: lazyHandle', () => {
  it('opens once for concurrent first calls, and not at all before them', async () => {
    const { seen, open } = counter();
    const handle = lazyHandle('test', open);
    assert.equal(seen.opened, 0);
    const [a, b] = await Promise.all([handle.get(), handle.get()]);
    assert.equal(a, b);
    await handle.get();
    assert.equal(seen.opened, 1);
  });

  it('forgets a failed open, so the next call tries again', async () => {
    const { seen, open } = counter(2);
    const handle = lazyHandle('test', open);
    await assert.rejects(handle.get(), /ECONNREFUSED/);
    await assert.rejects(handle.get(), /ECONNREFUSED/);
    assert.equal(await handle.get(), seen);
    assert.equal(seen.opened, 3);
  });

  it('refuses every call after close with UNISESSION_STORE_UNAVAILABLE (closed), and releases once', async () => {
    const { seen, open, release } = counter();
    const handle = lazyHandle('test', open, release);
    await handle.get();
    await handle.close();
    await handle.close();
    assert.equal(seen.released, 1);
    await assert.rejects(handle.get(), {
      ...unavailable,
      message: 'The session store is unavailable: test (closed)',
    });
    assert.equal(seen.opened, 1, 'close never reopens');
  });

  it('releases an open that was under way when close was called, and never one that failed or never ran', async () => {
    const { seen, open, release } = counter();
    const pending = lazyHandle('test', open, release);
    const first = pending.get();
    await pending.close();
    assert.equal(await first, seen);
    assert.equal(seen.released, 1);

    const failing = counter(1);
    const broken = lazyHandle('test', failing.open, failing.release);
    await assert.rejects(broken.get());
    await broken.close();
    const idle = counter();
    await lazyHandle('test', idle.open, idle.release).close();
    assert.equal(failing.seen.released + idle.seen.released + idle.seen.opened, 0);
  });

  it('turns an open that throws at once into a rejection', async () => {
    const handle = lazyHandle<never>('test', () => {
      throw new Error('sync');
    });
    await assert.rejects(handle.get(), /sync/);
  });
});

/** A store whose backend fails the way we tell it to. */
function storeFailingWith(error: unknown, extra: Partial<StoreDefinition<number>> = {}) {
  const opened = { count: 0 };
  const fail = async (): Promise<never> => {
    throw error;
  };
  const backend: Backend<number> = {
    load: fail,
    loadAttributes: fail,
    create: fail,
    update: fail,
    destroy: fail,
    rename: fail,
    sweeping: { sweep: fail },
  };
  const store = defineStore({
    name: 'fake',
    group: 'g',
    open: async () => ++opened.count,
    backend,
    ...extra,
  });
  return { store, opened };
}

describe('store kit: defineStore', () => {
  it('maps a driver error to UNISESSION_STORE_UNAVAILABLE naming only the store, the driver error on cause', async () => {
    const driverError = new Error('password authentication failed for user "app" at 10.0.0.5');
    const { store } = storeFailingWith(driverError);
    await assert.rejects(store.load('id', 'all', 0), (error: UnisessionError) => {
      assert.equal(error.code, 'UNISESSION_STORE_UNAVAILABLE');
      assert.equal(error.status, 503);
      assert.equal(error.message, 'The session store is unavailable: fake');
      assert.equal(error.cause, driverError);
      return true;
    });
  });

  it('adds the definition’s safe hint, and maps a failed open the same way', async () => {
    const { store } = storeFailingWith(new Error('x'), {
      open: async () => {
        throw Object.assign(new Error('relation does not exist'), { code: '42P01' });
      },
      hint: (error) => ((error as { code?: string }).code === '42P01' ? 'run the migration' : undefined),
    });
    await assert.rejects(store.destroy('id'), {
      ...unavailable,
      message: 'The session store is unavailable: fake (run the migration)',
    });
  });

  it('passes a UnisessionError the backend raises on purpose unchanged', async () => {
    const exists = new UnisessionError('UNISESSION_SESSION_EXISTS', 'id');
    const { store } = storeFailingWith(exists);
    await assert.rejects(store.create(sampleMeta(), new Map()), (error) => error === exists);
  });

  it('checks arguments before the backend is opened', async () => {
    const { store, opened } = storeFailingWith(new Error('never reached'));
    const refused = { code: 'UNISESSION_INVALID_ARGUMENT' };
    const operator = { $ne: null } as unknown as string;
    await assert.rejects(store.load(operator, 'all', 0), {
      ...refused,
      message: /fakeStore\.load: id must be a string/,
    });
    await assert.rejects(store.rename('a', operator), refused);
    await assert.rejects(store.create({ ...sampleMeta(), id: operator }, new Map()), refused);
    await assert.rejects(capability(store, 'sweeping').sweep(Number.NaN, 5), refused);
    await assert.rejects(capability(store, 'sweeping').sweep(0, 0), {
      ...refused,
      message: /sweeping\.sweep: limit/,
    });
    assert.equal(opened.count, 0);
  });

  it('has exactly the capability groups its backend has', () => {
    const { store } = storeFailingWith(new Error());
    assert.deepEqual(
      ['listing', 'principals', 'sweeping', 'leases'].filter((group) => group in store),
      ['sweeping'],
    );
    assert.equal(store.name, 'fake');
    assert.equal(store.group, 'g');
  });
});

describe('store kit: loadDriver', () => {
  it('loads a CommonJS driver once, its exports unwrapped from `default`', async () => {
    const first = loadDriver<typeof import('pg')>('pg', 'postgres');
    assert.equal(loadDriver('pg', 'postgres'), first);
    assert.equal(typeof (await first).Pool, 'function');
    const ioredis = await loadDriver<typeof import('ioredis')>('ioredis', 'redis');
    assert.equal(typeof ioredis.Redis, 'function');
    assert.equal(typeof ioredis.Cluster, 'function');
  });

  it('names the package to install when it is missing, and forgets the failure', async () => {
    const missing = loadDriver('unisession-no-such-driver', 'fake');
    await assert.rejects(missing, {
      code: 'UNISESSION_DRIVER_MISSING',
      message:
        /the fake store needs the "unisession-no-such-driver" package: npm install unisession-no-such-driver/,
    });
    const again = loadDriver('unisession-no-such-driver', 'fake');
    assert.notEqual(again, missing, 'a package installed meanwhile is found by the next call');
    await assert.rejects(again, { code: 'UNISESSION_DRIVER_MISSING' });
  });
});

describe('store kit: paging', () => {
  it('matches a filter by app, principal and liveness', () => {
    const meta = sampleMeta({ app: 'shop', principal: 'ann', expiresAt: 1000 });
    assert.ok(matches(meta, {}));
    assert.ok(matches(meta, { app: 'shop', principal: 'ann', aliveAt: 999 }));
    assert.ok(!matches(meta, { app: 'blog' }));
    assert.ok(!matches(meta, { principal: 'bob' }));
    assert.ok(!matches(meta, { aliveAt: 1000 }));
    assert.ok(matches({ ...meta, expiresAt: null }, { aliveAt: Number.MAX_SAFE_INTEGER }));
  });

  it('cuts a page from one more than a page, with an opaque cursor to the next', () => {
    const metas = ['a', 'b', 'c'].map((id) => sampleMeta({ id }));
    const page = pageOf(metas, 2);
    assert.deepEqual(page.sessions, metas.slice(0, 2));
    assert.deepEqual(decodeCursor('t', page.next!, ID_ORDER), { value: null, id: 'b' });
    assert.deepEqual(pageOf(metas, 3), { sessions: metas });
    assert.deepEqual(pageOf([], 3), { sessions: [] });
  });

  it('encodes a cursor for its sort and order only, and refuses forged ones', () => {
    const meta = sampleMeta({ id: 'x.y:z', lastAccessedAt: 1700000000123 });
    const byAccess = { sort: 'lastAccessedAt', order: 'desc' } as const;
    const cursor = encodeCursor(meta, byAccess);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor('t', cursor, byAccess), { value: 1700000000123, id: 'x.y:z' });
    for (const other of [
      ID_ORDER,
      { sort: 'lastAccessedAt', order: 'asc' } as const,
      { sort: 'createdAt', order: 'desc' } as const,
    ]) {
      assert.throws(() => decodeCursor('t', cursor, other), { code: 'UNISESSION_INVALID_ARGUMENT' });
    }
    for (const forged of [
      '',
      '!!',
      Buffer.from('c1.ld.abc.x').toString('base64url'),
      Buffer.from('c1.id.5.x').toString('base64url'),
    ]) {
      assert.throws(
        () => decodeCursor('t', forged, byAccess.sort === 'lastAccessedAt' ? byAccess : ID_ORDER),
        {
          code: 'UNISESSION_INVALID_ARGUMENT',
        },
      );
    }
    assert.throws(
      () => decodeCursor('t', Buffer.from('c1.ia.5.x').toString('base64url'), ID_ORDER),
      {
        code: 'UNISESSION_INVALID_ARGUMENT',
      },
      'an id cursor carries no time',
    );
  });
});

describe('store kit: client addresses', () => {
  it('matches exact addresses and CIDR blocks, IPv4, IPv6 and IPv4-mapped IPv6', () => {
    const cases: Array<[string, string, boolean]> = [
      ['10.1.2.3', '10.1.2.3', true],
      ['10.1.2.3', '10.1.2.30', false],
      ['10.0.0.0/8', '10.200.1.1', true],
      ['10.0.0.0/8', '11.0.0.1', false],
      ['10.1.0.0/17', '10.1.127.255', true],
      ['10.1.0.0/17', '10.1.128.0', false],
      ['10.0.0.0/8', '::ffff:10.9.9.9', true],
      ['::ffff:10.0.0.0/104', '10.3.3.3', true],
      ['0.0.0.0/0', '8.8.8.8', true],
      ['0.0.0.0/0', '2001:db8::1', false],
      ['2001:db8::/32', '2001:db8:ffff::1', true],
      ['2001:db8::/32', '2001:db9::1', false],
      ['2001:db8::1', '2001:0db8:0000::0001', true],
      ['::1', '::1', true],
      ['fe80::/10', 'fe80::1%eth0', true],
      ['10.0.0.0/8', 'not an address', false],
      ['10.0.0.0/8', '', false],
    ];
    for (const [filter, address, expected] of cases) {
      assert.equal(parseAddressFilter(filter)?.matches(address), expected, `${filter} ~ ${address}`);
    }
  });

  it('refuses what is neither an address nor a block, and gives a text prefix only where one is exact', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      'ten',
      '2001:db8::/129',
      '10.0.0.0/-1',
      '10.0.0.0/08x',
      '',
    ]) {
      assert.equal(isAddressFilter(bad), false, bad);
    }
    assert.equal(parseAddressFilter('10.1.0.0/16')?.prefix, '10.1.');
    assert.equal(parseAddressFilter('10.1.0.0/17')?.prefix, '', 'not on an octet: no text prefix');
    assert.equal(parseAddressFilter('2001:db8::/32')?.prefix, '');
    assert.equal(parseAddressFilter('10.1.2.3')?.prefix, '10.1.2.3');
  });
});
