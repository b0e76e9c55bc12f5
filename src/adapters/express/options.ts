import type { SessionOptions } from '../../core/options.js';
import { is } from '../../core/validate.js';
import type { OwnOptions } from '../kit/setup.js';

/** express-session's options that unisession understands, beside its own. */
export interface ExpressOwnOptions extends Record<string, unknown> {
  name?: string;
  proxy?: boolean;
  resave?: boolean;
  rolling?: boolean;
  cookie?: { maxAge?: number | null };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** express-session's own options: taken out, checked, then mapped onto unisession's. */
export const EXPRESS_OPTIONS: OwnOptions<ExpressOwnOptions> = {
  spec: {
    name: is.nonEmptyString,
    proxy: is.boolean,
    resave: is.boolean,
    rolling: is.boolean,
    cookie: is.object({ maxAge: is.anyOf(is.nonNegative, (value) => (value === null ? undefined : 'null')) }),
  },
  // `cookie` is shared: its `maxAge` is express-session's, the rest is the core's cookie options.
  pick: ({ name, proxy, resave, rolling, cookie }) =>
    ({
      name,
      proxy,
      resave,
      rolling,
      cookie: isRecord(cookie) ? { maxAge: cookie.maxAge } : cookie,
    }) as ExpressOwnOptions,
  toCore(options, own) {
    const { name, cookie, proxy, resave, rolling, app, ...rest } = options as SessionOptions &
      ExpressOwnOptions;
    const { maxAge, ...cookieOptions } = (cookie ?? {}) as NonNullable<SessionOptions['cookie']> &
      ExpressOwnOptions['cookie'];
    return {
      ...rest,
      app: app ?? 'app',
      maxInactive: rest.maxInactive ?? maxAge ?? undefined,
      trustProxy: rest.trustProxy ?? own.proxy,
      cookie: {
        ...cookieOptions,
        name: own.name ?? cookieOptions.name,
        persistent: cookieOptions.persistent ?? (maxAge !== undefined && maxAge !== null),
      },
    };
  },
};
