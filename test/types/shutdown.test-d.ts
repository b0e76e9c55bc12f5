/** Type tests for `unisession/shutdown` (see express.test-d.ts): checked by tsc, never run. */
import { createServer } from 'node:http';
import { expectTypeOf } from 'expect-type';
import Fastify from 'fastify';
import type { SessionManager } from 'unisession';
import { type GracefulShutdown, gracefulShutdown, type ShutdownReport } from 'unisession/shutdown';

export function shutdownTypes(manager: SessionManager): void {
  const server = createServer();
  const handle = gracefulShutdown(server, manager, { timeoutMs: 5000 });
  expectTypeOf(handle).toEqualTypeOf<GracefulShutdown>();
  expectTypeOf(handle.shutdown).returns.toEqualTypeOf<Promise<ShutdownReport>>();
  expectTypeOf<ShutdownReport['cut']>().toEqualTypeOf<number>();

  // Several servers and managers; a Fastify instance; no managers at all.
  gracefulShutdown([server, createServer()], [manager, manager], { signals: ['SIGTERM'], exit: false });
  gracefulShutdown(Fastify());
  // @ts-expect-error a string is not a server
  gracefulShutdown('server', manager);
  // @ts-expect-error options are checked
  gracefulShutdown(server, manager, { timeout: 5000 });
  // @ts-expect-error signals are a list
  gracefulShutdown(server, manager, { signals: 'SIGTERM' });
}
