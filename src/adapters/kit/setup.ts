import { SessionManager } from '../../core/manager.js';
import type { SessionOptions } from '../../core/options.js';
import { checkOptions, invalidOption, type OptionSpec } from '../../core/validate.js';
import { createSessionManager } from '../../index.js';

type Options = Record<string, unknown>;

/** An adapter's own options: their checks, and how they are told apart from the core's. */
export interface OwnOptions<Own extends Options> {
  spec: OptionSpec;
  /** Takes the adapter's own options out of an options object. @default the names in `spec` */
  pick?(options: Options): Own;
  /**
   * The core's options, once the adapter's own have passed their check (Express maps its
   * `name`, `proxy` and `cookie.maxAge` onto them). @default the names not in `spec`
   */
  toCore?(options: Options, own: Own): SessionOptions;
}

/** What an adapter works with. */
export interface AdapterSetup<Own extends Options> {
  manager: SessionManager;
  /** The adapter's own options, checked. */
  own: Partial<Own>;
  /** The options the adapter made its manager from; undefined when it was given a manager. */
  options: SessionOptions | undefined;
}

/**
 * The one way an adapter takes "options or a manager". A `SessionManager` (told by
 * `instanceof`) is used as it is, its options set already, with `given`: the adapter's own
 * options passed beside it. An options object is split into the adapter's own, checked here,
 * and the core's, from which a manager is made (and which it checks).
 */
export function setUpAdapter<Own extends Options = Options>(
  where: string,
  input: unknown,
  own: OwnOptions<Own> = { spec: {} },
  given?: Partial<Own>,
): AdapterSetup<Own> {
  if (input instanceof SessionManager) {
    checkOptions(where, given, own.spec);
    return { manager: input, own: given ?? {}, options: undefined };
  }
  if (typeof input !== 'object' || input === null)
    throw invalidOption(where, 'options', 'an object or a SessionManager', input);
  const options = input as Options;
  const picked = own.pick ? own.pick(options) : (pick(options, Object.keys(own.spec)) as Own);
  checkOptions(where, picked, own.spec);
  const core = own.toCore ? own.toCore(options, picked) : omit(options, Object.keys(own.spec));
  return { manager: createSessionManager(core), own: picked, options: core };
}

function pick(options: Options, names: string[]): Options {
  return Object.fromEntries(names.filter((name) => name in options).map((name) => [name, options[name]]));
}

function omit(options: Options, names: string[]): SessionOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([name]) => !names.includes(name)),
  ) as unknown as SessionOptions;
}
