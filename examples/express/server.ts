/**
 * Express with unisession's express-session drop-in: a visit counter and a logout.
 * Run: node --import tsx examples/express/server.ts, then open http://127.0.0.1:3000/
 */
import express from 'express';
import { session } from '../../src/adapters/express.js';
import { gracefulShutdown } from '../../src/adapters/shutdown.js';

declare module '../../src/adapters/express.js' {
  interface SessionData {
    visits: number;
  }
}

const app = express();
const sessions = session({ app: 'example', secret: process.env.SESSION_SECRET ?? 'dev-only-secret' });
app.use(sessions);

app.get('/', (req, res) => {
  req.session.visits = (req.session.visits ?? 0) + 1;
  res.send(`express: visit ${req.session.visits} (session ${req.sessionID})\n`);
});

app.get('/logout', (req, res, next) => {
  req.session.destroy((error) => (error ? next(error) : res.redirect('/')));
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/`));
// On SIGTERM or Ctrl-C: finish the requests under way, close the store, exit.
gracefulShutdown(server, sessions.manager);
