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

const METHODS = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
type Method = (typeof METHODS)[number];
type AnyMethod = (...args: unknown[]) => unknown;

const HOLD = Symbol('unisession.hold');

interface Hold {
  session: Session;
  queue: Array<[Method, unknown[]]>;
  started: boolean;
  /** Methods that were own properties before (another middleware's wrappers), to put back. */
  own: Partial<Record<Method, AnyMethod>>;
}

type HeldResponse = ServerResponse & { [HOLD]: Hold };

/**
 * The stand-ins installed on a held response. Shared by every response (no closures per
 * request): the state lives on the response under a symbol.
 */
const standIns = {
  writeHead(this: HeldResponse, ...args: unknown[]) {
    queueCall(this, 'writeHead', args);
    return this;
  },
  write(this: HeldResponse, ...args: unknown[]) {
    queueCall(this, 'write', args);
    return true;
  },
  end(this: HeldResponse, ...args: unknown[]) {
    queueCall(this, 'end', args);
    return this;
  },
  flushHeaders(this: HeldResponse) {
    queueCall(this, 'flushHeaders', []);
  },
};

/**
 * Delays the response until the session is committed. `writeHead`, `write`, `end` and
 * `flushHeaders` are queued at their first call, the commit runs, the session's headers are
 * added, and the queue is replayed in order. This is what makes "write, then redirect"
 * safe: the client cannot follow the redirect before the store has the write.
 */
export function holdResponseUntilCommitted(res: ServerResponse, session: Session): void {
  const own: Hold['own'] = {};
  for (const method of METHODS) if (Object.hasOwn(res, method)) own[method] = res[method] as AnyMethod;
  const held = res as HeldResponse;
  held[HOLD] = { session, queue: [], started: false, own };
  for (const method of METHODS) (held as unknown as Record<Method, AnyMethod>)[method] = standIns[method];
}

function queueCall(res: HeldResponse, method: Method, args: unknown[]): void {
  const hold = res[HOLD];
  hold.queue.push([method, args]);
  if (hold.started) return;
  hold.started = true;
  hold.session.commit().then(
    () => {
      if (!res.headersSent)
        for (const [name, value] of hold.session.responseHeaders()) res.appendHeader(name, value);
      restore(res, hold);
      const calls = res as unknown as Record<Method, AnyMethod>;
      for (const [queued, queuedArgs] of hold.queue) calls[queued].apply(res, queuedArgs);
    },
    (error: unknown) => {
      restore(res, hold);
      failResponse(res, error);
    },
  );
}

/** Puts the original methods back. Deleting in reverse order of adding keeps V8's fast path. */
function restore(res: HeldResponse, hold: Hold): void {
  const methods = res as unknown as Record<Method, AnyMethod>;
  for (let i = METHODS.length - 1; i >= 0; i--) {
    const method = METHODS[i]!;
    const original = hold.own[method];
    if (original) methods[method] = original;
    else delete methods[method];
  }
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
