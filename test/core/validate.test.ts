import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkGroup, checkOptions, describeValue, is } from '../../src/core/validate.js';

const spec = {
  maxInactive: is.nonNegative,
  sameSite: is.oneOf('lax', 'strict', 'none'),
  secret: is.anyOf(is.nonEmptyString, is.arrayOf(is.nonEmptyString, { nonEmpty: true })),
  cookie: is.object({ name: is.nonEmptyString, httpOnly: is.boolean }),
};

describe('checkOptions', () => {
  it('accepts valid options, undefined values and no options at all', () => {
    checkOptions('f', { maxInactive: 0, sameSite: 'lax', secret: ['a'], cookie: { name: 'x' } }, spec);
    checkOptions('f', { maxInactive: undefined }, spec);
    checkOptions('f', undefined, spec);
  });

  it('names the option, the value and what was expected', () => {
    assert.throws(() => checkOptions('createSessionManager', { maxInactive: '30m' }, spec), {
      code: 'UNISESSION_INVALID_OPTION',
      message: /createSessionManager: option "maxInactive" must be a finite number >= 0, got "30m"/,
    });
    assert.throws(() => checkOptions('f', { maxInactive: Number.POSITIVE_INFINITY }, spec), /maxInactive/);
    assert.throws(() => checkOptions('f', { sameSite: 'auto' }, spec), /one of 'lax', 'strict', 'none'/);
    assert.throws(() => checkOptions('f', { secret: [] }, spec), /a non-empty string or a non-empty array/);
    assert.throws(() => checkOptions('f', { secret: '' }, spec), /secret/);
  });

  it('checks nested objects and names the full path', () => {
    assert.throws(() => checkOptions('f', { cookie: { httpOnly: 'yes' } }, spec), /option "cookie.httpOnly"/);
    assert.throws(() => checkOptions('f', { cookie: { nmae: 'x' } }, spec), /"cookie.nmae".*"cookie.name"/);
    assert.throws(() => checkOptions('f', { cookie: 'x' }, spec), /option "cookie" must be an object/);
  });

  it('refuses unknown names and suggests the one that was meant', () => {
    assert.throws(() => checkOptions('f', { maxInactve: 1 }, spec), {
      code: 'UNISESSION_INVALID_OPTION',
      message: /unknown option "maxInactve"; did you mean "maxInactive"\?/,
    });
    assert.throws(() => checkOptions('f', { MAXINACTIVE: 1 }, spec), /did you mean "maxInactive"/);
    assert.throws(() => checkOptions('f', { zzzzzzzz: 1 }, spec), /known options: maxInactive, sameSite/);
    // Inherited names are not options.
    assert.throws(() => checkOptions('f', { toString: 1 }, spec), /unknown option "toString"/);
  });

  it('refuses options that are not a plain object', () => {
    for (const bad of [null, 'redis://x', 5, [], new Map()])
      assert.throws(() => checkOptions('f', bad, spec), /option "options" must be an object/);
  });
});

describe('group names', () => {
  it('follow one rule', () => {
    assert.equal(checkGroup('s', 'my-portal_2'), 'my-portal_2');
    for (const bad of ['', 'a.b', 'a b', 'x'.repeat(41), 'é', 7, undefined])
      assert.throws(() => checkGroup('s', bad), { code: 'UNISESSION_INVALID_OPTION' });
  });
});

describe('describeValue', () => {
  it('renders values short and without their content', () => {
    assert.equal(describeValue('x'.repeat(100)).length < 50, true);
    assert.equal(describeValue(Buffer.alloc(3)), 'a Buffer of 3 bytes');
    assert.equal(describeValue([1, 2]), 'an array of 2');
    assert.equal(describeValue(Object.create(null)), 'an object (null prototype)');
  });
});
