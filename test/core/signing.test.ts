/** HMAC signatures of the id in the cookie (src/core/signing.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdSigner } from '../../src/core/signing.js';

describe('id signing', () => {
  it('refuses a forged signature for an id whose genuine cookie verifies', () => {
    const signer = new IdSigner(['new', 'old']);
    const id = 'A'.repeat(32);
    const genuine = signer.sign(id);
    assert.equal(signer.verify(genuine), id);
    assert.equal(signer.verify(`${id}.${'B'.repeat(43)}`), null);
    assert.equal(signer.verify(`${id}.`), null);
    assert.equal(new IdSigner('other').verify(genuine), null, 'another secret refuses it');
    assert.equal(new IdSigner(['newer', 'old']).verify(new IdSigner('old').sign(id)), id, 'rotation');
  });
});
