/**
 * Type tests for `unisession/monitor`. Checked by tsc, never run; each `@ts-expect-error` is
 * a mistake the typing must keep catching.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expectTypeOf } from 'expect-type';
import type { SessionManager } from 'unisession';
import {
  createMonitor,
  hashSecret,
  type Monitor,
  type MonitorCredential,
  type MonitorOptions,
  toNodeHandler,
  verifySecret,
} from 'unisession/monitor';

declare const manager: SessionManager;
declare const hash: string;

const monitor = createMonitor({
  managers: [manager],
  basePath: '/admin',
  credentials: [{ name: 'ops', secretHash: hash, scope: 'all', role: 'operator' }],
  displayAttributes: ['user'],
  onAudit: (entry) => {
    expectTypeOf(entry.count).toEqualTypeOf<number>();
    expectTypeOf(entry.actor).toEqualTypeOf<string>();
  },
});
expectTypeOf(monitor).toEqualTypeOf<Monitor>();
expectTypeOf(monitor).toBeCallableWith(new Request('http://x/'));
expectTypeOf(monitor).toBeCallableWith(new Request('http://x/'), { remoteAddress: '127.0.0.1' });
expectTypeOf(monitor).returns.toEqualTypeOf<Promise<Response>>();
expectTypeOf(monitor.localToken).toEqualTypeOf<string | undefined>();
expectTypeOf(hashSecret).returns.toEqualTypeOf<Promise<string>>();
expectTypeOf(verifySecret).returns.toEqualTypeOf<Promise<boolean>>();

const handler = toNodeHandler(monitor);
expectTypeOf(handler).toBeCallableWith({} as IncomingMessage, {} as ServerResponse);

// An app code is any string; the role is one of two.
const scoped: MonitorCredential = { name: 'shop', secretHash: hash, scope: 'shop', role: 'viewer' };
expectTypeOf(scoped.role).toEqualTypeOf<'viewer' | 'operator'>();
// @ts-expect-error: 'admin' is not a role
const badRole: MonitorCredential = { name: 'x', secretHash: hash, scope: 'all', role: 'admin' };
// @ts-expect-error: the secret is never given, only its hash
const plain: MonitorCredential = { name: 'x', secret: 'hunter22', scope: 'all', role: 'viewer' };
// @ts-expect-error: redact takes RegExps
const badRedact: MonitorOptions = { managers: manager, redact: ['password'] };
void badRole;
void plain;
void badRedact;
