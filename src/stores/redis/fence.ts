import type { RedisClient } from './client.js';

/**
 * The late-write fence. A session write that reaches Redis after its caller stopped waiting
 * for it must not be applied: the caller already answered 503, its user sent a newer request,
 * and the old write, applied now, would overwrite the newer one. Turning off ioredis's queues
 * is not enough: a Cluster client keeps an offline queue per node and re-sends commands after
 * failovers on its own, and a measured SIGKILL failover applied timed-out writes up to 3.7 s
 * after their rejection, behind the newer writes of the same session (docs/reliability.md).
 *
 * So every write script carries a deadline in the server's clock: the time it was sent plus
 * `budgetMs` (the command timeout, past which the caller has given up). The script compares
 * it with Redis's TIME before it writes anything, and answers 'late' instead of writing.
 *
 * The node's clock and Redis's may differ. The offset is learned from TIME (at the first
 * write and every minute after) and from every 'late' reply, which carries the server's time:
 * a 'late' reply the caller still waits for means the clocks disagreed, so the write, which
 * was not applied, is sent once more with the corrected deadline.
 */
export class WriteFence {
  /** Redis's clock minus ours, in ms. */
  private offsetMs = 0;
  private measuredAt = Number.NEGATIVE_INFINITY;
  private measuring: Promise<void> | undefined;

  constructor(private readonly budgetMs: number) {}

  /** ARGV[1] of a write script: '<deadline>|<index prefix>'. */
  argument(prefix: string, sentAt: number): string {
    return `${Math.floor(sentAt + this.offsetMs + this.budgetMs)}|${prefix}`;
  }

  /** A 'late' reply: the server's time when it ran, between `sentAt` and `repliedAt` here. */
  learn(serverNowMs: number, sentAt: number, repliedAt: number): void {
    if (!Number.isFinite(serverNowMs)) return;
    this.offsetMs = serverNowMs - (sentAt + repliedAt) / 2;
    this.measuredAt = repliedAt;
  }

  /** Measures the offset with TIME when the last measure is older than a minute; never fails. */
  refresh(client: RedisClient, now: number): void {
    if (this.measuring || now - this.measuredAt < 60_000) return;
    this.measuredAt = now;
    this.measuring = this.measure(client).finally(() => {
      this.measuring = undefined;
    });
  }

  private async measure(client: RedisClient): Promise<void> {
    const sentAt = Date.now();
    try {
      const [seconds, micros] = await client.time();
      const repliedAt = Date.now();
      this.learn(Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), sentAt, repliedAt);
    } catch {
      // Redis is down: the writes fail anyway; measure again in ten seconds.
      this.measuredAt = Date.now() - 50_000;
    }
  }
}
