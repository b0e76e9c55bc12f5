import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Monitor } from './monitor.js';

/*
 * The monitor on node:http, and on anything built on it (Express, Koa's `app.callback()`
 * neighbours, Fastify through `@fastify/middie` or a wildcard route): a Web `Request` is made
 * from the node request, and the `Response` is streamed back.
 */

type Next = (error?: unknown) => void;

/** The path as the client sent it: Express strips its mount path from `url`, not `originalUrl`. */
function fullUrl(req: IncomingMessage): string {
  return (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
}

export function toWebRequest(req: IncomingMessage): Request {
  const encrypted = (req.socket as TLSSocket).encrypted === true;
  const host = req.headers.host ?? 'localhost';
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(`${encrypted ? 'https' : 'http'}://${host}${fullUrl(req)}`, {
    method,
    headers,
    ...(hasBody ? bodyOf(req) : {}),
  } as RequestInit);
}

/**
 * The request body: the stream itself, or, when a body parser mounted earlier (express.json(),
 * express.urlencoded(), koa-bodyparser) has already read it, what it parsed, re-encoded.
 */
function bodyOf(req: IncomingMessage): { body: BodyInit; duplex?: 'half' } {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (!req.readableEnded || parsed === undefined) {
    return { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' };
  }
  if (typeof parsed === 'string') return { body: parsed };
  if (Buffer.isBuffer(parsed)) return { body: new Uint8Array(parsed) };
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded') && parsed !== null && typeof parsed === 'object') {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      for (const item of Array.isArray(value) ? value : [value]) form.append(key, String(item));
    }
    return { body: form.toString() };
  }
  return { body: JSON.stringify(parsed) };
}

export async function sendWebResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((resolve) => res.once('drain', resolve));
    }
    res.end();
  } catch {
    // A stream that failed part way (an export whose store died): cut the connection, so
    // the client sees a truncated transfer rather than a complete-looking file.
    res.destroy();
  }
}

/**
 * A node:http / Express handler for the monitor. Mount it at the monitor's `basePath`:
 * Express's `app.use('/admin/sessions', toNodeHandler(monitor))` keeps the full path
 * (`originalUrl`), which must start with `basePath`. Outside it, Express's `next` is called.
 *
 * @example
 * http.createServer(toNodeHandler(monitor)).listen(4000, '127.0.0.1');
 * app.use('/admin/sessions', toNodeHandler(monitor)); // basePath: '/admin/sessions'
 */
export function toNodeHandler(
  monitor: Monitor,
): (req: IncomingMessage, res: ServerResponse, next?: Next) => void {
  const prefix = monitor.basePath === '/' ? '' : monitor.basePath;
  return (req, res, next) => {
    const path = fullUrl(req).split('?')[0] ?? '/';
    if (next && path !== prefix && !path.startsWith(`${prefix}/`)) {
      next();
      return;
    }
    void (async () => {
      try {
        const response = await monitor(toWebRequest(req), { remoteAddress: req.socket.remoteAddress });
        await sendWebResponse(response, res);
      } catch (error) {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          res.end('The monitor failed to answer');
        } else res.destroy();
        // The monitor catches its own errors; reaching here means the socket failed.
        void error;
      }
    })();
  };
}
