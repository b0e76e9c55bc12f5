import type { AttributeKey, MetaPatch, SessionMeta } from './store.js';

/** What a session holds at commit time: everything the decision depends on, and nothing else. */
export interface CommitState {
  /** The store has this session already (it was loaded, or created by an earlier commit). */
  persisted: boolean;
  meta: Pick<SessionMeta, 'lastAccessedAt' | 'maxInactive' | 'absoluteExpiresAt'>;
  /** The attribute changes since the last commit. */
  delta: { set: ReadonlyMap<AttributeKey, string>; remove: readonly AttributeKey[] };
  /** Metadata changes waiting for this commit (principal, maxInactive). */
  pending: MetaPatch;
  /** `touch()` or `setMaxInactive()` asked for a write whatever the throttle says. */
  forceTouch: boolean;
  /** The manager's options that bear on it. */
  touchInterval: number;
  saveUninitialized: boolean;
  now: number;
  /** This request's path and serving node, recorded with the touch (so they cost no extra write). */
  access?: { url: string; host: string };
}

/**
 * What one commit writes: nothing, a new session (its metadata with `patch` applied), or an
 * update of an existing one: the attribute delta, and the metadata patch when there is one.
 */
export type CommitPlan =
  | { write: 'nothing' }
  | { write: 'create'; patch: MetaPatch }
  | { write: 'update'; patch: MetaPatch | undefined };

/**
 * Decides what a commit writes. Pure: the session runs the plan, so each rule here is tested
 * on its own (test/core/commit-plan.test.ts).
 *
 * - A new session is written only when it has something worth keeping: an attribute, a
 *   principal, a forced touch, or `saveUninitialized`. Otherwise a visit costs no write.
 * - An existing one records the access (lastAccessedAt, and the expiry that slides with it)
 *   only when the last recorded one is `touchInterval` old, or the touch is forced; with no
 *   attribute or metadata change and no touch due, nothing is written.
 */
export function planCommit(state: CommitState): CommitPlan {
  const { delta, meta, now } = state;
  const touchDue = state.forceTouch || now - meta.lastAccessedAt >= state.touchInterval;
  const patch: MetaPatch = { ...state.pending };
  if (touchDue && state.persisted) {
    patch.lastAccessedAt = now;
    patch.expiresAt = expiryAt(now, { ...meta, ...patch });
    if (state.access) {
      patch.lastUrl = state.access.url;
      patch.lastHost = state.access.host;
    }
  }
  if (!state.persisted) {
    const wanted = delta.set.size > 0 || state.saveUninitialized || state.forceTouch || patch.principal;
    return wanted ? { write: 'create', patch } : { write: 'nothing' };
  }
  const metaChanged = Object.keys(patch).length > 0;
  if (delta.set.size === 0 && delta.remove.length === 0 && !metaChanged) return { write: 'nothing' };
  return { write: 'update', patch: metaChanged ? patch : undefined };
}

/** The sliding expiry capped by the absolute one; null when neither applies. */
export function expiryAt(
  now: number,
  meta: Pick<SessionMeta, 'maxInactive' | 'absoluteExpiresAt'>,
): number | null {
  const sliding = meta.maxInactive > 0 ? now + meta.maxInactive : null;
  if (meta.absoluteExpiresAt === null) return sliding;
  return sliding === null ? meta.absoluteExpiresAt : Math.min(sliding, meta.absoluteExpiresAt);
}
