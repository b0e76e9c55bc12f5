/**
 * The acceptance test of the monitoring centre, in headless Chromium, on SQLite and on Redis:
 * two apps (portal, shop) of one group served by two nodes (two servers, each with its own
 * store client), three users in their own browser contexts, and the monitor beside node 1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { nodeSessions } from '../../src/adapters/node.js';
import { SessionManager } from '../../src/core/manager.js';
import type { Store } from '../../src/core/store.js';
import { createMonitor, type Monitor, toNodeHandler } from '../../src/monitor/index.js';
import { redisStore } from '../../src/stores/redis.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { type Running, serve } from '../helpers/server.js';
import { installed, server } from '../helpers/servers.js';
import { Cart, codec, credentials, SECRETS } from '../monitor/fixture.js';
import { uniqueGroup } from '../stores/conformance.js';

const CHROMIUM = await installed('chromium');
const REDIS_URL = await server('redis');

interface Node {
  portal: SessionManager;
  shop: SessionManager;
  running: Running;
}

/** One app node: both apps on one server, over its own client of the shared store. */
async function startNode(store: Store): Promise<Node> {
  const common = {
    store,
    codec,
    shared: ['user', 'since'],
    sweeper: false as const,
    secret: 'e2e-monitor',
    trustProxy: true,
  };
  const portal = new SessionManager({ app: 'portal', ...common });
  const shop = new SessionManager({ app: 'shop', ...common });
  const apps = { portal: nodeSessions(portal), shop: nodeSessions(shop) };
  const httpServer = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://node');
      const [, app, action] = url.pathname.split('/');
      const adapter = app === 'portal' ? apps.portal : app === 'shop' ? apps.shop : undefined;
      if (!adapter) return void res.writeHead(404).end();
      const session = adapter.attach(req, res);
      if (action === 'login') {
        const user = url.searchParams.get('user') ?? 'nobody';
        await session.regenerate();
        await session.set('user', user);
        await session.set('since', new Date('2026-03-04T05:06:07.000Z'));
        await session.set('theme', `${user}-theme`);
        await session.setPrincipal(user);
      } else if (action === 'cart') {
        await session.set(
          'cart',
          new Map<string, unknown>([
            ['sku-1', 2],
            ['gift', new Cart(['bow'])],
          ]),
        );
      } else if (action === 'visit') {
        await session.set('visits', ((await session.get<number>('visits')) ?? 0) + 1);
      }
      res.setHeader('content-type', 'text/plain');
      res.end(`user: ${(await session.get<string>('user')) ?? 'anonymous'}`);
    } catch {
      if (!res.headersSent) res.writeHead(500).end('error');
    }
  });
  return { portal, shop, running: await serve(httpServer) };
}

const STORES: Array<{ name: string; open: (group: string, dir: string) => Store }> = [
  { name: 'SQLite', open: (group, dir) => sqliteStore({ file: join(dir, 'sessions.sqlite'), group }) },
  { name: 'Redis', open: (group) => redisStore({ url: REDIS_URL, group }) },
];

for (const kind of STORES) {
  describe(`the monitor in a browser, on ${kind.name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'unisession-e2e-monitor-'));
    const group = uniqueGroup('e2emon');
    let node1: Node;
    let node2: Node;
    let monitor: Monitor;
    let monitorServer: Running;
    let browser: Browser;
    const users: Record<'alice' | 'bob' | 'carol', BrowserContext> = {} as never;
    let admin: BrowserContext;
    let page: Page;
    const ids: Record<string, string> = {};

    /** The session id in a user's cookie jar (the signature cut off). */
    async function idOf(context: BrowserContext): Promise<string> {
      const cookie = (await context.cookies()).find((c) => c.name === 'unisession');
      assert.ok(cookie, 'the user has a session cookie');
      return decodeURIComponent(cookie.value).split('.')[0] as string;
    }

    async function signIn(name: string, secret: string): Promise<void> {
      await page.goto(`${monitorServer.url}/monitor/`);
      assert.match(page.url(), /\/monitor\/login$/);
      await page.fill('input[name="name"]', '');
      await page.fill('input[name="secret"]', `${name}:${secret}`);
      await page.click('button[type="submit"]');
      await page.waitForURL(`${monitorServer.url}/monitor/`);
    }

    async function signOut(): Promise<void> {
      await page.click('header form button');
      await page.waitForURL(/\/monitor\/login$/);
    }

    before(async () => {
      node1 = await startNode(kind.open(group, dir));
      node2 = await startNode(kind.open(group, dir));
      monitor = createMonitor({
        managers: [node1.portal, node1.shop],
        basePath: '/monitor',
        credentials: await credentials(),
        displayAttributes: ['user'],
      });
      monitorServer = await serve(createServer(toNodeHandler(monitor)));
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      const forwarded = { alice: '10.1.2.3', bob: '192.168.7.9', carol: '10.1.9.9' } as const;
      for (const name of ['alice', 'bob', 'carol'] as const) {
        users[name] = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-for': forwarded[name] } });
      }
      const visit = async (name: keyof typeof users, path: string) => {
        const tab = await users[name].newPage();
        const response = await tab.goto(`${node1.running.url}${path}`);
        const text = (await response?.text()) ?? '';
        await tab.close();
        return text;
      };
      assert.equal(await visit('alice', '/portal/login?user=alice'), 'user: alice');
      assert.equal(await visit('bob', '/shop/login?user=bob'), 'user: bob');
      await visit('bob', '/shop/cart');
      // A private portal attribute on a session the shop created: a shop credential must not see it.
      await visit('bob', '/portal/visit');
      await visit('carol', '/shop/visit');
      for (const name of ['alice', 'bob', 'carol'] as const) ids[name] = await idOf(users[name]);
      admin = await browser.newContext();
      page = await admin.newPage();
      page.on('dialog', (dialog) => void dialog.accept());
    });

    after(async () => {
      await browser?.close();
      await monitorServer?.close();
      await monitor?.close();
      await node1?.running.close();
      await node2?.running.close();
      await node1?.portal.close();
      await node2?.portal.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('logs in with a token, and the overview numbers equal what the store holds', async () => {
      await signIn('ops', SECRETS.ops);
      const stat = async (name: string) => Number(await page.textContent(`#overview [data-stat="${name}"]`));
      assert.equal(await stat('live'), await node1.portal.count({}));
      assert.equal(await stat('live'), 3);
      assert.equal(await stat('authenticated'), await node1.portal.count({ authenticated: true }));
      assert.equal(await stat('usersOnline'), 2);
      const liveOf = async (app: string) =>
        Number(await page.textContent(`tr[data-app="${app}"] td:nth-child(2)`));
      assert.equal(await liveOf('portal'), await node1.portal.count({ app: 'portal' }));
      assert.equal(await liveOf('shop'), 2);
    });

    it('search by principal and by address finds exactly the right sessions', async () => {
      await page.goto(`${monitorServer.url}/monitor/sessions`);
      await page.fill('input[name="principal"]', 'alice');
      await page.click('form.filters button[type="submit"]');
      await page.waitForURL(/principal=alice/);
      const rowIds = async () =>
        (await page.$$eval('#results a.mono', (links) => links.map((a) => a.getAttribute('href') ?? ''))).map(
          (href) => decodeURIComponent(href.split('/').pop() ?? ''),
        );
      assert.deepEqual(await rowIds(), [ids.alice]);
      await page.goto(`${monitorServer.url}/monitor/sessions`);
      await page.fill('input[name="clientAddress"]', '10.1.0.0/16');
      await page.click('form.filters button[type="submit"]');
      await page.waitForURL(/clientAddress=/);
      assert.deepEqual((await rowIds()).sort(), [ids.alice, ids.carol].sort());
      await page.goto(`${monitorServer.url}/monitor/sessions?clientAddress=192.168.7.9`);
      assert.deepEqual(await rowIds(), [ids.bob]);
    });

    it('the detail shows decoded attributes: a Date, a Map, a plugin class by alias', async () => {
      await page.goto(`${monitorServer.url}/monitor/sessions/${ids.alice}`);
      const since = await page.textContent('tr[data-attribute=":since"]');
      assert.match(since ?? '', /Date\s*2026-03-04T05:06:07\.000Z/);
      assert.match((await page.textContent('tr[data-attribute="portal:theme"]')) ?? '', /alice-theme/);
      await page.goto(`${monitorServer.url}/monitor/sessions/${ids.bob}`);
      const cart = (await page.textContent('tr[data-attribute="shop:cart"]')) ?? '';
      assert.match(cart, /Map\(2\)/);
      assert.match(cart, /sku-1/);
      assert.match(cart, /@cart/);
      assert.match((await page.textContent('#metadata')) ?? '', /192\.168\.7\.9/);
      assert.match((await page.textContent('tr[data-attribute="portal:visits"]')) ?? '', /1/);
      await signOut();
    });

    it('an app-scoped viewer sees no private attribute of the other app, and "not found" for its session', async () => {
      await signIn('shop-view', SECRETS.shopView);
      const foreign = await page.goto(`${monitorServer.url}/monitor/sessions/${ids.alice}`);
      assert.equal(foreign?.status(), 404);
      assert.match((await page.textContent('main')) ?? '', /No such session/);
      await page.goto(`${monitorServer.url}/monitor/sessions`);
      const listed = await page.$$eval('#results a.mono', (links) => links.length);
      assert.equal(listed, 2);
      await page.goto(`${monitorServer.url}/monitor/sessions/${ids.bob}`);
      assert.match((await page.textContent('tr[data-attribute="shop:cart"]')) ?? '', /Map\(2\)/);
      assert.equal(await page.$('tr[data-attribute="portal:visits"]'), null);
      assert.ok(!(await page.content()).includes('Private to portal'));
      await signOut();
    });

    it('a viewer cannot delete', async () => {
      await signIn('viewer', SECRETS.viewer);
      await page.goto(`${monitorServer.url}/monitor/sessions/${ids.bob}`);
      assert.equal(await page.$('text=Delete this session'), null);
      const status = await page.evaluate(async (id) => {
        const csrf = (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value;
        const response = await fetch(`/monitor/sessions/${id}/delete`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `_csrf=${encodeURIComponent(csrf)}`,
        });
        return response.status;
      }, ids.bob);
      assert.equal(status, 403);
      await signOut();
    });

    it("an operator's delete logs the user out on the next request, through the other node, and the audit log shows it", async () => {
      const bobTab = await users.bob.newPage();
      const before = await bobTab.goto(`${node2.running.url}/portal/me`);
      assert.equal(await before?.text(), 'user: bob');
      await signIn('ops', SECRETS.ops);
      await page.goto(`${monitorServer.url}/monitor/sessions/${ids.bob}`);
      await page.click('text=Delete this session');
      await page.waitForURL(/\/monitor\/sessions$/);
      assert.match((await page.textContent('main')) ?? '', /Deleted session/);
      const afterDelete = await bobTab.goto(`${node2.running.url}/shop/me`);
      assert.equal(await afterDelete?.text(), 'user: anonymous');
      await page.goto(`${monitorServer.url}/monitor/audit`);
      const first = (await page.textContent('#audit tr:nth-child(2)')) ?? '';
      assert.match(first, /ops/);
      assert.match(first, /delete/);
      assert.ok(first.includes(ids.bob as string));
    });
  });
}
