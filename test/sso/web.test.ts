/**
 * The SSO endpoints as Web-standard handlers (`Request` in, `Response` out), with no server:
 * the same hand-off as over node:http, the start-up checks of `ssoHub` and `ssoClient`, and
 * a store without a `tickets` group refused with one clear error.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Hono } from 'hono';
import { withSession } from '../../src/adapters/web.js';
import { IdSigner } from '../../src/core/signing.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { localPath, ssoClient, ssoHub } from '../../src/sso/index.js';
import { memoryStore } from '../../src/stores/memory.js';

const SECRET = 'web-sso-secret-0123456789abcdef0123';
const HUB = 'https://portal.example.test/sso/authorize';
const CALLBACK = 'https://partner-site.test/sso/callback';

/** Cookies as `name=value` pairs from a Response, for the next Request of the same origin. */
const cookiesOf = (response: Response, jar = new Map<string, string>()) => {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]!;
    const eq = pair.indexOf('=');
    if (/max-age=0/i.test(line) || pair.endsWith('=')) jar.delete(pair.slice(0, eq));
    else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return jar;
};
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([n, v]) => `${n}=${v}`).join('; ');

describe('sso as Web-standard handlers', () => {
  // One store object for both apps: in one process, that is sharing one store.
  const store = memoryStore({ group: 'websso' });
  const portal = createSessionManager({
    app: 'portal',
    store,
    secret: SECRET,
    shared: ['user'],
    sweeper: false,
  });
  const partner = createSessionManager({
    app: 'partner',
    store,
    secret: SECRET,
    shared: ['user'],
    sweeper: false,
  });
  after(() => portal.close());

  const hub = ssoHub({
    manager: portal,
    clients: [{ id: 'partner', redirectUris: [CALLBACK] }],
    loginUrl: '/login',
  });
  const client = ssoClient({ manager: partner, clientId: 'partner', hubUrl: HUB, redirectUri: CALLBACK });
  const login = withSession(portal, async (_request, session) => {
    await session.regenerate();
    await session.set('user', 'dana');
    await session.setPrincipal('dana');
    return new Response('ok');
  });
  const whoami = withSession(partner, async (_request, session) =>
    Response.json({ user: (await session.get('user')) ?? null }),
  );

  it('hands a session over with Request and Response objects only', async () => {
    const hubJar = cookiesOf(await login(new Request('https://portal.example.test/login')));
    const start = await client.signIn(new Request('https://partner-site.test/sso/login?return_to=/account'));
    assert.equal(start.status, 303);
    assert.equal(start.headers.get('cache-control'), 'no-store');
    assert.equal(start.headers.get('referrer-policy'), 'no-referrer');
    const stateCookie = start.headers.getSetCookie().find((line) => line.startsWith('unisession_sso='))!;
    assert.match(stateCookie, /Path=\/sso\/callback/);
    assert.match(stateCookie, /HttpOnly/);
    assert.match(stateCookie, /SameSite=Lax/);
    assert.match(stateCookie, /Secure/, 'an https request gets a Secure state cookie');
    const partnerJar = cookiesOf(start);
    const issued = await hub.authorize(
      new Request(start.headers.get('location')!, { headers: { cookie: cookieHeader(hubJar) } }),
    );
    assert.equal(issued.status, 303);
    assert.ok(issued.headers.get('location')!.startsWith(`${CALLBACK}?ticket=ST-`));
    const landed = await client.callback(
      new Request(issued.headers.get('location')!, { headers: { cookie: cookieHeader(partnerJar) } }),
    );
    assert.equal(landed.status, 303);
    assert.equal(landed.headers.get('location'), '/account');
    assert.equal(landed.headers.get('referrer-policy'), 'no-referrer');
    cookiesOf(landed, partnerJar);
    const me = await whoami(
      new Request('https://partner-site.test/', { headers: { cookie: cookieHeader(partnerJar) } }),
    );
    assert.deepEqual(await me.json(), { user: 'dana' });
  });

  it('spends a ticket whose stored value is not a grant, and refuses it', async () => {
    const ticket = `ST-${'x'.repeat(43)}`;
    const key = `sso:${createHash('sha256').update(ticket).digest('base64url')}`;
    await store.tickets!.put(key, 'not json {', 60_000, Date.now());
    const start = await client.signIn(new Request('https://partner-site.test/sso/login'));
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const jar = cookiesOf(start);
    const refused = await client.callback(
      new Request(`${CALLBACK}?ticket=${ticket}&state=${state}`, { headers: { cookie: cookieHeader(jar) } }),
    );
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('x-sso-refused'), 'ticket_invalid');
    assert.equal(await store.tickets!.take(key, Date.now()), null, 'taken all the same');
  });

  it('a store that fails reaches the error handling, never a crash', async () => {
    const failing = memoryStore({ group: 'websso' });
    const manager = createSessionManager({ app: 'portal', store: failing, secret: SECRET, sweeper: false });
    const deadHub = ssoHub({
      manager,
      clients: [{ id: 'partner', redirectUris: [CALLBACK] }],
      loginUrl: '/login',
    });
    await manager.close();
    const query = new URLSearchParams({ client_id: 'partner', redirect_uri: CALLBACK, state: 's' });
    await assert.rejects(
      deadHub.authorize(
        new Request(`https://portal.example.test/sso/authorize?${query}`, {
          headers: { cookie: `unisession=${new IdSigner(SECRET).sign('A'.repeat(32))}` },
        }),
      ),
      { code: 'UNISESSION_STORE_UNAVAILABLE' },
    );
  });

  it('mounts on Hono through the Fetch request', async () => {
    const app = new Hono();
    app.get('/sso/authorize', (c) => hub.authorize(c.req.raw));
    const query = new URLSearchParams({ client_id: 'partner', redirect_uri: CALLBACK, state: 'st' });
    const response = await app.request(`https://portal.example.test/sso/authorize?${query}`);
    assert.equal(response.status, 303);
    assert.equal(
      response.headers.get('location'),
      `/login?next=${encodeURIComponent(`/sso/authorize?${query}`)}`,
    );
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });

  it('refuses bad options at start-up', () => {
    const invalid = (message: RegExp) => ({ code: 'UNISESSION_INVALID_OPTION', message });
    const base = {
      manager: portal,
      clients: [{ id: 'partner', redirectUris: [CALLBACK] }],
      loginUrl: '/login',
    };
    assert.throws(() => ssoHub({ ...base, loginUrl: 'https://evil.test/' }), invalid(/"loginUrl"/));
    assert.throws(() => ssoHub({ ...base, loginUrl: '//evil.test/' }), invalid(/"loginUrl"/));
    assert.throws(() => ssoHub({ ...base, ticketTtl: 0 }), invalid(/"ticketTtl"/));
    assert.throws(() => ssoHub({ ...base, clients: [] }), invalid(/"clients"/));
    for (const uri of [
      'https://Partner-site.test/cb',
      'https://partner-site.test',
      'https://a.test/cb#x',
      'javascript:alert(1)',
      'https://u:p@a.test/cb',
      '/relative',
    ]) {
      assert.throws(
        () => ssoHub({ ...base, clients: [{ id: 'p', redirectUris: [uri] }] }),
        invalid(/redirectUris\[0\]" must be an absolute http\(s\) URL in canonical form/),
        uri,
      );
    }
    assert.throws(
      () =>
        ssoHub({
          ...base,
          clients: [
            { id: 'p', redirectUris: [CALLBACK] },
            { id: 'p', redirectUris: [CALLBACK] },
          ],
        }),
      invalid(/clients\[1\]\.id/),
    );
    assert.throws(
      () => ssoHub({ ...base, clients: [{ id: 'p', redirectUris: [CALLBACK], extra: 1 } as never] }),
      invalid(/unknown option "extra"/),
    );
    const unsigned = createSessionManager({
      app: 'x',
      store: memoryStore({ group: 'websso' }),
      sweeper: false,
    });
    assert.throws(
      () => ssoClient({ manager: unsigned, clientId: 'partner', hubUrl: HUB, redirectUri: CALLBACK }),
      invalid(/"secret" must be a secret to sign the state cookie/),
    );
    assert.throws(
      () => ssoClient({ manager: partner, clientId: 'a b', hubUrl: HUB, redirectUri: CALLBACK }),
      invalid(/"clientId"/),
    );
    assert.throws(
      () => ssoClient({ manager: partner, clientId: 'partner', hubUrl: 'portal', redirectUri: CALLBACK }),
      invalid(/"hubUrl"/),
    );
    void unsigned.close();
  });

  it('needs a store with a tickets group', () => {
    const { tickets: _tickets, ...withoutTickets } = memoryStore({ group: 'websso' });
    const manager = createSessionManager({
      app: 'x',
      store: withoutTickets as Store,
      secret: SECRET,
      sweeper: false,
    });
    assert.throws(
      () => ssoHub({ manager, clients: [{ id: 'p', redirectUris: [CALLBACK] }], loginUrl: '/login' }),
      { code: 'UNISESSION_UNSUPPORTED', message: /the memory store has no tickets group/ },
    );
    void manager.close();
  });

  it('localPath keeps only paths of this app', () => {
    for (const good of ['/', '/a?b=c', '/portal/sso/authorize?x=%2F']) assert.equal(localPath(good), good);
    for (const bad of [
      '//evil.test',
      '/\\evil.test',
      'https://evil.test',
      'evil',
      '/a\nb',
      '',
      undefined,
      5,
    ]) {
      assert.equal(localPath(bad, '/home'), '/home', String(bad));
    }
  });
});
