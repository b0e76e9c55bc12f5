/**
 * The exit codes of `unisession sessions`, so scripts can tell "nothing there" from "wrong
 * flags" from "the store is down" (documented in docs/cli.md):
 */
import { explainError, isUnisessionError } from '../../core/errors.js';
import { UsageError } from '../command.js';

export const EXIT = {
  /** Done. */
  ok: 0,
  /** The session, or the user, was not found; or nothing matched where that matters (`rm`, `revoke`). */
  notFound: 1,
  /** Bad flags or values: nothing was read or changed. */
  usage: 2,
  /** The store could not be reached (or its driver is not installed). */
  unavailable: 3,
  /** The store cannot do this (memcached cannot list, count or compute statistics). */
  unsupported: 4,
  /** Anything else (a bug): reported without a stack trace. */
  failed: 5,
} as const;

/**
 * The exit code and the one line to print for an error a sub-command threw. A user's mistake
 * that only the manager could see (a forged `--cursor`) is a usage error too. The message is
 * `explainError`'s (the error and its causes, for an operator), with the `--store` URL's
 * password masked wherever a driver repeated it.
 */
export function failure(
  error: unknown,
  secrets: string[],
): { code: number; message: string; usage: boolean } {
  let message = explainError(error);
  for (const secret of secrets) if (secret.length >= 3) message = message.split(secret).join('***');
  if (error instanceof UsageError) return { code: EXIT.usage, message, usage: true };
  if (
    isUnisessionError(error, 'UNISESSION_INVALID_OPTION') ||
    isUnisessionError(error, 'UNISESSION_INVALID_ARGUMENT')
  ) {
    return { code: EXIT.usage, message, usage: false };
  }
  if (
    isUnisessionError(error, 'UNISESSION_STORE_UNAVAILABLE') ||
    isUnisessionError(error, 'UNISESSION_DRIVER_MISSING')
  ) {
    return { code: EXIT.unavailable, message, usage: false };
  }
  if (isUnisessionError(error, 'UNISESSION_UNSUPPORTED'))
    return { code: EXIT.unsupported, message, usage: false };
  return { code: EXIT.failed, message, usage: false };
}
