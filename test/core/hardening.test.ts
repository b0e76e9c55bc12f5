/**
 * Issue 8, the core's part: what a hostile client, a stored value or a concurrent request
 * can do to a session, checked on the request-scoped Session and the manager directly (a
 * RequestInfo stands for the request). Where Node's own header handling matters, see test/adapters/node.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { jsonCodec } from '../../src/codec/json.js';
import { msgpackCodec } from '../../src/codec/msgpack.js';
import { MAX_VALUE_DEPTH } from '../../src/codec/types.js';
import { generateSessionId } from '../../src/core/id.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { SessionOptions } from '../../src/core/options.js';
import type { RequestInfo } from '../../src/core/request.js';
import { internalsOf } from '../../src/core/session.js';
import { IdSigner } from '../../src/core/signing.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { countingStore } from '../helpers/counting-store.js';
import { capability, sampleMeta } from '../stores/conformance.js';

const managers: SessionManager[] = [];
after(() => Promise.all(managers.map((manager) => manager.close())));

function manager(options: Partial<SessionOptions> = {}): SessionManager {
  const made = createSessionManager({ app: 'shop', store: memoryStore(), sweeper: false, ...options });
  managers.push(made);
  return made;
}

/** The core's view of one request carrying these headers. */
function request(headers: Record<string, string> = {}): RequestInfo {
  const lower = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    url: '/',
    method: 'GET',
    header: (name) => lower[name],
    remoteAddress: '127.0.0.1',
    encrypted: false,
  };
}

/** One request: open, run the handler, commit, and return the response headers. */
async function serve(
  sessions: SessionManager,
  headers: Record<string, string>,
  handler: (session: ReturnType<SessionManager['open']>) => Promise<unknown>,
) {
  const session = sessions.open(request(headers));
  const result = await handler(session);
  await session.commit();
  const response = session.responseHeaders();
  const setCookie = response.filter(([name]) => name === 'set-cookie').map(([, value]) => value);
  return { session, result, response, setCookie };
}

/** The cookie a response set, as the next request sends it. */
const cookieOf = (setCookie: string[]) => ({ cookie: setCookie[0]!.split(';')[0]! });
const cookieValueOf = (setCookie: string[]) => setCookie[0]!.split(';')[0]!.split('=')[1]!;

/** A stored session with these attributes, written behind the manager's back. */
async function storedSession(
  store: Store,
  attributes: Record<string, string>,
  principal: string | null = null,
) {
  const meta = sampleMeta({ principal });
  await store.create(meta, new Map(Object.entries(attributes)));
  return meta.id;
}

describe('secrets (1c, 10)', () => {
  it('accepts a Buffer secret, alone or in a list, and signs with its bytes', async () => {
    const key = randomBytes(32);
    for (const secret of [key, [key, 'older']]) {
      const sessions = manager({ secret });
      const first = await serve(sessions, {}, (session) => session.set('n', 1));
      const value = cookieValueOf(first.setCookie);
      assert.equal(new IdSigner(key).verify(value), first.session.id, 'signed with the Buffer itself');
      const second = await serve(sessions, cookieOf(first.setCookie), (session) => session.get('n'));
      assert.equal(second.result, 1);
    }
  });

  it('re-issues a cookie an older secret signed, so the old secret can be removed', async () => {
    const store = memoryStore();
    const old = manager({ store, secret: 'old-secret' });
    const rotated = manager({ store, secret: ['new-secret', 'old-secret'] });
    const renewed = manager({ store, secret: 'new-secret' });
    const login = await serve(old, {}, (session) => session.set('user', 'ann'));
    const oldCookie = cookieOf(login.setCookie);

    const visit = await serve(rotated, oldCookie, (session) => session.get('user'));
    assert.equal(visit.result, 'ann');
    assert.equal(visit.setCookie.length, 1, 'a read-only request still gets the re-signed cookie');
    const value = cookieValueOf(visit.setCookie);
    assert.equal(new IdSigner('new-secret').verify(value), login.session.id);

    const next = await serve(rotated, cookieOf(visit.setCookie), (session) => session.get('user'));
    assert.equal(next.setCookie.length, 0, 'a cookie of the primary secret is not re-sent');
    const afterRemoval = await serve(renewed, cookieOf(visit.setCookie), (session) => session.get('user'));
    assert.equal(afterRemoval.result, 'ann', 'the old secret is gone and the user is still logged in');
    const stale = await serve(renewed, oldCookie, (session) => session.get('user'));
    assert.equal(stale.result, undefined);
  });

  it('warns once per process when no secret is set, naming the fix', () => {
    const script = `
      import { createSessionManager } from '../src/index.js';
      import { memoryStore } from '../src/stores/memory.js';
      const make = (options) => createSessionManager({ app: 'a', store: memoryStore(), sweeper: false, ...options });
      await Promise.all([make({}), make({}), make({ secret: 's' }), make({})].map((m) => m.close()));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    const warnings = child.stderr.split('\n').filter((line) => line.includes('UNISESSION_NO_SECRET'));
    assert.equal(warnings.length, 1, child.stderr);
    assert.match(warnings[0]!, /set the `secret` option/);
  });
});

describe('attribute names (2, 13)', () => {
  it('refuses reserved words and malformed names in every method, naming what is wrong', async () => {
    const sessions = manager();
    const session = sessions.open(request());
    for (const reserved of ['__proto__', 'constructor', 'prototype']) {
      const refused = { code: 'UNISESSION_INVALID_NAME', message: new RegExp(`reserved word "${reserved}"`) };
      await assert.rejects(session.set(reserved, { isAdmin: true }), refused);
      await assert.rejects(session.get(reserved), refused);
      await assert.rejects(session.has(reserved), refused);
      await assert.rejects(session.remove(reserved), refused);
    }
    for (const bad of ['', 'x\u0000y', 'x\ud800', 'x\udbff', '\udc00x', 'x'.repeat(201)]) {
      for (const call of [session.get(bad), session.has(bad), session.remove(bad), session.set(bad, 1)])
        await assert.rejects(call, { code: 'UNISESSION_INVALID_NAME' }, JSON.stringify(bad));
      assert.throws(() => internalsOf(session).setSync(bad, 1), { code: 'UNISESSION_INVALID_NAME' });
      assert.throws(() => internalsOf(session).removeSync(bad), { code: 'UNISESSION_INVALID_NAME' });
    }
    await session.set('ok \ud83c\udf89', 1);
    assert.deepEqual(await session.all(), { 'ok \ud83c\udf89': 1 }, 'a surrogate pair is well-formed');
  });

  it('skips a stored reserved or malformed name on load, and leaves it in the store', async () => {
    const store = countingStore(memoryStore());
    const stored = {
      ':__proto__': '{"isAdmin":true}',
      'shop:constructor': '1',
      ':x\u0000': '2',
      'shop:user': '"ann"',
    };
    for (const preload of ['all', ['user']] as const) {
      const id = await storedSession(store, stored);
      const sessions = manager({ store, preload });
      const { session, result } = await serve(sessions, { cookie: `unisession=${id}` }, async (s) => {
        const all = await s.all();
        await s.set('n', 1);
        return all;
      });
      const all = result as Record<string, unknown>;
      assert.deepEqual(all, { user: 'ann' });
      assert.equal(Object.getPrototypeOf(all), Object.prototype);
      assert.equal((all as { isAdmin?: boolean }).isAdmin, undefined);
      assert.deepEqual(internalsOf(session).loadedNames().sort(), ['n', 'user']);
      assert.equal(internalsOf(session).peek('__proto__'), undefined);
      const kept = await store.load(id, 'all', Date.now());
      assert.deepEqual(
        [...kept!.attributes.keys()].sort(),
        [':__proto__', ':x\u0000', 'shop:constructor', 'shop:n', 'shop:user'],
        'the skipped names are never deleted',
      );
    }
  });
});

describe('regenerate and invalidate (5, 9)', () => {
  it('starts a fresh, empty session when the session was revoked before regenerate', async () => {
    const store = memoryStore();
    const sessions = manager({ store });
    const id = await storedSession(store, { 'shop:cart': '[1]', 'shop:user': '"ann"' }, 'ann');
    const session = sessions.open(request({ cookie: `unisession=${id}` }));
    assert.equal(await session.get('user'), 'ann');
    assert.equal(await sessions.revokePrincipal('ann'), 1);

    assert.equal(session.isNew, false);
    await session.regenerate();
    assert.equal(session.isNew, true, 'says the session was gone');
    assert.deepEqual(await session.all(), {}, 'no old attributes');
    assert.equal((await session.metadata())!.principal, null, 'no principal');
    await session.set('n', 1);
    await session.commit();
    const recreated = await store.load(session.id!, 'all', Date.now());
    assert.deepEqual([...recreated!.attributes.keys()], ['shop:n']);
    assert.equal(recreated!.meta.principal, null);
    assert.deepEqual(await sessions.sessionsOf('ann'), [], 'the revocation stands');
  });

  it('clears the cookie only from the request that ended the session', async () => {
    const sessions = manager();
    const first = await serve(sessions, {}, (session) => session.set('n', 1));
    const preLogin = cookieOf(first.setCookie);
    // The login regenerates; a parallel request still carries the pre-login cookie.
    const login = await serve(sessions, preLogin, (session) => session.regenerate());
    assert.equal(login.setCookie.length, 1);
    assert.doesNotMatch(login.setCookie[0]!, /Expires=Thu, 01 Jan 1970/);
    const parallel = await serve(sessions, preLogin, (session) => session.get('n'));
    assert.deepEqual(parallel.setCookie, [], 'a stale id gets no clearing cookie');
    const unknown = await serve(sessions, { cookie: `unisession=${generateSessionId()}` }, (s) => s.get('n'));
    assert.deepEqual(unknown.setCookie, [], 'nor does an unknown id');

    const logout = await serve(sessions, cookieOf(login.setCookie), (session) => session.invalidate());
    assert.equal(logout.setCookie.length, 1);
    assert.match(logout.setCookie[0]!, /^unisession=; .*Expires=Thu, 01 Jan 1970/);
    const dropped = await serve(sessions, cookieOf(login.setCookie), (s) =>
      s.regenerate({ keepAttributes: false }),
    );
    assert.deepEqual(dropped.setCookie, [], 'regenerate on an already ended session clears nothing');
  });
});

describe('the id header (6)', () => {
  it('is echoed only to a request that sent it, never to a cookie request', async () => {
    const sessions = manager({ header: 'X-Session-Id' });
    const headerOf = (response: Array<[string, string]>) =>
      response.find(([name]) => name === 'x-session-id')?.[1];

    const browser = await serve(sessions, {}, (session) => session.set('n', 1));
    assert.equal(headerOf(browser.response), undefined, 'a new browser session');
    const cookieVisit = await serve(sessions, cookieOf(browser.setCookie), (session) => session.set('n', 2));
    assert.equal(cookieVisit.result, undefined);
    assert.equal(headerOf(cookieVisit.response), undefined, 'a cookie request');

    const api = await serve(sessions, { 'x-session-id': '' }, (session) => session.set('n', 1));
    const id = headerOf(api.response);
    assert.equal(id, api.session.id);
    const apiAgain = await serve(sessions, { 'x-session-id': id! }, (session) => session.get('n'));
    assert.equal(apiAgain.result, 1);
    assert.equal(headerOf(apiAgain.response), id);
  });
});

describe('manager arguments (7)', () => {
  it('are checked once, before any store sees them', async () => {
    const store = countingStore(memoryStore());
    const sessions = manager({ store });
    const refused = { code: 'UNISESSION_INVALID_ARGUMENT' };
    const bad: Array<[string, () => Promise<unknown>]> = [
      ['limit 0', () => sessions.list({ limit: 0 })],
      ['limit 1001', () => sessions.list({ limit: 1001 })],
      ['limit 1.5', () => sessions.list({ limit: 1.5 })],
      ['limit string', () => sessions.list({ limit: '5' as unknown as number })],
      ['cursor', () => sessions.list({ cursor: 5 as unknown as string })],
      ['app', () => sessions.list({ app: { $ne: null } as unknown as string })],
      ['aliveAt', () => sessions.list({ aliveAt: Number.NaN })],
      ['unknown key', () => sessions.list({ lmit: 5 } as never)],
      ['count limit', () => sessions.count({ limit: 5 } as never)],
      ['count principal', () => sessions.count({ principal: 7 as unknown as string })],
      ['filter', () => sessions.list('all' as never)],
      ['sessionsOf', () => sessions.sessionsOf({ $ne: null } as unknown as string)],
      ['revokePrincipal', () => sessions.revokePrincipal({ $ne: null } as unknown as string)],
      ['destroy', () => sessions.destroy(5 as unknown as string)],
    ];
    for (const [what, call] of bad) await assert.rejects(call(), refused, what);
    assert.deepEqual(store.calls, [], 'no store was asked');
    assert.deepEqual((await sessions.list({ limit: 1000 })).sessions, []);
    await assert.rejects(sessions.list({ lmit: 5 } as never), {
      message: /unknown filter key "lmit"; did you mean "limit"/,
    });
  });

  it('the memory store refuses a limit of 0 itself, without a TypeError', async () => {
    const store = memoryStore();
    await store.create(sampleMeta(), new Map());
    await assert.rejects(capability(store, 'listing').list({ limit: 0 }), {
      code: 'UNISESSION_INVALID_ARGUMENT',
    });
  });
});

describe('several cookies of one name (8)', () => {
  it('uses the first that verifies and loads, in the order sent', async () => {
    for (const secret of [undefined, 'shh']) {
      const sessions = manager({ secret });
      const login = await serve(sessions, {}, (session) => session.set('user', 'ann'));
      const genuine = cookieValueOf(login.setCookie);
      const unknown = new IdSigner(secret).sign(generateSessionId());
      for (const before of ['junk', `${generateSessionId()}.forged`, unknown, '']) {
        const visit = await serve(
          sessions,
          { cookie: `other=1; unisession=${before}; unisession=${genuine}` },
          (session) => session.get('user'),
        );
        assert.equal(visit.result, 'ann', `${before} in front`);
        assert.deepEqual(visit.setCookie, [], 'the genuine cookie is kept as it is');
      }
    }
  });

  it('costs a load per candidate, up to a cap', async () => {
    const store = countingStore(memoryStore());
    const sessions = manager({ store });
    const login = await serve(sessions, {}, (session) => session.set('user', 'ann'));
    const genuine = cookieValueOf(login.setCookie);
    const stale = (n: number) =>
      Array.from({ length: n }, () => `unisession=${generateSessionId()}`).join('; ');
    store.reset();
    assert.equal((await serve(sessions, cookieOf(login.setCookie), (s) => s.get('user'))).result, 'ann');
    assert.deepEqual(store.calls, ['load'], 'one cookie, one round trip');
    store.reset();
    const behindOne = await serve(sessions, { cookie: `${stale(1)}; unisession=${genuine}` }, (s) =>
      s.get('user'),
    );
    assert.equal(behindOne.result, 'ann');
    assert.deepEqual(store.calls, ['load', 'load']);
    store.reset();
    const behindMany = await serve(sessions, { cookie: `${stale(10)}; unisession=${genuine}` }, (s) =>
      s.get('user'),
    );
    assert.equal(behindMany.result, undefined, 'past the cap');
    assert.equal(store.calls.length, 4);
  });
});

describe('nesting depth (14)', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++)
      value = i % 3 === 0 ? [value] : i % 3 === 1 ? { v: value } : new Map([['k', value]]);
    return value;
  };

  it('has a named limit: deeper values fail with 413 at set, without a stack overflow', async () => {
    assert.equal(MAX_VALUE_DEPTH, 100);
    for (const codec of [jsonCodec(), await msgpackCodec()]) {
      const ok = nested(MAX_VALUE_DEPTH);
      assert.deepEqual(codec.decode(codec.encode(ok)), ok, codec.name);
      for (const depth of [MAX_VALUE_DEPTH + 1, 100_000]) {
        assert.throws(() => codec.encode(nested(depth)), { code: 'UNISESSION_VALUE_TOO_DEEP', status: 413 });
      }
      const sessions = manager({ codec });
      const session = sessions.open(request());
      await assert.rejects(session.set('deep', nested(5000)), { code: 'UNISESSION_VALUE_TOO_DEEP' });
    }
  });

  it('reads a stored value nested past the limit as absent, with a decodeError', async () => {
    const store = memoryStore();
    const sessions = manager({ store });
    const errors: string[] = [];
    sessions.on('decodeError', ({ name }) => errors.push(name));
    const deepJson = `${'['.repeat(150)}1${']'.repeat(150)}`;
    const hugeJson = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    const id = await storedSession(store, { 'shop:deep': deepJson, 'shop:huge': hugeJson, 'shop:n': '1' });
    const visit = await serve(sessions, { cookie: `unisession=${id}` }, async (session) => [
      await session.get('deep'),
      await session.get('huge'),
      await session.get('n'),
    ]);
    assert.deepEqual(visit.result, [undefined, undefined, 1]);
    assert.deepEqual(errors.sort(), ['deep', 'huge']);
    const msgpack = await msgpackCodec();
    assert.throws(
      () => msgpack.decode(Buffer.from(`${'\x91'.repeat(150)}\x01`, 'latin1').toString('base64')),
      {
        code: 'UNISESSION_DECODE_FAILED',
      },
    );
  });
});

describe('lifetimes (15)', () => {
  it('accept finite numbers >= 0 only', async () => {
    const sessions = manager();
    const session = sessions.open(request());
    await internalsOf(session).load();
    for (const bad of [null, true, '5', [], Number.NaN, -1, Number.POSITIVE_INFINITY, undefined]) {
      await assert.rejects(session.setMaxInactive(bad as never), { code: 'UNISESSION_INVALID_ARGUMENT' });
      assert.throws(() => internalsOf(session).setMaxInactiveSync(bad as never), {
        code: 'UNISESSION_INVALID_ARGUMENT',
      });
    }
    assert.equal((await session.metadata())!.maxInactive, 30 * 60_000, 'unchanged');
    await session.setMaxInactive(0);
    assert.equal((await session.metadata())!.maxInactive, 0);
  });
});
