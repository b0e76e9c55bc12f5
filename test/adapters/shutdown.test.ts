/**
 * gracefulShutdown (unisession/shutdown): servers stop accepting, requests under way finish
 * with their commits, idle keep-alive connections close, then the managers close (sweeper
 * stopped, lease given up, store closed). Express, Koa, Hono's node server and plain node:http
 * all hand it a node:http server; Fastify hands it the instance. The SIGTERM path runs in a
 * child process, as in production.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { session } from '../../src/adapters/express.js';
import { unisession } from '../../src/adapters/fastify.js';
import { gracefulShutdown } from '../../src/adapters/shutdown.js';
import { createSessionManager } from '../../src/index.js';
import { memoryStore } from '../../src/stores/memory.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { Client } from '../helpers/client.js';
import { startNode, stopNode } from '../helpers/processes.js';
import { listen } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'unisession-shutdown-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const closedStore = { code: 'UNISESSION_STORE_UNAVAILABLE' };

/** An Express app with a counter and a slow route, as the failover fixture has. */
async function expressApp(store = memoryStore()) {
  const sessions = session({ store, app: 'shop', secret: 'shutdown-secret' });
  const app = express();
  app.use(sessions);
  app.get('/count', (req, res) => {
    const bag = req.session as unknown as { count?: number };
    bag.count = (bag.count ?? 0) + 1;
    res.json({ count: bag.count });
  });
  app.get('/slow', (req, res) => {
    setTimeout(() => {
      (req.session as unknown as { slow?: string }).slow = 'done';
      res.json({ slow: 'done' });
    }, Number(req.query.ms));
  });
  app.get('/hang', () => {}); // never answers
  const server = createServer(app);
  const base = await listen(server);
  return { server, base, manager: sessions.manager, store };
}

describe('gracefulShutdown with a node:http server (Express)', () => {
  it('lets a request under way finish and commit, refuses new connections, then closes the store', async () => {
    const { server, base, manager, store } = await expressApp();
    const client = new Client(base);
    await client.json('/count');
    const handle = gracefulShutdown(server, manager, { signals: [] });
    const slow = client.json<{ slow: string }>('/slow?ms=400');
    await new Promise((resolve) => setTimeout(resolve, 100)); // the request is in flight
    const started = Date.now();
    const report = await handle.shutdown();
    assert.ok(Date.now() - started >= 250, 'the shutdown waited for the slow request');
    assert.deepEqual(report, { cut: 0, errors: [] });
    assert.deepEqual(await slow, { slow: 'done' });
    // Its commit happened before the store closed: the store now refuses, the value was written.
    await assert.rejects(store.load(client.sessionId!, 'all', Date.now()), closedStore);
    await assert.rejects(fetch(`${base}/count`), /fetch failed/);
    assert.equal(server.listening, false);
  });

  it('closes a kept-alive connection once idle, without waiting for the deadline', async () => {
    const { server, base, manager } = await expressApp();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        httpRequest(`${base}${path}`, { agent }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode!));
        })
          .on('error', reject)
          .end();
      });
    assert.equal(await get('/count'), 200);
    const slow = get('/slow?ms=200'); // busy when the shutdown starts, kept alive after
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const report = await gracefulShutdown(server, manager, { signals: [], timeoutMs: 20_000 }).shutdown();
    assert.equal(await slow, 200);
    assert.equal(report.cut, 0);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms: it waited for the deadline`);
    agent.destroy();
  });

  it('cuts what is still open at timeoutMs and reports it', async () => {
    const { server, base, manager } = await expressApp();
    const hanging = fetch(`${base}/hang`).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const report = await gracefulShutdown([server], [manager], { signals: [], timeoutMs: 300 }).shutdown();
    const took = Date.now() - started;
    assert.equal(report.cut, 1);
    assert.ok(took >= 250 && took < 5000, `took ${took} ms`);
    assert.ok((await hanging) instanceof Error, 'the hanging request was cut');
  });

  it('gives the sweeper lease up, so another node sweeps at once', async () => {
    const store = sqliteStore({ file: join(dir, 'lease.sqlite'), group: 'lease' });
    const { server, manager } = await (async () => {
      const app = await expressApp(store);
      return app;
    })();
    await manager.sweep(); // takes the lease for twice the interval (default 60 s: 2 minutes)
    const other = sqliteStore({ file: join(dir, 'lease.sqlite'), group: 'lease' });
    assert.equal(await other.leases!.acquire('sweeper', 'other-node', 1000, Date.now()), false, 'held');
    await gracefulShutdown(server, manager, { signals: [] }).shutdown();
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(await other.leases!.acquire('sweeper', 'other-node', 1000, Date.now()), true, 'released');
    await other.close();
  });

  it('returns the same report to every call, and shuts several servers and managers down', async () => {
    const one = await expressApp();
    const two = await expressApp();
    const handle = gracefulShutdown([one.server, two.server], [one.manager, two.manager], { signals: [] });
    const [a, b] = await Promise.all([handle.shutdown(), handle.shutdown()]);
    assert.equal(a, b);
    for (const app of [one, two]) {
      assert.equal(app.server.listening, false);
      await assert.rejects(app.store.load('x', 'all', Date.now()), closedStore);
    }
  });

  it('refuses bad arguments when called, naming them', () => {
    const server = createServer();
    const manager = createSessionManager({ app: 'shop', store: memoryStore() });
    const cases: Array<[() => unknown, RegExp]> = [
      [() => gracefulShutdown({} as Server, manager), /servers\[0\]/],
      [() => gracefulShutdown(server, {} as never), /managers\[0\]/],
      [() => gracefulShutdown(server, manager, { timeoutMs: 0 }), /timeoutMs/],
      [() => gracefulShutdown(server, manager, { signals: 'SIGTERM' as never }), /signals/],
      [() => gracefulShutdown(server, manager, { exit: 'no' as never }), /exit/],
      [() => gracefulShutdown(server, manager, { timeout: 5 } as never), /timeout/],
    ];
    for (const [call, name] of cases) {
      assert.throws(call, (error: Error) => {
        assert.equal((error as { code?: string }).code, 'UNISESSION_INVALID_OPTION');
        assert.match(error.message, name);
        return true;
      });
    }
    // Nothing was installed by the refused calls: no SIGTERM listener of ours is left.
    assert.equal(process.listenerCount('SIGTERM'), 0);
    return manager.close();
  });
});

describe('gracefulShutdown with Fastify', () => {
  it('closes the instance: in-flight requests finish, the plugin closes the manager it made', async () => {
    const store = memoryStore();
    const app = Fastify();
    await app.register(unisession, { app: 'shop', store, secret: 'shutdown-secret' });
    app.get('/slow', async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      request.session.set('slow', 'done');
      return { slow: 'done' };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const client = new Client(`http://127.0.0.1:${port}`);
    const slow = client.json('/slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const report = await gracefulShutdown(app, [], { signals: [] }).shutdown();
    // Fastify alone keeps the slow request's kept-alive connection until its keep-alive timeout.
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.deepEqual(report, { cut: 0, errors: [] });
    assert.deepEqual(await slow, { slow: 'done' });
    await assert.rejects(store.load(client.sessionId!, 'all', Date.now()), closedStore);
  });
});

describe('gracefulShutdown on SIGTERM, in a node process', () => {
  it('finishes the request under way, then exits with code 0', async () => {
    const node = await startNode('test/e2e/fixtures/failover-node.ts', {
      STORE: 'sqlite',
      SQLITE_FILE: join(dir, 'sigterm.sqlite'),
      NODE_NAME: 'a',
    });
    try {
      const client = new Client(`http://127.0.0.1:${node.port}`);
      assert.equal((await client.json<{ count: number }>('/count')).count, 1);
      const slow = client.json('/slow?ms=500');
      await new Promise((resolve) => setTimeout(resolve, 150));
      const exited = new Promise<number | null>((resolve) => node.process.once('exit', resolve));
      node.process.kill('SIGTERM');
      assert.deepEqual(await slow, { slow: 'done', node: 'a' });
      assert.equal(await exited, 0);
      // The slow request's write is in the file: a fresh node sees it.
      const again = await startNode('test/e2e/fixtures/failover-node.ts', {
        STORE: 'sqlite',
        SQLITE_FILE: join(dir, 'sigterm.sqlite'),
      });
      const next = new Client(`http://127.0.0.1:${again.port}`);
      next.cookie = client.cookie;
      assert.equal((await next.json<{ count: number }>('/count')).count, 2);
      await stopNode(again);
    } finally {
      await stopNode(node, 'SIGKILL');
    }
  });
});
