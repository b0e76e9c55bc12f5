/**
 * What the node processes of both demos (the cluster and SSO) share: telling the supervisor
 * why a node cannot start, and stopping the node the way a user's node would.
 */
import type { Server } from 'node:http';
import { gracefulShutdown } from '../../adapters/shutdown.js';
import type { SessionManager } from '../../core/manager.js';
import type { FromNode } from './protocol.js';

/** Tells the supervisor why this node cannot start, then exits (after the message is out). */
export function failToSupervisor(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  setTimeout(() => process.exit(1), 1000).unref();
  process.send?.({ type: 'fatal', message } satisfies FromNode, () => process.exit(1));
}

/**
 * The node's stop, once however often it is asked: stop taking connections, let the requests
 * in flight finish with their commits, close each kept-alive connection once idle, give the
 * sweeper lease up, close the store, exit. The library's `gracefulShutdown`, as a user's node
 * would run it. `current` gives the server and manager as they are when the stop comes.
 */
export function nodeShutdown(
  current: () => { server?: Server; manager?: SessionManager },
): () => Promise<void> {
  let stopping = false;
  return async () => {
    if (stopping) return;
    stopping = true;
    const { server, manager } = current();
    if (server && manager)
      await gracefulShutdown(server, manager, { signals: [], timeoutMs: 5000 }).shutdown();
    process.exit(0);
  };
}
