/**
 * App CPU per read-only request against session size, for one contestant, in a quiet
 * process of its own: the question "does the per-request cost grow with the session?" asked
 * without the rest of `npm run bench` competing for the CPU. Sizes are interleaved and
 * repeated, because on a shared machine one run says little.
 *
 *   npm run build
 *   SYSTEM=unisession-redis STORE_URL=redis://127.0.0.1:6390/ \
 *     node --import tsx bench/cpu-growth.ts bench/express-server.ts
 *
 * Env: SYSTEM, STORE_URL, SHAPE (as the server files take them); SIZES (comma-separated
 * bytes, default 2000,20000,200000), COUNT (sessions per size, default 200), REPS (3),
 * SECONDS (5 per measurement), PROFILE_DIR (adds --cpu-prof to the server), SERVER_NODE_ARGS
 * (more node/V8 flags for the server, space-separated, e.g. `--trace-gc`). Prints one JSON
 * row per measurement and the median µs per request per size.
 */
import { spawn } from 'node:child_process';
import { measure, seed, storeTraffic } from './load.js';

const serverFile = process.argv[2];
if (!serverFile) throw new Error('usage: bench/cpu-growth.ts <bench/…-server.ts>');
const sizes = (process.env.SIZES ?? '2000,20000,200000').split(',').map(Number);
const count = Number(process.env.COUNT ?? 200);
const reps = Number(process.env.REPS ?? 3);
const seconds = Number(process.env.SECONDS ?? 5);

/** One server process per measurement, so no run inherits another's heap. */
async function once(size: number): Promise<{ rps: number; micros: number }> {
  const args = ['--import', 'tsx', ...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  if (process.env.PROFILE_DIR) {
    // --cpu-prof writes its profile only on a normal exit: make SIGTERM one.
    const exitOnTerm = "process.on('SIGTERM',()=>process.exit(0))";
    args.push(
      '--cpu-prof',
      `--cpu-prof-dir=${process.env.PROFILE_DIR}`,
      '--import',
      `data:text/javascript,${exitOnTerm}`,
    );
  }
  const child = spawn(process.execPath, [...args, serverFile!], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${serverFile} exited (${code})`)));
      child.stdout!.on('data', (data: Buffer) => {
        const match = /listening (\d+)/.exec(String(data));
        if (match) resolve(Number(match[1]));
      });
    });
    const base = `http://127.0.0.1:${port}`;
    const cookies = await seed(base, count, size);
    await measure(base, '/read', cookies, 1, 16); // warm-up
    await storeTraffic(base); // resets the meter
    const run = await measure(base, '/read', cookies, seconds, 16);
    const traffic = await storeTraffic(base);
    if (run.errors > 0) throw new Error(`${run.errors} failed requests`);
    return { rps: Math.round(run.requestsPerSecond), micros: Math.round(traffic.cpuMicros / run.requests) };
  } finally {
    child.kill('SIGTERM');
  }
}

const results = new Map<number, number[]>(sizes.map((size) => [size, []]));
for (let rep = 0; rep < reps; rep++) {
  for (const size of sizes) {
    const row = await once(size);
    results.get(size)!.push(row.micros);
    console.log(
      JSON.stringify({ system: process.env.SYSTEM, shape: process.env.SHAPE ?? 'strings', size, ...row }),
    );
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [size, micros] of results)
  console.log(`${size} B: median ${median(micros)} µs/request (${micros.join(', ')})`);
