/** Type tests for `unisession/koa` (see express.test-d.ts): checked by tsc, never run. */
import { expectTypeOf } from 'expect-type';
import type { Context, Middleware } from 'koa';
import type { Session, SessionManager, SessionOptions } from 'unisession';
import { type KoaSession, type KoaSessionOptions, type SessionData, unisession } from 'unisession/koa';

declare module 'unisession/koa' {
  interface SessionData {
    typedVisits: number;
  }
}

export function contextTypes(ctx: Context): void {
  // `ctx.session` is typed from unisession/koa's SessionData, and null once destroyed.
  expectTypeOf(ctx.session).toEqualTypeOf<(KoaSession & Partial<SessionData>) | null>();
  expectTypeOf(ctx.session?.typedVisits).toEqualTypeOf<number | undefined>();
  if (ctx.session) ctx.session.typedVisits = (ctx.session.typedVisits ?? 0) + 1;
  // @ts-expect-error a typed attribute keeps its type
  if (ctx.session) ctx.session.typedVisits = 'many';
  expectTypeOf(ctx.session?.isNew).toEqualTypeOf<boolean | undefined>();
  // `ctx.session = null` destroys it; an object replaces every attribute.
  ctx.session = null;
  ctx.session = { typedVisits: 1 };
  // @ts-expect-error only null or an object
  ctx.session = 'logged out';
  expectTypeOf(ctx.sessionHandle).toEqualTypeOf<Session>();
}

export function middlewareTypes(manager: SessionManager, options: SessionOptions): void {
  expectTypeOf(unisession).parameter(0).toEqualTypeOf<SessionManager | KoaSessionOptions>();
  // A koa-session config, plus `app`.
  unisession({
    app: 'shop',
    key: 'koa.sess',
    maxAge: 86_400_000,
    httpOnly: true,
    signed: true,
    secret: 's',
    rolling: false,
    renew: false,
    sameSite: null,
  });
  unisession({ app: 'shop', maxAge: 'session', genid: (ctx) => `${ctx.path}-${crypto.randomUUID()}` });
  // @ts-expect-error autoCommit: false is refused
  unisession({ app: 'shop', autoCommit: false });
  expectTypeOf(unisession(options)).toMatchTypeOf<Middleware>();
  expectTypeOf(unisession(manager).manager).toEqualTypeOf<SessionManager>();
  // @ts-expect-error `app` is required
  unisession({ secret: 's' });
}
