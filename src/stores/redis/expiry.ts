import type { SessionMeta } from '../../core/store.js';
import type { RedisClient } from './client.js';
import { metaFromFlat, type RedisLayout } from './layout.js';
import type { RedisQueries } from './queries.js';
import { evalScript, SCRIPTS } from './scripts.js';
import type { RedisSessions } from './sessions.js';

/**
 * The sweep and the sweeper's lease. Expired sessions are found through each app's expiry
 * index and deleted by the destroy script, which re-checks expiry (a touch may have revived
 * the session) and reports the session only to the sweeper whose delete removed it.
 */
export class RedisExpiry {
  constructor(
    private readonly layout: RedisLayout,
    private readonly queries: RedisQueries,
    private readonly sessions: RedisSessions,
  ) {}

  async sweep(client: RedisClient, now: number, limit: number): Promise<SessionMeta[]> {
    const swept: SessionMeta[] = [];
    for (const app of await this.queries.apps(client, undefined)) {
      // Every candidate leaves the expired range once processed (deleted, found stale, or
      // re-scored because it was touched meanwhile), so this loop ends; the cap is a guard.
      for (let round = 0; swept.length < limit && round < 100; round++) {
        const ids = await client.zrangebyscore(
          this.layout.expiry(app),
          '-inf',
          now,
          'LIMIT',
          0,
          limit - swept.length,
        );
        if (ids.length === 0) break;
        swept.push(...(await this.destroyExpired(client, app, ids, now)));
      }
      if (swept.length >= limit) break;
    }
    return swept;
  }

  async acquireLease(client: RedisClient, name: string, holder: string, ttlMs: number, now: number) {
    const args = [holder, String(now), String(now + ttlMs), String(Math.max(1, Math.ceil(ttlMs * 2)))];
    return (await evalScript(client, SCRIPTS.lease, [this.layout.lease(name)], args)) === 1;
  }

  private async destroyExpired(client: RedisClient, app: string, ids: string[], now: number) {
    const replies = await Promise.all(
      ids.map((id) =>
        this.sessions.run(client, SCRIPTS.destroy, [this.layout.session(id)], [id, String(now), app]),
      ),
    );
    return replies.flatMap(([status, fields], i) =>
      status === 'deleted' ? [metaFromFlat(ids[i]!, fields)!] : [],
    );
  }
}
