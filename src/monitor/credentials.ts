import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { UnisessionError } from '../core/errors.js';

/*
 * Monitor credentials: a name, a secret kept only as a salted scrypt hash, a scope and a role.
 * A bearer token is `<name>:<secret>`. Every failed check costs one scrypt derivation whether
 * the name is unknown, the secret wrong or the token absent, so a 401's timing says nothing
 * about which credential names exist.
 */

export type MonitorRole = 'viewer' | 'operator';

export interface MonitorCredential {
  /** Shown in the audit log as the actor. `[A-Za-z0-9_.@-]{1,64}`. */
  name: string;
  /** From `hashSecret(secret)`; the secret itself is never kept. */
  secretHash: string;
  /** `'all'` (the monitoring centre: every app) or one app code (that app's sessions only). */
  scope: 'all' | (string & {});
  /** `viewer` reads; `operator` reads and acts (delete, revoke, expire, remove an attribute). */
  role: MonitorRole;
}

/** Cost parameters: about 50 ms on a laptop core, 16 MiB of memory. */
const N = 16384;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

function derive(
  secret: string,
  salt: Buffer,
  n: number,
  r: number,
  p: number,
  length: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Hashes a monitor secret for the `credentials` option: `scrypt$N$r$p$salt$hash`, salted with
 * 16 random bytes. Store the result in your config; never the secret.
 *
 * @example
 * const secretHash = await hashSecret(process.env.MONITOR_SECRET!);
 */
export async function hashSecret(secret: string): Promise<string> {
  if (typeof secret !== 'string' || secret.length < 8 || secret.length > 1024) {
    throw new UnisessionError(
      'UNISESSION_INVALID_ARGUMENT',
      'hashSecret: secret must be a string of 8 to 1024 characters',
    );
  }
  const salt = randomBytes(16);
  const key = await derive(secret, salt, N, R, P, KEY_LENGTH);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `hash` is something `hashSecret` made (checked when the monitor starts). */
export function isSecretHash(hash: unknown): hash is string {
  const match = typeof hash === 'string' ? HASH_PATTERN.exec(hash) : null;
  if (!match) return false;
  const n = Number(match[1]);
  // A power of two, bounded so a hostile config cannot make each login take seconds or GiBs.
  return (
    n >= 1024 && n <= 1_048_576 && (n & (n - 1)) === 0 && Number(match[2]) <= 32 && Number(match[3]) <= 16
  );
}

/**
 * Whether `secret` matches `hash`, compared in constant time. A malformed hash is false, never
 * an error. Costs one scrypt derivation either way.
 */
export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  const match = isSecretHash(hash) ? HASH_PATTERN.exec(hash) : null;
  if (!match || typeof secret !== 'string') {
    await derive('unisession-dummy', DUMMY_SALT, N, R, P, KEY_LENGTH);
    return false;
  }
  const expected = Buffer.from(match[5] as string, 'base64url');
  const key = await derive(
    secret,
    Buffer.from(match[4] as string, 'base64url'),
    Number(match[1]),
    Number(match[2]),
    Number(match[3]),
    expected.length,
  );
  return timingSafeEqual(key, expected);
}

const DUMMY_SALT = randomBytes(16);

/** Splits a bearer token `<name>:<secret>`; undefined when malformed. */
export function parseToken(token: string): { name: string; secret: string } | undefined {
  const at = token.indexOf(':');
  if (at <= 0 || at === token.length - 1 || token.length > 2048) return undefined;
  return { name: token.slice(0, at), secret: token.slice(at + 1) };
}

/**
 * Finds the credential a token names and checks its secret. Unknown names are checked against
 * a dummy hash of the same cost, so that every failure takes as long as a wrong secret.
 */
export class CredentialSet {
  private readonly byName: Map<string, MonitorCredential>;
  private readonly dummyHash: Promise<string>;
  private readonly recent = new Map<string, { credential: MonitorCredential; until: number }>();

  constructor(credentials: readonly MonitorCredential[]) {
    this.byName = new Map(credentials.map((credential) => [credential.name, credential]));
    this.dummyHash = hashSecret(randomBytes(24).toString('base64url'));
  }

  get size(): number {
    return this.byName.size;
  }

  /** The credential of that name (for a UI session that names it), or undefined. */
  named(name: string): MonitorCredential | undefined {
    return this.byName.get(name);
  }

  /**
   * The credential a bearer token proves, or undefined. A token that verified lately is
   * remembered (by its SHA-256, for a minute) so an API client does not pay scrypt per call;
   * failures are never remembered, so each costs the full derivation.
   */
  async verify(token: string | undefined): Promise<MonitorCredential | undefined> {
    const digest = token === undefined ? '' : createHash('sha256').update(token).digest('base64url');
    const remembered = this.recent.get(digest);
    if (remembered && remembered.until > Date.now()) return remembered.credential;
    const credential = await this.check(token);
    if (credential) {
      if (this.recent.size >= 1000) this.recent.clear();
      this.recent.set(digest, { credential, until: Date.now() + 60_000 });
    }
    return credential;
  }

  private async check(token: string | undefined): Promise<MonitorCredential | undefined> {
    const parsed = token === undefined ? undefined : parseToken(token);
    const credential = parsed ? this.byName.get(parsed.name) : undefined;
    const hash = credential?.secretHash ?? (await this.dummyHash);
    const ok = await verifySecret(parsed?.secret ?? 'no token given', hash);
    return ok && credential ? credential : undefined;
  }
}
