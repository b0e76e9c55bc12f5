import { createHmac, timingSafeEqual } from 'node:crypto';

/** One signing key: text, or raw bytes (`crypto.randomBytes(32)`). */
export type Secret = string | Buffer;

/** An id whose signature verified, and whether a secret other than the first one signed it. */
export interface VerifiedId {
  id: string;
  /** Signed by an older secret: the cookie should be re-issued with the first one. */
  resign: boolean;
}

/**
 * HMAC-SHA256 signatures for the id in the cookie. The first secret signs; every secret
 * verifies, so a key can be rotated by putting the new one first and dropping the old one
 * once the longest session has expired. A cookie an old secret verified is re-issued signed
 * with the first one, so users who stay active survive the old secret's removal.
 */
export class IdSigner {
  private readonly secrets: readonly Secret[];

  constructor(secrets: Secret | readonly Secret[] | undefined) {
    // A Buffer is one key, not a list of bytes: only a real array is a list of secrets.
    this.secrets = secrets === undefined ? [] : Array.isArray(secrets) ? [...secrets] : [secrets as Secret];
  }

  get enabled(): boolean {
    return this.secrets.length > 0;
  }

  /** `id.signature`, or the bare id when no secret is configured. */
  sign(id: string): string {
    const secret = this.secrets[0];
    return secret === undefined ? id : `${id}.${mac(secret, id)}`;
  }

  /** The id if the value carries a valid signature (or signing is off); otherwise null. */
  verify(value: string): string | null {
    return this.check(value)?.id ?? null;
  }

  /** Like `verify`, and says whether the signature came from a secret other than the first. */
  check(value: string): VerifiedId | null {
    if (!this.enabled) return { id: value, resign: false };
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    for (let i = 0; i < this.secrets.length; i++) {
      const expected = Buffer.from(mac(this.secrets[i]!, id));
      // timingSafeEqual throws on length mismatch, which would leak nothing but is still noise.
      if (expected.length === given.length && timingSafeEqual(expected, given)) return { id, resign: i > 0 };
    }
    return null;
  }
}

function mac(secret: Secret, id: string): string {
  return createHmac('sha256', secret).update(id).digest('base64url');
}
