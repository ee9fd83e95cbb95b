/**
 * Internet checksums: the RFC 1071 one's-complement sum, RFC 1624 incremental updates, pseudo-header
 * sums, and whole-packet verify/fill functions over a parsed PacketInfo.
 *
 * Conventions:
 * - A "sum" is an unfolded one's-complement accumulator (a non-negative number that may exceed 16 bits;
 *   kept below 2^53, so any IP packet fits). `foldSum` reduces it to 16 bits; `finishChecksum` gives the
 *   value to store in a header (the complement of the folded sum).
 * - Incremental updates (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')) give exactly the value a full
 *   recompute gives, provided the checksum was correct before. They never produce 0xffff from a valid
 *   checksum, and they produce 0x0000 where a full recompute would; for UDP, where 0 means "no checksum",
 *   callers store 0xffff instead (RFC 768; Linux CSUM_MANGLED_0), see `udpChecksumUpdate16`.
 * - Verification assumes a complete packet: the transport checksum covers the whole datagram, so a
 *   fragment cannot be verified (Linux conntrack sees packets only after nf_defrag reassembled them, and
 *   checks transport checksums only at PREROUTING with net.netfilter.nf_conntrack_checksum=1).
 *
 * hot path: the per-packet functions here do not allocate.
 */
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from "./ip-protocol.js";
import { type PacketInfo, WireStatus } from "./packet-info.js";
import { viewOf } from "./view.js";

/**
 * sumBytes: add the bytes buf[off, off + len) to the one's-complement accumulator `sum` as big-endian
 * 16-bit words (an odd trailing byte is padded with a zero byte, RFC 1071 §4.1). Returns the new
 * (unfolded) accumulator.
 *
 * Fast path (32 bytes and more, in bounds): 32-bit little-endian loads through a DataView of the
 * buffer. The one's-complement sum does not depend on byte order (RFC 1071 §2(B)): the little-endian
 * 16-bit halves are summed as they come and the folded result is byte-swapped. The DataView is
 * cached per buffer (view.ts), so the packet path does not allocate.
 */
export function sumBytes(buf: Uint8Array, off: number, len: number, sum: number): number {
  if (len < 32 || off < 0 || off + len > buf.length) return sumBytesSmall(buf, off, len, sum);
  if (len > 0x10000) {
    // in runs of 64 KiB (multiples of 4 bytes: the words stay aligned to the start)
    let acc = sum;
    let o = off;
    let left = len;
    while (left > 0x10000) {
      acc = sumBytes(buf, o, 0x10000, acc);
      o += 0x10000;
      left -= 0x10000;
    }
    return sumBytes(buf, o, left, acc);
  }
  const dv = viewOf(buf);
  // at most 16384 words: both accumulators stay below 2^31 (small integers)
  let s = 0;
  let t = 0;
  let p = off;
  const end16 = off + (len & ~15);
  while (p < end16) {
    const a = dv.getInt32(p, true);
    const b = dv.getInt32(p + 4, true);
    const c = dv.getInt32(p + 8, true);
    const d = dv.getInt32(p + 12, true);
    s += (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16);
    t += (c & 0xffff) + (c >>> 16) + (d & 0xffff) + (d >>> 16);
    p += 16;
  }
  const end4 = off + (len & ~3);
  while (p < end4) {
    const a = dv.getInt32(p, true);
    s += (a & 0xffff) + (a >>> 16);
    p += 4;
  }
  let f = (s & 0xffff) + (s >>> 16) + (t & 0xffff) + (t >>> 16);
  f = (f & 0xffff) + (f >>> 16);
  f = (f & 0xffff) + (f >>> 16);
  // back to big-endian words
  let r = ((f & 0xff) << 8) | (f >>> 8);
  if ((len & 2) !== 0) {
    r += (buf[p] << 8) | buf[p + 1];
    p += 2;
  }
  if ((len & 1) !== 0) r += buf[p] << 8;
  return sum + r;
}

/** sumBytesSmall: sumBytes over a Uint8Array, two bytes at a time (short runs; any bounds). */
function sumBytesSmall(buf: Uint8Array, off: number, len: number, sum: number): number {
  let s = 0;
  let i = off;
  const end = off + (len & ~1);
  while (end - i >= 8) {
    s += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3]);
    s += ((buf[i + 4] << 8) | buf[i + 5]) + ((buf[i + 6] << 8) | buf[i + 7]);
    i += 8;
    if (s > 0x3fffffff) s = (s & 0xffff) + (s >>> 16);
  }
  while (i < end) {
    s += (buf[i] << 8) | buf[i + 1];
    i += 2;
  }
  if ((len & 1) !== 0) s += buf[end] << 8;
  return sum + s;
}

/** foldSum: reduce an accumulator to 16 bits with end-around carry. Non-zero input gives 1..0xffff. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) {
    sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  }
  return sum;
}

/** finishChecksum: the checksum field value for an accumulator: ~fold(sum) & 0xffff. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** internetChecksum: RFC 1071 checksum of buf[off, off + len) alone (IPv4 header, ICMP). */
export function internetChecksum(buf: Uint8Array, off: number, len: number): number {
  return finishChecksum(sumBytes(buf, off, len, 0));
}

/** sumWords: add an address held as int32 words (`nWords` of them, network order) to `sum`. */
export function sumWords(words: Int32Array, nWords: number, sum: number): number {
  for (let i = 0; i < nWords; i++) {
    const w = words[i];
    sum += ((w >>> 16) & 0xffff) + (w & 0xffff);
  }
  return sum;
}

/** pseudoHeaderSumV4: the IPv4 pseudo header (RFC 793 §3.1): src, dst, zero, protocol, length. */
export function pseudoHeaderSumV4(src: number, dst: number, proto: number, l4Len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4Len;
}

/**
 * pseudoHeaderSumV6: the IPv6 pseudo header (RFC 8200 §8.1): src, dst, 32-bit upper-layer length,
 * zero, next header.
 */
export function pseudoHeaderSumV6(src: Int32Array, dst: Int32Array, proto: number, l4Len: number): number {
  return sumWords(dst, 4, sumWords(src, 4, 0)) + proto + (l4Len >>> 16) + (l4Len & 0xffff);
}

/** pseudoHeaderSum: the pseudo header of `pi`'s family, for transport length `l4Len`. */
export function pseudoHeaderSum(pi: PacketInfo, proto: number, l4Len: number): number {
  if (pi.family === 4) return pseudoHeaderSumV4(pi.src[0], pi.dst[0], proto, l4Len);
  return pseudoHeaderSumV6(pi.src, pi.dst, proto, l4Len);
}

// ---- RFC 1624 incremental updates -------------------------------------------------------------

/**
 * checksumUpdate16: the checksum after a 16-bit field covered by it changed from `oldValue` to
 * `newValue` (RFC 1624 eqn. 3). All values are 16-bit.
 */
export function checksumUpdate16(csum: number, oldValue: number, newValue: number): number {
  let s = (~csum & 0xffff) + (~oldValue & 0xffff) + (newValue & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** checksumUpdate32: as checksumUpdate16, for a 32-bit field (e.g. an IPv4 address, a sequence number). */
export function checksumUpdate32(csum: number, oldValue: number, newValue: number): number {
  let s =
    (~csum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    ((newValue >>> 16) & 0xffff) +
    (newValue & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * checksumUpdateAddr: as checksumUpdate32, for an address of `nWords` int32 words (1 for IPv4, 4 for
 * IPv6) that changed from `oldAddr` to `newAddr`; used for the pseudo header of TCP/UDP/ICMPv6 and the
 * IPv4 header itself.
 */
export function checksumUpdateAddr(csum: number, oldAddr: Int32Array, newAddr: Int32Array, nWords: number): number {
  let s = ~csum & 0xffff;
  for (let i = 0; i < nWords; i++) {
    const o = oldAddr[i];
    const n = newAddr[i];
    s += (~(o >>> 16) & 0xffff) + (~o & 0xffff) + ((n >>> 16) & 0xffff) + (n & 0xffff);
  }
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/**
 * udpChecksumUpdate16: checksumUpdate16 for a UDP checksum: a zero checksum (IPv4: no checksum) stays
 * zero, and a result of zero is stored as 0xffff (RFC 768). Linux: `CSUM_MANGLED_0`.
 */
export function udpChecksumUpdate16(csum: number, oldValue: number, newValue: number): number {
  if (csum === 0) return 0;
  const c = checksumUpdate16(csum, oldValue, newValue);
  return c === 0 ? 0xffff : c;
}

/** udpChecksumUpdate32: checksumUpdate32 with the UDP zero rules of udpChecksumUpdate16. */
export function udpChecksumUpdate32(csum: number, oldValue: number, newValue: number): number {
  if (csum === 0) return 0;
  const c = checksumUpdate32(csum, oldValue, newValue);
  return c === 0 ? 0xffff : c;
}

/** udpChecksumUpdateAddr: checksumUpdateAddr with the UDP zero rules of udpChecksumUpdate16. */
export function udpChecksumUpdateAddr(csum: number, oldAddr: Int32Array, newAddr: Int32Array, nWords: number): number {
  if (csum === 0) return 0;
  const c = checksumUpdateAddr(csum, oldAddr, newAddr, nWords);
  return c === 0 ? 0xffff : c;
}

/** readU16: big-endian 16-bit read. */
function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

// ---- whole-packet verify / fill ---------------------------------------------------------------

/**
 * verifyIpv4HeaderChecksum: whether the IPv4 header checksum of `pi` is correct (the sum over the
 * header, options included, folds to 0xffff). Preconditions: `pi.family === 4` and the header is
 * present (`pi.status` is Ok, BadOptions or BadTotalLen); returns false otherwise.
 */
export function verifyIpv4HeaderChecksum(pi: PacketInfo): boolean {
  if (pi.family !== 4 || pi.ipHeaderLen < 20) return false;
  if (pi.off + pi.ipHeaderLen > pi.buf.length) return false;
  if (pi.ipHeaderLen === 20) {
    // fast path: the header without options, ten words
    const dv = viewOf(pi.buf);
    const o = pi.off;
    const w0 = dv.getInt32(o);
    const w1 = dv.getInt32(o + 4);
    const w2 = dv.getInt32(o + 8);
    const w3 = dv.getInt32(o + 12);
    const w4 = dv.getInt32(o + 16);
    let s =
      (w0 >>> 16) +
      (w0 & 0xffff) +
      (w1 >>> 16) +
      (w1 & 0xffff) +
      (w2 >>> 16) +
      (w2 & 0xffff) +
      (w3 >>> 16) +
      (w3 & 0xffff) +
      (w4 >>> 16) +
      (w4 & 0xffff);
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    return s === 0xffff;
  }
  return foldSum(sumBytes(pi.buf, pi.off, pi.ipHeaderLen, 0)) === 0xffff;
}

/** fillIpv4HeaderChecksum: compute and store the IPv4 header checksum of `pi` (header must be present). */
export function fillIpv4HeaderChecksum(pi: PacketInfo): void {
  const b = pi.buf;
  const o = pi.off;
  b[o + 10] = 0;
  b[o + 11] = 0;
  writeU16(b, o + 10, internetChecksum(b, o, pi.ipHeaderLen));
}

/**
 * l4ChecksumOffset: absolute offset of the transport checksum field of `pi` (TCP, UDP, UDP-Lite,
 * ICMP, ICMPv6), or -1 for protocols without an Internet checksum here.
 */
export function l4ChecksumOffset(pi: PacketInfo): number {
  switch (pi.proto) {
    case IPPROTO_TCP:
      return pi.l4Off + 16;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      return pi.l4Off + 6;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      return pi.l4Off + 2;
    default:
      return -1;
  }
}

/**
 * l4ChecksumSum: the accumulator over what the transport checksum of `pi` covers (pseudo header
 * included where the protocol has one), the checksum field included as it is. Returns -1 if the
 * protocol has no Internet checksum or the packet cannot be checked (fragment, bad headers).
 */
function l4ChecksumSum(pi: PacketInfo): number {
  if (pi.status !== WireStatus.Ok || pi.isFragment) return -1;
  const b = pi.buf;
  const o = pi.l4Off;
  const len = pi.l4Len;
  switch (pi.proto) {
    case IPPROTO_TCP:
      if (len < 20) return -1;
      return sumBytes(b, o, len, pseudoHeaderSum(pi, IPPROTO_TCP, len));
    case IPPROTO_UDP:
      if (len < 8) return -1;
      // Linux nf_ip_checksum / nf_ip6_checksum: pseudo length and coverage are the IP payload length.
      return sumBytes(b, o, len, pseudoHeaderSum(pi, IPPROTO_UDP, len));
    case IPPROTO_UDPLITE: {
      if (len < 8) return -1;
      // RFC 3828 §3.1: coverage 0 means the whole datagram; the pseudo header carries the IP payload length.
      let cov = readU16(b, o + 4);
      if (cov === 0) cov = len;
      if (cov < 8 || cov > len) return -1;
      return sumBytes(b, o, cov, pseudoHeaderSum(pi, IPPROTO_UDPLITE, len));
    }
    case IPPROTO_ICMP:
      if (len < 8) return -1;
      return sumBytes(b, o, len, 0);
    case IPPROTO_ICMPV6:
      if (len < 8) return -1;
      return sumBytes(b, o, len, pseudoHeaderSum(pi, IPPROTO_ICMPV6, len));
    default:
      return -1;
  }
}

/**
 * verifyL4Checksum: check the transport checksum of a complete packet. Returns:
 * - WireStatus.Ok: correct, or a protocol this function does not check (anything but TCP, UDP,
 *   UDP-Lite, ICMP, ICMPv6), or an IPv4 UDP datagram with checksum 0 ("no checksum", RFC 768);
 * - WireStatus.BadChecksum: wrong; also an IPv6 UDP datagram with checksum 0 (RFC 8200 §8.1: "a zero
 *   checksum ... must be discarded"; note that Linux conntrack's udp_error lets a zero UDP checksum pass
 *   in both families, so conntrack should test the field for 0 first) and any UDP-Lite zero checksum
 *   (RFC 3828 §3.1);
 * - WireStatus.Truncated: cannot be checked (a fragment, or the IP/transport header is not Ok).
 *
 * Preconditions: `pi` was filled by parsePacket and the buffer not changed since.
 */
export function verifyL4Checksum(pi: PacketInfo): number {
  const proto = pi.proto;
  if (
    proto !== IPPROTO_TCP &&
    proto !== IPPROTO_UDP &&
    proto !== IPPROTO_UDPLITE &&
    proto !== IPPROTO_ICMP &&
    proto !== IPPROTO_ICMPV6
  ) {
    return WireStatus.Ok;
  }
  if (pi.l4Status !== WireStatus.Ok) return WireStatus.Truncated;
  if (proto === IPPROTO_UDP || proto === IPPROTO_UDPLITE) {
    const c = readU16(pi.buf, pi.l4Off + 6);
    if (c === 0) {
      if (proto === IPPROTO_UDP && pi.family === 4) return WireStatus.Ok;
      return WireStatus.BadChecksum;
    }
  }
  const s = l4ChecksumSum(pi);
  if (s < 0) return WireStatus.Truncated;
  return foldSum(s) === 0xffff ? WireStatus.Ok : WireStatus.BadChecksum;
}

/**
 * fillL4Checksum: compute and store the transport checksum of `pi` (TCP, UDP, UDP-Lite, ICMP,
 * ICMPv6) over the complete packet. A UDP result of 0 is stored as 0xffff. Returns false (and writes
 * nothing) for other protocols and for packets that cannot be checksummed (fragments, bad headers).
 */
export function fillL4Checksum(pi: PacketInfo): boolean {
  const co = l4ChecksumOffset(pi);
  if (co < 0 || pi.l4Status !== WireStatus.Ok) return false;
  const b = pi.buf;
  const old = readU16(b, co);
  b[co] = 0;
  b[co + 1] = 0;
  const s = l4ChecksumSum(pi);
  if (s < 0) {
    writeU16(b, co, old);
    return false;
  }
  let c = finishChecksum(s);
  if (c === 0 && (pi.proto === IPPROTO_UDP || pi.proto === IPPROTO_UDPLITE)) c = 0xffff;
  writeU16(b, co, c);
  return true;
}
