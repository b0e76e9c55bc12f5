import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
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
import { nodeRequestInfo } from './node/request.js';

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
  const report = (error: unknown) => manager.reportError(error, 'callback');

  fastify.decorate('sessionManager', manager);
  // Fastify wants reference-type decorations to start as null; they are set per request.
  fastify.decorateRequest('session', null as unknown as FastifySession);
  fastify.decorateRequest('sessionHandle', null as unknown as Session);

  fastify.addHook('onRequest', async (request) => {
    if (manager.isIgnored(request.url)) return;
    const view = trusted(nodeRequestInfo(request.raw), () => ({
      encrypted: request.protocol === 'https',
      remoteAddress: request.ip,
    }));
    // @fastify/session's `idGenerator(request)` is given the request.
    const handle = manager.open(rememberRequest(view, request));
    const internals = internalsOf(handle);
    // A store failure rejects with the UnisessionError (status 503): Fastify's error handler answers.
    await internals.load();
    request.sessionHandle = handle;
    request.session = new FastifySession(handle, request, report);
    internals.onBeforeCommit(() => {
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
    const headers = commitHeaders(handle);
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
export const unisession: FastifyPluginAsync<FastifyUnisessionOptions> = fp(plugin, {
  fastify: '4.x || 5.x',
  name: 'unisession',
});

export default unisession;
