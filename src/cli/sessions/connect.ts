/**
 * Opens what a `sessions` sub-command works on: the store the `--store` URL names and a
 * manager over it, so that every action goes through the same admin API as the monitor (the
 * same checks, the same `destroyed` events with their reasons).
 */
import { randomBytes } from 'node:crypto';
import type { Codec } from '../../core/codec.js';
import type { SessionManager } from '../../core/manager.js';
import { createSessionManager } from '../../index.js';
import { openStoreFromUrl } from '../store-url.js';
import type { CommonFlags } from './flags.js';

/** The app code the CLI's manager uses when no `--app` is given; it never writes attributes. */
export const CLI_APP = 'unisession-cli';

export async function connect(common: CommonFlags): Promise<SessionManager> {
  const codec = await loadCodec(common.codec);
  // A read-mostly command must not create an empty database for a mistyped SQLite path.
  const store = await openStoreFromUrl(common.store, common.group, { mustExist: true });
  return createSessionManager({
    app: common.app ?? CLI_APP,
    group: common.group,
    store,
    codec,
    // The CLI issues no cookie; a secret only keeps the manager from warning about unsigned ids.
    secret: randomBytes(32),
    // A one-shot command must not sweep on the apps' behalf (nor keep the process alive).
    sweeper: false,
  });
}

async function loadCodec(name: CommonFlags['codec']): Promise<Codec> {
  if (name === 'msgpack') return (await import('../../codec/msgpack.js')).msgpackCodec();
  return (await import('../../codec/json.js')).defaultCodec;
}

/** The password of a `--store` URL, to mask wherever a driver's message repeats it. */
export function urlSecrets(url: string): string[] {
  try {
    const { password } = new URL(url);
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}
