import type { SessionEvents } from '../../src/core/events.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { RequestInfo } from '../../src/core/request.js';
import type { Session } from '../../src/core/session.js';

/** How one request looks to the core: its URL, headers, peer and TLS. */
export interface RequestInit {
  url?: string;
  /** Header names in any case. A `cookie` here replaces the jar's. */
  headers?: Record<string, string>;
  remoteAddress?: string;
  encrypted?: boolean;
}

/** The core's view of one request (what an adapter would build from its framework's request). */
export function requestInfo(init: RequestInit = {}): RequestInfo {
  const headers = new Map(
    Object.entries(init.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    url: init.url ?? '/',
    method: 'GET',
    header: (name) => headers.get(name),
    remoteAddress: init.remoteAddress ?? '127.0.0.1',
    encrypted: init.encrypted ?? false,
  };
}

/** What one request gave: the handler's result or error, and the response headers. */
export interface Reply<T> {
  result: T | undefined;
  /** What the handler threw; the response was still completed, as an app that answers errors does. */
  error: unknown;
  headers: Headers;
}

/**
 * A browser with one cookie jar, calling the manager directly: no HTTP, so core tests start
 * no server. Each request opens the session, runs the handler, commits and reads the response
 * headers, as every adapter does; the jar keeps the cookie as test/helpers/client.ts does.
 */
export class DirectClient {
  constructor(
    readonly manager: SessionManager,
    private readonly jar: { cookie: string } = { cookie: '' },
  ) {}

  get cookie(): string {
    return this.jar.cookie;
  }

  set cookie(value: string) {
    this.jar.cookie = value;
  }

  /** The same browser (the same jar) talking to another app. */
  on(manager: SessionManager): DirectClient {
    return new DirectClient(manager, this.jar);
  }

  /** One request. A failed commit rejects, as an adapter's error answer would replace the response. */
  async request<T>(handler: (session: Session) => Promise<T> | T, init: RequestInit = {}): Promise<Reply<T>> {
    const headers = { ...(this.cookie ? { cookie: this.cookie } : {}), ...init.headers };
    const session = this.manager.open(requestInfo({ ...init, headers }));
    let result: T | undefined;
    let error: unknown;
    try {
      result = await handler(session);
    } catch (thrown) {
      error = thrown;
    }
    await session.commit();
    const response = new Headers(session.responseHeaders());
    for (const line of response.getSetCookie()) {
      const pair = line.split(';')[0]!;
      this.cookie = /expires=Thu, 01 Jan 1970/i.test(line) || pair.endsWith('=') ? '' : pair;
    }
    return { result, error, headers: response };
  }

  /** One request's result; rejects with what the handler threw. */
  async call<T>(handler: (session: Session) => Promise<T> | T, init?: RequestInit): Promise<T> {
    const reply = await this.request(handler, init);
    if (reply.error !== undefined) throw reply.error;
    return reply.result as T;
  }

  /** The session id in the jar (without signature). */
  get sessionId(): string | undefined {
    const value = this.cookie.split('=')[1];
    return value ? value.split('.')[0] : undefined;
  }
}

/** What the node:http test app's routes did, as handlers: what most core tests ask of a session. */
export const routes = {
  read: async (session: Session) => ({ n: (await session.get<number>('n')) ?? null, id: session.id }),
  inc: async (session: Session) => {
    const n = ((await session.get<number>('n')) ?? 0) + 1;
    await session.set('n', n);
    return { n };
  },
  set: (name: string, value: unknown) => async (session: Session) => {
    await session.set(name, value);
    return { ok: true };
  },
  remove: (name: string) => async (session: Session) => {
    await session.remove(name);
    return { ok: true };
  },
  all: (session: Session) => session.all(),
  /** Reads an array, sets it only when empty, then changes it in place. */
  cart: async (session: Session) => {
    const cart = (await session.get<number[]>('cart')) ?? [];
    if (cart.length === 0) await session.set('cart', cart);
    cart.push(cart.length + 1);
    return { cart };
  },
  login: (user: string) => async (session: Session) => {
    await session.regenerate();
    await session.set('user', user);
    await session.setPrincipal(user);
    return { id: session.id };
  },
  logout: async (session: Session) => {
    await session.invalidate();
    return { ok: true };
  },
  noop: () => ({ ok: true }),
};

/** Every listener event the manager fires from now on, in order (errors aside). */
export function recordEvents(manager: SessionManager) {
  const events: Array<[keyof SessionEvents, unknown]> = [];
  for (const name of [
    'created',
    'destroyed',
    'attributeAdded',
    'attributeReplaced',
    'attributeRemoved',
    'decodeError',
  ] as const) {
    manager.on(name, (event) => events.push([name, event]));
  }
  return events;
}
