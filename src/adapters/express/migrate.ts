import { hostname } from 'node:os';
import { isUnisessionError, storeUnavailable } from '../../core/errors.js';
import type { SessionManager } from '../../core/manager.js';
import { nameProblem } from '../../core/names.js';
import { pathOf } from '../../core/request.js';
import { type AttributeKey, attributeKey, type SessionMeta } from '../../core/store.js';
import { type CookieData, cookieOverrides, readOverrides } from './cookie.js';
import { type LegacySession, type LegacyStore, legacyDestroy, legacyGet } from './legacy-store.js';

/** Who is asking, for the metadata of the migrated session. */
export interface MigratingClient {
  clientAddress: string;
  userAgent: string;
  /** The request's URL; only its path is kept, as for any new session. */
  url: string;
}

/**
 * Moves one session from the express-session store the app used before into unisession's,
 * under the same id, so that its user stays logged in. Run when a request presents a valid
 * express-session cookie whose id the unisession store does not know.
 *
 * - The id is adopted only because the old store really holds it (and its cookie's signature
 *   verified): an unknown id is never adopted, so this opens no session fixation.
 * - Each top-level key becomes one attribute; `cookie` is dropped, its expiry becoming the
 *   session's, and only a lifetime that differs from the configured one is kept (as the
 *   session's `cookie` attribute, see `cookieOverrides`).
 * - Two requests migrating the same id at once: one create wins, the other fails with
 *   UNISESSION_SESSION_EXISTS and its request simply loads the winner's session.
 * - The old copy is removed once the new one exists (or was there already).
 *
 * Returns whether the unisession store holds the session afterwards. A failure of either
 * store throws UNISESSION_STORE_UNAVAILABLE: the request fails and the user keeps the old
 * session, to be migrated on a later request, rather than being logged out.
 */
export async function migrateSession(
  manager: SessionManager,
  legacy: LegacyStore,
  id: string,
  configured: CookieData,
  client: MigratingClient,
): Promise<boolean> {
  const now = Date.now();
  if (await manager.store.load(id, [], now)) return true;
  let old: LegacySession | null;
  try {
    old = await legacyGet(legacy, id);
  } catch (error) {
    throw storeUnavailable('migrateFrom', error);
  }
  if (old === null) return false;
  const session = toUnisession(manager, old, id, configured, client, now);
  if (session) {
    try {
      await manager.store.create(session.meta, session.attributes);
    } catch (error) {
      // Another request migrated it first: the session exists, which is all this one needs.
      if (!isUnisessionError(error, 'UNISESSION_SESSION_EXISTS')) throw error;
    }
  }
  try {
    await legacyDestroy(legacy, id);
  } catch (error) {
    // The copy is made; a leftover in the old store is never read again once the cookie is re-issued.
    manager.reportError(error, 'migrateFrom');
  }
  return session !== null;
}

/** The metadata and attributes of an express-session session; null when it has expired already. */
function toUnisession(
  manager: SessionManager,
  old: LegacySession,
  id: string,
  configured: CookieData,
  client: MigratingClient,
  now: number,
): { meta: SessionMeta; attributes: Map<AttributeKey, string> } | null {
  const { options, codec } = manager;
  const cookie = old.cookie ?? {};
  const expires = cookie.expires ? new Date(cookie.expires).getTime() : Number.NaN;
  if (Number.isFinite(expires) && expires <= now) return null;
  const lifetime =
    typeof cookie.originalMaxAge === 'number' && cookie.originalMaxAge > 0 ? cookie.originalMaxAge : null;
  const maxInactive = lifetime === null ? options.maxInactive : Math.round(lifetime);
  const absoluteExpiresAt = options.absoluteTimeout > 0 ? now + options.absoluteTimeout : null;
  const sliding = Number.isFinite(expires) ? expires : maxInactive > 0 ? now + maxInactive : null;
  const expiresAt =
    absoluteExpiresAt === null
      ? sliding
      : sliding === null
        ? absoluteExpiresAt
        : Math.min(sliding, absoluteExpiresAt);
  const meta: SessionMeta = {
    id,
    app: options.app,
    createdAt: now,
    lastAccessedAt: now,
    maxInactive,
    expiresAt,
    absoluteExpiresAt,
    principal: null,
    host: hostname(),
    clientAddress: client.clientAddress,
    userAgent: client.userAgent.slice(0, 512),
    createdUrl: pathOf(client.url).slice(0, 512),
    lastUrl: pathOf(client.url).slice(0, 512),
    lastHost: hostname(),
  };
  const attributes = new Map<AttributeKey, string>();
  const keyOf = (name: string) => attributeKey(options.isShared(name) ? '' : options.app, name);
  for (const [name, value] of Object.entries(old)) {
    // A name unisession cannot hold, or a value it cannot encode, is left behind (and reported), never a crash.
    if (name === 'cookie' || value === undefined || nameProblem(name) !== undefined) continue;
    try {
      attributes.set(keyOf(name), codec.encode(value));
    } catch (error) {
      manager.reportError(error, 'migrateFrom');
    }
  }
  const overrides = cookieOverrides(
    { ...configured, ...readOverrides(cookie), originalMaxAge: lifetime },
    configured,
  );
  // Only the lifetime carries over: other attributes (path, domain...) follow the new configuration.
  if ('originalMaxAge' in overrides)
    attributes.set(keyOf('cookie'), codec.encode({ originalMaxAge: lifetime }));
  return { meta, attributes };
}
