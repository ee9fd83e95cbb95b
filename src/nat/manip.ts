/**
 * Packet rewriting for NAT: addresses, ports and ICMP ids changed in place, checksums adjusted as Linux
 * adjusts them (net/netfilter/nf_nat_proto.c), so the bytes equal the kernel's.
 *
 * Contract:
 * - Functions work on raw bytes: `buf` holds the packet, `ipOff` is where an IP header starts and `end`
 *   is the end of the whole (outer) IP packet, Linux's `skb->len`. Bounds are checked against `end`
 *   exactly where Linux's `skb_ensure_writable` would fail; such a failure returns false and the caller
 *   drops the packet (NF_DROP), as Linux does.
 * - A "target" is a Tuple: with manip Src the packet's source address (and source port / ICMP id)
 *   become target.src (target.srcPort); with manip Dst its destination becomes target.dst
 *   (target.dstPort); an ICMP id always comes from target.srcPort. The transport protocol handler is
 *   chosen by target.proto (as Linux dispatches on tuple->dst.protonum).
 * - Checksums: incremental updates of transport checksums (pseudo header and port/id) and of the IPv4
 *   header checksum; UDP keeps a zero checksum zero and stores a computed zero as 0xffff; SCTP's CRC32c
 *   is recomputed; DCCP and unknown protocols get only their addresses changed (Linux has no DCCP NAT
 *   handler); GRE keys are not rewritten (Linux rewrites them only for PPTP, which ctnat does not track).
 * - Packets are assumed complete (Linux NAT sees reassembled packets); for IPv6 a non-first fragment
 *   still gets its addresses changed, never its transport header.
 *
 * hot path: nothing here allocates.
 */
import { IPPROTO, Manip } from "../core/netfilter.js";
import type { Tuple } from "../core/tuple.js";
import {
  csumApplyDelta,
  csumFinish,
  delta16,
  deltaWord,
  readU16,
  readWord,
  sumAddrBytes,
  sumRange,
  writeU16,
  writeWord,
} from "./csum.js";

// ---- IPv6 extension header walk (Linux ipv6_skip_exthdr) ---------------------------------------

/** fragment offset field (raw, host order of the 16-bit word) found by the last ipv6SkipExthdr call */
let skipFragOff = 0;
/** next header value where the last ipv6SkipExthdr call stopped */
let skipNextHdr = 0;

/**
 * ipv6SkipExthdr: walk the extension headers Linux skips (hop-by-hop 0, routing 43, fragment 44, AH 51,
 * destination options 60; "no next header" 59 ends the walk with -1), starting at `off` with next header
 * `nexthdr`. Returns the offset of the upper-layer header, or -1 when a header is cut by `end` or the
 * chain ends in 59. Stops at a fragment header with a non-zero offset (non-first fragment). The last
 * next-header value and the fragment offset word are left in `lastSkipNextHdr()` / `lastSkipFragOff()`.
 */
export function ipv6SkipExthdr(buf: Uint8Array, end: number, off: number, nexthdr: number): number {
  skipFragOff = 0;
  for (;;) {
    if (nexthdr !== 0 && nexthdr !== 43 && nexthdr !== 44 && nexthdr !== 51 && nexthdr !== 60 && nexthdr !== 59) {
      break;
    }
    if (nexthdr === 59) return -1;
    if (off + 2 > end) return -1;
    let hdrlen: number;
    if (nexthdr === 44) {
      if (off + 4 > end) return -1;
      skipFragOff = readU16(buf, off + 2);
      // a non-first fragment: the upper-layer header is not in this packet
      if ((skipFragOff & 0xfff8) !== 0) break;
      hdrlen = 8;
    } else if (nexthdr === 51) {
      hdrlen = (buf[off + 1] + 2) << 2;
    } else {
      hdrlen = (buf[off + 1] + 1) << 3;
    }
    nexthdr = buf[off];
    off += hdrlen;
  }
  skipNextHdr = nexthdr;
  return off;
}

/** lastSkipFragOff: the fragment offset word seen by the last ipv6SkipExthdr call (0 if none). */
export function lastSkipFragOff(): number {
  return skipFragOff;
}

/** lastSkipNextHdr: the next-header value at which the last successful ipv6SkipExthdr call stopped. */
export function lastSkipNextHdr(): number {
  return skipNextHdr;
}

// ---- pseudo-header deltas -----------------------------------------------------------------------

/**
 * addrDelta: the checksum delta for the address that `manip` changes in the IP header at `ipOff`
 * (family 4 or 6), from what the header holds now to the target's address.
 */
function addrDelta(buf: Uint8Array, ipOff: number, family: number, target: Tuple, manip: number): number {
  if (family === 4) {
    const old = readWord(buf, ipOff + (manip === Manip.Src ? 12 : 16));
    return deltaWord(old, manip === Manip.Src ? target.src[0] : target.dst[0]);
  }
  const a = manip === Manip.Src ? target.src : target.dst;
  const o = ipOff + (manip === Manip.Src ? 8 : 24);
  return (
    deltaWord(readWord(buf, o), a[0]) +
    deltaWord(readWord(buf, o + 4), a[1]) +
    deltaWord(readWord(buf, o + 8), a[2]) +
    deltaWord(readWord(buf, o + 12), a[3])
  );
}

// ---- CRC32c for SCTP ----------------------------------------------------------------------------

const CRC32C_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC32C_TABLE[n] = c >>> 0;
}

/**
 * crc32c: the CRC32c (Castagnoli) of buf[off, end), bytes in [zeroFrom, zeroFrom + 4) counted as zero
 * (pass -1 for none): reflected polynomial 0x82f63b78, initial and final value all ones.
 */
export function crc32c(buf: Uint8Array, off: number, end: number, zeroFrom: number): number {
  let crc = 0xffffffff;
  for (let i = off; i < end; i++) {
    const b = zeroFrom >= 0 && i >= zeroFrom && i < zeroFrom + 4 ? 0 : buf[i];
    crc = CRC32C_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  }
  return ~crc >>> 0;
}

/**
 * sctpChecksum: the SCTP checksum (RFC 9260 appendix A, CRC32c) of the packet buf[off, end) with its
 * checksum field (off + 8) counted as zero; the field holds this value's bytes least significant first.
 */
export function sctpChecksum(buf: Uint8Array, off: number, end: number): number {
  return crc32c(buf, off, end, off + 8);
}

// ---- transport handlers (Linux l4proto_manip_pkt) ---------------------------------------------

/**
 * l4ManipPkt: rewrite the transport part of the packet whose IP header is at `ipOff` (family 4/6) and
 * transport header at `hdrOff`, for `manip` towards `target`. Returns false where Linux fails
 * (transport header shorter than it must write).
 */
export function l4ManipPkt(
  buf: Uint8Array,
  end: number,
  ipOff: number,
  family: number,
  hdrOff: number,
  target: Tuple,
  manip: number,
): boolean {
  switch (target.proto) {
    case IPPROTO.TCP:
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
      return portManip(
        buf,
        end,
        hdrOff,
        target.proto,
        manip,
        manip === Manip.Src ? target.srcPort : target.dstPort,
        addrDelta(buf, ipOff, family, target, manip),
      );
    case IPPROTO.SCTP: {
      const full = end >= hdrOff + 12;
      if (end < hdrOff + 8) return false;
      if (manip === Manip.Src) writeU16(buf, hdrOff, target.srcPort);
      else writeU16(buf, hdrOff + 2, target.dstPort);
      if (!full) return true;
      const crc = sctpChecksum(buf, hdrOff, end);
      buf[hdrOff + 8] = crc & 0xff;
      buf[hdrOff + 9] = (crc >>> 8) & 0xff;
      buf[hdrOff + 10] = (crc >>> 16) & 0xff;
      buf[hdrOff + 11] = (crc >>> 24) & 0xff;
      return true;
    }
    case IPPROTO.ICMP: {
      if (end < hdrOff + 8) return false;
      const type = buf[hdrOff];
      // only query messages carry an identifier (echo, timestamp, info, address mask; request and reply)
      if (type !== 0 && type !== 8 && (type < 13 || type > 18)) return true;
      const oid = readU16(buf, hdrOff + 4);
      const nid = target.srcPort;
      writeU16(buf, hdrOff + 2, csumApplyDelta(readU16(buf, hdrOff + 2), delta16(oid, nid)));
      writeU16(buf, hdrOff + 4, nid);
      return true;
    }
    case IPPROTO.ICMPV6: {
      if (end < hdrOff + 8) return false;
      const type = buf[hdrOff];
      let d = addrDelta(buf, ipOff, family, target, manip);
      let nid = -1;
      if (type === 128 || type === 129) {
        nid = target.srcPort;
        d += delta16(readU16(buf, hdrOff + 4), nid);
      }
      writeU16(buf, hdrOff + 2, csumApplyDelta(readU16(buf, hdrOff + 2), d));
      if (nid >= 0) writeU16(buf, hdrOff + 4, nid);
      return true;
    }
    case IPPROTO.GRE:
      // Linux writes the PPTP call id for GREv1 destination manips only; without PPTP tracking the key
      // never changes, so nothing to write. It still requires the 8-byte base header.
      return end >= hdrOff + 8;
    default:
      // unknown protocol: no error, addresses only
      return true;
  }
}

/**
 * portManip: the TCP / UDP / UDP-Lite part of l4ManipPkt: the port `manip` changes becomes `np`, and
 * the transport checksum takes that change plus `addrDelta` (the pseudo-header address change, see
 * addrDelta). Returns false where Linux fails (fewer than 8 bytes of transport header).
 */
function portManip(
  buf: Uint8Array,
  end: number,
  hdrOff: number,
  proto: number,
  manip: number,
  np: number,
  addrDelta: number,
): boolean {
  if (end < hdrOff + 8) return false;
  const po = manip === Manip.Src ? hdrOff : hdrOff + 2;
  const op = readU16(buf, po);
  if (proto === IPPROTO.TCP) {
    // Only 8 bytes are guaranteed (the part an ICMP error must quote); the checksum is updated only
    // when the whole 20-byte header is inside the packet.
    writeU16(buf, po, np);
    if (end < hdrOff + 20) return true;
    writeU16(buf, hdrOff + 16, csumApplyDelta(readU16(buf, hdrOff + 16), addrDelta + delta16(op, np)));
    return true;
  }
  const check = readU16(buf, hdrOff + 6);
  // UDP: a zero checksum means "none" and stays zero (RFC 768); UDP-Lite always has one.
  if (check !== 0 || proto === IPPROTO.UDPLITE) {
    let c = csumApplyDelta(check, addrDelta + delta16(op, np));
    if (c === 0) c = 0xffff; // Linux CSUM_MANGLED_0
    writeU16(buf, hdrOff + 6, c);
  }
  writeU16(buf, po, np);
  return true;
}

// ---- IP handlers ------------------------------------------------------------------------------

/**
 * ipv4ManipPorts: ipv4ManipPkt for a TCP, UDP or UDP-Lite packet (`proto`, the connection's) whose
 * target is given as the new address `na` and port `np` of the side `manip` changes: the same bytes,
 * without a Tuple (NAT's per-packet fast path, reading the target straight from the connection's
 * record).
 */
export function ipv4ManipPorts(
  buf: Uint8Array,
  end: number,
  ipOff: number,
  proto: number,
  manip: number,
  na: number,
  np: number,
): boolean {
  if (end < ipOff + 20) return false;
  const hdrOff = ipOff + (buf[ipOff] & 0x0f) * 4;
  const ao = ipOff + (manip === Manip.Src ? 12 : 16);
  const ad = deltaWord(readWord(buf, ao), na);
  if (!portManip(buf, end, hdrOff, proto, manip, np, ad)) return false;
  writeU16(buf, ipOff + 10, csumApplyDelta(readU16(buf, ipOff + 10), ad));
  writeWord(buf, ao, na);
  return true;
}

/**
 * ipv4ManipPkt: Linux nf_nat_ipv4_manip_pkt. Transport first (its pseudo-header update reads the old
 * address from the header), then the address with the IPv4 header checksum.
 */
export function ipv4ManipPkt(buf: Uint8Array, end: number, ipOff: number, target: Tuple, manip: number): boolean {
  if (end < ipOff + 20) return false;
  const hdrOff = ipOff + (buf[ipOff] & 0x0f) * 4;
  if (!l4ManipPkt(buf, end, ipOff, 4, hdrOff, target, manip)) return false;
  const ao = ipOff + (manip === Manip.Src ? 12 : 16);
  const na = manip === Manip.Src ? target.src[0] : target.dst[0];
  const oa = readWord(buf, ao);
  writeU16(buf, ipOff + 10, csumApplyDelta(readU16(buf, ipOff + 10), deltaWord(oa, na)));
  writeWord(buf, ao, na);
  return true;
}

/**
 * ipv6ManipPkt: Linux nf_nat_ipv6_manip_pkt. The transport header is found by walking the extension
 * headers; it is rewritten only when present and not behind a non-first fragment header.
 */
export function ipv6ManipPkt(buf: Uint8Array, end: number, ipOff: number, target: Tuple, manip: number): boolean {
  if (end < ipOff + 40) return false;
  const hdrOff = ipv6SkipExthdr(buf, end, ipOff + 40, buf[ipOff + 6]);
  if (hdrOff >= 0 && (skipFragOff & 0xfff8) === 0) {
    if (!l4ManipPkt(buf, end, ipOff, 6, hdrOff, target, manip)) return false;
  }
  const a = manip === Manip.Src ? target.src : target.dst;
  const ao = ipOff + (manip === Manip.Src ? 8 : 24);
  writeWord(buf, ao, a[0]);
  writeWord(buf, ao + 4, a[1]);
  writeWord(buf, ao + 8, a[2]);
  writeWord(buf, ao + 12, a[3]);
  return true;
}

/** manipPkt: ipv4ManipPkt or ipv6ManipPkt by `family`. */
export function manipPkt(
  buf: Uint8Array,
  end: number,
  ipOff: number,
  family: number,
  target: Tuple,
  manip: number,
): boolean {
  return family === 4 ? ipv4ManipPkt(buf, end, ipOff, target, manip) : ipv6ManipPkt(buf, end, ipOff, target, manip);
}

// ---- ICMP errors ------------------------------------------------------------------------------

/** IcmpXlat: result codes of icmpErrorManip. */
export const IcmpXlat = {
  /** rewritten (or nothing to do) */
  Ok: 0,
  /** too short to hold the ICMP header and the quoted IP header (Linux skb_ensure_writable fails) */
  Short: 1,
  /** the ICMP checksum does not verify (Linux nf_ip_checksum / nf_ip6_checksum) */
  BadChecksum: 2,
  /** the quoted packet could not be rewritten */
  InnerFailed: 3,
  /** the outer header could not be rewritten */
  OuterFailed: 4,
} as const;

/**
 * icmpErrorCheck: the checks Linux makes before translating an ICMP(v6) error: the ICMP header plus the
 * quoted IP header fit in the packet, and the ICMP checksum is right. `l4Off` is the ICMP header offset.
 * Returns an IcmpXlat code (Ok, Short or BadChecksum).
 */
export function icmpErrorCheck(buf: Uint8Array, end: number, ipOff: number, family: number, l4Off: number): number {
  if (end < l4Off + 8 + (family === 4 ? 20 : 40)) return IcmpXlat.Short;
  let s = sumRange(buf, l4Off, end);
  if (family === 6) {
    const len = end - l4Off;
    s += sumAddrBytes(buf, ipOff + 8, 32) + IPPROTO.ICMPV6 + (len >>> 16) + (len & 0xffff);
  }
  return s % 0xffff === 0 && s !== 0 ? IcmpXlat.Ok : IcmpXlat.BadChecksum;
}

/**
 * icmpErrorManip: Linux nf_nat_icmp_reply_translation / nf_nat_icmpv6_reply_translation after their
 * checks: rewrite the quoted packet towards `innerTarget` with manip `innerManip` (the inverse manip,
 * aimed at the other direction's tuple), recompute the whole ICMP checksum (ICMPv6 with the pseudo
 * header of the outer addresses as they are before the outer rewrite), then rewrite the outer header
 * towards `outerTarget` with `manip` (outerTarget.proto must be ICMP / ICMPv6).
 * Returns an IcmpXlat code.
 */
export function icmpErrorManip(
  buf: Uint8Array,
  end: number,
  ipOff: number,
  family: number,
  l4Off: number,
  innerTarget: Tuple,
  innerManip: number,
  outerTarget: Tuple,
  manip: number,
): number {
  const innerOff = l4Off + 8;
  if (!manipPkt(buf, end, innerOff, family, innerTarget, innerManip)) return IcmpXlat.InnerFailed;
  buf[l4Off + 2] = 0;
  buf[l4Off + 3] = 0;
  let s = sumRange(buf, l4Off, end);
  if (family === 6) {
    const len = end - l4Off;
    s += sumAddrBytes(buf, ipOff + 8, 32) + IPPROTO.ICMPV6 + (len >>> 16) + (len & 0xffff);
  }
  writeU16(buf, l4Off + 2, csumFinish(s));
  if (!manipPkt(buf, end, ipOff, family, outerTarget, manip)) return IcmpXlat.OuterFailed;
  return IcmpXlat.Ok;
}
