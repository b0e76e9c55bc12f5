import { randomBytes } from 'node:crypto';
import { handleApi } from './api.js';
import { CredentialSet, hashSecret, type MonitorCredential } from './credentials.js';
import { json, withHeaders } from './http.js';
import { type MonitorOptions, resolveMonitorOptions } from './options.js';
import type { Actor } from './service.js';
import { MonitorService } from './service.js';
import { FailureThrottle } from './throttle.js';
import { createUi } from './ui/routes.js';

/** What the server knows of the connection that a Web `Request` does not carry. */
export interface MonitorPeer {
  /** The peer's IP address (`req.socket.remoteAddress`); needed by `localOnlyToken`. */
  remoteAddress?: string;
}

export interface Monitor {
  (request: Request, peer?: MonitorPeer): Promise<Response>;
  /** The mount path, without a trailing slash ('/' at the root). */
  readonly basePath: string;
  /** With `localOnlyToken`: the bearer token (also printed once on stderr). */
  readonly localToken: string | undefined;
  /** Stops the UI's own session manager (its store is closed if the monitor made it). */
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.test(address);
}

/**
 * The monitoring centre as one Web-standard handler: the JSON API under `{basePath}/api/`
 * (bearer token), the web UI under `{basePath}/` (login form, its own session), the OpenAPI
 * document at `{basePath}/api/openapi.json`. Every option is checked now; without a credential
 * (and without `localOnlyToken`) it throws UNISESSION_INVALID_OPTION: the monitor never starts open.
 *
 * @example
 * const monitor = createMonitor({
 *   managers: [portal, shop],
 *   basePath: '/admin/sessions',
 *   credentials: [{ name: 'ops', secretHash: process.env.MONITOR_HASH!, scope: 'all', role: 'operator' }],
 * });
 * http.createServer(toNodeHandler(monitor)).listen(4000, '127.0.0.1');
 */
export function createMonitor(options: MonitorOptions): Monitor {
  const resolved = resolveMonitorOptions(options);
  const primary = resolved.managers[0];
  if (!primary) throw new Error('unreachable: resolveMonitorOptions returns at least one manager');
  const report = (error: unknown, during = 'monitor') => primary.reportError(error, during);
  const service = new MonitorService(resolved.managers, {
    redact: resolved.redact,
    displayAttributes: resolved.displayAttributes,
    onlineWindowMs: resolved.onlineWindowMs,
    apps: resolved.apps,
    onAudit: resolved.onAudit,
    onError: report,
  });

  let localToken: string | undefined;
  let localSecret: string | undefined;
  if (resolved.localOnlyToken) {
    localSecret = randomBytes(24).toString('base64url');
    localToken = `local:${localSecret}`;
    process.stderr.write(
      `unisession monitor: local-only token (loopback peers only, valid until this process stops):\n  ${localToken}\n`,
    );
  }
  const credentials: Promise<CredentialSet> = (async () => {
    const list: MonitorCredential[] = [...resolved.credentials];
    if (localSecret !== undefined) {
      list.push({ name: 'local', secretHash: await hashSecret(localSecret), scope: 'all', role: 'operator' });
    }
    return new CredentialSet(list);
  })();
  // Not awaited by anyone until the first request; keep a rejection from going unhandled.
  credentials.catch((error: unknown) => report(error, 'monitor credentials'));

  const toActor = (credential: MonitorCredential | undefined): Actor | undefined =>
    credential && { name: credential.name, scope: credential.scope, role: credential.role };
  const limit = resolved.failureLimit;
  const throttle = limit
    ? new FailureThrottle(limit.attempts, limit.windowMs)
    : new FailureThrottle(Number.POSITIVE_INFINITY);
  /** The actor a bearer token proves; a number is the seconds a throttled address must wait. */
  const authenticate = async (
    request: Request,
    address: string | undefined,
  ): Promise<Actor | number | undefined> => {
    const wait = throttle.retryAfter(address);
    if (wait > 0) return wait;
    const header = request.headers.get('authorization') ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const actor = toActor(await (await credentials).verify(token));
    if (actor) throttle.succeed(address);
    else throttle.fail(address);
    return actor;
  };

  const basePath = resolved.basePath;
  const prefix = basePath === '/' ? '' : basePath;
  const ui = createUi({
    service,
    prefix,
    group: service.group,
    sessionStore: resolved.sessionStore,
    origins: resolved.origins,
    loginTimeout: resolved.loginTimeout,
    displayAttributes: resolved.displayAttributes,
    credentials: () => credentials,
    throttle,
    toActor,
    report,
  });

  const handler = async (request: Request, peer: MonitorPeer = {}): Promise<Response> => {
    try {
      if (resolved.localOnlyToken && !isLoopback(peer.remoteAddress)) {
        return json(
          { error: { code: 'FORBIDDEN', message: 'this monitor accepts loopback peers only' } },
          403,
        );
      }
      const url = new URL(request.url);
      const path = url.pathname;
      if (path !== prefix && !path.startsWith(`${prefix}/`)) {
        return new Response(
          'Not found',
          withHeaders({ status: 404 }, { 'content-type': 'text/plain; charset=utf-8' }),
        );
      }
      let rest: string[];
      try {
        rest = path.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
      } catch {
        return json({ error: { code: 'INVALID_PATH', message: 'the path is not well-formed' } }, 400);
      }
      if (rest[0] === 'api') {
        return await handleApi(
          {
            service,
            basePath,
            displayAttributes: resolved.displayAttributes,
            authenticate: (req) => authenticate(req, peer.remoteAddress),
            report,
          },
          request,
          rest.slice(1),
        );
      }
      return await ui.handle(request, rest, peer);
    } catch (error) {
      report(error, 'monitor request');
      return json(
        { error: { code: 'INTERNAL', message: 'The monitor failed to answer; see its error log' } },
        500,
      );
    }
  };
  return Object.assign(handler, {
    basePath,
    localToken,
    close: () => ui.close(),
  });
}
