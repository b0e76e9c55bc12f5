/**
 * One app node of the demo cluster: a child process forked by the supervisor. It serves the
 * demo app on an ephemeral port of 127.0.0.1 and takes its orders over the IPC channel.
 */
import type { Server } from 'node:http';
import type { SessionManager } from '../../core/manager.js';
import { failToSupervisor as fail, nodeShutdown } from './node-process.js';
import {
  type ClusterView,
  type FromNode,
  NODE_CONFIG_ENV,
  type NodeConfig,
  type ToNode,
} from './protocol.js';

const config = JSON.parse(process.env[NODE_CONFIG_ENV] ?? 'null') as NodeConfig | null;
if (!config || !process.send) {
  console.error('This file is started by `unisession demo`; run that instead.');
  process.exit(2);
}

let cluster: ClusterView = { nodes: [], redeploy: null, store: '' };
let server: Server | undefined;
let manager: SessionManager | undefined;
const shutdown = nodeShutdown(() => ({ server, manager }));

function send(message: FromNode): void {
  process.send?.(message);
}

process.on('message', (message: ToNode) => {
  if (message.type === 'cluster') cluster = message.cluster;
  else if (message.type === 'shutdown') void shutdown();
});
// The supervisor is gone (even by SIGKILL): never outlive it.
process.on('disconnect', () => process.exit(0));
// Ctrl-C (and a closing terminal) reach the whole process group; the supervisor stops the nodes in order.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.on('SIGTERM', () => void shutdown());

try {
  // Imported here, after the signal handlers, so that any failure to load is reported as one message.
  const { createDemoApp } = await import('./app.js');
  const { openStore, parseStore } = await import('./stores.js');
  const store = await openStore(parseStore(config.store));
  let port: number | undefined;
  const demo = createDemoApp({
    node: { name: config.name, version: config.version, port: () => port },
    store,
    trustedProxy: config.trustedProxy,
    secret: config.secret,
    cluster: () => cluster,
  });
  manager = demo.manager;
  server = demo.app.listen(0, '127.0.0.1', () => {
    const address = server!.address();
    port = typeof address === 'object' && address ? address.port : undefined;
    if (port) send({ type: 'ready', port });
  });
  server.on('error', fail);
} catch (error) {
  fail(error);
}
