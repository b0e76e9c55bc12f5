import { UnisessionError } from './errors.js';
import { nameProblem } from './names.js';
import type { CookieOptions, SessionOptions } from './options.js';
import { checkOptions, describeValue, invalidOption, is, type OptionSpec } from './validate.js';

/**
 * One description of a group of apps that share sessions (bboss's `crossDomain` with its
 * `domainApps`, in our shape): given once, used by every app, each app naming itself by its
 * code. It turns into the session options of one app (`group.options('shop')`), after start-up
 * checks that the description can work in a browser at all.
 */

/** One app of the group. */
export interface GroupApp {
  /** The app's code, unique in the group. `[A-Za-z0-9_-]{1,64}`. */
  code: string;
  /**
   * The host the app is served on (`shop.example.com`). Must be the root domain or under it,
   * unless `handoff` is set. @default the group's root domain
   */
  host?: string;
  /** The path the app is mounted on (`/shop`). @default '/' */
  path?: string;
  /**
   * The namespace of the app's private attributes: the session option `app`. Two apps may
   * share one (two deployments of one app under different codes). @default the code
   */
  namespace?: string;
  /**
   * The app is on another root domain (`partner-site.com`): no cookie can reach it, so it
   * signs in through the SSO hub's ticket hand-off (`unisession/sso`) and gets a host-only
   * cookie of its own. @default false
   */
  handoff?: boolean;
}

export interface AppGroupDescription {
  /**
   * The root domain every app (except `handoff` ones) is on or under; the session cookie gets
   * `Domain=<domain>` so that every subdomain receives it. Lower case, at least two labels.
   */
  domain: string;
  /**
   * The attribute names every app sees, or `'*'` for all of them (bboss's behaviour when it is
   * given no list). Names not listed are private to the app that set them.
   * @default [] (every attribute private; the login itself, the session's principal, is always
   * common to all apps)
   */
  shared?: readonly string[] | '*';
  apps: readonly GroupApp[];
}

/** A checked group description. */
export interface AppGroup {
  readonly domain: string;
  readonly shared: readonly string[] | '*';
  readonly apps: readonly Readonly<Required<GroupApp>>[];
  /** The app with this code; throws UNISESSION_INVALID_OPTION for a code not in the group. */
  app(code: string): Readonly<Required<GroupApp>>;
  /**
   * The session options of the app `code`: `app` (its namespace), `shared`, and the cookie's
   * `domain` and `path`, merged with `overrides` (a store, a secret, other cookie settings).
   * The merged cookie is checked against the group again: it must still reach every app.
   */
  options(code: string, overrides?: Omit<SessionOptions, 'app' | 'shared'>): SessionOptions;
}

const CODE = /^[A-Za-z0-9_-]{1,64}$/;
/** A DNS name as it appears in a Host header: lower-case labels of letters, digits and hyphens. */
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

const APP_SPEC: OptionSpec = {
  code: is.matching(CODE, `an app code matching ${CODE}`),
  host: is.nonEmptyString,
  path: is.matching(/^\/[^\s?#;]*$/, 'a path starting with "/", without spaces, "?", "#" or ";"'),
  namespace: is.matching(CODE, `a namespace matching ${CODE}`),
  handoff: is.boolean,
};

const GROUP_SPEC: OptionSpec = {
  domain: is.nonEmptyString,
  shared: is.anyOf(is.oneOf('*'), is.arrayOf(is.string)),
  apps: is.arrayOf(is.object(APP_SPEC), { nonEmpty: true }),
};

/**
 * Checks a group description and returns it ready to use. Every problem is one
 * UNISESSION_INVALID_OPTION naming the option:
 * - the domain is a host name a cookie can carry (not an IP, not a single label);
 * - app codes are unique, hosts and paths well-formed;
 * - the domain is a parent of every app host (or the app is marked `handoff`);
 * - the shared names are valid attribute names.
 *
 * @example
 * const group = defineAppGroup({
 *   domain: 'example.com',
 *   shared: ['user'],
 *   apps: [
 *     { code: 'portal', host: 'www.example.com', path: '/portal' },
 *     { code: 'shop', host: 'www.example.com', path: '/shop' },
 *     { code: 'admin', host: 'admin.example.com' },
 *   ],
 * });
 * const sessions = createSessionManager(group.options('shop', { secret: process.env.SESSION_SECRET }));
 */
export function defineAppGroup(description: AppGroupDescription): AppGroup {
  const where = 'defineAppGroup';
  if (description === undefined) throw invalidOption(where, 'options', 'an object', description);
  checkOptions(where, description, GROUP_SPEC);
  const domain = checkHostName(where, 'domain', description.domain, { root: true });
  if (description.apps === undefined)
    throw invalidOption(where, 'apps', 'a non-empty array of apps', undefined);
  const shared = description.shared ?? [];
  if (shared !== '*') {
    for (const [index, name] of shared.entries()) {
      const problem = nameProblem(name);
      if (problem !== undefined) {
        throw invalidOption(where, `shared[${index}]`, `an attribute name (it ${problem})`, name);
      }
    }
  }
  const codes = new Set<string>();
  const apps = description.apps.map((app, index) => {
    const at = `apps[${index}]`;
    // `is.arrayOf` checks only that each app is an object: its keys are checked here, by name.
    checkOptions(`${where} ${at}`, app, APP_SPEC);
    if (app.code === undefined)
      throw invalidOption(where, `${at}.code`, `an app code matching ${CODE}`, undefined);
    if (codes.has(app.code)) {
      throw new UnisessionError(
        'UNISESSION_INVALID_OPTION',
        `${where}: option "${at}.code" is "${app.code}", which an earlier app already uses: app codes must be unique`,
      );
    }
    codes.add(app.code);
    const host = app.host === undefined ? domain : checkHostName(where, `${at}.host`, app.host, {});
    const handoff = app.handoff ?? false;
    if (!handoff && !isUnder(host, domain)) {
      throw new UnisessionError(
        'UNISESSION_INVALID_OPTION',
        `${where}: option "${at}.host" is "${host}", which is not "${domain}" or a subdomain of it, so ` +
          `no cookie with Domain=${domain} can reach it; put the app under the domain, or mark it ` +
          '`handoff: true` to sign in through the SSO hub',
      );
    }
    return {
      code: app.code,
      host,
      path: app.path ?? '/',
      namespace: app.namespace ?? app.code,
      handoff,
    };
  });
  const byCode = new Map(apps.map((app) => [app.code, app]));
  const find = (code: string) => {
    const app = byCode.get(code);
    if (!app) {
      throw invalidOption(
        'AppGroup',
        'code',
        `one of the group's app codes (${[...codes].join(', ')})`,
        code,
      );
    }
    return app;
  };
  return Object.freeze({
    domain,
    shared,
    apps: Object.freeze(apps.map((app) => Object.freeze(app))),
    app: find,
    options(code: string, overrides: Omit<SessionOptions, 'app' | 'shared'> = {}): SessionOptions {
      const app = find(code);
      const cookie: CookieOptions = {
        ...overrides.cookie,
        // A hand-off app is on another root domain: its cookie is its host's alone.
        domain: app.handoff ? overrides.cookie?.domain : (overrides.cookie?.domain ?? domain),
        path: overrides.cookie?.path ?? '/',
      };
      checkCookieReachesGroup(apps, app, cookie);
      return {
        ...overrides,
        app: app.namespace,
        shared: shared === '*' ? () => true : [...shared],
        cookie,
      };
    },
  });
}

/** The merged cookie still reaches every app that shares it: its domain covers them, its path too. */
function checkCookieReachesGroup(
  apps: ReadonlyArray<Required<GroupApp>>,
  self: Required<GroupApp>,
  cookie: CookieOptions,
): void {
  const where = `AppGroup.options("${self.code}")`;
  const sharing = self.handoff ? [self] : apps.filter((app) => !app.handoff);
  if (cookie.domain !== undefined) {
    const domain = checkHostName(where, 'cookie.domain', cookie.domain, { root: true });
    const outside = sharing.find((app) => !isUnder(app.host, domain));
    if (outside) {
      throw new UnisessionError(
        'UNISESSION_INVALID_OPTION',
        `${where}: option "cookie.domain" is "${domain}", which is not a parent of the host ` +
          `"${outside.host}" of app "${outside.code}": that app would never receive the cookie`,
      );
    }
  } else if (!self.handoff && sharing.some((app) => app.host !== self.host)) {
    throw new UnisessionError(
      'UNISESSION_INVALID_OPTION',
      `${where}: option "cookie.domain" must be set (a host-only cookie), since the group's apps are on several hosts`,
    );
  }
  const path = cookie.path ?? '/';
  const blind = sharing.find((app) => !isPathUnder(app.path, path));
  if (blind) {
    const onOneHost = sharing.filter((app) => app.host === blind.host);
    const reason =
      onOneHost.length > 1 && new Set(onOneHost.map((app) => app.path)).size > 1
        ? `apps on different paths of one host (${onOneHost.map((app) => `${app.code} on ${app.path}`).join(', ')}) must use cookie path "/"`
        : `it does not cover the path "${blind.path}" of app "${blind.code}"`;
    throw new UnisessionError(
      'UNISESSION_INVALID_OPTION',
      `${where}: option "cookie.path" is ${describeValue(path)}, but ${reason}`,
    );
  }
}

/** `host` is `domain` itself or one of its subdomains (case-insensitive; names are lower case here). */
export function isUnder(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/** The cookie path `path` is sent with requests for `appPath` (RFC 6265 §5.1.4 path-match). */
function isPathUnder(appPath: string, path: string): boolean {
  if (path === '/' || appPath === path) return true;
  const prefix = path.endsWith('/') ? path : `${path}/`;
  return appPath.startsWith(prefix);
}

/** A DNS host name, lower case; for a root domain, not a single label and not an IP address. */
function checkHostName(where: string, option: string, value: unknown, { root = false }): string {
  const expected = root
    ? 'a lower-case domain name of at least two labels, e.g. "example.com" (no scheme, port, leading dot or IP address)'
    : 'a lower-case host name, e.g. "shop.example.com" (no scheme, port or path)';
  if (typeof value !== 'string' || value.length > 253) throw invalidOption(where, option, expected, value);
  const labels = value.split('.');
  const ip = labels.length === 4 && labels.every((label) => /^\d+$/.test(label));
  if (ip || !labels.every((label) => LABEL.test(label)) || (root && labels.length < 2)) {
    throw invalidOption(where, option, expected, value);
  }
  return value;
}
