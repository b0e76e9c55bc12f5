/**
 * The cookie and header transport (src/core/transport.ts): which ids a request presents,
 * and which headers its response carries, each handed out once. First the Transport on its
 * own, then through sessions opened on a manager, with no HTTP.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveOptions, type SessionOptions } from '../../src/core/options.js';
import { trustPredicate } from '../../src/core/request.js';
import { IdSigner } from '../../src/core/signing.js';
import type { Store } from '../../src/core/store.js';
import { Transport } from '../../src/core/transport.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { DirectClient, requestInfo, routes } from '../helpers/direct-client.js';

const ID = 'A'.repeat(32);
const OTHER = 'B'.repeat(32);

/** A transport for one request carrying `headers`, with the manager options `options`. */
function transport(headers: Record<string, string> = {}, options: Partial<SessionOptions> = {}) {
  const resolved = resolveOptions({ app: 'shop', ...options });
  const context = {
    options: resolved,
    signer: new IdSigner(resolved.secret),
    trusted: trustPredicate(resolved.trustProxy),
  };
  return new Transport(context, requestInfo({ headers }), false);
}

const names = (headers: Array<[string, string]>) =>
  headers.map(([name, value]) => `${name}: ${value.split(';')[0]}`);

describe('transport: only the headers not handed out yet', () => {
  it('gives a new session its cookie once; a new id gets its own', () => {
    const t = transport();
    const session = { id: ID, persisted: true, maxInactive: 30 * 60_000 };
    assert.deepEqual(names(t.headers(session)), [`set-cookie: unisession=${ID}`]);
    assert.deepEqual(t.headers(session), [], 'asked again: handed out already');
    assert.deepEqual(names(t.headers({ ...session, id: OTHER })), [`set-cookie: unisession=${OTHER}`]);
  });

  it('re-sends a persistent cookie after a recorded access, once', () => {
    const t = transport({ cookie: `unisession=${ID}` }, { cookie: { persistent: true } });
    t.loadedFrom({ id: ID, resign: false });
    const session = { id: ID, persisted: true, maxInactive: 30 * 60_000 };
    assert.deepEqual(t.headers(session), [], 'the client holds this cookie, and no access was recorded');
    t.recordedAccess();
    const [cookie] = t.headers(session);
    assert.match(cookie?.[1] ?? '', /^unisession=A{32}; Max-Age=1800; /);
    assert.deepEqual(t.headers(session), []);
  });

  it('clears the cookie of a session this request ended, once', () => {
    const t = transport({ cookie: `unisession=${ID}` });
    t.loadedFrom({ id: ID, resign: false });
    const ended = { id: OTHER, persisted: false, maxInactive: 30 * 60_000 };
    assert.deepEqual(t.headers(ended), [], 'a fresh, unsaved session: nothing to say');
    t.endedSession();
    assert.deepEqual(names(t.headers(ended)), ['set-cookie: unisession=']);
    assert.deepEqual(t.headers(ended), []);
  });

  it('echoes the id header to a header client, once', () => {
    const t = transport({ 'x-session-id': '' }, { header: 'x-session-id' });
    const session = { id: ID, persisted: true, maxInactive: 30 * 60_000 };
    assert.deepEqual(names(t.headers(session)), [`set-cookie: unisession=${ID}`, `x-session-id: ${ID}`]);
    assert.deepEqual(t.headers(session), []);
  });

  it("a session's responseHeaders() after a second commit gives only what changed", async () => {
    const manager = createSessionManager({ app: 'shop', store: memoryStore(), sweeper: false });
    const session = manager.open(requestInfo());
    await session.set('n', 1);
    await session.commit();
    const [first] = session.responseHeaders();
    assert.equal(first?.[0], 'set-cookie');
    await session.set('n', 2);
    await session.commit();
    assert.deepEqual(session.responseHeaders(), [], 'the same cookie is not handed out twice');
    await session.regenerate();
    await session.commit();
    const [renewed] = session.responseHeaders();
    assert.notEqual(renewed?.[1], first[1], 'the new id is');
  });
});

describe('transport: presented ids', () => {
  const shop = (options: Partial<SessionOptions> & { store: Store }) =>
    createSessionManager({ app: 'shop', sweeper: false, ...options });

  it('treats malformed, oversized, forged and unknown ids as no id, and never adopts them', async () => {
    const store = memoryStore();
    const manager = shop({ store });
    const forgedId = 'A'.repeat(32);
    const cookies = [
      'unisession=%%%;;;==; =x',
      `unisession=${'x'.repeat(9000)}`,
      'unisession=../../etc/passwd',
      `unisession=${forgedId}`,
      `unisession=${forgedId}.c2lnbmF0dXJl`,
      'unisession',
    ];
    for (const cookie of cookies) {
      const client = new DirectClient(manager);
      assert.deepEqual(await client.call(routes.inc, { headers: { cookie } }), { n: 1 }, cookie.slice(0, 40));
      assert.ok(client.sessionId && client.sessionId !== forgedId);
    }
    assert.equal(await store.load(forgedId, 'all', Date.now()), null);
  });

  it('sets Secure behind a trusted proxy that says https, and only then', async () => {
    const trusting = shop({ store: memoryStore(), trustProxy: ['127.0.0.1'] });
    const untrusting = shop({ store: memoryStore(), trustProxy: ['10.9.9.9'] });
    const https = { headers: { 'x-forwarded-proto': 'https' } };
    const viaProxy = await new DirectClient(trusting).request(routes.inc, https);
    assert.match(viaProxy.headers.get('set-cookie')!, /; Secure/);
    const plain = await new DirectClient(trusting).request(routes.inc);
    assert.doesNotMatch(plain.headers.get('set-cookie')!, /Secure/);
    const spoofed = await new DirectClient(untrusting).request(routes.inc, https);
    assert.doesNotMatch(spoofed.headers.get('set-cookie')!, /Secure/);
    assert.match(plain.headers.get('set-cookie')!, /; HttpOnly; SameSite=Lax$/);
    assert.match(plain.headers.get('set-cookie')!, /^unisession=[A-Za-z0-9_-]{32}; Path=\//);
  });

  it('signs the id, verifies it in constant time, and accepts rotated secrets', async () => {
    const store = memoryStore();
    const old = shop({ store, secret: 'old-secret' });
    const rotated = shop({ store, secret: ['new-secret', 'old-secret'] });
    const dropped = shop({ store, secret: 'new-secret' });
    const client = new DirectClient(old);
    await client.call(routes.inc);
    assert.match(client.cookie, /^unisession=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$/);
    const sameCookie = (manager: typeof old) =>
      Object.assign(new DirectClient(manager), { cookie: client.cookie });
    assert.equal((await sameCookie(rotated).call(routes.read)).n, 1);
    assert.equal((await sameCookie(dropped).call(routes.read)).n, null);
    const unsigned = Object.assign(new DirectClient(rotated), { cookie: `unisession=${client.sessionId}` });
    assert.equal((await unsigned.call(routes.read)).n, null, 'an unsigned id is refused when signing is on');
  });

  it('accepts the id from a header for API clients', async () => {
    const manager = shop({ store: memoryStore(), header: 'X-Session-Id' });
    // An API client sends the header from its first request on (empty: "no session yet").
    const first = await new DirectClient(manager).request(routes.inc, { headers: { 'x-session-id': '' } });
    const id = first.headers.get('x-session-id')!;
    assert.match(id, /^[A-Za-z0-9_-]{32}$/);
    const second = await new DirectClient(manager).call(routes.inc, { headers: { 'x-session-id': id } });
    assert.deepEqual(second, { n: 2 });
  });
});
