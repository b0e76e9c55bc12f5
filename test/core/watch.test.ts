/**
 * Single sign-out, seen from every app: a logout or `revokePrincipal` anywhere ends the one
 * stored session for all apps, and `watchSessions` tells an app of an end made elsewhere by
 * polling the store by id (no keyspace notifications). Two apps on one SQLite file, no HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createSessionManager, watchSessions } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { DirectClient, routes } from '../helpers/direct-client.js';

const file = join(mkdtempSync(join(tmpdir(), 'unisession-watch-')), 'sessions.sqlite');
const app = (code: string) =>
  createSessionManager({ app: code, store: sqliteStore({ file }), shared: ['user'], sweeper: false });

const waitFor = async (condition: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('single sign-out and watchSessions', () => {
  const portal = app('portal');
  const shop = app('shop');
  const script = app('admin-script');
  after(async () => {
    await Promise.all([portal.close(), shop.close(), script.close()]);
  });

  it('reports a logout made in another app at the next poll, once', async () => {
    const browser = new DirectClient(portal);
    await browser.call(routes.login('alice'));
    const id = browser.sessionId!;
    assert.deepEqual(await browser.on(shop).call(routes.all), { user: 'alice' }, 'shop sees the login');
    const ended: string[] = [];
    const watcher = watchSessions(shop, { intervalMs: 100, onEnded: (gone) => ended.push(gone) });
    watcher.watch(id);
    assert.deepEqual(await watcher.check(), [], 'alive: nothing to report');
    await browser.call(routes.logout);
    await waitFor(() => ended.length > 0);
    assert.deepEqual(ended, [id]);
    assert.equal(watcher.size, 0, 'an ended id is no longer watched');
    assert.deepEqual(await browser.on(shop).call(routes.all), {}, 'and the shop is logged out');
    watcher.close();
  });

  it("reports this manager's own logouts at once, without waiting for a poll", async () => {
    const browser = new DirectClient(portal);
    await browser.call(routes.login('bob'));
    const ended: string[] = [];
    const watcher = watchSessions(portal, { intervalMs: 60_000, onEnded: (gone) => ended.push(gone) });
    watcher.watch(browser.sessionId!);
    await browser.call(routes.logout);
    assert.equal(ended.length, 1);
    watcher.close();
  });

  it('revokePrincipal from a script logs a user out of every app, and watchers hear of it', async () => {
    const first = new DirectClient(portal);
    const second = new DirectClient(shop);
    await first.call(routes.login('carol'));
    await second.call(routes.login('carol'));
    const ended = new Set<string>();
    const watcher = watchSessions(shop, { intervalMs: 100, onEnded: (gone) => ended.add(gone) });
    watcher.watch(first.sessionId!);
    watcher.watch(second.sessionId!);
    assert.equal(await script.revokePrincipal('carol'), 2);
    await waitFor(() => ended.size === 2);
    assert.deepEqual(await first.on(shop).call(routes.all), {});
    assert.deepEqual(await second.call(routes.all), {});
    watcher.close();
  });

  it('treats a store failure as "not known yet", never as a logout', async () => {
    const broken = app('broken');
    await broken.close();
    const errors: string[] = [];
    broken.on('error', ({ during }) => errors.push(during));
    const ended: string[] = [];
    const watcher = watchSessions(broken, { intervalMs: 100, onEnded: (gone) => ended.push(gone) });
    watcher.watch('A'.repeat(32));
    assert.deepEqual(await watcher.check(), []);
    assert.deepEqual(ended, []);
    assert.deepEqual(errors, ['watchSessions']);
    assert.equal(watcher.size, 1);
    watcher.close();
  });

  it('refuses bad options and ids', () => {
    assert.throws(() => watchSessions(shop, {} as never), {
      code: 'UNISESSION_INVALID_OPTION',
      message: /onEnded/,
    });
    assert.throws(() => watchSessions(shop, { onEnded() {}, intervalMs: 10 }), {
      code: 'UNISESSION_INVALID_OPTION',
      message: /"intervalMs" must be a number of ms >= 100/,
    });
    assert.throws(() => watchSessions(shop, { onEnded() {}, every: 5 } as never), {
      code: 'UNISESSION_INVALID_OPTION',
    });
    const watcher = watchSessions(shop, { onEnded() {} });
    assert.throws(() => watcher.watch({ $ne: null } as never), { code: 'UNISESSION_INVALID_ARGUMENT' });
    watcher.close();
  });
});
