import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RequestInfo } from '../../core/request.js';

/** The core's view of a node request. */
export function nodeRequestInfo(req: IncomingMessage): RequestInfo {
  return {
    url: req.url ?? '/',
    method: req.method ?? 'GET',
    header: (name) => headerOf(req.headers, name),
    remoteAddress: req.socket.remoteAddress,
    encrypted: (req.socket as TLSSocket).encrypted === true,
  };
}

/** A request header as one string (Node keeps them lower-cased; only Set-Cookie is a list). */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
