import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { defaultCodec } from '../codec/json.js';
import { SessionManager } from '../core/manager.js';
import type { Store } from '../core/store.js';
import { hashSecret, type MonitorCredential } from '../monitor/credentials.js';
import { createMonitor, isLoopback } from '../monitor/monitor.js';
import { toNodeHandler } from '../monitor/node.js';
import { type Command, UsageError } from './command.js';
import { openStoreFromUrl, redactStoreUrl } from './store-url.js';

/*
 * `unisession monitor`: the monitoring centre as a process of its own, over the store a URL
 * names. `unisession monitor hash` turns a secret (read from stdin) into the `secretHash` of a
 * credentials file.
 */

const usage = `Usage: unisession monitor --store <url> --group <g> [--port 4000] [--host 127.0.0.1]
                          (--credentials <file.json> | --local-only) [options]
       unisession monitor hash < secret.txt

Serves the monitoring centre (web UI and JSON API) for the sessions of one group.

Options:
  --store <url>          the group's store: sqlite:<file>, redis://…, postgres://…, mongodb://…/db,
                         memcached://host:port (lookup and delete by id only), memory:
  --group <g>            the group (default: unisession)
  --port <n>             the port (default 4000)
  --host <address>       the address to listen on (default 127.0.0.1)
  --credentials <file>   a JSON array of { "name", "secretHash", "scope": "all" | "<app>",
                         "role": "viewer" | "operator" }; make each secretHash with
                         \`unisession monitor hash\`
  --local-only           no credentials file: print a one-time operator token and accept
                         loopback peers only (development; needs a loopback --host)
  --apps <a,b>           the apps the statistics break down by (default: none, the group only)
  --display <a,b>        attributes shown as columns in the session list (user, shop:cart)
  --base-path <path>     mount path of the UI and API (default /)
  -h, --help             this help

The UI's own login sessions live in the same store, in the group <g>-monitor.
The monitor refuses to start with neither --credentials nor --local-only.`;

function flags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        store: { type: 'string' },
        group: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        credentials: { type: 'string' },
        'local-only': { type: 'boolean' },
        apps: { type: 'string' },
        display: { type: 'string' },
        'base-path': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function list(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
}

function readCredentials(file: string): MonitorCredential[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--credentials: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--credentials: ${file} is not valid JSON`);
  }
  if (!Array.isArray(parsed))
    throw new UsageError(`--credentials: ${file} must hold a JSON array of credentials`);
  return parsed as MonitorCredential[];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = flags(argv);
  if (positionals[0] === 'hash' && positionals.length === 1) {
    const secret = await readStdin();
    if (secret.length < 8) throw new UsageError('hash: give a secret of at least 8 characters on stdin');
    console.log(await hashSecret(secret));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.store) throw new UsageError('--store is required');
  const portText = values.port ?? '4000';
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535)
    throw new UsageError(`--port must be 0 to 65535, got "${portText}"`);
  const host = values.host ?? '127.0.0.1';
  const localOnly = values['local-only'] === true;
  if (localOnly && values.credentials) throw new UsageError('give --credentials or --local-only, not both');
  if (!localOnly && !values.credentials) {
    throw new UsageError(
      'the monitor denies by default: give --credentials <file.json> (or --local-only for development)',
    );
  }
  if (localOnly && !isLoopback(host) && host !== 'localhost') {
    throw new UsageError('--local-only listens on a loopback address only (127.0.0.1 or ::1)');
  }
  const credentials = values.credentials ? readCredentials(values.credentials) : [];
  const group = values.group ?? 'unisession';

  const store = await openStoreFromUrl(values.store, group);
  const stores: Store[] = [store];
  try {
    const sessionStore = await openStoreFromUrl(values.store, `${group.slice(0, 32)}-monitor`);
    stores.push(sessionStore);
    const manager = new SessionManager({
      app: 'unisession-monitor',
      group,
      store,
      codec: defaultCodec,
      sweeper: false,
      secret: 'unused: this manager never issues cookies',
    });
    manager.on('error', ({ error, during }) => console.error(`unisession monitor: ${during}:`, error));
    const basePath = values['base-path'] ?? '/';
    const monitor = createMonitor({
      managers: manager,
      credentials,
      localOnlyToken: localOnly,
      apps: list(values.apps),
      displayAttributes: list(values.display),
      basePath,
      sessionStore,
    });
    const server = createServer(toNodeHandler(monitor));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const actualPort = typeof address === 'object' && address ? address.port : port;
    console.log(
      `unisession monitor: http://${shownHost}:${actualPort}${basePath === '/' ? '/' : `${basePath}/`} ` +
        `(group "${group}" in ${redactStoreUrl(values.store)})`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
    await monitor.close();
    return 0;
  } finally {
    await Promise.allSettled(stores.map((s) => s.close()));
  }
}

/** `unisession monitor`: see `usage`. */
export const monitorCommand: Command = { usage, run };
