import type { ServerResponse } from 'node:http';
import type { Session } from '../../core/session.js';
import { commitHeaders } from '../kit/commit.js';

/*
 * Holding a node:http response until its session is committed: the machinery behind
 * `nodeSessions` and Express, which both answer on a node `ServerResponse`.
 */

/** Where a held response's failures go. */
export interface HoldErrors {
  /** The response could not be released: the held one is discarded, and this answers instead. */
  fail(error: unknown): void | Promise<void>;
  /** A failure nothing can answer any more (`fail` itself failed, or the response had left). */
  report(error: unknown): void;
}

const METHODS = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
type Method = (typeof METHODS)[number];
type AnyMethod = (...args: unknown[]) => unknown;

const HOLD = Symbol('unisession.hold');

interface Hold {
  session: Session;
  /** What releasing the response runs: the commit, and the headers it must add. */
  commit: () => Promise<Array<[string, string]>>;
  errors: HoldErrors;
  queue: Array<[Method, unknown[]]>;
  started: boolean;
  /** The properties the hold put on the response, in order, with what was there before. */
  added: Array<[string, PropertyDescriptor | undefined]>;
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

const headersSent = () =>
  Object.assign(new Error('Cannot set headers after they are sent to the client'), {
    code: 'ERR_HTTP_HEADERS_SENT',
  });
const writeAfterEnd = () =>
  Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
const isTrue = { get: () => true, configurable: true };

/**
 * Once `end()` is held, the response behaves as a sent one: what Node refuses after `end()`
 * throws at once, in the handler, where the framework's error handling catches it (rather than
 * failing later, during the replay, where nothing could).
 */
const afterEnd = {
  writeHead() {
    throw headersSent();
  },
  setHeader() {
    throw headersSent();
  },
  appendHeader() {
    throw headersSent();
  },
  setHeaders() {
    throw headersSent();
  },
  removeHeader() {
    throw headersSent();
  },
  write() {
    throw writeAfterEnd();
  },
  end(this: HeldResponse, chunk?: unknown, ...rest: unknown[]) {
    const callback = [chunk, ...rest].find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') throw writeAfterEnd();
    // A second end() without data is a no-op, as on a sent response.
    if (callback) this.once('finish', () => callback());
    return this;
  },
  flushHeaders() {},
};

const ownMethod = (value: unknown): PropertyDescriptor => ({ value, writable: true, configurable: true });
/** What a held response gets at once, and what it gets once `end()` is held (built once). */
const HELD = METHODS.map((name) => [name, ownMethod(standIns[name])] as const);
const ENDED = [
  ...Object.entries(afterEnd)
    .filter(([name]) => !Object.hasOwn(standIns, name))
    .map(([name, value]) => [name, ownMethod(value)] as const),
  ['headersSent', isTrue] as const,
  ['writableEnded', isTrue] as const,
];

/**
 * Delays the response until the session is committed. `writeHead`, `write`, `end` and
 * `flushHeaders` are queued at their first call, the commit runs, the session's headers are
 * added, and the queue is replayed in order. This is what makes "write, then redirect"
 * safe: the client cannot follow the redirect before the store has the write. When the
 * commit fails, the held response is discarded and `errors.fail` answers instead. `commit`
 * replaces the plain commit when the adapter has more to do (Express writes its own Set-Cookie).
 */
export function holdResponseUntilCommitted(
  res: ServerResponse,
  session: Session,
  errors: HoldErrors,
  commit: () => Promise<Array<[string, string]>> = () => commitHeaders(session),
): void {
  const held = res as HeldResponse;
  held[HOLD] = { session, commit, errors, queue: [], started: false, added: [] };
  for (const [name, descriptor] of HELD) replace(held, name, descriptor);
}

/**
 * Puts a property on the response, remembering what was there to put it back. A method the
 * response only inherits is assigned: several times cheaper than `defineProperty`, and the
 * same to every caller. An own property (another middleware's wrapper) and the accessors
 * (`headersSent`) are defined, their descriptors kept.
 */
function replace(res: HeldResponse, name: string, descriptor: PropertyDescriptor): void {
  const own = Object.hasOwn(res, name);
  res[HOLD].added.push([name, own ? Object.getOwnPropertyDescriptor(res, name) : undefined]);
  if (!own && 'value' in descriptor) (res as unknown as Record<string, unknown>)[name] = descriptor.value;
  else Object.defineProperty(res, name, descriptor);
}

function queueCall(res: HeldResponse, method: Method, args: unknown[]): void {
  const hold = res[HOLD];
  hold.queue.push([method, args]);
  if (method === 'end') markEnded(res);
  if (hold.started) return;
  hold.started = true;
  release(res, hold).catch((error: unknown) => lastResort(res, hold, error));
}

function markEnded(res: HeldResponse): void {
  // The four held methods are ours already: swap them in place, so restore() has one entry each.
  const methods = res as unknown as Record<Method, unknown>;
  for (const name of METHODS) methods[name] = afterEnd[name];
  for (const [name, descriptor] of ENDED) replace(res, name, descriptor);
}

/** Commits, then sends the held response; or discards it and lets `fail` answer. */
async function release(res: HeldResponse, hold: Hold): Promise<void> {
  let headers: Array<[string, string]>;
  try {
    headers = await hold.commit();
  } catch (error) {
    await discardAndFail(res, hold, error);
    return;
  }
  restore(res, hold);
  // A replayed call must never emit an 'error' nobody listens to: report it instead.
  res.on('error', hold.errors.report);
  const calls = res as unknown as Record<Method, AnyMethod>;
  try {
    for (const [name, value] of headers) res.appendHeader(name, value);
    for (const [method, args] of hold.queue) calls[method].apply(res, args);
  } catch (error) {
    // A call the handler made fails now rather than when it was made (a bad status code, say).
    if (res.headersSent) lastResort(res, hold, error);
    else await discardAndFail(res, hold, error);
  }
}

/** The held response is dropped, headers and status included, and `fail` answers the request. */
async function discardAndFail(res: HeldResponse, hold: Hold, error: unknown): Promise<void> {
  restore(res, hold);
  hold.queue.length = 0;
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  res.statusCode = 200;
  try {
    await hold.errors.fail(error);
  } catch (failure) {
    lastResort(res, hold, failure);
  }
}

/** Nothing can answer any more: report the error and close the connection. */
function lastResort(res: HeldResponse, hold: Hold, error: unknown): void {
  hold.errors.report(error);
  res.destroy();
}

/**
 * Puts back what the hold replaced, in reverse order: deleting the last-added property first
 * keeps V8's fast path for the response object.
 */
function restore(res: HeldResponse, hold: Hold): void {
  const { added } = hold;
  for (let i = added.length - 1; i >= 0; i--) {
    const [name, previous] = added[i]!;
    if (previous) Object.defineProperty(res, name, previous);
    else delete (res as unknown as Record<string, unknown>)[name];
  }
  added.length = 0;
}
