import { UnisessionError } from '../../core/errors.js';
import type { SessionOptions } from '../../core/options.js';
import type { RequestInfo } from '../../core/request.js';
import { type Check, checkOptions, is } from '../../core/validate.js';
import type { OwnOptions } from './setup.js';

/**
 * The options of the session library a framework's users come from (koa-session,
 * @fastify/session), so that a config copied from there works or fails at start-up, never
 * silently. Each is either mapped onto unisession's options or refused with the reason and
 * what to use instead; docs/frameworks.md lists them all.
 */
export type ForeignOption =
  | {
      /** Checks the value; a failure is UNISESSION_INVALID_OPTION naming the option. */
      check: Check;
      /** Writes the value's meaning into the core options (unset options only: the app's own win). */
      apply(value: never, core: SessionOptions): void;
    }
  | { refused: string };

type Options = Record<string, unknown>;

/** The framework's request behind each request view (for `genid(ctx)`, `idGenerator(request)`). */
const requests = new WeakMap<RequestInfo, unknown>();

/** Remembers which framework request `info` stands for, and returns `info`. */
export function rememberRequest(info: RequestInfo, request: unknown): RequestInfo {
  requests.set(info, request);
  return info;
}

/** The core's `generateId` for a framework's own id generator, which is given the framework's request. */
export function generatorOf(generate: (request: never) => unknown): (info: RequestInfo) => string {
  return (info) => generate(requests.get(info) as never) as string;
}

/**
 * An adapter's `OwnOptions` for a foreign library's options: those in `table` are taken out,
 * refused or checked, then applied onto the rest, which go to the core as they are.
 */
export function foreignOptions(where: string, table: Record<string, ForeignOption>): OwnOptions<Options> {
  return {
    // Checked (or refused) in `pick` already, with messages of their own.
    spec: Object.fromEntries(Object.keys(table).map((name) => [name, is.any])),
    pick(options) {
      const own: Options = {};
      for (const [name, value] of Object.entries(options)) {
        const entry = table[name];
        if (entry === undefined || value === undefined) continue;
        if ('refused' in entry) {
          throw new UnisessionError(
            'UNISESSION_INVALID_OPTION',
            `${where}: option "${name}" is not supported: ${entry.refused}`,
          );
        }
        // Through checkOptions, so that a nested object's fields are checked and named (`cookie.maxAge`).
        checkOptions(where, { [name]: value }, { [name]: entry.check });
        own[name] = value;
      }
      return own;
    },
    toCore(options, own) {
      const core = Object.fromEntries(
        Object.entries(options).filter(([name]) => !(name in table)),
      ) as unknown as SessionOptions;
      core.cookie = { ...core.cookie };
      for (const [name, value] of Object.entries(own)) {
        const entry = table[name] as Extract<ForeignOption, { check: Check }>;
        entry.apply(value as never, core);
      }
      return core;
    },
  };
}

/** A store from express-session, koa-session or @fastify/session (get/set/destroy), which unisession cannot use. */
export const notForeignStore =
  (library: string): Check =>
  (value) => {
    const store = value as Record<string, unknown> | null;
    const foreign =
      typeof store === 'object' &&
      store !== null &&
      typeof store.get === 'function' &&
      typeof store.destroy === 'function' &&
      typeof store.loadAttributes !== 'function';
    return foreign ? `a unisession store (unisession/stores/<name>), not a ${library} store` : undefined;
  };
