/**
 * The web UI's pages over real HTTP, without a browser: what each role sees, that hostile
 * names and values stay text, paging, the dry-run confirmation, and a store that cannot list.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SessionManager } from '../../src/core/manager.js';
import { csvCell } from '../../src/monitor/export.js';
import { createMonitor, type Monitor, toNodeHandler } from '../../src/monitor/index.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { Client } from '../helpers/client.js';
import { DirectClient } from '../helpers/direct-client.js';
import { type Running, serve } from '../helpers/server.js';
import { server } from '../helpers/servers.js';
import { uniqueGroup } from '../stores/conformance.js';
import { type Apps, bearer, codec, credentials, SECRETS, signIn, twoApps } from './fixture.js';

const memcachedNodes = await server('memcached');
const FORM = 'application/x-www-form-urlencoded';
const HOSTILE_NAME = '<script>alert("name")</script>';
const HOSTILE_VALUE = '<img src=x onerror=alert(1)>"\'&';

describe('monitor UI', () => {
  let apps: Apps;
  let monitor: Monitor;
  let running: Running;
  let hostileId: string;

  before(async () => {
    apps = await twoApps();
    const hostile = new DirectClient(apps.shop);
    await hostile.request(
      async (session) => {
        await session.set(HOSTILE_NAME, HOSTILE_VALUE);
        await session.set('nested', { [HOSTILE_NAME]: [HOSTILE_VALUE], password: 'hunter2' });
        await session.setPrincipal('"><script>alert(2)</script>');
      },
      { headers: { 'user-agent': '<svg onload=alert(3)>' } },
    );
    hostileId = (
      await hostile.request(async (session) => {
        await session.metadata();
        return session.id;
      })
    ).result as string;
    monitor = createMonitor({
      managers: [apps.portal, apps.shop],
      basePath: '/ops/sessions',
      credentials: await credentials(),
      displayAttributes: ['user'],
    });
    running = await serve(createServer(toNodeHandler(monitor)));
  });
  after(async () => {
    await running.close();
    await monitor.close();
    await apps.portal.close();
  });

  const client = () => new Client(`${running.url}/ops/sessions`);

  it('redirects to the login form, and serves its assets', async () => {
    const home = await client().request('/');
    assert.equal(home.status, 303);
    assert.equal(home.headers.get('location'), '/ops/sessions/login');
    const css = await client().request('/assets/monitor.css');
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    const js = await client().request('/assets/monitor.js');
    assert.match(await js.text(), /data-refresh/);
  });

  it('the overview shows the numbers of the store, per app, and refreshes itself', async () => {
    const browser = client();
    await signIn(browser, running.url, 'ops', SECRETS.ops);
    const page = await (await browser.request('/')).text();
    assert.match(page, /data-stat="live">4</);
    assert.match(page, /data-stat="authenticated">3</);
    assert.match(page, /data-refresh="5000"/);
    assert.match(page, /data-app="shop"><td><a [^>]+>shop<\/a><\/td><td class="num">3</);
    assert.match(page, /<noscript>/);
  });

  it('hostile names and values are shown as text, never as markup', async () => {
    const browser = client();
    await signIn(browser, running.url, 'ops', SECRETS.ops);
    const detail = await (await browser.request(`/sessions/${hostileId}`)).text();
    assert.ok(!detail.includes('<script>alert'), 'no script tag from the data');
    assert.ok(!detail.includes('<img src=x'), 'no img tag from the data');
    assert.ok(!detail.includes('<svg onload'), 'no svg tag from the user agent');
    assert.ok(detail.includes('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;'));
    assert.ok(detail.includes('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;'));
    assert.ok(!detail.includes('hunter2'), 'a nested password is masked');
    const list = await (
      await browser.request(`/sessions?principal=${encodeURIComponent('"><script>alert(2)</script>')}`)
    ).text();
    assert.ok(!list.includes('<script>alert(2)'));
    assert.match(list, /<strong data-stat="total">1<\/strong>/);
  });

  it('search pages with a cursor and keeps the filters', async () => {
    const browser = client();
    await signIn(browser, running.url, 'viewer', SECRETS.viewer);
    const first = await (await browser.request('/sessions?limit=25&app=shop')).text();
    assert.match(first, /<strong data-stat="total">3<\/strong>/);
    assert.match(first, /last page/);
    const paged = await (
      await browser.request('/sessions?limit=25&app=shop&sort=createdAt&order=asc')
    ).text();
    assert.ok(paged.includes(apps.ids.bob.slice(0, 12)));
    const bad = await browser.request('/sessions?limit=9999');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /limit must be/);
  });

  it('a viewer sees no action buttons and is refused an action', async () => {
    const browser = client();
    const csrf = await signIn(browser, running.url, 'viewer', SECRETS.viewer);
    const detail = await (await browser.request(`/sessions/${apps.ids.bob}`)).text();
    assert.ok(!detail.includes('Delete this session'));
    assert.match(detail, /Viewer: read only/);
    const response = await browser.request(`/sessions/${apps.ids.bob}/delete`, {
      method: 'POST',
      headers: { origin: running.url, 'content-type': FORM },
      body: `_csrf=${encodeURIComponent(csrf)}`,
    });
    assert.equal(response.status, 403);
  });

  it('an app-scoped viewer gets "not found" for another app\'s session and sees no foreign private attribute', async () => {
    const browser = client();
    await signIn(browser, running.url, 'shop-view', SECRETS.shopView);
    const foreign = await browser.request(`/sessions/${apps.ids.alice}`);
    assert.equal(foreign.status, 404);
    assert.match(await foreign.text(), /No such session/);
    const own = await (await browser.request(`/sessions/${apps.ids.bob}`)).text();
    assert.match(own, /Private to shop/);
    assert.ok(!own.includes('Private to portal'));
  });

  it('delete by query shows the dry-run count, then deletes on confirmation', async () => {
    const browser = client();
    const csrf = await signIn(browser, running.url, 'ops', SECRETS.ops);
    const dry = await browser.request('/sessions/delete-where', {
      method: 'POST',
      headers: { origin: running.url, 'content-type': FORM },
      body: new URLSearchParams({ _csrf: csrf, clientAddress: '10.1.9.9' }).toString(),
    });
    const page = await dry.text();
    assert.match(page, /data-stat="matching">1</);
    const confirmed = await browser.request('/sessions/delete-where', {
      method: 'POST',
      headers: { origin: running.url, 'content-type': FORM },
      body: new URLSearchParams({ _csrf: csrf, clientAddress: '10.1.9.9', confirm: 'yes' }).toString(),
    });
    assert.equal(confirmed.status, 303);
    const after = await (await browser.request('/sessions')).text();
    assert.match(after, /Deleted 1 session\(s\) matching the query/);
    const audit = await (await browser.request('/audit')).text();
    assert.match(audit, /<td>delete-where<\/td><td class="mono">clientAddress=10.1.9.9/);
  });

  it('an operator removes one attribute and signs a user out everywhere from the detail page', async () => {
    const browser = client();
    const csrf = await signIn(browser, running.url, 'ops', SECRETS.ops);
    const post = (path: string, fields: Record<string, string>) =>
      browser.request(path, {
        method: 'POST',
        headers: { origin: running.url, 'content-type': FORM },
        body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
      });
    const detail = await (await browser.request(`/sessions/${apps.ids.alice}`)).text();
    assert.match(detail, /data-attribute="portal:theme"/);
    const removed = await post(`/sessions/${apps.ids.alice}/remove-attribute`, {
      namespace: 'portal',
      name: 'theme',
    });
    assert.equal(removed.status, 303);
    const after = await (await browser.request(`/sessions/${apps.ids.alice}`)).text();
    assert.match(after, /Attribute removed/);
    assert.doesNotMatch(after, /data-attribute="portal:theme"/);
    assert.equal((await apps.alice.request((session) => session.get('theme'))).result, undefined);
    const revoked = await post('/principals/revoke', { principal: 'alice' });
    assert.equal(revoked.status, 303);
    assert.match(revoked.headers.get('location') ?? '', /sessions\?principal=alice$/);
    assert.match(
      await (await browser.request('/sessions?principal=alice')).text(),
      /Signed alice out of 1 session/,
    );
    assert.equal((await apps.alice.request((session) => session.get('user'))).result, undefined);
  });

  it('exports the search as CSV from the UI session', async () => {
    const browser = client();
    await signIn(browser, running.url, 'ops', SECRETS.ops);
    const csv = await browser.request('/sessions/export.csv?principal=bob');
    assert.equal(csv.status, 200);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.equal(lines.length, 2);
    // An id may start with '-', which the export guards against spreadsheet formulas with a leading quote.
    assert.ok(lines[1]?.startsWith(`${csvCell(apps.ids.bob)},`));
  });
});

describe('monitor over a store that cannot list (memcached)', () => {
  it('offers lookup and delete by id, and says why the rest is missing', async () => {
    const store = memcachedStore({ nodes: memcachedNodes, group: uniqueGroup('monmc') });
    const shop = new SessionManager({
      app: 'shop',
      store,
      codec,
      sweeper: false,
      secret: 'memcached-monitor-test',
    });
    const visitor = new DirectClient(shop);
    const id = (
      await visitor.request(async (session) => {
        await session.set('user', 'carol');
        return session.id;
      })
    ).result as string;
    const monitor = createMonitor({ managers: shop, credentials: await credentials() });
    const running = await serve(createServer(toNodeHandler(monitor)));
    try {
      const caps = await (
        await fetch(`${running.url}/api/capabilities`, { headers: { authorization: bearer('ops') } })
      ).json();
      assert.equal(caps.listing, false);
      assert.match(caps.reason, /cannot list/);
      const stats = await fetch(`${running.url}/api/stats`, { headers: { authorization: bearer('ops') } });
      assert.equal(stats.status, 501);
      assert.match((await stats.json()).error.message, /look a session up, or delete it, by its id/);
      const detail = await fetch(`${running.url}/api/sessions/${id}`, {
        headers: { authorization: bearer('ops') },
      });
      assert.equal(detail.status, 200);
      const browser = new Client(running.url);
      await signIn(browser, running.url, 'ops', SECRETS.ops);
      const overview = await (await browser.request('/')).text();
      assert.match(overview, /cannot list its sessions/);
      assert.match(overview, /action="\/lookup"/);
      const found = await browser.request(`/lookup?id=${id}`);
      assert.equal(found.headers.get('location'), `/sessions/${id}`);
      const deleted = await fetch(`${running.url}/api/sessions/${id}`, {
        method: 'DELETE',
        headers: { authorization: bearer('ops') },
      });
      assert.equal(deleted.status, 200);
      assert.equal((await visitor.request((session) => session.get('user'))).result, undefined);
    } finally {
      await running.close();
      await monitor.close();
      await shop.close();
    }
  });
});
