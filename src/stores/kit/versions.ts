import type { SessionChange } from '../../core/store.js';

/**
 * Whether a change moves the session's version (see "Versions" in core/store.ts): any attribute written
 * or removed, or the principal or lifetime changed. A touch alone (lastAccessedAt, expiresAt)
 * does not: the metadata travels with every load, so a cached copy never needs it.
 */
export function bumpsVersion(change: SessionChange): boolean {
  return (
    (change.set?.size ?? 0) > 0 ||
    (change.remove?.length ?? 0) > 0 ||
    change.meta?.principal !== undefined ||
    change.meta?.maxInactive !== undefined
  );
}
