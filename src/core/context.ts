import type { CachedSessions } from './cached-sessions.js';
import type { Codec } from './codec.js';
import type { SessionEmitter } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { RequestInfo } from './request.js';
import type { IdSigner } from './signing.js';
import type { AttributeKey, Store } from './store.js';

/** What the manager shares with every request-scoped handle. Built once per manager. */
export interface SessionContext {
  options: ResolvedOptions;
  store: Store;
  /** The store as sessions load and write it: through this node's cache when there is one. */
  sessions: CachedSessions;
  codec: Codec;
  events: SessionEmitter;
  signer: IdSigner;
  trusted: (address: string | undefined) => boolean;
  /** This node's host name, recorded on the sessions it creates. */
  host: string;
  preloadKeys: AttributeKey[] | 'all';
  /** The stored key of an attribute name: shared, or in this app's namespace. */
  keyOf(name: string): AttributeKey;
  /** The id of a new session: `generateId`'s, checked, or 192 random bits. */
  newId(request: RequestInfo): string;
  /** Whether a stored key is readable by this app (shared, or its own namespace). */
  isVisible(key: AttributeKey): boolean;
  /** Reports a `warning` once per manager for each code (a per-request check that would repeat). */
  warnOnce(code: string, message: string): void;
}
