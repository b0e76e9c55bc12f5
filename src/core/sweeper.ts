import type { SessionEmitter } from './events.js';
import type { Store } from './store.js';

const LEASE_NAME = 'sweeper';

/**
 * Deletes expired sessions in batches and fires `destroyed` (reason `expired`) for each.
 * Every node runs one; the store lease lets one node at a time do the work, and the store's
 * atomic delete-and-return makes each event fire once even if two nodes overlap.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly store: Store,
    private readonly events: SessionEmitter,
    private readonly settings: { interval: number; batchSize: number },
    private readonly holder: string,
  ) {}

  start(): void {
    if (this.timer || !this.store.flags.sweep) return;
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
    const { store } = this;
    if (!store.sweep) return 0;
    if (store.flags.lease && store.acquireLease) {
      const held = await store.acquireLease(LEASE_NAME, this.holder, this.settings.interval * 2, now);
      if (!held) return 0;
    }
    let total = 0;
    for (;;) {
      const expired = await store.sweep(now, this.settings.batchSize);
      for (const meta of expired) this.events.emit('destroyed', { meta, reason: 'expired' });
      total += expired.length;
      if (expired.length < this.settings.batchSize) return total;
    }
  }
}
