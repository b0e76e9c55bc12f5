/**
 * memcached nodes hang and die under a running Express app. With the backup copy on, a hung
 * node costs its sessions one command timeout and then they go on from the copy; when it wakes
 * up with old data the newer revision wins. Killing either node loses no session: every
 * counter carries on and writes keep working; a node that comes back empty is refilled as
 * sessions are used, so the *other* node can die next. With every node down the app answers
 * 503 fast, and it recovers when one returns.
 *
 * Runs two private memcached processes on free ports, so the shared ones stay up.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KeyLayout } from '../../src/stores/memcached/layout.js';
import { HashRing } from '../../src/stores/memcached/ring.js';
import { memcachedStore } from '../../src/stores/memcached.js';
import { Client } from '../helpers/client.js';
import { startCounterApp } from '../helpers/counter-app.js';
import { freePort } from '../helpers/server.js';
import { installed } from '../helpers/servers.js';

await installed('memcached');

declare module '../../src/adapters/express.js' {
  interface SessionData {
    count: number;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One memcached process of our own; `kill()` is a SIGKILL, as a crashed host would be. */
class PrivateMemcached {
  private process: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
    this.process = spawn(
      'memcached',
      ['-l', '127.0.0.1', '-p', String(this.port), '-U', '0', '-m', '16', '-t', '1', ...user],
      {
        stdio: 'ignore',
      },
    );
    for (let i = 0; i < 100; i++) {
      if (await accepts(this.port)) return;
      if (this.process.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`memcached did not start on ${this.port}`);
  }

  /** SIGSTOP / SIGCONT: a hung host that later wakes up with whatever it held. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}

describe('memcached failure: nodes die under a running Express app', () => {
  let servers: PrivateMemcached[] = [];
  let base = '';
  let app: Awaited<ReturnType<typeof startCounterApp>> | undefined;
  const group = 'fail';

  before(async () => {
    servers = [new PrivateMemcached(await freePort()), new PrivateMemcached(await freePort())];
    await Promise.all(servers.map((node) => node.start()));
    const store = memcachedStore({
      nodes: servers.map((node) => node.address),
      group,
      retryDeadNodeAfter: 500,
    });
    app = await startCounterApp(store);
    base = app.base;
  });

  after(async () => {
    await app?.stop();
    await Promise.all(servers.map((node) => node.kill()));
  });

  it('loses no session when either node dies, and answers 503 only when all are down', async () => {
    const users = Array.from({ length: 12 }, () => new Client(base));
    const expected = users.map(() => 0);
    let slowest = 0;
    const clickAll = async (label: string) => {
      for (const [i, user] of users.entries()) {
        const started = Date.now();
        const response = await user.request('/count');
        slowest = Math.max(slowest, Date.now() - started);
        const body = (await response.json()) as { count?: number; error?: string };
        assert.equal(response.status, 200, `${label}: user ${i} got ${JSON.stringify(body)}`);
        expected[i]! += 1;
        assert.equal(body.count, expected[i], `${label}: user ${i}'s counter`);
      }
    };
    for (let round = 0; round < 3; round++) await clickAll('all up');

    // Both nodes are somebody's primary, so each kill below hits real sessions.
    const ring = new HashRing(servers.map((node) => node.address));
    const layout = new KeyLayout(group);
    const primaries = users.map((user) => ring.walk(layout.sessionPart(user.sessionId!))[0]);
    for (const node of servers) assert.ok(primaries.includes(node.address), `no session on ${node.address}`);

    // Node 0 hangs: its sessions wait at most the command timeout, then go on from the copy.
    servers[0]!.pause();
    slowest = 0;
    await clickAll('node 0 hung');
    await clickAll('node 0 still hung');
    assert.ok(slowest < 2000, `slowest request while node 0 hung: ${slowest} ms`);
    const hungSlowest = slowest;
    // It wakes up holding the old counters; the higher revision on node 1 wins, so no counter
    // goes back, and node 0 is brought up to date as the sessions are used.
    servers[0]!.resume();
    await new Promise((resolve) => setTimeout(resolve, 600));
    await clickAll('node 0 woke up stale');
    await servers[1]!.kill();
    await clickAll('node 1 killed after node 0 woke up');
    await servers[1]!.start();
    await new Promise((resolve) => setTimeout(resolve, 600));
    await clickAll('node 1 back');
    console.log(`memcached: slowest request while a node hung ${hungSlowest} ms`);

    await servers[0]!.kill();
    await clickAll('node 0 killed');
    await clickAll('node 0 still down');

    // Node 0 comes back empty; using each session refills it from the copy on node 1.
    await servers[0]!.start();
    await new Promise((resolve) => setTimeout(resolve, 600)); // past retryDeadNodeAfter
    await clickAll('node 0 back');
    await servers[1]!.kill();
    await clickAll('node 1 killed');

    // Nothing left: a fast, clean 503 for everyone, old session or new.
    await servers[0]!.kill();
    for (const user of [users[0]!, users[1]!, new Client(base)]) {
      const started = Date.now();
      const response = await user.request('/count');
      assert.equal(response.status, 503);
      assert.equal(((await response.json()) as { error: string }).error, 'UNISESSION_STORE_UNAVAILABLE');
      assert.ok(Date.now() - started < 2000, `503 took ${Date.now() - started} ms`);
    }

    // A node returns: the app (never restarted) serves again. memcached keeps nothing on
    // disk, so with every copy gone the user starts a fresh session.
    await servers[1]!.start();
    await new Promise((resolve) => setTimeout(resolve, 600));
    const again = await users[0]!.request('/count');
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { count: 1 });
    assert.equal((await users[0]!.json<{ count: number }>('/count')).count, 2);
  });
});
