/**
 * The group description (src/core/app-group.ts): its start-up checks, the session options it
 * gives each app, and the cookie transport's per-request check (a host not under the cookie
 * domain gets a host-only cookie and one warning). No HTTP: sessions opened on managers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AppGroupDescription, defineAppGroup } from '../../src/core/app-group.js';
import type { SessionEvents } from '../../src/core/events.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { DirectClient } from '../helpers/direct-client.js';

const GROUP: AppGroupDescription = {
  domain: 'example.test',
  shared: ['user'],
  apps: [
    { code: 'portal', host: 'www.example.test', path: '/portal' },
    { code: 'shop', host: 'www.example.test', path: '/shop' },
    { code: 'admin', host: 'admin.example.test', namespace: 'backoffice' },
    { code: 'partner', host: 'partner-site.test', handoff: true },
  ],
};

const invalid = (message: RegExp) => ({ code: 'UNISESSION_INVALID_OPTION', message });

describe('app group: the description and its start-up checks', () => {
  it('gives each app its namespace, the shared names and a cookie for the whole domain', () => {
    const group = defineAppGroup(GROUP);
    const shop = group.options('shop', { secret: 's' });
    assert.equal(shop.app, 'shop');
    assert.deepEqual(shop.shared, ['user']);
    assert.deepEqual(shop.cookie, { domain: 'example.test', path: '/' });
    assert.equal(shop.secret, 's');
    assert.equal(group.options('admin').app, 'backoffice', 'the namespace, not the code');
    assert.deepEqual(group.options('partner').cookie, { domain: undefined, path: '/' }, 'host-only');
    assert.equal(group.app('portal').path, '/portal');
    assert.equal(group.apps.length, 4);
  });

  it("shares nothing but the login by default, and everything with '*'", () => {
    const none = defineAppGroup({ domain: 'example.test', apps: [{ code: 'a' }] });
    assert.deepEqual(none.options('a').shared, []);
    const all = defineAppGroup({ domain: 'example.test', shared: '*', apps: [{ code: 'a' }] });
    const isShared = all.options('a').shared as (name: string) => boolean;
    assert.equal(isShared('anything'), true);
  });

  it('refuses a cookie domain that is not a parent of every app host', () => {
    assert.throws(
      () => defineAppGroup({ ...GROUP, apps: [{ code: 'x', host: 'shop.other.test' }] }),
      invalid(/"apps\[0\]\.host" is "shop\.other\.test", which is not "example\.test" or a subdomain/),
    );
    // A look-alike suffix is not a subdomain.
    assert.throws(
      () => defineAppGroup({ ...GROUP, apps: [{ code: 'x', host: 'badexample.test' }] }),
      invalid(/apps\[0\]\.host/),
    );
    const group = defineAppGroup(GROUP);
    assert.throws(
      () => group.options('shop', { cookie: { domain: 'www.example.test' } }),
      invalid(
        /"cookie\.domain" is "www\.example\.test", which is not a parent of the host "admin\.example\.test"/,
      ),
    );
  });

  it('requires cookie path "/" for apps on different paths of one host', () => {
    const group = defineAppGroup(GROUP);
    assert.throws(
      () => group.options('shop', { cookie: { path: '/shop' } }),
      invalid(
        /"cookie\.path" is "\/shop", but apps on different paths of one host .* must use cookie path "\/"/,
      ),
    );
    const one = defineAppGroup({ domain: 'example.test', apps: [{ code: 'a', path: '/a/b' }] });
    assert.deepEqual(
      one.options('a', { cookie: { path: '/a' } }).cookie?.path,
      '/a',
      'a covering path is fine',
    );
  });

  it('refuses duplicate app codes', () => {
    assert.throws(
      () =>
        defineAppGroup({ domain: 'example.test', apps: [{ code: 'shop' }, { code: 'shop', path: '/x' }] }),
      invalid(/"apps\[1\]\.code" is "shop", which an earlier app already uses/),
    );
  });

  it('refuses shared names that are not valid attribute names', () => {
    for (const name of ['', '__proto__', 'a\u0000b', 'x'.repeat(201)]) {
      assert.throws(
        () => defineAppGroup({ domain: 'example.test', shared: [name], apps: [{ code: 'a' }] }),
        invalid(/"shared\[0\]" must be an attribute name/),
        JSON.stringify(name),
      );
    }
    assert.throws(
      () => defineAppGroup({ domain: 'example.test', shared: 'all' as '*', apps: [{ code: 'a' }] }),
      invalid(/"shared"/),
    );
  });

  it('refuses domains and hosts a cookie cannot carry, and unknown options', () => {
    for (const domain of [
      'test',
      'Example.test',
      '.example.test',
      'example.test:80',
      '127.0.0.1',
      'https://x.test',
    ]) {
      assert.throws(() => defineAppGroup({ ...GROUP, domain }), invalid(/"domain" must be/), domain);
    }
    assert.throws(
      () => defineAppGroup({ ...GROUP, apps: [{ code: 'a', host: 'a.example.test/x' }] }),
      invalid(/"apps\[0\]\.host" must be/),
    );
    assert.throws(() => defineAppGroup({ ...GROUP, apps: [] }), invalid(/"apps" must be/));
    assert.throws(
      () => defineAppGroup({ ...GROUP, apps: [{ code: 'a', pth: '/a' } as never] }),
      invalid(/apps\[0\]: unknown option "pth"; did you mean "path"\?/),
    );
    assert.throws(() => defineAppGroup({ ...GROUP, domian: 'x' } as never), invalid(/did you mean "domain"/));
    assert.throws(
      () => defineAppGroup(GROUP).options('nope'),
      invalid(/"code" must be one of the group's app codes/),
    );
  });
});

describe('cookie transport: a host not under cookie.domain', () => {
  const warningsOf = (manager: ReturnType<typeof createSessionManager>) => {
    const seen: Array<SessionEvents['warning']> = [];
    manager.on('warning', (warning) => seen.push(warning));
    return seen;
  };

  it('sets Domain for hosts under it and a host-only cookie otherwise, warning once', async () => {
    const manager = createSessionManager(
      defineAppGroup(GROUP).options('shop', { store: memoryStore(), sweeper: false }),
    );
    const warnings = warningsOf(manager);
    const login = async (host: string) => {
      const client = new DirectClient(manager);
      const reply = await client.request(async (session) => session.set('user', 'alice'), {
        headers: { host },
      });
      return reply.headers.get('set-cookie') ?? '';
    };
    assert.match(await login('www.example.test'), /; Domain=example\.test;/);
    assert.match(await login('SHOP.Example.Test:8080'), /; Domain=example\.test;/, 'case and port ignored');
    assert.equal(warnings.length, 0);
    for (const host of ['127.0.0.1:3000', 'badexample.test', '[::1]:80']) {
      const cookie = await login(host);
      assert.match(cookie, /^unisession=/);
      assert.doesNotMatch(cookie, /Domain=/i, host);
    }
    assert.equal(warnings.length, 1, 'one warning, not one per request');
    assert.equal(warnings[0]?.code, 'UNISESSION_COOKIE_DOMAIN_MISMATCH');
    assert.match(
      warnings[0]?.message ?? '',
      /host "127\.0\.0\.1", which is not under cookie\.domain "example\.test"/,
    );
    await manager.close();
  });

  it('believes X-Forwarded-Host only from a trusted proxy', async () => {
    const manager = createSessionManager({
      app: 'shop',
      store: memoryStore(),
      sweeper: false,
      cookie: { domain: 'example.test' },
      trustProxy: ['10.0.0.1'],
    });
    warningsOf(manager);
    const cookieFor = async (remoteAddress: string) => {
      const reply = await new DirectClient(manager).request(async (session) => session.set('user', 'bob'), {
        headers: { host: '10.0.0.2', 'x-forwarded-host': 'www.example.test' },
        remoteAddress,
      });
      return reply.headers.get('set-cookie') ?? '';
    };
    assert.match(await cookieFor('10.0.0.1'), /Domain=example\.test/);
    assert.doesNotMatch(await cookieFor('10.0.0.9'), /Domain=/);
    await manager.close();
  });
});

describe('app group: subdomains of one root domain, end to end without HTTP', () => {
  it('a login (with regenerate) in one app is seen by the others; private attributes stay private', async () => {
    const group = defineAppGroup({
      domain: 'example.test',
      shared: ['user'],
      apps: [
        { code: 'portal', host: 'portal.example.test' },
        { code: 'shop', host: 'shop.example.test' },
      ],
    });
    const store = memoryStore();
    const portal = createSessionManager(group.options('portal', { store, sweeper: false, secret: 's3cret' }));
    const shop = createSessionManager(group.options('shop', { store, sweeper: false, secret: 's3cret' }));
    const at = (host: string) => ({ headers: { host } });
    const browser = new DirectClient(portal);
    await browser.call((session) => session.set('theme', 'dark'), at('portal.example.test'));
    const before = browser.sessionId;
    const reply = await browser.request(async (session) => {
      await session.regenerate();
      await session.set('user', 'alice');
      await session.setPrincipal('alice');
    }, at('portal.example.test'));
    assert.match(reply.headers.get('set-cookie') ?? '', /Domain=example\.test/);
    assert.notEqual(browser.sessionId, before, 'a new id at login');
    // The browser sends the Domain cookie to the shop's subdomain too.
    const onShop = browser.on(shop);
    await onShop.call((session) => session.set('cart', ['book']), at('shop.example.test'));
    assert.deepEqual(await onShop.call((session) => session.all(), at('shop.example.test')), {
      user: 'alice',
      cart: ['book'],
    });
    assert.deepEqual(await browser.call((session) => session.all(), at('portal.example.test')), {
      user: 'alice',
      theme: 'dark',
    });
    // One logout, anywhere, for both.
    await onShop.call((session) => session.invalidate(), at('shop.example.test'));
    const fresh = new DirectClient(portal);
    fresh.cookie = `unisession=${reply.headers.get('set-cookie')?.split(';')[0]?.split('=')[1]}`;
    assert.deepEqual(await fresh.call((session) => session.all(), at('portal.example.test')), {});
    await portal.close();
  });
});
