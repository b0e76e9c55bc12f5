/**
 * Issue 12: "remember me" at login and "forget me" at logout, end to end in headless
 * Chromium with the express-session API (`req.session.cookie.maxAge`, `.expires = false`,
 * `destroy`). A persistent browser profile (a user-data-dir) is closed and reopened, as a
 * user quitting the browser does: a remembered login outlives the restart; a login without
 * "remember me" and a logged-out one do not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type BrowserContext, chromium } from 'playwright-core';
import { session } from '../../src/adapters/express.js';
import { memoryStore } from '../../src/stores/memory.js';
import { close, listen } from '../helpers/server.js';
import { installed } from '../helpers/servers.js';

const CHROMIUM = await installed('chromium');
const DAY = 86_400_000;

declare module '../../src/adapters/express.js' {
  interface SessionData {
    user: string;
  }
}

/** The login every express-session tutorial shows, with the "remember me" box. */
function app() {
  const web = express();
  const store = memoryStore();
  const middleware = session({ secret: 'remember', store, sweeper: false });
  web.use(middleware);
  web.get('/login', (req: Request, res: Response, next: NextFunction) => {
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.user = 'ada';
      if (req.query.remember === 'on') req.session.cookie.maxAge = 30 * DAY;
      else req.session.cookie.expires = false;
      res.redirect('/me');
    });
  });
  web.get('/logout', (req: Request, res: Response, next: NextFunction) => {
    req.session.destroy((error) => (error ? next(error) : res.redirect('/me')));
  });
  web.get('/me', (req: Request, res: Response) => res.type('text').send(req.session.user ?? 'nobody'));
  return { web, middleware };
}

describe('remember me / forget me in headless Chromium, across a browser restart', () => {
  const { web, middleware } = app();
  const server = createServer(web);
  let base = '';
  const profiles: string[] = [];

  before(async () => {
    const port = new URL(await listen(server)).port;
    base = `http://shop.example.test:${port}`;
  });
  after(async () => {
    await close(server);
    await middleware.manager.close();
    for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
  });

  /** A browser on a profile that survives `close()`: what a user quits and starts again. */
  const open = (profile: string): Promise<BrowserContext> =>
    chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--host-resolver-rules=MAP *.example.test 127.0.0.1',
      ],
    });
  const profile = () => {
    const dir = mkdtempSync(join(tmpdir(), 'unisession-remember-'));
    profiles.push(dir);
    return dir;
  };
  const whoAmI = async (context: BrowserContext, path = '/me') => {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(base + path);
    return (await page.textContent('body'))?.trim();
  };

  it('"remember me": a persistent cookie, and the user is still logged in after a restart', async () => {
    const dir = profile();
    let browser = await open(dir);
    assert.equal(await whoAmI(browser, '/login?remember=on'), 'ada');
    const [cookie] = await browser.cookies(base);
    assert.ok(cookie && cookie.expires > Date.now() / 1000 + 29 * 86_400, 'a 30-day cookie');
    await browser.close();
    browser = await open(dir);
    try {
      assert.equal(await whoAmI(browser), 'ada', 'the cookie outlived the restart');
      // "Forget me": logging out clears the cookie, and a restart does not bring it back.
      assert.equal(await whoAmI(browser, '/logout'), 'nobody');
      assert.deepEqual(await browser.cookies(base), []);
    } finally {
      await browser.close();
    }
    browser = await open(dir);
    try {
      assert.equal(await whoAmI(browser), 'nobody');
      assert.deepEqual(await browser.cookies(base), []);
    } finally {
      await browser.close();
    }
  });

  it('without "remember me": a browser-session cookie that a restart drops', async () => {
    const dir = profile();
    let browser = await open(dir);
    assert.equal(await whoAmI(browser, '/login'), 'ada');
    const [cookie] = await browser.cookies(base);
    assert.equal(cookie?.expires, -1, 'a session cookie');
    assert.equal(await whoAmI(browser), 'ada');
    await browser.close();
    browser = await open(dir);
    try {
      assert.equal(await whoAmI(browser), 'nobody', 'the restart ended the browser session');
    } finally {
      await browser.close();
    }
  });
});
