/**
 * `unisession/sso`: single sign-on across root domains for apps that share one session store.
 * The hub (`ssoHub`) is the login app's `/sso/authorize`; each app on another root domain is a
 * client (`ssoClient`). See docs/sso.md.
 */

export { type SsoClient, type SsoClientOptions, ssoClient } from './client.js';
export type { SsoRequest, SsoResponse } from './http.js';
export { SSO_HEADERS } from './http.js';
export { type SsoClientRegistration, type SsoHub, type SsoHubOptions, ssoHub } from './hub.js';
export type { MountedSsoHandler, SsoHandler } from './mount.js';
export { localPath } from './state.js';
export { DEFAULT_TICKET_TTL, type TicketGrant } from './tickets.js';
