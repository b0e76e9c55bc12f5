/**
 * Type tests: checked by `npm test`'s typecheck (tsc), never run. They import through the
 * package's own names, as an app does; tsconfig.json's `paths` maps those names onto src/
 * (the same files the export map points at in dist/), so no build is needed.
 * Attribute names are prefixed `typed` because every `declare module` in the test program
 * merges into one SessionData.
 */
import MongoStore from 'connect-mongo';
import RedisStore from 'connect-redis';
import { expectTypeOf } from 'expect-type';
import type { Request, RequestHandler } from 'express';
import expressSession from 'express-session';
import type { Redis } from 'ioredis';
import type { Session, SessionManager, Store } from 'unisession';
import session, {
  type ExpressSession,
  type ExpressSessionOptions,
  type SessionCookie,
} from 'unisession/express';

declare module 'unisession/express' {
  interface SessionData {
    typedViews: number;
    typedUser: { id: string; roles: string[] };
  }
}

export function requestTypes(req: Request): void {
  // SessionData types `req.session`'s properties; each may be absent (a new session).
  expectTypeOf(req.session.typedViews).toEqualTypeOf<number | undefined>();
  expectTypeOf(req.session.typedUser).toEqualTypeOf<{ id: string; roles: string[] } | undefined>();
  req.session.typedViews = (req.session.typedViews ?? 0) + 1;
  // @ts-expect-error a typed attribute keeps its type
  req.session.typedViews = 'many';
  // express-session's members are there too.
  expectTypeOf(req.session).toMatchTypeOf<ExpressSession>();
  expectTypeOf(req.session.id).toEqualTypeOf<string>();
  expectTypeOf(req.session.cookie).toEqualTypeOf<SessionCookie>();
  expectTypeOf(req.session.regenerate).parameter(0).toEqualTypeOf<(error?: unknown) => void>();
  // The native API is the one `Session` every adapter gives.
  expectTypeOf(req.sessionHandle).toEqualTypeOf<Session>();
  expectTypeOf(req.sessionHandle.get<number>('typedViews')).resolves.toEqualTypeOf<number | undefined>();
  expectTypeOf(req.sessionID).toEqualTypeOf<string>();
}

export function middlewareTypes(manager: SessionManager): void {
  expectTypeOf(session).parameter(0).toEqualTypeOf<ExpressSessionOptions | SessionManager | undefined>();
  expectTypeOf(session()).toMatchTypeOf<RequestHandler>();
  expectTypeOf(session(manager).manager).toEqualTypeOf<SessionManager>();
  session({ secret: 's', name: 'connect.sid', proxy: true, resave: false, cookie: { maxAge: 86_400_000 } });
  // @ts-expect-error cookie.maxAge is in ms, not a duration string
  session({ cookie: { maxAge: '1d' } });
  session({
    genid: (req) => `${req.method}-${crypto.randomUUID()}`,
    unset: 'destroy',
    rolling: true,
    cookie: (req) => ({
      secure: 'auto',
      sameSite: req.secure ? 'none' : 'auto',
      partitioned: true,
      priority: 'high',
    }),
  });
  session({ cookie: { expires: new Date(), maxAge: null, sameSite: true } });
  // @ts-expect-error unset is 'keep' or 'destroy'
  session({ unset: 'remove' });
  // @ts-expect-error priority is 'low', 'medium' or 'high'
  session({ cookie: { priority: 'urgent' } });
  expectTypeOf(session).parameter(0).exclude<SessionManager | undefined>().toHaveProperty('migrateFrom');
}

/** The stores express-session apps use are accepted as they are, with no cast. */
export function migrationTypes(redis: Redis): void {
  session({ name: 'connect.sid', secret: 's', migrateFrom: new RedisStore({ client: redis }) });
  session({ secret: 's', migrateFrom: MongoStore.create({ mongoUrl: 'mongodb://127.0.0.1/app' }) });
  session({ secret: 's', migrateFrom: new expressSession.MemoryStore(), legacyCookies: true });
}

export function cookieTypes(req: Request): void {
  expectTypeOf(req.session.cookie.maxAge).toEqualTypeOf<number | null>();
  expectTypeOf(req.session.cookie.expires).toEqualTypeOf<Date | null>();
  expectTypeOf(req.session.cookie.originalMaxAge).toEqualTypeOf<number | null>();
  expectTypeOf(req.sessionStore).toEqualTypeOf<Store>();
  req.session.cookie.expires = false;
  req.session.cookie.maxAge = null;
}
