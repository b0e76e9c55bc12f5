/**
 * A Web-standard (fetch-style) handler with unisession's `withSession`, as in a Next.js route
 * handler (`export const GET = withSession(...)`), served here by @hono/node-server's plain
 * fetch adapter: a visit counter and a logout.
 * Run: node --import tsx examples/web/server.ts, then open http://127.0.0.1:3000/
 */
import { serve } from '@hono/node-server';
import { withSession } from '../../src/adapters/web.js';

const handler = withSession(
  { app: 'example', secret: process.env.SESSION_SECRET ?? 'dev-only-secret' },
  async (request, session) => {
    if (new URL(request.url).pathname === '/logout') {
      await session.invalidate();
      return Response.redirect(new URL('/', request.url), 302);
    }
    const visits = ((await session.get<number>('visits')) ?? 0) + 1;
    await session.set('visits', visits);
    return new Response(`web: visit ${visits} (session ${session.id})\n`);
  },
);

const port = Number(process.env.PORT ?? 3000);
serve({ fetch: handler, port, hostname: '127.0.0.1' }, () => console.log(`http://127.0.0.1:${port}/`));
