import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import { clearProperties, fillFromHandle, syncToHandle } from '../core/property-session.js';
import type { Session } from '../core/session.js';
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

  constructor(handle: Session, request: FastifyRequest) {
    this.#handle = handle;
    this.#request = request;
    fillFromHandle(this, handle);
  }

  get sessionId(): string | undefined {
    return this.#handle.id;
  }

  get isNew(): boolean {
    return this.#handle.isNew;
  }

  get<K extends keyof SessionData>(key: K): SessionData[K] | undefined;
  get<T = unknown>(key: string): T | undefined;
  get(key: string): unknown {
    return (this as Record<string, unknown>)[key];
  }

  set<K extends keyof SessionData>(key: K, value: SessionData[K]): void;
  set(key: string, value: unknown): void;
  set(key: string, value: unknown): void {
    (this as Record<string, unknown>)[key] = value;
  }

  /** A new id and an empty session, keeping only `keep` (as @fastify/session's `ignoreFields`). */
  regenerate(keep?: string[] | Callback, callback?: Callback): Promise<void> {
    const fields = Array.isArray(keep) ? keep : [];
    return settle(typeof keep === 'function' ? keep : callback, async () => {
      const kept = fields.map((name) => [name, this.get(name)] as const);
      await this.#handle.regenerate({ keepAttributes: false });
      clearProperties(this);
      for (const [name, value] of kept) if (value !== undefined) this.set(name, value);
    });
  }

  /** Ends the session everywhere; `request.session` is null afterwards. */
  destroy(callback?: Callback): Promise<void> {
    return settle(callback, async () => {
      await this.#handle.invalidate();
      (this.#request as { session: FastifySession | null }).session = null;
    });
  }

  /** Writes the changes now rather than in `onSend`. */
  save(callback?: Callback): Promise<void> {
    return settle(callback, async () => {
      syncToHandle(this, this.#handle);
      await this.#handle.commit();
    });
  }

  /** Drops unsaved changes and reads the session again from the store. */
  reload(callback?: Callback): Promise<void> {
    return settle(callback, async () => {
      await this.#handle.reload();
      clearProperties(this);
      fillFromHandle(this, this.#handle);
    });
  }

  /** Records the access at commit even when the touch throttle would skip it. */
  touch(): void {
    this.#handle.touch();
  }
}

function settle(callback: Callback | undefined, work: () => Promise<void>): Promise<void> {
  const done = work();
  if (callback) done.then(() => callback(), callback);
  return done;
}

/** Plugin options: a manager of your own, or the options to create one. */
export type FastifyUnisessionOptions = SessionOptions | { manager: SessionManager };

const plugin: FastifyPluginAsync<FastifyUnisessionOptions> = async (fastify, options) => {
  const manager =
    'manager' in options && options.manager instanceof SessionManager
      ? options.manager
      : createSessionManager(options as SessionOptions);
  // Without a trustProxy option of our own, follow Fastify's `trustProxy` (request.ip / protocol).
  const useFastifyTrust = !('manager' in options) && (options as SessionOptions).trustProxy === undefined;
  const committed = new WeakSet<FastifyRequest>();

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
    request.session = new FastifySession(handle, request);
    handle.onBeforeCommit(() => {
      if (request.session) syncToHandle(request.session, handle);
    });
  });

  // onSend runs before the headers are written, for every payload (redirects and streams too).
  fastify.addHook('onSend', async (request, reply, payload) => {
    const handle = request.sessionHandle;
    // The error reply sent after a failed commit runs onSend again: do not retry it.
    if (!handle || committed.has(request)) return payload;
    committed.add(request);
    await handle.commit();
    for (const [name, value] of handle.responseHeaders()) reply.header(name, value);
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
