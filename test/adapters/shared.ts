/**
 * What the adapter test files share: an SQLite store whose writes are slowed down (as a
 * network store's would be, so that a commit that ran after the response had left loses the
 * race and fails the test), a browser-like client, and a node:http reader of one attribute,
 * to check from another server that a write is stored.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeSessions } from '../../src/adapters/node.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { Store } from '../../src/core/store.js';
import { createSessionManager } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { type Running, serve } from '../helpers/server.js';

/** Counts every store call, and delays writes by `writeDelay` ms (a store across a network). */
export function instrumented(inner: Store, writeDelay: number): Store & { calls: string[] } {
  const calls: string[] = [];
  const writes = new Set(['create', 'update', 'destroy', 'rename']);
  const proxy = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || property === 'close') return value;
      return async (...args: unknown[]) => {
        calls.push(String(property));
        if (writes.has(String(property))) await sleep(writeDelay);
        return value.apply(target, args);
      };
    },
  });
  return Object.assign(proxy, { calls });
}

/** One SQLite file in a temp directory, its slowed store, and managers on it (app 'adapters'). */
export function sqliteFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'unisession-adapters-'));
  const file = join(dir, 'sessions.sqlite');
  const store = instrumented(sqliteStore({ file }), 40);
  const manager = (s: Store = store, extra: { ignore?: RegExp } = {}): SessionManager =>
    createSessionManager({ app: 'adapters', store: s, sweeper: false, ignore: /^\/static\//, ...extra });
  return {
    dir,
    file,
    store,
    manager,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A node:http server answering `/read?name=<attribute>` with `{ value }` from the session. */
export function startReader(manager: SessionManager): Promise<Running> {
  const sessions = nodeSessions(manager);
  return serve(
    createServer(async (req, res) => {
      const session = sessions.attach(req, res);
      const name = new URL(req.url!, 'http://x').searchParams.get('name') ?? '';
      res.end(JSON.stringify({ value: (await session.get(name)) ?? null }));
    }),
  );
}

/** A browser with one cookie, keeping the last response's Set-Cookie lines. */
export class Client {
  cookie = '';
  setCookies: string[] = [];
  async request(url: string, init: RequestInit = {}): Promise<globalThis.Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set('cookie', this.cookie);
    const response = await fetch(url, { redirect: 'manual', ...init, headers });
    this.setCookies = response.headers.getSetCookie();
    for (const line of this.setCookies) {
      const pair = line.split(';')[0]!;
      this.cookie = pair.endsWith('=') ? '' : pair;
    }
    return response;
  }
  async json<T = Record<string, unknown>>(url: string): Promise<T> {
    const response = await this.request(url);
    assert.equal(response.status, 200, `${url}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as T;
  }
}
