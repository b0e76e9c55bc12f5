/**
 * `npm run bench`: unisession side by side with the anchors, in one run, on the same store
 * servers, against the built package. Prints one table; `--json <file>` also writes the rows.
 *
 * Each cell: 1000 sessions of 2 KB or 20 KB (10 attributes) in each contestant, then a
 * read-only load (/read) and a load that changes one small attribute (/write). Both
 * contestants of a cell run at once, each in a process of its own, and are measured in turn,
 * REPS times each; the table shows the median run. Store bytes are metered on the store
 * socket of the app process over a fixed number of sequential requests.
 *
 * Environment: BENCH_SECONDS (per run, default 4), BENCH_REPS (default 3), BENCH_SESSIONS
 * (default 1000), BENCH_ONLY (run only suites whose name contains it).
 */
import { writeFileSync } from 'node:fs';
import { type Node, startNode, stopNode } from '../test/helpers/processes.js';
import { bytesPerRequest, type Measurement, measure, seed } from './load.js';

interface Row extends Measurement {
  suite: string;
  size: string;
  workload: Workload;
  system: string;
  bytesPerRequest: number;
  /** Our req/s over the anchor's, in the same cell (only on our rows). */
  ratio?: number;
}

type Workload = 'read' | 'write';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const ONLY = process.env.BENCH_ONLY ?? '';
const SIZES = [2048, 20480];
const BYTE_SAMPLE = 200;

const suites = [
  {
    suite: 'express + redis',
    server: 'bench/express-server.ts',
    url: process.env.REDIS_URL,
    anchor: 'express-session+connect-redis',
    ours: 'unisession-redis',
  },
  {
    suite: 'express + mongodb',
    server: 'bench/express-server.ts',
    url: process.env.MONGO_URL,
    anchor: 'express-session+connect-mongo',
    ours: 'unisession-mongodb',
  },
  {
    suite: 'fastify + redis',
    server: 'bench/fastify-server.ts',
    url: process.env.REDIS_URL,
    anchor: '@fastify/session+connect-redis',
    ours: 'unisession-fastify',
  },
];

interface Contestant {
  system: string;
  node: Node;
  base: string;
  cookies: string[];
}

async function start(server: string, system: string, storeUrl: string, size: number): Promise<Contestant> {
  const node = await startNode(server, { SYSTEM: system, STORE_URL: storeUrl });
  const base = `http://127.0.0.1:${node.port}`;
  return { system, node, base, cookies: await seed(base, SESSIONS, size) };
}

async function storeBytes(contestant: Contestant, workload: Workload): Promise<number> {
  const { base, cookies } = contestant;
  await bytesPerRequest(base, 0);
  for (let i = 0; i < BYTE_SAMPLE; i++) {
    await fetch(`${base}/${workload}`, { headers: { cookie: cookies[i % cookies.length]! } });
  }
  return bytesPerRequest(base, BYTE_SAMPLE);
}

const median = (runs: Measurement[]) =>
  [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(runs.length / 2)]!;

async function runCell(suite: (typeof suites)[number], size: number): Promise<Row[]> {
  const anchor = await start(suite.server, suite.anchor, suite.url!, size);
  const ours = await start(suite.server, suite.ours, suite.url!, size).catch(async (error) => {
    await stopNode(anchor.node);
    throw error;
  });
  try {
    const rows: Row[] = [];
    for (const workload of ['read', 'write'] as const) {
      const path = `/${workload}`;
      const bytes = [await storeBytes(anchor, workload), await storeBytes(ours, workload)];
      // Warm-up (JIT, connection pools), then alternate so drift hits both alike.
      for (const contestant of [anchor, ours]) await measure(contestant.base, path, contestant.cookies, 1);
      const runs: [Measurement[], Measurement[]] = [[], []];
      for (let rep = 0; rep < REPS; rep++) {
        runs[0].push(await measure(anchor.base, path, anchor.cookies, SECONDS));
        runs[1].push(await measure(ours.base, path, ours.cookies, SECONDS));
      }
      const [anchorRun, ourRun] = runs.map(median) as [Measurement, Measurement];
      const cell = { suite: suite.suite, size: `${size / 1024} KB`, workload };
      rows.push({ ...cell, system: anchor.system, ...anchorRun, bytesPerRequest: bytes[0]! });
      rows.push({
        ...cell,
        system: ours.system,
        ...ourRun,
        bytesPerRequest: bytes[1]!,
        ratio: ourRun.requestsPerSecond / anchorRun.requestsPerSecond,
      });
    }
    return rows;
  } finally {
    await Promise.all([stopNode(anchor.node), stopNode(ours.node)]);
  }
}

function printTable(rows: Row[]): void {
  const header = [
    'suite',
    'session',
    'workload',
    'system',
    'req/s',
    'p50 ms',
    'p99 ms',
    'store B/req',
    'errors',
    'ratio',
  ];
  const lines = rows.map((row) => [
    row.suite,
    row.size,
    row.workload,
    row.system,
    row.requestsPerSecond.toFixed(0),
    row.p50.toFixed(1),
    row.p99.toFixed(1),
    row.bytesPerRequest.toFixed(0),
    String(row.errors),
    row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}

const rows: Row[] = [];
for (const suite of suites.filter((s) => s.suite.includes(ONLY))) {
  if (!suite.url) throw new Error(`${suite.suite}: the store URL is not set; run through \`npm run bench\``);
  for (const size of SIZES) {
    rows.push(...(await runCell(suite, size)));
    console.error(`done: ${suite.suite}, ${size / 1024} KB`);
  }
}
printTable(rows);
const jsonAt = process.argv.indexOf('--json');
if (jsonAt !== -1) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(rows, null, 2));
