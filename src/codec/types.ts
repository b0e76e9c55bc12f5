/**
 * How deeply a value may nest (objects, arrays, Maps, Sets, plugin data), in both codecs. A
 * session attribute is a record, not a tree of arbitrary depth; the limit keeps encoding and
 * decoding within a small, fixed stack, so a hostile or accidental deep value is a clear 413
 * (UNISESSION_VALUE_TOO_DEEP) at `set`, and a stored one reads as absent (a `decodeError`).
 */
export const MAX_VALUE_DEPTH = 100;

/** Turns one attribute value into stored text and back. */
export interface Codec {
  /** Short name, recorded nowhere yet but used in logs. */
  readonly name: string;
  /**
   * Throws UnisessionError UNISESSION_ENCODE_FAILED (cycles, functions, symbols, unregistered
   * class when strict), or UNISESSION_VALUE_TOO_DEEP past MAX_VALUE_DEPTH nested levels.
   */
  encode(value: unknown): string;
  /** Throws UnisessionError UNISESSION_DECODE_FAILED on malformed text or unknown type alias. */
  decode(text: string): unknown;
}

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
