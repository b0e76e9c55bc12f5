#!/usr/bin/env -S node --import tsx
/**
 * The local test servers by hand (npm test starts the ones the chosen tests need by itself).
 *
 *   scripts/servers.ts start [names]    install what is missing, start (or re-check), print the export lines
 *   scripts/servers.ts stop [names]     stop what we started
 *   scripts/servers.ts status [names]   show what is up (exit 1 if something is down)
 *   scripts/servers.ts env [names]      print the export lines
 *   scripts/servers.ts exec names -- command [args]   start them, then run the command with their variables
 *   scripts/servers.ts clean            stop everything and delete the state directory
 *
 * Names: redis, redis-cluster, memcached, postgres, mongo, ferretdb, chromium, haproxy, nginx (default: all). State in
 * $UNISESSION_SERVICES_DIR (default .services/); $UNISESSION_PORT_OFFSET moves every port.
 * Progress goes to stderr; stdout carries only export lines, so `eval "$(scripts/servers.ts start redis)"` works.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import {
  exportLines,
  isName,
  NAMES,
  type Needs,
  provide,
  SERVERS,
  type ServerName,
  stop,
} from './servers/index.js';
import { log, stateDir } from './servers/kit.js';

class UsageError extends Error {}

/** Names from the arguments ("redis mongo" or "redis,mongo"); all when none. */
function names(args: string[]): ServerName[] {
  const given = args.flatMap((arg) => arg.split(',')).filter(Boolean);
  for (const name of given) {
    if (!isName(name)) throw new UsageError(`unknown server "${name}" (known: ${NAMES.join(', ')})`);
  }
  return given.length === 0 ? NAMES : NAMES.filter((name) => given.includes(name));
}

const running = (list: ServerName[]): Needs => new Map(list.map((name) => [name, 'running']));

async function start(args: string[]): Promise<number> {
  const { env } = await provide(running(names(args)));
  process.stdout.write(exportLines(env));
  return 0;
}

async function status(args: string[]): Promise<number> {
  let up = true;
  for (const name of names(args)) {
    const report = await SERVERS[name].status();
    for (const line of report.lines) process.stdout.write(`${line}\n`);
    up &&= report.up;
  }
  return up ? 0 : 1;
}

function env(args: string[]): number {
  const all = names(args).map((name) => SERVERS[name].env('running'));
  process.stdout.write(exportLines(Object.assign({}, ...all)));
  return 0;
}

/** `exec redis mongo -- node bench/index.ts`: what `npm run bench` uses. */
async function exec(args: string[]): Promise<number> {
  const dashes = args.indexOf('--');
  if (dashes < 1 || dashes === args.length - 1) throw new UsageError('usage: exec names -- command [args]');
  const { env: started } = await provide(running(names(args.slice(0, dashes))));
  const [command, ...rest] = args.slice(dashes + 1);
  const child = spawn(command!, rest, { stdio: 'inherit', env: { ...process.env, ...started } });
  return new Promise((done) => {
    child.once('error', (error) => {
      log(`${command}: ${error.message}`);
      done(127);
    });
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

async function clean(): Promise<number> {
  await stop();
  for (const name of NAMES) await SERVERS[name].clean?.();
  const dir = stateDir();
  rmSync(dir, { recursive: true, force: true });
  log(`removed ${dir}`);
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => number | Promise<number>> = {
  start,
  stop: async (args) => {
    const list = names(args);
    await stop(list);
    const still: string[] = [];
    for (const name of list) if (SERVERS[name].stop && (await SERVERS[name].status()).up) still.push(name);
    if (still.length === 0) return 0;
    log(`warning: still answering after stop: ${still.join(', ')} (not started by us?)`);
    return 1;
  },
  status,
  env,
  exec,
  clean,
};

async function main([command = 'start', ...args]: string[]): Promise<number> {
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`usage: scripts/servers.ts ${Object.keys(COMMANDS).join('|')} [names]\n`);
    return command === 'help' || command === '--help' || command === '-h' ? 0 : 2;
  }
  try {
    return await run(args);
  } catch (error) {
    log(`ERROR: ${(error as Error).message}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
