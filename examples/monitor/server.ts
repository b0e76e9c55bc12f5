/**
 * An Express app with unisession, and the monitoring centre mounted at /admin/sessions.
 * Run: MONITOR_SECRET=change-me-please node --import tsx examples/monitor/server.ts
 * then open http://127.0.0.1:3000/ (a session), and http://127.0.0.1:3000/admin/sessions/
 * (sign in with the name "ops" and the secret).
 */
import express from 'express';
import { session } from '../../src/adapters/express.js';
import { createMonitor, hashSecret, toNodeHandler } from '../../src/monitor/index.js';

const secret = process.env.MONITOR_SECRET;
if (!secret) throw new Error('set MONITOR_SECRET (8 characters or more)');

const sessions = session({ app: 'shop', secret: process.env.SESSION_SECRET ?? 'dev-only-secret' });
const monitor = createMonitor({
  managers: sessions.manager,
  basePath: '/admin/sessions',
  // In production, keep only the hash in your config: `npx unisession monitor hash < secret.txt`.
  credentials: [{ name: 'ops', secretHash: await hashSecret(secret), scope: 'all', role: 'operator' }],
  displayAttributes: ['shop:visits'],
});

const app = express();
app.use('/admin/sessions', toNodeHandler(monitor));
app.use(sessions);
app.get('/', (req, res) => {
  req.session.visits = (req.session.visits ?? 0) + 1;
  res.send(`visit ${req.session.visits}`);
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () =>
  console.log(`http://127.0.0.1:${port}/ and http://127.0.0.1:${port}/admin/sessions/`),
);
