/**
 * Takes docs/monitor.png: the monitor's overview and a session's detail, over an in-memory
 * group of two apps with a few hundred sessions made by real requests.
 *
 *   node --import tsx scripts/screenshot-monitor.ts [--out docs/monitor.png]
 *
 * Needs Chromium (/usr/bin/chromium, or CHROMIUM_PATH) and playwright-core.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { defaultCodec } from '../src/codec/json.js';
import { SessionManager } from '../src/core/manager.js';
import type { RequestInfo } from '../src/core/request.js';
import { createMonitor, hashSecret, toNodeHandler } from '../src/monitor/index.js';
import { memoryStore } from '../src/stores/memory.js';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = values.out ?? 'docs/monitor.png';

const store = memoryStore({ group: 'shop-group' });
const common = {
  store,
  codec: defaultCodec,
  shared: ['user'],
  sweeper: false as const,
  secret: 'screenshot',
};
const portal = new SessionManager({ app: 'portal', ...common });
const shop = new SessionManager({ app: 'shop', ...common });

const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
];

function request(i: number, url: string): RequestInfo {
  const headers = new Map([['user-agent', AGENTS[i % AGENTS.length] as string]]);
  return {
    url,
    method: 'GET',
    header: (name) => headers.get(name),
    remoteAddress: `10.0.${(i * 7) % 250}.${(i * 13) % 250}`,
    encrypted: true,
  };
}

let sample = '';
for (let i = 0; i < 240; i++) {
  const manager = i % 3 === 0 ? portal : shop;
  const session = manager.open(request(i, i % 3 === 0 ? '/portal/login' : '/shop/products'));
  if (i % 2 === 0) {
    const user = `user${(i * 37) % 120}@example.com`;
    await session.set('user', { name: user, since: new Date(Date.UTC(2026, 0, 1 + (i % 28))) });
    await session.setPrincipal(user);
  }
  if (manager === shop) {
    await session.set(
      'cart',
      new Map<string, number>([
        ['sku-1042', 1 + (i % 3)],
        ['sku-2210', 1],
      ]),
    );
    await session.set('paymentToken', 'tok_live_123');
  } else {
    await session.set('theme', i % 4 === 0 ? 'dark' : 'light');
  }
  await session.commit();
  if (i === 4) sample = session.id ?? '';
}

const secret = 'screenshot-secret';
const monitor = createMonitor({
  managers: [portal, shop],
  basePath: '/admin/sessions',
  credentials: [{ name: 'ops', secretHash: await hashSecret(secret), scope: 'all', role: 'operator' }],
  displayAttributes: ['user'],
});
const server = createServer(toNodeHandler(monitor));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/admin/sessions`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  await page.goto(`${base}/login`);
  await page.fill('input[name="secret"]', `ops:${secret}`);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${base}/`);
  await page.screenshot({ path: out, fullPage: false });
  console.log(`wrote ${out} (session ${sample.slice(0, 8)}… of ${await portal.count({})} sessions)`);
} finally {
  await browser.close();
  server.close();
  await monitor.close();
  await portal.close();
}
