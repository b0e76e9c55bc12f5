import { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import type { RequestInfo } from '../core/request.js';
import type { Session } from '../core/session.js';
import { checkOptions, is } from '../core/validate.js';
import { createSessionManager } from '../index.js';

export interface WithSessionOptions {
  /**
   * The client's address, when the server knows it (the Fetch API's Request does not carry
   * it). Used for the session's metadata and, with `trustProxy`, to trust X-Forwarded-*.
   * @default undefined (unknown)
   */
  remoteAddress?: (request: Request) => string | undefined;
}

/**
 * The core's view of a Fetch API request. TLS is read from the URL's scheme, which is what a
 * fetch-style server reports; behind a proxy, `trustProxy` plus X-Forwarded-Proto apply.
 */
export function webRequestInfo(request: Request, remoteAddress?: string): RequestInfo {
  const url = new URL(request.url);
  return {
    url: url.pathname + url.search,
    method: request.method,
    header: (name) => request.headers.get(name) ?? undefined,
    remoteAddress,
    encrypted: url.protocol === 'https:',
  };
}

/**
 * A copy of the Response with the session's headers added (the Response itself when there
 * are none). Never the Response itself: one a handler returns to several requests (a shared
 * `new Response(null, { status: 204 })`, say) must not carry one client's cookie to the next,
 * and one from `fetch()` or `Response.redirect()` has immutable headers anyway.
 */
export function appendResponseHeaders(response: Response, headers: Array<[string, string]>): Response {
  if (headers.length === 0) return response;
  const copy = new Response(response.body, response);
  for (const [name, value] of headers) copy.headers.append(name, value);
  return copy;
}

/**
 * Sessions for Web-standard (fetch-style) handlers: Next.js route handlers, Deno, Bun, and
 * any server that maps a `Request` to a `Response`. The session is lazy (nothing touches the
 * store until the handler asks) and is committed after the handler returns, before the
 * Response, with its Set-Cookie, is handed back. Errors (a 503 UnisessionError when the store
 * is down) are thrown to the server's own error handling. Extra arguments (Next.js's
 * `{ params }`) are passed through to the handler.
 *
 * @example
 * export const GET = withSession({ app: 'shop' }, async (request, session) => {
 *   const visits = ((await session.get<number>('visits')) ?? 0) + 1;
 *   await session.set('visits', visits);
 *   return Response.json({ visits });
 * });
 */
export function withSession<Rest extends unknown[] = []>(
  managerOrOptions: SessionManager | SessionOptions,
  handler: (request: Request, session: Session, ...rest: Rest) => Response | Promise<Response>,
  options: WithSessionOptions = {},
): ((request: Request, ...rest: Rest) => Promise<Response>) & { manager: SessionManager } {
  checkOptions('withSession', options, { remoteAddress: is.function });
  const manager =
    managerOrOptions instanceof SessionManager ? managerOrOptions : createSessionManager(managerOrOptions);
  const handle = async (request: Request, ...rest: Rest): Promise<Response> => {
    // On an ignored URL the handle touches nothing, and its commit is a no-op.
    const session = manager.open(webRequestInfo(request, options.remoteAddress?.(request)));
    const response = await handler(request, session, ...rest);
    await session.commit();
    return appendResponseHeaders(response, session.responseHeaders());
  };
  return Object.assign(handle, { manager });
}

export default withSession;
