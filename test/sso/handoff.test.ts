/**
 * The SSO ticket hand-off over real HTTP (src/sso): a hub app and a client app on two servers
 * (two origins, so two cookie jars, as two root domains are to a browser), sharing one store.
 * Every refused case of issue 11 §3, on SQLite and on Redis: replayed, expired, redeemed by
 * another client, mismatched state, unregistered or look-alike redirect URIs, a ticket passed
 * to the wrong callback; and every SSO response carries no-store and no-referrer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeSessions } from '../../src/adapters/node.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager, type SessionManager } from '../../src/index.js';
import { ssoClient, ssoHub } from '../../src/sso/index.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { server } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';

const redisUrl = await server('redis');
const SECRET = 'sso-test-secret-0123456789abcdef';

/** A browser's cookies for one origin. */
class Jar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attributes.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a));
      if (gone || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

async function get(url: string, jar: Jar, cookie?: string): Promise<Response> {
  const response = await fetch(url, { redirect: 'manual', headers: { cookie: cookie ?? jar.header() } });
  jar.take(response);
  return response;
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  return new Promise((resolve) => {
    const http = createServer(handler);
    http.listen(0, '127.0.0.1', () => resolve(http));
  });
}
const origin = (http: Server) => `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

function assertSsoHeaders(response: Response, label: string): void {
  assert.equal(response.headers.get('cache-control'), 'no-store', label);
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer', label);
}

function runHandoffSuite(kind: string, makeStore: (group: string) => Store): void {
  describe(`sso hand-off over HTTP on ${kind}`, () => {
    const group = uniqueGroup('sso');
    let hubManager: SessionManager;
    let clientManager: SessionManager;
    let hubServer: Server;
    let clientServer: Server;
    let hubOrigin = '';
    let clientOrigin = '';

    before(async () => {
      // Two servers on port 0: the client's callback URLs must be known before the hub is made,
      // so the client server listens first and the handlers are installed afterwards.
      let hubHandler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
      let clientHandler: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
      hubServer = await listen((req, res) => hubHandler(req, res));
      clientServer = await listen((req, res) => clientHandler(req, res));
      hubOrigin = origin(hubServer);
      clientOrigin = origin(clientServer);
      const common = { group, secret: SECRET, sweeper: false as const, shared: ['user'] };
      hubManager = createSessionManager({ ...common, app: 'portal', store: makeStore(group) });
      clientManager = createSessionManager({ ...common, app: 'partner', store: makeStore(group) });

      const callback = `${clientOrigin}/sso/callback`;
      const callback2 = `${clientOrigin}/sso/callback2`;
      const otherCallback = `${clientOrigin}/sso/other-callback`;
      const clients = [
        { id: 'partner', redirectUris: [callback, callback2] },
        { id: 'other', redirectUris: [otherCallback] },
      ];
      const hub = ssoHub({ manager: hubManager, clients, loginUrl: '/login' });
      const shortHub = ssoHub({ manager: hubManager, clients, loginUrl: '/login', ticketTtl: 1 });
      const hubUrl = `${hubOrigin}/sso/authorize`;
      const partner = ssoClient({
        manager: clientManager,
        clientId: 'partner',
        hubUrl,
        redirectUri: callback,
      });
      const partner2 = ssoClient({
        manager: clientManager,
        clientId: 'partner',
        hubUrl,
        redirectUri: callback2,
      });
      const other = ssoClient({
        manager: clientManager,
        clientId: 'other',
        hubUrl,
        redirectUri: otherCallback,
      });

      const hubSessions = nodeSessions(hubManager);
      hubHandler = (req, res) => {
        const url = new URL(req.url ?? '/', hubOrigin);
        if (url.pathname === '/sso/authorize') return hub.authorize.node(req, res);
        if (url.pathname === '/sso/authorize-short') return shortHub.authorize.node(req, res);
        const session = hubSessions.attach(req, res);
        const done = (work: Promise<void>) =>
          work.catch(() => {
            res.statusCode = 500;
            res.end();
          });
        if (url.pathname === '/login') {
          return done(
            (async () => {
              await session.regenerate();
              await session.set('user', url.searchParams.get('user'));
              await session.setPrincipal(url.searchParams.get('user'));
              res.writeHead(303, { location: url.searchParams.get('next') ?? '/' }).end();
            })(),
          );
        }
        if (url.pathname === '/logout') {
          return done(session.invalidate().then(() => void res.end('bye')));
        }
        done((async () => void res.end(JSON.stringify({ user: (await session.get('user')) ?? null })))());
      };
      const clientSessions = nodeSessions(clientManager);
      const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
        '/sso/login': partner.signIn.node,
        '/sso/callback': partner.callback.node,
        '/sso/login2': partner2.signIn.node,
        '/sso/callback2': partner2.callback.node,
        '/sso/other-login': other.signIn.node,
        '/sso/other-callback': other.callback.node,
      };
      clientHandler = (req, res) => {
        const url = new URL(req.url ?? '/', clientOrigin);
        const route = routes[url.pathname];
        if (route) return route(req, res);
        const session = clientSessions.attach(req, res);
        (async () => {
          if (url.pathname === '/logout') await session.invalidate();
          res.end(JSON.stringify({ user: (await session.get('user')) ?? null, id: session.id }));
        })().catch(() => {
          res.statusCode = 500;
          res.end();
        });
      };
    });

    after(async () => {
      hubServer?.close();
      clientServer?.close();
      await hubManager?.close();
      await clientManager?.close();
    });

    /** A browser logged in at the hub as `user`. */
    async function loggedIn(user = 'alice') {
      const browser = { hub: new Jar(), client: new Jar() };
      const login = await get(`${hubOrigin}/login?user=${user}&next=/`, browser.hub);
      assert.equal(login.status, 303);
      return browser;
    }

    /** Steps 1 and 2 of the flow: the client's sign-in, then the hub's redirect to the callback. */
    async function ticketFor(
      browser: { hub: Jar; client: Jar },
      login = '/sso/login',
      authorize = '/sso/authorize',
    ) {
      const start = await get(`${clientOrigin}${login}?return_to=/me`, browser.client);
      assert.equal(start.status, 303);
      assertSsoHeaders(start, 'sign-in redirect');
      const toHub = new URL(start.headers.get('location')!);
      assert.equal(`${toHub.origin}${toHub.pathname}`, `${hubOrigin}/sso/authorize`);
      const issued = await get(`${hubOrigin}${authorize}${toHub.search}`, browser.hub);
      assert.equal(issued.status, 303, await issued.clone().text());
      assertSsoHeaders(issued, 'authorize redirect');
      const back = new URL(issued.headers.get('location')!);
      return { back, ticket: back.searchParams.get('ticket')!, state: back.searchParams.get('state')! };
    }

    it('hands a logged-in user to the client with no password, onto the same session', async () => {
      const browser = await loggedIn('alice');
      const { back, ticket } = await ticketFor(browser);
      assert.match(ticket, /^ST-[A-Za-z0-9_-]{43}$/, '256 random bits');
      assert.equal(`${back.origin}${back.pathname}`, `${clientOrigin}/sso/callback`);
      const landed = await get(back.href, browser.client);
      assert.equal(landed.status, 303);
      assertSsoHeaders(landed, 'callback redirect');
      assert.equal(landed.headers.get('location'), '/me');
      assert.equal(browser.client.cookies.has('unisession_sso'), false, 'the state cookie is cleared');
      const me = (await (await get(`${clientOrigin}/me`, browser.client)).json()) as {
        user: string;
        id: string;
      };
      assert.equal(me.user, 'alice');
      const hubId = browser.hub.cookies.get('unisession')!.split('.')[0];
      assert.equal(me.id, hubId, 'the client cookie names the hub session');
      const stored = await hubManager.store.load(hubId!, [], Date.now());
      assert.equal(stored?.meta.principal, 'alice');
    });

    it('sends a browser without a hub session to the login, then issues the ticket', async () => {
      const browser = { hub: new Jar(), client: new Jar() };
      const start = await get(`${clientOrigin}/sso/login?return_to=/me`, browser.client);
      const authorize = new URL(start.headers.get('location')!);
      const toLogin = await get(authorize.href, browser.hub);
      assert.equal(toLogin.status, 303);
      assertSsoHeaders(toLogin, 'to login');
      const loginUrl = new URL(toLogin.headers.get('location')!, hubOrigin);
      assert.equal(loginUrl.pathname, '/login');
      assert.equal(loginUrl.searchParams.get('next'), `/sso/authorize${authorize.search}`);
      const afterLogin = await get(
        `${hubOrigin}/login?user=bob&next=${encodeURIComponent(loginUrl.searchParams.get('next')!)}`,
        browser.hub,
      );
      const issued = await get(new URL(afterLogin.headers.get('location')!, hubOrigin).href, browser.hub);
      const landed = await get(issued.headers.get('location')!, browser.client);
      assert.equal(landed.status, 303);
      const me = (await (await get(`${clientOrigin}/me`, browser.client)).json()) as { user: string };
      assert.equal(me.user, 'bob');
    });

    it('refuses a replayed ticket', async () => {
      const browser = await loggedIn();
      const { back } = await ticketFor(browser);
      const stateCookie = browser.client.header();
      assert.equal((await get(back.href, browser.client)).status, 303);
      // The same callback URL again, with the state cookie the browser had (an attacker's replay).
      const replay = await get(back.href, new Jar(), stateCookie);
      assert.equal(replay.status, 400);
      assert.equal(replay.headers.get('x-sso-refused'), 'ticket_invalid');
      assertSsoHeaders(replay, 'replay');
      assert.equal(replay.headers.get('location'), null);
      assert.doesNotMatch(await replay.text(), /ST-/, 'the page never shows the ticket');
    });

    it('refuses an expired ticket', async () => {
      const browser = await loggedIn();
      const { back } = await ticketFor(browser, '/sso/login', '/sso/authorize-short');
      await new Promise((resolve) => setTimeout(resolve, 30));
      const late = await get(back.href, browser.client);
      assert.equal(late.status, 400);
      assert.equal(late.headers.get('x-sso-refused'), 'ticket_invalid');
      const me = (await (await get(`${clientOrigin}/me`, browser.client)).json()) as { user: string | null };
      assert.equal(me.user, null);
    });

    it('refuses a ticket redeemed by another client', async () => {
      const browser = await loggedIn();
      // The browser starts a sign-in at client "other"; a ticket issued to "partner" (with the
      // same state) is then presented at other's callback.
      const start = await get(`${clientOrigin}/sso/other-login`, browser.client);
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const query = new URLSearchParams({
        client_id: 'partner',
        redirect_uri: `${clientOrigin}/sso/callback`,
        state,
      });
      const issued = await get(`${hubOrigin}/sso/authorize?${query}`, browser.hub);
      const ticket = new URL(issued.headers.get('location')!).searchParams.get('ticket')!;
      const wrong = await get(
        `${clientOrigin}/sso/other-callback?ticket=${ticket}&state=${state}`,
        browser.client,
      );
      assert.equal(wrong.status, 400);
      assert.equal(wrong.headers.get('x-sso-refused'), 'ticket_wrong_client');
      // And it is spent: the rightful client cannot use it afterwards either.
      const start2 = await get(`${clientOrigin}/sso/login`, browser.client);
      const state2 = new URL(start2.headers.get('location')!).searchParams.get('state')!;
      const late = await get(`${clientOrigin}/sso/callback?ticket=${ticket}&state=${state2}`, browser.client);
      assert.equal(late.headers.get('x-sso-refused'), 'ticket_invalid');
    });

    it('refuses a mismatched state, and the ticket is spent all the same', async () => {
      const browser = await loggedIn();
      const { back, ticket, state } = await ticketFor(browser);
      const stateCookie = browser.client.header();
      const forged = new URL(back.href);
      forged.searchParams.set('state', `${state}x`);
      const refused = await get(forged.href, browser.client);
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get('x-sso-refused'), 'state_mismatch');
      assertSsoHeaders(refused, 'state mismatch');
      // No state cookie at all (another browser, a login CSRF) is a mismatch too.
      const { back: other } = await ticketFor(browser);
      const noCookie = await get(other.href, new Jar());
      assert.equal(noCookie.headers.get('x-sso-refused'), 'state_mismatch');
      // The first ticket with the right state now: already taken.
      const again = await get(
        `${clientOrigin}/sso/callback?ticket=${ticket}&state=${state}`,
        new Jar(),
        stateCookie,
      );
      assert.equal(again.headers.get('x-sso-refused'), 'ticket_invalid');
    });

    it('refuses unregistered and look-alike redirect URIs without redirecting (no open redirect)', async () => {
      const browser = await loggedIn();
      const port = new URL(clientOrigin).port;
      const registered = `${clientOrigin}/sso/callback`;
      const lookAlikes = [
        'https://evil.test/sso/callback',
        `${registered}/../../evil`,
        `${registered}evil`,
        `${registered}/`,
        `${registered}?x=1`,
        `${registered}#frag`,
        `http://127.0.0.1:${port}@evil.test/sso/callback`,
        `http://evil.test@127.0.0.1:${port}/sso/callback`,
        `HTTP://127.0.0.1:${port}/sso/callback`,
        `${clientOrigin}/SSO/callback`,
        `${clientOrigin}/sso/%63allback`,
        `${clientOrigin}/sso/callback%2f..%2fevil`,
        `${clientOrigin}/sso/callback%00`,
        ` ${registered}`,
        `//127.0.0.1:${port}/sso/callback`,
        `${clientOrigin}/sso/other-callback`, // registered, but for another client
        '',
      ];
      for (const uri of lookAlikes) {
        const query = new URLSearchParams({ client_id: 'partner', redirect_uri: uri, state: 'abc' });
        const response = await get(`${hubOrigin}/sso/authorize?${query}`, browser.hub);
        assert.equal(response.status, 400, uri);
        assert.equal(response.headers.get('location'), null, uri);
        assert.equal(response.headers.get('x-sso-refused'), 'redirect_uri_not_registered', uri);
        assertSsoHeaders(response, uri);
      }
      // Twice the parameter (the first registered, the second not) is refused too.
      const twice = await get(
        `${hubOrigin}/sso/authorize?client_id=partner&redirect_uri=${encodeURIComponent(registered)}&redirect_uri=https://evil.test&state=a`,
        browser.hub,
      );
      assert.equal(twice.headers.get('x-sso-refused'), 'redirect_uri_not_registered');
      const unknown = await get(
        `${hubOrigin}/sso/authorize?client_id=nobody&redirect_uri=${registered}&state=a`,
        browser.hub,
      );
      assert.equal(unknown.headers.get('x-sso-refused'), 'unknown_client');
      const noState = await get(
        `${hubOrigin}/sso/authorize?client_id=partner&redirect_uri=${encodeURIComponent(registered)}`,
        browser.hub,
      );
      assert.equal(noState.headers.get('x-sso-refused'), 'invalid_state');
    });

    it('refuses a ticket passed to the wrong callback', async () => {
      const browser = await loggedIn();
      // A ticket for /sso/callback, presented at /sso/callback2 (same client, with callback2's state).
      const start2 = await get(`${clientOrigin}/sso/login2`, browser.client);
      const state2 = new URL(start2.headers.get('location')!).searchParams.get('state')!;
      const query = new URLSearchParams({
        client_id: 'partner',
        redirect_uri: `${clientOrigin}/sso/callback`,
        state: state2,
      });
      const issued = await get(`${hubOrigin}/sso/authorize?${query}`, browser.hub);
      const ticket = new URL(issued.headers.get('location')!).searchParams.get('ticket')!;
      const wrong = await get(
        `${clientOrigin}/sso/callback2?ticket=${ticket}&state=${state2}`,
        browser.client,
      );
      assert.equal(wrong.status, 400);
      assert.equal(wrong.headers.get('x-sso-refused'), 'ticket_wrong_callback');
      const me = (await (await get(`${clientOrigin}/me`, browser.client)).json()) as { user: string | null };
      assert.equal(me.user, null, 'not logged in');
    });

    it('refuses malformed tickets without touching the session', async () => {
      const browser = await loggedIn();
      const start = await get(`${clientOrigin}/sso/login`, browser.client);
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      for (const ticket of ['', 'ST-short', `ST-${'A'.repeat(43)}`, '%00', 'x'.repeat(5000)]) {
        const response = await get(
          `${clientOrigin}/sso/callback?ticket=${encodeURIComponent(ticket)}&state=${state}`,
          browser.client,
          browser.client.header(),
        );
        assert.equal(response.status, 400, ticket);
        assert.match(response.headers.get('x-sso-refused') ?? '', /^(ticket_invalid|state_mismatch)$/);
      }
    });

    it('signs out everywhere: a logout at the client ends the hub session', async () => {
      const browser = await loggedIn('carol');
      const { back } = await ticketFor(browser);
      await get(back.href, browser.client);
      assert.equal(
        ((await (await get(`${hubOrigin}/`, browser.hub)).json()) as { user: string }).user,
        'carol',
      );
      await get(`${clientOrigin}/logout`, browser.client);
      const hubView = (await (await get(`${hubOrigin}/`, browser.hub)).json()) as { user: string | null };
      assert.equal(hubView.user, null, 'the hub is logged out too: it was the same session');
    });
  });
}

// Both apps open the same SQLite file, as two processes of one host would.
const sqliteFile = join(mkdtempSync(join(tmpdir(), 'unisession-sso-')), 's.sqlite');
runHandoffSuite('sqlite', (group) => sqliteStore({ file: sqliteFile, group }));
runHandoffSuite('redis', (group) => redisStore({ url: redisUrl, group }));
