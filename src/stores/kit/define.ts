import { storeUnavailable } from '../../core/errors.js';
import type { Store, StoreCapabilities } from '../../core/store.js';
import { invalidArgument } from '../../core/validate.js';
import type { Backend, BackendListing } from './backend.js';
import {
  checkFilter,
  checkFinite,
  checkLimit,
  checkNonNegativeInteger,
  checkPositiveInteger,
  checkString,
} from './checks.js';
import { auditGroup, statsGroup } from './groups.js';
import { lazyHandle } from './lazy.js';
import { decodeCursor, orderingOf, pageOf } from './paging.js';

export interface StoreDefinition<H> {
  /** The store's name (`postgres`): errors name it, argument errors name `<name>Store.<method>`. */
  name: string;
  /** The group the store holds, checked (`storeGroup`). */
  group: string;
  /** Opens the backend (connects, creates its schema). Called on first use, and again after a failure. */
  open(): Promise<H>;
  /** Releases what `open` made, on `close`: never a client or pool the app passed in. */
  release?(handle: H): Promise<void> | void;
  /** Runs before each operation with the open handle (Redis waits there for its connection). */
  ready?(handle: H): Promise<void>;
  /**
   * A safe hint for the UNISESSION_STORE_UNAVAILABLE message that names the fix for a known
   * driver error (PostgreSQL's missing tables). Never the driver's text: clients may see it.
   */
  hint?(error: unknown): string | undefined;
  backend: Backend<H>;
}

export type Run<H> = <T>(work: (handle: H) => Promise<T>) => Promise<T>;
export type Where = (method: string) => string;
type Raw<H, G extends 'principals' | 'sweeping' | 'leases' | 'tickets'> = NonNullable<Backend<H>[G]>;
export type Group<G extends keyof StoreCapabilities> = NonNullable<StoreCapabilities[G]>;

/**
 * Builds a `Store` from a backend's raw operations, as better-auth's adapter factory does:
 * the backend holds only what is specific to it, and this adds what every store shares.
 * - the lazy open (`lazyHandle`): memoised, retried after a failure, refused after `close`;
 * - the argument checks (`checks.ts`): ids are strings, a page is 1 to 1000, filters typed;
 * - the error mapping: a driver's failure becomes UNISESSION_STORE_UNAVAILABLE, whose message
 *   names only the store (frameworks may send a message to the client) and whose `cause` is
 *   the driver's error; a `UnisessionError` the backend raises on purpose passes unchanged.
 */
export function defineStore<H>(definition: StoreDefinition<H>): Store {
  const { name, backend } = definition;
  const handle = lazyHandle(name, definition.open, definition.release);
  const where: Where = (method) => `${name}Store.${method}`;
  const run: Run<H> = async (work) => {
    try {
      const opened = await handle.get();
      if (definition.ready) await definition.ready(opened);
      return await work(opened);
    } catch (error) {
      throw storeUnavailable(name, error, definition.hint?.(error));
    }
  };
  const checkId = (method: string, value: string) => checkString(where(method), 'id', value);
  return {
    name,
    group: definition.group,
    async load(id, keys, now, knownVersion) {
      checkId('load', id);
      if (knownVersion !== undefined) checkNonNegativeInteger(where('load'), 'knownVersion', knownVersion);
      return run((h) => backend.load(h, id, keys, now, knownVersion));
    },
    async loadAttributes(id, keys) {
      checkId('loadAttributes', id);
      return run((h) => backend.loadAttributes(h, id, keys));
    },
    async create(meta, attributes) {
      checkId('create', meta.id);
      return run((h) => backend.create(h, meta, attributes));
    },
    async update(id, change) {
      checkId('update', id);
      return run((h) => backend.update(h, id, change));
    },
    async destroy(id) {
      checkId('destroy', id);
      return run((h) => backend.destroy(h, id));
    },
    async rename(oldId, newId) {
      checkId('rename', oldId);
      checkId('rename', newId);
      return run((h) => backend.rename(h, oldId, newId));
    },
    ...capabilities(backend, run, where),
    close: () => handle.close(),
  };
}

/** The capability groups the backend has (and only those), each checking its arguments first. */
function capabilities<H>(backend: Backend<H>, run: Run<H>, where: Where): StoreCapabilities {
  const groups: { -readonly [G in keyof StoreCapabilities]: StoreCapabilities[G] } = {};
  if (backend.listing) groups.listing = listingGroup(backend.listing, run, where);
  if (backend.principals) groups.principals = principalsGroup(backend.principals, run, where);
  if (backend.sweeping) groups.sweeping = sweepingGroup(backend.sweeping, run, where);
  if (backend.leases) groups.leases = leasesGroup(backend.leases, run, where);
  if (backend.stats) groups.stats = statsGroup(backend.stats, run, where);
  if (backend.audit) groups.audit = auditGroup(backend.audit, run, where);
  if (backend.tickets) groups.tickets = ticketsGroup(backend.tickets, run, where);
  return groups;
}

function listingGroup<H>(listing: BackendListing<H>, run: Run<H>, where: Where): Group<'listing'> {
  return {
    async list(options) {
      const at = where('listing.list');
      checkFilter(at, options);
      const limit = checkLimit(at, options.limit);
      const { sort: _sort, order: _order, limit: _limit, cursor, ...filter } = options;
      const ordering = orderingOf(options);
      const after = cursor === undefined ? undefined : decodeCursor(at, cursor, ordering);
      const found = await run((h) => listing.list(h, { filter, limit, ordering, after }));
      return pageOf(found, limit, ordering);
    },
    async count(options) {
      checkFilter(where('listing.count'), options);
      // A count ignores paging keys a caller passes along with a list filter.
      const {
        sort: _sort,
        order: _order,
        limit: _limit,
        cursor: _cursor,
        ...filter
      } = options as typeof options & { sort?: unknown; order?: unknown; limit?: unknown; cursor?: unknown };
      return run((h) => listing.count(h, filter));
    },
  };
}

function principalsGroup<H>(
  principals: Raw<H, 'principals'>,
  run: Run<H>,
  where: Where,
): Group<'principals'> {
  return {
    async find(principal) {
      checkString(where('principals.find'), 'principal', principal);
      return run((h) => principals.find(h, principal));
    },
  };
}

function sweepingGroup<H>(sweeping: Raw<H, 'sweeping'>, run: Run<H>, where: Where): Group<'sweeping'> {
  return {
    async sweep(now, limit) {
      checkFinite(where('sweeping.sweep'), 'now', now);
      checkPositiveInteger(where('sweeping.sweep'), 'limit', limit);
      return run((h) => sweeping.sweep(h, now, limit));
    },
  };
}

function leasesGroup<H>(leases: Raw<H, 'leases'>, run: Run<H>, where: Where): Group<'leases'> {
  return {
    async acquire(name, holder, ttlMs, now) {
      const at = where('leases.acquire');
      checkString(at, 'name', name);
      checkString(at, 'holder', holder);
      checkFinite(at, 'ttlMs', ttlMs);
      checkFinite(at, 'now', now);
      return run((h) => leases.acquire(h, name, holder, ttlMs, now));
    },
  };
}

/** Tickets' keys and values are text; a TTL is a positive, finite number of ms. */
function ticketsGroup<H>(tickets: Raw<H, 'tickets'>, run: Run<H>, where: Where): Group<'tickets'> {
  return {
    async put(key, value, ttlMs, now) {
      const at = where('tickets.put');
      checkTicketKey(at, key);
      checkString(at, 'value', value);
      if (checkFinite(at, 'ttlMs', ttlMs) <= 0) throw invalidArgument(at, 'ttlMs', 'a number > 0', ttlMs);
      checkFinite(at, 'now', now);
      return run((h) => tickets.put(h, key, value, ttlMs, now));
    },
    async take(key, now) {
      const at = where('tickets.take');
      checkTicketKey(at, key);
      checkFinite(at, 'now', now);
      return run((h) => tickets.take(h, key, now));
    },
  };
}

/** Ticket keys become Redis keys and memcached keys: printable ASCII, no spaces, 1 to 200 characters. */
function checkTicketKey(where: string, key: unknown): void {
  checkString(where, 'key', key);
  if (!/^[\x21-\x7e]{1,200}$/.test(key as string)) {
    throw invalidArgument(where, 'key', '1 to 200 printable ASCII characters without spaces', key);
  }
}
