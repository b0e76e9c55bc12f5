import { exportSessions } from './export.js';
import { json, problemOf, readJson, withHeaders } from './http.js';
import { openApiDocument } from './openapi.js';
import { parseDuration, parseQuery, QueryError } from './query.js';
import { type Actor, type MonitorService, UnsupportedListing } from './service.js';

/*
 * The JSON API under `{basePath}/api/`, with a bearer token (`Authorization: Bearer
 * <name>:<secret>`). The routes are listed in the OpenAPI document (openapi.ts), which a
 * test keeps in step with this file.
 */

export interface ApiContext {
  service: MonitorService;
  basePath: string;
  displayAttributes: readonly string[];
  /** The actor, or the seconds a throttled client must wait, or undefined (401). */
  authenticate(request: Request): Promise<Actor | number | undefined>;
  report(error: unknown): void;
}

const UNAUTHORIZED = {
  error: {
    code: 'UNAUTHORIZED',
    message: 'a valid bearer token is required: Authorization: Bearer <name>:<secret>',
  },
};

function notFound(what = 'no such route'): Response {
  return json({ error: { code: 'NOT_FOUND', message: what } }, 404);
}

/** Handles `rest` = the path after `{basePath}/api/`, already split and decoded. */
export async function handleApi(context: ApiContext, request: Request, rest: string[]): Promise<Response> {
  const method = request.method;
  const route = rest.join('/');
  if (route === 'openapi.json' && method === 'GET') return json(openApiDocument(context.basePath));
  const actor = await context.authenticate(request);
  if (typeof actor === 'number') {
    return json(
      { error: { code: 'TOO_MANY_FAILURES', message: `too many failed attempts: retry in ${actor} s` } },
      429,
      { 'retry-after': String(actor) },
    );
  }
  if (!actor) return json(UNAUTHORIZED, 401, { 'www-authenticate': 'Bearer realm="unisession-monitor"' });
  try {
    return await answer(context, request, actor, rest);
  } catch (error) {
    const problem = problemOf(error, context.report);
    return json({ error: { code: problem.code, message: problem.message } }, problem.status);
  }
}

async function answer(
  context: ApiContext,
  request: Request,
  actor: Actor,
  rest: string[],
): Promise<Response> {
  const { service } = context;
  const method = request.method;
  const url = new URL(request.url);
  const [first, second, third, fourth] = rest;
  if (first === 'whoami' && rest.length === 1 && method === 'GET') {
    return json({ name: actor.name, scope: actor.scope, role: actor.role });
  }
  if (first === 'capabilities' && rest.length === 1 && method === 'GET') return json(service.capabilities());
  if (first === 'stats' && rest.length === 1 && method === 'GET') {
    requireListing(service);
    return json(await service.stats(actor));
  }
  if (first === 'audit' && rest.length === 1 && method === 'GET') {
    const limit = Number(url.searchParams.get('limit') ?? '50');
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new QueryError('limit must be from 1 to 500');
    return json(await service.auditLog(actor, limit, url.searchParams.get('cursor') ?? undefined));
  }
  if (first === 'principals' && second !== undefined && third === 'revoke' && rest.length === 3) {
    if (method !== 'POST') return methodNotAllowed('POST');
    return json({ revoked: await service.revokePrincipal(actor, second) });
  }
  if (first !== 'sessions') return notFound();
  if (rest.length === 1) {
    if (method !== 'GET') return methodNotAllowed('GET');
    requireListing(service);
    const query = parseQuery(url.searchParams, ['format']);
    const format = url.searchParams.get('format') ?? 'json-page';
    if (format === 'csv' || format === 'json') {
      const stream = exportSessions(service, actor, query, format, context.displayAttributes, context.report);
      const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
      return new Response(
        stream,
        withHeaders(
          {},
          { 'content-type': type, 'content-disposition': `attachment; filename="sessions.${format}"` },
        ),
      );
    }
    if (format !== 'json-page') throw new QueryError('format must be csv or json (or absent for one page)');
    const page = await service.search(actor, query);
    return json({
      sessions: page.rows.map((row) => ({ ...row.meta, display: row.display })),
      ...(page.next ? { next: page.next } : {}),
    });
  }
  if (second === 'count' && rest.length === 2 && method === 'GET') {
    requireListing(service);
    return json({ count: await service.count(actor, parseQuery(url.searchParams)) });
  }
  if (second === 'delete' && rest.length === 2) {
    if (method !== 'POST') return methodNotAllowed('POST');
    const body = (await readJson(request)) as { ids?: unknown } | undefined;
    const ids = body?.ids;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > 1000 ||
      !ids.every((id) => typeof id === 'string')
    ) {
      throw new QueryError('the body must be { "ids": [...] } with 1 to 1000 session ids');
    }
    return json({ deleted: await service.deleteMany(actor, ids as string[]) });
  }
  if (second === 'delete-where' && rest.length === 2) {
    if (method !== 'POST') return methodNotAllowed('POST');
    requireListing(service);
    const body = (await readJson(request)) as { filter?: unknown; dryRun?: unknown } | undefined;
    const filter = body?.filter;
    if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
      throw new QueryError('the body must be { "filter": { ...search parameters }, "dryRun": true|false }');
    }
    if (body?.dryRun !== undefined && typeof body.dryRun !== 'boolean')
      throw new QueryError('dryRun must be a boolean');
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) params.set(key, String(value));
    const query = parseQuery(params);
    if (Object.keys(query).length === 0 && body?.dryRun !== true) {
      throw new QueryError('an empty filter would delete every session: give at least one filter');
    }
    const dryRun = body?.dryRun !== false;
    const count = await service.deleteWhere(actor, query, dryRun);
    return json(dryRun ? { dryRun: true, matching: count } : { dryRun: false, deleted: count });
  }
  if (second === 'expire-idle' && rest.length === 2) {
    if (method !== 'POST') return methodNotAllowed('POST');
    requireListing(service);
    const body = (await readJson(request)) as { idleLongerThan?: unknown } | undefined;
    const idle = body?.idleLongerThan;
    if (typeof idle !== 'string' && typeof idle !== 'number') {
      throw new QueryError('the body must be { "idleLongerThan": "15m" } (a duration or milliseconds)');
    }
    const ms = parseDuration('idleLongerThan', String(idle));
    if (ms < 1000) throw new QueryError('idleLongerThan must be at least 1s');
    return json({ expired: await service.expireIdle(actor, ms) });
  }
  if (second === undefined) return notFound();
  const id = second;
  if (rest.length === 2) {
    if (method === 'GET') {
      const detail = await service.detail(actor, id);
      return detail ? json(detail) : notFound('no such session');
    }
    if (method === 'DELETE') {
      return (await service.deleteOne(actor, id)) ? json({ deleted: 1 }) : notFound('no such session');
    }
    return methodNotAllowed('GET, DELETE');
  }
  if (third === 'attributes' && fourth !== undefined && rest.length === 4) {
    if (method !== 'DELETE') return methodNotAllowed('DELETE');
    const at = fourth.indexOf(':');
    if (at < 0) throw new QueryError('the attribute key is <namespace>:<name> (":user" for a shared one)');
    const removed = await service.removeAttribute(actor, id, fourth.slice(0, at), fourth.slice(at + 1));
    return removed ? json({ removed: 1 }) : notFound('no such session or attribute');
  }
  return notFound();
}

function methodNotAllowed(allow: string): Response {
  return json({ error: { code: 'METHOD_NOT_ALLOWED', message: `use ${allow}` } }, 405, { allow });
}

function requireListing(service: MonitorService): void {
  const capabilities = service.capabilities();
  if (!capabilities.listing) throw new UnsupportedListing(capabilities.reason ?? 'the store cannot list');
}
