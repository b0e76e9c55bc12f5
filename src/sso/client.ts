import { serialize } from 'cookie';
import type { SessionManager } from '../core/manager.js';
import { internalsOf, type Session } from '../core/session.js';
import type { Secret } from '../core/signing.js';
import { checkOptions, invalidOption, is } from '../core/validate.js';
import { redirect, refusal, type SsoRequest, type SsoResponse, single } from './http.js';
import { type MountedSsoHandler, mountSsoHandler } from './mount.js';
import { CLIENT_ID, checkRedirectUri } from './redirect-uri.js';
import { encodePending, localPath, newState, readPending, sameState } from './state.js';
import { takeTicket, ticketsOf } from './tickets.js';

export interface SsoClientOptions {
  /** This app's session manager: same group and same store as the hub's (with a `tickets` group). */
  manager: SessionManager;
  /** The id the hub knows this app by. */
  clientId: string;
  /** The hub's authorize endpoint, absolute: `https://portal.example.com/sso/authorize`. */
  hubUrl: string;
  /** This app's callback, absolute, exactly as registered at the hub. Mount `callback` at its path. */
  redirectUri: string;
  /**
   * Signs the state cookie (HMAC-SHA256); every node of the app needs the same.
   * @default the manager's `secret` (one of the two is required)
   */
  secret?: Secret | readonly Secret[];
  /** How long the browser may take to come back from the hub (its login included), in ms. @default 600_000 */
  stateTtl?: number;
  /** The state cookie's name. @default 'unisession_sso' */
  cookieName?: string;
}

export interface SsoClient {
  readonly manager: SessionManager;
  /**
   * `GET <anywhere>?return_to=/path`: sends the browser to the hub with a fresh `state`, kept
   * in a signed cookie for the callback. Link "Sign in" here, or redirect here when a page
   * needs a session.
   */
  readonly signIn: MountedSsoHandler;
  /** `GET <path of redirectUri>?ticket&state`: redeems the ticket and sets this app's own cookie. */
  readonly callback: MountedSsoHandler;
}

const SECRET = is.anyOf(is.nonEmptyString, is.nonEmptyBuffer);

/**
 * The client side of the SSO hand-off, for an app on another root domain that shares the
 * hub's store. With no session it sends the browser to the hub; the hub sends it back with a
 * ticket; the callback takes the ticket from the shared store (once, atomically), checks what
 * it is bound to and the state, and gives this browser a cookie of this app's own domain for
 * the very session the hub's cookie names. Logging out anywhere then logs out here too: it is
 * the same stored session.
 *
 * @example
 * const sso = ssoClient({
 *   manager: partner.manager,
 *   clientId: 'partner',
 *   hubUrl: 'https://portal.example.com/sso/authorize',
 *   redirectUri: 'https://partner-site.com/sso/callback',
 * });
 * app.get('/sso/login', sso.signIn.node);
 * app.get('/sso/callback', sso.callback.node);
 */
export function ssoClient(options: SsoClientOptions): SsoClient {
  const where = 'ssoClient';
  checkOptions(where, options, {
    manager: is.withMethods('a SessionManager', 'open'),
    clientId: is.matching(CLIENT_ID, `a client id matching ${CLIENT_ID}`),
    hubUrl: is.nonEmptyString,
    redirectUri: is.nonEmptyString,
    secret: is.anyOf(SECRET, is.arrayOf(SECRET, { nonEmpty: true })),
    stateTtl: is.positiveInteger,
    cookieName: is.matching(/^[A-Za-z0-9_-]{1,64}$/, 'a cookie name of letters, digits, "_" and "-"'),
  });
  const { manager, clientId } = options;
  if (manager === undefined) throw invalidOption(where, 'manager', 'a SessionManager', manager);
  if (clientId === undefined) throw invalidOption(where, 'clientId', 'a client id', clientId);
  const hubUrl = checkRedirectUri(where, 'hubUrl', options.hubUrl);
  const redirectUri = checkRedirectUri(where, 'redirectUri', options.redirectUri);
  const given = options.secret ?? manager.options.secret;
  if (given === undefined) {
    throw invalidOption(
      where,
      'secret',
      "a secret to sign the state cookie (or the manager's own `secret`)",
      given,
    );
  }
  const secrets = (Array.isArray(given) ? given : [given]) as readonly Secret[];
  const tickets = ticketsOf(manager.store, where);
  const stateTtl = options.stateTtl ?? 600_000;
  const cookieName = options.cookieName ?? 'unisession_sso';
  const callbackPath = new URL(redirectUri).pathname;

  const stateCookie = (value: string, secure: boolean, maxAgeSeconds: number) =>
    serialize(cookieName, value, {
      path: callbackPath,
      httpOnly: true,
      // Lax: the hub's redirect back is a top-level GET navigation from another site.
      sameSite: 'lax',
      secure,
      maxAge: maxAgeSeconds,
      encode: (text) => text,
    });
  const clearState = (request: SsoRequest): [string, string] => [
    'set-cookie',
    stateCookie('', request.secure, 0),
  ];

  const signIn = async (request: SsoRequest): Promise<SsoResponse> => {
    const returnTo = localPath(single(request.url, 'return_to'));
    const state = newState();
    const cookie = encodePending({ state, returnTo, expiresAt: Date.now() + stateTtl }, secrets[0]!);
    const query = new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, state });
    return redirect(`${hubUrl}${hubUrl.includes('?') ? '&' : '?'}${query}`, [
      ['set-cookie', stateCookie(cookie, request.secure, Math.ceil(stateTtl / 1000))],
    ]);
  };

  const callback = async (request: SsoRequest, session: Session): Promise<SsoResponse> => {
    // Spent first, before anything is checked: a ticket that fails validation is gone too.
    const grant = await takeTicket(tickets, single(request.url, 'ticket'));
    const pending = readPending(request, cookieName, secrets, Date.now());
    const clear = clearState(request);
    if (!pending || !sameState(pending.state, single(request.url, 'state'))) {
      return refusal(
        400,
        'state_mismatch',
        'This sign-in was not started in this browser, or took too long. Please try again.',
        [clear],
      );
    }
    if (!grant) {
      return refusal(
        400,
        'ticket_invalid',
        'This sign-in link is invalid, expired or already used. Please try again.',
        [clear],
      );
    }
    if (grant.client !== clientId) {
      return refusal(400, 'ticket_wrong_client', 'This sign-in link was made for another application.', [
        clear,
      ]);
    }
    if (grant.redirectUri !== redirectUri) {
      return refusal(
        400,
        'ticket_wrong_callback',
        'This sign-in link was made for another address of this application.',
        [clear],
      );
    }
    if (!(await internalsOf(session).adopt(grant.session))) {
      return refusal(400, 'session_ended', 'You were signed out meanwhile. Please sign in again.', [clear]);
    }
    return redirect(pending.returnTo, [clear]);
  };

  return {
    manager,
    signIn: mountSsoHandler(manager, signIn),
    callback: mountSsoHandler(manager, callback),
  };
}
