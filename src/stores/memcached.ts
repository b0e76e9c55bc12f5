import type { MemcacheClient } from 'memcache-client';
import type { Store } from '../core/store.js';
import { checkOptions, is, type OptionSpec } from '../core/validate.js';
import { defineStore } from './kit/define.js';
import { isGroupName, storeGroup } from './kit/group.js';
import { memcachedBackend } from './memcached/backend.js';
import { KeyLayout } from './memcached/layout.js';
import { connectNodes, invalid, parseNodes } from './memcached/nodes.js';
import { type Nodes, Router } from './memcached/routing.js';
import { SessionIo } from './memcached/session-io.js';

const isNodeList = is.anyOf(is.string, is.arrayOf(is.string));
const MEMCACHED_OPTIONS: OptionSpec = {
  nodes: isNodeList,
  failoverNodes: isNodeList,
  backup: is.boolean,
  group: isGroupName,
  connectTimeout: is.positive,
  commandTimeout: is.positive,
  retryDeadNodeAfter: is.nonNegative,
  expiryGraceSeconds: is.nonNegativeInteger,
  clients: is.withMethods('an object of memcache-client instances, keyed by host:port'),
};

export interface MemcachedStoreOptions {
  /** The memcached servers, `host:port`, as an array or a comma-separated string. Sessions are spread over them by consistent hashing. */
  nodes: string[] | string;
  /** Servers used only when the `nodes` a session maps to are down (memcached-session-manager's `failoverNodes`). @default [] */
  failoverNodes?: string[] | string;
  /**
   * Keep a copy of each session on a second node (the next one on the ring), and read it when
   * the first is down, so a dead node loses no session. With a single node in `nodes`, the copy
   * goes to a failover node. @default true when `nodes` has 2 or more
   */
  backup?: boolean;
  /** The key prefix (`<group>:<id>:...`); apps sharing sessions share it. @default 'unisession' */
  group?: string;
  /** Give up connecting to a node after this many ms. @default 1000 */
  connectTimeout?: number;
  /** Give up on a node's answer after this many ms (a hung server). @default 1000 */
  commandTimeout?: number;
  /** How long a node that failed is skipped before the next call tries it again, in ms. @default 1000 */
  retryDeadNodeAfter?: number;
  /** Seconds that items outlive `expiresAt`, so clock skew between hosts never drops a live session early. @default 60 */
  expiryGraceSeconds?: number;
  /** memcache-client instances you already have, one per node, keyed by `host:port`; the store leaves them open. */
  clients?: Record<string, MemcacheClient>;
}

/** The primary and failover addresses, checked: at least one primary, none in both lists. */
function nodeLists(options: MemcachedStoreOptions): [primaries: string[], failover: string[]] {
  if (options?.nodes === undefined) throw invalid('memcachedStore needs at least one node in `nodes`');
  const primaries = parseNodes(options.nodes, 'nodes');
  const failover = parseNodes(options.failoverNodes ?? [], 'failoverNodes');
  if (primaries.length === 0) throw invalid('memcachedStore needs at least one node in `nodes`');
  const overlap = failover.find((node) => primaries.includes(node));
  if (overlap) throw invalid(`${overlap} is both in nodes and failoverNodes`);
  return [primaries, failover];
}

/**
 * memcached, laid out as memcached-session-manager would if it wrote deltas: one metadata item
 * per session and one item per attribute. See docs/stores/memcached.md.
 *
 * memcached cannot list keys, and it expires items by itself: the store has no listing,
 * principal index, sweep or lease groups, and fires no "expired" events.
 */
export function memcachedStore(options: MemcachedStoreOptions): Store {
  checkOptions('memcachedStore', options, MEMCACHED_OPTIONS);
  const [primaries, failover] = nodeLists(options);
  const group = storeGroup('memcachedStore', options.group);
  const io = new SessionIo(new KeyLayout(group), options.expiryGraceSeconds ?? 60);
  const router = new Router(io, primaries, failover, options.backup ?? primaries.length >= 2);
  return defineStore({
    name: 'memcached',
    group,
    open: async (): Promise<Nodes> => {
      const nodes = await connectNodes([...primaries, ...failover], {
        connectTimeout: options.connectTimeout ?? 1000,
        commandTimeout: options.commandTimeout ?? 1000,
        retryAfter: options.retryDeadNodeAfter ?? 1000,
        clients: options.clients,
      });
      return new Map(nodes.map((node) => [node.address, node]));
    },
    // Only the clients the store made are shut down.
    release: (nodes) => {
      for (const node of nodes.values()) node.close();
    },
    backend: memcachedBackend(router),
  });
}
