/**
 * FerretDB v1 on its SQLite backend, on 127.0.0.1:27037 (FERRETDB_URL): a second MongoDB
 * server, more faithful than mongo-java-server (a real wire protocol 6/7 server that the
 * mongodb driver v7 accepts). Built once from its Go module into the state directory (the Go
 * module proxy must be reachable), then started like the other servers.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  readPid,
  run,
  stateDir,
  stopPid,
  type TestServer,
  waitUntil,
  which,
} from './kit.js';

/** The version the issue names; the Go proxy serves it (check with `go list -m -versions`). */
export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
export const FERRETDB_VERSION = 'v1.24.2';

const READY_SECONDS = 60;
const ferretPort = () => port(27037);
const home = () => join(stateDir(false), 'ferretdb');
const binary = () => join(home(), 'bin', 'ferretdb');
const goBinary = () =>
  which('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);

/**
 * Builds the release into <state>/ferretdb/bin: a few minutes the first time. Not `go install
 * ...@v1.24.2`: the published module leaves build/version/version.txt empty (its release
 * builds generate it), and such a binary panics at start. So the module is downloaded, copied
 * out of the read-only module cache, given its version file, and built there.
 */
async function build(): Promise<void> {
  if (existsSync(binary())) return;
  const go = goBinary();
  if (!go) throw failure('FerretDB is built with Go, and no `go` is installed (apt-get install golang-go)');
  const logs = logFile('ferretdb-build.log');
  const env = { ...process.env, GOFLAGS: '-mod=mod' };
  log(`ferretdb: building ${FERRETDB_MODULE}@${FERRETDB_VERSION} with Go (first time only; log in ${logs})`);
  const downloaded = await run(go, ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], {
    env,
    timeout: 1800,
  });
  const dir = downloaded.code === 0 ? (JSON.parse(downloaded.stdout) as { Dir?: string }).Dir : undefined;
  if (!dir) throw failure(`go mod download of FerretDB failed: ${downloaded.stderr.slice(0, 500)}`);
  mkdirSync(join(home(), 'bin'), { recursive: true });
  const source = join(home(), 'src');
  rmSync(source, { recursive: true, force: true });
  cpSync(dir, source, { recursive: true });
  await run('chmod', ['-R', 'u+w', source]);
  writeFileSync(join(source, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
  const built = await run(go, ['build', '-o', `${binary()}.tmp`, './cmd/ferretdb'], {
    cwd: source,
    env,
    log: logs,
    timeout: 3600,
  });
  if (built.code !== 0 || !existsSync(`${binary()}.tmp`)) throw failure('go build of FerretDB failed', logs);
  renameSync(`${binary()}.tmp`, binary());
  rmSync(source, { recursive: true, force: true });
}

export const ferretdb: TestServer = {
  name: 'ferretdb',
  summary: `FerretDB ${FERRETDB_VERSION} on SQLite, built from its Go module (FERRETDB_URL)`,
  variable: 'FERRETDB_URL',
  clientPort: 27017,
  missing: () => (existsSync(binary()) || goBinary() ? [] : ['golang-go']),
  prepare: build,
  installedPath: () => (existsSync(binary()) ? binary() : undefined),
  async start() {
    const pids = pidFile('ferretdb.pid');
    const pid = readPid(pids);
    if (pidMatches(pid, binary()) && (await portOpen(ferretPort()))) {
      log(`ferretdb: already running on ${ferretPort()}`);
      return;
    }
    if (pid) await stopPid('ferretdb', pids, binary());
    await ensurePortFree(ferretPort(), 'ferretdb');
    await build();
    const data = join(home(), 'data');
    mkdirSync(data, { recursive: true });
    log(`ferretdb: starting on ${ferretPort()} (SQLite in ${data})`);
    const logs = logFile('ferretdb.log');
    const child = daemon(
      binary(),
      [
        '--handler=sqlite',
        `--sqlite-url=file:${data}/`,
        `--listen-addr=${HOST}:${ferretPort()}`,
        `--state-dir=${home()}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ],
      logs,
    );
    writeFileSync(pids, `${child.pid}\n`);
    await waitUntil(
      `ferretdb accepting connections on ${ferretPort()}`,
      READY_SECONDS,
      () => portOpen(ferretPort()),
      {
        alive: () => pidAlive(child.pid),
        logs: [logs],
      },
    );
  },
  stop: () => stopPid('ferretdb', pidFile('ferretdb.pid'), binary()),
  status: () => portsStatus('ferretdb', [ferretPort()], (at) => portOpen(at)),
  env: (need): Record<string, string> =>
    need === 'running' ? { FERRETDB_URL: `mongodb://${HOST}:${ferretPort()}/` } : {},
};
