import { UnisessionError } from '../../core/errors.js';
import type { CookieOptions, SessionOptions } from '../../core/options.js';
import { is } from '../../core/validate.js';
import { type ForeignOption, foreignOptions, generatorOf, notForeignStore } from '../kit/foreign-options.js';

const cookie = (core: SessionOptions): CookieOptions => {
  core.cookie ??= {};
  return core.cookie;
};

/**
 * koa-session's documented options (v7): each works as there, differs in a way
 * docs/frameworks.md names, or is refused at start-up with what to use instead.
 */
const KOA_SESSION_OPTIONS: Record<string, ForeignOption> = {
  key: {
    check: is.nonEmptyString,
    apply: (name: string, core) => {
      cookie(core).name ??= name;
    },
  },
  maxAge: {
    check: is.anyOf(is.nonNegative, is.oneOf('session')),
    apply(maxAge: number | 'session', core) {
      if (maxAge === 'session') {
        cookie(core).persistent ??= false;
        return;
      }
      core.maxInactive ??= maxAge;
      cookie(core).persistent ??= true;
    },
  },
  httpOnly: {
    check: is.boolean,
    apply: (value: boolean, core) => {
      cookie(core).httpOnly ??= value;
    },
  },
  secure: {
    check: is.boolean,
    apply: (value: boolean, core) => {
      cookie(core).secure ??= value;
    },
  },
  path: {
    check: is.matching(/^\//, 'a path starting with "/"'),
    apply: (value: string, core) => {
      cookie(core).path ??= value;
    },
  },
  domain: {
    check: is.nonEmptyString,
    apply: (value: string, core) => {
      cookie(core).domain ??= value;
    },
  },
  sameSite: {
    // koa-session's `null` (its default) sends no SameSite; unisession always sends one, Lax by default.
    check: is.anyOf(is.oneOf('lax', 'strict', 'none'), (value) => (value === null ? undefined : 'null')),
    apply(value: 'lax' | 'strict' | 'none' | null, core) {
      if (value !== null) cookie(core).sameSite ??= value;
    },
  },
  signed: {
    check: is.boolean,
    apply(signed: boolean, core) {
      if (signed && core.secret === undefined)
        throw refusal(
          'signed',
          'true needs the `secret` option (unisession signs with its own secret, not app.keys)',
        );
      if (!signed && core.secret !== undefined)
        throw refusal('signed', 'false contradicts `secret`: leave `secret` out for unsigned ids');
    },
  },
  overwrite: {
    check: (value) => (value === true ? undefined : 'true (the one session cookie is always overwritten)'),
    apply: () => undefined,
  },
  autoCommit: {
    check: (value) =>
      value === true ? undefined : 'true (the session is always committed before the response is written)',
    apply: () => undefined,
  },
  rolling: {
    check: is.boolean,
    // Re-sending the cookie on every response means recording every access: no throttle.
    apply(rolling: boolean, core) {
      if (rolling) core.touchInterval ??= 0;
    },
  },
  renew: { check: is.boolean, apply: () => undefined },
  genid: {
    check: is.function,
    apply: (genid: (ctx: never) => string, core) => {
      core.generateId ??= generatorOf(genid);
    },
  },
  store: {
    check: notForeignStore('koa-session'),
    apply: (store: SessionOptions['store'], core) => {
      core.store = store;
    },
  },
  encode: { refused: 'attribute values are encoded by the `codec` option (a unisession Codec)' },
  decode: { refused: 'attribute values are decoded by the `codec` option (a unisession Codec)' },
  valid: {
    refused: 'there are no validation hooks; check the session in your own middleware after unisession()',
  },
  beforeSave: {
    refused: 'there are no save hooks; change the session in your own middleware before the response',
  },
  prefix: { refused: "ids have no prefix; the store's `group` names its key prefix" },
  ContextStore: { refused: 'pass a unisession store as `store`' },
  externalKey: { refused: 'the id travels in the cookie, or in a header with the `header` option' },
};

function refusal(name: string, reason: string): UnisessionError {
  return new UnisessionError('UNISESSION_INVALID_OPTION', `unisession (koa): option "${name}" ${reason}`);
}

/** The Koa adapter's own options: koa-session's, mapped onto unisession's or refused. */
export const KOA_OPTIONS = foreignOptions('unisession (koa)', KOA_SESSION_OPTIONS);

/**
 * unisession's options plus koa-session's that it understands (see docs/frameworks.md#koa):
 * a koa-session config works after adding `app` (and a unisession `store`).
 */
export interface KoaSessionOptions extends SessionOptions {
  /** koa-session's cookie name (unisession's `cookie.name`). @default 'unisession' (koa-session: 'koa.sess') */
  key?: string;
  /** ms, or 'session' for a browser-session cookie; a number makes the cookie persistent and sets `maxInactive`. @default a browser-session cookie (koa-session: one day) */
  maxAge?: number | 'session';
  httpOnly?: boolean;
  secure?: boolean;
  path?: string;
  domain?: string;
  /** null (koa-session's default) keeps unisession's default, Lax. */
  sameSite?: 'lax' | 'strict' | 'none' | null;
  /** true needs `secret`; false needs no `secret`. */
  signed?: boolean;
  /** Only true. */
  overwrite?: true;
  /** Only true: the session is always committed before the response is written. */
  autoCommit?: true;
  /** true records every access (touchInterval 0), so the cookie is re-sent on every response. @default false */
  rolling?: boolean;
  /** Accepted: a persistent cookie always slides with activity. */
  renew?: boolean;
  /** Makes each new session's id from the Koa context; checked as `generateId`. */
  genid?: (ctx: import('koa').Context) => string;
}
