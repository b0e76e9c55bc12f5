/**
 * Koa with unisession: koa-session style `ctx.session`, a visit counter and a logout.
 * Run: node --import tsx examples/koa/server.ts, then open http://127.0.0.1:3000/
 */
import Koa from 'koa';
import { unisession } from '../../src/adapters/koa.js';
import { gracefulShutdown } from '../../src/adapters/shutdown.js';

declare module '../../src/adapters/koa.js' {
  interface SessionData {
    visits: number;
  }
}

const app = new Koa();
const sessions = unisession({ app: 'example', secret: process.env.SESSION_SECRET ?? 'dev-only-secret' });
app.use(sessions);

app.use((ctx) => {
  if (ctx.path === '/logout') {
    ctx.session = null;
    ctx.redirect('/');
    return;
  }
  const session = ctx.session!;
  session.visits = (session.visits ?? 0) + 1;
  ctx.body = `koa: visit ${session.visits} (session ${session.id})\n`;
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/`));
// On SIGTERM or Ctrl-C: finish the requests under way, close the store, exit.
gracefulShutdown(server, sessions.manager);
