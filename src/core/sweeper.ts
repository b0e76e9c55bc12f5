import type { SessionEmitter } from './events.js';
import type { Store, SweepRecord } from './store.js';

const LEASE_NAME = 'sweeper';

/**
 * Deletes expired sessions in batches and fires `destroyed` (reason `expired`) for each.
 * Every node runs one; the store lease lets one node at a time do the work, and the store's
 * atomic delete-and-return makes each event fire once even if two nodes overlap.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  /** This node's last run (the store's `stats.lastSweep` has the cluster's). */
  lastRun: SweepRecord | null = null;

  constructor(
    private readonly store: Store,
    private readonly events: SessionEmitter,
    private readonly settings: { interval: number; batchSize: number },
    private readonly holder: string,
  ) {}

  start(): void {
    if (this.timer || !this.store.sweeping) return;
    this.timer = setInterval(() => {
      this.runOnce().catch((error) => this.events.emit('error', { error, during: 'sweep' }));
    }, this.settings.interval);
    // The sweeper must never keep a process alive on its own.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sweep, now. Returns how many sessions this node expired. */
  runOnce(now = Date.now()): Promise<number> {
    this.running ??= this.sweep(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweep(now: number): Promise<number> {
    const { sweeping, leases } = this.store;
    // A store without the group expires sessions by itself (TTL); there is nothing to sweep.
    if (!sweeping) return 0;
    // Without leases every node sweeps; the atomic delete still reports each session once.
    if (leases && !(await leases.acquire(LEASE_NAME, this.holder, this.settings.interval * 2, now))) return 0;
    const started = performance.now();
    let total = 0;
    for (;;) {
      const expired = await sweeping.sweep(now, this.settings.batchSize);
      for (const meta of expired) this.events.emit('destroyed', { meta, reason: 'expired' });
      total += expired.length;
      if (expired.length < this.settings.batchSize) break;
    }
    await this.note({
      at: now,
      removed: total,
      durationMs: Math.round(performance.now() - started),
      holder: this.holder,
    });
    return total;
  }

  /**
   * Notes the run where any process (the monitor) can read it. A failure to note is reported
   * on `error` and never fails the sweep, which has done its work.
   */
  private async note(record: SweepRecord): Promise<void> {
    this.lastRun = record;
    try {
      await this.store.stats?.noteSweep(record);
    } catch (error) {
      this.events.emit('error', { error, during: 'sweep note' });
    }
  }
}
