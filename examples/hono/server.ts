/**
 * Hono on @hono/node-server with unisession: `c.get('session')`, a visit counter and a logout.
 * Run: node --import tsx examples/hono/server.ts, then open http://127.0.0.1:3000/
 */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { unisession } from '../../src/adapters/hono.js';
import { gracefulShutdown } from '../../src/adapters/shutdown.js';

const app = new Hono();
const sessions = unisession({ app: 'example', secret: process.env.SESSION_SECRET ?? 'dev-only-secret' });
app.use(sessions);

app.get('/', async (c) => {
  const session = c.get('session');
  const visits = ((await session.get<number>('visits')) ?? 0) + 1;
  await session.set('visits', visits);
  return c.text(`hono: visit ${visits} (session ${session.id})\n`);
});

app.get('/logout', async (c) => {
  await c.get('session').invalidate();
  return c.redirect('/');
});

const port = Number(process.env.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () =>
  console.log(`http://127.0.0.1:${port}/`),
);
// On SIGTERM or Ctrl-C: finish the requests under way, close the store, exit.
gracefulShutdown(server as Server, sessions.manager);
