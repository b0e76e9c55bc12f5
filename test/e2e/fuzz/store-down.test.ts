/**
 * Fuzz: the same hostile requests while each server's store is down (every store call
 * rejects with a driver-like error whose message holds internals). 503 is then the one
 * 5xx allowed; the driver's text must never reach the client; and once the store is back,
 * the same process serves a client whose session was made before the outage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { describeReply, expectSafeReply, ownMarker, victimMarker } from './checks.js';
import { FuzzGroup, sign } from './group.js';
import { ADAPTERS, COOKIE_NAME, SECRET } from './protocol.js';
import { buildRequest, requestPlan } from './requests.js';
import { fuzz } from './run.js';

const FILE = 'test/e2e/fuzz/store-down.test.ts';

let group: FuzzGroup;
before(async () => {
  group = await FuzzGroup.start();
});
after(async () => {
  await group?.stop();
});

describe('while the store is down: no 5xx but 503, no driver text, and the process serves again after', () => {
  for (const adapter of ADAPTERS) {
    test(adapter, async (t) => {
      const server = group.server(adapter);
      // The native app's store is not the one that fails: it keeps making sessions.
      const victim = await group.createSession({ marker: victimMarker(adapter) });
      const survivor = await group.createSession({ marker: ownMarker(adapter) });
      let unavailable = 0;
      const property = fc.asyncProperty(requestPlan({}), async (plan) => {
        const ids = { own: await group.createSession({ marker: ownMarker(adapter) }), victim };
        const request = buildRequest(plan, ids);
        const reply = await server.send(request.wire);
        if (reply.status === 503) unavailable++;
        expectSafeReply(group, adapter, reply, request, ids, true);
      });
      await server.setFault(true);
      try {
        await fuzz(t, FILE, property, 60);
      } finally {
        await server.setFault(false);
      }
      assert.ok(unavailable > 0, 'no request noticed that the store was down');
      const cookie = `${COOKIE_NAME}=${sign(survivor, SECRET)}`;
      const reply = await server.send({ path: '/read', headers: { cookie } });
      assert.equal(reply.status, 200, describeReply(reply));
      const body = JSON.parse(reply.body) as { id?: string; attributes?: Record<string, unknown> };
      assert.equal(body.id, survivor, describeReply(reply));
      assert.equal(body.attributes?.marker, ownMarker(adapter), describeReply(reply));
    });
  }
});

test('every server is still alive, answers, and saw no error it did not handle', async () => {
  await group.expectHealthy();
});
