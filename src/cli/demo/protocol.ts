/**
 * The messages the supervisor and its app nodes exchange over the fork IPC channel, and the
 * view of the cluster that every node renders on the demo page.
 */

/** How the supervisor describes one app node. */
export interface NodeView {
  /** Stable slot name (`node-1`...); a restarted or redeployed node keeps it. */
  name: string;
  pid: number | undefined;
  /** The node's own HTTP port on 127.0.0.1 (ephemeral; known once it is ready). */
  port: number | undefined;
  /** Deploy generation: 1 at start, +1 for each rolling redeploy. */
  version: number;
  /** `starting`: forked, not listening yet. `up`: in the balancer's rotation. `draining`: out of rotation, finishing its requests. `down`: dead, restart pending. */
  state: 'starting' | 'up' | 'draining' | 'down';
  /** Epoch ms when this process was forked. */
  startedAt: number;
  /** Requests the balancer has sent to this process. */
  served: number;
}

export interface ClusterView {
  nodes: NodeView[];
  /** The running rolling redeploy, if any. */
  redeploy: { version: number; step: number; of: number; node: string } | null;
  /** What `--store` the cluster runs on, for display. */
  store: string;
  /** The monitoring centre's URL, when the demo serves one. */
  monitor?: string;
}

/** Supervisor → node. */
export type ToNode = { type: 'cluster'; cluster: ClusterView } | { type: 'shutdown' };

/** Node → supervisor. */
export type FromNode = { type: 'ready'; port: number } | { type: 'fatal'; message: string };

/** How the supervisor hands a node its configuration (an environment variable, as JSON). */
export interface NodeConfig {
  name: string;
  version: number;
  /** The `--store` URL, already validated by the supervisor. */
  store: string;
  /** The balancer's address, the only peer the node trusts for X-Forwarded-*. */
  trustedProxy: string;
  /** The cookie signing secret every node shares (see demoSecret). */
  secret: string;
  /** What a node entry other than the default needs (the SSO demo: which app, which port). */
  app?: unknown;
}

export const NODE_CONFIG_ENV = 'UNISESSION_DEMO_NODE';
