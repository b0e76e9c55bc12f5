import { isIP } from 'node:net';

/**
 * Client-address matching for the `clientAddress` filter: an exact address or a CIDR block,
 * IPv4 or IPv6. The one implementation every store uses when it checks in process (SQL and
 * MongoDB narrow by a text prefix first, then check here), so all stores agree.
 */

/** A parsed filter: the address bits to compare and how many of them count. */
export interface AddressMatcher {
  /** The text every matching address starts with, for stores that pre-filter ('' when none helps). */
  readonly prefix: string;
  matches(address: string): boolean;
}

/** The 128-bit (IPv6) or 32-bit (IPv4) value of an address, or undefined if it is not one. IPv4-mapped IPv6 reads as IPv4. */
function addressBits(address: string): { bits: bigint; width: 32 | 128 } | undefined {
  const plain = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const kind = isIP(plain);
  if (kind === 4) return { bits: ipv4Bits(plain), width: 32 };
  if (kind !== 6) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(plain);
  if (mapped) return { bits: ipv4Bits(mapped[1]!), width: 32 };
  return { bits: ipv6Bits(plain), width: 128 };
}

function ipv4Bits(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Bits(address: string): bigint {
  let text = address.replace(/%.*$/, '');
  // An embedded IPv4 tail (::1.2.3.4) becomes two groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = ipv4Bits(tail[1]!);
    text = `${text.slice(0, -tail[1]!.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups =
    rest === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group || '0', 16)), 0n);
}

/** Whether `filter` is an address or CIDR block this module can match (the filter check). */
export function isAddressFilter(filter: string): boolean {
  return parseAddressFilter(filter) !== undefined;
}

/** The matcher for an exact address or a CIDR block; undefined when `filter` is neither. */
export function parseAddressFilter(filter: string): AddressMatcher | undefined {
  const slash = filter.indexOf('/');
  const base = slash === -1 ? filter : filter.slice(0, slash);
  const parsed = addressBits(base);
  if (!parsed) return undefined;
  let length = parsed.width;
  if (slash !== -1) {
    const text = filter.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text)) return undefined;
    // A mapped IPv4 block (::ffff:10.0.0.0/104) counts its length in IPv6 bits.
    const mappedOffset = parsed.width === 32 && isIP(base) === 6 ? 96 : 0;
    length = Number(text) - mappedOffset;
    if (length < 0 || length > parsed.width) return undefined;
  }
  const { width } = parsed;
  const shift = BigInt(width - length);
  const network = parsed.bits >> shift;
  return {
    prefix: slash === -1 ? base : ipv4TextPrefix(base, width, length),
    matches(address) {
      const candidate = addressBits(address);
      return candidate !== undefined && candidate.width === width && candidate.bits >> shift === network;
    },
  };
}

/** The dotted text every IPv4 address of a /8, /16 or /24 block starts with ('' otherwise). */
function ipv4TextPrefix(base: string, width: number, length: number): string {
  if (width !== 32 || isIP(base) !== 4 || length % 8 !== 0 || length === 0) return '';
  if (length === 32) return base;
  return `${base
    .split('.')
    .slice(0, length / 8)
    .join('.')}.`;
}
