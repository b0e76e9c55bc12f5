/**
 * Failed sign-ins per client address: past `limit` failures within `windowMs`, that address
 * gets 429 without a secret being checked, until the window has passed. Guessing secrets then
 * costs an attacker time, and the monitor's CPU (one scrypt per try) stays bounded. Peers of
 * unknown address (a fetch handler not told the address) are not throttled: they would all
 * share one bucket, and one client could lock everyone out.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  /** `limit: Infinity` never throttles. */
  constructor(
    private readonly limit = 20,
    private readonly windowMs = 60_000,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string | undefined, now = Date.now()): number {
    if (!address) return 0;
    const entry = this.failures.get(address);
    if (!entry) return 0;
    if (now - entry.since >= this.windowMs) {
      this.failures.delete(address);
      return 0;
    }
    return entry.count >= this.limit ? Math.ceil((entry.since + this.windowMs - now) / 1000) : 0;
  }

  fail(address: string | undefined, now = Date.now()): void {
    if (!address || this.limit === Number.POSITIVE_INFINITY) return;
    const entry = this.failures.get(address);
    if (!entry || now - entry.since >= this.windowMs) {
      // Bounded: a flood from many addresses forgets the oldest rather than growing forever.
      if (this.failures.size >= 10_000) this.failures.delete(this.failures.keys().next().value as string);
      this.failures.set(address, { count: 1, since: now });
    } else entry.count++;
  }

  succeed(address: string | undefined): void {
    if (address) this.failures.delete(address);
  }
}
