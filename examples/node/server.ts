/**
 * node:http with unisession: a visit counter and a logout.
 * Run: node --import tsx examples/node/server.ts, then open http://127.0.0.1:3000/
 * Sessions live in ./unisession.sqlite, so every process started this way shares them.
 */
import { createServer } from 'node:http';
import { nodeSessions } from '../../src/adapters/node.js';
import { gracefulShutdown } from '../../src/adapters/shutdown.js';

const sessions = nodeSessions({ app: 'example', secret: process.env.SESSION_SECRET ?? 'dev-only-secret' });

const server = createServer(async (req, res) => {
  const session = sessions.attach(req, res);
  if (req.url === '/logout') {
    await session.invalidate();
    res.writeHead(302, { location: '/' }).end();
    return;
  }
  const visits = ((await session.get<number>('visits')) ?? 0) + 1;
  await session.set('visits', visits);
  res.end(`node:http: visit ${visits} (session ${session.id})\n`);
});

const port = Number(process.env.PORT ?? 3000);
server.listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/`));
// On SIGTERM or Ctrl-C: finish the requests under way, close the store, exit.
gracefulShutdown(server, sessions.manager);
