/**
 * The demo's load balancer: round robin over the nodes that are up, no stickiness, built on
 * http-proxy-3. A node that refuses the connection (it just died) costs no failed request:
 * the request never reached it, so it is sent to the next node. It also serves the demo's
 * control endpoints under `/_demo/`, which act on the supervisor.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { UnisessionError } from '../../core/errors.js';
import type { ClusterView } from './protocol.js';

/**
 * http-proxy-3 is an optional peer that only the demo needs, so it is loaded when a balancer
 * is made, never when the package is. `unisession demo` checks for it before starting; this
 * message is for other callers.
 */
function loadHttpProxy(): typeof import('http-proxy-3') {
  try {
    return createRequire(import.meta.url)('http-proxy-3') as typeof import('http-proxy-3');
  } catch (cause) {
    throw new UnisessionError(
      'UNISESSION_DRIVER_MISSING',
      'the demo balancer needs the "http-proxy-3" package: npm install http-proxy-3',
      { cause },
    );
  }
}

/** One backend as the balancer sees it; the supervisor's app nodes are these. */
export interface Target {
  readonly name: string;
  readonly port: number | undefined;
  /** Requests being proxied to it now (the supervisor drains a node until this is 0). */
  inflight: number;
  /** Requests sent to it so far. */
  served: number;
}

/** What the balancer needs from the supervisor: the rotation, and the control actions. */
export interface Rotation {
  /** The next target in round-robin order that is up and not in `skip`. */
  pick(skip: ReadonlySet<Target>): Target | undefined;
  view(): ClusterView;
  /** Every pid started so far. */
  readonly pids: readonly number[];
  kill(name: string): Promise<{ pid: number | undefined } | undefined>;
  redeploy(): Promise<unknown>;
}

/** Bodies are buffered so that a refused request can be replayed to the next node. */
const MAX_BODY = 1_048_576;

export function createBalancer(supervisor: Rotation, log: (line: string) => void = () => undefined): Server {
  // No agent: one connection per request (Connection: close). A pooled keep-alive socket
  // that the node closes at the same moment would fail a request that cannot safely be retried.
  const proxy = loadHttpProxy().createProxyServer({ proxyTimeout: 30_000 });

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, tried: Set<Target>) => {
    const node = supervisor.pick(tried);
    if (!node) {
      noNodeUp(res);
      return;
    }
    tried.add(node);
    node.inflight++;
    node.served++;
    let released = false;
    const release = () => {
      if (!released) node.inflight--;
      released = true;
    };
    res.once('close', release);
    proxy.web(
      req,
      res,
      { target: `http://127.0.0.1:${node.port}`, buffer: Readable.from(body.length > 0 ? [body] : []) },
      (error: NodeJS.ErrnoException) => {
        release();
        res.off('close', release);
        // Refused: the node is gone and never saw the request, so the next node can take it.
        if (error.code === 'ECONNREFUSED' && !res.headersSent) {
          node.served--;
          forward(req, res, body, tried);
          return;
        }
        log(`balancer: ${node.name}: ${error.message}`);
        if (res.headersSent) res.destroy();
        else sendText(res, 502, `Bad gateway: ${node.name} failed (${error.code ?? error.message})`);
      },
    );
  };

  return createServer((req, res) => {
    readBody(req)
      .then(async (body) => {
        if (body === undefined) return sendText(res, 413, 'Request body too large');
        if ((req.url ?? '/').startsWith('/_demo/')) return await control(supervisor, req, res, body, log);
        // This balancer is the edge: what the client says about earlier hops is not believed.
        req.headers['x-forwarded-for'] = normalizeAddress(req.socket.remoteAddress);
        req.headers['x-forwarded-proto'] = 'http';
        req.headers['x-forwarded-host'] = req.headers.host ?? '';
        forward(req, res, body, new Set());
      })
      .catch((error: Error) => {
        log(`balancer: ${error.message}`);
        if (res.headersSent) res.destroy();
        else sendText(res, 500, 'Internal error in the demo balancer');
      });
  });
}

/** The control API: the page's buttons post here, scripts call it with curl. */
async function control(
  supervisor: Rotation,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  log: (line: string) => void,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://balancer');
  const wantsHtml = (req.headers.accept ?? '').includes('text/html');
  const form = new URLSearchParams(body.toString('utf8'));
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /_demo/nodes':
      return sendJson(res, 200, { supervisor: process.pid, ...supervisor.view(), pids: supervisor.pids });
    case 'POST /_demo/kill': {
      const name = form.get('node') ?? url.searchParams.get('node') ?? '';
      const killed = await supervisor.kill(name);
      if (!killed) return sendJson(res, 404, { error: `no live node named "${name}"` });
      log(`${name} (pid ${killed.pid}) killed from the page (SIGKILL)`);
      if (wantsHtml) return redirect(res, `/?killed=${encodeURIComponent(name)}`);
      return sendJson(res, 200, { killed: name, pid: killed.pid });
    }
    case 'POST /_demo/redeploy': {
      const running = supervisor.redeploy();
      if (wantsHtml) {
        // A browser gets the page back at once and can watch the redeploy by reloading.
        running.catch((error: Error) => log(`redeploy failed: ${error.message}`));
        return redirect(res, '/?redeploy=started');
      }
      try {
        return sendJson(res, 200, await running);
      } catch (error) {
        return sendJson(res, 409, { error: (error as Error).message });
      }
    }
    default:
      return sendJson(res, 404, {
        error: `unknown demo endpoint ${route}`,
        endpoints: ['GET /_demo/nodes', 'POST /_demo/kill?node=node-1', 'POST /_demo/redeploy'],
      });
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function normalizeAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

function noNodeUp(res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'retry-after': '1' });
  res.end(
    '<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="1"><title>No node is up</title>' +
      '<p style="font:16px system-ui;margin:40px">No app node is up right now (all restarting). This page retries every second.</p>',
  );
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value, null, 2));
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location });
  res.end();
}
