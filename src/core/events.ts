import type { AuditEntry, SessionMeta } from './store.js';

export interface AttributeEvent {
  sessionId: string;
  /** '' for a shared attribute, else the app that owns it. */
  namespace: string;
  name: string;
}

/**
 * Why a session ended:
 * - `invalidated`: the app (or an admin's one-session delete) ended it;
 * - `expired`: the sweeper removed it after its expiry;
 * - `revoked`: an administrator or the user signed it out from elsewhere (revokePrincipal,
 *   revokeOtherSessions, revokeDevice, a delete by query);
 * - `evicted`: `maxSessionsPerPrincipal` removed it to make room for a newer login.
 */
export type DestroyReason = 'invalidated' | 'expired' | 'revoked' | 'evicted';

/** What a commit wrote: attributes or metadata (`delta`, a create included), only the access time (`touch`), or nothing. */
export type CommitKind = 'delta' | 'touch' | 'none';

/** Everything a listener can be told. Events fire after the store has accepted the change. */
export interface SessionEvents {
  created: { meta: SessionMeta };
  /** Exactly once per session across the cluster, by whichever node removed it. */
  destroyed: { meta: SessionMeta; reason: DestroyReason };
  /** A session moved to a new id (`regenerate()`, at login). */
  regenerated: { oldId: string; newId: string; app: string };
  /** Each `commit()` of a loaded session; `created` is true when it wrote a new session. */
  committed: { kind: CommitKind; created: boolean; app: string };
  /**
   * Each store call the manager makes, with its duration; `ok` is false when it threw. Only
   * measured while someone listens, so it costs nothing otherwise.
   */
  storeOperation: { store: string; op: string; durationMs: number; ok: boolean };
  /** An administrator's action, as `manager.audit(entry)` recorded it (the monitor's audit log). */
  audit: { entry: AuditEntry };
  attributeAdded: AttributeEvent & { value: unknown };
  attributeReplaced: AttributeEvent & { value: unknown; oldValue: unknown };
  attributeRemoved: AttributeEvent & { oldValue: unknown };
  /** A stored value could not be decoded (e.g. its class is gone after a redeploy); it reads as absent. */
  decodeError: AttributeEvent & { error: Error };
  /** A listener threw, or the sweeper failed. Never breaks a request. */
  error: { error: unknown; during: string };
}

export type SessionEventName = keyof SessionEvents;
type Listener<E extends SessionEventName> = (event: SessionEvents[E]) => void;

/** A small typed emitter; a listener that throws is reported on `error`, never to the request. */
export class SessionEmitter {
  private readonly listeners = new Map<SessionEventName, Set<(event: never) => void>>();

  on<E extends SessionEventName>(name: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  has(name: SessionEventName): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0;
  }

  emit<E extends SessionEventName>(name: E, event: SessionEvents[E]): void {
    const set = this.listeners.get(name);
    if (!set) {
      if (name === 'error')
        console.error(
          '[unisession]',
          (event as SessionEvents['error']).during,
          (event as SessionEvents['error']).error,
        );
      return;
    }
    for (const listener of set) {
      try {
        (listener as Listener<E>)(event);
      } catch (error) {
        if (name !== 'error') this.emit('error', { error, during: `${name} listener` });
      }
    }
  }
}
