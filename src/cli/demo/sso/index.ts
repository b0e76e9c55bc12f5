/**
 * `unisession demo sso`: four apps that share one session, each a 2-node cluster behind its
 * own demo balancer, all behind one front port that routes by host and path:
 * portal and shop on one host, admin on a subdomain, partner on another root domain.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { explainError } from '../../../core/errors.js';
import { UsageError } from '../../command.js';
import { createBalancer } from '../balancer.js';
import { listen } from '../listen.js';
import { demoSecret } from '../secret.js';
import { describeStore, openStore, parseStore } from '../stores.js';
import { Supervisor } from '../supervisor.js';
import {
  appUrl,
  DEFAULT_PARTNER,
  DEFAULT_ROOT,
  SSO_APPS,
  type SsoAppCode,
  type SsoDemoHosts,
  type SsoNodeApp,
  ssoGroup,
} from './config.js';
import { createRouter, routesOf } from './router.js';

export const ssoUsage = `Usage: unisession demo sso [options]

Starts four apps sharing one session store, each a 2-node cluster behind a load balancer:
portal and shop on one host (under /portal and /shop), admin on a subdomain, and partner on
another root domain, which signs in through the portal's SSO hub with a one-time ticket.

Options:
  --port <n>       the front port on 127.0.0.1 for every app (default 3100)
  --store <url>    sqlite:<file> (default sqlite:.demo/sso.sqlite) or another shared store URL
  --root <domain>  the root domain of portal, shop and admin (default ${DEFAULT_ROOT})
  --partner <host> the partner's host, on another root domain (default ${DEFAULT_PARTNER})
  -h, --help       this help`;

const DEFAULT_SSO_STORE = 'sqlite:.demo/sso.sqlite';
const ENTRY = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './node.ts' : './node.js', import.meta.url),
);

function options(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        store: { type: 'string' },
        root: { type: 'string' },
        partner: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export async function runSsoDemo(argv: string[]): Promise<number> {
  const values = options(argv);
  const portText = values.port ?? '3100';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be a whole number from 1 to 65535, got "${portText}"`);
  }
  const hosts: SsoDemoHosts = {
    root: values.root ?? DEFAULT_ROOT,
    partner: values.partner ?? DEFAULT_PARTNER,
    port,
  };
  let group: ReturnType<typeof ssoGroup>;
  try {
    group = ssoGroup(hosts);
  } catch (error) {
    throw new UsageError(explainError(error));
  }
  const storeUrl = values.store ?? DEFAULT_SSO_STORE;
  const spec = parseStore(storeUrl);
  const storeLabel = describeStore(spec);
  try {
    const store = await openStore(spec);
    await store
      .load('unisession-demo-probe', [], Date.now())
      .finally(() => store.close().catch(() => undefined));
  } catch (error) {
    console.error(`Cannot use the store ${storeLabel}: ${explainError(error)}`);
    return 1;
  }

  const log = (line: string) => console.log(`  · ${line}`);
  const secret = demoSecret();
  const supervisors = new Map<SsoAppCode, Supervisor>();
  const balancers: Server[] = [];
  const ports = new Map<string, () => number | undefined>();
  for (const code of SSO_APPS) {
    const app: SsoNodeApp = { code, hosts };
    // Eight processes start at once: on a small or busy machine that takes longer than one
    // cluster's start, so each node gets a minute and a half rather than the default 20 s.
    const supervisor = new Supervisor({
      startTimeout: 90_000,
      nodes: 2,
      store: storeUrl,
      storeLabel,
      secret,
      log,
      entry: ENTRY,
      app,
    });
    supervisors.set(code, supervisor);
    const balancer = createBalancer(supervisor, log);
    balancers.push(balancer);
    ports.set(code, () => {
      const address = balancer.address();
      return typeof address === 'object' && address ? address.port : undefined;
    });
  }
  const front = createRouter(routesOf(group, ports), appUrl(hosts, 'portal'));
  try {
    await Promise.all(balancers.map((balancer) => listen(balancer, 0)));
    await listen(front, port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `Port ${port} on 127.0.0.1 is already in use. Pick another one: --port ${port + 1}`
        : `Cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`,
    );
    await Promise.all(balancers.map((balancer) => new Promise((resolve) => balancer.close(resolve))));
    return 1;
  }
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(name, resolve);
  });
  const stop = async () => {
    for (const server of [front, ...balancers]) {
      server.close();
      server.closeAllConnections();
    }
    await Promise.all([...supervisors.values()].map((supervisor) => supervisor.stop()));
  };
  const started = await Promise.race([
    Promise.all([...supervisors.values()].map((supervisor) => supervisor.start())).then(
      () => undefined,
      (error: Error) => `The SSO demo could not start its nodes: ${error.message}`,
    ),
    stopSignal.then((name) => `${name} while starting: stopped.`),
  ]);
  if (started !== undefined) {
    console.error(started);
    await stop();
    return 1;
  }
  const pad = (code: string) => code.padEnd(8);
  const urls = SSO_APPS.map((code) => `  ${pad(code)}${appUrl(hosts, code)}`).join('\n');
  const hostsLine = `127.0.0.1 www.${hosts.root} admin.${hosts.root} ${hosts.partner}`;
  console.log(`
unisession SSO demo: 4 apps, each a 2-node cluster behind a load balancer, one shared store

${urls}

  Store   ${storeLabel}, shared by all 8 nodes
  Shared  ${group.shared === '*' ? 'every attribute' : group.shared.join(', ')} (everything else is private to its app)

What to try:
  1. Log in at the portal. Open the shop (same host, /shop): you are logged in there too.
     Add a book to the shop's cart: the portal never shows it (private to the shop).
  2. Open admin (a subdomain): logged in, through the Domain=${hosts.root} cookie.
  3. Open partner (another root domain) and "Sign in with the portal": no password; a
     one-time ticket hands your session over.
  4. Log out at the partner, then reload the others: logged out everywhere, on every node.

Names ending in .localhost resolve to this machine in Chromium and Firefox. If your browser
does not resolve them, add this line to /etc/hosts:
  ${hostsLine}

Ctrl-C stops the demo and every process it started.
`);
  const signal = await stopSignal;
  console.log(`\n${signal}: stopping the front, 4 balancers and 8 nodes...`);
  await stop();
  console.log('Stopped. No process left behind.');
  return 0;
}
