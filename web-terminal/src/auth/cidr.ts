// Address ranges (CIDRs) for trusted proxies: IPv4, IPv6, and IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`),
// which is how a dual-stack listener reports IPv4 clients.
import { BlockList, isIP } from 'node:net';

export interface AddressRanges {
  /** True when the address lies in one of the ranges. Unparseable addresses are never contained. */
  contains(address: string | undefined): boolean;
}

interface ParsedCidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** `::ffff:a.b.c.d` -> `a.b.c.d`; anything else unchanged (lowercased, without a zone index). */
export function normalizeAddress(address: string): string {
  const lower = address.trim().toLowerCase().replace(/%.*$/, '');
  const mapped = MAPPED_IPV4.exec(lower);
  return mapped ? mapped[1]! : lower;
}

function parseCidr(text: string): ParsedCidr | null {
  const [rawAddress, rawPrefix, extra] = text.trim().split('/');
  if (rawAddress === undefined || extra !== undefined) return null;
  const address = normalizeAddress(rawAddress);
  const version = isIP(address);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const max = version === 4 ? 32 : 128;
  if (rawPrefix === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(rawPrefix)) return null;
  let prefix = Number(rawPrefix);
  // A mapped range like ::ffff:10.0.0.0/104 is the IPv4 range 10.0.0.0/8.
  if (family === 'ipv4' && version === 4 && MAPPED_IPV4.test(rawAddress.trim())) prefix -= 96;
  if (prefix < 0 || prefix > max) return null;
  return { address, prefix, family };
}

export const isValidCidr = (text: string): boolean => parseCidr(text) !== null;

/** Builds a matcher from CIDR strings; throws on an invalid entry (config validation reports it earlier). */
export function parseAddressRanges(cidrs: readonly string[]): AddressRanges {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (!cidr) throw new Error(`not an IP address or CIDR range: ${JSON.stringify(text)}`);
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return {
    contains(address) {
      if (!address) return false;
      const normalized = normalizeAddress(address);
      const version = isIP(normalized);
      if (version === 0) return false;
      return list.check(normalized, version === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** True for loopback listen addresses: 127.0.0.0/8, ::1 (and its mapped forms) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  return parseAddressRanges(['127.0.0.0/8', '::1/128']).contains(bare);
}
