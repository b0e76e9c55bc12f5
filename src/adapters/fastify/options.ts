import type { FastifyRequest } from 'fastify';
import { UnisessionError } from '../../core/errors.js';
import type { CookieOptions, SessionOptions } from '../../core/options.js';
import { is } from '../../core/validate.js';
import { type ForeignOption, foreignOptions, generatorOf, notForeignStore } from '../kit/foreign-options.js';

/** @fastify/session's `cookie` option: its attributes, beside unisession's own cookie options. */
export interface FastifyCookieOptions extends Omit<CookieOptions, 'sameSite'> {
  /** ms; makes the cookie persistent and sets `maxInactive`. */
  maxAge?: number;
  /** `'strict'`, `'lax'`, `'none'`, or `true` (`'strict'`). */
  sameSite?: 'lax' | 'strict' | 'none' | true;
}

const refused = (name: string, reason: string) =>
  new UnisessionError(
    'UNISESSION_INVALID_OPTION',
    `unisession (fastify): option "${name}" is not supported: ${reason}`,
  );

const COOKIE: ForeignOption = {
  check: is.object({
    name: is.nonEmptyString,
    path: is.matching(/^\//, 'a path starting with "/"'),
    domain: is.nonEmptyString,
    httpOnly: is.boolean,
    secure: is.anyOf(is.boolean, is.oneOf('auto')),
    sameSite: is.anyOf(is.oneOf('lax', 'strict', 'none', true)),
    hostPrefix: is.boolean,
    persistent: is.boolean,
    maxAge: is.nonNegative,
    expires: is.any,
    partitioned: is.any,
  }),
  apply(
    value: Omit<FastifyCookieOptions, 'sameSite'> & {
      sameSite?: unknown;
      expires?: unknown;
      partitioned?: unknown;
    },
    core,
  ) {
    const { maxAge, expires, partitioned, sameSite, ...rest } = value;
    if (expires !== undefined)
      throw refused('cookie.expires', 'a fixed Expires date; use `cookie.maxAge` (ms) for a lifetime');
    if (partitioned !== undefined && partitioned !== false)
      throw refused(
        'cookie.partitioned',
        'the Fastify adapter sends no Partitioned attribute (the Express adapter does)',
      );
    core.cookie = { ...rest, ...core.cookie };
    if (sameSite !== undefined) core.cookie.sameSite ??= sameSite === true ? 'strict' : (sameSite as 'lax');
    if (maxAge !== undefined) {
      core.maxInactive ??= maxAge;
      core.cookie.persistent ??= true;
    }
  },
};

/**
 * @fastify/session's documented options (v11): each works as there, differs in a way
 * docs/frameworks.md names, or is refused at start-up with what to use instead. `secret`
 * and `saveUninitialized` are unisession's own options already.
 */
const FASTIFY_SESSION_OPTIONS: Record<string, ForeignOption> = {
  cookieName: {
    check: is.nonEmptyString,
    apply(name: string, core) {
      core.cookie = { ...core.cookie, name: core.cookie?.name ?? name };
    },
  },
  cookie: COOKIE,
  cookiePrefix: {
    refused:
      "the cookie holds unisession's own `id.signature`; the Express adapter reads express-session's `s:` cookies (legacyCookies)",
  },
  rolling: {
    check: is.boolean,
    // Re-sending the cookie on every response means recording every access: no throttle.
    apply(rolling: boolean, core) {
      if (rolling) core.touchInterval ??= 0;
    },
  },
  idGenerator: {
    check: is.function,
    apply: (generate: (request: FastifyRequest) => string, core) => {
      core.generateId ??= generatorOf(generate);
    },
  },
  store: {
    check: notForeignStore('@fastify/session or express-session'),
    apply: (store: SessionOptions['store'], core) => {
      core.store = store;
    },
  },
};

/** The Fastify adapter's own options: @fastify/session's, mapped onto unisession's or refused. */
export const FASTIFY_OPTIONS = foreignOptions('unisession (fastify)', FASTIFY_SESSION_OPTIONS);

/** unisession's options plus @fastify/session's that it understands (see docs/frameworks.md#fastify). */
export interface FastifySessionOptions extends Omit<SessionOptions, 'cookie'> {
  /** @fastify/session's cookie name (unisession's `cookie.name`). @default 'unisession' (@fastify/session: 'sessionId') */
  cookieName?: string;
  cookie?: FastifyCookieOptions;
  /** true records every access (touchInterval 0), so the cookie is re-sent on every response. @default false (@fastify/session: true) */
  rolling?: boolean;
  /** Makes each new session's id from the request; checked as `generateId`. */
  idGenerator?: (request: FastifyRequest) => string;
}
