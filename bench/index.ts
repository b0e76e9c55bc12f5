/**
 * `npm run bench`: unisession side by side with the anchors, in one run, on the same store
 * servers. Prints one table; `--json <file>` also writes the rows.
 *
 * Each cell: 1000 sessions of 2 KB or 20 KB, then a read-only load (/read) and a load that
 * changes one small attribute (/write). Store bytes are counted on the store socket of the
 * app process, over a fixed number of sequential requests.
 */
import { writeFileSync } from 'node:fs';
import { type Node, startNode, stopNode } from '../test/helpers/processes.js';
import { bytesPerRequest, measure, seed } from './load.js';

interface Row {
  suite: string;
  size: string;
  workload: 'read' | 'write';
  system: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  bytesPerRequest: number;
  errors: number;
  ratio?: number;
}

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const SIZES = [2048, 20480];
const BYTE_SAMPLE = 200;

const suites = [
  {
    suite: 'express + redis',
    url: process.env.REDIS_URL,
    ours: 'unisession-redis',
    anchor: 'express-session+connect-redis',
  },
  {
    suite: 'express + mongodb',
    url: process.env.MONGO_URL,
    ours: 'unisession-mongodb',
    anchor: 'express-session+connect-mongo',
  },
];

async function runContestant(system: string, storeUrl: string, suite: string, size: number): Promise<Row[]> {
  const node: Node = await startNode('bench/server.ts', { SYSTEM: system, STORE_URL: storeUrl });
  const base = `http://127.0.0.1:${node.port}`;
  try {
    const cookies = await seed(base, SESSIONS, size);
    const rows: Row[] = [];
    for (const workload of ['read', 'write'] as const) {
      // Sequential sample for the byte count, then the timed load.
      await bytesPerRequest(base, 0);
      for (let i = 0; i < BYTE_SAMPLE; i++)
        await fetch(`${base}/${workload}`, { headers: { cookie: cookies[i % cookies.length]! } });
      const bytes = await bytesPerRequest(base, BYTE_SAMPLE);
      await measure(base, `/${workload}`, cookies, 1); // warm-up: JIT and connection pools
      const measured = await measure(base, `/${workload}`, cookies, SECONDS);
      rows.push({ suite, size: `${size / 1024} KB`, workload, system, ...measured, bytesPerRequest: bytes });
    }
    return rows;
  } finally {
    await stopNode(node);
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

/** `BENCH_ONLY=mongodb npm run bench` runs only the suites whose name contains "mongodb". */
const only = process.env.BENCH_ONLY ?? '';
const rows: Row[] = [];
for (const { suite, url, ours, anchor } of suites.filter((s) => s.suite.includes(only))) {
  if (!url) throw new Error(`${suite}: the store URL is not set; run through \`npm run bench\``);
  for (const size of SIZES) {
    const anchorRows = await runContestant(anchor, url, suite, size);
    const ourRows = await runContestant(ours, url, suite, size);
    for (const row of ourRows) {
      const peer = anchorRows.find((a) => a.workload === row.workload)!;
      row.ratio = row.requestsPerSecond / peer.requestsPerSecond;
    }
    rows.push(...anchorRows, ...ourRows);
    console.error(`done: ${suite} ${size / 1024} KB`);
  }
}

try {
  const { runFastifyBench } = (await import('./fastify.js')) as {
    runFastifyBench?: (options: Record<string, unknown>) => Promise<Row[]>;
  };
  if (runFastifyBench && 'fastify + redis'.includes(only))
    rows.push(
      ...(await runFastifyBench({ redisUrl: process.env.REDIS_URL, seconds: SECONDS, sessions: SESSIONS })),
    );
} catch (error) {
  if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
}

printTable(rows);
const jsonAt = process.argv.indexOf('--json');
if (jsonAt !== -1) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(rows, null, 2));
