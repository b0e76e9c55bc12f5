import type { SessionContext } from './context.js';
import { clearedCookie, type PresentedIds, readSessionIds, sessionCookie } from './cookie.js';
import { isSecureRequest, type RequestInfo } from './request.js';
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
    private readonly context: Pick<SessionContext, 'options' | 'signer' | 'trusted'>,
    request: RequestInfo,
    ignored: boolean,
  ) {
    const { options, signer } = context;
    this.presented = ignored
      ? { candidates: [], transport: 'cookie' }
      : readSessionIds(request, options.cookie, options.header, signer, options.generateId !== undefined);
    this.secure =
      options.cookie.secure === 'auto' ? isSecureRequest(request, context.trusted) : options.cookie.secure;
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
          sessionCookie(signer.sign(session.id), options.cookie, this.secure, maxAge),
        ]);
      }
      // Only to a client that uses the header: echoed to a cookie client, page script could
      // read the id that HttpOnly hides from it.
      if (options.header && this.presented.transport === 'header') {
        headers.push([options.header, signer.sign(session.id)]);
      }
    } else if (this.ended) {
      headers.push(['set-cookie', clearedCookie(options.cookie, this.secure)]);
    }
    return headers;
  }
}
