import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RequestInfo } from '../../core/request.js';

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
