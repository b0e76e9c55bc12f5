import type { SessionOptions } from '../../core/options.js';
import type { RequestInfo } from '../../core/request.js';

/** What a framework makes of a request once its own trust-proxy setting has applied. */
export interface FrameworkView {
  /** HTTPS as the framework sees it (Express's `req.secure`, Koa's `ctx.secure`...). */
  encrypted: boolean;
  /** The client's address as the framework sees it (`req.ip`). */
  remoteAddress: string | undefined;
}

/**
 * The one trust-proxy rule: without a `trustProxy` option of our own, follow the framework's
 * own setting (Express's `trust proxy`, Koa's `app.proxy`, Fastify's `trustProxy`), as
 * express-session and koa-session do, by taking the framework's view of TLS and the client's
 * address. A manager the app passed in has its `trustProxy` already, so `options` is then
 * undefined and the request is read as it is.
 */
export function trustRule(
  options: SessionOptions | undefined,
): (request: RequestInfo, framework: () => FrameworkView) => RequestInfo {
  if (options === undefined || options.trustProxy !== undefined) return (request) => request;
  return (request, framework) => ({ ...request, ...framework() });
}
