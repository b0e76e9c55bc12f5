import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { SessionManager } from '../core/manager.js';
import { internalsOf, type Session } from '../core/session.js';
import { checkOptions, is } from '../core/validate.js';
import { FASTIFY_OPTIONS, type FastifySessionOptions } from './fastify/options.js';
import { FastifySession, RESERVED, type SessionData } from './fastify/session.js';
import { commitHeaders } from './kit/commit.js';
import { rememberRequest } from './kit/foreign-options.js';
import { requirePeer } from './kit/peer.js';
import { syncToHandle } from './kit/property-session.js';
import { setUpAdapter } from './kit/setup.js';
import { trustRule } from './kit/trust.js';
import { headerOf, nodeRequestInfo } from './node/request.js';

export type { FastifyCookieOptions, FastifySessionOptions } from './fastify/options.js';
export { FastifySession, type SessionData } from './fastify/session.js';

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

/** An optional peer, as the framework is: loaded here so a missing one is a clear error. */
const fp = requirePeer<typeof import('fastify-plugin')>('fastify-plugin', 'the fastify adapter');

/** Plugin options: a manager of your own, or the options to create one. */
export type FastifyUnisessionOptions = FastifySessionOptions | { manager: SessionManager };

/** What Fastify itself reads from any plugin's options; not session options. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'];

/** One request's session: its handle, and `request.session` once something touched it. */
interface RequestState {
  /** Opened in onRequest when the request may present a session id, else at the first touch. */
  handle: Session | undefined;
  /** undefined until the first touch; null after `destroy()` (or `request.session = null`). */
  session: FastifySession | null | undefined;
  /** `request.session` or `request.sessionHandle` was read or set. */
  touched: boolean;
  /** The request presented no session id: its new session was started without the store. */
  fresh: boolean;
}

/** Fastify copies plugin options, so a manager comes wrapped: `{ manager }`, alone. */
function unwrap(options: FastifyUnisessionOptions): unknown {
  const rest = Object.fromEntries(
    Object.entries(options).filter(([name]) => !REGISTER_OPTIONS.includes(name)),
  );
  if (!('manager' in rest)) return rest;
  checkOptions('unisession (fastify)', rest, {
    manager: is.instanceOf(SessionManager, 'a SessionManager, alone (its options are set already)'),
  });
  return rest.manager;
}

const plugin: FastifyPluginAsync<FastifyUnisessionOptions> = async (fastify, options) => {
  const setup = setUpAdapter('unisession (fastify)', unwrap(options), FASTIFY_OPTIONS);
  const { manager } = setup;
  // Without a trustProxy option of our own, follow Fastify's `trustProxy` (request.ip / protocol).
  const trusted = trustRule(setup.options);
  /** Each request's one commit, with the headers it yields. */
  const commits = new WeakMap<FastifyRequest, Promise<Array<[string, string]>>>();
  const states = new WeakMap<FastifyRequest, RequestState>();
  const report = (error: unknown) => manager.reportError(error, 'callback');
  const { saveUninitialized } = manager.options;

  fastify.decorate('sessionManager', manager);
  // `fastify.close()` (and so gracefulShutdown) closes a manager the plugin made; one you
  // passed in is yours to close.
  if (setup.options !== undefined) fastify.addHook('onClose', () => manager.close());
  // Accessors on Fastify's request prototype (its shape stays as Fastify made it). The session
  // object is made at the first touch, so a request that never uses it does not pay for it.
  /** Opens the request's session; `onBeforeCommit` copies `request.session` into it. */
  const open = (request: FastifyRequest, state: RequestState): Session => {
    const view = trusted(nodeRequestInfo(request.raw), () => ({
      encrypted: request.protocol === 'https',
      remoteAddress: request.ip,
    }));
    // @fastify/session's `idGenerator(request)` is given the request.
    const handle = manager.open(rememberRequest(view, request));
    internalsOf(handle).onBeforeCommit(() => {
      if (state.session) syncToHandle(state.session, handle, RESERVED);
    });
    state.handle = handle;
    return handle;
  };
  /** The handle at a touch: a request that could present no id opens its new session now. */
  const touch = (request: FastifyRequest, state: RequestState): Session => {
    state.touched = true;
    if (state.handle) return state.handle;
    const handle = open(request, state);
    internalsOf(handle).startFreshWithoutStore();
    return handle;
  };

  // Accessors on Fastify's request prototype (its shape stays as Fastify made it). The session
  // object is made at the first touch, so a request that never uses it does not pay for it.
  fastify.decorateRequest('session', {
    getter(this: FastifyRequest) {
      const state = states.get(this);
      if (!state) return null as unknown as FastifySession;
      const handle = touch(this, state);
      // Made once: after destroy() it stays null.
      if (state.session === undefined) state.session = new FastifySession(handle, this, report);
      return state.session as FastifyRequest['session'];
    },
    setter(this: FastifyRequest, value: FastifySession | null) {
      const state = states.get(this);
      if (!state) return;
      touch(this, state);
      state.session = value;
    },
  });
  fastify.decorateRequest('sessionHandle', {
    getter(this: FastifyRequest) {
      const state = states.get(this);
      return state ? touch(this, state) : (null as unknown as Session);
    },
  });

  // Hooks that call `done` at once when there is nothing to wait for: a request that could
  // present no session id (no cookie of ours) and never touches its session opens nothing.
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (manager.isIgnored(request.url)) return done();
    const state: RequestState = { handle: undefined, session: undefined, touched: false, fresh: false };
    states.set(request, state);
    if (!saveUninitialized && !manager.mayPresentId((name) => headerOf(request.headers, name))) {
      state.fresh = true;
      return done();
    }
    const internals = internalsOf(open(request, state));
    state.fresh = internals.startFreshWithoutStore();
    if (state.fresh) return done();
    // A hook may also return a promise instead of calling done: Fastify then handles its
    // outcome. A store failure rejects with the UnisessionError (503): Fastify's error handler answers.
    return internals.load() as unknown as undefined;
  });

  // onSend runs before the headers are written, for every payload (redirects and streams too).
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const state = states.get(request);
    // A new session nobody touched has nothing to write and no cookie to send.
    if (!state?.handle || (state.fresh && !state.touched && !saveUninitialized)) return done(null, payload);
    // Otherwise a promise, whose outcome Fastify handles (an error thrown when it sends is
    // caught there, never an unhandled rejection).
    return commitAndHeaders(request, reply, state.handle, payload) as unknown as undefined;
  });

  async function commitAndHeaders(
    request: FastifyRequest,
    reply: FastifyReply,
    handle: Session,
    payload: unknown,
  ) {
    const first = commits.get(request);
    if (first) {
      // A second send: the error reply after a failed commit (not retried), or a handler that
      // sent twice. Waiting for the first lets the first send, with its cookie, leave first.
      await first.catch(() => undefined);
      return payload;
    }
    const headers = commitHeaders(handle);
    commits.set(request, headers);
    for (const [name, value] of await headers) reply.header(name, value);
    return payload;
  }
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
export const unisession: FastifyPluginAsync<FastifyUnisessionOptions> = fp(plugin, {
  fastify: '4.x || 5.x',
  name: 'unisession',
});

export default unisession;
