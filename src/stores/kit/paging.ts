import type { CountFilter, ListPage, SessionMeta } from '../../core/store.js';

/**
 * Whether a session matches a list or count filter, for stores that filter in process
 * (memory, and Redis, whose indexes may hold entries a filter must still check).
 */
export function matches(meta: SessionMeta, filter: CountFilter): boolean {
  return (
    (filter.app === undefined || meta.app === filter.app) &&
    (filter.principal === undefined || meta.principal === filter.principal) &&
    (filter.aliveAt === undefined || meta.expiresAt === null || meta.expiresAt > filter.aliveAt)
  );
}

/**
 * The page for `found`: the matching sessions after the cursor, in id order, of which the
 * backend read one more than `limit` when it could, which tells whether another page follows.
 * The cursor is the id of the page's last session; the next page starts after it.
 */
export function pageOf(found: readonly SessionMeta[], limit: number): ListPage {
  const sessions = found.slice(0, limit);
  return found.length > limit ? { sessions, next: sessions[limit - 1]!.id } : { sessions };
}
