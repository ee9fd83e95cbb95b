/**
 * Tuple helpers NAT needs: inversion (Linux nf_ct_invert_tuple), comparisons on the manipulable parts,
 * and the ICMP type inversion map. Kept here so NAT does not depend on conntrack's internals; they
 * must agree with conntrack's own inversion (the ICMP maps are Linux's).
 *
 * Tuple field use (src/core/tuple.ts): ports for TCP/UDP/UDP-Lite/SCTP/DCCP; ICMP/ICMPv6 srcPort = id,
 * dstPort = (type << 8) | code.
 */
import { IPPROTO } from "../core/netfilter.js";
import type { Tuple } from "../core/tuple.js";

/**
 * ICMP_INVERT: the reply type of each ICMP query type that conntrack tracks (Linux icmp invmap):
 * echo 8 <-> 0, timestamp 13 <-> 14, info 15 <-> 16, address mask 17 <-> 18. -1 = not invertible.
 */
const ICMP_INVERT = new Int16Array(256).fill(-1);
ICMP_INVERT[8] = 0;
ICMP_INVERT[0] = 8;
ICMP_INVERT[13] = 14;
ICMP_INVERT[14] = 13;
ICMP_INVERT[15] = 16;
ICMP_INVERT[16] = 15;
ICMP_INVERT[17] = 18;
ICMP_INVERT[18] = 17;

/** ICMPV6_INVERT: echo 128 <-> 129, node information query 139 <-> response 140. */
const ICMPV6_INVERT = new Int16Array(256).fill(-1);
ICMPV6_INVERT[128] = 129;
ICMPV6_INVERT[129] = 128;
ICMPV6_INVERT[139] = 140;
ICMPV6_INVERT[140] = 139;

/**
 * invertTuple: `out` = the tuple of the opposite direction of `t` (addresses swapped, ports swapped,
 * ICMP type mapped to its reply type with the same code and id). `out` may be `t`. Returns false (with
 * the type left unchanged) when an ICMP type has no inverse, as Linux's icmp_invert_tuple fails.
 *
 * hot path: must not allocate.
 */
export function invertTuple(out: Tuple, t: Tuple): boolean {
  const s0 = t.src[0];
  const s1 = t.src[1];
  const s2 = t.src[2];
  const s3 = t.src[3];
  out.family = t.family;
  out.proto = t.proto;
  out.src[0] = t.dst[0];
  out.src[1] = t.dst[1];
  out.src[2] = t.dst[2];
  out.src[3] = t.dst[3];
  out.dst[0] = s0;
  out.dst[1] = s1;
  out.dst[2] = s2;
  out.dst[3] = s3;
  const proto = t.proto;
  if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) {
    const type = (t.dstPort >>> 8) & 0xff;
    const inv = proto === IPPROTO.ICMP ? ICMP_INVERT[type] : ICMPV6_INVERT[type];
    out.srcPort = t.srcPort;
    if (inv < 0) {
      out.dstPort = t.dstPort;
      return false;
    }
    out.dstPort = (inv << 8) | (t.dstPort & 0xff);
    return true;
  }
  const sp = t.srcPort;
  out.srcPort = t.dstPort;
  out.dstPort = sp;
  return true;
}

/** copyTuple: `out` = `t`, field by field (no TypedArray builtins on the hot path). */
export function copyTuple(out: Tuple, t: Tuple): Tuple {
  out.family = t.family;
  out.proto = t.proto;
  copyAddr(out.src, t.src);
  copyAddr(out.dst, t.dst);
  out.srcPort = t.srcPort;
  out.dstPort = t.dstPort;
  return out;
}

/** copyAddr: copy a 4-word address. */
export function copyAddr(out: Int32Array, a: Int32Array): void {
  out[0] = a[0];
  out[1] = a[1];
  out[2] = a[2];
  out[3] = a[3];
}

/** addrEqual: two 4-word addresses are equal. */
export function addrEqual(a: Int32Array, b: Int32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/**
 * addrCompare: unsigned big-endian comparison of two 4-word addresses (Linux ipv6_addr_cmp; for IPv4 only
 * word 0 differs). Returns <0, 0 or >0.
 */
export function addrCompare(a: Int32Array, b: Int32Array): number {
  for (let i = 0; i < 4; i++) {
    const x = a[i] >>> 0;
    const y = b[i] >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** hasPorts: the protocol keeps ports in its tuple that NAT can manipulate (Linux l4proto_in_range). */
export function natHasPorts(proto: number): boolean {
  return (
    proto === IPPROTO.TCP ||
    proto === IPPROTO.UDP ||
    proto === IPPROTO.UDPLITE ||
    proto === IPPROTO.SCTP ||
    proto === IPPROTO.GRE
  );
}

/** isIcmpProto: ICMP or ICMPv6 (the id is the manipulable key). */
export function isIcmpProto(proto: number): boolean {
  return proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6;
}

/** formatAddr: printable address of a tuple word set (slow path). */
export function formatAddr(family: number, a: Int32Array): string {
  if (family === 4) {
    const w = a[0];
    return `${(w >>> 24) & 0xff}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
  }
  const parts: number[] = [];
  for (let i = 0; i < 4; i++) parts.push((a[i] >>> 16) & 0xffff, a[i] & 0xffff);
  // RFC 5952: compress the longest run (>= 2) of zero groups, leftmost on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = parts.map((p) => p.toString(16));
  if (bestStart < 0) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLen).join(":");
  return `${left}::${right}`;
}
