import { Buffer } from 'node:buffer';
import { UnisessionError } from '../core/errors.js';
import type { Codec } from './types.js';

/*
 * A compact binary codec for apps that never read sessions by eye. Stores keep strings, so
 * the MessagePack bytes are stored as base64.
 *
 * msgpackr is an optional peer dependency: it is imported only when this codec is asked for,
 * which is why the factory is async while encode/decode stay sync.
 *
 * Differences from the JSON codec, all msgpackr's: no class plugins (msgpackr's extension
 * registry is process-wide, so one codec's plugins would leak into every other Packr), class
 * instances always come back as plain objects, -0 comes back as 0, and an own "__proto__"
 * key is renamed by msgpackr's prototype-pollution guard.
 */

const MISSING = 'the msgpack codec needs the "msgpackr" package: npm install msgpackr';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Loads msgpackr and builds the codec; rejects with UNISESSION_DRIVER_MISSING when it is not installed. */
export async function msgpackCodec(): Promise<Codec> {
  let msgpackr: typeof import('msgpackr');
  try {
    msgpackr = await import('msgpackr');
  } catch (cause) {
    throw new UnisessionError('UNISESSION_DRIVER_MISSING', MISSING, { cause });
  }

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
      try {
        return packr.unpack(Buffer.from(text, 'base64'));
      } catch (error) {
        throw new UnisessionError(
          'UNISESSION_DECODE_FAILED',
          `malformed MessagePack: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
    },
  };
}
