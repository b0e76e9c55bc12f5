import type { BackendTickets } from '../kit/backend.js';
import type { RedisClient } from './client.js';
import type { RedisLayout } from './layout.js';

/**
 * The `tickets` group on Redis: one string key per ticket, `G:#ticket:<key>`, written with
 * SET … PX (native expiry) and taken with GETDEL (Redis ≥ 6.2), which is one atomic command on
 * one key, so it works the same on standalone, Sentinel and Cluster: of two takes, Redis runs
 * one first, and the second finds nothing. The value carries its end (`<expiresAt>|<value>`)
 * so that the caller's clock decides expiry, as it does for sessions.
 */
export function redisTickets(layout: RedisLayout): BackendTickets<RedisClient> {
  const key = (name: string) => `${layout.group}:#ticket:${name}`;
  return {
    async put(client, name, value, ttlMs, now) {
      await client.set(key(name), `${now + ttlMs}|${value}`, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async take(client, name, now) {
      const stored = await client.getdel(key(name));
      if (stored === null) return null;
      const bar = stored.indexOf('|');
      return Number(stored.slice(0, bar)) > now ? stored.slice(bar + 1) : null;
    },
  };
}
