/**
 * `unisession demo`: a cluster of app nodes behind a round-robin load balancer, all sharing
 * one session store, to show sessions surviving node switches, kills and a rolling redeploy.
 */

import { parseArgs } from 'node:util';
import { explainError } from '../../core/errors.js';
import { type Command, UsageError } from '../command.js';
import { createBalancer } from './balancer.js';
import { listen } from './listen.js';
import { type DemoMonitor, startDemoMonitor } from './monitor.js';
import { demoSecret } from './secret.js';
import { DEFAULT_STORE, describeStore, openStore, parseStore, type StoreSpec } from './stores.js';
import { Supervisor } from './supervisor.js';

const usage = `Usage: unisession demo [options]
       unisession demo redeploy [--port 3000]
       unisession demo sso [--port 3100]   (four apps sharing one login: see demo sso --help)

Starts app nodes (separate Node processes of one Express app) behind a round-robin load
balancer on http://127.0.0.1:<port>, all sharing one session store.

Options:
  --port <n>     the load balancer's port on 127.0.0.1 (default 3000; the nodes use ephemeral ports)
  --nodes <n>    how many app nodes, 1 to 16 (default 3)
  --monitor-port <n>
                 the monitoring centre's port on 127.0.0.1 (default: --port + 1, or a free
                 port when that one is taken); it prints a one-time token to sign in with
  --store <url>  where sessions live, shared by every node (default ${DEFAULT_STORE}):
                   sqlite:<file>
                   redis://127.0.0.1:6379
                   mongodb://127.0.0.1:27017/demo
                   postgres://user@127.0.0.1:5432/db
                   memcached://127.0.0.1:11211,127.0.0.1:11212
                 (not "memory": each node process would have its own)
  -h, --help     this help

\`unisession demo redeploy\` asks a running demo to replace its nodes one by one, and waits.`;

function options(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        nodes: { type: 'string' },
        store: { type: 'string' },
        'monitor-port': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

async function run(argv: string[]): Promise<number> {
  // `demo sso` has options of its own: hand it everything after the word.
  if (argv[0] === 'sso') {
    const { runSsoDemo, ssoUsage } = await import('./sso/index.js');
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(ssoUsage);
      return 0;
    }
    const missing = await missingPackages();
    if (missing) {
      console.error(missing);
      return 1;
    }
    return runSsoDemo(argv.slice(1));
  }
  const { values, positionals } = options(argv);
  const port = integer('port', values.port ?? '3000', 1, 65535);
  if (positionals[0] === 'redeploy' && positionals.length === 1) return redeploy(port);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const nodes = integer('nodes', values.nodes ?? '3', 1, 16);
  const spec = parseStore(values.store ?? DEFAULT_STORE);
  const monitorPort = integer(
    'monitor-port',
    values['monitor-port'] ?? String(Math.min(port + 1, 65535)),
    1,
    65535,
  );
  return serve(port, nodes, values.store ?? DEFAULT_STORE, spec, monitorPort);
}

async function serve(
  port: number,
  nodes: number,
  storeUrl: string,
  spec: StoreSpec,
  monitorPort: number,
): Promise<number> {
  const storeLabel = describeStore(spec);
  const problem = (await missingPackages()) ?? (await unreachable(spec, storeLabel));
  if (problem) {
    console.error(problem);
    return 1;
  }

  let monitor: DemoMonitor;
  try {
    monitor = await startDemoMonitor(spec, monitorPort);
  } catch (error) {
    console.error(`The demo could not start its monitor: ${explainError(error)}`);
    return 1;
  }
  const log = (line: string) => console.log(`  · ${line}`);
  const supervisor = new Supervisor({
    nodes,
    store: storeUrl,
    storeLabel,
    secret: demoSecret(),
    log,
    monitorUrl: monitor.url,
  });
  const balancer = createBalancer(supervisor, log);
  try {
    await listen(balancer, port);
  } catch (error) {
    await monitor.close();
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === 'EADDRINUSE'
        ? `Port ${port} on 127.0.0.1 is already in use (another demo still running?). Pick another one: --port ${port + 1} (with npm: npm start -- --port ${port + 1})`
        : `Cannot listen on 127.0.0.1:${port}: ${(error as Error).message}`,
    );
    return 1;
  }

  // Listen before the nodes start, so that Ctrl-C during start-up also stops them in order.
  // SIGHUP (the terminal closed) stops too: nothing may run on without its terminal.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(name, resolve);
  });
  const stop = async () => {
    balancer.close();
    balancer.closeAllConnections();
    await supervisor.stop();
    await monitor.close().catch(() => undefined);
  };
  const started = await Promise.race([
    supervisor.start().then(
      () => undefined,
      (error: Error) => `The demo could not start its nodes: ${error.message}`,
    ),
    stopSignal.then((name) => `${name} while starting: stopped.`),
  ]);
  if (started !== undefined) {
    console.error(started);
    await stop();
    return 1;
  }

  const url = `http://127.0.0.1:${port}`;
  const list = supervisor
    .view()
    .nodes.map((node) => `${node.name} (pid ${node.pid}, port ${node.port})`)
    .join(', ');
  console.log(`
unisession demo: ${nodes} app nodes behind a round-robin load balancer, no sticky sessions

  Open   ${url}
  Store  ${storeLabel}, shared by every node
  Nodes  ${list}
  Monitor ${monitor.url}  (sign in with the one-time token ${monitor.token})

Three things to try:
  1. Log in, then reload a few times: every reload is served by another node, and you stay
     logged in with a visit counter that never skips.
  2. Press "Kill this node": the node that served the page is killed (SIGKILL). The next page
     comes from another node, you are still logged in, and the node is back in 3 seconds.
  3. Press "Rolling redeploy" (or run: ${howToRun()} redeploy --port ${port}) and keep
     reloading: every node is replaced, one at a time, and nobody is logged out.

And the monitoring centre: open ${monitor.url} in another tab and sign in with the token.
Your session is listed, with the online-user count; delete it there, and the demo tab is
logged out on its next reload.

Ctrl-C stops the demo and every process it started.
`);

  const signal = await stopSignal;
  console.log(`\n${signal}: stopping the balancer and ${nodes} nodes...`);
  // A second Ctrl-C while stopping means "now". The same signal often arrives twice at once
  // (from the terminal to the whole process group, and forwarded by npm): that is not a second press.
  const stoppingSince = Date.now();
  process.on('SIGINT', () => {
    if (Date.now() - stoppingSince > 1000) process.exit(130);
  });
  await stop();
  console.log('Stopped. No process left behind.');
  return 0;
}

/**
 * The optional peers the demo needs besides its store's driver (which `unreachable` reports):
 * the app nodes run on Express, and the balancer on http-proxy-3.
 */
const DEMO_PACKAGES = ['express', 'http-proxy-3'];

/** Every package of DEMO_PACKAGES that is not installed, in one plain message. */
async function missingPackages(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const name of DEMO_PACKAGES) {
    try {
      await import(name);
    } catch {
      missing.push(name);
    }
  }
  if (missing.length === 0) return undefined;
  return [
    `The demo needs ${missing.join(' and ')}, not installed here: npm install ${missing.join(' ')}`,
    `Or run it without installing anything: ${NPX_DEMO}`,
  ].join('\n');
}

/** Opens the store once before forking, so a wrong URL or a stopped server is one clear message. */
async function unreachable(spec: StoreSpec, label: string): Promise<string | undefined> {
  try {
    const store = await openStore(spec);
    try {
      await store.load('unisession-demo-probe', [], Date.now());
    } finally {
      await store.close().catch(() => undefined);
    }
    return undefined;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return `Cannot use the store ${label}: ${explainError(error)}`;
  }
}

/** `unisession demo redeploy`: asks the running demo for a rolling redeploy and waits for it. */
async function redeploy(port: number): Promise<number> {
  const url = `http://127.0.0.1:${port}/_demo/redeploy`;
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { accept: 'application/json' } });
  } catch (error) {
    const reason = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    console.error(`No demo answers on 127.0.0.1:${port} (${reason}). Start one with: ${howToRun()}`);
    return 1;
  }
  const result = (await response.json()) as {
    error?: string;
    version?: number;
    ms?: number;
    replaced?: Array<{ name: string; oldPid: number; newPid: number }>;
  };
  if (!response.ok) {
    console.error(`Redeploy refused: ${result.error}`);
    return 1;
  }
  for (const node of result.replaced ?? [])
    console.log(`${node.name}: pid ${node.oldPid} → pid ${node.newPid}`);
  console.log(`Rolling redeploy to v${result.version} done in ${result.ms} ms.`);
  return 0;
}

export const demoCommand: Command = { usage, run };

/** The demo with every package it needs, from any directory (docs/demo.md says the same). */
const NPX_DEMO = 'npx -p unisession -p express -p better-sqlite3 -p http-proxy-3 unisession demo';

/** How the user started the demo, to show commands they can type: `npm start` in this repo. */
function howToRun(): string {
  return process.env.npm_lifecycle_event === 'start' ? 'npm start --' : 'npx unisession demo';
}
