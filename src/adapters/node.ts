import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { UnisessionError } from '../core/errors.js';
import type { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import type { RequestInfo } from '../core/request.js';
import type { Session } from '../core/session.js';
import { createSessionManager } from '../index.js';

export interface NodeSessions {
  readonly manager: SessionManager;
  /**
   * The session of this request. Lazy: the store is not touched until you read or write.
   * Changes are committed before the response's first byte leaves, so a redirect never
   * overtakes its own save.
   */
  attach(req: IncomingMessage, res: ServerResponse): Session;
}

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
export function nodeSessions(managerOrOptions: SessionManager | SessionOptions): NodeSessions {
  const manager = 'open' in managerOrOptions ? managerOrOptions : createSessionManager(managerOrOptions);
  return {
    manager,
    attach(req, res) {
      const session = manager.open(nodeRequestInfo(req));
      if (!session.isIgnored) holdResponseUntilCommitted(res, session);
      return session;
    },
  };
}

/** The core's view of a node request. */
export function nodeRequestInfo(req: IncomingMessage): RequestInfo {
  return {
    url: req.url ?? '/',
    method: req.method ?? 'GET',
    header(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    remoteAddress: req.socket.remoteAddress,
    encrypted: (req.socket as TLSSocket).encrypted === true,
  };
}

type Held = (res: ServerResponse) => void;

/**
 * Delays the response until the session is committed. `writeHead`, `write`, `end` and
 * `flushHeaders` are queued at their first call, the commit runs, the session's headers are
 * added, and the queue is replayed in order. This is what makes "write, then redirect"
 * safe: the client cannot follow the redirect before the store has the write.
 */
export function holdResponseUntilCommitted(res: ServerResponse, session: Session): void {
  const original = {
    writeHead: res.writeHead,
    write: res.write,
    end: res.end,
    flushHeaders: res.flushHeaders,
  };
  const queue: Held[] = [];
  let started = false;

  const release = () => {
    Object.assign(res, original);
    for (const call of queue.splice(0)) call(res);
  };

  const hold = (call: Held) => {
    queue.push(call);
    if (started) return;
    started = true;
    session.commit().then(
      () => {
        if (!res.headersSent)
          for (const [name, value] of session.responseHeaders()) res.appendHeader(name, value);
        release();
      },
      (error: unknown) => {
        queue.length = 0;
        Object.assign(res, original);
        failResponse(res, error);
      },
    );
  };

  res.writeHead = function writeHead(this: ServerResponse, ...args: unknown[]) {
    hold((r) => (original.writeHead as (...a: unknown[]) => void).apply(r, args));
    return this;
  } as ServerResponse['writeHead'];
  res.write = function write(this: ServerResponse, ...args: unknown[]) {
    hold((r) => (original.write as (...a: unknown[]) => boolean).apply(r, args));
    return true;
  } as ServerResponse['write'];
  res.end = function end(this: ServerResponse, ...args: unknown[]) {
    hold((r) => (original.end as (...a: unknown[]) => void).apply(r, args));
    return this;
  } as ServerResponse['end'];
  res.flushHeaders = function flushHeaders() {
    hold((r) => original.flushHeaders.call(r));
  };
}

/** The commit failed after the handler finished: answer with the error's status and code. */
function failResponse(res: ServerResponse, error: unknown): void {
  const status = error instanceof UnisessionError ? error.status : 500;
  const code = error instanceof UnisessionError ? error.code : 'UNISESSION_COMMIT_FAILED';
  const message = error instanceof Error ? error.message : String(error);
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify({ error: code, message }));
}
