import type { Context, Middleware, Next } from 'koa';
import type { SessionManager } from '../core/manager.js';
import { internalsOf, type Session } from '../core/session.js';
import { commitHeaders } from './kit/commit.js';
import { rememberRequest } from './kit/foreign-options.js';
import { syncToHandle } from './kit/property-session.js';
import { setUpAdapter } from './kit/setup.js';
import { trustRule } from './kit/trust.js';
import { KOA_OPTIONS, type KoaSessionOptions } from './koa/options.js';
import { type AppendHeaders, KoaSession, RESERVED, replacement } from './koa/session.js';
import { nodeRequestInfo } from './node/request.js';

export type { KoaSessionOptions } from './koa/options.js';
export { KoaSession } from './koa/session.js';

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
 * Koa middleware. The session is loaded before downstream middleware runs (one store round
 * trip when the client has a session cookie, none otherwise) and committed after it, before
 * Koa writes the response, so a redirect or a streamed body never overtakes the save.
 *
 * @example
 * app.use(unisession({ app: 'shop' }));
 * app.use((ctx) => { ctx.session!.views = (ctx.session!.views ?? 0) + 1; ctx.body = 'ok'; });
 */
export function unisession(managerOrOptions: SessionManager | KoaSessionOptions): Middleware & {
  manager: SessionManager;
} {
  const setup = setUpAdapter('unisession (koa)', managerOrOptions, KOA_OPTIONS);
  const { manager } = setup;
  // Without a trustProxy option of our own, follow Koa's `app.proxy`, as koa-session does.
  const trusted = trustRule(setup.options);

  const middleware = async (ctx: Context, next: Next) => {
    if (manager.isIgnored(ctx.originalUrl)) return next();
    const info = { ...nodeRequestInfo(ctx.req), url: ctx.originalUrl };
    const view = trusted(info, () => ({ encrypted: ctx.secure, remoteAddress: ctx.ip }));
    // koa-session's `genid(ctx)` is given the context.
    const handle = manager.open(rememberRequest(view, ctx));
    const internals = internalsOf(handle);
    // A store failure throws the UnisessionError (status 503) into Koa's error handling.
    await internals.load();
    // The handle hands each header out once, so save() and the commit below both just append.
    const append: AppendHeaders = (headers) => {
      for (const [name, value] of headers) ctx.append(name, value);
    };
    let current: KoaSession | null = new KoaSession(handle, append);
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
        current = replacement(handle, append, value);
      },
    });
    ctx.sessionHandle = handle;
    internals.onBeforeCommit(() => {
      if (current) syncToHandle(current, handle, RESERVED);
    });

    const finish = async () => {
      if (destroyed) await handle.invalidate();
      append(await commitHeaders(handle));
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
