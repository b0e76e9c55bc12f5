/**
 * The gauges read from the store at scrape time: live sessions and distinct online users
 * per app. They count the whole group, not this node, which is why they are opt-in and
 * meant for one process (see index.ts). Computed by the store's `stats` group (aggregates in
 * the store), never by loading sessions.
 */
import type { Registry } from 'prom-client';
import type { SessionManager } from '../core/manager.js';
import type { Installed } from './counters.js';
import type { PromClientModule } from './prom-client.js';

export function installGauges(
  prom: PromClientModule,
  registry: Registry,
  prefix: string,
  managers: readonly SessionManager[],
): Installed {
  // One computation per scrape feeds both gauges: the first collect starts it, the second reuses it.
  let pending: Promise<Array<{ app: string; live: number; usersOnline: number } | null>> | undefined;
  const read = () => {
    pending ??= Promise.all(
      managers.map(async (manager) => {
        const app = manager.options.app;
        try {
          const stats = await manager.stats({ app });
          return { app, live: stats.live, usersOnline: stats.usersOnline };
        } catch (error) {
          // A failing store leaves its series out of this scrape instead of failing the scrape.
          manager.reportError(error, 'metrics gauges');
          return null;
        }
      }),
    ).finally(() => {
      setImmediate(() => {
        pending = undefined;
      });
    });
    return pending;
  };
  new prom.Gauge({
    name: `${prefix}sessions_active`,
    help: 'Live sessions per app, read from the store at scrape time (the whole group, not this node).',
    labelNames: ['app'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await read()) if (row) this.labels(row.app).set(row.live);
    },
  });
  new prom.Gauge({
    name: `${prefix}users_online`,
    help: 'Distinct signed-in users seen in the last 5 minutes, per app, read from the store at scrape time.',
    labelNames: ['app'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await read()) if (row) this.labels(row.app).set(row.usersOnline);
    },
  });
  return {
    remove() {
      registry.removeSingleMetric(`${prefix}sessions_active`);
      registry.removeSingleMetric(`${prefix}users_online`);
    },
  };
}
