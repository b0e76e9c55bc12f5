/** Type tests for `unisession/hono` (see express.test-d.ts): checked by tsc, never run. */
import { expectTypeOf } from 'expect-type';
import type { Context, MiddlewareHandler } from 'hono';
import type { Session, SessionManager, SessionOptions } from 'unisession';
import { unisession } from 'unisession/hono';

export function contextTypes(c: Context): void {
  // Typed through hono's ContextVariableMap, on every Context, with no generic to pass.
  expectTypeOf(c.get('session')).toEqualTypeOf<Session>();
  expectTypeOf(c.var.session).toEqualTypeOf<Session>();
  // @ts-expect-error only a Session goes there
  c.set('session', 'not a session');
}

export function middlewareTypes(manager: SessionManager, options: SessionOptions): void {
  expectTypeOf(unisession).parameter(0).toEqualTypeOf<SessionManager | SessionOptions>();
  expectTypeOf(unisession(options)).toMatchTypeOf<MiddlewareHandler>();
  expectTypeOf(unisession(manager).manager).toEqualTypeOf<SessionManager>();
}
