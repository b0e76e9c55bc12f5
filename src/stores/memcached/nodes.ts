import type { MemcacheClient } from 'memcache-client';
import { UnisessionError } from '../../core/errors.js';
import { loadDriver } from '../kit/driver.js';

/** A value as read with `gets`, with the token a later `cas` must present. */
export interface Item {
  value: string;
  cas: string | number;
}

/** The calls the store makes on one node's client, typed as the store uses them. */
interface NodeClient {
  gets(keys: string[]): Promise<Record<string, { value: unknown; casUniq?: string | number } | undefined>>;
  set(key: string, value: string, options: { lifetime: number }): Promise<unknown>;
  add(key: string, value: string, options: { lifetime: number }): Promise<unknown>;
  replace(key: string, value: string, options: { lifetime: number }): Promise<unknown>;
  cas(key: string, value: string, options: { lifetime: number; casUniq: string | number }): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  touch(key: string, exptime: number): Promise<unknown>;
  shutdown(): void;
}

/** A node that cannot be reached (refused, timed out, connection lost) or is resting after that. */
export class NodeDown extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(`${address}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export type CasResult = 'stored' | 'exists' | 'not_found';

/**
 * One memcached server behind one single-server client, plus the liveness bookkeeping that
 * makes a dead server cost nothing: after a transport failure the node is skipped for
 * `retryAfter` ms, then the next call probes it again (so it recovers by itself).
 * Protocol answers (NOT_STORED, EXISTS, NOT_FOUND) are results, not failures.
 */
export class MemcachedNode {
  private deadUntil = 0;

  constructor(
    readonly address: string,
    private readonly client: NodeClient,
    private readonly retryAfter: number,
    private readonly owned: boolean,
  ) {}

  isUp(now = Date.now()): boolean {
    return this.deadUntil <= now;
  }

  async getMany(keys: string[]): Promise<Map<string, Item>> {
    const unique = [...new Set(keys)];
    const found = await this.run(() => this.client.gets(unique), {});
    const items = new Map<string, Item>();
    for (const key of unique) {
      const hit = found[key];
      // Anything but a plain string was not written by this store: treat it as absent.
      if (hit && typeof hit.value === 'string') items.set(key, { value: hit.value, cas: hit.casUniq ?? 0 });
    }
    return items;
  }

  /** `set` always stores; `add` only if absent, `replace` only if present: false when refused. */
  store(command: 'set' | 'add' | 'replace', key: string, value: string, exptime: number): Promise<boolean> {
    return this.run(() => this.client[command](key, value, { lifetime: exptime }).then(() => true), {
      NOT_STORED: false,
    });
  }

  cas(key: string, value: string, exptime: number, token: string | number): Promise<CasResult> {
    return this.run(
      () =>
        this.client.cas(key, value, { lifetime: exptime, casUniq: token }).then((): CasResult => 'stored'),
      { EXISTS: 'exists', NOT_FOUND: 'not_found' },
    );
  }

  delete(key: string): Promise<boolean> {
    return this.run(() => this.client.delete(key).then(() => true), { NOT_FOUND: false });
  }

  touch(key: string, exptime: number): Promise<boolean> {
    return this.run(() => this.client.touch(key, exptime).then(() => true), { NOT_FOUND: false });
  }

  close(): void {
    if (this.owned) this.client.shutdown();
  }

  private async run<T>(call: () => Promise<T>, answers: Record<string, T>): Promise<T> {
    if (!this.isUp())
      throw new NodeDown(this.address, new Error('marked down after a failure; retried soon'));
    try {
      return await call();
    } catch (error) {
      const token = protocolAnswer(error);
      if (token !== undefined && Object.hasOwn(answers, token)) return answers[token]!;
      if (token === 'SERVER_ERROR' && /too large/i.test((error as Error).message)) {
        throw new UnisessionError(
          'UNISESSION_VALUE_TOO_LARGE',
          `memcached ${this.address}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      // Any other protocol answer means the server is up but refused us: not a node failure
      // (the store kit reports it as UNISESSION_STORE_UNAVAILABLE).
      if (token !== undefined) throw error;
      this.deadUntil = Date.now() + this.retryAfter;
      throw new NodeDown(this.address, error);
    }
  }
}

/** memcache-client attaches the server's reply line to protocol errors; transport errors have none. */
function protocolAnswer(error: unknown): string | undefined {
  const tokens = (error as { cmdTokens?: unknown } | null)?.cmdTokens;
  return Array.isArray(tokens) && typeof tokens[0] === 'string' ? tokens[0] : undefined;
}

export interface ConnectOptions {
  connectTimeout: number;
  commandTimeout: number;
  retryAfter: number;
  /** Clients the app already has, by node address; the store does not shut them down. */
  clients?: Record<string, MemcacheClient>;
}

type MemcacheModule = typeof import('memcache-client');

/** One node per address, each with its own single-server client. */
export async function connectNodes(addresses: string[], options: ConnectOptions): Promise<MemcachedNode[]> {
  const needsDriver = addresses.some((address) => !options.clients?.[address]);
  const mod = needsDriver ? await loadDriver<MemcacheModule>('memcache-client', 'memcached') : undefined;
  return addresses.map((address) => {
    const own = options.clients?.[address];
    const client =
      own ??
      new mod!.MemcacheClient({
        server: address,
        connectTimeout: options.connectTimeout,
        cmdTimeout: options.commandTimeout,
        noDelay: true,
      });
    return new MemcachedNode(address, client as unknown as NodeClient, options.retryAfter, own === undefined);
  });
}

const ADDRESS = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** `host:port` list from an array or a comma-separated string; duplicates dropped. */
export function parseNodes(value: string[] | string, option: string): string[] {
  const list = (typeof value === 'string' ? value.split(',') : value)
    .map((node) => node.trim())
    .filter(Boolean);
  for (const node of list) {
    const port = Number(node.slice(node.lastIndexOf(':') + 1));
    if (!ADDRESS.test(node) || port < 1 || port > 65535)
      throw invalid(`${option}: "${node}" is not host:port`);
  }
  return [...new Set(list)];
}

export function invalid(detail: string): UnisessionError {
  return new UnisessionError('UNISESSION_INVALID_OPTION', detail);
}
