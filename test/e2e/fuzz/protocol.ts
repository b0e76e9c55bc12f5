/**
 * What the fuzz tests and their server processes (test/e2e/fuzz/fixtures) agree on: the group's
 * settings, the routes, and the messages on the IPC channel between them.
 */

/** The group every fuzz app belongs to; names the SQLite tables. */
export const GROUP = 'fuzz';
/** The secret every app of the group signs with (they share sessions, so they share it). */
export const SECRET = 'fuzz-group-secret-0123456789abcdef';
/** A secret of some other site: a cookie it signed must never verify here. */
export const FOREIGN_SECRET = 'a-foreign-sites-secret-fedcba9876543210';
export const COOKIE_NAME = 'unisession';
export const ID_HEADER = 'x-session-id';
/**
 * Every failure the fault-injecting store throws carries this text. It stands for what a
 * driver's message holds (file paths, SQL, addresses), so no response may ever contain it.
 */
export const INTERNAL_TEXT = 'SQLITE_IOERR fuzz-internal-detail /var/lib/secret.sqlite';

export const ADAPTERS = ['node', 'express', 'koa', 'fastify', 'hono', 'web'] as const;
export type Adapter = (typeof ADAPTERS)[number];
/** The one app that trusts X-Forwarded-* from any peer; the others trust none. */
export const TRUSTING_ADAPTER: Adapter = 'koa';

/**
 * The routes each fuzz app serves, as a user would write them:
 * - `read`: the visible attributes and the id the handler sees (read-only);
 * - `prop`: `marker` and `count` read through the property-style API where there is one;
 * - `inc`: increments the app's private `count`;
 * - `login`: regenerate, then setPrincipal and a `user` attribute (`?user=`);
 * - `logout`: ends the session.
 */
export const ROUTES = ['read', 'prop', 'inc', 'login', 'logout'] as const;
export type Route = (typeof ROUTES)[number];
export const READ_ONLY_ROUTES = ['read', 'prop'] as const satisfies readonly Route[];

/** Every attribute is shared by the group except each app's private counter. */
export const isShared = (name: string): boolean => name !== 'count';

/** Parent → child: make the store fail every call (`down`) or work again. */
export interface FaultMessage {
  type: 'fault';
  down: boolean;
}

/** Child → parent: an acknowledged fault switch, or an error that reached the process. */
export type ChildMessage =
  | { type: 'fault'; down: boolean }
  | { type: 'crash'; kind: 'uncaughtException' | 'unhandledRejection'; text: string };
