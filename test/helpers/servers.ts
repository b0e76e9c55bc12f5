/**
 * How a test file asks for a test server, and so declares that it needs it:
 *
 *   const url = await server('redis');         // REDIS_URL, once something answers there
 *   const jar = await installed('mongo');      // only the program, to run private copies
 *
 * Call them at the top level of the test file, with a literal name: `npm test` (scripts/test.ts)
 * reads these calls, without running the file, to install and start what the file needs.
 *
 * A missing server skips the rest of the file, with the reason and the command that starts
 * it, when a developer runs a file by hand. Under CI, and whenever the runner runs the whole
 * suite, it is a failure instead: there every test must run.
 */

import { relative } from 'node:path';
import { test } from 'node:test';
import { isCI, SERVERS } from '../../scripts/servers/index.js';
import { portOpen } from '../../scripts/servers/kit.js';

/** What `server(name)` resolves to. */
export interface Addresses {
  redis: string;
  'redis-cluster': string[];
  memcached: string[];
  postgres: string;
  mongo: string;
  ferretdb: string;
}

/** What `installed(name)` finds: a binary, PostgreSQL's bin directory, the mongo jar, a load balancer. */
export type Installable =
  | 'redis'
  | 'memcached'
  | 'postgres'
  | 'mongo'
  | 'ferretdb'
  | 'chromium'
  | 'haproxy'
  | 'nginx';

const LISTS = new Set<keyof Addresses>(['redis-cluster', 'memcached']);

/** The address of a running test server, from the variable the runner exports. */
export async function server<N extends keyof Addresses>(name: N): Promise<Addresses[N]> {
  const { variable, clientPort } = SERVERS[name];
  const value = process.env[variable!];
  const problem = value ? await unreachable(value, clientPort!) : `${variable} is not set`;
  if (problem) return missing(name, `${name} is not running (${problem})`, 'starts it');
  return (LISTS.has(name) ? value!.split(',').filter(Boolean) : value) as Addresses[N];
}

/** Where an installed program is, for a file that runs its own copies of a server. */
export async function installed(name: Installable): Promise<string> {
  return SERVERS[name].installedPath() ?? missing(name, `${name} is not installed`, 'installs it');
}

/** The hosts of a URL or node list: `redis://h:1`, `mongodb://u:p@h1,h2/db`, `h1:1,h2:2`. */
function endpoints(value: string, clientPort: number): Array<{ host: string; port: number }> {
  const hosts = value
    .replace(/^[a-z][\w+.-]*:\/\//i, '')
    .replace(/^[^@/]*@/, '')
    .split(/[/?]/)[0]!;
  return hosts
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [, host, port] = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(entry) ?? [];
      return { host: host || '127.0.0.1', port: Number(port || clientPort) };
    });
}

/** Why no host of `value` answers, or undefined when one does. */
async function unreachable(value: string, clientPort: number): Promise<string | undefined> {
  const targets = endpoints(value, clientPort);
  if (targets.length === 0) return undefined; // a Unix socket (postgres:///db?host=/run/...): the driver will tell
  for (const { host, port } of targets) if (await portOpen(port, host)) return undefined;
  return `nothing answers on ${targets.map(({ host, port }) => `${host}:${port}`).join(', ')}`;
}

/** Fails where every test must run; elsewhere skips this file with the reason. */
function missing(name: string, reason: string, fix: string): Promise<never> {
  const file = process.argv[1] ? relative(process.cwd(), process.argv[1]) : 'this file';
  const hint = `run \`npm test -- ${file}\`, which ${fix}`;
  if (process.env.UNISESSION_REQUIRE_SERVERS === '1' || isCI()) {
    throw new Error(`${reason}: under CI, and in a whole run, a missing server fails the file; ${hint}`);
  }
  test(`needs ${name}`, { skip: `${reason}: ${hint}` }, () => {});
  // The rest of the file must not run: its module waits here for good. node:test reports the
  // one skipped test, the loop empties, and Node exits with this code rather than 13 (an
  // unsettled top-level await), which would fail the file.
  process.exitCode = 0;
  return new Promise<never>(() => {});
}
