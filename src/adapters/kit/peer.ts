import { createRequire } from 'node:module';
import { UnisessionError } from '../../core/errors.js';

const require = createRequire(import.meta.url);

/**
 * Loads an optional peer package at once (synchronously, so the module needs no top-level
 * await and stays `require()`-able), or throws UNISESSION_DRIVER_MISSING naming it and the
 * command that installs it, as the stores do for their drivers.
 */
export function requirePeer<T>(packageName: string, dependent: string): T {
  try {
    return require(packageName) as T;
  } catch (cause) {
    throw new UnisessionError(
      'UNISESSION_DRIVER_MISSING',
      `${dependent} needs the "${packageName}" package: npm install ${packageName}`,
      { cause },
    );
  }
}
