/**
 * How deeply a value may nest (objects, arrays, Maps, Sets, plugin data), in every codec. A
 * session attribute is a record, not a tree of arbitrary depth; the limit keeps encoding and
 * decoding within a small, fixed stack, so a hostile or accidental deep value is a clear 413
 * (UNISESSION_VALUE_TOO_DEEP) at `set`, and a stored one reads as absent (a `decodeError`).
 */
export const MAX_VALUE_DEPTH = 100;

/**
 * The port a codec implements: one attribute value into stored text and back. Core owns it,
 * beside `Store`; the codecs in src/codec implement it and import nothing else from core but
 * its errors and option checks.
 */
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
