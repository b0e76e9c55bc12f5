/**
 * prom-client is an optional peer dependency: loaded when `createMetrics` is first called,
 * never when `unisession/metrics` is merely imported, so an app without Prometheus never
 * needs it. It is CommonJS, so `require` loads it synchronously and `createMetrics` can
 * return its registry at once.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { UnisessionError } from '../core/errors.js';

export type PromClientModule = typeof PromClient;

let loaded: PromClientModule | undefined;

/** The prom-client module, or UNISESSION_DRIVER_MISSING naming the package to install. */
export function loadPromClient(): PromClientModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('prom-client') as PromClientModule;
  } catch (cause) {
    throw new UnisessionError(
      'UNISESSION_DRIVER_MISSING',
      'unisession/metrics needs the "prom-client" package: npm install prom-client',
      { cause },
    );
  }
  return loaded;
}
