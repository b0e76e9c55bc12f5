import type { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import type { Session } from '../core/session.js';
import { checkOptions, is } from '../core/validate.js';
import { commitHeaders } from './kit/commit.js';
import { setUpAdapter } from './kit/setup.js';
import { appendResponseHeaders, webRequestInfo } from './web/fetch.js';

export { appendResponseHeaders, webRequestInfo } from './web/fetch.js';

export interface WithSessionOptions {
  /**
   * The client's address, when the server knows it (the Fetch API's Request does not carry
   * it). Used for the session's metadata and, with `trustProxy`, to trust X-Forwarded-*.
   * @default undefined (unknown)
   */
  remoteAddress?: (request: Request) => string | undefined;
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
  const { manager } = setUpAdapter('withSession', managerOrOptions);
  const handle = async (request: Request, ...rest: Rest): Promise<Response> => {
    // On an ignored URL the handle touches nothing, and its commit is a no-op.
    const session = manager.open(webRequestInfo(request, options.remoteAddress?.(request)));
    const response = await handler(request, session, ...rest);
    return appendResponseHeaders(response, await commitHeaders(session));
  };
  return Object.assign(handle, { manager });
}

export default withSession;
