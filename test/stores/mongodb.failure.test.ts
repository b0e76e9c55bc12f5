/**
 * The MongoDB server goes away under a running Express app and comes back: requests fail
 * with 503 UNISESSION_STORE_UNAVAILABLE meanwhile, the process stays up, and the app
 * recovers by itself (the driver reconnects; the store retries its setup).
 *
 * The server is a private mongo-java-server from the jar scripts/servers/mongo.ts builds. Its
 * in-memory backend loses every document on restart; when the jar offers a persistent
 * backend (`--h2-file FILE`), the test uses it and also checks that sessions survive.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { session } from '../../src/adapters/express.js';
import { mongodbStore } from '../../src/stores/mongodb.js';
import { Client } from '../helpers/client.js';
import { close, errorsAsJson, freePort, listen } from '../helpers/server.js';
import { installed } from '../helpers/servers.js';
import { sampleMeta, uniqueGroup } from './conformance.js';

declare module '../../src/adapters/express.js' {
  interface SessionData {
    user: string;
  }
}

const jar = await installed('mongo');
const persistent = execFileSync('java', ['-jar', jar, '--help'], { encoding: 'utf8' }).includes('--h2-file');

const accepts = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => done(socket.destroy() === socket));
    socket.once('error', () => done(false));
  });

/** One run of the server; the data file (persistent backend only) outlives it. */
async function startMongo(port: number, dataFile: string): Promise<ChildProcess> {
  const args = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-jar', jar, String(port)];
  args.push('--host', '127.0.0.1', ...(persistent ? ['--h2-file', dataFile] : []));
  const child = spawn('java', args, { stdio: 'ignore' });
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`mongo-java-server exited with ${child.exitCode}`);
    if (await accepts(port)) return child;
    await new Promise((wait) => setTimeout(wait, 100));
  }
  child.kill('SIGKILL');
  throw new Error('mongo-java-server did not accept connections within 30 s');
}

async function stopMongo(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

describe('mongodb store: the server stops and restarts under an Express app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unisession-mongo-'));
  const dataFile = join(dir, 'data.mv');
  const selectionTimeoutMs = 800;
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);
  let port: number;
  let mongo: ChildProcess | undefined;
  let server: Server;
  let base: string;
  let middleware: ReturnType<typeof session>;

  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    port = await freePort();
    mongo = await startMongo(port, dataFile);
    const store = mongodbStore({
      url: `mongodb://127.0.0.1:${port}`,
      group: uniqueGroup(),
      clientOptions: { serverSelectionTimeoutMS: selectionTimeoutMs },
    });
    // A short sweeper interval, so the sweeper also runs into the outage.
    middleware = session({ store, app: 't', sweeper: { interval: 200 } });
    middleware.manager.on('error', () => undefined);
    const app = express();
    app.use(middleware);
    app.get('/login/:user', (req, res) => {
      req.session.user = req.params.user!;
      res.json({ user: req.session.user });
    });
    app.get('/me', (req, res) => res.json({ user: req.session.user ?? null }));
    app.use(errorsAsJson);
    server = createServer(app);
    base = await listen(server);
  });

  after(async () => {
    await close(server);
    await middleware.manager.close();
    await stopMongo(mongo);
    rmSync(dir, { recursive: true, force: true });
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  });

  it('answers 503 during the outage, never crashes, and recovers by itself', async (t) => {
    const ann = new Client(base);
    assert.deepEqual(await ann.json('/login/ann'), { user: 'ann' });
    assert.deepEqual(await ann.json('/me'), { user: 'ann' });
    const annCookie = ann.cookie;

    await stopMongo(mongo);
    mongo = undefined;

    // A bounded loop of requests while the server is down: an existing session (load fails)
    // and a new one (its commit fails) each get a prompt 503 with the stable code.
    const outage: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (const [client, path] of [
        [ann, '/me'],
        [new Client(base), '/login/bob'],
      ] as const) {
        const started = Date.now();
        const response = await client.request(path);
        outage.push(Date.now() - started);
        assert.equal(response.status, 503, `${path} during the outage`);
        const body = (await response.json()) as { error: string; message: string };
        assert.equal(body.error, 'UNISESSION_STORE_UNAVAILABLE');
        assert.match(body.message, /mongodb/);
      }
    }
    assert.equal(ann.cookie, annCookie, 'a failed request does not replace the cookie');
    assert.ok(Math.max(...outage) < selectionTimeoutMs + 1500, `outage answers took ${outage.join(', ')} ms`);

    // A store made while the server is down fails the same way, and sets itself up later.
    const late = mongodbStore({
      url: `mongodb://127.0.0.1:${port}`,
      group: uniqueGroup(),
      clientOptions: { serverSelectionTimeoutMS: selectionTimeoutMs },
    });
    t.after(() => late.close());
    const meta = sampleMeta();
    await assert.rejects(late.create(meta, new Map()), { code: 'UNISESSION_STORE_UNAVAILABLE', status: 503 });

    mongo = await startMongo(port, dataFile);
    const restarted = Date.now();
    let recovered: globalThis.Response | undefined;
    for (let i = 0; i < 40 && !recovered; i++) {
      const response = await new Client(base).request('/login/carol');
      if (response.status === 200) recovered = response;
      else await new Promise((wait) => setTimeout(wait, 250));
    }
    assert.ok(recovered, 'new sessions work again after the restart');
    t.diagnostic(
      `backend ${persistent ? 'h2 (persistent)' : 'memory'}; outage answers ${outage.join('/')} ms; recovered ${Date.now() - restarted} ms after the server accepted connections again`,
    );

    const carol = new Client(base);
    await carol.json('/login/carol');
    assert.deepEqual(await carol.json('/me'), { user: 'carol' });

    // The old session: kept by a persistent backend; an in-memory mongo-java-server lost it in
    // the restart (the server's loss, not the store's), and the app issues a fresh session.
    assert.deepEqual(await ann.json('/me'), { user: persistent ? 'ann' : null });
    if (!persistent) assert.notEqual(ann.cookie, annCookie, 'a lost session is replaced, not adopted');
    await late.create(meta, new Map([[':a', '1']]));
    assert.deepEqual((await late.load(meta.id, 'all', Date.now()))?.attributes, new Map([[':a', '1']]));
    assert.deepEqual(crashes, [], 'no uncaught exception or unhandled rejection');
  });
});
