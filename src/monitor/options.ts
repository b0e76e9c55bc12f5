import { defaultCodec } from '../codec/json.js';
import type { Codec } from '../core/codec.js';
import { SessionManager } from '../core/manager.js';
import type { AuditEntry, Store } from '../core/store.js';
import { type Check, checkOptions, invalidOption, is } from '../core/validate.js';
import { isSecretHash, type MonitorCredential } from './credentials.js';

export interface MonitorOptions {
  /**
   * The apps to watch: their managers (one group, one store). Give every app of the group so
   * that each one's private attributes decode with its own codec and its statistics show.
   * Either this or `store`.
   */
  managers?: SessionManager | readonly SessionManager[];
  /** Or a store of the group, to watch it without an app's manager (the standalone command). */
  store?: Store;
  /** The codec attribute values were written with, with `store`. @default the JSON codec */
  codec?: Codec;
  /** The group, with `store`. @default the store's group */
  group?: string;
  /** The path the monitor is mounted under: `/admin/sessions`. @default '/' */
  basePath?: string;
  /**
   * Who may use it. Without any (and without `localOnlyToken`) the monitor refuses to start.
   * Make each `secretHash` with `hashSecret(secret)`.
   */
  credentials?: readonly MonitorCredential[];
  /**
   * Development only: start without credentials, with one random operator token of scope
   * `all`, printed once on stderr (and on `monitor.localToken`). Only loopback peers are
   * accepted (the handler must be told the peer: `toNodeHandler` does it). @default false
   */
  localOnlyToken?: boolean;
  /** Attribute (and nested field) names shown masked. @default [/password|secret|token/i] */
  redact?: readonly RegExp[];
  /**
   * Attributes shown as columns in the session list: `user` (shared) or `shop:cart` (an app's
   * private one, shown only to credentials that may see that app). @default []
   */
  displayAttributes?: readonly string[];
  /** Told of every action, after it is appended to the store's audit log. */
  onAudit?: (entry: AuditEntry) => void;
  /** "Online" means seen within this many ms. @default 300_000 (5 minutes) */
  onlineWindowMs?: number;
  /** The apps the statistics break down by. @default the apps of `managers` */
  apps?: readonly string[];
  /**
   * Where the UI's own login sessions live (a group of their own, `<group>-monitor`). Give a
   * shared store when several monitor processes sit behind one balancer.
   * @default an in-memory store: a restart logs the UI out
   */
  sessionStore?: Store;
  /**
   * The origins the UI is served from, for the Origin check of every state-changing request
   * (behind a proxy that rewrites the Host, say). @default the request URL's own origin
   */
  origins?: readonly string[];
  /** How long a UI login lasts without activity, in ms. @default 1_800_000 (30 min) */
  loginTimeout?: number;
  /**
   * Failed sign-ins (API tokens and the login form) one client address may make within
   * `windowMs` before it gets 429 until the window has passed; `false` turns this off (behind
   * a proxy that hides client addresses, say). @default { attempts: 20, windowMs: 60_000 }
   */
  failureLimit?: { attempts?: number; windowMs?: number } | false;
}

export interface ResolvedMonitorOptions {
  managers: SessionManager[];
  basePath: string;
  credentials: MonitorCredential[];
  localOnlyToken: boolean;
  redact: RegExp[];
  displayAttributes: string[];
  onAudit: ((entry: AuditEntry) => void) | undefined;
  onlineWindowMs: number;
  apps: string[];
  sessionStore: Store | undefined;
  origins: string[] | undefined;
  loginTimeout: number;
  failureLimit: { attempts: number; windowMs: number } | false;
}

const WHERE = 'createMonitor';
const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
const APP = /^[A-Za-z0-9_-]{1,64}$/;

const isManager: Check = (value) =>
  value instanceof SessionManager ||
  (Array.isArray(value) && value.length > 0 && value.every((item) => item instanceof SessionManager))
    ? undefined
    : 'a SessionManager or a non-empty array of them';
const isStore: Check = (value) =>
  value !== null && typeof value === 'object' && typeof (value as Store).load === 'function'
    ? undefined
    : 'a Store';
const isCodec: Check = (value) =>
  value !== null && typeof value === 'object' && typeof (value as Codec).decode === 'function'
    ? undefined
    : 'a Codec';
const isPositive: Check = (value) =>
  typeof value === 'number' && Number.isInteger(value) && value > 0
    ? undefined
    : 'a positive whole number of ms';
const isStringList: Check = (value) =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length > 0)
    ? undefined
    : 'an array of non-empty strings';
const isRegExpList: Check = (value) =>
  Array.isArray(value) && value.every((item) => item instanceof RegExp) ? undefined : 'an array of RegExp';
const isAppList: Check = (value) =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && APP.test(item))
    ? undefined
    : 'an array of app codes ([A-Za-z0-9_-]{1,64})';
const isBasePath: Check = (value) =>
  typeof value === 'string' && /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(value) && !value.includes('//')
    ? undefined
    : "a path starting with '/' (e.g. '/admin/sessions')";
const isOriginList: Check = (value) =>
  Array.isArray(value) &&
  value.every((item) => {
    try {
      return typeof item === 'string' && new URL(item).origin === item;
    } catch {
      return false;
    }
  })
    ? undefined
    : "an array of origins such as 'https://admin.example.com' (scheme, host, port; no path)";

const isFailureLimit: Check = (value) => {
  if (value === false) return undefined;
  const expected =
    'false or { attempts?: a positive whole number, windowMs?: a positive whole number of ms }';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return expected;
  const { attempts, windowMs, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return expected;
  for (const item of [attempts, windowMs]) {
    if (item !== undefined && (typeof item !== 'number' || !Number.isInteger(item) || item <= 0))
      return expected;
  }
  return undefined;
};

function checkCredential(value: unknown, index: number): MonitorCredential {
  const path = `credentials[${index}]`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOption(WHERE, path, 'an object { name, secretHash, scope, role }', value);
  }
  checkOptions(WHERE, value, {
    name: is.string,
    secretHash: is.string,
    scope: is.string,
    role: is.string,
  });
  const { name, secretHash, scope, role } = value as Record<string, unknown>;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalidOption(WHERE, `${path}.name`, 'a name of 1 to 64 of [A-Za-z0-9_.@-]', name);
  }
  if (!isSecretHash(secretHash)) {
    throw invalidOption(WHERE, `${path}.secretHash`, 'a hash made by hashSecret() (scrypt$…)', secretHash);
  }
  if (typeof scope !== 'string' || (scope !== 'all' && !APP.test(scope))) {
    throw invalidOption(WHERE, `${path}.scope`, "'all' or an app code", scope);
  }
  if (role !== 'viewer' && role !== 'operator') {
    throw invalidOption(WHERE, `${path}.role`, "'viewer' or 'operator'", role);
  }
  return { name, secretHash, scope, role };
}

export function resolveMonitorOptions(options: MonitorOptions): ResolvedMonitorOptions {
  if (options === null || typeof options !== 'object')
    throw invalidOption(WHERE, 'options', 'an object', options);
  checkOptions(WHERE, options, {
    managers: isManager,
    store: isStore,
    codec: isCodec,
    group: is.string,
    basePath: isBasePath,
    credentials: is.arrayOf(is.any),
    localOnlyToken: is.boolean,
    redact: isRegExpList,
    displayAttributes: isStringList,
    onAudit: is.function,
    onlineWindowMs: isPositive,
    apps: isAppList,
    sessionStore: isStore,
    origins: isOriginList,
    loginTimeout: isPositive,
    failureLimit: isFailureLimit,
  });
  const managers = managersOf(options);
  const credentials = (options.credentials ?? []).map(checkCredential);
  const names = new Set<string>();
  for (const credential of credentials) {
    if (names.has(credential.name)) {
      throw invalidOption(WHERE, 'credentials', 'credentials with distinct names', credential.name);
    }
    names.add(credential.name);
  }
  const localOnlyToken = options.localOnlyToken ?? false;
  if (credentials.length === 0 && !localOnlyToken) {
    throw invalidOption(
      WHERE,
      'credentials',
      'at least one credential (the monitor denies by default; `localOnlyToken: true` is the development-only exception)',
      options.credentials,
    );
  }
  const basePath = (options.basePath ?? '/').replace(/\/+$/, '') || '/';
  return {
    managers,
    basePath,
    credentials,
    localOnlyToken,
    redact: [...(options.redact ?? [/password|secret|token/i])],
    displayAttributes: [...(options.displayAttributes ?? [])],
    onAudit: options.onAudit,
    onlineWindowMs: options.onlineWindowMs ?? 300_000,
    apps: [...new Set(options.apps ?? managers.map((manager) => manager.options.app))],
    sessionStore: options.sessionStore,
    origins: options.origins ? [...options.origins] : undefined,
    loginTimeout: options.loginTimeout ?? 1_800_000,
    failureLimit:
      options.failureLimit === false
        ? false
        : {
            attempts: options.failureLimit?.attempts ?? 20,
            windowMs: options.failureLimit?.windowMs ?? 60_000,
          },
  };
}

function managersOf(options: MonitorOptions): SessionManager[] {
  if (options.managers !== undefined) {
    if (options.store !== undefined)
      throw invalidOption(WHERE, 'store', 'absent when `managers` is given', 'a Store');
    const managers = Array.isArray(options.managers)
      ? [...options.managers]
      : [options.managers as SessionManager];
    const groups = new Set(managers.map((manager) => manager.options.group));
    const stores = new Set(managers.map((manager) => manager.store));
    if (groups.size > 1 || stores.size > 1) {
      throw invalidOption(
        WHERE,
        'managers',
        'managers of one group sharing one store',
        `groups ${[...groups].join(', ')}`,
      );
    }
    return managers;
  }
  if (options.store === undefined) {
    throw invalidOption(WHERE, 'managers', 'a SessionManager (or an array), or a `store` option', undefined);
  }
  // A manager of no real app, for its admin methods only; its sweeper stays off (the apps run theirs).
  return [
    new SessionManager({
      app: 'unisession-monitor',
      group: options.group ?? options.store.group,
      store: options.store,
      codec: options.codec ?? defaultCodec,
      sweeper: false,
      secret: 'unused: this manager never issues cookies',
    }),
  ];
}
