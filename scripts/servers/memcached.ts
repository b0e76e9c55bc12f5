/** Two memcached instances on 127.0.0.1:11311 and :11312 (MEMCACHED_NODES). */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import {
  daemon,
  ensurePortFree,
  HOST,
  isRoot,
  log,
  logFile,
  nodeList,
  pidAlive,
  pidFile,
  pidMatches,
  port,
  portsStatus,
  readPid,
  stopPid,
  type TestServer,
  userExists,
  waitUntil,
  whenRunning,
  which,
} from './kit.js';

const READY_SECONDS = 10;

const memcachedPorts = () => [11311, 11312].map(port);

/** Answers `version` with VERSION: a memcached, and a live one. */
export function memcachedPing(at: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port: at, host: HOST });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(2000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('version\r\n'));
    socket.once('data', (reply) => finish(reply.toString().startsWith('VERSION')));
  });
}

/** memcached refuses to run as root; Debian's package brings a `memcache` user. */
function user(): string[] {
  if (!isRoot) return [];
  return ['-u', userExists('memcache') ? 'memcache' : 'nobody'];
}

async function startOne(at: number): Promise<void> {
  const pids = pidFile(`memcached-${at}.pid`);
  const logs = logFile(`memcached-${at}.log`);
  const pid = readPid(pids);
  if (pidMatches(pid, 'memcached') && (await memcachedPing(at))) {
    log(`memcached: already running on ${at}`);
    return;
  }
  if (pid) await stopPid(`memcached ${at}`, pids, 'memcached');
  await ensurePortFree(at, 'memcached');
  log(`memcached: starting on ${at}`);
  const args = ['-l', HOST, '-p', String(at), '-U', '0', '-m', '64', '-c', '1024', '-t', '2', ...user()];
  const child = daemon('memcached', args, logs);
  writeFileSync(pids, `${child.pid}\n`);
  await waitUntil(`memcached on port ${at} answering 'version'`, READY_SECONDS, () => memcachedPing(at), {
    alive: () => pidAlive(child.pid),
    logs: [logs],
  });
}

export const memcached: TestServer = {
  name: 'memcached',
  summary: 'two memcached instances (MEMCACHED_NODES)',
  variable: 'MEMCACHED_NODES',
  clientPort: 11211,
  missing: () => (which('memcached') ? [] : ['memcached']),
  installedPath: () => which('memcached'),
  async start() {
    for (const at of memcachedPorts()) await startOne(at);
  },
  async stop() {
    for (const at of memcachedPorts())
      await stopPid(`memcached ${at}`, pidFile(`memcached-${at}.pid`), 'memcached');
  },
  status: () => portsStatus('memcached', memcachedPorts(), memcachedPing),
  env: (need) => whenRunning(need, { MEMCACHED_NODES: nodeList(memcachedPorts()) }),
};
