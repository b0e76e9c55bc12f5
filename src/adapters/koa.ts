import type { Context, Middleware, Next } from 'koa';
import { SessionManager } from '../core/manager.js';
import type { SessionOptions } from '../core/options.js';
import {
  clearProperties,
  defineValue,
  fillFromHandle,
  guardPrototype,
  refill,
  reservedNameError,
  reservedNames,
  syncToHandle,
} from '../core/property-session.js';
import type { Session } from '../core/session.js';
import { invalidArgument } from '../core/validate.js';
import { createSessionManager } from '../index.js';
import { nodeRequestInfo } from './node.js';

/** Augment to type your session data: `declare module 'unisession/koa' { interface SessionData { views: number } }` */
// biome-ignore lint/suspicious/noEmptyInterface: an interface users augment.
export interface SessionData {}

declare module 'koa' {
  interface ExtendableContext {
    /** koa-session style: attributes are properties; `null` after `ctx.session = null`; absent on ignored URLs. */
    get session(): (KoaSession & Partial<SessionData>) | null;
    /** `null` destroys the session; an object replaces all its attributes. */
    set session(value: Partial<SessionData> | Record<string, unknown> | null);
    /** unisession's native, async session API for the same session. */
    sessionHandle: Session;
  }
}

/**
 * `ctx.session`: the attributes are its own enumerable properties (`ctx.session.views = 1`);
 * they are copied into the native handle once, when it commits.
 */
export class KoaSession {
  readonly #handle: Session;
  readonly #applyHeaders: () => void;

  constructor(handle: Session, applyHeaders: () => void) {
    this.#handle = handle;
    this.#applyHeaders = applyHeaders;
    guardPrototype(this);
    fillFromHandle(this, handle, RESERVED);
  }

  get id(): string | undefined {
    return this.#handle.id;
  }

  /** True when the session did not exist before this request. */
  get isNew(): boolean {
    return this.#handle.isNew;
  }

  /** True when the session holds at least one attribute (koa-session's `populated`). */
  get populated(): boolean {
    return Object.keys(this).length > 0;
  }

  /** Setting it changes this session's sliding lifetime in ms ("remember me"). */
  set maxAge(ms: number) {
    this.#handle.setMaxInactiveSync(ms);
  }

  /** The attributes as a plain object. */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this));
  }

  /**
   * Writes the changes and sets the cookie now, instead of after the middleware chain: call
   * it before writing to `ctx.res` yourself (`ctx.respond = false`).
   */
  async save(): Promise<void> {
    // The handle's commit copies `ctx.session`'s changes in first (see the middleware).
    await this.#handle.commit();
    this.#applyHeaders();
  }

  /** A new id; the old one then loads nothing anywhere. Keeps the attributes unless told not to. */
  async regenerate(options: { keepAttributes?: boolean } = {}): Promise<void> {
    await this.#handle.regenerate(options);
    if (options.keepAttributes === false) refill(this, this.#handle, RESERVED);
  }
}

/**
 * The names `ctx.session` keeps for itself (its methods and getters, Object.prototype's): a
 * stored attribute with one of these names is read through `ctx.sessionHandle` only.
 */
const RESERVED = reservedNames(KoaSession);

/** `ctx.session = { ... }`: a session whose attributes are exactly `value`'s, the loaded ones removed. */
function replacement(handle: Session, applyHeaders: () => void, value: unknown): KoaSession {
  if (typeof value !== 'object' || value === null)
    throw invalidArgument('ctx.session =', 'the value', 'null or an object', value);
  const session = new KoaSession(handle, applyHeaders);
  clearProperties(session);
  for (const [name, attribute] of Object.entries(value)) {
    if (RESERVED.has(name)) throw reservedNameError(name);
    defineValue(session, name, attribute);
  }
  return session;
}

/**
 * Koa middleware. The session is loaded before downstream middleware runs (one store round
 * trip when the client has a session cookie, none otherwise) and committed after it, before
 * Koa writes the response, so a redirect or a streamed body never overtakes the save.
 *
 * @example
 * app.use(unisession({ app: 'shop' }));
 * app.use((ctx) => { ctx.session!.views = (ctx.session!.views ?? 0) + 1; ctx.body = 'ok'; });
 */
export function unisession(managerOrOptions: SessionManager | SessionOptions): Middleware & {
  manager: SessionManager;
} {
  const manager =
    managerOrOptions instanceof SessionManager ? managerOrOptions : createSessionManager(managerOrOptions);
  // Without a trustProxy option of our own, follow Koa's `app.proxy`, as koa-session does.
  const useKoaTrust =
    !(managerOrOptions instanceof SessionManager) && managerOrOptions.trustProxy === undefined;

  const middleware = async (ctx: Context, next: Next) => {
    if (manager.isIgnored(ctx.originalUrl)) return next();
    const info = { ...nodeRequestInfo(ctx.req), url: ctx.originalUrl };
    const handle = manager.open(
      useKoaTrust ? { ...info, encrypted: ctx.secure, remoteAddress: ctx.ip } : info,
    );
    // A store failure throws the UnisessionError (status 503) into Koa's error handling.
    await handle.load();
    const applied = new Set<string>();
    // Idempotent, because save() may have set the same headers already.
    const applyHeaders = () => {
      for (const [name, value] of handle.responseHeaders()) {
        if (applied.has(`${name}\n${value}`)) continue;
        applied.add(`${name}\n${value}`);
        ctx.append(name, value);
      }
    };
    let current: KoaSession | null = new KoaSession(handle, applyHeaders);
    let destroyed = false;
    Object.defineProperty(ctx, 'session', {
      configurable: true,
      enumerable: true,
      get: () => current,
      // koa-session semantics: `null` destroys, an object replaces every attribute.
      set(value: Record<string, unknown> | null) {
        if (value === null || value === undefined) {
          destroyed = true;
          current = null;
          return;
        }
        current = replacement(handle, applyHeaders, value);
      },
    });
    ctx.sessionHandle = handle;
    handle.onBeforeCommit(() => {
      if (current) syncToHandle(current, handle, RESERVED);
    });

    const finish = async () => {
      if (destroyed) await handle.invalidate();
      await handle.commit();
      applyHeaders();
    };
    try {
      await next();
    } catch (error) {
      // Save what the request changed anyway (as koa-session does); the original error wins,
      // and a failure of this save goes to the manager's `error` event.
      await finish().catch((failure: unknown) => manager.reportError(failure, 'commit'));
      throw error;
    }
    await finish();
  };
  return Object.assign(middleware, { manager });
}

export default unisession;
