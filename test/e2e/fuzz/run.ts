/**
 * How the fuzz properties run: a bounded number of runs inside `npm test`, more on demand.
 *
 * - FUZZ_RUNS=<n> runs every property n times (e.g. FUZZ_RUNS=2000 for a long local run);
 * - FUZZ_SEED=<seed> replays a run; with FUZZ_PATH=<path> and FUZZ_ONLY=<full test name>, it
 *   replays just the shrunk counterexample of that one property (the others are skipped).
 *   A failure's message gives the command line.
 */
import type { TestContext } from 'node:test';
import fc from 'fast-check';

/** Runs per property unless FUZZ_RUNS says otherwise. */
export function runs(normally: number): number {
  const asked = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(asked) && asked > 0 ? asked : normally;
}

/**
 * Checks `property`, and fails the test with fast-check's report (the shrunk
 * counterexample, the error it raised) plus the seed and path that replay it.
 */
export async function fuzz<Ts>(
  t: TestContext,
  file: string,
  property: fc.IAsyncProperty<Ts>,
  numRuns: number,
): Promise<void> {
  const only = process.env.FUZZ_ONLY;
  if (only && only !== t.fullName) {
    t.skip('FUZZ_ONLY replays another property');
    return;
  }
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : (Date.now() ^ (process.pid << 16)) | 0;
  // A path belongs to one property: without FUZZ_ONLY it would be applied to all of them.
  const path = only ? process.env.FUZZ_PATH || undefined : undefined;
  const count = runs(numRuns);
  t.diagnostic(`fast-check seed ${seed}, ${count} runs`);
  const details = await fc.check(property, { numRuns: count, seed, path, includeErrorInReport: true });
  if (!details.failed) return;
  const pathPart = details.counterexamplePath ? ` FUZZ_PATH=${details.counterexamplePath}` : '';
  const replay = `FUZZ_SEED=${details.seed}${pathPart} FUZZ_ONLY=${JSON.stringify(t.fullName)}`;
  const report = fc.defaultReportMessage(details) ?? 'the property failed';
  throw new Error(`${t.fullName}: ${report}\n\nReplay: ${replay} npm test -- ${file}`);
}
