/**
 * Two apps of one group (portal and shop) over one real store, a few sessions made by real
 * requests, and monitor credentials of every kind: what the monitor tests share.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionManager } from '../../src/core/manager.js';
import type { Store } from '../../src/core/store.js';
import { definePlugin, jsonCodec } from '../../src/index.js';
import { hashSecret, type MonitorCredential } from '../../src/monitor/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import type { Client } from '../helpers/client.js';
import { DirectClient } from '../helpers/direct-client.js';
import { uniqueGroup } from '../stores/conformance.js';

export class Cart {
  constructor(readonly items: string[] = []) {}
}

export const codec = jsonCodec({ plugins: [definePlugin({ alias: 'cart', type: Cart })] });

export const SECRETS = {
  ops: 'ops-secret-1234',
  viewer: 'viewer-secret-1234',
  shopView: 'shop-view-secret-1234',
  shopOps: 'shop-ops-secret-1234',
} as const;

export async function credentials(): Promise<MonitorCredential[]> {
  return [
    { name: 'ops', secretHash: await hashSecret(SECRETS.ops), scope: 'all', role: 'operator' },
    { name: 'viewer', secretHash: await hashSecret(SECRETS.viewer), scope: 'all', role: 'viewer' },
    { name: 'shop-view', secretHash: await hashSecret(SECRETS.shopView), scope: 'shop', role: 'viewer' },
    { name: 'shop-ops', secretHash: await hashSecret(SECRETS.shopOps), scope: 'shop', role: 'operator' },
  ];
}

export const bearer = (
  name: keyof typeof SECRETS,
  user = name === 'shopView' ? 'shop-view' : name === 'shopOps' ? 'shop-ops' : name,
) => `Bearer ${user}:${SECRETS[name]}`;

export interface Apps {
  store: Store;
  portal: SessionManager;
  shop: SessionManager;
  /** alice logged in on the portal from 10.1.2.3; bob on the shop from 192.168.7.9; an anonymous shop visitor from 10.1.9.9. */
  alice: DirectClient;
  bob: DirectClient;
  anonymous: DirectClient;
  ids: { alice: string; bob: string; anonymous: string };
}

export function sqliteFor(group = uniqueGroup('mon')): Store {
  const dir = mkdtempSync(join(tmpdir(), 'unisession-monitor-'));
  return sqliteStore({ file: join(dir, 'sessions.sqlite'), group });
}

export async function twoApps(store: Store = sqliteFor()): Promise<Apps> {
  const common = {
    store,
    codec,
    shared: ['user', 'since'],
    sweeper: false as const,
    secret: 'monitor-test-secret',
  };
  const portal = new SessionManager({ app: 'portal', ...common });
  const shop = new SessionManager({ app: 'shop', ...common });
  const alice = new DirectClient(portal);
  const bob = new DirectClient(shop);
  const anonymous = new DirectClient(shop);
  await alice.request(
    async (session) => {
      await session.regenerate();
      await session.set('user', 'alice');
      await session.set('since', new Date('2026-01-02T03:04:05.000Z'));
      await session.set('theme', 'dark');
      await session.set('apiToken', 'tok-very-secret');
      await session.setPrincipal('alice');
    },
    { remoteAddress: '10.1.2.3', url: '/portal/login?next=/x' },
  );
  // alice also visits the shop (same browser, shared cookie): a private shop attribute on a portal session.
  await alice
    .on(shop)
    .request(async (session) => session.set('lastSeen', 'shoes'), { remoteAddress: '10.1.2.3' });
  await bob.request(
    async (session) => {
      await session.regenerate();
      await session.set('user', 'bob');
      await session.set(
        'cart',
        new Map<string, unknown>([
          ['sku-1', 2],
          ['sku-<b>', new Cart(['x'])],
        ]),
      );
      await session.setPrincipal('bob');
    },
    { remoteAddress: '192.168.7.9', url: '/shop/login' },
  );
  await anonymous.request(async (session) => session.set('views', 1), { remoteAddress: '10.1.9.9' });
  const idOf = async (client: DirectClient, manager: SessionManager) =>
    (
      await client.on(manager).request(async (session) => {
        await session.metadata();
        return session.id;
      })
    ).result as string;
  return {
    store,
    portal,
    shop,
    alice,
    bob,
    anonymous,
    ids: {
      alice: await idOf(alice, portal),
      bob: await idOf(bob, shop),
      anonymous: await idOf(anonymous, shop),
    },
  };
}

/** Signs in through the login form and returns the CSRF token of the UI session. */
export async function signIn(client: Client, origin: string, name: string, secret: string): Promise<string> {
  const login = await client.request('/login', {
    method: 'POST',
    headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name, secret }).toString(),
  });
  assert.equal(login.status, 303, await login.text());
  const page = await (await client.request('/')).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(csrf, 'the page carries a CSRF token');
  return csrf;
}
