/**
 * Type tests for `unisession/metrics` (see options.test-d.ts): checked by tsc, never run.
 */
import { expectTypeOf } from 'expect-type';
import type { Registry } from 'prom-client';
import { createSessionManager, type SessionManager } from 'unisession';
import { createMetrics, type Metrics, type MetricsOptions } from 'unisession/metrics';

const sessions: SessionManager = createSessionManager({ app: 'shop' });

expectTypeOf(createMetrics).parameter(0).toEqualTypeOf<MetricsOptions>();
expectTypeOf(createMetrics({ managers: sessions })).toEqualTypeOf<Metrics>();
expectTypeOf(
  createMetrics({ managers: [sessions, sessions], gauges: true, prefix: 'x_' }).registry,
).toEqualTypeOf<Registry>();
expectTypeOf<Metrics['handler']>().toEqualTypeOf<(request: Request) => Promise<Response>>();
expectTypeOf<Metrics['close']>().returns.toEqualTypeOf<void>();
expectTypeOf<MetricsOptions['managers']>().toEqualTypeOf<SessionManager | readonly SessionManager[]>();

// @ts-expect-error managers is required
createMetrics({});
// @ts-expect-error gauges is a boolean
createMetrics({ managers: sessions, gauges: 'yes' });
// @ts-expect-error the registry is a prom-client Registry
createMetrics({ managers: sessions, registry: {} });
// @ts-expect-error no such option
createMetrics({ managers: sessions, labels: ['id'] });
