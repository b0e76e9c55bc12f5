import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where the demo keeps its signing secret, beside its SQLite file. */
export const DEMO_SECRET_FILE = '.demo/secret';

/**
 * The demo's cookie signing secret: made once and kept in `.demo/secret`, so that stopping
 * and restarting the demo keeps everyone logged in (the sessions survive in the store, and
 * their cookies must still verify). Every node gets the same secret from the supervisor.
 */
export function demoSecret(file = DEMO_SECRET_FILE): string {
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  } catch {
    // Not made yet: make it below.
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
