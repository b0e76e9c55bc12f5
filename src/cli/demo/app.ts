/**
 * The demo's web app: an ordinary Express app using unisession's express-session drop-in.
 * Every node of the demo cluster runs this same code; nothing in it knows about the other
 * nodes, which is the point: the session lives in the shared store.
 */
import express, { type Request, type Response } from 'express';
import { session } from '../../adapters/express.js';
import type { SessionManager } from '../../core/manager.js';
import type { Store } from '../../core/store.js';
import { type PageModel, renderPage } from './page.js';
import type { ClusterView } from './protocol.js';

declare module '../../adapters/express.js' {
  interface SessionData {
    /** Page loads in this session, across every node. */
    visits: number;
    /** Who logged in. */
    user: string;
  }
}

export interface DemoAppOptions {
  /** This node: its slot name and deploy version, and its port once it listens. */
  node: { name: string; version: number; port(): number | undefined };
  store: Store;
  /** The load balancer's address: the only peer whose X-Forwarded-* headers are believed. */
  trustedProxy: string;
  /** Signs the session cookie; the same on every node, or a node would not accept another's cookies. */
  secret: string;
  /** The supervisor's latest view of the cluster, for the "nodes" panel. */
  cluster(): ClusterView;
}

const USER_NAME = /^[\p{L}\p{N} ._@-]{1,40}$/u;

export function createDemoApp(options: DemoAppOptions): { app: express.Express; manager: SessionManager } {
  const sessions = session({
    app: 'demo',
    store: options.store,
    secret: options.secret,
    // Behind the balancer: believe X-Forwarded-Proto/-For from it and from nobody else, so
    // the cookie gets Secure exactly when the client's connection to the balancer is HTTPS.
    trustProxy: [options.trustedProxy],
    // Record the access at most every 10 s (the default is a minute) so the page shows it move.
    touchInterval: 10_000,
    // The balancer's own endpoints and the favicon never touch the store.
    ignore: /^\/(favicon\.ico|healthz)$/,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', [options.trustedProxy]);
  app.use(sessions);
  app.use(express.urlencoded({ extended: false, limit: '4kb' }));

  const render = async (req: Request, res: Response, extra: Partial<PageModel> = {}) => {
    const meta = await req.sessionHandle.metadata();
    // "Your sessions" only for a signed-in user; a store without a principal index shows none.
    const devices = req.session.user ? await req.sessionHandle.devices().catch(() => []) : [];
    const model: PageModel = {
      node: {
        name: options.node.name,
        version: options.node.version,
        pid: process.pid,
        port: options.node.port(),
      },
      session: {
        id: req.sessionID,
        isNew: req.sessionHandle.isNew,
        createdAt: meta?.createdAt ?? Date.now(),
        lastAccessedAt: meta?.lastAccessedAt ?? Date.now(),
        visits: req.session.visits ?? 0,
        user: req.session.user,
      },
      request: { protocol: req.protocol, clientAddress: req.ip ?? '', secureCookie: req.secure },
      cluster: options.cluster(),
      devices,
      query: new URLSearchParams(req.url.split('?')[1] ?? ''),
      ...extra,
    };
    res.type('html').send(renderPage(model));
  };

  // A page load: count it in the session, then show where we are.
  app.get('/', async (req, res, next) => {
    try {
      req.session.visits = (req.session.visits ?? 0) + 1;
      await render(req, res);
    } catch (error) {
      next(error);
    }
  });

  // The same visit as JSON, for scripts and load generators.
  app.get('/api/visit', (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1;
    res.json({
      node: options.node.name,
      version: options.node.version,
      pid: process.pid,
      sessionId: req.sessionID,
      visits: req.session.visits,
      user: req.session.user ?? null,
    });
  });

  app.post('/login', async (req, res, next) => {
    try {
      const name = String((req.body as Record<string, unknown> | undefined)?.name ?? '').trim();
      if (!USER_NAME.test(name)) {
        res.status(400);
        await render(req, res, { error: 'A user name is 1 to 40 letters, digits, spaces or . _ @ -' });
        return;
      }
      // A new session id at login (against session fixation); the visit count is kept.
      await req.sessionHandle.regenerate();
      req.session.user = name;
      // Index the session under the user, so "log out user X everywhere" can find it.
      await req.sessionHandle.setPrincipal(name);
      res.redirect(303, '/');
    } catch (error) {
      next(error);
    }
  });

  // "Sign out other devices": every other session of this user ends, on every node.
  app.post('/sessions/revoke-others', async (req, res, next) => {
    try {
      const count = req.session.user ? await req.sessionHandle.revokeOtherSessions() : 0;
      res.redirect(303, `/?signedout=${count}`);
    } catch (error) {
      next(error);
    }
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.redirect(303, '/')));
  });

  app.get('/healthz', (_req, res) => {
    res.json({ node: options.node.name, pid: process.pid });
  });

  return { app, manager: sessions.manager };
}
