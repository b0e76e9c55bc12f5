import { isUnder } from './app-group.js';
import type { SessionContext } from './context.js';
import { clearedCookie, type PresentedIds, readSessionIds, sessionCookie } from './cookie.js';
import type { ResolvedCookieOptions } from './options.js';
import { isSecureRequest, type RequestInfo, requestHost } from './request.js';
import type { VerifiedId } from './signing.js';

/** What the response must tell the client about: the session as it stands after the commit. */
export interface SessionView {
  id: string;
  /** The store holds it: the client gets its cookie. Otherwise nothing, or a clearing cookie. */
  persisted: boolean;
  maxInactive: number;
}

/**
 * One request's cookie and header transport: the ids the client presents (cookie or id
 * header, signatures checked), which of them loaded, and the headers the response must carry.
 *
 * It remembers every header it has handed out and never hands the same one out twice, so an
 * adapter can ask after each commit and add what it gets (Koa's `ctx.session.save()` and then
 * the commit after the middleware chain) without a dedupe of its own.
 */
export class Transport {
  /** The ids the request presents, best first. */
  readonly presented: PresentedIds;
  private readonly secure: boolean;
  /** The cookie as this request's response sets it: host-only when the host is not under `cookie.domain`. */
  private readonly cookie: ResolvedCookieOptions;
  /** The presented id that loaded: the session the client's cookie names. */
  private clientId: string | undefined;
  /** That id's signature came from an older secret: re-issue the cookie with the first one. */
  private resign = false;
  /**
   * This request ended the session the client holds (invalidate, regenerate without keeping):
   * only then does the response clear the cookie. A request that merely presented an unknown or
   * stale id must not, or it would wipe the cookie a parallel login has just set.
   */
  private ended = false;
  /** A write recorded an access: a persistent cookie's expiry slid with it. */
  private touched = false;
  /** Each header handed out, as `name\nvalue`. */
  private readonly sent = new Set<string>();

  constructor(
    private readonly context: Pick<SessionContext, 'options' | 'signer' | 'trusted'> &
      Partial<Pick<SessionContext, 'warnOnce'>>,
    request: RequestInfo,
    ignored: boolean,
  ) {
    const { options, signer } = context;
    this.presented = ignored
      ? { candidates: [], transport: 'cookie' }
      : readSessionIds(request, options.cookie, options.header, signer, options.generateId !== undefined);
    this.secure =
      options.cookie.secure === 'auto' ? isSecureRequest(request, context.trusted) : options.cookie.secure;
    this.cookie = ignored ? options.cookie : this.cookieFor(request);
  }

  /**
   * A browser drops a Set-Cookie whose Domain does not cover the request's host, so the user
   * would never keep a session. Such a request (a direct node address, a host missing from the
   * group) gets a host-only cookie instead, and the manager warns once, not on every request.
   */
  private cookieFor(request: RequestInfo): ResolvedCookieOptions {
    const { cookie } = this.context.options;
    if (cookie.domain === undefined) return cookie;
    const host = requestHost(request, this.context.trusted);
    const domain = cookie.domain.toLowerCase().replace(/^\./, '');
    if (host === undefined || isUnder(host, domain)) return cookie;
    this.context.warnOnce?.(
      'UNISESSION_COOKIE_DOMAIN_MISMATCH',
      `a request for host "${host.slice(0, 100)}", which is not under cookie.domain "${domain}", got a ` +
        'host-only cookie (the browser would have refused one with that Domain); serve the app on ' +
        'a host under the domain, or fix cookie.domain. Reported once.',
    );
    return { ...cookie, domain: undefined };
  }

  /** The presented id that loaded. */
  loadedFrom(candidate: VerifiedId): void {
    this.clientId = candidate.id;
    this.resign = candidate.resign;
  }

  /** This request ended the client's session: the response clears its cookie (unless a new one replaces it). */
  endedSession(): void {
    this.ended = true;
  }

  /** A write created the session or recorded an access. */
  recordedAccess(): void {
    this.touched = true;
  }

  /** The response headers (Set-Cookie, and the id header when enabled) not handed out yet. */
  headers(session: SessionView): Array<[string, string]> {
    return this.wanted(session).filter(([name, value]) => {
      const key = `${name}\n${value}`;
      if (this.sent.has(key)) return false;
      this.sent.add(key);
      return true;
    });
  }

  /** Every header the response needs for `session`, whether handed out already or not. */
  private wanted(session: SessionView): Array<[string, string]> {
    const { options, signer } = this.context;
    const headers: Array<[string, string]> = [];
    if (session.persisted) {
      const persistent = options.cookie.persistent || session.maxInactive !== options.maxInactive;
      const maxAge = persistent && session.maxInactive > 0 ? session.maxInactive : undefined;
      // A new id, an id signed by an old secret (rotation), or a persistent cookie's expiry
      // that slid with this touch: the browser needs the cookie again.
      const stale = this.clientId !== session.id || (this.resign && signer.enabled);
      if (stale || (maxAge !== undefined && this.touched)) {
        headers.push([
          'set-cookie',
          sessionCookie(signer.sign(session.id), this.cookie, this.secure, maxAge),
        ]);
      }
      // Only to a client that uses the header: echoed to a cookie client, page script could
      // read the id that HttpOnly hides from it.
      if (options.header && this.presented.transport === 'header') {
        headers.push([options.header, signer.sign(session.id)]);
      }
    } else if (this.ended) {
      headers.push(['set-cookie', clearedCookie(this.cookie, this.secure)]);
    }
    return headers;
  }
}
