/**
 * Two apps of one group share a store: shared attributes are seen by both, private ones only
 * by their own app, and logging out in one logs out of both.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeSessions } from '../../src/adapters/node.js';
import { createSessionManager } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { Client } from '../helpers/client.js';
import { close, listen } from '../helpers/server.js';

function startApp(app: string, file: string) {
  const sessions = nodeSessions(
    createSessionManager({ app, store: sqliteStore({ file }), shared: ['user'], sweeper: false }),
  );
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const session = sessions.attach(req, res);
    if (url.pathname === '/set')
      await session.set(url.searchParams.get('name')!, url.searchParams.get('value'));
    if (url.pathname === '/logout') await session.invalidate();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(url.pathname === '/logout' ? {} : await session.all()));
  });
  return { server, manager: sessions.manager };
}

describe('cross-app: two apps, one session', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'unisession-apps-')), 'sessions.sqlite');
  const portal = startApp('portal', file);
  const shop = startApp('shop', file);
  const base: Record<string, string> = {};
  before(async () => {
    base.portal = await listen(portal.server);
    base.shop = await listen(shop.server);
  });
  after(async () => {
    await close(portal.server);
    await close(shop.server);
  });

  it('shares listed attributes, keeps the others private, and logs out of both at once', async () => {
    // One browser: the cookie is host-wide (Path=/), so both apps on this host receive it.
    const browser = new Client('');
    await browser.json(`${base.portal}/set?name=user&value=alice`);
    await browser.json(`${base.portal}/set?name=theme&value=dark`);
    await browser.json(`${base.shop}/set?name=cart&value=3 items`);
    await browser.json(`${base.shop}/set?name=theme&value=light`);
    assert.deepEqual(await browser.json(`${base.portal}/all`), { user: 'alice', theme: 'dark' });
    assert.deepEqual(await browser.json(`${base.shop}/all`), {
      user: 'alice',
      cart: '3 items',
      theme: 'light',
    });
    const stored = await shop.manager.store.load(browser.sessionId!, 'all', Date.now());
    assert.deepEqual([...stored!.attributes.keys()].sort(), [
      ':user',
      'portal:theme',
      'shop:cart',
      'shop:theme',
    ]);

    await browser.json(`${base.shop}/logout`);
    const again = new Client('');
    again.cookie = `unisession=${stored!.meta.id}`;
    assert.deepEqual(
      await again.json(`${base.portal}/all`),
      {},
      'single sign-out: the portal sees no session',
    );
  });
});
