/**
 * `npm run bench`: unisession side by side with the anchors, in one run, on the same store
 * servers, against the built package. Prints the tables; `--json <file>` also writes the rows,
 * and the cost-growth chart goes to docs/bench-cost-growth.svg (`--no-svg` to skip it).
 *
 * - Cost growth: for each suite, session shape (bench/shapes.ts) and size, both contestants
 *   run at once, each in a process of its own, and are measured in turn (interleaved), REPS
 *   times each; the table shows each one's median run. Per request: req/s, latency, the app
 *   process's CPU µs, and the bytes it sent to and received from the store (metered on its
 *   store socket, over BYTE_SAMPLE sequential requests).
 * - Overhead: a route that never touches the session, each adapter against the bare
 *   framework, with and without a session cookie; and the node:http adapter's reads against
 *   bare node:http.
 *
 * Switches: `--quick` (2 KB and 20 KB only, 1 run of 1 s: a smoke test), `--sessions` (adds
 * the session-count table, bench/session-count.ts), `--full` (both, and Express + MongoDB). Environment: BENCH_SECONDS (per run, default 2), BENCH_REPS (default 3),
 * BENCH_ONLY (run only suites whose name contains it).
 */
import { writeFileSync } from 'node:fs';
import { type Node, startNode, stopNode } from '../test/helpers/processes.js';
import { costGrowthChart } from './chart.js';
import { type Measurement, measure, seed, storeTraffic } from './load.js';
import { printCountTable, sessionCountTable } from './session-count.js';
import type { Shape } from './shapes.js';

type Workload = 'read' | 'write' | 'plain';

interface Row extends Measurement {
  suite: string;
  shape: Shape | '';
  size: number;
  workload: Workload;
  system: string;
  cpuMicros: number;
  sentPerRequest: number;
  receivedPerRequest: number;
  /** req/s over the reference's (the anchor, or the bare framework), in the same cell. */
  ratio?: number;
  /** What `ratio` compares with. */
  against?: string;
}

const QUICK = process.argv.includes('--quick');
const FULL = process.argv.includes('--full');
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 1 : 2));
const REPS = Number(process.env.BENCH_REPS ?? (QUICK ? 1 : 3));
const ONLY = process.env.BENCH_ONLY ?? '';
const SIZES = QUICK ? [2048, 20480] : [200, 2048, 20480, 204800];
const OBJECT_SIZES = (process.env.BENCH_OBJECT_SIZES ?? (QUICK ? '2048' : '2048,20480'))
  .split(',')
  .map(Number);
const BYTE_SAMPLE = 100;
/** Sessions per contestant: fewer at 200 KB, where 1000 would be 200 MB per contestant. */
const sessionsFor = (size: number) => (size >= 204800 ? 200 : 1000);

const suites = [
  {
    suite: 'express + redis',
    server: 'bench/express-server.ts',
    url: process.env.REDIS_URL,
    anchor: 'express-session+connect-redis',
    ours: 'unisession-redis',
  },
  {
    suite: 'fastify + redis',
    server: 'bench/fastify-server.ts',
    url: process.env.REDIS_URL,
    anchor: '@fastify/session+connect-redis',
    ours: 'unisession-fastify',
  },
  ...(FULL
    ? [
        {
          suite: 'express + mongodb',
          server: 'bench/express-server.ts',
          url: process.env.MONGO_URL,
          anchor: 'express-session+connect-mongo',
          ours: 'unisession-mongodb',
        },
      ]
    : []),
];

interface Contestant {
  system: string;
  node: Node;
  base: string;
  cookies: string[];
}

async function start(
  server: string,
  system: string,
  storeUrl: string,
  shape: Shape,
  size: number,
  cookies?: string[],
): Promise<Contestant> {
  const node = await startNode(server, { SYSTEM: system, STORE_URL: storeUrl, SHAPE: shape });
  const base = `http://127.0.0.1:${node.port}`;
  return { system, node, base, cookies: cookies ?? (await seed(base, sessionsFor(size), size)) };
}

async function startAll(specs: Array<Parameters<typeof start>>): Promise<Contestant[]> {
  const started: Contestant[] = [];
  try {
    for (const spec of specs) started.push(await start(...spec));
    return started;
  } catch (error) {
    await Promise.all(started.map((c) => stopNode(c.node)));
    throw error;
  }
}

/** Store bytes per request, over sequential requests (so nothing else is on the socket). */
async function traffic(contestant: Contestant, path: string, cookies = contestant.cookies) {
  const { base } = contestant;
  await storeTraffic(base);
  for (let i = 0; i < BYTE_SAMPLE; i++) {
    await fetch(`${base}${path}`, { headers: { cookie: cookies[i % cookies.length]! } });
  }
  const { sent, received } = await storeTraffic(base);
  return { sentPerRequest: sent / BYTE_SAMPLE, receivedPerRequest: received / BYTE_SAMPLE };
}

/** One run, with the app process's CPU time per request over it. */
async function run(contestant: Contestant, path: string, cookies: string[]) {
  await storeTraffic(contestant.base);
  const measured = await measure(contestant.base, path, cookies, SECONDS);
  const { cpuMicros } = await storeTraffic(contestant.base);
  return { ...measured, cpuMicros: cpuMicros / Math.max(1, measured.requests) };
}

const median = <T extends Measurement>(runs: T[]) =>
  [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(runs.length / 2)]!;

/**
 * Measures `path` on each contestant, interleaved: a warm-up each, then REPS rounds of one run
 * each, so drift on the shared machine hits all alike. Rows in contestant order; each but the
 * first carries its ratio to the first.
 */
async function compare(
  cell: { suite: string; shape: Shape | ''; size: number; workload: Workload },
  contestants: Array<{ contestant: Contestant; path: string; label?: string; cookies?: string[] }>,
): Promise<Row[]> {
  const bytes: Array<Awaited<ReturnType<typeof traffic>>> = [];
  for (const { contestant, path, cookies } of contestants)
    bytes.push(await traffic(contestant, path, cookies));
  for (const { contestant, path, cookies } of contestants)
    await measure(contestant.base, path, cookies ?? contestant.cookies, 1);
  const runs: Array<Array<Awaited<ReturnType<typeof run>>>> = contestants.map(() => []);
  for (let rep = 0; rep < REPS; rep++) {
    for (const [i, { contestant, path, cookies }] of contestants.entries())
      runs[i]!.push(await run(contestant, path, cookies ?? contestant.cookies));
  }
  const medians = runs.map(median);
  const reference = medians[0]!.requestsPerSecond;
  const first = contestants[0]!;
  return contestants.map(({ contestant, label }, i) => ({
    ...cell,
    system: label ?? contestant.system,
    ...medians[i]!,
    ...bytes[i]!,
    ...(i === 0
      ? {}
      : {
          ratio: medians[i]!.requestsPerSecond / reference,
          against: first.label ?? first.contestant.system,
        }),
  }));
}

async function costGrowthCell(suite: (typeof suites)[number], shape: Shape, size: number): Promise<Row[]> {
  const [anchor, ours] = await startAll([
    [suite.server, suite.anchor, suite.url!, shape, size],
    [suite.server, suite.ours, suite.url!, shape, size],
  ]);
  try {
    const rows: Row[] = [];
    for (const workload of ['read', 'write'] as const) {
      const path = `/${workload}`;
      const cell = { suite: suite.suite, shape, size, workload };
      rows.push(
        ...(await compare(cell, [
          { contestant: anchor!, path },
          { contestant: ours!, path },
        ])),
      );
    }
    return rows;
  } finally {
    await Promise.all([stopNode(anchor!.node), stopNode(ours!.node)]);
  }
}

/** A route that never touches the session: each adapter against its bare framework. */
async function overheadCell(framework: 'node' | 'express' | 'fastify'): Promise<Row[]> {
  const url = process.env.REDIS_URL!;
  const server = `bench/${framework}-server.ts`;
  const ourSystem = { node: 'unisession-node', express: 'unisession-redis', fastify: 'unisession-fastify' }[
    framework
  ];
  const ours = (await startAll([[server, ourSystem, url, 'strings', 2048]]))[0]!;
  let bare: Contestant;
  try {
    bare = (await startAll([[server, `bare-${framework}`, url, 'strings', 2048, []]]))[0]!;
  } catch (error) {
    await stopNode(ours.node);
    throw error;
  }
  try {
    const suite = `${framework} (overhead)`;
    const rows = await compare({ suite, shape: '', size: 0, workload: 'plain' }, [
      { contestant: bare, path: '/plain', cookies: [''] },
      { contestant: ours, path: '/plain', cookies: [''], label: `${ourSystem} (no cookie)` },
      { contestant: ours, path: '/plain', label: `${ourSystem} (session cookie)` },
    ]);
    if (framework === 'node') {
      // The node:http adapter's reads, against the bare server's answer to the same client.
      for (const size of SIZES.filter((s) => s === 2048 || s === 20480)) {
        const sized = size === 2048 ? ours : await start(server, ourSystem, url, 'strings', size);
        try {
          rows.push(
            ...(await compare({ suite, shape: 'strings', size, workload: 'read' }, [
              { contestant: bare, path: '/plain', cookies: [''], label: 'bare-node (/plain)' },
              { contestant: sized, path: '/read', label: 'unisession-node (/read)' },
            ])),
          );
        } finally {
          if (sized !== ours) await stopNode(sized.node);
        }
      }
    }
    return rows;
  } finally {
    await Promise.all([stopNode(ours.node), stopNode(bare.node)]);
  }
}

const sizeLabel = (bytes: number) => (bytes === 0 ? '' : bytes >= 1024 ? `${bytes / 1024} KB` : `${bytes} B`);

function printTable(title: string, rows: Row[]): void {
  const header = [
    'suite',
    'shape',
    'session',
    'workload',
    'system',
    'req/s',
    'p99 ms',
    'CPU µs/req',
    'store B sent/req',
    'store B recv/req',
    'errors',
    'ratio',
  ];
  const lines = rows.map((row) => [
    row.suite,
    row.shape,
    sizeLabel(row.size),
    row.workload,
    row.system,
    row.requestsPerSecond.toFixed(0),
    row.p99.toFixed(1),
    row.cpuMicros.toFixed(0),
    row.sentPerRequest.toFixed(0),
    row.receivedPerRequest.toFixed(0),
    String(row.errors),
    row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(format(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
}

function chart(rows: Row[]): string {
  const caption = `npm run bench, ${new Date().toISOString().slice(0, 10)}: 10 string attributes, median of ${REPS} runs of ${SECONDS} s; shared 2-core machine`;
  return costGrowthChart(rows, caption);
}

const growth: Row[] = [];
const overhead: Row[] = [];
const jsonAt = process.argv.indexOf('--json');
/** Written after every cell, so a long run that is stopped keeps what it measured. */
const saveRows = () => {
  if (jsonAt !== -1)
    writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify([...growth, ...overhead], null, 2));
};
for (const suite of suites.filter((s) => s.suite.includes(ONLY))) {
  if (!suite.url) throw new Error(`${suite.suite}: the store URL is not set; run through \`npm run bench\``);
  const cells: Array<[Shape, number]> = [
    ...SIZES.map((size): [Shape, number] => ['strings', size]),
    ...OBJECT_SIZES.map((size): [Shape, number] => ['objects', size]),
  ];
  for (const [shape, size] of cells) {
    growth.push(...(await costGrowthCell(suite, shape, size)));
    console.error(`done: ${suite.suite}, ${shape}, ${sizeLabel(size)}`);
    saveRows();
  }
}
if ('overhead'.includes(ONLY) || ONLY === '') {
  for (const framework of ['node', 'express', 'fastify'] as const) {
    overhead.push(...(await overheadCell(framework)));
    console.error(`done: ${framework} overhead`);
    saveRows();
  }
}
printTable('Cost growth: session size, read and write', growth);
printTable('Requests that never touch the session, and node:http reads', overhead);
saveRows();
if (!process.argv.includes('--no-svg') && growth.length > 0)
  writeFileSync(new URL('../docs/bench-cost-growth.svg', import.meta.url), chart(growth));
if (process.argv.includes('--sessions') || FULL) printCountTable(await sessionCountTable());
