import type { FastifyRequest } from 'fastify';
import type { Session } from '../../core/session.js';
import { type Callback, settle } from '../kit/commit.js';
import { exposeAttributes, handleOf, refill, reservedNames, setAttribute } from '../kit/property-session.js';

/** Augment to type your session data: `declare module 'unisession/fastify' { interface SessionData { user: string } }` */
// biome-ignore lint/suspicious/noEmptyInterface: an interface users augment.
export interface SessionData {}

/**
 * `request.session`, shaped like @fastify/session's: synchronous `get`/`set` (or plain
 * properties) on the session loaded in `onRequest`; changes are committed once, in `onSend`.
 */
export class FastifySession {
  readonly #request: FastifyRequest;
  readonly #report: (error: unknown) => void;

  constructor(handle: Session, request: FastifyRequest, report: (error: unknown) => void) {
    this.#request = request;
    this.#report = report;
    exposeAttributes(this, handle, RESERVED);
  }

  get sessionId(): string | undefined {
    return handleOf(this).id;
  }

  get isNew(): boolean {
    return handleOf(this).isNew;
  }

  /** An attribute; undefined for a reserved name (a method's, say): read those on `request.sessionHandle`. */
  get<K extends keyof SessionData>(key: K): SessionData[K] | undefined;
  get<T = unknown>(key: string): T | undefined;
  get(key: string): unknown {
    return !RESERVED.has(key) && Object.hasOwn(this, key)
      ? (this as Record<string, unknown>)[key]
      : undefined;
  }

  /** Sets an attribute; a reserved name (`get`, `save`, `__proto__`...) throws UNISESSION_INVALID_NAME. */
  set<K extends keyof SessionData>(key: K, value: SessionData[K]): void;
  set(key: string, value: unknown): void;
  set(key: string, value: unknown): void {
    setAttribute(this, key, value, RESERVED);
  }

  /** A new id and an empty session, keeping only `keep` (as @fastify/session's `ignoreFields`). */
  regenerate(keep?: string[] | Callback, callback?: Callback): Promise<void> {
    const fields = Array.isArray(keep) ? keep : [];
    return this.#settle(typeof keep === 'function' ? keep : callback, async () => {
      const kept = fields.map((name) => [name, this.get(name)] as const);
      await handleOf(this).regenerate({ keepAttributes: false });
      refill(this, RESERVED);
      for (const [name, value] of kept) if (value !== undefined) this.set(name, value);
    });
  }

  /** Ends the session everywhere; `request.session` is null afterwards. */
  destroy(callback?: Callback): Promise<void> {
    return this.#settle(callback, async () => {
      await handleOf(this).invalidate();
      (this.#request as { session: FastifySession | null }).session = null;
    });
  }

  /** Writes the changes now rather than in `onSend`. */
  save(callback?: Callback): Promise<void> {
    // The handle's commit copies this object's changes in first (see the onRequest hook).
    return this.#settle(callback, () => handleOf(this).commit());
  }

  /** Drops unsaved changes and reads the session again from the store. */
  reload(callback?: Callback): Promise<void> {
    return this.#settle(callback, async () => {
      await handleOf(this).reload();
      refill(this, RESERVED);
    });
  }

  /** Records the access at commit even when the touch throttle would skip it. */
  touch(): void {
    handleOf(this).touch();
  }

  /**
   * Without a callback, the promise rejects, into Fastify's error handling. With one, errors go
   * to it, and the promise (which nobody awaits then) never rejects: a callback that throws is
   * reported on the manager's `error` event.
   */
  #settle(callback: Callback | undefined, work: () => Promise<void>): Promise<void> {
    return settle(work(), callback, this.#report);
  }
}

/**
 * The names `request.session` keeps for itself (its methods and getters, Object.prototype's):
 * a stored attribute with one of these names is read through `request.sessionHandle` only.
 */
export const RESERVED = reservedNames(FastifySession);
