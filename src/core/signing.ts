import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signatures for the id in the cookie. The first secret signs; every secret
 * verifies, so a key can be rotated by putting the new one first and dropping the old one
 * once the longest session has expired.
 */
export class IdSigner {
  private readonly secrets: readonly string[];

  constructor(secrets: string | readonly string[] | undefined) {
    this.secrets = secrets === undefined ? [] : typeof secrets === 'string' ? [secrets] : [...secrets];
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
    if (!this.enabled) return value;
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    for (const secret of this.secrets) {
      const expected = Buffer.from(mac(secret, id));
      // timingSafeEqual throws on length mismatch, which would leak nothing but is still noise.
      if (expected.length === given.length && timingSafeEqual(expected, given)) return id;
    }
    return null;
  }
}

function mac(secret: string, id: string): string {
  return createHmac('sha256', secret).update(id).digest('base64url');
}
