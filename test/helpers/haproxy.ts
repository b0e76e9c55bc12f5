/**
 * A private haproxy for the e2e tests, from the shipped examples/deploy/haproxy.cfg with its
 * addresses replaced, and its runtime API (the admin socket): drain, ready, server states.
 * Declare the program at the top of the test file: `await installed('haproxy')`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { until } from './private-redis.js';

export interface Haproxy {
  process: ChildProcess;
  port: number;
  socket: string;
  output: string[];
}

/** The example config, pointed at our frontend port, node ports and socket. */
export function haproxyConfig(frontendPort: number, nodePorts: number[], socket: string): string {
  let config = readFileSync('examples/deploy/haproxy.cfg', 'utf8')
    .replaceAll('/run/haproxy/admin.sock', socket)
    .replace('bind 127.0.0.1:8080', `bind 127.0.0.1:${frontendPort}`);
  nodePorts.forEach((port, i) => {
    config = config.replaceAll(`127.0.0.1:${3001 + i}`, `127.0.0.1:${port}`);
  });
  return config;
}

export async function startHaproxy(
  program: string,
  dir: string,
  frontendPort: number,
  nodePorts: number[],
): Promise<Haproxy> {
  const socket = join(dir, 'admin.sock');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, haproxyConfig(frontendPort, nodePorts, socket));
  const child = spawn(program, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const proxy = { process: child, port: frontendPort, socket, output };
  await until('haproxy to answer on its admin socket', async () =>
    (await runtime(proxy, 'show info')).includes('Name:'),
  );
  return proxy;
}

export async function stopHaproxy(proxy: Haproxy): Promise<void> {
  if (proxy.process.exitCode !== null || proxy.process.signalCode !== null) return;
  const exited = once(proxy.process, 'exit');
  proxy.process.kill('SIGTERM');
  await exited;
}

/** One runtime API command; resolves to haproxy's answer. */
export function runtime(proxy: Haproxy, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(proxy.socket);
    // A socket haproxy has bound but does not serve yet would leave us waiting for good.
    socket.setTimeout(2000, () => socket.destroy(new Error(`no answer to "${command}"`)));
    let answer = '';
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** srv_op_state of each server of `backend` (2: running, its checks pass; 0: stopped). */
export async function serverStates(proxy: Haproxy, backend: string): Promise<Map<string, number>> {
  const text = await runtime(proxy, `show servers state ${backend}`);
  const states = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#') || /^\d+$/.test(line.trim())) continue;
    // be_id be_name srv_id srv_name srv_addr srv_op_state ...
    const fields = line.trim().split(/\s+/);
    if (fields.length > 5) states.set(fields[3]!, Number(fields[5]));
  }
  return states;
}

/** Current sessions (connections being served) per server, from `show stat`. */
export async function serverSessions(proxy: Haproxy, backend: string): Promise<Map<string, number>> {
  const text = await runtime(proxy, 'show stat');
  const [header, ...rows] = text.replace(/^# /, '').trim().split('\n');
  const columns = header!.split(',');
  const scur = columns.indexOf('scur');
  const sessions = new Map<string, number>();
  for (const row of rows) {
    const fields = row.split(',');
    if (fields[0] === backend && fields[1] !== 'BACKEND') sessions.set(fields[1]!, Number(fields[scur]));
  }
  return sessions;
}
