import { createServer } from 'node:http';
import express from 'express';
import { session } from '../../src/adapters/express.js';
import type { Store } from '../../src/core/store.js';
import { close, errorsAsJson, listen } from './server.js';

/**
 * The app the store failure tests put under load: Express, express-session style, one
 * counter per session at /count, and a user's error handler that answers with the
 * UnisessionError's status and code.
 */
export async function startCounterApp(store: Store) {
  const middleware = session({ store, app: 't' });
  const app = express();
  app.use(middleware);
  app.get('/count', (req, res) => {
    const bag = req.session as unknown as { count?: number };
    bag.count = (bag.count ?? 0) + 1;
    res.json({ count: bag.count });
  });
  app.use(errorsAsJson);
  const server = createServer(app);
  const base = await listen(server);
  return {
    base,
    manager: middleware.manager,
    async stop() {
      await close(server);
      await middleware.manager.close();
    },
  };
}
