import type { Context, MiddlewareHandler } from 'hono';
import type { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import type { RequestInfo } from '../core/request.js';
import type { Session } from '../core/session.js';
import { commitHeaders } from './kit/commit.js';
import { setUpAdapter } from './kit/setup.js';
import { webRequestInfo } from './web/fetch.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** unisession's session for this request (async API); not set on ignored URLs. */
    session: Session;
  }
}

/** What @hono/node-server puts in `c.env`: the node request, for the socket's address and TLS. */
interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string; encrypted?: boolean } };
}

/** The core's view of a Hono request; on @hono/node-server the TCP socket is used too. */
export function honoRequestInfo(c: Context): RequestInfo {
  const socket = (c.env as NodeBindings | undefined)?.incoming?.socket;
  const info = webRequestInfo(c.req.raw, socket?.remoteAddress);
  return socket ? { ...info, encrypted: socket.encrypted === true } : info;
}

/**
 * Hono middleware. The session at `c.get('session')` is lazy (nothing touches the store
 * until the handler asks) and is committed after the handler, before Hono hands the response
 * to the server, so `c.redirect()` and `stream()` responses never overtake the save. A store
 * failure throws a 503 UnisessionError into `app.onError`.
 *
 * @example
 * app.use(unisession({ app: 'shop' }));
 * app.get('/', async (c) => {
 *   const session = c.get('session');
 *   const visits = ((await session.get<number>('visits')) ?? 0) + 1;
 *   await session.set('visits', visits);
 *   return c.text(`visit ${visits}`);
 * });
 */
export function unisession(
  managerOrOptions: SessionManager | SessionOptions,
): MiddlewareHandler & { manager: SessionManager } {
  const { manager } = setUpAdapter('unisession (hono)', managerOrOptions);
  const middleware: MiddlewareHandler = async (c, next) => {
    if (manager.isIgnored(c.req.path)) return next();
    const session = manager.open(honoRequestInfo(c));
    c.set('session', session);
    await next();
    const headers = await commitHeaders(session);
    if (headers.length === 0) return;
    // Always on a copy (assigning c.res makes Hono keep one): a Response the handler returns to
    // several requests must not carry one client's cookie to the next, and one from fetch() or
    // Response.redirect() has immutable headers anyway. Appended after the assignment: when the
    // previous response has Set-Cookie headers, Hono's setter puts them in place of the new one's.
    c.res = new Response(c.res.body, c.res);
    for (const [name, value] of headers) c.res.headers.append(name, value);
  };
  return Object.assign(middleware, { manager });
}

export default unisession;
