import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeRequestInfo } from '../adapters/node/request.js';
import { sendError } from '../adapters/node/send-error.js';
import { nodeSessions } from '../adapters/node.js';
import { webRequestInfo } from '../adapters/web/fetch.js';
import { withSession } from '../adapters/web.js';
import type { SessionManager } from '../core/manager.js';
import type { Session } from '../core/session.js';
import {
  SSO_HEADERS,
  type SsoRequest,
  type SsoResponse,
  ssoRequest,
  toWebResponse,
  writeNodeResponse,
} from './http.js';

/** One SSO endpoint, framework-free: a request and its session in, an answer out. */
export type SsoHandler = (request: SsoRequest, session: Session) => Promise<SsoResponse>;

/** Express's `next`, or nothing for plain node:http. */
type Next = (error?: unknown) => void;

/**
 * An SSO endpoint ready to mount: call it with a Fetch API `Request` (Web-standard servers,
 * Next.js, Hono's `c.req.raw`), or use `.node` as a node:http handler or Express route.
 */
export interface MountedSsoHandler {
  (request: Request): Promise<Response>;
  /**
   * For node:http and Express. Under unisession's Express middleware it uses `req.sessionHandle`;
   * otherwise it attaches the session itself (the node adapter). Errors go to `next` when given
   * (Express), else to the manager's `error` event and a generic answer.
   */
  node(req: IncomingMessage, res: ServerResponse, next?: Next): void;
}

/** Wraps a handler in the Web and node adapters, so that sessions commit before the answer leaves. */
export function mountSsoHandler(manager: SessionManager, handler: SsoHandler): MountedSsoHandler {
  const web = withSession(manager, async (request, session) =>
    toWebResponse(await handler(ssoRequest(webRequestInfo(request), manager.options, request.url), session)),
  );
  const sessions = nodeSessions(manager);
  const node = (req: IncomingMessage, res: ServerResponse, next?: Next) => {
    const fail = (error: unknown): void => {
      if (next) {
        next(error);
        return;
      }
      manager.reportError(error, 'sso');
      // The generic answer is an SSO response too: never cached, no Referer onwards.
      if (!res.headersSent) for (const [name, value] of SSO_HEADERS) res.setHeader(name, value);
      sendError(res, error);
    };
    const attached = (req as IncomingMessage & { sessionHandle?: Session }).sessionHandle;
    let session: Session;
    try {
      session = attached ?? sessions.attach(req, res);
    } catch (error) {
      fail(error);
      return;
    }
    handler(ssoRequest(nodeRequestInfo(req), manager.options), session).then(
      (answer) => writeNodeResponse(res, answer),
      fail,
    );
  };
  return Object.assign((request: Request) => web(request), { node });
}
