/**
 * The demo, driven as a person would: a real headless Chromium talks to the demo's load
 * balancer, in front of 3 real app processes on the embedded SQLite store. It logs in,
 * reloads across nodes, kills the node that served it, and runs a rolling redeploy while a
 * background load hammers the cluster. Nobody may be logged out, no increment may be lost,
 * and Ctrl-C must leave no process behind.
 *
 * Needs Debian's `chromium` at /usr/bin/chromium (CHROMIUM_PATH overrides).
 * `UPDATE_SCREENSHOT=1` also writes docs/demo.png.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createBalancer, type Rotation, type Target } from '../../src/cli/demo/balancer.js';
import { installed, server } from '../helpers/servers.js';

const CLI = 'src/cli/index.ts';
const CHROMIUM = await installed('chromium');
// The last suite runs the demo on each server store.
await Promise.all([server('redis'), server('mongo'), server('postgres'), server('memcached')]);

interface Demo {
  process: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
}

/** Starts `unisession demo` from source and resolves once it prints its URL. */
async function startDemo(args: string[]): Promise<Demo> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'demo', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const demo: Demo = {
    process: child,
    stdout: [],
    stderr: [],
    exit: once(child, 'exit').then(([code]) => code as number | null),
  };
  child.stderr!.on('data', (chunk: Buffer) => demo.stderr.push(chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${demo.stdout.join('')}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      demo.stdout.push(chunk.toString());
      if (/Open\s+http:\/\/127\.0\.0\.1:\d+/.test(demo.stdout.join(''))) {
        clearTimeout(timer);
        resolve();
      }
    });
    demo.exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code}:\n${demo.stdout.join('')}${demo.stderr.join('')}`));
    });
  });
  return demo;
}

/** Runs the CLI to completion (for the bad-input cases). */
async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface NodeView {
  name: string;
  pid: number;
  version: number;
  state: string;
}
interface Cluster {
  supervisor: number;
  nodes: NodeView[];
  redeploy: unknown;
  pids: number[];
}

/** What the page shows, read from its DOM. */
async function readPage(page: Page) {
  const text = async (selector: string) => (await page.locator(selector).textContent())?.trim() ?? '';
  return {
    node: await text('#node-name'),
    pid: Number(await text('#node-pid')),
    visits: Number(await text('#visits')),
    user: (await page.locator('#user').count()) > 0 ? await text('#user') : null,
  };
}

/**
 * A user of its own, from the test process: logs in, then visits in a loop. Every answer
 * must show it logged in with exactly one more visit than the previous one.
 */
class Bot {
  cookie = '';
  ok = 0;
  failed: string[] = [];
  loggedOut = 0;
  lost = 0;
  readonly versions = new Set<number>();
  readonly nodes = new Set<string>();

  constructor(
    readonly base: string,
    readonly name: string,
  ) {}

  async login(): Promise<void> {
    const response = await fetch(`${this.base}/login`, {
      method: 'POST',
      body: new URLSearchParams({ name: this.name }),
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
    this.cookie = response.headers.getSetCookie()[0]!.split(';')[0]!;
  }

  /** One visit; returns false if it failed (the failure is recorded). */
  async visit(): Promise<boolean> {
    try {
      const response = await fetch(`${this.base}/api/visit`, { headers: { cookie: this.cookie } });
      if (response.status !== 200) {
        this.failed.push(`HTTP ${response.status}: ${await response.text()}`);
        return false;
      }
      const body = (await response.json()) as {
        node: string;
        user: string | null;
        visits: number;
        version: number;
      };
      this.versions.add(body.version);
      this.nodes.add(body.node);
      if (body.user !== this.name) this.loggedOut++;
      if (body.visits !== this.ok + 1) this.lost++;
      this.ok = body.visits;
      return true;
    } catch (error) {
      this.failed.push(String((error as Error).cause ?? error));
      return false;
    }
  }
}

describe('unisession demo (npm start), driven by headless Chromium', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'unisession-demo-'));
  let port: number;
  let base: string;
  let demo: Demo | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let lastVisits = 0;
  const pids = new Set<number>();

  const cluster = async (): Promise<Cluster> => {
    const state = (await (await fetch(`${base}/_demo/nodes`)).json()) as Cluster;
    for (const pid of state.pids) pids.add(pid);
    return state;
  };

  /** Loads the page once and checks that the session went on: same user, one more visit. */
  const load = async (url = base) => {
    const response = await page.goto(url);
    assert.equal(response?.status(), 200);
    const shown = await readPage(page);
    assert.equal(shown.user, 'ada', `logged out on ${shown.node}`);
    assert.equal(shown.visits, lastVisits + 1, `visit lost or doubled on ${shown.node}`);
    lastVisits = shown.visits;
    return shown;
  };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `headless tests need Chromium at ${CHROMIUM} (apt-get install chromium)`);
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    demo = await startDemo([
      '--port',
      String(port),
      '--nodes',
      '3',
      '--store',
      `sqlite:${join(dir, 's.sqlite')}`,
    ]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    if (demo && demo.process.exitCode === null && demo.process.signalCode === null) {
      demo.process.kill('SIGKILL');
      await demo.exit;
    }
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the URL, the store and three things to try', () => {
    const out = demo!.stdout.join('');
    assert.match(out, new RegExp(`Open\\s+${base}`));
    assert.match(out, /Store\s+sqlite:.*s\.sqlite/);
    assert.match(
      out,
      /Three things to try:\n\s+1\. .*\n[\s\S]*2\. .*Kill this node[\s\S]*3\. .*Rolling redeploy/,
    );
  });

  it('logs in and stays logged in over 20 reloads, round robin over 3 nodes, +1 visit each', async () => {
    await page.goto(base);
    assert.equal((await readPage(page)).user, null);
    await page.fill('#name', 'ada');
    await Promise.all([page.waitForURL(`${base}/`), page.click('#login')]);
    const first = await readPage(page);
    assert.equal(first.user, 'ada');
    lastVisits = first.visits;

    const seen = new Set<string>([`${first.node}/${first.pid}`]);
    for (let i = 0; i < 20; i++) {
      const shown = await load();
      seen.add(`${shown.node}/${shown.pid}`);
    }
    assert.ok(seen.size >= 3, `served by ${[...seen].join(', ')}`);

    const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'unisession');
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    // The client reached the balancer over plain http, so the cookie must not be Secure.
    assert.equal(cookie.secure, false);
  });

  it('trusts only what the balancer says: a client cannot fake X-Forwarded-Proto', async () => {
    const response = await fetch(`${base}/api/visit`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(response.status, 200);
    const setCookie = response.headers.getSetCookie()[0] ?? '';
    assert.match(setCookie, /^unisession=/);
    assert.doesNotMatch(setCookie, /;\s*Secure/i);
  });

  it('kills the node that served the page from its button, and the user stays logged in', async () => {
    await load();
    const victim = await readPage(page);
    const before = await cluster();
    assert.equal(before.nodes.filter((n) => n.state === 'up').length, 3);

    await Promise.all([page.waitForURL(/killed=/), page.click('#kill')]);
    const after = await readPage(page);
    assert.notEqual(after.node, victim.node, 'the next page comes from another node');
    assert.equal(after.user, 'ada');
    assert.equal(after.visits, lastVisits + 1);
    lastVisits = after.visits;
    assert.match(
      (await page.locator('.note.warn').textContent()) ?? '',
      new RegExp(`${victim.node} was killed`),
    );
    assert.equal(isAlive(victim.pid), false, 'the killed process is gone');
    if (process.env.UPDATE_SCREENSHOT === '1')
      await page.screenshot({ path: 'docs/demo.png', fullPage: true });

    // Reloads go on while the node is down: the balancer skips it.
    for (let i = 0; i < 4; i++) assert.notEqual((await load()).node, victim.node);

    // The supervisor restarts it (a new process in the same slot) a few seconds later.
    const back = await until('the killed node to come back', async () => {
      const state = await cluster();
      const node = state.nodes.find((n) => n.name === victim.node);
      return node?.state === 'up' && node.pid !== victim.pid ? node : undefined;
    });
    assert.equal(isAlive(back.pid), true);
    const served = new Set<string>();
    for (let i = 0; i < 3; i++) served.add((await load()).node);
    assert.ok(served.has(victim.node), 'the restarted node serves again');
  });

  it('runs a rolling redeploy under 500+ requests: no failure, no logout, no lost increment', async () => {
    const bots = Array.from({ length: 4 }, (_, i) => new Bot(base, `bot-${i}`));
    await Promise.all(bots.map((bot) => bot.login()));
    const total = () => bots.reduce((sum, bot) => sum + bot.ok + bot.failed.length, 0);
    let stop = false;
    const deadline = Date.now() + 60_000;
    const running = bots.map(async (bot) => {
      // Each bot is one user: its visits are sequential, so its counter must count exactly.
      while (!stop && Date.now() < deadline && bot.ok + bot.failed.length < 20_000) await bot.visit();
    });

    await until('background load to start', async () => (total() >= 50 ? true : undefined));
    const before = await cluster();
    const atStart = total();
    await Promise.all([page.waitForURL(/redeploy=started/), page.click('#redeploy')]);
    const shown = await readPage(page);
    assert.equal(shown.user, 'ada');
    assert.equal(shown.visits, lastVisits + 1);
    lastVisits = shown.visits;

    const after = await until(
      'the redeploy to finish',
      async () => {
        const state = await cluster();
        return state.redeploy === null && state.nodes.every((n) => n.version === 2 && n.state === 'up')
          ? state
          : undefined;
      },
      40_000,
    );
    const duringRedeploy = total() - atStart;
    await until('500 requests', async () => (total() >= 500 ? true : undefined), 30_000);
    stop = true;
    await Promise.all(running);

    // Every node was replaced by a new process.
    assert.equal(after.nodes.length, 3);
    for (const node of after.nodes) {
      assert.ok(!before.nodes.some((old) => old.pid === node.pid), `${node.name} was replaced`);
    }
    for (const old of before.nodes) assert.equal(isAlive(old.pid), false, `old ${old.name} stopped`);

    const failed = bots.flatMap((bot) => bot.failed);
    assert.deepEqual(failed, [], 'no request failed');
    assert.equal(
      bots.reduce((sum, bot) => sum + bot.loggedOut, 0),
      0,
      'no response showed a logged-out user',
    );
    assert.equal(
      bots.reduce((sum, bot) => sum + bot.lost, 0),
      0,
      'no increment lost',
    );
    assert.ok(total() >= 500, `${total()} requests`);
    assert.ok(duringRedeploy > 0, 'traffic flowed while the nodes were being replaced');
    for (const bot of bots) assert.deepEqual([...bot.versions].sort(), [1, 2], `${bot.name} saw v1 and v2`);

    // The final count in the store equals the number of successful increments.
    for (const bot of bots) {
      const successful = bot.ok;
      assert.equal(await bot.visit(), true);
      assert.equal(bot.ok, successful + 1);
    }
    console.log(
      `# redeploy: ${total()} requests, ${duringRedeploy} while nodes were replaced, 0 failed, 0 logged out, 0 lost`,
    );

    // The browser user is still logged in after the redeploy.
    const page2 = await load();
    assert.equal(page2.user, 'ada');
  });

  it('rejects a bad user name with a clear error and keeps the session', async () => {
    const response = await page.request.post(`${base}/login`, { form: { name: '<script>' } });
    assert.equal(response.status(), 400);
    assert.match(await response.text(), /A user name is 1 to 40 letters/);
    const shown = await load();
    assert.equal(shown.user, 'ada');
  });

  it('logs out', async () => {
    await Promise.all([page.waitForURL(`${base}/`), page.click('#logout')]);
    assert.equal((await readPage(page)).user, null);
  });

  it('lists "your sessions" across two browsers, and "sign out other devices" logs the other one out', async () => {
    const login = async (target: Page) => {
      await target.goto(base);
      await target.fill('#name', 'lin');
      await Promise.all([target.waitForURL(`${base}/`), target.click('#login')]);
    };
    // A second browser context: its own cookie jar, as another device would have.
    const other = await browser!.newContext({
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)',
    });
    const phone = await other.newPage();
    try {
      await login(phone);
      await login(page);
      assert.equal(await page.locator('#devices tr').count(), 2);
      assert.match((await page.textContent('#devices tr.current')) ?? '', /this one/);
      assert.match((await page.textContent('#devices')) ?? '', /iOS/);
      await Promise.all([page.waitForURL(/signedout=1/), page.click('#revoke-others')]);
      assert.equal(await page.locator('#devices tr').count(), 1);
      await phone.goto(base);
      assert.equal((await readPage(phone)).user, null, 'the other device is signed out');
      assert.equal((await readPage(page)).user, 'lin', 'this one stays signed in');
    } finally {
      await other.close();
    }
    await Promise.all([page.waitForURL(`${base}/`), page.click('#logout')]);
  });

  it('serves the monitor beside it: the session appears, and deleting it there logs the demo tab out', async () => {
    await page.fill('#name', 'grace');
    await Promise.all([page.waitForURL(`${base}/`), page.click('#login')]);
    assert.equal((await readPage(page)).user, 'grace');
    const out = demo!.stdout.join('');
    const token = /one-time token (local:[A-Za-z0-9_-]+)/.exec(out)?.[1];
    assert.ok(token, 'the demo prints a one-time monitor token');
    const monitorUrl = await page.getAttribute('#monitor', 'href');
    assert.ok(monitorUrl && out.includes(monitorUrl), 'the demo page links to the monitor it printed');
    const monitor = await browser!.newPage();
    monitor.on('dialog', (dialog) => void dialog.accept());
    await monitor.goto(monitorUrl);
    await monitor.fill('input[name="secret"]', token);
    await Promise.all([monitor.waitForURL(monitorUrl), monitor.click('button[type="submit"]')]);
    assert.ok(Number(await monitor.textContent('[data-stat="usersOnline"]')) >= 1);
    await monitor.goto(`${monitorUrl}sessions?principal=grace`);
    await Promise.all([monitor.waitForURL(/\/sessions\/[^/?]+$/), monitor.click('#results a.mono')]);
    await Promise.all([monitor.waitForURL(/\/sessions$/), monitor.click('text=Delete this session')]);
    await monitor.close();
    await page.goto(base);
    assert.equal((await readPage(page)).user, null);
  });

  it('stops on SIGINT and leaves no process behind', async () => {
    const state = await cluster();
    pids.add(state.supervisor);
    assert.ok(pids.size >= 3 + 1 + 3 + 1, `tracked ${pids.size} pids`);
    demo!.process.kill('SIGINT');
    const started = Date.now();
    assert.equal(await demo!.exit, 0);
    assert.ok(Date.now() - started < 15_000);
    assert.match(demo!.stdout.join(''), /Stopped\. No process left behind\./);
    await until('every child to be gone', async () =>
      [...pids].every((pid) => !isAlive(pid)) ? true : undefined,
    );
  });
});

describe('unisession demo: bad input', { timeout: 60_000 }, () => {
  it('refuses the memory store, explaining why', async () => {
    const { code, stderr } = await runCli(['demo', '--store', 'memory']);
    assert.equal(code, 2);
    assert.match(stderr, /memory cannot work for a cluster: each node process would have its own memory/);
  });

  it('rejects a store it does not know, a bad --nodes and an unknown option', async () => {
    const [scheme, nodes, option] = await Promise.all([
      runCli(['demo', '--store', 'ftp://127.0.0.1/x']),
      runCli(['demo', '--nodes', '0']),
      runCli(['demo', '--colour']),
    ]);
    assert.equal(scheme.code, 2);
    assert.match(scheme.stderr, /is not a store this demo knows\. Use sqlite:<file>, redis:\/\//);
    assert.equal(nodes.code, 2);
    assert.match(nodes.stderr, /--nodes must be a whole number from 1 to 16, got "0"/);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /Unknown option '--colour'/);
  });

  it('says clearly when the port is taken, and starts nothing', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    const dir = mkdtempSync(join(tmpdir(), 'unisession-demo-'));
    try {
      const { code, stdout, stderr } = await runCli([
        'demo',
        '--port',
        String(port),
        '--store',
        `sqlite:${join(dir, 's.sqlite')}`,
      ]);
      assert.equal(code, 1);
      assert.match(
        stderr,
        new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use.*--port ${port + 1}`),
      );
      assert.doesNotMatch(stdout, /pid/);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says clearly when the store cannot be reached, and starts nothing', async () => {
    const closed = await freePort();
    const { code, stdout, stderr } = await runCli([
      'demo',
      '--store',
      `postgres://demo@127.0.0.1:${closed}/demo`,
    ]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      new RegExp(`Cannot use the store postgres://demo@127\\.0\\.0\\.1:${closed}/demo: .*ECONNREFUSED`),
    );
    assert.doesNotMatch(stdout, /pid/);
  });

  it('`demo redeploy` with no demo running says so', async () => {
    const closed = await freePort();
    const { code, stderr } = await runCli(['demo', 'redeploy', '--port', String(closed)]);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`No demo answers on 127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)`));
  });

  it('lists its commands with --help and refuses an unknown one', async () => {
    const [help, unknown, demoHelp] = await Promise.all([
      runCli(['--help']),
      runCli(['dmeo']),
      runCli(['demo', '--help']),
    ]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Commands:\n\s+demo\s+run a demo cluster/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "dmeo"/);
    assert.equal(demoHelp.code, 0);
    assert.match(demoHelp.stdout, /--store <url>/);
  });
});

describe('unisession demo: no orphans', { timeout: 60_000 }, () => {
  it('takes its nodes down with it when the supervisor itself is SIGKILLed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'unisession-demo-'));
    const port = await freePort();
    const demo = await startDemo([
      '--port',
      String(port),
      '--nodes',
      '2',
      '--store',
      `sqlite:${join(dir, 's.sqlite')}`,
    ]);
    try {
      const { pids } = (await (await fetch(`http://127.0.0.1:${port}/_demo/nodes`)).json()) as Cluster;
      assert.equal(pids.length, 2);
      assert.ok(pids.every(isAlive));
      demo.process.kill('SIGKILL');
      await demo.exit;
      // Each node sees its IPC channel close and exits: nothing is left serving a dead demo.
      await until('the nodes to exit', async () => (pids.some(isAlive) ? undefined : true), 10_000);
    } finally {
      demo.process.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The same cluster on each server store (npm test starts them: see the server() calls above). */
describe('unisession demo on the server stores', { timeout: 120_000 }, () => {
  const mongo = process.env.MONGO_URL ? new URL(process.env.MONGO_URL) : undefined;
  if (mongo) mongo.pathname = '/unisession_demo';
  const stores: Array<[string, string | undefined]> = [
    ['redis', process.env.REDIS_URL],
    ['mongodb', mongo?.toString()],
    ['postgres', process.env.PG_URL],
    ['memcached', process.env.MEMCACHED_NODES && `memcached://${process.env.MEMCACHED_NODES}`],
  ];
  for (const [name, url] of stores) {
    const skip = url ? false : `no ${name} server here (npm test starts one)`;
    it(`shares one session over 2 nodes on ${name}, through a kill`, { skip }, async () => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const demo = await startDemo(['--port', String(port), '--nodes', '2', '--store', url!]);
      try {
        assert.match(demo.stdout.join(''), new RegExp(`Store\\s+${name === 'postgres' ? 'postgres' : name}`));
        const bot = new Bot(base, 'eve');
        await bot.login();
        for (let i = 0; i < 6; i++) assert.equal(await bot.visit(), true, bot.failed.join('; '));
        const killed = await fetch(`${base}/_demo/kill?node=node-1`, { method: 'POST' });
        assert.equal(killed.status, 200);
        for (let i = 0; i < 4; i++) assert.equal(await bot.visit(), true, bot.failed.join('; '));
        assert.deepEqual([...bot.nodes].sort(), ['node-1', 'node-2']);
        assert.equal(bot.ok, 10);
        assert.equal(bot.loggedOut, 0);
        assert.equal(bot.lost, 0);
      } finally {
        demo.process.kill('SIGINT');
        assert.equal(await demo.exit, 0);
      }
    });
  }
});

describe('demo load balancer', () => {
  const servers: Server[] = [];
  let balancer: Server | undefined;
  const received: Array<{ target: string; method: string; body: string; xff: string; proto: string }> = [];

  /** A real backend that records what reached it; `/reset` makes it drop the connection. */
  async function backend(name: string): Promise<Target> {
    const server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      req.on('end', () => {
        received.push({
          target: name,
          method: req.method!,
          body,
          xff: String(req.headers['x-forwarded-for']),
          proto: String(req.headers['x-forwarded-proto']),
        });
        if (req.url === '/reset') req.socket.destroy();
        else res.end(name);
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { name, port: (server.address() as { port: number }).port, inflight: 0, served: 0 };
  }

  async function start(targets: Target[]): Promise<string> {
    let next = 0;
    const rotation: Rotation = {
      pick(skip) {
        for (let i = 0; i < targets.length; i++) {
          const target = targets[(next + i) % targets.length]!;
          if (!skip.has(target)) {
            next = (next + i + 1) % targets.length;
            return target;
          }
        }
        return undefined;
      },
      view: () => ({ nodes: [], redeploy: null, store: 'none' }),
      pids: [],
      kill: async () => undefined,
      redeploy: async () => undefined,
    };
    balancer?.close();
    balancer = createBalancer(rotation);
    await new Promise<void>((resolve) => balancer!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(balancer.address() as { port: number }).port}`;
  }

  after(() => {
    balancer?.close();
    for (const server of servers) server.close();
  });

  it('skips a refusing node without failing the request, replays the body, and sets X-Forwarded-*', async () => {
    const dead = (name: string) =>
      freePort().then((port): Target => ({ name, port, inflight: 0, served: 0 }));
    const targets = [await dead('dead-1'), await backend('a'), await dead('dead-2'), await backend('b')];
    const url = await start(targets);
    received.length = 0;
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) {
      const response = await fetch(`${url}/echo`, {
        method: i % 2 ? 'POST' : 'GET',
        body: i % 2 ? `body-${i}` : undefined,
        headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' },
      });
      assert.equal(response.status, 200);
      answers.push(await response.text());
    }
    assert.deepEqual(answers, ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    assert.deepEqual(
      received.filter((r) => r.method === 'POST').map((r) => r.body),
      ['body-1', 'body-3', 'body-5', 'body-7'],
    );
    // The balancer is the edge: the client's own X-Forwarded-* claims are replaced.
    assert.ok(received.every((r) => r.xff === '127.0.0.1' && r.proto === 'http'));
    assert.deepEqual(
      targets.map((t) => [t.name, t.served, t.inflight]),
      [
        ['dead-1', 0, 0],
        ['a', 4, 0],
        ['dead-2', 0, 0],
        ['b', 4, 0],
      ],
    );
  });

  it('does not replay a request a node may have processed (connection reset), and says 503 with none up', async () => {
    const url = await start([await backend('c'), await backend('d')]);
    received.length = 0;
    const reset = await fetch(`${url}/reset`, { method: 'POST', body: 'once' });
    assert.equal(reset.status, 502);
    assert.match(await reset.text(), /Bad gateway: c failed \(ECONNRESET\)/);
    assert.deepEqual(
      received.map((r) => r.target),
      ['c'],
      'sent once, never retried elsewhere',
    );

    const none = await start([]);
    const unavailable = await fetch(`${none}/`);
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.headers.get('retry-after'), '1');
  });
});
