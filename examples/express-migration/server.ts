/**
 * Step 1 of docs/migrating-from-express-session.md: the express-session app's middleware
 * replaced by unisession's, with the same cookie name and secret, and the old connect-redis
 * store as `migrateFrom`. Users logged in under express-session stay logged in.
 * Run: REDIS_URL=redis://127.0.0.1:6379 node --import tsx examples/express-migration/server.ts
 */
import RedisStore from 'connect-redis';
import express from 'express';
import { Redis } from 'ioredis';
import { session } from '../../src/adapters/express.js';
import { redisStore } from '../../src/stores/redis.js';

declare module '../../src/adapters/express.js' {
  interface SessionData {
    user: string;
  }
}

const app = express();
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

app.use(
  session({
    name: 'connect.sid', // express-session's default: keep the name your users' cookies have
    secret: process.env.SESSION_SECRET ?? 'keyboard cat', // the same secret (or list of secrets)
    cookie: { maxAge: 86_400_000 },
    store: redisStore({ url: redisUrl }),
    // The store express-session used: read once per session, then emptied of it.
    migrateFrom: new RedisStore({ client: new Redis(redisUrl) }),
  }),
);

app.get('/', (req, res) => {
  res.send(`hello ${req.session.user ?? 'stranger'}\n`);
});

const port = Number(process.env.PORT ?? 3000);
app.listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/`));
