/**
 * The core's whole view of an HTTP request. Adapters fill it in from their framework; the
 * core needs nothing else (cookie in, url, method, remote address, TLS).
 */
export interface RequestInfo {
  /** Path and query, as received. */
  url: string;
  method: string;
  /** A request header by lower-case name; for repeated headers, the values joined by ", ". */
  header(name: string): string | undefined;
  /** The peer address of the TCP connection. */
  remoteAddress: string | undefined;
  /** True when the connection itself is TLS. */
  encrypted: boolean;
}

/**
 * Which peers may set X-Forwarded-For / X-Forwarded-Proto. `true` trusts every peer (only
 * safe when the app is reachable solely through the proxy); an array lists exact addresses.
 */
export type TrustProxy = boolean | readonly string[] | ((address: string) => boolean);

export function trustPredicate(trust: TrustProxy): (address: string | undefined) => boolean {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'function') return (address) => address !== undefined && trust(address);
  const allowed = new Set(trust.flatMap((address) => [address, `::ffff:${address}`]));
  return (address) => address !== undefined && allowed.has(address);
}

/** HTTPS as the client saw it: TLS here, or a trusted proxy that says it terminated TLS. */
export function isSecureRequest(
  request: RequestInfo,
  trusted: (address: string | undefined) => boolean,
): boolean {
  if (request.encrypted) return true;
  if (!trusted(request.remoteAddress)) return false;
  const proto = request.header('x-forwarded-proto');
  return proto?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/**
 * The client's address: walk X-Forwarded-For from the right while the hop is trusted, so a
 * client cannot put a fake address in front of the real one.
 */
export function clientAddress(
  request: RequestInfo,
  trusted: (address: string | undefined) => boolean,
): string {
  let address = request.remoteAddress ?? '';
  if (!trusted(address)) return address;
  const hops = (request.header('x-forwarded-for') ?? '').split(',').map((hop) => hop.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (!hop) break;
    address = hop;
    if (!trusted(hop)) break;
  }
  return address;
}

/** The path of a url, without query string, for the ignore pattern. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The host name the client asked for, lower case, without port or trailing dot: X-Forwarded-Host
 * from a trusted proxy, else Host. Undefined when the request names none (HTTP/1.0) or names an
 * IPv6 literal, which no cookie Domain covers either.
 */
export function requestHost(
  request: RequestInfo,
  trusted: (address: string | undefined) => boolean,
): string | undefined {
  const forwarded = trusted(request.remoteAddress) ? request.header('x-forwarded-host') : undefined;
  const raw = (forwarded?.split(',')[0] ?? request.header('host') ?? '').trim().toLowerCase();
  if (raw === '') return undefined;
  if (raw.startsWith('[')) return raw.slice(0, raw.indexOf(']') + 1);
  return raw.replace(/:\d*$/, '').replace(/\.$/, '');
}
