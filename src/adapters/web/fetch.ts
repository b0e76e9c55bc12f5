import type { RequestInfo } from '../../core/request.js';

/*
 * The Fetch API side of the Web and Hono adapters: a `Request` in, a `Response` out.
 */

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
