/**
 * The SSO demo's group of apps, one description used by every node of every app:
 *   portal and shop  on one host, www.<root>, under /portal and /shop
 *   admin            on a subdomain, admin.<root>
 *   partner          on another root domain, signing in through the portal's SSO hub
 *
 * The default names end in `.localhost`, which Chromium and Firefox resolve to the loopback
 * address without any /etc/hosts line, and Chromium keeps `Domain=sso.localhost` cookies for
 * its subdomains (checked by test/e2e/sso.test.ts). `partner.localhost` is a different
 * registrable domain from `sso.localhost`, so no cookie of one reaches the other, exactly as
 * between two real root domains.
 */
import { type AppGroup, defineAppGroup } from '../../../core/app-group.js';

export type SsoAppCode = 'portal' | 'shop' | 'admin' | 'partner';
export const SSO_APPS: readonly SsoAppCode[] = ['portal', 'shop', 'admin', 'partner'];

export interface SsoDemoHosts {
  /** The root domain of portal, shop and admin. @default 'sso.localhost' */
  root: string;
  /** The partner's host, on another root domain. @default 'partner.localhost' */
  partner: string;
  /** The front port every app is reached on. */
  port: number;
}

export const DEFAULT_ROOT = 'sso.localhost';
export const DEFAULT_PARTNER = 'partner.localhost';
/** The attributes every app sees; everything else is private to the app that set it. */
export const SHARED = ['user', 'loginAt'] as const;

export function ssoGroup(hosts: SsoDemoHosts): AppGroup {
  return defineAppGroup({
    domain: hosts.root,
    shared: SHARED,
    apps: [
      { code: 'portal', host: `www.${hosts.root}`, path: '/portal' },
      { code: 'shop', host: `www.${hosts.root}`, path: '/shop' },
      { code: 'admin', host: `admin.${hosts.root}` },
      { code: 'partner', host: hosts.partner, handoff: true },
    ],
  });
}

/** The URL of an app's home page. */
export function appUrl(hosts: SsoDemoHosts, code: SsoAppCode): string {
  const group = ssoGroup(hosts);
  const app = group.app(code);
  const base = `http://${app.host}:${hosts.port}`;
  return app.path === '/' ? `${base}/` : `${base}${app.path}/`;
}

/** The hub's authorize endpoint (on the portal) and the partner's callback, as registered. */
export function ssoEndpoints(hosts: SsoDemoHosts) {
  return {
    authorize: `http://www.${hosts.root}:${hosts.port}/portal/sso/authorize`,
    callback: `http://${hosts.partner}:${hosts.port}/sso/callback`,
  };
}

/** What each demo node is told, on top of the usual node configuration. */
export interface SsoNodeApp {
  code: SsoAppCode;
  hosts: SsoDemoHosts;
}
