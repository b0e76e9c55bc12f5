import { isCluster, type RedisClient } from './client.js';

/** How many replicas must have a session write before its commit resolves (`replicas`). */
export interface ReplicaPolicy {
  /** The number of replicas WAIT must count; 0 turns the wait off. */
  count: number;
  /** WAIT's own timeout, in ms: past it Redis answers with the replicas that have the write so far. */
  timeoutMs: number;
}

/**
 * Waits until `policy.count` replicas have every write this connection sent so far (WAIT), and
 * fails when fewer acknowledged within `policy.timeoutMs`, so the commit that made the write
 * fails with UNISESSION_STORE_UNAVAILABLE instead of resolving.
 *
 * WAIT counts the writes of the connection it runs on, so it must reach the server that took
 * the write. Standalone and Sentinel have one master connection. In a Cluster, a pipeline of a
 * read of `key` and WAIT goes to the master that owns the key's slot: ioredis sends a pipeline
 * to the node of its keys, and WAIT, not being a read, to that slot's master.
 *
 * The write itself is not undone when the wait fails: the master has it, and it may still
 * reach the replicas (see docs/stores/redis.md, "Replica-acknowledged writes").
 */
export async function waitForReplicas(
  client: RedisClient,
  key: string,
  policy: ReplicaPolicy,
): Promise<void> {
  if (policy.count === 0) return;
  let acknowledged: unknown;
  if (isCluster(client)) {
    const replies = await client.pipeline().exists(key).wait(policy.count, policy.timeoutMs).exec();
    const [error, count] = replies?.[1] ?? [new Error('no reply to WAIT'), 0];
    if (error) throw error;
    acknowledged = count;
  } else {
    acknowledged = await client.wait(policy.count, policy.timeoutMs);
  }
  if (typeof acknowledged !== 'number' || acknowledged < policy.count) {
    throw new Error(
      `only ${String(acknowledged)} of ${policy.count} replicas acknowledged the write within ${policy.timeoutMs} ms`,
    );
  }
}
