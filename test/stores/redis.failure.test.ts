/**
 * Redis goes away under a running Express app and comes back: requests fail fast with 503
 * UNISESSION_STORE_UNAVAILABLE (or, with `onStoreError: 'continue'`, are served with an
 * empty, unsaved session), nothing crashes, and once Redis is back the same app (not
 * restarted) carries on with every session's data intact.
 *
 * Uses a private redis-server (temp dir, free port, append-only file so data survives the
 * restart); the shared one on REDIS_URL stays up.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { Redis } from 'ioredis';
import { session } from '../../src/adapters/express.js';
import { redisStore } from '../../src/stores/redis.js';
import { Client } from '../helpers/client.js';
import { close, errorsAsJson, freePort, listen } from '../helpers/server.js';
import { installed } from '../helpers/servers.js';

await installed('redis');

declare module '../../src/adapters/express.js' {
  interface SessionData {
    count: number;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A throwaway redis-server that persists every write to its append-only file. */
class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'unisession-redisfail-'));
  port = 0;
  private child: ChildProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    // appendfsync always: a write acknowledged to the app is on disk before the server stops.
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push(
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--daemonize',
      'no',
      '--logfile',
      'redis.log',
    );
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const ping = new Redis({
      port: this.port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
    });
    ping.on('error', () => {}); // refused until the server is up: the loop below retries
    for (let i = 0; ; i++) {
      try {
        await ping.connect();
        if ((await ping.ping()) === 'PONG') break;
      } catch (error) {
        if (i > 100 || this.child.exitCode !== null) throw error;
        await sleep(50);
      }
    }
    ping.disconnect();
  }

  /** SIGTERM: Redis shuts down cleanly, flushing the append-only file. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

type Body = { count?: number; error?: string; message?: string };

describe('redis failure: server stops and restarts under a running Express app', () => {
  const redis = new PrivateRedis();
  let base = '';
  let server: Server | undefined;
  const middlewares: Array<ReturnType<typeof session>> = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    await redis.start();
    const app = express();
    // Two mounts share one Redis: /fail keeps the default (503 on store errors), /continue
    // serves an empty, unsaved session instead.
    for (const mode of ['fail', 'continue'] as const) {
      const middleware = session({
        store: redisStore({ url: redis.url, group: 'failure' }),
        app: 't',
        onStoreError: mode,
        cookie: { path: `/${mode}` },
        name: `s_${mode}`,
      });
      middlewares.push(middleware);
      middleware.manager.on('error', () => {}); // the 'continue' mode reports here; counted by the test instead
      const router = express.Router();
      router.use(middleware);
      router.get('/count', (req, res) => {
        req.session.count = (req.session.count ?? 0) + 1;
        res.json({ count: req.session.count });
      });
      app.use(`/${mode}`, router);
    }
    // What a user's app does: turn the error into a JSON answer with its status and code.
    app.use(errorsAsJson);
    server = createServer(app);
    base = await listen(server);
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    if (server) await close(server);
    for (const middleware of middlewares) await middleware.manager.close();
    await redis.destroy();
  });

  it('answers 503 fast while Redis is down, then recovers with the counters intact', async () => {
    const clients = [new Client(base), new Client(base), new Client(base)];
    for (const client of clients) {
      for (let i = 1; i <= 3; i++) assert.equal((await client.json<Body>('/fail/count')).count, i);
    }
    const patient = new Client(base);
    assert.equal((await patient.json<Body>('/continue/count')).count, 1);
    assert.equal((await patient.json<Body>('/continue/count')).count, 2);

    // Three users keep clicking, one request after another each, all at once, while Redis
    // goes away; every answer is a success that counts on from the last one, or a clean 503.
    let phase: 'stopping' | 'down' | 'done' = 'stopping';
    const last = [3, 3, 3];
    const outage: number[] = [];
    let ok = 0;
    const loop = async (index: number) => {
      const client = clients[index]!;
      for (let i = 0; i < 400 && phase !== 'done'; i++) {
        const started = Date.now();
        const response = await client.request('/fail/count');
        const body = (await response.json()) as Body;
        if (response.status === 200) {
          assert.equal(phase, 'stopping', 'no success once Redis is down');
          assert.equal(body.count, last[index]! + 1);
          last[index] = body.count!;
          ok++;
        } else {
          assert.equal(response.status, 503, JSON.stringify(body));
          assert.equal(body.error, 'UNISESSION_STORE_UNAVAILABLE');
          assert.match(body.message!, /redis/);
          outage.push(Date.now() - started);
        }
        await sleep(5);
      }
    };
    const loops = Promise.all(clients.map((_, index) => loop(index)));
    await sleep(100);
    await redis.stop();
    phase = 'down';
    await sleep(1500);

    // A newcomer gets no session either: one that cannot be saved is not handed out.
    const newcomer = await new Client(base).request('/fail/count');
    assert.equal(newcomer.status, 503);
    // With onStoreError 'continue' the request is served with an empty session that is not saved.
    const degraded = await patient.request('/continue/count');
    assert.equal(degraded.status, 200);
    assert.deepEqual(await degraded.json(), { count: 1 });
    assert.equal(degraded.headers.getSetCookie().length, 0, 'the client keeps its cookie');
    phase = 'done';
    await loops;
    assert.ok(outage.length >= 5, `only ${outage.length} requests saw the outage`);
    assert.ok(Math.max(...outage) < 3000, `503s took up to ${Math.max(...outage)} ms`);

    await redis.start();
    // The app was not restarted: its client reconnects by itself.
    const recoveryStarted = Date.now();
    for (const [index, client] of clients.entries()) {
      let recovered: Body | undefined;
      for (let i = 0; i < 50 && !recovered; i++) {
        const response = await client.request('/fail/count');
        if (response.status === 200) recovered = (await response.json()) as Body;
        else await sleep(200);
      }
      // Every acknowledged increment survived. One more may have landed: the write that was
      // in flight when Redis shut down can be applied and persisted while its reply is lost,
      // so the client saw a 503 for a write that happened (an unknown outcome, not a lost one).
      // Nothing else may appear: no write answered 503 may be replayed later.
      assert.ok(recovered, `client ${index} did not recover`);
      assert.ok(
        recovered.count === last[index]! + 1 || recovered.count === last[index]! + 2,
        `the counts from before the outage survived it: expected ${last[index]! + 1} (or one more), got ${recovered.count}`,
      );
    }
    const recoveredIn = Date.now() - recoveryStarted;
    assert.deepEqual(
      await patient.json('/continue/count'),
      { count: 3 },
      'the degraded request wrote nothing',
    );
    assert.deepEqual(unhandled, []);
    console.log(
      `redis outage: ${ok} requests ok while stopping, ${outage.length} x 503 in ` +
        `${Math.min(...outage)}-${Math.max(...outage)} ms (median ${outage.sort((a, b) => a - b)[outage.length >> 1]} ms), ` +
        `service back ${recoveredIn} ms after restart`,
    );
  });
});
