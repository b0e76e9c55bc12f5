/**
 * What must hold for every reply of every fuzz request. Each check throws with the reply
 * described, so fast-check's report shows what the server did.
 */
import type { FuzzGroup } from './group.js';
import { type Adapter, COOKIE_NAME, ID_HEADER, INTERNAL_TEXT } from './protocol.js';
import type { BuiltRequest, Ids } from './requests.js';
import type { Reply } from './servers.js';

/** The secret-ish value each fuzz client keeps in its own session; no other client may see it. */
export const ownMarker = (adapter: Adapter): string => `own-marker-${adapter}-Qz81`;
/** The marker of the one other client of each test, whose session the fuzz requests attack. */
export const victimMarker = (adapter: Adapter): string => `victim-marker-${adapter}-Wm47`;

/** The codec's stored text of a string attribute. */
export const storedString = (text: string): string => JSON.stringify(text);

export function describeReply(reply: Reply): string {
  const body = reply.body.length > 300 ? `${reply.body.slice(0, 300)}…` : reply.body;
  const idHeader = reply.headers[ID_HEADER];
  return [
    `GET ${reply.path.slice(0, 80)} → HTTP ${reply.status} ${body}`,
    ...reply.setCookies.map((line) => `set-cookie: ${line}`),
    ...(idHeader === undefined ? [] : [`${ID_HEADER}: ${idHeader}`]),
  ].join('\n  ');
}

function fail(reason: string, reply: Reply): never {
  throw new Error(`${reason}\n  ${describeReply(reply)}`);
}

/** The session cookies a reply sets (name=value parts, clearing ones included). */
export function sessionCookies(reply: Reply): string[] {
  return reply.setCookies.filter((line) => line.startsWith(`${COOKIE_NAME}=`));
}

/** The value a Set-Cookie line gives the session cookie ('' when it clears it). */
export function cookieValue(line: string): string {
  return line.slice(COOKIE_NAME.length + 1).split(';')[0]!;
}

/** Every session id a reply hands the client, in a cookie or in the id header. */
export function idsIn(reply: Reply): string[] {
  const values = sessionCookies(reply).map(cookieValue);
  const header = reply.headers[ID_HEADER];
  if (typeof header === 'string') values.push(...header.split(',').map((value) => value.trim()));
  return values.filter((value) => value !== '').map((value) => value.split('.')[0]!);
}

/** No 5xx; `allow503` while the store is down (503 is what "store unavailable" answers). */
export function expectNo5xx(reply: Reply, allow503 = false): void {
  if (reply.status >= 500 && !(allow503 && reply.status === 503)) fail(`answered ${reply.status}`, reply);
}

/** No reply carries another client's data: its marker appears nowhere in headers or body. */
export function expectNoMarkers(reply: Reply, markers: readonly string[]): void {
  const text = `${JSON.stringify(reply.headers)}\n${reply.body}`;
  for (const marker of markers) {
    if (text.includes(marker)) fail(`the reply carries another session's data (${marker})`, reply);
  }
}

/** No driver or runtime text reaches a client. */
export function expectNoInternals(reply: Reply): void {
  if (reply.body.includes(INTERNAL_TEXT) || JSON.stringify(reply.headers).includes(INTERNAL_TEXT)) {
    fail("the reply carries the store driver's message", reply);
  }
  if (
    reply.status >= 400 &&
    /\b(TypeError|RangeError|ReferenceError|SqliteError)\b|\n\s+at /.test(reply.body)
  ) {
    fail('the error reply carries a runtime error message', reply);
  }
}

/**
 * No client-chosen id is adopted, and no other client's id is handed out: every id in the
 * reply is either the client's own session or one the client never sent (a fresh one).
 */
export function expectNoAdoptedId(
  reply: Reply,
  request: Pick<BuiltRequest, 'sentIds' | 'sentText'>,
  ids: Ids,
): void {
  for (const id of idsIn(reply)) {
    if (id === ids.victim) fail("the reply hands out another client's session id", reply);
    if (id === ids.own) continue;
    if (request.sentIds.has(id) || request.sentText.includes(id)) {
      fail(`the reply adopts the id the client sent (${id})`, reply);
    }
  }
}

/** Another client's session is still there, and still holds its marker. */
export function expectIntact(group: FuzzGroup, id: string, marker: string, reply: Reply): void {
  if (!group.sessionExists(id)) fail("the request destroyed another client's session", reply);
  if (group.storedText(id, ':marker') !== storedString(marker)) {
    fail("the request changed another client's session", reply);
  }
}

/**
 * The checks every fuzz reply must pass: no 5xx (503 only while the store is down), no
 * internals, nothing of the victim's (data, id, or harm to its session), no adopted id.
 */
export function expectSafeReply(
  group: FuzzGroup,
  adapter: Adapter,
  reply: Reply,
  request: Pick<BuiltRequest, 'sentIds' | 'sentText'>,
  ids: Ids,
  storeDown = false,
): void {
  expectNo5xx(reply, storeDown);
  expectNoInternals(reply);
  expectNoMarkers(reply, [victimMarker(adapter)]);
  expectNoAdoptedId(reply, request, ids);
  expectIntact(group, ids.victim, victimMarker(adapter), reply);
}
