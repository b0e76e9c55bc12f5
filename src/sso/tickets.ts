import { createHash, randomBytes } from 'node:crypto';
import { UnisessionError } from '../core/errors.js';
import type { Store, StoreTickets } from '../core/store.js';

/**
 * SSO tickets, after CAS Protocol 3.0 §3.1 and Appendix B: 256 random bits, bound to the
 * client, the redirect URI and the session, valid for a short time, and usable once whether
 * or not validation succeeds, because it is taken from the store before anything is checked.
 *
 * The store holds the ticket under its SHA-256 hash, never the ticket itself: whoever can read
 * the store (a backup, a `KEYS *`) finds nothing a browser could redeem. The ticket is never
 * logged or put in an error message.
 */

/** What a ticket stands for, as stored (JSON) under the ticket's hash. */
export interface TicketGrant {
  /** The client id it was issued to. */
  client: string;
  /** The redirect URI it was issued for: the one callback that may redeem it. */
  redirectUri: string;
  /** The hub's session: the client's cookie will name this same session. */
  session: string;
  /** The user, for the client's own records. */
  principal: string;
}

/** `ST-` and 43 base64url characters (32 random bytes). CAS requires the prefix and ≥ 32 characters. */
const TICKET = /^ST-[A-Za-z0-9_-]{43}$/;

export const DEFAULT_TICKET_TTL = 60_000;

/** The store's tickets group, or one clear error saying the store cannot hold tickets. */
export function ticketsOf(store: Store, where: string): StoreTickets {
  if (!store.tickets) {
    throw new UnisessionError(
      'UNISESSION_UNSUPPORTED',
      `${where}: the ${store.name} store has no tickets group, which SSO tickets need`,
    );
  }
  return store.tickets;
}

const storeKey = (ticket: string) => `sso:${createHash('sha256').update(ticket).digest('base64url')}`;

export async function issueTicket(tickets: StoreTickets, grant: TicketGrant, ttlMs: number): Promise<string> {
  const ticket = `ST-${randomBytes(32).toString('base64url')}`;
  await tickets.put(storeKey(ticket), JSON.stringify(grant), ttlMs, Date.now());
  return ticket;
}

/**
 * Takes the ticket from the store: from here on it is spent, whatever the caller decides.
 * Null when it is malformed, unknown, expired or already taken (the caller cannot tell which,
 * and neither can an attacker).
 */
export async function takeTicket(
  tickets: StoreTickets,
  ticket: string | undefined,
): Promise<TicketGrant | null> {
  if (ticket === undefined || !TICKET.test(ticket)) return null;
  const stored = await tickets.take(storeKey(ticket), Date.now());
  if (stored === null) return null;
  try {
    const grant = JSON.parse(stored) as Partial<TicketGrant>;
    const fields = [grant.client, grant.redirectUri, grant.session, grant.principal];
    return fields.every((field) => typeof field === 'string') ? (grant as TicketGrant) : null;
  } catch {
    return null;
  }
}
