import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import {
  defineValue,
  fillFromHandle,
  guardPrototype,
  refill,
  reservedNameError,
  reservedNames,
  syncToHandle,
} from '../core/property-session.js';
import type { Session } from '../core/session.js';
import { checkOptions, is } from '../core/validate.js';
import { createSessionManager } from '../index.js';
import { nodeRequestInfo } from './node.js';

/** Augment to type your session data: `declare module 'unisession/fastify' { interface SessionData { user: string } }` */
// biome-ignore lint/suspicious/noEmptyInterface: an interface users augment.
export interface SessionData {}

declare module 'fastify' {
  interface FastifyRequest {
    /** @fastify/session style; null on ignored URLs and after `destroy()`. */
    session: FastifySession & Partial<SessionData>;
    /** unisession's native, async session API for the same session; null on ignored URLs. */
    sessionHandle: Session;
  }
  interface FastifyInstance {
    /** The manager behind the plugin: administration (list, revoke, close). */
    sessionManager: SessionManager;
  }
}

type Callback = (error?: unknown) => void;

/**
 * `request.session`, shaped like @fastify/session's: synchronous `get`/`set` (or plain
 * properties) on the session loaded in `onRequest`; changes are committed once, in `onSend`.
 */
export class FastifySession {
  readonly #handle: Session;
  readonly #request: FastifyRequest;
  readonly #report: (error: unknown) => void;

  constructor(handle: Session, request: FastifyRequest, report: (error: unknown) => void) {
    this.#handle = handle;
    this.#request = request;
    this.#report = report;
    guardPrototype(this);
    fillFromHandle(this, handle, RESERVED);
  }

  get sessionId(): string | undefined {
    return this.#handle.id;
  }

  get isNew(): boolean {
    return this.#handle.isNew;
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
    if (RESERVED.has(key)) throw reservedNameError(key);
    defineValue(this, key, value);
  }

  /** A new id and an empty session, keeping only `keep` (as @fastify/session's `ignoreFields`). */
  regenerate(keep?: string[] | Callback, callback?: Callback): Promise<void> {
    const fields = Array.isArray(keep) ? keep : [];
    return this.#settle(typeof keep === 'function' ? keep : callback, async () => {
      const kept = fields.map((name) => [name, this.get(name)] as const);
      await this.#handle.regenerate({ keepAttributes: false });
      refill(this, this.#handle, RESERVED);
      for (const [name, value] of kept) if (value !== undefined) this.set(name, value);
    });
  }

  /** Ends the session everywhere; `request.session` is null afterwards. */
  destroy(callback?: Callback): Promise<void> {
    return this.#settle(callback, async () => {
      await this.#handle.invalidate();
      (this.#request as { session: FastifySession | null }).session = null;
    });
  }

  /** Writes the changes now rather than in `onSend`. */
  save(callback?: Callback): Promise<void> {
    // The handle's commit copies this object's changes in first (see the onRequest hook).
    return this.#settle(callback, () => this.#handle.commit());
  }

  /** Drops unsaved changes and reads the session again from the store. */
  reload(callback?: Callback): Promise<void> {
    return this.#settle(callback, async () => {
      await this.#handle.reload();
      refill(this, this.#handle, RESERVED);
    });
  }

  /** Records the access at commit even when the touch throttle would skip it. */
  touch(): void {
    this.#handle.touch();
  }

  /**
   * Without a callback, the promise rejects, into Fastify's error handling. With one, errors go
   * to it, and the promise (which nobody awaits then) never rejects: a callback that throws is
   * reported on the manager's `error` event.
   */
  #settle(callback: Callback | undefined, work: () => Promise<void>): Promise<void> {
    const done = work();
    if (!callback) return done;
    return done.then(() => callback(), callback).catch(this.#report);
  }
}

/**
 * The names `request.session` keeps for itself (its methods and getters, Object.prototype's):
 * a stored attribute with one of these names is read through `request.sessionHandle` only.
 */
const RESERVED = reservedNames(FastifySession);

/** Plugin options: a manager of your own, or the options to create one. */
export type FastifyUnisessionOptions = SessionOptions | { manager: SessionManager };

/** What Fastify itself reads from any plugin's options; not session options. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'];

function managerOf(options: FastifyUnisessionOptions): SessionManager {
  const rest = Object.fromEntries(
    Object.entries(options).filter(([name]) => !REGISTER_OPTIONS.includes(name)),
  );
  if (!('manager' in rest)) return createSessionManager(rest as SessionOptions);
  checkOptions('unisession (fastify)', rest, {
    manager: is.instanceOf(SessionManager, 'a SessionManager, alone (its options are set already)'),
  });
  return rest.manager as SessionManager;
}

const plugin: FastifyPluginAsync<FastifyUnisessionOptions> = async (fastify, options) => {
  const manager = managerOf(options);
  // Without a trustProxy option of our own, follow Fastify's `trustProxy` (request.ip / protocol).
  const useFastifyTrust = !('manager' in options) && (options as SessionOptions).trustProxy === undefined;
  /** Each request's one commit, with the headers it yields. */
  const commits = new WeakMap<FastifyRequest, Promise<Array<[string, string]>>>();
  const report = (error: unknown) => manager.reportError(error, 'callback');

  fastify.decorate('sessionManager', manager);
  // Fastify wants reference-type decorations to start as null; they are set per request.
  fastify.decorateRequest('session', null as unknown as FastifySession);
  fastify.decorateRequest('sessionHandle', null as unknown as Session);

  fastify.addHook('onRequest', async (request) => {
    if (manager.isIgnored(request.url)) return;
    const info = nodeRequestInfo(request.raw);
    const handle = manager.open(
      useFastifyTrust
        ? { ...info, encrypted: request.protocol === 'https', remoteAddress: request.ip }
        : info,
    );
    // A store failure rejects with the UnisessionError (status 503): Fastify's error handler answers.
    await handle.load();
    request.sessionHandle = handle;
    request.session = new FastifySession(handle, request, report);
    handle.onBeforeCommit(() => {
      if (request.session) syncToHandle(request.session, handle, RESERVED);
    });
  });

  // onSend runs before the headers are written, for every payload (redirects and streams too).
  fastify.addHook('onSend', async (request, reply, payload) => {
    const handle = request.sessionHandle;
    if (!handle) return payload;
    const first = commits.get(request);
    if (first) {
      // A second send: the error reply after a failed commit (not retried), or a handler that
      // sent twice. Waiting for the first lets the first send, with its cookie, leave first.
      await first.catch(() => undefined);
      return payload;
    }
    const headers = handle.commit().then(() => handle.responseHeaders());
    commits.set(request, headers);
    for (const [name, value] of await headers) reply.header(name, value);
    return payload;
  });
};

/**
 * The Fastify plugin: `app.register(unisession, { app: 'shop' })`, then
 * `request.session.get('user')` / `request.session.set('user', id)` in any route.
 *
 * @example
 * await app.register(unisession, { app: 'shop', secret: process.env.SESSION_SECRET });
 * app.get('/', async (request) => {
 *   request.session.set('views', (request.session.get<number>('views') ?? 0) + 1);
 *   return { views: request.session.get('views') };
 * });
 */
export const unisession = fp(plugin, { fastify: '4.x || 5.x', name: 'unisession' });

export default unisession;
