/**
 * One app of the SSO demo, as an ordinary Express app on unisession's Express adapter. All
 * four apps run this code with a different `code`; every node of an app runs the same. They
 * know of each other only through the group description (config.ts) and the shared store.
 */
import express, { type Request, type Response } from 'express';
import { session } from '../../../adapters/express.js';
import type { SessionManager } from '../../../core/manager.js';
import type { Store } from '../../../core/store.js';
import { ssoClient } from '../../../sso/client.js';
import { ssoHub } from '../../../sso/hub.js';
import { localPath } from '../../../sso/state.js';
import { escapeHtml } from '../page.js';
import {
  appUrl,
  SHARED,
  SSO_APPS,
  type SsoAppCode,
  type SsoDemoHosts,
  ssoEndpoints,
  ssoGroup,
} from './config.js';
import { renderSsoPage } from './page.js';

export interface SsoAppOptions {
  code: SsoAppCode;
  hosts: SsoDemoHosts;
  store: Store;
  secret: string;
  node: { name: string };
  /** The balancer's address: the only peer whose X-Forwarded-* headers are believed. */
  trustedProxy: string;
}

const TITLES: Record<SsoAppCode, string> = {
  portal: 'Portal: the login app and SSO hub',
  shop: 'Shop: same host, its own path',
  admin: 'Admin: a subdomain',
  partner: 'Partner: another root domain',
};
const USER_NAME = /^[\p{L}\p{N} ._@-]{1,40}$/u;
const isShared = (name: string) => (SHARED as readonly string[]).includes(name);

export function createSsoApp(options: SsoAppOptions): { app: express.Express; manager: SessionManager } {
  const { code, hosts } = options;
  const group = ssoGroup(hosts);
  const base = group.app(code).path === '/' ? '' : group.app(code).path;
  const sessions = session(
    group.options(code, {
      store: options.store,
      secret: options.secret,
      trustProxy: [options.trustedProxy],
      touchInterval: 10_000,
      ignore: /^\/favicon\.ico$/,
    }),
  );
  const manager = sessions.manager;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', [options.trustedProxy]);
  app.use(sessions);
  app.use(express.urlencoded({ extended: false, limit: '4kb' }));

  const endpoints = ssoEndpoints(hosts);
  const portalLogin = `http://www.${hosts.root}:${hosts.port}/portal/login`;
  const loginForm = (next: string) =>
    `<form method="post" action="/portal/login"><input type="hidden" name="next" value="${escapeHtml(next)}">` +
    '<input name="name" placeholder="your name" data-testid="name" required> <button data-testid="login">Log in</button></form>';

  const render = async (req: Request, res: Response, extra: { note?: string; login?: string } = {}) => {
    const handle = req.sessionHandle;
    const all = await handle.all();
    const user = typeof all.user === 'string' ? all.user : undefined;
    const shared = Object.fromEntries(Object.entries(all).filter(([name]) => isShared(name)));
    const own = Object.fromEntries(Object.entries(all).filter(([name]) => !isShared(name)));
    const actions: string[] = [];
    if (user) {
      actions.push(
        `<form method="post" action="${base}/logout"><button data-testid="logout">Log out everywhere</button></form>`,
      );
      if (code === 'shop') {
        actions.push(
          `<form method="post" action="/shop/cart"><button data-testid="add-to-cart">Add a book to the cart (private)</button></form>`,
        );
      }
    } else if (code === 'portal') {
      actions.push(loginForm(extra.login ?? '/portal/'));
    } else if (code === 'partner') {
      actions.push(
        '<a href="/sso/login?return_to=/" data-testid="sso-login">Sign in with the portal (no password here)</a>',
      );
    } else {
      const next = code === 'shop' ? '/shop/' : '/portal/';
      actions.push(
        `<a href="${escapeHtml(`${portalLogin}?next=${encodeURIComponent(next)}`)}" data-testid="portal-login">Log in at the portal</a>`,
      );
    }
    res.set('cache-control', 'no-store');
    res.type('html').send(
      renderSsoPage({
        app: code,
        title: TITLES[code],
        base,
        node: { name: options.node.name, pid: process.pid },
        user,
        sessionId: handle.isNew ? undefined : handle.id,
        shared,
        private: own,
        links: SSO_APPS.map((other) => ({ code: other, url: appUrl(hosts, other) })),
        actions: actions.join(''),
        ...(extra.note ? { note: extra.note } : {}),
      }),
    );
  };
  const wrap =
    (handler: (req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response, next: (error?: unknown) => void) => {
      handler(req, res).catch(next);
    };

  app.get(
    `${base}/`,
    wrap(async (req, res) => {
      // A private counter in every app: each app's own, invisible to the others.
      const views = ((await req.sessionHandle.get<number>('views')) ?? 0) + 1;
      if (!req.sessionHandle.isNew) await req.sessionHandle.set('views', views);
      await render(req, res);
    }),
  );
  if (base !== '') app.get(base, (_req, res) => res.redirect(301, `${base}/`));

  app.post(
    `${base}/logout`,
    wrap(async (req, res) => {
      // One store session for every app: this ends it for all of them, on every node.
      await req.sessionHandle.invalidate();
      res.redirect(303, `${base}/`);
    }),
  );

  if (code === 'portal') {
    const hub = ssoHub({
      manager,
      clients: [{ id: 'partner', redirectUris: [endpoints.callback] }],
      loginUrl: '/portal/login',
    });
    app.get('/portal/sso/authorize', hub.authorize.node);
    app.get(
      '/portal/login',
      wrap(async (req, res) => {
        const next = localPath(req.query.next, '/portal/');
        await render(req, res, {
          login: next,
          note: next.startsWith('/portal/sso/') ? 'Log in to continue to the partner site.' : undefined,
        });
      }),
    );
    app.post(
      '/portal/login',
      wrap(async (req, res) => {
        const body = (req.body ?? {}) as Record<string, unknown>;
        const name = String(body.name ?? '').trim();
        if (!USER_NAME.test(name)) {
          res.status(400);
          await render(req, res, { note: 'A user name is 1 to 40 letters, digits, spaces or . _ @ -' });
          return;
        }
        // A new id at login (against fixation); every app keeps seeing the session: one cookie.
        await req.sessionHandle.regenerate();
        await req.sessionHandle.set('user', name);
        await req.sessionHandle.set('loginAt', new Date().toISOString());
        await req.sessionHandle.setPrincipal(name);
        res.redirect(303, localPath(body.next, '/portal/'));
      }),
    );
  }
  if (code === 'shop') {
    app.post(
      '/shop/cart',
      wrap(async (req, res) => {
        const cart = (await req.sessionHandle.get<string[]>('cart')) ?? [];
        await req.sessionHandle.set('cart', [...cart, `book-${cart.length + 1}`]);
        res.redirect(303, '/shop/');
      }),
    );
  }
  if (code === 'partner') {
    const client = ssoClient({
      manager,
      clientId: 'partner',
      hubUrl: endpoints.authorize,
      redirectUri: endpoints.callback,
    });
    app.get('/sso/login', client.signIn.node);
    app.get('/sso/callback', client.callback.node);
  }
  app.get('/healthz', (_req, res) => {
    res.json({ app: code, node: options.node.name, pid: process.pid });
  });
  return { app, manager };
}
