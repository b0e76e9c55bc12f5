import type { SessionManager } from '../core/manager.js';
import type { Session } from '../core/session.js';
import { checkOptions, invalidOption, is } from '../core/validate.js';
import { redirect, refusal, type SsoRequest, type SsoResponse, single } from './http.js';
import { type MountedSsoHandler, mountSsoHandler } from './mount.js';
import { CLIENT_ID, checkRedirectUri, isRegisteredUri } from './redirect-uri.js';
import { DEFAULT_TICKET_TTL, issueTicket, ticketsOf } from './tickets.js';

/** One app on another root domain that may sign in through the hub. */
export interface SsoClientRegistration {
  /** The client id the app sends (`client_id`). `[A-Za-z0-9_-]{1,64}`. */
  id: string;
  /**
   * Its callback URLs. A request's `redirect_uri` must equal one of them exactly, character for
   * character: no prefix match, no case folding, no normalisation. Each must be an absolute
   * http(s) URL in the canonical form `new URL(uri).href` gives, without a fragment.
   */
  redirectUris: readonly string[];
}

export interface SsoHubOptions {
  /** The hub app's session manager; its store must have a `tickets` group and be shared with the clients. */
  manager: SessionManager;
  clients: readonly SsoClientRegistration[];
  /**
   * Where a browser without a session is sent to log in: a path of the hub (`/portal/login`).
   * It gets `?next=<the authorize URL>`; after the login, send the browser there (check it
   * with `localPath(next)`), and the hub issues the ticket then.
   */
  loginUrl: string;
  /** How long a ticket may be redeemed, in ms (1 to 300 000). @default 60_000 */
  ticketTtl?: number;
}

export interface SsoHub {
  readonly manager: SessionManager;
  /** `GET /sso/authorize?client_id&redirect_uri&state`: mount it at that path. */
  readonly authorize: MountedSsoHandler;
}

/**
 * The SSO hub: the login app's `/sso/authorize` endpoint, which hands a logged-in user to an
 * app on another root domain with a single-use ticket (the authorization-code pattern under
 * CAS's ticket rules). Not an identity provider: the apps share one session store, and the
 * ticket only tells the client which stored session is this browser's.
 *
 * @example
 * const hub = ssoHub({
 *   manager: portal.manager,
 *   clients: [{ id: 'partner', redirectUris: ['https://partner-site.com/sso/callback'] }],
 *   loginUrl: '/login',
 * });
 * app.get('/sso/authorize', hub.authorize.node);
 */
export function ssoHub(options: SsoHubOptions): SsoHub {
  const where = 'ssoHub';
  checkOptions(where, options, {
    manager: is.withMethods('a SessionManager', 'open'),
    clients: is.arrayOf(is.object({ id: is.any, redirectUris: is.any }), { nonEmpty: true }),
    loginUrl: is.matching(/^\/(?![/\\])/, 'a path of the hub, starting with one "/"'),
    ticketTtl: (value) =>
      Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= 300_000
        ? undefined
        : 'an integer from 1 to 300000 (ms)',
  });
  const { manager, loginUrl } = options;
  if (manager === undefined) throw invalidOption(where, 'manager', 'a SessionManager', manager);
  if (options.clients === undefined) throw invalidOption(where, 'clients', 'a non-empty array', undefined);
  if (loginUrl === undefined) throw invalidOption(where, 'loginUrl', 'a path of the hub', undefined);
  const tickets = ticketsOf(manager.store, where);
  const ttl = options.ticketTtl ?? DEFAULT_TICKET_TTL;
  const clients = new Map<string, readonly string[]>();
  for (const [index, client] of options.clients.entries()) {
    const at = `clients[${index}]`;
    checkOptions(`${where} ${at}`, client, { id: is.any, redirectUris: is.any });
    if (typeof client.id !== 'string' || !CLIENT_ID.test(client.id)) {
      throw invalidOption(where, `${at}.id`, `a client id matching ${CLIENT_ID}`, client.id);
    }
    if (clients.has(client.id))
      throw invalidOption(where, `${at}.id`, 'a client id not used twice', client.id);
    if (!Array.isArray(client.redirectUris) || client.redirectUris.length === 0) {
      throw invalidOption(where, `${at}.redirectUris`, 'a non-empty array of URLs', client.redirectUris);
    }
    for (const [n, uri] of client.redirectUris.entries())
      checkRedirectUri(where, `${at}.redirectUris[${n}]`, uri);
    clients.set(client.id, [...client.redirectUris]);
  }

  const authorize = async (request: SsoRequest, session: Session): Promise<SsoResponse> => {
    const { url } = request;
    const clientId = single(url, 'client_id');
    const registered = clientId === undefined ? undefined : clients.get(clientId);
    if (clientId === undefined || registered === undefined) {
      return refusal(400, 'unknown_client', 'This sign-in request names no known application.');
    }
    const redirectUri = single(url, 'redirect_uri');
    // Never redirect to a URI that is not registered, or the hub is an open redirect.
    if (redirectUri === undefined || !isRegisteredUri(registered, redirectUri)) {
      return refusal(
        400,
        'redirect_uri_not_registered',
        'This sign-in request asks to return to an address that is not registered.',
      );
    }
    const state = single(url, 'state');
    if (state === undefined || !/^[\x21-\x7e]{1,512}$/.test(state)) {
      return refusal(400, 'invalid_state', 'This sign-in request is missing its state.');
    }
    const meta = await session.metadata();
    if (session.isNew || !meta?.principal) {
      // Log in first; the login page sends the browser back here, and then the ticket is issued.
      const next = `${url.pathname}${url.search}`;
      return redirect(`${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${encodeURIComponent(next)}`);
    }
    const ticket = await issueTicket(
      tickets,
      { client: clientId, redirectUri, session: meta.id, principal: meta.principal },
      ttl,
    );
    const query = `ticket=${encodeURIComponent(ticket)}&state=${encodeURIComponent(state)}`;
    return redirect(`${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query}`);
  };

  return { manager, authorize: mountSsoHandler(manager, authorize) };
}
