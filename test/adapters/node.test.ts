import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeSessions } from '../../src/adapters/node.js';
import { UnisessionError } from '../../src/core/errors.js';
import type { SessionEvents } from '../../src/core/events.js';
import type { SessionOptions } from '../../src/core/options.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { Client } from '../helpers/client.js';
import { countingStore } from '../helpers/counting-store.js';
import { close, listen } from '../helpers/server.js';

/** A node:http app written as a user would, on the native async API. */
async function startApp(options: Partial<SessionOptions> & { store: Store }) {
  const manager = createSessionManager({ app: 'shop', ignore: /^\/static\//, sweeper: false, ...options });
  const sessions = nodeSessions(manager);
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const param = (name: string) => url.searchParams.get(name) ?? '';
    const session = sessions.attach(req, res);
    const json = (body: unknown, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      switch (url.pathname) {
        case '/read':
          return json({ n: (await session.get('n')) ?? null, id: session.id });
        case '/inc': {
          const n = ((await session.get<number>('n')) ?? 0) + 1;
          await session.set('n', n);
          return json({ n });
        }
        case '/set':
          await session.set(param('name'), param('value'));
          return json({ ok: true });
        case '/remove':
          await session.remove(param('name'));
          return json({ ok: true });
        case '/all':
          return json(await session.all());
        case '/cart': {
          const cart = (await session.get<number[]>('cart')) ?? [];
          if (cart.length === 0) await session.set('cart', cart);
          cart.push(cart.length + 1);
          return json({ cart });
        }
        case '/login':
          await session.regenerate();
          await session.set('user', param('user'));
          await session.setPrincipal(param('user'));
          return json({ id: session.id });
        case '/logout':
          await session.invalidate();
          return json({ ok: true });
        case '/redirect':
          await session.set('flag', param('value'));
          res.writeHead(302, { location: '/read' });
          return res.end();
        case '/stream':
          await session.set('streamed', true);
          res.write('one,');
          await sleep(20);
          res.write('two,');
          return res.end('three');
        case '/noop':
          return json({ ok: true });
        default:
          if (url.pathname.startsWith('/static/'))
            return json({ ignored: session.isIgnored, id: session.id ?? null });
          return json({ error: 'not found' }, 404);
      }
    } catch (error) {
      if (error instanceof UnisessionError)
        return json({ error: error.code, message: error.message }, error.status);
      throw error;
    }
  });
  const base = await listen(server);
  return { manager, base, stop: () => close(server) };
}

function record(manager: ReturnType<typeof createSessionManager>) {
  const events: Array<[keyof SessionEvents, unknown]> = [];
  for (const name of [
    'created',
    'destroyed',
    'attributeAdded',
    'attributeReplaced',
    'attributeRemoved',
    'decodeError',
  ] as const) {
    manager.on(name, (event) => events.push([name, event]));
  }
  return events;
}

describe('node:http adapter', () => {
  const store = countingStore(memoryStore());
  let app: Awaited<ReturnType<typeof startApp>>;
  before(async () => {
    app = await startApp({ store });
  });
  after(() => app.stop());

  it('costs 0 round trips without a session, 1 to create, 1 to read, 2 to write', async () => {
    const client = new Client(app.base);
    store.reset();
    await client.json('/read');
    assert.deepEqual(store.calls, [], 'no cookie: nothing to load');
    await client.json('/inc');
    assert.deepEqual(store.calls, ['create']);
    store.reset();
    assert.equal((await client.json('/read')).n, 1);
    assert.deepEqual(store.calls, ['load']);
    store.reset();
    assert.equal((await client.json('/inc')).n, 2);
    assert.deepEqual(store.calls, ['load', 'update']);
    store.reset();
    await client.json('/noop');
    await client.json('/static/app.css');
    assert.deepEqual(store.calls, [], 'an untouched session and an ignored URL cost nothing');
  });

  it('writes nothing when a value is set to what it already was', async () => {
    const client = new Client(app.base);
    await client.json('/set?name=a&value=1');
    store.reset();
    await client.json('/set?name=a&value=1');
    assert.deepEqual(store.calls, ['load']);
  });

  it('saves in-place mutation of an object that was read', async () => {
    const client = new Client(app.base);
    await client.json('/cart');
    await client.json('/cart');
    assert.deepEqual((await client.json('/cart')).cart, [1, 2, 3]);
    assert.deepEqual((await client.json('/all')).cart, [1, 2, 3]);
  });

  it('commits before a redirect reaches the client', async () => {
    const client = new Client(app.base);
    await client.json('/inc');
    const response = await client.request('/redirect?value=v1');
    assert.equal(response.status, 302);
    // The response is here: the store must already hold the write.
    const stored = await store.load(client.sessionId!, 'all', Date.now());
    assert.equal(stored?.attributes.get('shop:flag'), '"v1"');
  });

  it('commits before a streamed body starts', async () => {
    const client = new Client(app.base);
    const response = await client.request('/stream');
    assert.equal(await response.text(), 'one,two,three');
    assert.ok(client.sessionId, 'the cookie came with the streamed response');
    assert.equal((await client.json('/all')).streamed, true);
  });

  it('keeps all 200 attributes written by 200 concurrent requests on one session', async () => {
    const client = new Client(app.base);
    await client.json('/inc');
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.request(`/set?name=k${i}&value=${i}`)),
    );
    assert.ok(responses.every((response) => response.status === 200));
    const all = await client.json('/all');
    for (let i = 0; i < 200; i++) assert.equal(all[`k${i}`], String(i));
    assert.equal(all.n, 1);
  });

  it('treats malformed, oversized, forged and unknown ids as no id, and never adopts them', async () => {
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
      const client = new Client(app.base);
      const response = await client.request('/inc', { headers: { cookie } });
      assert.equal(response.status, 200, cookie.slice(0, 40));
      assert.deepEqual(await response.json(), { n: 1 });
      assert.ok(client.sessionId && client.sessionId !== forgedId);
    }
    assert.equal(await store.load(forgedId, 'all', Date.now()), null);
  });

  it('rejects bad attribute names and oversized values with a clear error, keeping the session', async () => {
    const client = new Client(app.base);
    await client.json('/inc');
    const badName = await client.request('/set?name=&value=x');
    assert.equal(badName.status, 400);
    assert.equal(((await badName.json()) as { error: string }).error, 'UNISESSION_INVALID_NAME');
    const huge = await client.request(`/set?name=big&value=${'x'.repeat(10_000)}`);
    assert.equal(huge.status, 200, 'under the default limit');
    const small = await startApp({ store, maxValueBytes: 1000 });
    try {
      const limited = new Client(small.base);
      limited.cookie = client.cookie;
      const tooBig = await limited.request(`/set?name=big2&value=${'x'.repeat(2000)}`);
      assert.equal(tooBig.status, 413);
      assert.equal(((await tooBig.json()) as { error: string }).error, 'UNISESSION_VALUE_TOO_LARGE');
    } finally {
      await small.stop();
    }
    assert.equal((await client.json('/read')).n, 1, 'nothing was lost');
  });

  it('drops a stored value that no longer decodes, with an event, and serves the rest', async () => {
    const client = new Client(app.base);
    await client.json('/inc');
    await store.update(client.sessionId!, {
      set: new Map([
        ['shop:gone', '{"$t":"@RemovedClass","v":{}}'],
        ['shop:garbage', '{not json'],
      ]),
    });
    const events = record(app.manager);
    const response = await client.request('/all');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { n: 1 });
    assert.deepEqual(events.map(([name, event]) => [name, (event as { name: string }).name]).sort(), [
      ['decodeError', 'garbage'],
      ['decodeError', 'gone'],
    ]);
    await client.json('/set?name=gone&value=new');
    assert.equal((await client.json('/all')).gone, 'new', 'a fresh value replaces the undecodable one');
  });

  it('regenerate() keeps the attributes under a new id; the old id loads nothing', async () => {
    const client = new Client(app.base);
    await client.json('/inc');
    const oldCookie = client.cookie;
    const oldId = client.sessionId!;
    const { id } = await client.json<{ id: string }>('/login?user=alice');
    assert.notEqual(id, oldId);
    assert.equal(client.sessionId, id);
    assert.deepEqual(await client.json('/all'), { n: 1, user: 'alice' });
    assert.equal(await store.load(oldId, 'all', Date.now()), null);
    const attacker = new Client(app.base);
    attacker.cookie = oldCookie;
    assert.equal((await attacker.json('/read')).n, null, 'the fixated id is worthless');
    assert.deepEqual(
      (await app.manager.sessionsOf('alice')).map((meta) => meta.id),
      [id],
    );
  });

  it('fires each listener event exactly once', async () => {
    const events = record(app.manager);
    const client = new Client(app.base);
    await client.json('/set?name=a&value=1');
    await client.json('/set?name=a&value=2');
    await client.json('/set?name=b&value=x');
    await client.json('/remove?name=a');
    await client.json('/remove?name=a');
    await client.json('/logout');
    await client.json('/logout');
    const id = events.find(([name]) => name === 'created')?.[1] as SessionEvents['created'];
    const summary = events.map(([name, event]) => {
      const e = event as { name?: string; value?: unknown; oldValue?: unknown; reason?: string };
      return [name, e.name ?? e.reason ?? '', e.value ?? null, e.oldValue ?? null];
    });
    assert.deepEqual(summary, [
      ['created', '', null, null],
      ['attributeAdded', 'a', '1', null],
      ['attributeReplaced', 'a', '2', '1'],
      ['attributeAdded', 'b', 'x', null],
      ['attributeRemoved', 'a', null, '2'],
      ['destroyed', 'invalidated', null, null],
    ]);
    assert.equal((events.at(-1)![1] as SessionEvents['destroyed']).meta.id, id.meta.id);
    assert.equal(client.cookie, '', 'logout clears the cookie');
  });

  it('revokes every session of a principal', async () => {
    const phone = new Client(app.base);
    const laptop = new Client(app.base);
    await phone.json('/login?user=bob');
    await laptop.json('/login?user=bob');
    assert.equal((await app.manager.sessionsOf('bob')).length, 2);
    assert.equal(await app.manager.revokePrincipal('bob'), 2);
    assert.equal((await phone.json('/all')).user, undefined);
    assert.equal((await laptop.json('/all')).user, undefined);
  });
});

describe('node:http adapter: options', () => {
  it('expires idle sessions, and the sweeper reports each once', async () => {
    const store = memoryStore();
    const app = await startApp({ store, maxInactive: 1000, touchInterval: 20 });
    const events = record(app.manager);
    try {
      const client = new Client(app.base);
      await client.json('/inc');
      await sleep(500);
      assert.equal((await client.json('/inc')).n, 2, 'activity slides the expiry');
      await sleep(500);
      assert.equal((await client.json('/read')).n, 2, 'still alive: the last access was recorded');
      const id = client.sessionId;
      await sleep(1100);
      assert.equal((await client.json('/read')).n, null, 'idle past maxInactive: gone');
      assert.equal(await app.manager.sweep(), 1);
      assert.equal(await app.manager.sweep(), 0);
      const destroyed = events
        .filter(([name]) => name === 'destroyed')
        .map(([, e]) => e as SessionEvents['destroyed']);
      assert.deepEqual(
        destroyed.map((e) => [e.meta.id, e.reason]),
        [[id, 'expired']],
      );
    } finally {
      await app.stop();
    }
  });

  it('ends a session at its absolute timeout whatever the activity', async () => {
    const app = await startApp({
      store: memoryStore(),
      maxInactive: 60_000,
      absoluteTimeout: 250,
      touchInterval: 0,
    });
    try {
      const client = new Client(app.base);
      await client.json('/inc');
      for (let i = 0; i < 3; i++) {
        await sleep(60);
        await client.json('/inc');
      }
      await sleep(100);
      assert.equal((await client.json('/read')).n, null);
    } finally {
      await app.stop();
    }
  });

  it('throttles touches: read-only requests write only once per touchInterval', async () => {
    const store = countingStore(memoryStore());
    const app = await startApp({ store, touchInterval: 1000 });
    try {
      const client = new Client(app.base);
      await client.json('/inc');
      store.reset();
      for (let i = 0; i < 5; i++) await client.json('/read');
      assert.deepEqual(store.calls, Array(5).fill('load'));
      await sleep(1050);
      store.reset();
      await client.json('/read');
      assert.deepEqual(store.calls, ['load', 'update']);
    } finally {
      await app.stop();
    }
  });

  it('sets Secure behind a trusted proxy that says https, and only then', async () => {
    const app = await startApp({ store: memoryStore(), trustProxy: ['127.0.0.1'] });
    const untrusted = await startApp({ store: memoryStore(), trustProxy: ['10.9.9.9'] });
    try {
      const viaProxy = await fetch(`${app.base}/inc`, { headers: { 'x-forwarded-proto': 'https' } });
      assert.match(viaProxy.headers.get('set-cookie')!, /; Secure/);
      const plain = await fetch(`${app.base}/inc`);
      assert.doesNotMatch(plain.headers.get('set-cookie')!, /Secure/);
      const spoofed = await fetch(`${untrusted.base}/inc`, { headers: { 'x-forwarded-proto': 'https' } });
      assert.doesNotMatch(spoofed.headers.get('set-cookie')!, /Secure/);
      assert.match(plain.headers.get('set-cookie')!, /; HttpOnly; SameSite=Lax$/);
      assert.match(plain.headers.get('set-cookie')!, /^unisession=[A-Za-z0-9_-]{32}; Path=\//);
    } finally {
      await app.stop();
      await untrusted.stop();
    }
  });

  it('signs the id, verifies it in constant time, and accepts rotated secrets', async () => {
    const store = memoryStore();
    const old = await startApp({ store, secret: 'old-secret' });
    const rotated = await startApp({ store, secret: ['new-secret', 'old-secret'] });
    const dropped = await startApp({ store, secret: 'new-secret' });
    try {
      const client = new Client(old.base);
      await client.json('/inc');
      assert.match(client.cookie, /^unisession=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$/);
      const sameCookie = (base: string) => Object.assign(new Client(base), { cookie: client.cookie });
      assert.equal((await sameCookie(rotated.base).json('/read')).n, 1);
      assert.equal((await sameCookie(dropped.base).json('/read')).n, null);
      const unsigned = Object.assign(new Client(rotated.base), { cookie: `unisession=${client.sessionId}` });
      assert.equal((await unsigned.json('/read')).n, null, 'an unsigned id is refused when signing is on');
    } finally {
      await Promise.all([old.stop(), rotated.stop(), dropped.stop()]);
    }
  });

  it('accepts the id from a header for API clients', async () => {
    const app = await startApp({ store: memoryStore(), header: 'X-Session-Id' });
    try {
      // An API client sends the header from its first request on (empty: "no session yet").
      const first = await fetch(`${app.base}/inc`, { headers: { 'x-session-id': '' } });
      const id = first.headers.get('x-session-id')!;
      assert.match(id, /^[A-Za-z0-9_-]{32}$/);
      const second = await fetch(`${app.base}/inc`, { headers: { 'x-session-id': id } });
      assert.deepEqual(await second.json(), { n: 2 });
    } finally {
      await app.stop();
    }
  });

  it('answers 503 UNISESSION_STORE_UNAVAILABLE when the store is down, or carries on if told to', async () => {
    const working = memoryStore();
    let down = false;
    const flaky = new Proxy(working, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || property === 'close') return value;
        return (...args: unknown[]) =>
          down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) : value.apply(target, args);
      },
    });
    const failing = await startApp({ store: flaky });
    const lenient = await startApp({ store: flaky, onStoreError: 'continue' });
    try {
      const client = new Client(failing.base);
      await client.json('/inc');
      down = true;
      const during = await client.request('/inc');
      assert.equal(during.status, 503);
      const body = (await during.json()) as { error: string; message: string };
      assert.equal(body.error, 'UNISESSION_STORE_UNAVAILABLE');
      // The driver's text stays on the error's cause: the message names only the store.
      assert.match(body.message, /unavailable: memory$/);
      const newcomer = await fetch(`${failing.base}/inc`);
      assert.equal(newcomer.status, 503, 'a write that cannot be saved is not acknowledged');
      const carryOn = Object.assign(new Client(lenient.base), { cookie: client.cookie });
      assert.deepEqual(await carryOn.json('/inc'), { n: 1 }, 'continue: an empty, unsaved session');
      down = false;
      assert.deepEqual(await client.json('/inc'), { n: 2 }, 'recovered; nothing corrupted');
    } finally {
      await failing.stop();
      await lenient.stop();
    }
  });
});

describe('id signing', () => {
  it('refuses a forged signature for an id whose genuine cookie verifies', async () => {
    const { IdSigner } = await import('../../src/core/signing.js');
    const signer = new IdSigner(['new', 'old']);
    const id = 'A'.repeat(32);
    const genuine = signer.sign(id);
    assert.equal(signer.verify(genuine), id);
    assert.equal(signer.verify(`${id}.${'B'.repeat(43)}`), null);
    assert.equal(signer.verify(`${id}.`), null);
    assert.equal(new IdSigner('other').verify(genuine), null, 'another secret refuses it');
    assert.equal(new IdSigner(['newer', 'old']).verify(new IdSigner('old').sign(id)), id, 'rotation');
  });
});
