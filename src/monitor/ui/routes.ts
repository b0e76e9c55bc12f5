import { randomBytes, timingSafeEqual } from 'node:crypto';
import { commitHeaders } from '../../adapters/kit/commit.js';
import { appendResponseHeaders, webRequestInfo } from '../../adapters/web/fetch.js';
import { defaultCodec } from '../../codec/json.js';
import { SessionManager } from '../../core/manager.js';
import type { Session } from '../../core/session.js';
import type { Store } from '../../core/store.js';
import { memoryStore } from '../../stores/memory.js';
import type { CredentialSet, MonitorCredential } from '../credentials.js';
import { exportSessions } from '../export.js';
import { problemOf, readForm, withHeaders } from '../http.js';
import { parseDuration, parseQuery, QueryError } from '../query.js';
import type { Actor, MonitorService } from '../service.js';
import type { FailureThrottle } from '../throttle.js';
import { SCRIPT, STYLESHEET } from './assets.js';
import type { Html } from './html.js';
import {
  auditPage,
  confirmDeleteWherePage,
  detailPage,
  errorPage,
  loginPage,
  notFoundPage,
  notice,
  overviewPage,
  type Page,
  sessionsPage,
} from './pages.js';

/*
 * The web UI. Its login is a unisession session of its own, in the group `<group>-monitor`
 * (cookie HttpOnly, SameSite=Strict, Path=the mount path), holding the credential's name and
 * a CSRF token. Every POST must carry that token and an Origin (or Referer) of the UI's own
 * origin, else 403, before anything else is read.
 */

export interface UiContext {
  service: MonitorService;
  prefix: string;
  group: string;
  sessionStore: Store | undefined;
  origins: string[] | undefined;
  loginTimeout: number;
  displayAttributes: readonly string[];
  credentials(): Promise<CredentialSet>;
  /** Failed sign-ins per address, shared with the API. */
  throttle: FailureThrottle;
  toActor(credential: MonitorCredential | undefined): Actor | undefined;
  report(error: unknown, during?: string): void;
}

export interface Ui {
  handle(request: Request, rest: string[], peer: { remoteAddress?: string }): Promise<Response>;
  close(): Promise<void>;
}

const COOKIE = 'unisession_monitor';

function uiGroup(group: string): string {
  return `${group.slice(0, 32)}-monitor`;
}

function sameBytes(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function createUi(context: UiContext): Ui {
  const { prefix, service } = context;
  const store = context.sessionStore ?? memoryStore({ group: uiGroup(context.group) });
  const sessions = new SessionManager({
    app: 'monitor',
    group: store.group ?? uiGroup(context.group),
    store,
    codec: defaultCodec,
    secret: randomBytes(32),
    maxInactive: context.loginTimeout,
    cookie: { name: COOKIE, path: prefix || '/', sameSite: 'strict', httpOnly: true },
    sweeper: { interval: 60_000 },
  });
  sessions.on('error', ({ error, during }) => context.report(error, `monitor UI session: ${during}`));

  const respond = async (
    session: Session,
    body: Html | string,
    status = 200,
    type = 'text/html',
  ): Promise<Response> => {
    const response = new Response(
      typeof body === 'string' ? body : body.text,
      withHeaders({ status }, { 'content-type': `${type}; charset=utf-8` }),
    );
    return appendResponseHeaders(response, await commitHeaders(session));
  };
  const redirect = async (session: Session, to: string): Promise<Response> => {
    const response = new Response(null, withHeaders({ status: 303 }, { location: `${prefix}/${to}` }));
    return appendResponseHeaders(response, await commitHeaders(session));
  };

  /** The Origin (else the Referer's origin) must be one the UI is served from. */
  const originAllowed = (request: Request): boolean => {
    const allowed = context.origins ?? [new URL(request.url).origin];
    let origin = request.headers.get('origin');
    if (origin === null) {
      const referer = request.headers.get('referer');
      try {
        origin = referer ? new URL(referer).origin : null;
      } catch {
        origin = null;
      }
    }
    return origin !== null && allowed.includes(origin);
  };

  const actorOf = async (session: Session): Promise<Actor | undefined> => {
    const name = await session.get<string>('credential');
    if (typeof name !== 'string') return undefined;
    return context.toActor((await context.credentials()).named(name));
  };

  const takeFlash = async (session: Session): Promise<Html | undefined> => {
    const flash = await session.get<{ text: string; error?: boolean }>('flash');
    if (!flash) return undefined;
    await session.remove('flash');
    return notice(flash.text, flash.error ? 'error' : undefined);
  };
  const flash = (session: Session, text: string, error = false) => session.set('flash', { text, error });

  async function login(request: Request, session: Session, address: string | undefined): Promise<Response> {
    if (!originAllowed(request))
      return respond(session, errorPage(undefined, prefix, 403, 'Foreign or missing Origin.'), 403);
    const form = await readForm(request);
    const name = (form.get('name') ?? '').trim();
    const secret = form.get('secret') ?? '';
    const token = name === '' || secret.startsWith(`${name}:`) ? secret : `${name}:${secret}`;
    const wait = context.throttle.retryAfter(address);
    if (wait > 0) {
      const page = loginPage(prefix, `Too many failed attempts: try again in ${wait} s.`, 'error');
      const response = await respond(session, page, 429);
      response.headers.set('retry-after', String(wait));
      return response;
    }
    const credential = await (await context.credentials()).verify(token);
    if (!credential) {
      context.throttle.fail(address);
      return respond(session, loginPage(prefix, 'Wrong credential name or secret.', 'error'), 401);
    }
    context.throttle.succeed(address);
    // A fresh id at login: a session id planted before it (fixation) is worth nothing after.
    await session.regenerate({ keepAttributes: false });
    await session.set('credential', credential.name);
    await session.set('csrf', randomBytes(24).toString('base64url'));
    const actor = context.toActor(credential) as Actor;
    await service.audit(actor, 'login', 'monitor UI', 0);
    return redirect(session, '');
  }

  async function handleSignedIn(
    request: Request,
    session: Session,
    actor: Actor,
    rest: string[],
  ): Promise<Response> {
    const csrf = (await session.get<string>('csrf')) ?? '';
    const page: Page = { prefix, actor, csrf, capabilities: service.capabilities() };
    const url = new URL(request.url);
    const route = rest.join('/');
    const method = request.method;

    if (method === 'POST') {
      const form = await readForm(request);
      const token = form.get('_csrf') ?? '';
      if (!originAllowed(request) || csrf === '' || !sameBytes(token, csrf)) {
        return respond(
          session,
          errorPage(page, prefix, 403, 'Missing or wrong CSRF token, or a foreign Origin.'),
          403,
        );
      }
      return post(request, session, page, rest, form);
    }
    if (method !== 'GET' && method !== 'HEAD')
      return respond(session, errorPage(page, prefix, 405, 'Method not allowed.'), 405);

    const message = await takeFlash(session);
    if (route === '') {
      const stats = page.capabilities.stats ? await service.stats(actor) : undefined;
      return respond(session, overviewPage(page, stats, message));
    }
    if (route === 'lookup') {
      const id = url.searchParams.get('id')?.trim() ?? '';
      return redirect(session, `sessions/${encodeURIComponent(id)}`);
    }
    if (route === 'audit') {
      const cursor = url.searchParams.get('cursor') ?? undefined;
      return respond(
        session,
        auditPage(page, await service.auditLog(actor, 50, cursor), page.capabilities.audit),
      );
    }
    if (route === 'sessions') {
      const params = url.searchParams;
      params.delete('notice');
      if (!page.capabilities.listing)
        return respond(session, sessionsPage(page, params, {}, undefined, [], message));
      const query = parseQuery(params);
      query.limit ??= 50;
      query.sort ??= 'lastAccessedAt';
      const [result, total] = await Promise.all([service.search(actor, query), service.count(actor, query)]);
      return respond(
        session,
        sessionsPage(page, params, query, { ...result, total }, context.displayAttributes, message),
      );
    }
    if (route === 'sessions/export.csv' || route === 'sessions/export.json') {
      const format = route.endsWith('csv') ? 'csv' : 'json';
      const query = parseQuery(url.searchParams);
      query.sort ??= 'lastAccessedAt';
      const stream = exportSessions(service, actor, query, format, context.displayAttributes, context.report);
      const response = new Response(
        stream,
        withHeaders(
          {},
          {
            'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
            'content-disposition': `attachment; filename="sessions.${format}"`,
          },
        ),
      );
      return appendResponseHeaders(response, await commitHeaders(session));
    }
    if (rest[0] === 'sessions' && rest.length === 2 && rest[1]) {
      const detail = await service.detail(actor, rest[1]);
      if (!detail)
        return respond(session, notFoundPage(page, 'No such session (or it is outside your scope).'), 404);
      return respond(session, detailPage(page, detail, message));
    }
    return respond(session, errorPage(page, prefix, 404, 'No such page.'), 404);
  }

  async function post(
    _request: Request,
    session: Session,
    page: Page,
    rest: string[],
    form: URLSearchParams,
  ): Promise<Response> {
    const { actor } = page;
    const route = rest.join('/');
    if (route === 'logout') {
      await session.invalidate();
      return redirect(session, 'login');
    }
    if (route === 'sessions/delete') {
      const ids = form.getAll('id').filter(Boolean).slice(0, 1000);
      if (ids.length === 0) {
        await flash(session, 'Select at least one session.', true);
        return redirect(session, 'sessions');
      }
      const deleted = await service.deleteMany(actor, ids);
      await flash(session, `Deleted ${deleted} session(s).`);
      return redirect(session, 'sessions');
    }
    if (route === 'sessions/delete-where') {
      const params = new URLSearchParams(form);
      const confirmed = params.get('confirm') === 'yes';
      params.delete('_csrf');
      params.delete('confirm');
      const query = parseQuery(params);
      if (Object.keys(query).length === 0)
        throw new QueryError('give at least one filter: an empty one would delete every session');
      if (!confirmed) {
        const matching = await service.deleteWhere(actor, query, true);
        return respond(session, confirmDeleteWherePage(page, params, matching));
      }
      const deleted = await service.deleteWhere(actor, query, false);
      await flash(session, `Deleted ${deleted} session(s) matching the query.`);
      return redirect(session, 'sessions');
    }
    if (route === 'sessions/expire-idle') {
      const ms = parseDuration('idleLongerThan', form.get('idleLongerThan') ?? '');
      if (ms < 1000) throw new QueryError('idleLongerThan must be at least 1s');
      const expired = await service.expireIdle(actor, ms);
      await flash(session, `Expired ${expired} idle session(s).`);
      return redirect(session, '');
    }
    if (route === 'principals/revoke') {
      const principal = form.get('principal') ?? '';
      if (!principal) throw new QueryError('principal is required');
      const revoked = await service.revokePrincipal(actor, principal);
      await flash(session, `Signed ${principal} out of ${revoked} session(s).`);
      return redirect(session, `sessions?principal=${encodeURIComponent(principal)}`);
    }
    const [first, id, action] = rest;
    if (first === 'sessions' && id && rest.length === 3 && action === 'delete') {
      const deleted = await service.deleteOne(actor, id);
      if (!deleted)
        return respond(session, notFoundPage(page, 'No such session (or it is outside your scope).'), 404);
      await flash(session, `Deleted session ${id.slice(0, 8)}…; its user is signed out.`);
      return redirect(session, 'sessions');
    }
    if (first === 'sessions' && id && rest.length === 3 && action === 'remove-attribute') {
      const removed = await service.removeAttribute(
        actor,
        id,
        form.get('namespace') ?? '',
        form.get('name') ?? '',
      );
      await flash(session, removed ? 'Attribute removed.' : 'No such attribute.', !removed);
      return redirect(session, `sessions/${encodeURIComponent(id)}`);
    }
    return respond(session, errorPage(page, prefix, 404, 'No such action.'), 404);
  }

  return {
    async handle(request, rest, peer) {
      const route = rest.join('/');
      if (request.method === 'GET' && route === 'assets/monitor.css') {
        return new Response(
          STYLESHEET,
          withHeaders({}, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' }),
        );
      }
      if (request.method === 'GET' && route === 'assets/monitor.js') {
        return new Response(
          SCRIPT,
          withHeaders(
            {},
            { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=300' },
          ),
        );
      }
      const session = sessions.open(webRequestInfo(request, peer.remoteAddress));
      try {
        if (route === 'login') {
          if (request.method === 'POST') return await login(request, session, peer.remoteAddress);
          if ((await actorOf(session)) !== undefined) return await redirect(session, '');
          return await respond(session, loginPage(prefix));
        }
        const actor = await actorOf(session);
        if (!actor) {
          if (request.method === 'POST') {
            return await respond(
              session,
              errorPage(undefined, prefix, 403, 'Sign in first (missing or expired UI session).'),
              403,
            );
          }
          return await redirect(session, 'login');
        }
        return await handleSignedIn(request, session, actor, rest);
      } catch (error) {
        const problem = problemOf(error, (e) => context.report(e, 'monitor UI'));
        const actor = await actorOf(session).catch(() => undefined);
        const page = actor ? { prefix, actor, csrf: '', capabilities: service.capabilities() } : undefined;
        return respond(
          session,
          errorPage(page, prefix, problem.status, problem.message),
          problem.status,
        ).catch(
          () =>
            new Response(
              'The monitor failed to answer',
              withHeaders({ status: 500 }, { 'content-type': 'text/plain' }),
            ),
        );
      }
    },
    // Closes the UI's session store too, the one given as `sessionStore` included.
    close: () => sessions.close(),
  };
}
