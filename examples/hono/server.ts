/**
 * Hono on @hono/node-server with unisession: `c.get('session')`, a visit counter and a logout.
 * Run: node --import tsx examples/hono/server.ts, then open http://127.0.0.1:3000/
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { unisession } from '../../src/adapters/hono.js';

const app = new Hono();
app.use(unisession({ app: 'example', secret: process.env.SESSION_SECRET ?? 'dev-only-secret' }));

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
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => console.log(`http://127.0.0.1:${port}/`));
