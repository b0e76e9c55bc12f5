/**
 * The monitoring centre beside the demo cluster: one monitor over the demo's store, on
 * 127.0.0.1 only, with a local-only token printed at start (the demo has no credentials file).
 * Open it in a second tab, watch your session appear, delete it, and the demo tab is logged out.
 */
import { createServer, type Server } from 'node:http';
import { defaultCodec } from '../../codec/json.js';
import { SessionManager } from '../../core/manager.js';
import type { Store } from '../../core/store.js';
import { createMonitor, type Monitor } from '../../monitor/monitor.js';
import { toNodeHandler } from '../../monitor/node.js';
import { DEMO_GROUP, openStore, type StoreSpec } from './stores.js';

export interface DemoMonitor {
  url: string;
  token: string;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Serves the monitor on `port`, or on a free port when that one is taken. */
export async function startDemoMonitor(spec: StoreSpec, port: number): Promise<DemoMonitor> {
  const store: Store = await openStore(spec);
  let monitor: Monitor | undefined;
  try {
    const manager = new SessionManager({
      app: 'unisession-monitor',
      group: DEMO_GROUP,
      store,
      codec: defaultCodec,
      sweeper: false,
      secret: 'unused: this manager never issues cookies',
    });
    manager.on('error', ({ error, during }) => console.error(`  · monitor: ${during}:`, error));
    // The token is printed in the demo's banner, not by the monitor itself.
    const write = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      monitor = createMonitor({
        managers: manager,
        localOnlyToken: true,
        apps: ['demo'],
        displayAttributes: ['demo:user', 'demo:visits'],
      });
    } finally {
      process.stderr.write = write;
    }
    const server = createServer(toNodeHandler(monitor));
    let actual: number;
    try {
      actual = await listen(server, port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      actual = await listen(server, 0);
    }
    const opened = monitor;
    return {
      url: `http://127.0.0.1:${actual}/`,
      token: opened.localToken ?? '',
      async close() {
        server.close();
        server.closeAllConnections();
        await opened.close();
        await store.close();
      },
    };
  } catch (error) {
    await monitor?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
}
