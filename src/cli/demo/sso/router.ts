/**
 * The SSO demo's front door: one port for all four apps, routing each request by its host and
 * path to that app's load balancer (the cluster demo's balancer, one per app), as a reverse
 * proxy in front of several apps would. The Host header passes through unchanged, so each app
 * sees the name the browser used, and cookies get the right Domain.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AppGroup } from '../../../core/app-group.js';
import { requestHost } from '../../../core/request.js';

export interface Route {
  code: string;
  host: string;
  /** The app's path prefix ('/' for the whole host). */
  path: string;
  /** The port of the app's balancer on 127.0.0.1. */
  port: () => number | undefined;
}

/** The app a request is for: its host, then the longest path prefix that matches. */
export function routeOf(routes: readonly Route[], host: string | undefined, path: string): Route | undefined {
  const candidates = routes.filter((route) => route.host === host);
  const matching = candidates.filter(
    (route) => route.path === '/' || path === route.path || path.startsWith(`${route.path}/`),
  );
  return matching.sort((a, b) => b.path.length - a.path.length)[0];
}

export function routesOf(group: AppGroup, ports: Map<string, () => number | undefined>): Route[] {
  return group.apps.map((app) => ({
    code: app.code,
    host: app.host,
    path: app.path,
    port: ports.get(app.code)!,
  }));
}

export function createRouter(routes: readonly Route[], home: string): Server {
  const { createProxyServer } = createRequire(import.meta.url)(
    'http-proxy-3',
  ) as typeof import('http-proxy-3');
  const proxy = createProxyServer({ proxyTimeout: 30_000 });
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const info = {
      url: req.url ?? '/',
      method: req.method ?? 'GET',
      header: (name: string) => req.headers[name] as string | undefined,
      remoteAddress: undefined,
      encrypted: false,
    };
    const host = requestHost(info, () => false);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routeOf(routes, host, path);
    const port = route?.port();
    if (!route || port === undefined) {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><meta charset="utf-8"><p style="font:16px system-ui;margin:40px">No demo app here. Start at <a href="${home}">${home}</a>.</p>`,
      );
      return;
    }
    proxy.web(req, res, { target: `http://127.0.0.1:${port}` }, () => {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`Bad gateway: the ${route.code} balancer did not answer`);
      }
    });
  });
}
