import { QUERY_PARAMETERS } from './query.js';

/*
 * The OpenAPI 3.1 description of the JSON API, served at `{basePath}/api/openapi.json`.
 * test/monitor/api.test.ts calls every path listed here, so the document cannot drift.
 */

const error = { $ref: '#/components/responses/Error' };
const ok = (description: string, schema: object = { type: 'object' }) => ({
  description,
  content: { 'application/json': { schema } },
});
const jsonBody = (schema: object) => ({ required: true, content: { 'application/json': { schema } } });
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const QUERY_DESCRIPTIONS: Record<string, string> = {
  id: 'exact session id',
  idPrefix: 'session id prefix',
  principal: 'the user id',
  clientAddress: 'an address or a CIDR (10.0.0.0/8, 2001:db8::/32)',
  host: 'the creating host',
  lastHost: 'the last serving host',
  app: 'the app that created the session (an app-scoped credential may give only its own)',
  createdAfter: 'ISO date or epoch ms',
  createdBefore: 'ISO date or epoch ms',
  accessedAfter: 'ISO date or epoch ms',
  accessedBefore: 'ISO date or epoch ms',
  expiresBefore: 'ISO date or epoch ms',
  authenticated: 'true: with a principal; false: without',
  idleLongerThan: 'a duration (90s, 15m, 2h, 7d) or ms',
  sort: 'id | lastAccessedAt | createdAt',
  order: 'asc | desc',
  limit: 'page size, 1 to 1000 (default 100)',
  cursor: 'the `next` of the previous page',
};

export function openApiDocument(basePath: string): object {
  const searchParameters = QUERY_PARAMETERS.map((name) => ({
    name,
    in: 'query',
    required: false,
    description: QUERY_DESCRIPTIONS[name],
    schema: { type: name === 'authenticated' ? 'boolean' : name === 'limit' ? 'integer' : 'string' },
  }));
  const filterParameters = searchParameters.filter(
    (p) => !['limit', 'cursor', 'sort', 'order'].includes(p.name),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'unisession monitor',
      version: '1',
      description:
        'Statistics, search, detail and actions on the sessions of one group. Authenticate with ' +
        '`Authorization: Bearer <name>:<secret>`. An app-scoped credential sees only its app; ' +
        "another app's session answers 404. Actions need the operator role (403 otherwise).",
    },
    servers: [{ url: `${basePath === '/' ? '' : basePath}/api` }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: '<name>:<secret>' } },
      responses: {
        Error: {
          description:
            '400 bad query, 401 no or wrong token, 403 viewer or outside scope, 404, 501 the store cannot list, 503 store down',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  error: {
                    type: 'object',
                    properties: { code: { type: 'string' }, message: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
    paths: {
      '/whoami': {
        get: {
          summary: 'The credential this token is',
          responses: { 200: ok('name, scope, role'), default: error },
        },
      },
      '/capabilities': {
        get: {
          summary: 'What the store can do (listing, stats, audit) and why not',
          responses: { 200: ok('capabilities'), default: error },
        },
      },
      '/stats': {
        get: {
          summary: 'Statistics overall and per app (scoped: its app only)',
          responses: { 200: ok('{ overall, apps }'), default: error },
        },
      },
      '/sessions': {
        get: {
          summary: 'Search sessions: one page, or the whole result as CSV/JSON with format=',
          parameters: [
            ...searchParameters,
            {
              name: 'format',
              in: 'query',
              required: false,
              schema: { type: 'string', enum: ['csv', 'json'] },
            },
          ],
          responses: { 200: ok('{ sessions, next? } or an export'), default: error },
        },
      },
      '/sessions/count': {
        get: {
          summary: 'How many sessions match',
          parameters: filterParameters,
          responses: { 200: ok('{ count }'), default: error },
        },
      },
      '/sessions/delete': {
        post: {
          summary: 'Delete the selected sessions (operator)',
          requestBody: jsonBody({
            type: 'object',
            required: ['ids'],
            properties: { ids: { type: 'array', items: { type: 'string' }, maxItems: 1000 } },
          }),
          responses: { 200: ok('{ deleted }'), default: error },
        },
      },
      '/sessions/delete-where': {
        post: {
          summary: 'Delete by query; dryRun (the default) only counts',
          requestBody: jsonBody({
            type: 'object',
            required: ['filter'],
            properties: {
              filter: { type: 'object', description: 'the search parameters' },
              dryRun: { type: 'boolean', default: true },
            },
          }),
          responses: { 200: ok('{ dryRun, matching } or { dryRun: false, deleted }'), default: error },
        },
      },
      '/sessions/expire-idle': {
        post: {
          summary: 'Expire sessions idle longer than a duration (operator)',
          requestBody: jsonBody({
            type: 'object',
            required: ['idleLongerThan'],
            properties: { idleLongerThan: { type: ['string', 'integer'] } },
          }),
          responses: { 200: ok('{ expired }'), default: error },
        },
      },
      '/sessions/{id}': {
        get: {
          summary: 'Session detail: metadata and readable attributes',
          parameters: [idParameter],
          responses: { 200: ok('detail'), default: error },
        },
        delete: {
          summary: 'Delete one session (operator)',
          parameters: [idParameter],
          responses: { 200: ok('{ deleted: 1 }'), default: error },
        },
      },
      '/sessions/{id}/attributes/{key}': {
        delete: {
          summary: 'Remove one attribute (operator); key = <namespace>:<name>, ":user" when shared',
          parameters: [idParameter, { name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: ok('{ removed: 1 }'), default: error },
        },
      },
      '/principals/{principal}/revoke': {
        post: {
          summary: 'Sign a user out everywhere (scoped: out of its app)',
          parameters: [{ name: 'principal', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: ok('{ revoked }'), default: error },
        },
      },
      '/audit': {
        get: {
          summary: 'The audit log, newest first',
          parameters: [
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
          ],
          responses: { 200: ok('{ entries, next? }'), default: error },
        },
      },
    },
  };
}
