#!/usr/bin/env -S node --import tsx
/**
 * The test runner behind `npm test`.
 *
 *   npm test                        typecheck and lint, start every server, run every test file
 *   npm test -- test/stores/redis.test.ts test/core
 *                                   run those files (a directory means its *.test.ts), with only
 *                                   the servers they declare (see test/helpers/servers.ts)
 *
 * A test that hangs fails after 5 minutes; a run that never ends (a file that leaks a handle)
 * is stopped after TEST_RUN_LIMIT seconds (default 1200) instead of holding CI until its own
 * limit. TEST_CONCURRENCY (default 2) files run at once.
 *
 * A whole run, or any run with CI set, must have every server: one that cannot be started
 * fails the run. A hand-picked subset goes on without it, and its files skip with the reason.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { everything, isCI, needsOfFiles, provide } from './servers/index.js';
import { log, REPO } from './servers/kit.js';

const TEST_TIMEOUT_MS = 300_000;
const KILL_AFTER_MS = 30_000;

/** Every *.test.ts under `dir`, sorted. */
function testsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join(dir, file))
    .sort();
}

function testFiles(args: string[]): string[] {
  return args.flatMap((arg) => {
    if (!existsSync(arg)) throw new Error(`no such test file or directory: ${arg}`);
    return statSync(arg).isDirectory() ? testsUnder(arg) : [arg];
  });
}

/** The whole run also checks types and lint, so CI enforces them. */
function checkTypesAndLint(): void {
  const steps = [
    ['tsc', '-p', 'tsconfig.json', '--noEmit'],
    ['tsc', '-p', 'scripts/tsconfig.json', '--noEmit'],
    ['biome', 'check', '--error-on-warnings', 'src', 'test', 'bench', 'examples', 'scripts'],
  ];
  for (const step of steps) {
    const done = spawnSync('npx', ['--no-install', ...step], { stdio: 'inherit' });
    if (done.status !== 0) process.exit(done.status ?? 1);
  }
}

/** The servers the files need, started; the variables that say where they are. */
async function serversFor(files: string[], whole: boolean): Promise<NodeJS.ProcessEnv> {
  const strict = whole || isCI();
  const needs = whole ? everything() : needsOfFiles(files);
  if (needs.size === 0) return {};
  const { env, failed } = await provide(needs, !strict);
  for (const { name, error } of failed) {
    log(`${name} could not be provided, so its tests will skip: ${error.message}`);
  }
  return strict ? { ...env, UNISESSION_REQUIRE_SERVERS: '1' } : env;
}

/** Signals the test run's whole process group: node's runner and every test file under it. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {}
}

function runTests(files: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const limit = Number(process.env.TEST_RUN_LIMIT || 1200);
  const concurrency = process.env.TEST_CONCURRENCY || '2';
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    `--test-timeout=${TEST_TIMEOUT_MS}`,
  ];
  const child = spawn(process.execPath, [...args, ...files], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
    detached: true,
  });
  let timedOut = false;
  const limiter = setTimeout(() => {
    timedOut = true;
    log(`the test run took more than ${limit}s; stopping it`);
    signalGroup(child, 'SIGTERM');
    setTimeout(() => signalGroup(child, 'SIGKILL'), KILL_AFTER_MS).unref();
  }, limit * 1000);
  // Ctrl-C reaches only our own process group: pass it on to the tests'.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => signalGroup(child, signal));
  return new Promise((done) => {
    child.once('exit', (code, signal) => {
      clearTimeout(limiter);
      if (timedOut) return done(124);
      done(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

async function main(args: string[]): Promise<number> {
  const whole = args.length === 0;
  const files = whole ? testsUnder(join(REPO, 'test')) : testFiles(args.map((arg) => resolve(arg)));
  process.chdir(REPO);
  if (whole) checkTypesAndLint();
  const env = await serversFor(files, whole);
  return runTests(
    files.map((file) => relative(REPO, file)),
    env,
  );
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  log(`ERROR: ${(error as Error).message}`);
  process.exitCode = 1;
}
