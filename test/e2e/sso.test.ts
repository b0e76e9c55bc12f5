/**
 * The SSO demo, driven in a real headless Chromium (issue 11's acceptance): four apps, each a
 * 2-node cluster behind the demo balancer, on the embedded SQLite store. The demo's host names
 * end in `.localhost`, which Chromium resolves to loopback by itself; the resolver rule below
 * says so explicitly. Real Domain cookies are exercised: portal and shop share a host, admin
 * is a subdomain of the cookie's domain, partner is another registrable domain.
 *
 *   1. log in at portal;  2. shop shows the user, portal cannot see shop's cart;
 *   3. admin shows the user;  4. partner shows the user after the hand-off, no password;
 *   5. log out at partner: portal, shop and admin are logged out, on every node;
 *   6. log in again: revokePrincipal from a script logs out all four.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { DEMO_GROUP } from '../../src/cli/demo/stores.js';
import { createSessionManager } from '../../src/index.js';
import { sqliteStore } from '../../src/stores/sqlite.js';
import { installed } from '../helpers/servers.js';

const CHROMIUM = await installed('chromium');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('the SSO demo in a real browser', { timeout: 420_000 }, () => {
  const file = join(mkdtempSync(join(tmpdir(), 'unisession-sso-demo-')), 'sso.sqlite');
  let port = 0;
  let demo: ChildProcess;
  let output = '';
  let browser: Browser;
  let page: Page;
  const url = {
    portal: () => `http://www.sso.localhost:${port}/portal/`,
    shop: () => `http://www.sso.localhost:${port}/shop/`,
    admin: () => `http://admin.sso.localhost:${port}/`,
    partner: () => `http://partner.localhost:${port}/`,
  };
  type App = keyof typeof url;

  before(async () => {
    port = await freePort();
    demo = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/index.ts',
        'demo',
        'sso',
        '--port',
        String(port),
        '--store',
        `sqlite:${file}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    demo.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    demo.stderr!.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo did not start:\n${output}`)), 200_000);
      const check = () => {
        if (output.includes('Ctrl-C stops the demo')) {
          clearTimeout(timer);
          resolve();
        }
      };
      demo.stdout!.on('data', check);
      demo.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the demo exited with ${code}:\n${output}`));
      });
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--host-resolver-rules=MAP *.localhost 127.0.0.1',
      ],
    });
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) {
      const exited = once(demo, 'exit');
      demo.kill('SIGINT');
      await exited;
    }
  });

  /** Loads an app's page; returns who it says is logged in, and the node that served it. */
  async function visit(app: App): Promise<{ user: string; node: string }> {
    await page.goto(url[app]());
    assert.equal(await page.getAttribute('body', 'data-app'), app);
    return {
      user: (await page.textContent('[data-testid=user]')) ?? '',
      node: (await page.getAttribute('body', 'data-node')) ?? '',
    };
  }

  /** Loads an app until both of its nodes have answered; every answer must name `user`. */
  async function onEveryNode(app: App, user: string): Promise<void> {
    const nodes = new Set<string>();
    for (let i = 0; i < 8 && nodes.size < 2; i++) {
      const seen = await visit(app);
      assert.equal(seen.user, user, `${app} on ${seen.node}`);
      nodes.add(seen.node);
    }
    assert.equal(nodes.size, 2, `${app}: both nodes answered (${[...nodes].join(', ')})`);
  }

  async function logInAtPortal(name: string): Promise<void> {
    await page.goto(url.portal());
    await page.fill('[data-testid=name]', name);
    await Promise.all([page.waitForURL(url.portal()), page.click('[data-testid=login]')]);
    assert.equal(await page.textContent('[data-testid=user]'), name);
  }

  async function handOffToPartner(): Promise<void> {
    await page.goto(url.partner());
    assert.equal(await page.textContent('[data-testid=user]'), 'Not logged in');
    // The hub redirects straight back with a ticket: no password is typed anywhere.
    await Promise.all([page.waitForURL(url.partner()), page.click('[data-testid=sso-login]')]);
  }

  it('1-4: one login is seen by every app, private attributes stay private', async () => {
    await logInAtPortal('alice');
    // 2. The shop, on the same host under /shop: the same cookie (Path=/).
    await onEveryNode('shop', 'alice');
    await Promise.all([page.waitForURL(url.shop()), page.click('[data-testid=add-to-cart]')]);
    assert.match((await page.textContent('[data-testid=private]')) ?? '', /book-1/);
    await visit('portal');
    assert.doesNotMatch(
      (await page.textContent('body')) ?? '',
      /book-1|cart/,
      "the portal cannot see the shop's cart",
    );
    assert.match((await page.textContent('[data-testid=shared]')) ?? '', /alice/);
    // 3. Admin, on a subdomain: the Domain=sso.localhost cookie.
    await onEveryNode('admin', 'alice');
    const cookies = await page.context().cookies(url.admin());
    assert.equal(cookies.find((cookie) => cookie.name === 'unisession')?.domain, '.sso.localhost');
    // 4. Partner, on another registrable domain: no cookie reaches it, the ticket hands over.
    const before = await page.context().cookies(url.partner());
    assert.equal(
      before.find((cookie) => cookie.name === 'unisession'),
      undefined,
    );
    await handOffToPartner();
    assert.equal(await page.textContent('[data-testid=user]'), 'alice');
    await onEveryNode('partner', 'alice');
    const partnerCookie = (await page.context().cookies(url.partner())).find((c) => c.name === 'unisession');
    assert.equal(partnerCookie?.domain, 'partner.localhost', "a host-only cookie of the partner's own");
  });

  it('5: logging out at the partner logs out portal, shop and admin on every node', async () => {
    await visit('partner');
    await Promise.all([page.waitForURL(url.partner()), page.click('[data-testid=logout]')]);
    assert.equal(await page.textContent('[data-testid=user]'), 'Not logged in');
    for (const app of ['portal', 'shop', 'admin'] as const) await onEveryNode(app, 'Not logged in');
  });

  it('6: revokePrincipal from a script logs out all four', async () => {
    // Log in again, this time starting at the partner: the hub has no session, so it shows its
    // login first and issues the ticket after it.
    await page.goto(url.partner());
    await Promise.all([page.waitForURL(/\/portal\/login\?next=/), page.click('[data-testid=sso-login]')]);
    assert.match((await page.textContent('[data-testid=note]')) ?? '', /continue to the partner/);
    await page.fill('[data-testid=name]', 'alice');
    await Promise.all([page.waitForURL(url.partner()), page.click('[data-testid=login]')]);
    assert.equal(await page.textContent('[data-testid=user]'), 'alice');
    for (const app of ['portal', 'shop', 'admin', 'partner'] as const)
      assert.equal((await visit(app)).user, 'alice');
    // An operator's script: its own manager on the same store and group.
    const script = createSessionManager({
      app: 'ops-script',
      store: sqliteStore({ file, group: DEMO_GROUP }),
      sweeper: false,
    });
    try {
      assert.ok((await script.revokePrincipal('alice')) >= 1);
    } finally {
      await script.close();
    }
    for (const app of ['portal', 'shop', 'admin', 'partner'] as const)
      await onEveryNode(app, 'Not logged in');
  });

  it('shows the shop page (UPDATE_SCREENSHOT=1 writes docs/sso-demo.png)', async () => {
    await logInAtPortal('alice');
    await visit('shop');
    assert.equal(await page.getAttribute('[data-testid=link-partner]', 'href'), url.partner());
    if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: 'docs/sso-demo.png', fullPage: true });
  });

  it('stops every process on Ctrl-C', async () => {
    const exited = once(demo, 'exit');
    demo.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 0, output);
    assert.match(output, /Stopped\. No process left behind\./);
  });
});

describe('demo sso: bad input', () => {
  async function run(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'demo', 'sso', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk;
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code] = await once(child, 'exit');
    clearTimeout(timer);
    return { code, text };
  }

  it('refuses a bad port, a bad root domain, an unknown option and a memory store, each with exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--port', 'abc'], /--port must be a whole number/],
      [['--root', 'Not_A_Domain'], /option "domain" must be a lower-case domain name/],
      [['--nodes', '3'], /Unknown option '--nodes'/],
      [['--store', 'memory'], /--store memory cannot work for a cluster/],
    ];
    for (const [args, message] of cases) {
      const { code, text } = await run(args);
      assert.equal(code, 2, `${args.join(' ')}: ${text}`);
      assert.match(text, message);
    }
  });
});
