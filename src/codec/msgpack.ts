import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { type Codec, MAX_VALUE_DEPTH } from '../core/codec.js';
import { UnisessionError } from '../core/errors.js';
import { checkOptions } from '../core/validate.js';
import { nestingOf } from './depth.js';

/*
 * A compact binary codec for apps that never read sessions by eye. Stores keep strings, so
 * the MessagePack bytes are stored as base64.
 *
 * msgpackr is an optional peer dependency, loaded when this codec is asked for. It is
 * required (msgpackr ships a CommonJS build) rather than imported, so that the factory is
 * synchronous and `codec: msgpackCodec()` is a plain option value.
 *
 * Differences from the JSON codec, all msgpackr's: no class plugins (msgpackr's extension
 * registry is process-wide, so one codec's plugins would leak into every other Packr), class
 * instances always come back as plain objects, -0 comes back as 0, and an own "__proto__"
 * key is renamed by msgpackr's prototype-pollution guard. The nesting limit is the JSON
 * codec's (MAX_VALUE_DEPTH), checked by a walk of its own since msgpackr has none.
 */

/** The msgpack codec has no options yet; the parameter exists so a misplaced one is refused. */
export type MsgpackCodecOptions = Record<string, never>;

const MISSING = 'the msgpack codec needs the "msgpackr" package: npm install msgpackr';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads msgpackr and builds the codec; throws UNISESSION_DRIVER_MISSING when it is not
 * installed. Options are checked before anything loads.
 *
 * @example
 * const sessions = createSessionManager({ app: 'shop', codec: msgpackCodec() });
 */
export function msgpackCodec(options: MsgpackCodecOptions = {}): Codec {
  checkOptions('msgpackCodec', options, {});
  return buildCodec(loadMsgpackr());
}

const tooDeep = () =>
  new UnisessionError(
    'UNISESSION_VALUE_TOO_DEEP',
    `the value is nested deeper than ${MAX_VALUE_DEPTH} levels`,
  );

type Msgpackr = typeof import('msgpackr');

function loadMsgpackr(): Msgpackr {
  try {
    return createRequire(import.meta.url)('msgpackr') as Msgpackr;
  } catch (cause) {
    throw new UnisessionError('UNISESSION_DRIVER_MISSING', MISSING, { cause });
  }
}

function buildCodec(msgpackr: Msgpackr): Codec {
  const packr = new msgpackr.Packr({
    // Records (the default) keep Map distinct from plain objects and carry their key list
    // inside each message, so any node can decode without shared structure state.
    useRecords: true,
    // Set, RegExp, typed arrays, ArrayBuffer and Error as extensions.
    moreTypes: true,
    // BigInts beyond 64 bits; without it msgpackr throws on them.
    useBigIntExtension: true,
    // msgpackr would silently store functions as undefined; the Codec contract refuses them.
    writeFunction(value?: unknown): never {
      const name = typeof value === 'function' && value.name ? value.name : 'anonymous';
      throw new UnisessionError('UNISESSION_ENCODE_FAILED', `a function (${name}) cannot be stored`);
    },
  });

  return {
    name: 'msgpack',
    encode(value: unknown): string {
      const nesting = nestingOf(value);
      if (nesting === 'too deep') throw tooDeep();
      if (nesting === 'cycle') {
        throw new UnisessionError('UNISESSION_ENCODE_FAILED', 'the value contains itself (a cycle)');
      }
      try {
        return packr.pack(value).toString('base64');
      } catch (error) {
        if (error instanceof UnisessionError) throw error;
        // msgpackr has no cycle check: a cycle recurses until the stack runs out.
        const detail =
          error instanceof RangeError && /call stack/i.test(error.message)
            ? 'the value contains itself (a cycle) or is nested too deeply'
            : errorMessage(error);
        throw new UnisessionError('UNISESSION_ENCODE_FAILED', detail, { cause: error });
      }
    },
    decode(text: string): unknown {
      // Buffer.from skips invalid base64 characters; decoding what is left would hide corruption.
      if (typeof text !== 'string' || text === '' || !BASE64.test(text)) {
        throw new UnisessionError('UNISESSION_DECODE_FAILED', 'malformed base64 text');
      }
      let value: unknown;
      try {
        value = packr.unpack(Buffer.from(text, 'base64'));
      } catch (error) {
        throw new UnisessionError(
          'UNISESSION_DECODE_FAILED',
          `malformed MessagePack: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
      // Not written by this codec (it refuses such values): read as absent, like the JSON codec.
      if (nestingOf(value) !== 'ok') {
        throw new UnisessionError('UNISESSION_DECODE_FAILED', `nested deeper than ${MAX_VALUE_DEPTH} levels`);
      }
      return value;
    },
  };
}
