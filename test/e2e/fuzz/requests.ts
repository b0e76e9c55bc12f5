/**
 * Hostile requests, as fast-check arbitraries of *plans*: a plan says what a request holds
 * ("the victim's id with a foreign signature", "9000 × '%'") rather than the bytes, so a
 * shrunk counterexample reads as what it means. `buildRequest` turns a plan into the bytes,
 * given the ids of the sessions of the run.
 */
import fc from 'fast-check';
import { sign } from './group.js';
import {
  COOKIE_NAME,
  FOREIGN_SECRET,
  ID_HEADER,
  READ_ONLY_ROUTES,
  ROUTES,
  type Route,
  SECRET,
} from './protocol.js';
import type { WireRequest } from './servers.js';

/** The sessions of one run: the client's own, and another client's (whose data must never show). */
export interface Ids {
  own: string;
  victim: string;
}
type Who = keyof Ids;

/** One value of the session cookie or of the id header. */
export type IdValue =
  /** The client's own id, correctly signed. */
  | { kind: 'valid' }
  | { kind: 'unsigned'; who: Who }
  | { kind: 'foreignSignature'; who: Who }
  /** The id with the signature of the other session's id. */
  | { kind: 'swappedSignature'; who: Who }
  | { kind: 'badSignature'; who: Who; signature: string }
  /** The client's own valid value, cut short and/or with something appended. */
  | { kind: 'mangled'; keep: number; suffix: string }
  /** An id the store never issued (any length, any alphabet), signed or not. */
  | { kind: 'inventedId'; id: string; signedWith: 'group' | 'foreign' | 'none' }
  /** Random text, sent as its UTF-8 bytes. */
  | { kind: 'text'; text: string }
  /** Another value, percent-encoded (every byte, or only what needs it), maybe broken. */
  | { kind: 'percent'; of: IdValue; everyByte: boolean; broken: boolean }
  | { kind: 'oversized'; fill: string; length: number };

export interface CookiePlan {
  /** The pairs in order; `name: null` is the session cookie's own name. */
  pairs: Array<{ name: string | null; value: IdValue }>;
  separator: string;
  /** Sent as this many Cookie header lines (Node joins them with "; "). */
  lines: 1 | 2;
}

export interface RequestPlan {
  route: Route;
  /** The `?user=` of a login. */
  user: string;
  cookie: CookiePlan | null;
  /** Values of the id header, one header line each. */
  idHeader: IdValue[];
  forwardedProto: string | null;
  forwardedFor: string | null;
}

const who = fc.constantFrom<Who>('own', 'victim');
const base64url = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
  maxLength: 64,
});
/** Any code point, lone surrogates and control characters included. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.constantFrom('\ud800', '\udbff', '\udc00', '\u0000', '\uffff'))
    .map(([text, odd]) => text + odd),
);

const plainIdValue: fc.Arbitrary<IdValue> = fc.oneof(
  fc.constant({ kind: 'valid' } as const),
  fc.record({ kind: fc.constant('unsigned' as const), who }),
  fc.record({ kind: fc.constant('foreignSignature' as const), who }),
  fc.record({ kind: fc.constant('swappedSignature' as const), who }),
  fc.record({ kind: fc.constant('badSignature' as const), who, signature: fc.oneof(base64url, anyText) }),
  fc.record({
    kind: fc.constant('mangled' as const),
    keep: fc.integer({ min: 0, max: 80 }),
    suffix: fc.oneof(fc.constantFrom('', '.', '..', '=', ' ', '"', ';'), anyText),
  }),
  fc.record({
    kind: fc.constant('inventedId' as const),
    id: fc.oneof(
      base64url,
      base64url.filter((id) => id.length > 0).map((id) => id.repeat(32).slice(0, 32)),
      anyText,
    ),
    signedWith: fc.constantFrom('group', 'foreign', 'none'),
  }),
  fc.record({ kind: fc.constant('text' as const), text: anyText }),
);

/** Values of ordinary size; oversized ones are added where the header may grow. */
export const hostileIdValue: fc.Arbitrary<IdValue> = fc.oneof(
  { weight: 6, arbitrary: plainIdValue },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('percent' as const),
      of: plainIdValue,
      everyByte: fc.boolean(),
      broken: fc.boolean(),
    }),
  },
);

const oversized: fc.Arbitrary<IdValue> = fc.record({
  kind: fc.constant('oversized' as const),
  fill: fc.constantFrom('a', '%', '=', '.', ';', '\u00e9', 'x.y'),
  length: fc.integer({ min: 300, max: 20_000 }),
});

/** Any value, oversized ones included. */
export const anyIdValue: fc.Arbitrary<IdValue> = fc.oneof(
  { weight: 8, arbitrary: hostileIdValue },
  { weight: 1, arbitrary: oversized },
);

/** Cookie names: mostly the session cookie's, else near misses and junk. */
const cookieName: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(null) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'UNISESSION',
      ' unisession',
      'unisession ',
      '__Host-unisession',
      'uni%73ession',
      'unisession.sig',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

export function cookiePlan(values: fc.Arbitrary<IdValue>): fc.Arbitrary<CookiePlan> {
  return fc.record({
    pairs: fc.array(fc.record({ name: cookieName, value: values }), { minLength: 1, maxLength: 4 }),
    separator: fc.constantFrom('; ', ';', ' ; ', ', ', ';;'),
    lines: fc.constantFrom<1 | 2>(1, 2),
  });
}

export const forwardedProto = fc.option(
  fc.oneof(fc.constantFrom('https', 'HTTPS', 'http', 'https, http', 'http, https', ' https', 'wss'), anyText),
  { nil: null },
);
export const forwardedFor = fc.option(
  fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.array(fc.ipV4(), { minLength: 2, maxLength: 4 }).map((hops) => hops.join(', ')),
    fc.constantFrom('unknown', '127.0.0.1', '::1', ', ,', '10.0.0.1, evil'),
    anyText,
  ),
  { nil: null },
);

export function requestPlan(options: {
  routes?: readonly Route[];
  values?: fc.Arbitrary<IdValue>;
  idHeader?: boolean;
}): fc.Arbitrary<RequestPlan> {
  const values = options.values ?? anyIdValue;
  return fc.record({
    route: fc.constantFrom(...(options.routes ?? ROUTES)),
    user: fc.string({ maxLength: 16 }),
    cookie: fc.option(cookiePlan(values), { nil: null, freq: 4 }),
    idHeader: options.idHeader === false ? fc.constant([]) : fc.array(values, { maxLength: 2 }),
    forwardedProto,
    forwardedFor,
  });
}

/** Plans of read-only requests that carry no valid session of their own. */
export const anonymousReadPlan = requestPlan({
  routes: READ_ONLY_ROUTES,
  values: anyIdValue.filter((value) => !canBeValid(value)),
});

/** Whether a value may carry the client's own valid id (then the request is not anonymous). */
function canBeValid(value: IdValue): boolean {
  if (value.kind === 'valid' || value.kind === 'mangled') return true;
  return value.kind === 'percent' && canBeValid(value.of);
}

/** The bytes of one request, and every id it carries (to spot an adopted one). */
export interface BuiltRequest {
  wire: WireRequest;
  /** Every id put into the request, whatever its form. */
  sentIds: Set<string>;
  /** All header values as sent, for substring checks. */
  sentText: string;
}

export function buildRequest(plan: RequestPlan, ids: Ids): BuiltRequest {
  const sentIds = new Set<string>();
  const value = (idValue: IdValue) => renderValue(idValue, ids, sentIds);
  const headers: Record<string, string | string[]> = {};
  if (plan.cookie) headers.cookie = cookieHeader(plan.cookie, value);
  if (plan.idHeader.length > 0) headers[ID_HEADER] = plan.idHeader.map((item) => wire(value(item)));
  if (plan.forwardedProto !== null) headers['x-forwarded-proto'] = wire(plan.forwardedProto);
  if (plan.forwardedFor !== null) headers['x-forwarded-for'] = wire(plan.forwardedFor);
  const query = plan.route === 'login' ? `?user=${encodeURIComponent(plan.user)}` : '';
  const sentText = Object.values(headers).flat().join('\n');
  return { wire: { path: `/${plan.route}${query}`, headers }, sentIds, sentText };
}

function cookieHeader(plan: CookiePlan, value: (idValue: IdValue) => string): string | string[] {
  const pairs = plan.pairs.map((pair) => `${pair.name ?? COOKIE_NAME}=${value(pair.value)}`);
  if (plan.lines === 1 || pairs.length < 2) return wire(pairs.join(plan.separator));
  const half = Math.ceil(pairs.length / 2);
  return [wire(pairs.slice(0, half).join(plan.separator)), wire(pairs.slice(half).join(plan.separator))];
}

function renderValue(value: IdValue, ids: Ids, sentIds: Set<string>): string {
  const idOf = (role: Who) => {
    sentIds.add(ids[role]);
    return ids[role];
  };
  const other = (role: Who): Who => (role === 'own' ? 'victim' : 'own');
  switch (value.kind) {
    case 'valid':
      return sign(idOf('own'), SECRET);
    case 'unsigned':
      return idOf(value.who);
    case 'foreignSignature':
      return sign(idOf(value.who), FOREIGN_SECRET);
    case 'swappedSignature': {
      const signature = sign(ids[other(value.who)], SECRET).split('.')[1]!;
      return `${idOf(value.who)}.${signature}`;
    }
    case 'badSignature':
      return `${idOf(value.who)}.${value.signature}`;
    case 'mangled':
      return sign(idOf('own'), SECRET).slice(0, value.keep) + value.suffix;
    case 'inventedId':
      sentIds.add(value.id);
      if (value.signedWith === 'none') return value.id;
      return sign(value.id, value.signedWith === 'group' ? SECRET : FOREIGN_SECRET);
    case 'text':
      return value.text;
    case 'percent': {
      const encoded = percentEncode(renderValue(value.of, ids, sentIds), value.everyByte);
      return value.broken ? `${encoded}%E0%A4%A` : encoded;
    }
    case 'oversized':
      return value.fill.repeat(Math.ceil(value.length / value.fill.length)).slice(0, value.length);
  }
}

/** Percent-encodes the UTF-8 bytes of `text`: every byte, or those outside RFC 3986's unreserved set. */
function percentEncode(text: string, everyByte: boolean): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += !everyByte && /[A-Za-z0-9\-_.~]/.test(char) ? char : `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * A header value as bytes on the wire: the UTF-8 bytes of the text, one char per byte (as
 * Node sends and receives header values). Control characters other than tab are dropped:
 * Node's HTTP parser refuses them before any app code runs, so they test nothing here.
 */
function wire(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
}
