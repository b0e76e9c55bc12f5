/**
 * PostgreSQL goes away under a running Express app and comes back: requests fail fast with
 * 503 UNISESSION_STORE_UNAVAILABLE, nothing crashes, and once the server is back the same
 * app (not restarted) carries on with the session data intact.
 *
 * Uses a private PostgreSQL (initdb in a temp dir, a free port) so the shared one stays up.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { postgresStore } from '../../src/stores/postgres.js';
import { Client } from '../helpers/client.js';
import { startCounterApp } from '../helpers/counter-app.js';
import { freePort } from '../helpers/server.js';
import { installed } from '../helpers/servers.js';

await installed('postgres');

declare module '../../src/adapters/express.js' {
  interface SessionData {
    count: number;
  }
}

/** A throwaway PostgreSQL cluster: initdb refuses root, so as root it runs as `postgres`. */
class PrivatePostgres {
  readonly root = mkdtempSync(join(tmpdir(), 'unisession-pgfail-'));
  readonly data = join(this.root, 'data');
  private readonly bin: string;
  port = 0;

  constructor() {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
    if (versions.length === 0)
      throw new Error('no PostgreSQL under /usr/lib/postgresql (npm test installs it)');
    this.bin = `/usr/lib/postgresql/${versions.at(-1)}/bin`;
  }

  /** Runs a server tool without blocking the event loop, so the app keeps serving meanwhile. */
  private async run(tool: string, args: string[]): Promise<void> {
    const asRoot = process.getuid?.() === 0;
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(this.bin, tool), ...args]]
      : [join(this.bin, tool), args];
    await promisify(execFile)(file, argv, { cwd: '/', timeout: 60_000 });
  }

  async init(): Promise<void> {
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(this.root, uid, gid);
    }
    await this.run('initdb', [
      '-D',
      this.data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    this.port = await freePort();
  }

  async start(): Promise<void> {
    const settings = `-p ${this.port} -k ${this.root} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.run('pg_ctl', [
      '-D',
      this.data,
      '-o',
      settings,
      '-l',
      join(this.root, 'log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  async stop(): Promise<void> {
    await this.run('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => {}); // may be stopped already
    rmSync(this.root, { recursive: true, force: true });
  }
}

describe('postgres failure: server stops and restarts under a running Express app', () => {
  const pg = new PrivatePostgres();
  let base = '';
  let app: Awaited<ReturnType<typeof startCounterApp>> | undefined;

  before(async () => {
    await pg.init();
    await pg.start();
    app = await startCounterApp(postgresStore({ url: pg.url }));
    base = app.base;
  });

  after(async () => {
    await app?.stop();
    await pg.destroy();
  });

  it('answers 503 while the server is down, then recovers with the counter intact', async () => {
    const clients = [new Client(base), new Client(base)];
    for (const client of clients) {
      for (let i = 1; i <= 3; i++) assert.equal((await client.json<{ count: number }>('/count')).count, i);
    }

    // Two users keep clicking while the server goes away; every answer is a success that
    // counts on from the last one, or a fast, clean 503.
    let phase: 'stopping' | 'down' | 'done' = 'stopping';
    const last = [3, 3];
    const outage: number[] = [];
    const statuses: number[] = [];
    const loop = async (index: number) => {
      const client = clients[index]!;
      for (let i = 0; i < 400 && phase !== 'done'; i++) {
        const started = Date.now();
        const response = await client.request('/count');
        const body = (await response.json()) as { count?: number; error?: string; message?: string };
        statuses.push(response.status);
        if (response.status === 200) {
          assert.equal(phase, 'stopping', 'no success once the server is down');
          assert.equal(body.count, last[index]! + 1);
          last[index] = body.count!;
        } else {
          assert.equal(response.status, 503);
          assert.equal(body.error, 'UNISESSION_STORE_UNAVAILABLE');
          assert.match(body.message!, /postgres/);
          outage.push(Date.now() - started);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const loops = Promise.all([loop(0), loop(1)]);
    await pg.stop();
    phase = 'down';
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A newcomer cannot get a session either: a session that cannot be saved is not handed out.
    assert.equal((await new Client(base).request('/count')).status, 503);
    phase = 'done';
    await loops;
    assert.ok(outage.length >= 10, `only ${outage.length} requests saw the outage`);
    assert.ok(Math.max(...outage) < 2500, `503s took up to ${Math.max(...outage)} ms`);

    await pg.start();
    // The app was not restarted: its pool reconnects by itself on the next request.
    const tries: number[] = [];
    for (const [index, client] of clients.entries()) {
      let recovered: { count: number } | undefined;
      for (let i = 0; i < 50 && !recovered; i++) {
        tries[index] = i + 1;
        const response = await client.request('/count');
        if (response.status === 200) recovered = (await response.json()) as { count: number };
        else await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.deepEqual(
        recovered,
        { count: last[index]! + 1 },
        'the counts from before the outage survived it',
      );
    }
    const ok = statuses.filter((status) => status === 200).length;
    console.log(
      `postgres outage: ${ok} requests ok while stopping, ${outage.length} x 503 in ${Math.min(...outage)}-${Math.max(...outage)} ms, requests until recovered: ${tries}`,
    );
  });
});
