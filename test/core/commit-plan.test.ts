/** What a commit writes (src/core/commit-plan.ts): every rule, on plain values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CommitState, expiryAt, planCommit } from '../../src/core/commit-plan.js';

const NOW = 1_700_000_000_000;
const MINUTE = 60_000;

/** A session last touched 10 s ago, 30-minute lifetime, nothing changed, default options. */
function state(changes: Partial<CommitState> = {}): CommitState {
  return {
    persisted: true,
    meta: { lastAccessedAt: NOW - 10_000, maxInactive: 30 * MINUTE, absoluteExpiresAt: null },
    delta: { set: new Map(), remove: [] },
    pending: {},
    forceTouch: false,
    touchInterval: MINUTE,
    saveUninitialized: false,
    now: NOW,
    ...changes,
  };
}

const oneSet = { set: new Map([['shop:n', '1']]), remove: [] };
const oneRemove = { set: new Map(), remove: ['shop:n'] };

describe('planCommit: a new session', () => {
  it('with nothing in it is not saved', () => {
    assert.deepEqual(planCommit(state({ persisted: false })), { write: 'nothing' });
  });

  it('is created once it has an attribute, with no touch of its own', () => {
    assert.deepEqual(planCommit(state({ persisted: false, delta: oneSet })), { write: 'create', patch: {} });
  });

  it('is created empty with saveUninitialized, or a forced touch', () => {
    assert.deepEqual(planCommit(state({ persisted: false, saveUninitialized: true })), {
      write: 'create',
      patch: {},
    });
    assert.deepEqual(planCommit(state({ persisted: false, forceTouch: true })), {
      write: 'create',
      patch: {},
    });
  });

  it('is created for a principal alone, which goes in its metadata', () => {
    assert.deepEqual(planCommit(state({ persisted: false, pending: { principal: 'ann' } })), {
      write: 'create',
      patch: { principal: 'ann' },
    });
  });

  it('is not created for a removal of what it never had', () => {
    assert.deepEqual(planCommit(state({ persisted: false, delta: oneRemove })), { write: 'nothing' });
  });
});

describe('planCommit: an existing session', () => {
  it('writes nothing when nothing changed and the last touch is recent (the throttle)', () => {
    assert.deepEqual(planCommit(state()), { write: 'nothing' });
  });

  it('records the access once the last touch is touchInterval old, with the expiry sliding', () => {
    const due = state({ meta: { ...state().meta, lastAccessedAt: NOW - MINUTE } });
    assert.deepEqual(planCommit(due), {
      write: 'update',
      patch: { lastAccessedAt: NOW, expiresAt: NOW + 30 * MINUTE },
    });
  });

  it('records the access when forced, however recent the last one', () => {
    assert.deepEqual(planCommit(state({ forceTouch: true })), {
      write: 'update',
      patch: { lastAccessedAt: NOW, expiresAt: NOW + 30 * MINUTE },
    });
  });

  it('writes an attribute delta alone when no touch is due', () => {
    assert.deepEqual(planCommit(state({ delta: oneSet })), { write: 'update', patch: undefined });
    assert.deepEqual(planCommit(state({ delta: oneRemove })), { write: 'update', patch: undefined });
  });

  it('writes a delta and the touch together when one is due', () => {
    assert.deepEqual(planCommit(state({ delta: oneSet, touchInterval: 0 })), {
      write: 'update',
      patch: { lastAccessedAt: NOW, expiresAt: NOW + 30 * MINUTE },
    });
  });

  it('writes a principal change alone, without a touch', () => {
    assert.deepEqual(planCommit(state({ pending: { principal: null } })), {
      write: 'update',
      patch: { principal: null },
    });
  });

  it('slides the expiry by a new maxInactive from setMaxInactive', () => {
    const plan = planCommit(state({ pending: { maxInactive: 60 * MINUTE }, forceTouch: true }));
    assert.deepEqual(plan, {
      write: 'update',
      patch: { maxInactive: 60 * MINUTE, lastAccessedAt: NOW, expiresAt: NOW + 60 * MINUTE },
    });
  });

  it('caps the sliding expiry by the absolute one', () => {
    const capped = state({ forceTouch: true, meta: { ...state().meta, absoluteExpiresAt: NOW + MINUTE } });
    assert.deepEqual(planCommit(capped), {
      write: 'update',
      patch: { lastAccessedAt: NOW, expiresAt: NOW + MINUTE },
    });
  });
});

describe('expiryAt', () => {
  it('slides by maxInactive, is capped by the absolute expiry, and is null when neither applies', () => {
    assert.equal(expiryAt(NOW, { maxInactive: MINUTE, absoluteExpiresAt: null }), NOW + MINUTE);
    assert.equal(expiryAt(NOW, { maxInactive: MINUTE, absoluteExpiresAt: NOW + 10 }), NOW + 10);
    assert.equal(expiryAt(NOW, { maxInactive: 0, absoluteExpiresAt: NOW + 10 }), NOW + 10);
    assert.equal(expiryAt(NOW, { maxInactive: 0, absoluteExpiresAt: null }), null);
  });
});

describe('planCommit: a lifetime set before the first write', () => {
  it('gives a new session the expiry of its own maxInactive, not the default one', () => {
    const plan = planCommit(
      state({ persisted: false, delta: oneSet, pending: { maxInactive: 7 * 86_400_000 }, forceTouch: true }),
    );
    assert.deepEqual(plan, {
      write: 'create',
      patch: { maxInactive: 7 * 86_400_000, expiresAt: NOW + 7 * 86_400_000 },
    });
  });

  it('never expires by inactivity with maxInactive 0, unless an absolute timeout caps it', () => {
    const open = planCommit(state({ persisted: false, delta: oneSet, pending: { maxInactive: 0 } }));
    assert.deepEqual(open, { write: 'create', patch: { maxInactive: 0, expiresAt: null } });
    const capped = planCommit(
      state({
        persisted: false,
        delta: oneSet,
        pending: { maxInactive: 0 },
        meta: { lastAccessedAt: NOW, maxInactive: 30 * MINUTE, absoluteExpiresAt: NOW + MINUTE },
      }),
    );
    assert.deepEqual(capped, { write: 'create', patch: { maxInactive: 0, expiresAt: NOW + MINUTE } });
  });
});
