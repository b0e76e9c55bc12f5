/**
 * mongo-java-server, an in-memory MongoDB wire-compatible server, on 127.0.0.1:27027
 * (MONGO_URL). Its launcher (scripts/mongo-server) is built with Maven once per source
 * version; the jar is cached per user by a hash of its sources, so fresh clones skip the build.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import {
  daemon,
  ensurePortFree,
  failure,
  HOST,
  log,
  logFile,
  pidAlive,
  pidFile,
  pidMatches,
  port,
  portOpen,
  portsStatus,
  REPO,
  readPid,
  run,
  stateDir,
  stopPid,
  type TestServer,
  waitUntil,
  which,
} from './kit.js';

const READY_SECONDS = 60;
const SOURCE = join(REPO, 'scripts', 'mongo-server');

const mongoPort = () => port(27027);
const jarDir = () => join(stateDir(false), 'mongo-server');
const jar = () => join(jarDir(), 'mongo-server.jar');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/**
 * A hash of the launcher's sources, computed as `sha256sum` of every file in byte order, then
 * of that listing: the cache names jars built by the former services.sh the same way.
 */
export function sourceHash(): string {
  const paths = [join(SOURCE, 'pom.xml'), ...files(join(SOURCE, 'src'))].map((file) =>
    relative(SOURCE, file),
  );
  const listing = paths
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(
      (path) =>
        `${createHash('sha256')
          .update(readFileSync(join(SOURCE, path)))
          .digest('hex')}  ${path}\n`,
    )
    .join('');
  return createHash('sha256').update(listing).digest('hex').slice(0, 16);
}

const cacheDir = () =>
  join(process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir() || '/tmp', '.cache'), 'unisession');
const cachedJar = () => join(cacheDir(), `mongo-server-${sourceHash()}.jar`);
const jarCurrent = () =>
  existsSync(jar()) &&
  existsSync(`${jar()}.hash`) &&
  readFileSync(`${jar()}.hash`, 'utf8').trim() === sourceHash();
const needsBuild = () => !jarCurrent() && !existsSync(cachedJar());

/** Maven builds the jar into the state directory, and the jar goes to the cache for next time. */
async function build(): Promise<string> {
  const logs = logFile('mongo-build.log');
  log(`mongo: building scripts/mongo-server with Maven (first time only; log in ${logs})`);
  const out = join(jarDir(), 'build');
  rmSync(out, { recursive: true, force: true });
  writeFileSync(logs, '');
  const built = await run('mvn', ['-q', '-B', `-DbuildDir=${out}`, 'package'], {
    cwd: SOURCE,
    log: logs,
    timeout: 1800,
  });
  if (built.code !== 0) throw failure('Maven build of scripts/mongo-server failed', logs);
  const result = join(out, 'mongo-server.jar');
  if (!existsSync(result)) throw failure('Maven build produced no mongo-server.jar', logs);
  try {
    mkdirSync(cacheDir(), { recursive: true });
    copyFileSync(result, `${cachedJar()}.tmp.${process.pid}`);
    renameSync(`${cachedJar()}.tmp.${process.pid}`, cachedJar());
  } catch {} // a read-only home only costs the next clone a build
  return result;
}

async function ensureJar(): Promise<void> {
  if (jarCurrent()) return;
  mkdirSync(jarDir(), { recursive: true });
  const cached = cachedJar();
  if (existsSync(cached)) log(`mongo: using cached jar ${cached}`);
  copyFileSync(existsSync(cached) ? cached : await build(), `${jar()}.tmp`);
  renameSync(`${jar()}.tmp`, jar());
  writeFileSync(`${jar()}.hash`, `${sourceHash()}\n`);
}

export const mongo: TestServer = {
  name: 'mongo',
  summary: 'mongo-java-server in memory, from scripts/mongo-server (MONGO_URL)',
  variable: 'MONGO_URL',
  clientPort: 27017,
  missing() {
    const building = needsBuild();
    const jdk = !which('java') || (building && !which('javac'));
    return [...(jdk ? ['openjdk-17-jdk-headless'] : []), ...(building && !which('mvn') ? ['maven'] : [])];
  },
  prepare: ensureJar,
  installedPath() {
    const path = process.env.MONGO_SERVER_JAR || jar();
    return existsSync(path) && which('java') ? path : undefined;
  },
  async start() {
    const pids = pidFile('mongo.pid');
    const logs = logFile('mongo.log');
    const pid = readPid(pids);
    if (pidMatches(pid, jar()) && (await portOpen(mongoPort()))) {
      log(`mongo: already running on ${mongoPort()}`);
      return;
    }
    if (pid) await stopPid('mongo', pids, jar());
    await ensurePortFree(mongoPort(), 'mongo server');
    await ensureJar();
    log(`mongo: starting mongo-java-server on ${mongoPort()}`);
    const jvm = ['-Xms32m', '-Xmx2g', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
    const args = [
      ...jvm,
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-jar',
      jar(),
      String(mongoPort()),
    ];
    const child = daemon('java', [...args, '--host', HOST, '--pid-file', pids], logs);
    writeFileSync(pids, `${child.pid}\n`);
    await waitUntil(
      `mongo server accepting connections on ${mongoPort()}`,
      READY_SECONDS,
      () => portOpen(mongoPort()),
      {
        alive: () => pidAlive(child.pid),
        logs: [logs],
      },
    );
    // The launcher rewrites the pid file once bound; make sure it names the live process.
    writeFileSync(pids, `${child.pid}\n`);
  },
  stop: () => stopPid('mongo', pidFile('mongo.pid'), jar()),
  status: () => portsStatus('mongo', [mongoPort()], (at) => portOpen(at)),
  env(need) {
    const installed = { MONGO_SERVER_JAR: process.env.MONGO_SERVER_JAR || jar() };
    return need === 'installed' ? installed : { ...installed, MONGO_URL: `mongodb://${HOST}:${mongoPort()}` };
  },
};
