/**
 * Fastify with unisession's plugin: @fastify/session style `request.session`, a visit counter
 * and a logout.
 * Run: node --import tsx examples/fastify/server.ts, then open http://127.0.0.1:3000/
 */
import Fastify from 'fastify';
import { unisession } from '../../src/adapters/fastify.js';
import { gracefulShutdown } from '../../src/adapters/shutdown.js';

declare module '../../src/adapters/fastify.js' {
  interface SessionData {
    visits: number;
  }
}

const app = Fastify();
await app.register(unisession, { app: 'example', secret: process.env.SESSION_SECRET ?? 'dev-only-secret' });

app.get('/', async (request) => {
  const visits = (request.session.get('visits') ?? 0) + 1;
  request.session.set('visits', visits);
  return `fastify: visit ${visits} (session ${request.session.sessionId})\n`;
});

app.get('/logout', async (request, reply) => {
  await request.session.destroy();
  return reply.redirect('/');
});

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: '127.0.0.1' });
console.log(`http://127.0.0.1:${port}/`);
// On SIGTERM or Ctrl-C: app.close() finishes the requests under way; the plugin closes its store.
gracefulShutdown(app);
