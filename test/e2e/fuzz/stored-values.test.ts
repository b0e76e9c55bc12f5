/**
 * Fuzz: hostile attribute names and values, written by another app of the group (the
 * `native` app, through the native API, and straight into the store as data written
 * before a fix or by hand would be), then read and written through each of the six
 * adapters. Each request must pass the checks of every fuzz request; afterwards the session
 * must still work (its own data readable) and the odd attribute must still be stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { UnisessionError } from '../../../src/core/errors.js';
import { attributeKey } from '../../../src/core/store.js';
import {
  buildText,
  buildValue,
  MEMBER_NAMES,
  modestTextPlan,
  modestValuePlan,
  oddName,
  PROTOTYPE_NAMES,
  plainName,
  type TextPlan,
  textPlan,
  type ValuePlan,
  valuePlan,
} from './attributes.js';
import { describeReply, expectSafeReply, ownMarker, victimMarker } from './checks.js';
import { FuzzGroup, sign } from './group.js';
import { ADAPTERS, type Adapter, COOKIE_NAME, type Route, SECRET } from './protocol.js';
import { fuzz } from './run.js';

const FILE = 'test/e2e/fuzz/stored-values.test.ts';
/** Read everything, read through properties, write, and read again. */
const ROUTE_SEQUENCE: readonly Route[] = ['read', 'prop', 'inc', 'read'];

let group: FuzzGroup;
before(async () => {
  group = await FuzzGroup.start();
});
after(async () => {
  await group?.stop();
});

/** The key of a shared attribute: every app of the group sees it. */
const sharedKey = (name: string) => attributeKey('', name);

/**
 * A session of the native app with its own marker, and `name` set to `value` through the
 * native API. A refusal (a UnisessionError: a bad name, a value too large, too deep or
 * unencodable) is fine; anything else thrown is not.
 */
async function nativeSession(
  marker: string,
  name: string,
  value: unknown,
): Promise<{ id: string; set: boolean }> {
  const session = group.open();
  await session.set('marker', marker);
  let set = true;
  try {
    await session.set(name, value);
  } catch (error) {
    if (!(error instanceof UnisessionError))
      throw new Error(`the native set threw ${String(error)}, not a UnisessionError`);
    set = false;
  }
  try {
    await session.commit();
  } catch (error) {
    throw new Error(`the native app's commit failed after set() had accepted the value: ${String(error)}`);
  }
  return { id: session.id!, set };
}

/** Writes a row straight into the store; if the store refuses it, by hand into the file. */
async function writeRaw(id: string, key: string, text: string): Promise<void> {
  try {
    await group.manager.store.update(id, { set: new Map([[key, text]]) });
  } catch (error) {
    if (!(error instanceof UnisessionError)) throw new Error(`store.update threw ${String(error)}`);
    group.writeByHand(id, key, text);
  }
}

/**
 * The property for one adapter: a session of the native app with its own marker and a
 * hostile attribute (`names` × `values`), maybe one more written by hand, then the route
 * sequence on the adapter with that session's cookie.
 */
function storedValueProperty(adapter: Adapter, victim: string, kind: StoredKind) {
  const plan = fc.record({
    name: kind.names,
    value: kind.values,
    byHand: fc.option(fc.record({ name: kind.names, text: kind.texts }), { nil: null }),
  });
  return fc.asyncProperty(plan, async ({ name, value, byHand }) => {
    const { id: own, set } = await nativeSession(ownMarker(adapter), name, buildValue(value));
    const written = set ? [sharedKey(name)] : [];
    if (byHand) {
      await writeRaw(own, sharedKey(byHand.name), buildText(byHand.text));
      written.push(sharedKey(byHand.name));
    }
    const ids = { own, victim };
    const cookie = `${COOKIE_NAME}=${sign(own, SECRET)}`;
    let last = '';
    for (const route of ROUTE_SEQUENCE) {
      const reply = await group.server(adapter).send({ path: `/${route}`, headers: { cookie } });
      last = describeReply(reply);
      expectSafeReply(group, adapter, reply, { sentIds: new Set([own]), sentText: cookie }, ids);
      if (route === 'read' && reply.status === 200) {
        const body = JSON.parse(reply.body) as { id?: string; attributes?: Record<string, unknown> };
        assert.equal(body.id, own, `the handler saw another session\n  ${last}`);
        assert.equal(
          body.attributes?.marker,
          ownMarker(adapter),
          `the session's own data is gone\n  ${last}`,
        );
      }
    }
    for (const key of written) {
      const kept = group.storedText(own, key) !== undefined;
      assert.ok(kept, `the stored attribute ${JSON.stringify(key)} was removed\n  ${last}`);
    }
  });
}

interface StoredKind {
  title: string;
  names: fc.Arbitrary<string>;
  values: fc.Arbitrary<ValuePlan>;
  texts: fc.Arbitrary<TextPlan>;
}

/** Hostile names with modest values, then plain names with hostile values: a failure says which. */
const STORED_KINDS: StoredKind[] = [
  {
    title: 'names that reach the prototype chain (__proto__, constructor, prototype)',
    names: fc.constantFrom(...PROTOTYPE_NAMES),
    values: modestValuePlan,
    texts: modestTextPlan,
  },
  {
    title: "names of the adapters' own members (id, cookie, get, set, isNew, toJSON…)",
    names: fc.constantFrom(...MEMBER_NAMES),
    values: modestValuePlan,
    texts: modestTextPlan,
  },
  {
    title: 'names with control characters, lone surrogates, 200+ chars or odd punctuation',
    names: oddName,
    values: modestValuePlan,
    texts: modestTextPlan,
  },
  {
    title: 'plain names holding deep, huge, odd or tag-like values and stored texts',
    names: plainName,
    values: valuePlan,
    texts: textPlan,
  },
];

for (const kind of STORED_KINDS) {
  describe(`another app of the group stores ${kind.title}; each adapter then reads and writes the session`, () => {
    for (const adapter of ADAPTERS) {
      test(adapter, async (t) => {
        const victim = await group.createSession({ marker: victimMarker(adapter) });
        await fuzz(t, FILE, storedValueProperty(adapter, victim, kind), 40);
      });
    }
  });
}

test('every server is still alive, answers, and saw no error it did not handle', async () => {
  await group.expectHealthy();
});
