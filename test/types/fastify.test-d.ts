/** Type tests for `unisession/fastify` (see express.test-d.ts): checked by tsc, never run. */
import { expectTypeOf } from 'expect-type';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Session, SessionManager } from 'unisession';
import { type FastifySession, type FastifySessionOptions, unisession } from 'unisession/fastify';

declare module 'unisession/fastify' {
  interface SessionData {
    typedCart: string[];
  }
}

export function requestTypes(request: FastifyRequest): void {
  // `get` is typed from unisession/fastify's SessionData; other names take a type argument.
  expectTypeOf(request.session.get('typedCart')).toEqualTypeOf<string[] | undefined>();
  expectTypeOf(request.session.get<number>('untyped')).toEqualTypeOf<number | undefined>();
  expectTypeOf(request.session.get('untyped')).toEqualTypeOf<unknown>();
  request.session.set('typedCart', ['sku-1']);
  expectTypeOf(request.session.typedCart).toEqualTypeOf<string[] | undefined>();
  expectTypeOf(request.session).toMatchTypeOf<FastifySession>();
  expectTypeOf(request.session.sessionId).toEqualTypeOf<string | undefined>();
  expectTypeOf(request.sessionHandle).toEqualTypeOf<Session>();
}

export async function pluginTypes(app: FastifyInstance, manager: SessionManager): Promise<void> {
  await app.register(unisession, { app: 'shop', secret: 's' });
  await app.register(unisession, { manager });
  // @ts-expect-error options are checked: maxInactive is a number of ms
  await app.register(unisession, { app: 'shop', maxInactive: '30m' });
  expectTypeOf(app.sessionManager).toEqualTypeOf<SessionManager>();
  // An @fastify/session config, plus `app`.
  await app.register(unisession, {
    app: 'shop',
    secret: 'a secret of at least thirty-two characters',
    cookieName: 'sessionId',
    cookie: { maxAge: 3_600_000, secure: 'auto', sameSite: true, path: '/' },
    rolling: false,
    saveUninitialized: false,
    idGenerator: (request) => `${request.id}-${crypto.randomUUID()}`,
  });
  // @ts-expect-error cookie.maxAge is in ms
  await app.register(unisession, { app: 'shop', cookie: { maxAge: '1h' } });
  expectTypeOf<FastifySessionOptions['idGenerator']>().toEqualTypeOf<
    ((request: FastifyRequest) => string) | undefined
  >();
}
