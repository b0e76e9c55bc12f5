/**
 * Fuzz: hostile cookies, id headers and X-Forwarded-* against all six adapters, each a real
 * server in its own process on one SQLite file (see group.ts). Every request is checked for
 * a 5xx, an error the process did not handle, another client's data or id, an adopted
 * client-chosen id, and harm to another client's session; some properties add their own
 * rule (cookie tossing, the id header's echo, spoofed proxy headers, anonymous writes).
 */
import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  cookieValue,
  describeReply,
  expectSafeReply,
  idsIn,
  ownMarker,
  sessionCookies,
  victimMarker,
} from './checks.js';
import { FuzzGroup } from './group.js';
import { ADAPTERS, type Adapter, ID_HEADER, READ_ONLY_ROUTES, ROUTES } from './protocol.js';
import {
  anonymousReadPlan,
  type BuiltRequest,
  buildRequest,
  forwardedFor,
  forwardedProto,
  hostileIdValue,
  type Ids,
  type RequestPlan,
  requestPlan,
} from './requests.js';
import { fuzz } from './run.js';
import type { Reply } from './servers.js';

const FILE = 'test/e2e/fuzz/cookies.test.ts';
const LOOPBACK = new Set(['127.0.0.1', '::ffff:127.0.0.1']);

let group: FuzzGroup;
before(async () => {
  group = await FuzzGroup.start();
});
after(async () => {
  await group?.stop();
});

/** One run's sessions: a fresh one of the client's own, and the test's victim. */
async function sessions(adapter: Adapter, victim: string): Promise<Ids> {
  return { own: await group.createSession({ marker: ownMarker(adapter) }), victim };
}

/** Sends `request` and applies the checks every reply must pass. */
async function sendChecked(adapter: Adapter, request: BuiltRequest, ids: Ids): Promise<Reply> {
  const reply = await group.server(adapter).send(request.wire);
  expectSafeReply(group, adapter, reply, request, ids);
  return reply;
}

describe('hostile session cookies and id headers', () => {
  for (const adapter of ADAPTERS) {
    test(adapter, async (t) => {
      const victim = await group.createSession({ marker: victimMarker(adapter) });
      let reachedOwn = 0;
      const property = fc.asyncProperty(requestPlan({}), async (plan) => {
        const ids = await sessions(adapter, victim);
        const reply = await sendChecked(adapter, buildRequest(plan, ids), ids);
        if (reply.status === 200 && reply.body.includes(ownMarker(adapter))) reachedOwn++;
      });
      await fuzz(t, FILE, property, 150);
      // Not vacuous: some requests did carry a cookie or header that reached the client's session.
      assert.ok(reachedOwn > 0, "no request reached the client's own session");
    });
  }
});

/**
 * Cookie tossing (issue 8, item 8): a sibling subdomain can put cookies of the same name in
 * front of the real one, and other cookies can make the header long. Neither may cost the
 * client its session.
 */
describe('a valid cookie behind same-name junk, in a long Cookie header, still finds its session', () => {
  const plan = fc.record({
    junk: fc.array(
      hostileIdValue.filter((value) => !JSON.stringify(value).includes(';')),
      { minLength: 1, maxLength: 2 },
    ),
    padding: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 12 }),
    separator: fc.constantFrom('; ', ';'),
    route: fc.constantFrom(...READ_ONLY_ROUTES),
  });
  for (const adapter of ADAPTERS) {
    test(adapter, async (t) => {
      const victim = await group.createSession({ marker: victimMarker(adapter) });
      const property = fc.asyncProperty(plan, async ({ junk, padding, separator, route }) => {
        const ids = await sessions(adapter, victim);
        const pad = padding.map((size, i) => ({
          name: `pad${i}`,
          value: { kind: 'text', text: 'p'.repeat(size) },
        }));
        const half = Math.ceil(pad.length / 2);
        const cookie = {
          pairs: [
            ...pad.slice(0, half),
            ...junk.map((value) => ({ name: null, value })),
            { name: null, value: { kind: 'valid' } },
            ...pad.slice(half),
          ],
          separator,
          lines: 1,
        } as RequestPlan['cookie'];
        const request = buildRequest(
          { route, user: '', cookie, idHeader: [], forwardedProto: null, forwardedFor: null },
          ids,
        );
        const reply = await sendChecked(adapter, request, ids);
        const body = JSON.parse(reply.body) as {
          id?: string;
          marker?: unknown;
          attributes?: { marker?: unknown };
        };
        const marker = route === 'read' ? body.attributes?.marker : body.marker;
        assert.equal(body.id, ids.own, `the handler saw another session\n  ${describeReply(reply)}`);
        assert.equal(
          marker,
          ownMarker(adapter),
          `the session's data is not there\n  ${describeReply(reply)}`,
        );
        // The cookie may be sent again, but only with the same session: never cleared or replaced.
        const kept = sessionCookies(reply).every((line) => cookieValue(line).split('.')[0] === ids.own);
        assert.ok(kept, `the reply replaced or cleared the client's cookie\n  ${describeReply(reply)}`);
      });
      await fuzz(t, FILE, property, 40);
    });
  }
});

/**
 * The id header is for API clients (issue 8, item 6): echoing it to a cookie client would
 * hand page script the id that HttpOnly hides.
 */
describe('a client that sends no id header never gets one back', () => {
  const plan = fc.record({ route: fc.constantFrom(...ROUTES), withCookie: fc.boolean(), user: fc.string() });
  for (const adapter of ADAPTERS) {
    test(adapter, async (t) => {
      const victim = await group.createSession({ marker: victimMarker(adapter) });
      const property = fc.asyncProperty(plan, async ({ route, withCookie, user }) => {
        const ids = await sessions(adapter, victim);
        const cookie = withCookie
          ? { pairs: [{ name: null, value: { kind: 'valid' } }], separator: '; ', lines: 1 }
          : null;
        const request = buildRequest(
          {
            route,
            user,
            cookie: cookie as RequestPlan['cookie'],
            idHeader: [],
            forwardedProto: null,
            forwardedFor: null,
          },
          ids,
        );
        const reply = await sendChecked(adapter, request, ids);
        assert.equal(
          reply.headers[ID_HEADER],
          undefined,
          `the id header was echoed\n  ${describeReply(reply)}`,
        );
      });
      await fuzz(t, FILE, property, 20);
    });
  }
});

/**
 * X-Forwarded-Proto and -For count only from a trusted proxy: the apps trust none, except
 * one (TRUSTING_ADAPTER) that trusts every peer, so both directions are exercised.
 */
describe('spoofed X-Forwarded-Proto and X-Forwarded-For', () => {
  const plan = fc.record({
    route: fc.constantFrom('inc', 'login'),
    proto: forwardedProto,
    forwardedFor,
  });
  for (const adapter of ADAPTERS) {
    test(adapter, async (t) => {
      const victim = await group.createSession({ marker: victimMarker(adapter) });
      const trusted = group.server(adapter).trustsProxy;
      const property = fc.asyncProperty(plan, async ({ route, proto, forwardedFor: hops }) => {
        const ids = await sessions(adapter, victim);
        // No cookie: every session in the reply is created by this request, from its headers.
        const request = buildRequest(
          { route, user: 'u', cookie: null, idHeader: [], forwardedProto: proto, forwardedFor: hops },
          ids,
        );
        const reply = await sendChecked(adapter, request, ids);
        const cookies = sessionCookies(reply);
        assert.ok(cookies.length > 0, `no session cookie\n  ${describeReply(reply)}`);
        for (const line of cookies) {
          const secure = /;\s*secure/i.test(line);
          if (!trusted)
            assert.ok(!secure, `an untrusted X-Forwarded-Proto made the cookie Secure\n  ${line}`);
          else if (proto === 'https')
            assert.ok(secure, `a trusted "X-Forwarded-Proto: https" was ignored\n  ${line}`);
        }
        for (const id of idsIn(reply)) {
          const address = group.clientAddressOf(id);
          if (!trusted) {
            assert.ok(
              address !== undefined && LOOPBACK.has(address),
              `an untrusted X-Forwarded-For became the client address (${address})\n  ${describeReply(reply)}`,
            );
          } else if (hops !== null && isIPv4(hops)) {
            assert.equal(address, hops, `a trusted X-Forwarded-For was ignored\n  ${describeReply(reply)}`);
          }
        }
      });
      await fuzz(t, FILE, property, 30);
    });
  }
});

describe('a read-only request without a valid session stores no row', () => {
  for (const adapter of ADAPTERS) {
    test(adapter, async (t) => {
      const victim = await group.createSession({ marker: victimMarker(adapter) });
      const batch = fc.array(anonymousReadPlan, { minLength: 1, maxLength: 4 });
      const property = fc.asyncProperty(batch, async (plans) => {
        const ids = await sessions(adapter, victim);
        const rows = group.countSessions();
        for (const plan of plans) await sendChecked(adapter, buildRequest(plan, ids), ids);
        assert.equal(group.countSessions(), rows, 'anonymous read-only requests stored a session');
      });
      await fuzz(t, FILE, property, 30);
    });
  }
});

test('every server is still alive, answers, and saw no error it did not handle', async () => {
  await group.expectHealthy();
});
