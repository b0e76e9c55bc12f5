/**
 * The test servers, by name, and what the runner and the command line do with them: read
 * what a test file needs, install what is missing with one apt-get, start what must run,
 * and hand back the variables that tell tests where everything is.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from './chromium.js';
import { ferretdb } from './ferretdb.js';
import { aptInstall, log, type Need, rmFile, stateDir, type TestServer, withLock } from './kit.js';
import { memcached } from './memcached.js';
import { mongo } from './mongo.js';
import { postgres } from './postgres.js';
import { haproxy, nginx } from './proxies.js';
import { redis } from './redis.js';
import { redisCluster } from './redis-cluster.js';

export { isCI, type Need } from './kit.js';

/** In start order. */
export const SERVERS = {
  redis,
  'redis-cluster': redisCluster,
  memcached,
  postgres,
  mongo,
  ferretdb,
  chromium,
  haproxy,
  nginx,
} satisfies Record<string, TestServer>;

export type ServerName = keyof typeof SERVERS;
export const NAMES = Object.keys(SERVERS) as ServerName[];

export function isName(name: string): name is ServerName {
  return Object.hasOwn(SERVERS, name);
}

/** What a set of test files needs: each server at most once, "running" winning over "installed". */
export type Needs = Map<ServerName, Need>;

/** Everything, running: what the whole suite gets. */
export const everything = (): Needs => new Map(NAMES.map((name) => [name, 'running']));

export function addNeed(needs: Needs, name: ServerName, need: Need): void {
  if (needs.get(name) !== 'running') needs.set(name, need);
}

/**
 * A test file declares what it needs by calling the helpers of test/helpers/servers.ts with
 * a literal name, `await server('redis')` or `await installed('memcached')`. Reading those
 * calls here tells the runner what to start without running the file.
 */
const DECLARATION = /\b(server|installed)\(\s*['"]([^'"]+)['"]\s*\)/g;

export function needsOf(source: string, file = 'the test file'): Needs {
  const needs: Needs = new Map();
  for (const [, helper, name] of source.matchAll(DECLARATION)) {
    if (!isName(name!))
      throw new Error(`${file}: ${helper}('${name}') names no test server (${NAMES.join(', ')})`);
    addNeed(needs, name, helper === 'server' ? 'running' : 'installed');
  }
  return needs;
}

export function needsOfFiles(files: string[]): Needs {
  const needs: Needs = new Map();
  for (const file of files) {
    for (const [name, need] of needsOf(readFileSync(file, 'utf8'), file)) addNeed(needs, name, need);
  }
  return needs;
}

/** A server that could not be provided, and why. */
export interface Failed {
  name: ServerName;
  error: Error;
}

export interface Provided {
  env: Record<string, string>;
  failed: Failed[];
}

/** In start order, whatever order they were asked in. */
const ordered = (needs: Needs) =>
  NAMES.filter((name) => needs.has(name)).map((name) => [name, needs.get(name)!] as const);

/** One apt-get for what every server still misses; with `keepGoing`, a failure is only logged. */
async function installMissing(needs: Needs, keepGoing: boolean): Promise<void> {
  try {
    await aptInstall(ordered(needs).flatMap(([name, need]) => SERVERS[name].missing(need)));
  } catch (error) {
    if (!keepGoing) throw error;
    log((error as Error).message);
  }
}

/** Prepares one server, starts it if it must run, and returns its variables. */
async function provideOne(name: ServerName, need: Need): Promise<Record<string, string>> {
  const server: TestServer = SERVERS[name];
  await server.prepare?.();
  if (need === 'running') await server.start?.();
  return server.env(need);
}

/**
 * Installs, prepares and starts what `needs` asks, holding the state directory's lock.
 * With `keepGoing` a server that fails is reported in `failed` and the others go on;
 * without, the first failure throws.
 */
export function provide(needs: Needs, keepGoing = false): Promise<Provided> {
  return withLock(async () => {
    const started = Date.now();
    const provided: Provided = { env: {}, failed: [] };
    await installMissing(needs, keepGoing);
    for (const [name, need] of ordered(needs)) {
      try {
        Object.assign(provided.env, await provideOne(name, need));
      } catch (error) {
        if (!keepGoing) throw error;
        provided.failed.push({ name, error: error as Error });
      }
    }
    recordEnv(provided.env);
    const what = ordered(needs).map(([name, need]) => (need === 'running' ? name : `${name} (installed)`));
    log(`ready in ${Math.round((Date.now() - started) / 1000)}s: ${what.join(', ')}`);
    return provided;
  });
}

/** Stops the named servers (all by default), in the reverse of start order. */
export function stop(names: ServerName[] = NAMES): Promise<void> {
  return withLock(async () => {
    for (const name of [...names].reverse()) await SERVERS[name].stop?.();
    forgetEnv(names);
  });
}

export const exportLines = (env: Record<string, string>) =>
  Object.entries(env)
    .map(([name, value]) => `export ${name}=${value}\n`)
    .join('');

const envFile = () => join(stateDir(), 'env');

function readEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  if (!existsSync(envFile())) return env;
  for (const line of readFileSync(envFile(), 'utf8').split('\n')) {
    const [, name, value] = /^export (\w+)=(.*)$/.exec(line) ?? [];
    if (name) env[name] = value!;
  }
  return env;
}

function writeEnv(env: Record<string, string>): void {
  if (Object.keys(env).length === 0) {
    rmFile(envFile());
    return;
  }
  writeFileSync(`${envFile()}.tmp`, exportLines(env));
  renameSync(`${envFile()}.tmp`, envFile());
}

/**
 * `<state>/env` carries the export lines of every server started and not stopped since, so a
 * developer can `source` it and run `node --test` by hand.
 */
function recordEnv(env: Record<string, string>): void {
  writeEnv({ ...readEnv(), ...env });
}

function forgetEnv(names: ServerName[]): void {
  const env = readEnv();
  for (const name of names)
    for (const variable of Object.keys(SERVERS[name].env('running'))) delete env[variable];
  writeEnv(env);
}
