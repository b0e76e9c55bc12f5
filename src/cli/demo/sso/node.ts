/**
 * One node of one app of the SSO demo: forked by that app's supervisor, it serves the app on
 * an ephemeral port of 127.0.0.1 and takes its orders over the IPC channel (as ../node.ts
 * does for the cluster demo).
 */
import type { Server } from 'node:http';
import type { SessionManager } from '../../../core/manager.js';
import { failToSupervisor as fail, nodeShutdown } from '../node-process.js';
import { type FromNode, NODE_CONFIG_ENV, type NodeConfig, type ToNode } from '../protocol.js';
import type { SsoNodeApp } from './config.js';

const config = JSON.parse(process.env[NODE_CONFIG_ENV] ?? 'null') as NodeConfig | null;
if (!config || !process.send) {
  console.error('This file is started by `unisession demo sso`; run that instead.');
  process.exit(2);
}

let server: Server | undefined;
let manager: SessionManager | undefined;
const shutdown = nodeShutdown(() => ({ server, manager }));

process.on('message', (message: ToNode) => {
  if (message.type === 'shutdown') void shutdown();
});
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.on('SIGTERM', () => void shutdown());

try {
  const { createSsoApp } = await import('./app.js');
  const { openStore, parseStore } = await import('../stores.js');
  const { code, hosts } = config.app as SsoNodeApp;
  const store = await openStore(parseStore(config.store));
  const demo = createSsoApp({
    code,
    hosts,
    store,
    secret: config.secret,
    node: { name: `${code}-${config.name}` },
    trustedProxy: config.trustedProxy,
  });
  manager = demo.manager;
  server = demo.app.listen(0, '127.0.0.1', () => {
    const address = server!.address();
    const port = typeof address === 'object' && address ? address.port : undefined;
    if (port) process.send?.({ type: 'ready', port } satisfies FromNode);
  });
  server.on('error', fail);
} catch (error) {
  fail(error);
}
