/**
 * `unisession/metrics`: Prometheus metrics of this node's sessions, through prom-client.
 *
 * Counters and the store-latency histogram come from the managers' events, so each node
 * counts only what it did and a cluster's series add up. The gauges (live sessions, online
 * users) are read from the store at scrape time and describe the whole group: turn them on
 * (`gauges: true`) on one process only, the one that serves the monitor, or every node would
 * report the same sessions again. Labels are bounded sets (a reason, a commit kind, a store
 * name, an operation, an app code); never a session id or a user.
 */
import type { Registry } from 'prom-client';
import type { SessionManager } from '../core/manager.js';
import { checkOptions, invalidOption, is } from '../core/validate.js';
import { installCounters } from './counters.js';
import { installGauges } from './gauges.js';
import { loadPromClient } from './prom-client.js';

export interface MetricsOptions {
  /** The managers (one per app of this process) whose events to count. */
  managers: SessionManager | readonly SessionManager[];
  /**
   * The prom-client registry to register in; pass prom-client's global `register` to serve
   * these metrics beside your own. @default a new Registry of its own
   */
  registry?: Registry;
  /** Prepended to every metric name. @default 'unisession_' */
  prefix?: string;
  /**
   * Also export `sessions_active{app}` and `users_online{app}`, computed from the store at
   * each scrape (needs a store with the `stats` group). Enable on ONE process per group. @default false
   */
  gauges?: boolean;
}

export interface Metrics {
  /** The registry the metrics live in (the option's, or a new one). */
  readonly registry: Registry;
  /** A Web-standard scrape endpoint: GET (or HEAD) answers the Prometheus text format. */
  handler(request: Request): Promise<Response>;
  /** Stops listening to the managers and removes these metrics from the registry. */
  close(): void;
}

/** Prometheus's rule for metric names (a prefix must keep the names valid). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Creates the metrics of some managers and the scrape handler.
 *
 * @example
 * const metrics = createMetrics({ managers: sessions, gauges: true });
 * app.get('/metrics', async (_req, res) => {
 *   res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
 * });
 */
export function createMetrics(options: MetricsOptions): Metrics {
  checkOptions('createMetrics', options, {
    managers: is.any,
    registry: is.withMethods('a prom-client Registry', 'registerMetric', 'metrics', 'removeSingleMetric'),
    prefix: is.matching(/^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/, 'a metric name prefix such as "unisession_"'),
    gauges: is.boolean,
  });
  const managers = checkManagers(options?.managers);
  const prefix = options.prefix ?? 'unisession_';
  if (!METRIC_NAME.test(`${prefix}x`))
    throw invalidOption('createMetrics', 'prefix', 'a metric name prefix', prefix);
  const blind = options.gauges ? managers.find((manager) => !manager.store.stats) : undefined;
  if (blind) {
    // Refused now rather than failing every scrape: the gauges are computed by the store.
    throw invalidOption(
      'createMetrics',
      'gauges',
      `false: the ${blind.store.name} store has no stats group to compute them`,
      true,
    );
  }
  const prom = loadPromClient();
  const registry = options.registry ?? new prom.Registry();
  const installed = [installCounters(prom, registry, prefix, managers)];
  try {
    if (options.gauges) installed.push(installGauges(prom, registry, prefix, managers));
  } catch (error) {
    installed[0]!.remove();
    throw error;
  }
  let closed = false;
  return {
    registry,
    async handler(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return new Response('Method Not Allowed\n', { status: 405, headers: { allow: 'GET, HEAD' } });
      }
      try {
        const body = await registry.metrics();
        return new Response(request.method === 'HEAD' ? null : body, {
          headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
        });
      } catch (error) {
        // A collector failed: say so generically; the details go to the managers' `error` listeners.
        managers[0]!.reportError(error, 'metrics scrape');
        return new Response('metrics unavailable\n', {
          status: 500,
          headers: { 'content-type': 'text/plain' },
        });
      }
    },
    close() {
      if (closed) return;
      closed = true;
      for (const part of installed) part.remove();
    },
  };
}

/** Duck-typed, as every option check is: a second copy of unisession in node_modules still passes. */
const isManager = is.withMethods('a SessionManager', 'on', 'stats', 'reportError');

function checkManagers(value: unknown): SessionManager[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((manager) => isManager(manager) === undefined)) {
    throw invalidOption('createMetrics', 'managers', 'a SessionManager or a non-empty array of them', value);
  }
  return [...new Set(list as SessionManager[])];
}
