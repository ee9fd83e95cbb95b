/**
 * Low-level writers and readers shared by the stack's builders: IP headers, checksums over the built
 * bytes, the IPv6 extension-header walk Linux uses (ipv6_skip_exthdr), IPv6 address types, and the
 * deterministic stand-in for Linux's hashed IPv6 flow labels.
 *
 * Hot path: nothing here allocates.
 */
import { finishChecksum, foldSum, pseudoHeaderSumV4, pseudoHeaderSumV6, sumBytes } from "../wire/checksum.js";
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_ESP,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
} from "../wire/ip-protocol.js";

export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export function get16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function get32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** copyBytes: dst[d, d + n) = src[s, s + n) (no views created). */
export function copyBytes(dst: Uint8Array, d: number, src: Uint8Array, s: number, n: number): void {
  for (let i = 0; i < n; i++) dst[d + i] = src[s + i];
}

/**
 * writeIpv4Header: a 20-byte IPv4 header (plus `optLen` option bytes already at out[20..]) at out[0]
 * with the header checksum filled.
 */
export function writeIpv4Header(
  out: Uint8Array,
  optLen: number,
  tos: number,
  totalLen: number,
  id: number,
  df: boolean,
  ttl: number,
  proto: number,
  src: number,
  dst: number,
): void {
  out[0] = 0x40 | ((20 + optLen) >> 2);
  out[1] = tos & 0xff;
  put16(out, 2, totalLen);
  put16(out, 4, id);
  put16(out, 6, df ? 0x4000 : 0);
  out[8] = ttl & 0xff;
  out[9] = proto;
  out[10] = 0;
  out[11] = 0;
  put32(out, 12, src);
  put32(out, 16, dst);
  put16(out, 10, finishChecksum(sumBytes(out, 0, 20 + optLen, 0)));
}

/** writeIpv6Header: a 40-byte IPv6 header at out[0]. */
export function writeIpv6Header(
  out: Uint8Array,
  tclass: number,
  flowLabel: number,
  payloadLen: number,
  nextHeader: number,
  hopLimit: number,
  src: Int32Array,
  dst: Int32Array,
): void {
  put32(out, 0, (6 << 28) | ((tclass & 0xff) << 20) | (flowLabel & 0xfffff));
  put16(out, 4, payloadLen);
  out[6] = nextHeader;
  out[7] = hopLimit & 0xff;
  for (let w = 0; w < 4; w++) {
    put32(out, 8 + 4 * w, src[w]);
    put32(out, 24 + 4 * w, dst[w]);
  }
}

/** fillIcmp4Checksum: the ICMP checksum of out[off, off + len) (field at off + 2). */
export function fillIcmp4Checksum(out: Uint8Array, off: number, len: number): void {
  out[off + 2] = 0;
  out[off + 3] = 0;
  put16(out, off + 2, finishChecksum(sumBytes(out, off, len, 0)));
}

/** fillL4Checksum4: a TCP/UDP-style checksum with the IPv4 pseudo header; field at off + fieldOff. */
export function fillL4Checksum4(
  out: Uint8Array,
  off: number,
  len: number,
  fieldOff: number,
  proto: number,
  src: number,
  dst: number,
): void {
  out[off + fieldOff] = 0;
  out[off + fieldOff + 1] = 0;
  put16(out, off + fieldOff, finishChecksum(sumBytes(out, off, len, pseudoHeaderSumV4(src, dst, proto, len))));
}

/** fillL4Checksum6: a checksum with the IPv6 pseudo header (TCP, ICMPv6); field at off + fieldOff. */
export function fillL4Checksum6(
  out: Uint8Array,
  off: number,
  len: number,
  fieldOff: number,
  proto: number,
  src: Int32Array,
  dst: Int32Array,
): void {
  out[off + fieldOff] = 0;
  out[off + fieldOff + 1] = 0;
  put16(out, off + fieldOff, finishChecksum(sumBytes(out, off, len, pseudoHeaderSumV6(src, dst, proto, len))));
}

/** sumIsValid: whether an accumulated one's-complement sum folds to 0xffff (a correct checksum). */
export function sumIsValid(sum: number): boolean {
  return foldSum(sum) === 0xffff;
}

// ---- IPv6 extension headers ------------------------------------------------------------------------

/** isIpv6ExtHeader: Linux ipv6_ext_hdr: hop-by-hop, routing, fragment, ESP, AH, none, destination options. */
export function isIpv6ExtHeader(nh: number): boolean {
  return (
    nh === IPPROTO_HOPOPTS ||
    nh === IPPROTO_ROUTING ||
    nh === IPPROTO_FRAGMENT ||
    nh === IPPROTO_ESP ||
    nh === IPPROTO_AH ||
    nh === IPPROTO_NONE ||
    nh === IPPROTO_DSTOPTS
  );
}

/**
 * SkipResult: the outcome of skipExtHeaders6, reused. `off` is the absolute offset where the walk
 * stopped (-1: the chain could not be walked), `nextHeader` the protocol there, `fragOff` the raw
 * 16-bit offset/flags field of the first fragment header seen (0 if none).
 */
export class SkipResult {
  off = -1;
  nextHeader = 0;
  fragOff = 0;
}

/**
 * skipExtHeaders6: Linux ipv6_skip_exthdr over buf[start, end) starting at next header `nh`: skips
 * extension headers; "no next header" fails (-1); a fragment header with a non-zero offset stops the
 * walk AT the fragment header (nextHeader 44); a header that runs past `end` fails.
 */
export function skipExtHeaders6(buf: Uint8Array, start: number, end: number, nh: number, r: SkipResult): SkipResult {
  r.fragOff = 0;
  let p = start;
  while (isIpv6ExtHeader(nh)) {
    if (nh === IPPROTO_NONE || p + 2 > end) {
      r.off = -1;
      r.nextHeader = nh;
      return r;
    }
    let hlen: number;
    if (nh === IPPROTO_FRAGMENT) {
      if (p + 4 > end) {
        r.off = -1;
        r.nextHeader = nh;
        return r;
      }
      r.fragOff = get16(buf, p + 2);
      if ((r.fragOff & ~7) !== 0) break;
      hlen = 8;
    } else if (nh === IPPROTO_AH) {
      hlen = (buf[p + 1] + 2) << 2;
    } else {
      hlen = (buf[p + 1] + 1) << 3;
    }
    nh = buf[p];
    p += hlen;
  }
  r.off = p;
  r.nextHeader = nh;
  return r;
}

// ---- IPv6 address types (Linux __ipv6_addr_type, the bits the stack tests) --------------------------

export const ADDR6_ANY = 0x0000;
export const ADDR6_UNICAST = 0x0001;
export const ADDR6_MULTICAST = 0x0002;
export const ADDR6_LOOPBACK = 0x0010;
export const ADDR6_LINKLOCAL = 0x0020;
export const ADDR6_MAPPED = 0x1000;

/** ipv6AddrType: the Linux address type bits of an IPv6 address (unicast, multicast, scope...). */
export function ipv6AddrType(a: ArrayLike<number>): number {
  const w0 = a[0];
  const top3 = w0 >>> 29;
  // everything outside 000/3 and 111/3 is global unicast
  if (top3 !== 0 && top3 !== 7) return ADDR6_UNICAST;
  if (w0 >>> 24 === 0xff) {
    // multicast, with the link-local bit for interface- and link-scope groups (scope 1, 2)
    const scope = (w0 >>> 16) & 0x0f;
    return ADDR6_MULTICAST | (scope === 1 ? ADDR6_LOOPBACK : scope === 2 ? ADDR6_LINKLOCAL : 0);
  }
  if ((w0 & 0xffc00000) === (0xfe800000 | 0)) return ADDR6_UNICAST | ADDR6_LINKLOCAL;
  if ((w0 | a[1]) === 0) {
    if (a[2] === 0) {
      if (a[3] === 0) return ADDR6_ANY;
      if (a[3] === 1) return ADDR6_UNICAST | ADDR6_LOOPBACK;
      return ADDR6_UNICAST; // IPv4-compatible
    }
    if (a[2] === 0xffff) return ADDR6_MAPPED;
  }
  return ADDR6_UNICAST;
}

/** needsScopeId6: Linux __ipv6_addr_needs_scope_id (link-local unicast, interface/link multicast). */
export function needsScopeId6(type: number): boolean {
  return (type & ADDR6_LINKLOCAL) !== 0 || ((type & ADDR6_MULTICAST) !== 0 && (type & ADDR6_LOOPBACK) !== 0);
}

// ---- flow labels -----------------------------------------------------------------------------------

/**
 * flowLabel6: a deterministic 20-bit flow label for a flow, standing in for Linux's auto flow label
 * (a hash of the flow with a per-boot secret, which cannot be reproduced). Stable per (src, dst,
 * next header, two flow words) and seed, like Linux's.
 */
export function flowLabel6(seed: number, src: Int32Array, dst: Int32Array, nh: number, a: number, b: number): number {
  let h = seed | 0;
  for (let w = 0; w < 4; w++) {
    h = Math.imul(h ^ src[w], 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h ^ dst[w], 0x85ebca77);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ nh ^ (a << 8), 0xc2b2ae3d);
  h = Math.imul(h ^ b ^ (h >>> 16), 0x27d4eb2f);
  h ^= h >>> 16;
  return h & 0xfffff;
}
