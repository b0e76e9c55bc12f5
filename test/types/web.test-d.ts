/** Type tests for `unisession/web` and `unisession/node` (see express.test-d.ts): checked by tsc, never run. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expectTypeOf } from 'expect-type';
import type { Session, SessionManager } from 'unisession';
import { type NodeSessions, nodeSessions } from 'unisession/node';
import { type WithSessionOptions, withSession } from 'unisession/web';

export function handlerTypes(manager: SessionManager): void {
  const GET = withSession(manager, async (request, session) => {
    expectTypeOf(request).toEqualTypeOf<Request>();
    expectTypeOf(session).toEqualTypeOf<Session>();
    return Response.json({ visits: await session.get<number>('visits') });
  });
  expectTypeOf(GET).parameters.toEqualTypeOf<[Request]>();
  expectTypeOf(GET).returns.toEqualTypeOf<Promise<Response>>();
  expectTypeOf(GET.manager).toEqualTypeOf<SessionManager>();

  // Extra arguments (Next.js's `{ params }`) are passed through, typed.
  const withParams = withSession(
    { app: 'shop' },
    async (_request, _session, context: { params: Promise<{ id: string }> }) =>
      Response.json(await context.params),
  );
  expectTypeOf(withParams).parameters.toEqualTypeOf<[Request, { params: Promise<{ id: string }> }]>();

  // @ts-expect-error the handler must return a Response
  withSession(manager, async () => 'text');
  // @ts-expect-error adapter options are checked
  withSession(manager, async () => new Response(), { remoteAddress: '127.0.0.1' });
  expectTypeOf<WithSessionOptions['remoteAddress']>().toEqualTypeOf<
    ((request: Request) => string | undefined) | undefined
  >();
}

export function nodeTypes(manager: SessionManager, req: IncomingMessage, res: ServerResponse): void {
  const sessions = nodeSessions(manager);
  expectTypeOf(sessions).toEqualTypeOf<NodeSessions>();
  expectTypeOf(sessions.attach(req, res)).toEqualTypeOf<Session>();
  nodeSessions({
    app: 'shop',
    onError: (_error, _req, response) => {
      response.end();
    },
  });
  // @ts-expect-error a manager comes with adapter options only, not session options
  nodeSessions(manager, { app: 'shop' });
}
