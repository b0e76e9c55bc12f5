/**
 * A steady load of counter increments (`GET /count`) from many sessions, each a client with
 * its own cookie jar, for the failover tests. Every reply is checked against what that
 * session was told before, so the report counts exactly what users would notice:
 *
 * - `failed`: requests that got no 200 (a status, a reset, a timeout); the session retries;
 * - `loggedOut`: a 200 carrying a new session (the old one vanished: the user would log in again);
 * - `lostWrites`: acknowledged increments missing afterwards (the count went back);
 * - `appliedAfterFailure`: failed requests whose increment landed anyway (the count jumped):
 *   ambiguous outcomes, not losses.
 */
import { Client } from './client.js';

export interface LoadReport {
  requests: number;
  ok: number;
  failed: number;
  /** Failed requests by status (`reset`/`timeout` for no response). */
  failures: Record<string, number>;
  /** From the first to the last failure, in ms (0 without failures). */
  failureWindowMs: number;
  /** When the first and last failures happened (Date.now()), for recovery times. */
  firstFailureAt?: number;
  lastFailureAt?: number;
  loggedOut: number;
  lostWrites: number;
  appliedAfterFailure: number;
  sessions: number;
}

interface SessionState {
  client: Client;
  /** The count of the last 200: what the user was told. */
  acked: number;
  id: string | undefined;
}

/** Who answered a failure: the app (its error code) or the load balancer (its page's title). */
function failureKind(body: string): string {
  const code = /"error":"([A-Z_]+)"/.exec(body)?.[1];
  if (code) return code;
  const title = /<h1>([^<]*)<\/h1>|<title>([^<]*)<\/title>/i.exec(body);
  return title ? `proxy: ${(title[1] ?? title[2] ?? '').trim()}` : 'other';
}

export class CounterLoad {
  private readonly states: SessionState[];
  private running = false;
  private loops: Array<Promise<void>> = [];
  private readonly report: LoadReport;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    base: string,
    sessions: number,
    private readonly options: { pauseMs?: number; timeoutMs?: number } = {},
  ) {
    this.states = Array.from({ length: sessions }, () => ({
      client: new Client(base),
      acked: 0,
      id: undefined,
    }));
    this.report = {
      requests: 0,
      ok: 0,
      failed: 0,
      failures: {},
      failureWindowMs: 0,
      loggedOut: 0,
      lostWrites: 0,
      appliedAfterFailure: 0,
      sessions,
    };
  }

  /** Starts every session's loop. */
  start(): void {
    this.running = true;
    this.loops = this.states.map((state) => this.loop(state));
  }

  /** Requests answered with 200 so far. */
  get okCount(): number {
    return this.report.ok;
  }

  /** Resolves once `count` more requests have been answered with 200. */
  afterOk(count: number): Promise<void> {
    const target = this.report.ok + count;
    return new Promise((resolve) => this.waiters.push({ count: target, resolve }));
  }

  /** Stops the loops (each finishes its request) and returns the counts so far. */
  async stop(): Promise<LoadReport> {
    this.running = false;
    await Promise.all(this.loops);
    const { firstFailureAt, lastFailureAt } = this.report;
    if (firstFailureAt !== undefined && lastFailureAt !== undefined) {
      this.report.failureWindowMs = lastFailureAt - firstFailureAt;
    }
    return { ...this.report, failures: { ...this.report.failures } };
  }

  /**
   * Reads every session's count once more without incrementing (`GET /peek`), after `stop`:
   * a session whose stored count is below what it was told lost acknowledged writes, one
   * with no count at all was logged out. Adds to the report and returns it.
   */
  async verify(path = '/peek'): Promise<LoadReport> {
    for (const state of this.states) {
      if (state.acked === 0) continue;
      let count: number | undefined;
      for (let attempt = 0; attempt < 20 && count === undefined; attempt++) {
        const response = await state.client.request(path).catch(() => undefined);
        if (response?.status === 200) count = ((await response.json()) as { count: number }).count;
        else await new Promise((resolve) => setTimeout(resolve, 250));
      }
      if (count === undefined) throw new Error(`${path} kept failing after the load`);
      if (count === 0 || state.client.sessionId !== state.id) this.report.loggedOut++;
      else if (count < state.acked) this.report.lostWrites += state.acked - count;
    }
    return { ...this.report, failures: { ...this.report.failures } };
  }

  private async loop(state: SessionState): Promise<void> {
    const { pauseMs = 5, timeoutMs = 10_000 } = this.options;
    while (this.running) {
      this.report.requests++;
      const sent = Date.now();
      let status: string;
      let count: number | undefined;
      try {
        const response = await state.client.request('/count', { signal: AbortSignal.timeout(timeoutMs) });
        status = String(response.status);
        if (response.status === 200) count = ((await response.json()) as { count: number }).count;
        else status += ` ${failureKind(await response.text())}`;
      } catch (error) {
        status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'reset';
      }
      if (count === undefined) this.failed(status, sent);
      else this.answered(state, count);
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  private failed(status: string, at: number): void {
    const { report } = this;
    report.failed++;
    report.failures[status] = (report.failures[status] ?? 0) + 1;
    report.firstFailureAt ??= at;
    report.lastFailureAt = Date.now();
  }

  private answered(state: SessionState, count: number): void {
    const { report } = this;
    report.ok++;
    const id = state.client.sessionId;
    if (state.id !== undefined && id !== state.id) {
      // A new session: the old one was lost with every increment it had.
      report.loggedOut++;
    } else if (count <= state.acked) {
      report.lostWrites += state.acked + 1 - count;
    } else if (count > state.acked + 1) {
      report.appliedAfterFailure += count - state.acked - 1;
    }
    state.id = id;
    state.acked = count;
    this.waiters = this.waiters.filter((waiter) => {
      if (report.ok < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
}
