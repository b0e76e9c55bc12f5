import { createHash } from 'node:crypto';
import UAParser from 'ua-parser-js';
import type { Device } from './admin-types.js';
import type { SessionContext } from './context.js';
import { UnisessionError } from './errors.js';
import type { SessionMeta, StorePrincipals } from './store.js';

/**
 * "Your sessions" for a signed-in user: their live sessions as devices, signing out the
 * others, and `maxSessionsPerPrincipal`. All of it goes through the store's principal index.
 */

function principalsOf(context: SessionContext): StorePrincipals {
  const { principals } = context.store;
  if (!principals)
    throw new UnisessionError(
      'UNISESSION_UNSUPPORTED',
      `the ${context.store.name} store has no principal index`,
    );
  return principals;
}

/** The live sessions of `principal` other than `exceptId`, read from the store. */
async function otherSessions(
  context: SessionContext,
  principal: string,
  exceptId: string,
): Promise<SessionMeta[]> {
  const ids = (await principalsOf(context).find(principal)).filter((id) => id !== exceptId);
  const now = Date.now();
  const loaded = await Promise.all(ids.map((id) => context.store.load(id, [], now)));
  // The index may still name a session whose principal changed meanwhile: check each.
  return loaded.flatMap((session) => (session?.meta.principal === principal ? [session.meta] : []));
}

/**
 * An opaque, stable token for a session: a hash of its id, so a page can name another of the
 * user's sessions without showing its id (which would let anyone who sees the page take it
 * over). Every node computes the same one, so the page and the "sign out" request may be
 * served by different nodes.
 */
export function deviceHandle(id: string): string {
  return createHash('sha256').update(`unisession-device\0${id}`).digest('base64url').slice(0, 22);
}

/** The masked form of an id shown to users: enough to tell sessions apart, never enough to use one. */
export const maskId = (id: string): string => `${id.slice(0, 8)}…`;

function deviceOf(meta: SessionMeta, current: boolean): Device {
  const parsed = new UAParser(meta.userAgent).getResult();
  const browser = [parsed.browser.name, parsed.browser.version].filter(Boolean).join(' ');
  const os = [parsed.os.name, parsed.os.version].filter(Boolean).join(' ');
  return {
    id: maskId(meta.id),
    handle: deviceHandle(meta.id),
    current,
    browser,
    os,
    // ua-parser names no type for desktops; a browser it recognised without one is one.
    deviceType: parsed.device.type ?? (parsed.browser.name ? 'desktop' : ''),
    clientAddress: meta.clientAddress,
    createdAt: meta.createdAt,
    lastAccessedAt: meta.lastAccessedAt,
    lastHost: meta.lastHost,
  };
}

/** The user's live sessions, this one first, then the most recently seen. [] without a principal. */
export async function listDevices(context: SessionContext, current: SessionMeta): Promise<Device[]> {
  if (current.principal === null) return [];
  const others = await otherSessions(context, current.principal, current.id);
  others.sort((a, b) => b.lastAccessedAt - a.lastAccessedAt);
  return [deviceOf(current, true), ...others.map((meta) => deviceOf(meta, false))];
}

async function destroyAll(
  context: SessionContext,
  metas: SessionMeta[],
  reason: 'revoked' | 'evicted',
): Promise<number> {
  const removed = await Promise.all(metas.map((meta) => context.store.destroy(meta.id)));
  let n = 0;
  for (const meta of removed) {
    if (!meta) continue;
    context.events.emit('destroyed', { meta, reason });
    n++;
  }
  return n;
}

/** Signs the user out of every session but `current` (reason 'revoked'); returns how many ended. */
export async function revokeOthers(context: SessionContext, current: SessionMeta): Promise<number> {
  if (current.principal === null) return 0;
  return destroyAll(context, await otherSessions(context, current.principal, current.id), 'revoked');
}

/** Ends the user's other session whose handle this is; false for an unknown handle or the current session. */
export async function revokeDevice(
  context: SessionContext,
  current: SessionMeta,
  handle: string,
): Promise<boolean> {
  if (current.principal === null) return false;
  const target = (await otherSessions(context, current.principal, current.id)).find(
    (meta) => deviceHandle(meta.id) === handle,
  );
  return target ? (await destroyAll(context, [target], 'revoked')) === 1 : false;
}

/**
 * `maxSessionsPerPrincipal`, when session `id` is about to get `principal`: with room, nothing;
 * else the oldest others are evicted, or the login is refused before anything is written.
 */
export async function enforceSessionLimit(
  context: SessionContext,
  id: string,
  principal: string,
): Promise<void> {
  const limit = context.options.maxSessionsPerPrincipal;
  if (!limit) return;
  const others = await otherSessions(context, principal, id);
  const excess = others.length + 1 - limit.limit;
  if (excess <= 0) return;
  if (limit.policy === 'refuse') {
    throw new UnisessionError('UNISESSION_TOO_MANY_SESSIONS', `at most ${limit.limit} per user`);
  }
  others.sort((a, b) => a.createdAt - b.createdAt || a.lastAccessedAt - b.lastAccessedAt);
  await destroyAll(context, others.slice(0, excess), 'evicted');
}
