/**
 * What every test-server module shares: the state directory and ports, logging and failures
 * that show the server's log, running commands, pid files, waiting for readiness, apt-get,
 * and the lock that serialises two starts on one state directory.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { connect } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every server listens here and nowhere else. */
export const HOST = '127.0.0.1';
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const isRoot = process.getuid?.() === 0;

/**
 * The directory that holds the servers' data, logs, pid files and `env`:
 * `$UNISESSION_SERVICES_DIR`, else `<repo>/.services`. Resolved through symlinks, because a
 * Redis of ours is recognised by its data directory as Redis reports it. Only looking (where
 * is the jar?) makes nothing.
 */
export function stateDir(create = true): string {
  const dir = resolve(process.env.UNISESSION_SERVICES_DIR || join(REPO, '.services'));
  if (create) {
    mkdirSync(join(dir, 'logs'), { recursive: true });
    mkdirSync(join(dir, 'run'), { recursive: true });
  }
  return existsSync(dir) ? realpathSync(dir) : dir;
}

/** Log files live in `<state>/logs`, pid files in `<state>/run`. */
export const logFile = (name: string) => join(stateDir(), 'logs', name);
export const pidFile = (name: string) => join(stateDir(), 'run', name);

const MAX_OFFSET = 40_000;

/**
 * A default port moved by `$UNISESSION_PORT_OFFSET`, so that a second set of servers (another
 * checkout's, or a test of these modules) can run beside the first without touching it.
 */
export function port(base: number): number {
  const raw = process.env.UNISESSION_PORT_OFFSET || '0';
  const offset = Number(raw);
  if (!/^\d+$/.test(raw) || offset > MAX_OFFSET) {
    throw new Error(`UNISESSION_PORT_OFFSET must be a whole number from 0 to ${MAX_OFFSET}, got "${raw}"`);
  }
  return base + offset;
}

/** CI sets CI (to "true", "1", ...): there, a missing server is a failure, never a skip. */
export function isCI(): boolean {
  const ci = process.env.CI?.toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/** Progress goes to stderr, so that stdout can carry only `export` lines. */
export function log(message: string): void {
  process.stderr.write(`[servers] ${message}\n`);
}

/** The last lines of a log file, for an error message (nothing if it does not exist). */
function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return `\n---- last lines of ${file} ----\n${text}\n----`;
}

/** A failure whose message ends with the tails of the logs that explain it. */
export function failure(message: string, ...logs: string[]): Error {
  return new Error(message + logs.map((file) => tail(file)).join(''));
}

/** The absolute path of an executable on PATH, or undefined. */
export function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {}
  }
  return undefined;
}

export interface RunOptions {
  /** Seconds before the command is killed (default 60). */
  timeout?: number;
  cwd?: string;
  /** Append the command's output to this file instead of returning it. */
  log?: string;
  /** Run as the `postgres` user when we are root (initdb and pg_ctl refuse root). */
  asPostgres?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never throws for a non-zero exit (the caller decides). */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, argv] =
    options.asPostgres && isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const out = options.log ? openSync(options.log, 'a') : 'pipe';
  const child = spawn(file, argv, {
    cwd: options.asPostgres ? '/' : options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', out, out],
  });
  if (typeof out === 'number') closeSync(out);
  const result: RunResult = { code: null, stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    result.stdout += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    result.stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), (options.timeout ?? 60) * 1000);
  return new Promise((done) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      done({ ...result, code: 127, stderr: result.stderr + error.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ ...result, code });
    });
  });
}

/**
 * Starts a long-running server in a session of its own, with its output in `log`, and lets
 * it outlive us: a later run reuses it.
 */
export function daemon(command: string, args: string[], log: string): ChildProcess {
  const out = openSync(log, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.on('error', () => {}); // the caller sees the process gone while it waits
  child.unref();
  return child;
}

export function userExists(name: string): boolean {
  return spawnSync('id', [name], { stdio: 'ignore' }).status === 0;
}

/** Is something accepting TCP connections on HOST:port? */
export function portOpen(port: number, host = HOST): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host });
    socket.setTimeout(2000, () => {
      socket.destroy();
      done(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/** Who listens on a port, for error messages only ("" when `ss` cannot tell). */
export function portOwner(port: number): string {
  const ss = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  return /users:\((.*)\)/.exec(ss.stdout ?? '')?.[1] ?? '';
}

/** Refuses a port that something other than our server holds. */
export async function ensurePortFree(port: number, what: string): Promise<void> {
  if (await portOpen(port)) {
    throw failure(
      `port ${port} is in use by something that is not our ${what} (${portOwner(port) || 'unknown'})`,
    );
  }
}

export function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.replace(/\D/g, ''));
  return pid > 0 ? pid : undefined;
}

/** Alive and not a zombie (init may be slow to reap a server that daemonized itself). */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Alive, and its command line contains `pattern`: a reused pid is not taken for our server. */
export function pidMatches(pid: number | undefined, pattern: string): boolean {
  if (!pid || !pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(pattern);
  } catch {
    return false;
  }
}

/** A signal to a process that may have exited meanwhile. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {}
}

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** SIGTERM the process of a pid file if it is ours, SIGKILL after 15 s, and forget the file. */
export async function stopPid(name: string, file: string, pattern: string): Promise<void> {
  const pid = readPid(file);
  if (pid && pidMatches(pid, pattern)) {
    log(`stopping ${name} (pid ${pid})`);
    signal(pid, 'SIGTERM');
    for (let i = 0; i < 150 && pidAlive(pid); i++) await sleep(100);
    if (pidAlive(pid)) {
      log(`${name} (pid ${pid}) did not exit after SIGTERM, sending SIGKILL`);
      signal(pid, 'SIGKILL');
      await sleep(200);
    }
  }
  rmFile(file);
}

export function rmFile(file: string): void {
  rmSync(file, { force: true });
}

export interface WaitOptions {
  /** Stops waiting early when the server's process is gone. */
  alive?: () => boolean;
  /** Logs whose tails the failure shows. */
  logs?: string[];
  every?: number;
}

/** Polls `ready` until it holds, or fails naming `what` after `seconds`. */
export async function waitUntil(
  what: string,
  seconds: number,
  ready: () => Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await ready()) return;
    if (options.alive && !options.alive())
      throw failure(`${what}: the process exited`, ...(options.logs ?? []));
    await sleep(options.every ?? 100);
  }
  throw failure(`${what}: not ready after ${seconds}s`, ...(options.logs ?? []));
}

/**
 * Installs Debian packages: `apt-get update` first (a fresh image has no lists), then only
 * what is missing, without recommends. Not root: through sudo, or a clear refusal.
 */
export async function aptInstall(packages: string[]): Promise<void> {
  const wanted = [...new Set(packages)].sort();
  if (wanted.length === 0) return;
  const sudo = isRoot ? [] : ['sudo'];
  if (!isRoot && !which('sudo')) {
    throw failure(`missing packages (${wanted.join(' ')}), and we are neither root nor have sudo`);
  }
  const apt = logFile('apt.log');
  log(`installing ${wanted.join(' ')} (apt-get; log in ${apt})`);
  const command = [...sudo, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];
  const options = ['-o', 'DPkg::Lock::Timeout=900', '-o', 'Acquire::Retries=3'];
  for (const step of [['update'], ['install', '-y', '--no-install-recommends', ...wanted]]) {
    const done = await run(command[0]!, [...command.slice(1), ...options, ...step], {
      log: apt,
      timeout: 1800,
    });
    if (done.code !== 0) throw failure(`apt-get ${step.join(' ')} failed`, apt);
  }
}

/**
 * Runs `fn` holding `<state>/.lock`, so that two runners (say, two `npm test` at once) never
 * start the same server twice. `flock` holds the lock for us: the kernel releases it when we
 * die, so a killed run leaves no stale lock behind.
 */
export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = join(stateDir(), '.lock');
  const holder = spawn('flock', ['-w', '600', lock, 'sh', '-c', 'echo locked; exec cat'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const locked = await new Promise<boolean>((done) => {
    holder.stdout.once('data', () => done(true));
    holder.once('close', () => done(false));
    holder.once('error', () => done(false));
  });
  if (!locked) throw failure(`timed out waiting for another run that holds ${lock}`);
  try {
    return await fn();
  } finally {
    holder.stdin.end();
  }
}

/** What a test file can ask of a server: its binaries installed, or the shared one running. */
export type Need = 'installed' | 'running';

/** One test server (or, for Chromium, one installed program): what each module exports. */
export interface TestServer {
  readonly name: string;
  /** One line for `status` and the help. */
  readonly summary: string;
  /** The variable that tells tests where the running server is (REDIS_URL, ...). */
  readonly variable?: string;
  /** The port a client assumes when that variable names a host without one. */
  readonly clientPort?: number;
  /** The Debian packages still missing for `need`. */
  missing(need: Need): string[];
  /** What installing takes beyond apt-get (mongo builds its jar). */
  prepare?(): Promise<void>;
  /** Where tests find the program to run copies of their own, once installed. */
  installedPath(): string | undefined;
  /** Starts it, or re-checks the one of ours already up; refuses a port someone else holds. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** Removes what it keeps outside the state directory. */
  clean?(): Promise<void>;
  /** One line per process, and whether all are up. */
  status(): Promise<Status>;
  /** The variables tests read: where the running server is, or where the program is installed. */
  env(need: Need): Record<string, string>;
}

/** A server's variables for tests, which only a running server has. */
export const whenRunning = (need: Need, env: Record<string, string>): Record<string, string> =>
  need === 'running' ? env : {};

/** `127.0.0.1:7001,127.0.0.1:7002`: how node lists are written in variables. */
export const nodeList = (ports: number[]) => ports.map((at) => `${HOST}:${at}`).join(',');

export interface Status {
  lines: string[];
  up: boolean;
}

/** A status line: name, address, state, in columns. */
export const statusLine = (name: string, address: string, state: string) =>
  `${name.padEnd(16)}${address.padEnd(18)}${state}`;

/** One status line per port, by `check`; up when every port passes. */
export async function portsStatus(
  name: string,
  ports: number[],
  check: (port: number) => Promise<boolean>,
  [ok, bad] = ['up', 'DOWN'],
): Promise<Status> {
  const status: Status = { lines: [], up: true };
  for (const at of ports) {
    const passed = await check(at);
    status.up &&= passed;
    status.lines.push(statusLine(name, `${HOST}:${at}`, passed ? ok : bad));
  }
  return status;
}
