import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import type { Session } from '../core/session.js';
import { is } from '../core/validate.js';
import { setUpAdapter } from './kit/setup.js';
import { holdResponseUntilCommitted } from './node/hold.js';
import { nodeRequestInfo } from './node/request.js';
import { sendError } from './node/send-error.js';

export { type HoldErrors, holdResponseUntilCommitted } from './node/hold.js';
export { nodeRequestInfo } from './node/request.js';
export { sendError } from './node/send-error.js';

/** Answers a request whose response could not be sent as the handler wrote it (see `onError`). */
export type NodeErrorHandler = (
  error: unknown,
  req: IncomingMessage,
  res: ServerResponse,
) => void | Promise<void>;

/** The node:http adapter's own options, beside the session options. */
export interface NodeAdapterOptions {
  /**
   * Called when the response cannot be sent as the handler wrote it: the commit failed (the
   * store is down, a value is too large...), the session cookie could not be serialized, or a
   * held call failed when it was replayed. The held response is discarded, headers and status
   * included, and `res` is yours to answer.
   * @default sendError: the error's status and `{ error: code, message }` with the code's fixed
   * message (500 and `{ message: 'Internal Server Error' }` for an error that is not a
   * UnisessionError); the error itself goes to the manager's `error` event, never to the client.
   */
  onError?: NodeErrorHandler;
}

export type NodeSessionsOptions = SessionOptions & NodeAdapterOptions;

export interface NodeSessions {
  readonly manager: SessionManager;
  /**
   * The session of this request. Lazy: the store is not touched until you read or write.
   * Changes are committed before the response's first byte leaves, so a redirect never
   * overtakes its own save.
   */
  attach(req: IncomingMessage, res: ServerResponse): Session;
}

const OWN_OPTIONS = { spec: { onError: is.function } };

/**
 * Sessions for a plain `node:http` server.
 *
 * @example
 * const sessions = nodeSessions({ app: 'demo' });
 * http.createServer(async (req, res) => {
 *   const session = sessions.attach(req, res);
 *   const visits = ((await session.get<number>('visits')) ?? 0) + 1;
 *   await session.set('visits', visits);
 *   res.end(`visit ${visits}`);
 * });
 */
export function nodeSessions(options: NodeSessionsOptions): NodeSessions;
export function nodeSessions(manager: SessionManager, options?: NodeAdapterOptions): NodeSessions;
export function nodeSessions(
  managerOrOptions: SessionManager | NodeSessionsOptions,
  adapterOptions?: NodeAdapterOptions,
): NodeSessions {
  const { manager, own } = setUpAdapter<{ onError: NodeErrorHandler }>(
    'nodeSessions',
    managerOrOptions,
    OWN_OPTIONS,
    adapterOptions,
  );
  const onError = own.onError ?? reportAndSendError(manager);
  const report = (error: unknown) => manager.reportError(error, 'response');
  return {
    manager,
    attach(req, res) {
      const session = manager.open(nodeRequestInfo(req));
      if (!session.isIgnored)
        holdResponseUntilCommitted(res, session, { fail: (error) => onError(error, req, res), report });
      return session;
    },
  };
}

/** The default `onError`: details to the `error` event, a generic answer to the client. */
function reportAndSendError(manager: SessionManager): NodeErrorHandler {
  return (error, _req, res) => {
    manager.reportError(error, 'commit');
    sendError(res, error);
  };
}
