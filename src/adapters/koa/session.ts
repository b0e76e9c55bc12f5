import { internalsOf, type Session } from '../../core/session.js';
import { invalidArgument } from '../../core/validate.js';
import { commitHeaders } from '../kit/commit.js';
import {
  clearProperties,
  exposeAttributes,
  handleOf,
  refill,
  reservedNames,
  setAttribute,
} from '../kit/property-session.js';

/** Adds response headers to the Koa context. */
export type AppendHeaders = (headers: Array<[string, string]>) => void;

/**
 * `ctx.session`: the attributes are its own enumerable properties (`ctx.session.views = 1`);
 * they are copied into the native handle once, when it commits.
 */
export class KoaSession {
  readonly #append: AppendHeaders;

  constructor(handle: Session, append: AppendHeaders) {
    this.#append = append;
    exposeAttributes(this, handle, RESERVED);
  }

  /** True when the session did not exist before this request. */
  get isNew(): boolean {
    return handleOf(this).isNew;
  }

  /** True when the session holds at least one attribute (koa-session's `populated`). */
  get populated(): boolean {
    return Object.keys(this).length > 0;
  }

  /** The session id (a new one after `regenerate()`). */
  get id(): string | undefined {
    return handleOf(this).id;
  }

  /** Setting it changes this session's sliding lifetime in ms ("remember me"). */
  set maxAge(ms: number) {
    internalsOf(handleOf(this)).setMaxInactiveSync(ms);
  }

  /** The attributes as a plain object. */
  toJSON(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this));
  }

  /**
   * Writes the changes and sets the cookie now, instead of after the middleware chain: call
   * it before writing to `ctx.res` yourself (`ctx.respond = false`).
   */
  async save(): Promise<void> {
    // The handle's commit copies `ctx.session`'s changes in first (see the middleware).
    this.#append(await commitHeaders(handleOf(this)));
  }

  /** A new id; the old one then loads nothing anywhere. Keeps the attributes unless told not to. */
  async regenerate(options: { keepAttributes?: boolean } = {}): Promise<void> {
    await handleOf(this).regenerate(options);
    if (options.keepAttributes === false) refill(this, RESERVED);
  }
}

/**
 * The names `ctx.session` keeps for itself (its methods and getters, Object.prototype's): a
 * stored attribute with one of these names is read through `ctx.sessionHandle` only.
 */
export const RESERVED = reservedNames(KoaSession);

/** `ctx.session = { ... }`: a session whose attributes are exactly `value`'s, the loaded ones removed. */
export function replacement(handle: Session, append: AppendHeaders, value: unknown): KoaSession {
  if (typeof value !== 'object' || value === null)
    throw invalidArgument('ctx.session =', 'the value', 'null or an object', value);
  const session = new KoaSession(handle, append);
  clearProperties(session);
  for (const [name, attribute] of Object.entries(value)) {
    setAttribute(session, name, attribute, RESERVED);
  }
  return session;
}
