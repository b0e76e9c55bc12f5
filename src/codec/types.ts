/** The JSON codec's plugin API. The `Codec` port itself is core's (src/core/codec.ts). */
export { type Codec, MAX_VALUE_DEPTH } from '../core/codec.js';

/**
 * A class registered under a short alias (bboss's "magic number"), so that its instances
 * come back with their prototype. The alias, not the class name, is what gets stored:
 * renaming the class later does not break sessions already written.
 *
 * `encode` and `decode` are declared as methods on purpose: method parameters are
 * bivariant, which lets a `CodecPlugin<User>` sit in a `CodecPlugin[]` list.
 */
export interface CodecPlugin<T = unknown> {
  /** Stored as `"$t":"@<alias>"`; must be unique within one codec. */
  readonly alias: string;
  /** Instances of this class (or of a subclass with no plugin of its own) use this plugin. */
  readonly type: abstract new (
    ...args: never[]
  ) => T;
  /** Returns any value the codec can encode; defaults to the instance's own enumerable props. */
  encode?(value: T): unknown;
  /** Receives what `encode` returned, decoded; defaults to props assigned onto `type.prototype`. */
  decode?(data: unknown): T;
}

/** Identity helper whose only job is inferring `T` from `type`, so `encode`/`decode` are typed. */
export function definePlugin<T>(plugin: CodecPlugin<T>): CodecPlugin<T> {
  return plugin;
}
