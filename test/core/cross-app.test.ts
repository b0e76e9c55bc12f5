/**
 * Two apps of one group share a store: shared attributes are seen by both, private ones only
 * by their own app, and logging out in one logs out of both. No HTTP: one browser's cookie
 * jar visits both managers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Session } from '../../src/core/session.js';
import { createSessionManager } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { DirectClient, routes } from '../helpers/direct-client.js';

function startApp(app: string, file: string) {
  return createSessionManager({ app, store: sqliteStore({ file }), shared: ['user'], sweeper: false });
}

/** What each app answers: its attributes after the change. */
const set = (name: string, value: string) => async (session: Session) => {
  await session.set(name, value);
  return session.all();
};

describe('cross-app: two apps, one session', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'unisession-apps-')), 'sessions.sqlite');
  const portal = startApp('portal', file);
  const shop = startApp('shop', file);
  after(async () => {
    await portal.close();
    await shop.close();
  });

  it('shares listed attributes, keeps the others private, and logs out of both at once', async () => {
    // One browser: the cookie is host-wide (Path=/), so both apps on this host receive it.
    const browser = new DirectClient(portal);
    await browser.call(set('user', 'alice'));
    await browser.call(set('theme', 'dark'));
    await browser.on(shop).call(set('cart', '3 items'));
    await browser.on(shop).call(set('theme', 'light'));
    assert.deepEqual(await browser.call(routes.all), { user: 'alice', theme: 'dark' });
    assert.deepEqual(await browser.on(shop).call(routes.all), {
      user: 'alice',
      cart: '3 items',
      theme: 'light',
    });
    const stored = await shop.store.load(browser.sessionId!, 'all', Date.now());
    assert.deepEqual([...stored!.attributes.keys()].sort(), [
      ':user',
      'portal:theme',
      'shop:cart',
      'shop:theme',
    ]);

    await browser.on(shop).call(routes.logout);
    const again = new DirectClient(portal);
    again.cookie = `unisession=${stored!.meta.id}`;
    assert.deepEqual(await again.call(routes.all), {}, 'single sign-out: the portal sees no session');
  });
});
