/** The monitor's JSON API over SQLite with two apps: auth, scopes, roles, search, detail, actions, audit. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry } from '../../src/core/store.js';
import { createMonitor, type Monitor } from '../../src/monitor/index.js';
import { DirectClient } from '../helpers/direct-client.js';
import { type Apps, bearer, codec, credentials, twoApps } from './fixture.js';

const BASE = 'http://monitor.test/admin';

async function call(
  monitor: Monitor,
  path: string,
  init: RequestInit & { token?: string } = {},
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the assertions walk freely
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', init.token);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const response = await monitor(new Request(`${BASE}${path}`, { ...init, headers }), {
    remoteAddress: '127.0.0.1',
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: response.headers };
}

describe('monitor API', () => {
  let apps: Apps;
  let monitor: Monitor;
  const audited: AuditEntry[] = [];

  before(async () => {
    apps = await twoApps();
    monitor = createMonitor({
      managers: [apps.portal, apps.shop],
      basePath: '/admin',
      credentials: await credentials(),
      displayAttributes: ['user', 'shop:cart'],
      onAudit: (entry) => audited.push(entry),
    });
  });
  after(async () => {
    await monitor.close();
    await apps.portal.close();
  });

  it('answers 401 without a token, with a wrong one, and with an unknown name', async () => {
    for (const token of [
      undefined,
      'Bearer ops:wrong-secret',
      'Bearer nobody:ops-secret-1234',
      'Basic abc',
      'Bearer x',
    ]) {
      const reply = await call(monitor, '/api/stats', token ? { token } : {});
      assert.equal(reply.status, 401, String(token));
      assert.equal(reply.body.error.code, 'UNAUTHORIZED');
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
  });

  it('tells a credential who it is', async () => {
    const reply = await call(monitor, '/api/whoami', { token: bearer('shopView') });
    assert.deepEqual(reply.body, { name: 'shop-view', scope: 'shop', role: 'viewer' });
  });

  it('serves the OpenAPI document without a token, listing every route', async () => {
    const reply = await call(monitor, '/api/openapi.json');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.openapi, '3.1.0');
    assert.equal(reply.body.servers[0].url, '/admin/api');
    for (const path of [
      '/stats',
      '/sessions',
      '/sessions/{id}',
      '/sessions/delete-where',
      '/principals/{principal}/revoke',
      '/audit',
    ]) {
      assert.ok(reply.body.paths[path], path);
    }
  });

  it('computes statistics equal to what the store holds, overall and per app', async () => {
    const { body, status } = await call(monitor, '/api/stats', { token: bearer('ops') });
    assert.equal(status, 200);
    assert.equal(body.overall.live, 3);
    assert.equal(body.overall.authenticated, 2);
    assert.equal(body.overall.usersOnline, 2);
    assert.equal(body.overall.createdLastHour, 3);
    const byApp = Object.fromEntries(body.apps.map((s: { app: string; live: number }) => [s.app, s.live]));
    assert.deepEqual(byApp, { portal: 1, shop: 2 });
    assert.equal(body.overall.store.healthy, true);
    const scoped = await call(monitor, '/api/stats', { token: bearer('shopView') });
    assert.equal(scoped.body.overall.live, 2);
    assert.equal(scoped.body.overall.app, 'shop');
  });

  it('searches by principal, by address (exact and CIDR), and sorts and pages', async () => {
    const byPrincipal = await call(monitor, '/api/sessions?principal=bob', { token: bearer('ops') });
    assert.deepEqual(
      byPrincipal.body.sessions.map((s: { id: string }) => s.id),
      [apps.ids.bob],
    );
    const cidr = await call(monitor, `/api/sessions?clientAddress=${encodeURIComponent('10.1.0.0/16')}`, {
      token: bearer('ops'),
    });
    assert.deepEqual(
      cidr.body.sessions.map((s: { id: string }) => s.id).sort(),
      [apps.ids.alice, apps.ids.anonymous].sort(),
    );
    const exact = await call(monitor, '/api/sessions?clientAddress=192.168.7.9', { token: bearer('ops') });
    assert.deepEqual(
      exact.body.sessions.map((s: { id: string }) => s.id),
      [apps.ids.bob],
    );
    const first = await call(monitor, '/api/sessions?limit=2&sort=createdAt&order=asc', {
      token: bearer('ops'),
    });
    assert.equal(first.body.sessions.length, 2);
    // Sessions created in one millisecond tie on createdAt (then id order decides): check the pages, not who is first.
    assert.ok(first.body.next);
    const second = await call(
      monitor,
      `/api/sessions?limit=2&sort=createdAt&order=asc&cursor=${encodeURIComponent(first.body.next)}`,
      {
        token: bearer('ops'),
      },
    );
    const paged = [...first.body.sessions, ...second.body.sessions].map((s: { id: string }) => s.id);
    assert.deepEqual(paged.sort(), [apps.ids.alice, apps.ids.bob, apps.ids.anonymous].sort());
    assert.equal(second.body.next, undefined);
  });

  it('shows display attributes as columns, a scoped credential only those it may see', async () => {
    const all = await call(monitor, '/api/sessions?principal=bob', { token: bearer('ops') });
    assert.equal(all.body.sessions[0].display.user, 'bob');
    assert.equal(all.body.sessions[0].display['shop:cart'].$type, 'Map');
    const portalOnly = await call(monitor, '/api/sessions?principal=alice', { token: bearer('ops') });
    assert.equal(portalOnly.body.sessions[0].display.user, 'alice');
  });

  it('refuses a bad filter with 400 naming it, and an unknown one', async () => {
    for (const query of [
      'limit=0',
      'sort=principal',
      'createdAfter=yesterday',
      'idleLongerThan=soon',
      'colour=red',
      'clientAddress=10.0.0.0/99',
    ]) {
      const reply = await call(monitor, `/api/sessions?${query}`, { token: bearer('ops') });
      assert.equal(reply.status, 400, query);
      assert.ok(reply.body.error.message.length > 0);
    }
    const forged = await call(monitor, '/api/sessions?cursor=not-a-cursor', { token: bearer('ops') });
    assert.equal(forged.status, 400);
  });

  it('exports a search as CSV and JSON', async () => {
    const csv = await call(monitor, '/api/sessions?format=csv&app=shop', { token: bearer('ops') });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^id,app,principal,createdAt/);
    const json = await call(monitor, '/api/sessions?format=json&app=shop', { token: bearer('ops') });
    assert.equal(json.body.length, 2);
  });

  it('shows the detail decoded: a Date as a date, a Map as a map, a plugin class by its alias, secrets masked', async () => {
    const alice = await call(monitor, `/api/sessions/${apps.ids.alice}`, { token: bearer('ops') });
    assert.equal(alice.status, 200);
    assert.equal(alice.body.meta.principal, 'alice');
    assert.equal(alice.body.meta.clientAddress, '10.1.2.3');
    const shared = Object.fromEntries(
      alice.body.shared.map((a: { name: string; value: unknown }) => [a.name, a.value]),
    );
    assert.deepEqual(shared.since, { $type: 'Date', value: '2026-01-02T03:04:05.000Z' });
    const portal = Object.fromEntries(
      alice.body.private.portal.map((a: { name: string; value: unknown }) => [a.name, a]),
    );
    assert.equal(portal.theme.value, 'dark');
    assert.equal(portal.apiToken.redacted, true);
    assert.ok(!alice.text.includes('tok-very-secret'));
    const bob = await call(monitor, `/api/sessions/${apps.ids.bob}`, { token: bearer('ops') });
    const cart = bob.body.private.shop.find((a: { name: string }) => a.name === 'cart').value;
    assert.equal(cart.$type, 'Map');
    assert.deepEqual(cart.entries[0], ['sku-1', 2]);
    assert.equal(cart.entries[1][1].$type, '@cart');
  });

  it('an app-scoped credential sees its own app only: 404 for another app, no foreign private attribute', async () => {
    const foreign = await call(monitor, `/api/sessions/${apps.ids.alice}`, { token: bearer('shopView') });
    assert.equal(foreign.status, 404);
    const absent = await call(monitor, '/api/sessions/no-such-session-id-at-all', {
      token: bearer('shopView'),
    });
    assert.deepEqual(foreign.body, absent.body);
    const list = await call(monitor, '/api/sessions', { token: bearer('shopView') });
    assert.deepEqual(
      list.body.sessions.map((s: { id: string }) => s.id).sort(),
      [apps.ids.bob, apps.ids.anonymous].sort(),
    );
    const other = await call(monitor, '/api/sessions?app=portal', { token: bearer('shopView') });
    assert.equal(other.status, 403);
    const own = await call(monitor, `/api/sessions/${apps.ids.bob}`, { token: bearer('shopView') });
    assert.deepEqual(Object.keys(own.body.private), ['shop']);
    const byPrincipal = await call(monitor, '/api/sessions?principal=alice', { token: bearer('shopView') });
    assert.deepEqual(byPrincipal.body.sessions, []);
    const deleteForeign = await call(monitor, `/api/sessions/${apps.ids.alice}`, {
      method: 'DELETE',
      token: bearer('shopOps'),
    });
    assert.equal(deleteForeign.status, 404);
    assert.equal(
      (await call(monitor, `/api/sessions/${apps.ids.alice}`, { token: bearer('ops') })).status,
      200,
    );
  });

  it('the "all" scope sees every app\'s private attributes', async () => {
    const alice = await call(monitor, `/api/sessions/${apps.ids.alice}`, { token: bearer('ops') });
    assert.deepEqual(Object.keys(alice.body.private).sort(), ['portal', 'shop']);
  });

  it('a viewer cannot act: 403 for every action', async () => {
    const attempts: Array<[string, RequestInit]> = [
      [`/api/sessions/${apps.ids.bob}`, { method: 'DELETE' }],
      ['/api/sessions/delete', { method: 'POST', body: JSON.stringify({ ids: [apps.ids.bob] }) }],
      [
        '/api/sessions/delete-where',
        { method: 'POST', body: JSON.stringify({ filter: { principal: 'bob' }, dryRun: false }) },
      ],
      ['/api/principals/bob/revoke', { method: 'POST' }],
      ['/api/sessions/expire-idle', { method: 'POST', body: JSON.stringify({ idleLongerThan: '1s' }) }],
      [`/api/sessions/${apps.ids.bob}/attributes/${encodeURIComponent('shop:cart')}`, { method: 'DELETE' }],
    ];
    for (const [path, init] of attempts) {
      const reply = await call(monitor, path, { ...init, token: bearer('viewer') });
      assert.equal(reply.status, 403, path);
    }
    assert.equal(
      (await call(monitor, `/api/sessions/${apps.ids.bob}`, { token: bearer('ops') })).status,
      200,
    );
  });

  it('a dry run counts; an empty filter is refused', async () => {
    const dry = await call(monitor, '/api/sessions/delete-where', {
      method: 'POST',
      token: bearer('viewer'),
      body: JSON.stringify({ filter: { clientAddress: '10.1.0.0/16' } }),
    });
    assert.deepEqual(dry.body, { dryRun: true, matching: 2 });
    const empty = await call(monitor, '/api/sessions/delete-where', {
      method: 'POST',
      token: bearer('ops'),
      body: JSON.stringify({ filter: {}, dryRun: false }),
    });
    assert.equal(empty.status, 400);
    const malformed = await call(monitor, '/api/sessions/delete', {
      method: 'POST',
      token: bearer('ops'),
      body: '{nope',
    });
    assert.equal(malformed.status, 400);
  });

  it('an operator removes an attribute, and the audit log, onAudit and the audit event record it', async () => {
    const events: string[] = [];
    const off = apps.portal.on('audit', ({ entry }) => events.push(entry.action));
    const key = encodeURIComponent('shop:lastSeen');
    const reply = await call(monitor, `/api/sessions/${apps.ids.alice}/attributes/${key}`, {
      method: 'DELETE',
      token: bearer('ops'),
    });
    assert.deepEqual(reply.body, { removed: 1 });
    const value = await apps.alice.on(apps.shop).request((session) => session.get('lastSeen'));
    assert.equal(value.result, undefined);
    const log = await call(monitor, '/api/audit', { token: bearer('viewer') });
    assert.equal(log.body.entries[0].action, 'remove-attribute');
    assert.equal(log.body.entries[0].actor, 'ops');
    assert.equal(audited.at(-1)?.action, 'remove-attribute');
    assert.deepEqual(events, ['remove-attribute']);
    off();
  });

  it("an operator's delete signs the user out on the next request through the other app", async () => {
    const before = await apps.bob.request((session) => session.get('user'));
    assert.equal(before.result, 'bob');
    const reply = await call(monitor, `/api/sessions/${apps.ids.bob}`, {
      method: 'DELETE',
      token: bearer('shopOps'),
    });
    assert.deepEqual(reply.body, { deleted: 1 });
    const afterDelete = await apps.bob.on(apps.portal).request((session) => session.get('user'));
    assert.equal(afterDelete.result, undefined);
    const entry = audited.at(-1);
    assert.equal(entry?.action, 'delete');
    assert.equal(entry?.scope, 'shop');
    assert.equal(entry?.count, 1);
  });

  it('revokes a principal and deletes by query', async () => {
    const revoked = await call(monitor, '/api/principals/alice/revoke', {
      method: 'POST',
      token: bearer('ops'),
    });
    assert.equal(revoked.body.revoked, 1);
    const where = await call(monitor, '/api/sessions/delete-where', {
      method: 'POST',
      token: bearer('ops'),
      body: JSON.stringify({ filter: { app: 'shop', authenticated: false }, dryRun: false }),
    });
    assert.deepEqual(where.body, { dryRun: false, deleted: 1 });
    const stats = await call(monitor, '/api/stats', { token: bearer('ops') });
    assert.equal(stats.body.overall.live, 0);
    const actions = (await call(monitor, '/api/audit', { token: bearer('ops') })).body.entries.map(
      (e: AuditEntry) => e.action,
    );
    assert.deepEqual(actions.slice(0, 2), ['delete-where', 'revoke-principal']);
  });

  it('expires idle sessions: an app-scoped operator only in its app, the centre everywhere', async () => {
    const portalUser = new DirectClient(apps.portal);
    const shopUser = new DirectClient(apps.shop);
    await portalUser.request((session) => session.set('n', 1));
    await shopUser.request((session) => session.set('n', 1));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const body = JSON.stringify({ idleLongerThan: '1s' });
    const scoped = await call(monitor, '/api/sessions/expire-idle', {
      method: 'POST',
      token: bearer('shopOps'),
      body,
    });
    assert.deepEqual(scoped.body, { expired: 1 });
    assert.equal((await shopUser.request((session) => session.get('n'))).result, undefined);
    assert.equal((await portalUser.request((session) => session.get('n'))).result, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const all = await call(monitor, '/api/sessions/expire-idle', {
      method: 'POST',
      token: bearer('ops'),
      body,
    });
    assert.ok(all.body.expired >= 1);
    assert.equal((await portalUser.request((session) => session.get('n'))).result, undefined);
    const tooShort = await call(monitor, '/api/sessions/expire-idle', {
      method: 'POST',
      token: bearer('ops'),
      body: JSON.stringify({ idleLongerThan: '10ms' }),
    });
    assert.equal(tooShort.status, 400);
  });

  it('works over a store alone (no app manager), as the standalone command does', async () => {
    const bare = createMonitor({
      store: apps.store,
      codec,
      basePath: '/admin',
      credentials: await credentials(),
      apps: ['portal', 'shop'],
    });
    const user = new DirectClient(apps.shop);
    await user.request(async (session) => {
      await session.set('cart', new Map([['a', 1]]));
      await session.setPrincipal('erin');
    });
    const stats = await call(bare, '/api/stats', { token: bearer('ops') });
    assert.equal(stats.status, 200);
    assert.deepEqual(
      stats.body.apps.map((s: { app: string }) => s.app),
      ['portal', 'shop'],
    );
    const found = await call(bare, '/api/sessions?principal=erin', { token: bearer('ops') });
    const id = found.body.sessions[0].id;
    const detail = await call(bare, `/api/sessions/${id}`, { token: bearer('ops') });
    assert.equal(detail.body.private.shop[0].value.$type, 'Map');
    await bare.close();
  });

  it('answers 404 outside its routes and 405 for a wrong method', async () => {
    assert.equal((await call(monitor, '/api/nope', { token: bearer('ops') })).status, 404);
    assert.equal(
      (await call(monitor, '/api/sessions', { method: 'DELETE', token: bearer('ops') })).status,
      405,
    );
    const outside = await monitor(new Request('http://monitor.test/elsewhere'), {
      remoteAddress: '127.0.0.1',
    });
    assert.equal(outside.status, 404);
  });
});
