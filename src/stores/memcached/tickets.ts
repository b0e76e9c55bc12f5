import type { BackendTickets } from '../kit/backend.js';
import type { Nodes, Router } from './routing.js';

/**
 * The `tickets` group on memcached: one item per ticket, `<group>:~<hash>:t`, on the ticket's
 * primary node only (no backup copy: a ticket lives for seconds, and one lost with its node
 * costs the user one more hand-off, never a wrong login).
 *
 * memcached has no "get and delete" command, so a take is a read, then a delete, and **the
 * caller whose delete succeeded wins**: the server deletes an item once, so of several takers
 * that all read the value, exactly one gets DELETED and every other one NOT_FOUND, and only
 * the winner returns the value. The guarantee is exactly "at most one take returns a given
 * put's value". (A put of the same key landing between another caller's read and delete would
 * be deleted unseen, and the caller would return the older value; tickets are random keys put
 * once, so this cannot happen to them.)
 */
export function memcachedTickets(router: Router): BackendTickets<Nodes> {
  const itemKey = (key: string) => `${router.io.layout.sessionPart(`#ticket:${key}`)}:t`;
  const routeOf = (key: string) => `#ticket:${key}`;
  return {
    async put(all, key, value, ttlMs, now) {
      // Whole seconds, rounded up, plus one: memcached's clock may lag ours; ours decides on take.
      const exptime = Math.ceil(ttlMs / 1000) + 1;
      await router.onRoute(all, routeOf(key), (primary) =>
        primary.store('set', itemKey(key), `${now + ttlMs}|${value}`, exptime),
      );
    },
    async take(all, key, now) {
      return router.onRoute(all, routeOf(key), async (primary) => {
        const item = (await primary.getMany([itemKey(key)])).get(itemKey(key));
        if (!item) return null;
        if (!(await primary.delete(itemKey(key)))) return null; // another taker's delete won
        const bar = item.value.indexOf('|');
        return Number(item.value.slice(0, bar)) > now ? item.value.slice(bar + 1) : null;
      });
    },
  };
}
