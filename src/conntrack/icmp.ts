/**
 * ICMP and ICMPv6 tracking (Linux nf_conntrack_proto_icmp.c, nf_conntrack_proto_icmpv6.c):
 * - queries (echo, timestamp, info, address mask; ICMPv6 echo and node information) are connections
 *   keyed by their identifier, the reply tuple carrying the answering type;
 * - errors are RELATED to the connection of the packet they quote (`icmpError`), with Linux's checks;
 * - ICMPv6 neighbour discovery, MLD and router messages are UNTRACKED.
 *
 * Tuple ports word for ICMP: (id << 16) | (type << 8) | code.
 *
 * hot path: queries are on the packet path; errors are cold but still allocation-free.
 */
import { CT_IS_REPLY, CtInfo, IPPROTO, Verdict } from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import { PacketInfo, WireStatus } from "../wire/packet-info.js";
import { parseEmbedded } from "../wire/parse.js";
import type { Conntrack } from "./conntrack.js";
import { CtReason } from "./reasons.js";
import type { CtStore } from "./store.js";
import { TR_ACCEPT, TR_INVALID } from "./tcp.js";
import { greKeys } from "./udp.js";

/** returned by icmpError when the packet is not an error and goes through normal tracking */
export const ICMP_CONTINUE = -100;

/** ICMP_NR_TYPES: Linux NR_ICMP_TYPES (18); higher types are dropped by conntrack's error check */
const NR_ICMP_TYPES = 18;

/**
 * icmpInvertType: the type of the answer to an ICMP query (echo 8 <-> 0, timestamp 13 <-> 14, info
 * 15 <-> 16, address mask 17 <-> 18), or -1 for types that have no answer.
 */
export function icmpInvertType(type: number): number {
  switch (type) {
    case 8:
      return 0;
    case 0:
      return 8;
    case 13:
      return 14;
    case 14:
      return 13;
    case 15:
      return 16;
    case 16:
      return 15;
    case 17:
      return 18;
    case 18:
      return 17;
    default:
      return -1;
  }
}

/** icmpv6InvertType: echo request 128 <-> reply 129, node information query 139 <-> reply 140, or -1. */
export function icmpv6InvertType(type: number): number {
  switch (type) {
    case 128:
      return 129;
    case 129:
      return 128;
    case 139:
      return 140;
    case 140:
      return 139;
    default:
      return -1;
  }
}

/**
 * invertible: whether a tuple of protocol `proto` with ports word `ports` has a reply tuple (Linux
 * nf_ct_invert_tuple fails only for ICMP/ICMPv6 types with no answer).
 */
export function invertible(proto: number, ports: number): boolean {
  if (proto === IPPROTO.ICMP) return icmpInvertType((ports >>> 8) & 0xff) >= 0;
  if (proto === IPPROTO.ICMPV6) return icmpv6InvertType((ports >>> 8) & 0xff) >= 0;
  return true;
}

/**
 * invertPorts: the reply ports word for an original ports word of protocol `proto` (Linux
 * nf_ct_invert_tuple): ports swapped; ICMP keeps its id and code and takes the answer's type.
 * Precondition: invertible(proto, ports).
 */
export function invertPorts(proto: number, ports: number): number {
  if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) {
    const type = (ports >>> 8) & 0xff;
    const inv = proto === IPPROTO.ICMP ? icmpInvertType(type) : icmpv6InvertType(type);
    return (ports & ~0xff00) | ((inv & 0xff) << 8);
  }
  return (ports >>> 16) | (ports << 16);
}

/**
 * icmpPacket: Linux nf_conntrack_icmp_packet: only a query type can own a connection (checked on the
 * original tuple); every packet refreshes the 30 s timeout (an echo reply does not end it).
 */
export function icmpPacket(c: Conntrack, r: Int32Array, cb: number, family: number, origPorts: number): number {
  if (family !== 4) {
    c.reason = CtReason.IcmpWrongFamily;
    return TR_INVALID;
  }
  const type = (origPorts >>> 8) & 0xff;
  if (type !== 8 && type !== 13 && type !== 15 && type !== 17) {
    c.reason = CtReason.IcmpNotNew;
    return TR_INVALID;
  }
  c.refresh(r, cb, c.cfg.icmpTimeout);
  return TR_ACCEPT;
}

/** icmpv6Packet: Linux nf_conntrack_icmpv6_packet: a new entry needs an echo request or NI query. */
export function icmpv6Packet(
  c: Conntrack,
  r: Int32Array,
  cb: number,
  family: number,
  origPorts: number,
  confirmed: boolean,
): number {
  if (family !== 6) {
    c.reason = CtReason.IcmpWrongFamily;
    return TR_INVALID;
  }
  if (!confirmed) {
    const type = (origPorts >>> 8) & 0xff;
    if (type !== 128 && type !== 139) {
      c.reason = CtReason.IcmpNotNew;
      return TR_INVALID;
    }
  }
  c.refresh(r, cb, c.cfg.icmpv6Timeout);
  return TR_ACCEPT;
}

/** ICMPv6 types conntrack leaves untracked: MLD, router/neighbour discovery, multicast router discovery */
function icmpv6Untracked(type: number): boolean {
  switch (type) {
    case 130: // MLD query
    case 131: // MLD report
    case 132: // MLD done
    case 133: // router solicitation
    case 134: // router advertisement
    case 135: // neighbour solicitation
    case 136: // neighbour advertisement
    case 143: // MLDv2 report
    case 151: // multicast router advertisement
    case 152: // multicast router solicitation
      return true;
    default:
      return false;
  }
}

/** a scratch record for quoted packets the wire parser does not parse itself */
const scratchInner = new PacketInfo(false);

/**
 * icmpError: Linux nf_conntrack_icmpv4_error / nf_conntrack_icmpv6_error, for an ICMP packet of the
 * packet's own family. Returns ICMP_CONTINUE when the packet is a query to track normally, otherwise
 * a Verdict after setting skb.ct / skb.ctInfo (RELATED / RELATED_REPLY, UNTRACKED, or no entry with
 * the `error` statistic counted).
 */
export function icmpError(c: Conntrack, skb: Skb, pi: PacketInfo): number {
  const b = pi.buf;
  const o = pi.l4Off;
  if (pi.l4Len < 8) return c.icmpFail(skb, CtReason.IcmpShort);
  if (c.checksumHere() && !c.l4ChecksumOk(pi)) return c.icmpFail(skb, CtReason.IcmpBadChecksum);
  const type = b[o];
  let inner: PacketInfo | null;
  if (pi.family === 4) {
    // RFC 1122 3.2.2: unknown types are silently discarded; conntrack calls them invalid.
    if (type > NR_ICMP_TYPES) return c.icmpFail(skb, CtReason.IcmpBadType);
    if (type !== 3 && type !== 4 && type !== 5 && type !== 11 && type !== 12) return ICMP_CONTINUE;
    inner = pi.inner;
  } else {
    if (icmpv6Untracked(type)) {
      skb.ct = -1;
      skb.ctInfo = CtInfo.Untracked;
      return Verdict.Accept;
    }
    if (type === 137) {
      // Redirect (RFC 4861 §4.5): quotes the redirected packet in a Redirected Header option.
      if (pi.l4Len < 40) return c.icmpFail(skb, CtReason.Icmpv6BadRedirect);
      if (b[o + 1] !== 0) return ICMP_CONTINUE;
      // RFC 4861 §8.1: hop limit 255 and a link-local source, else the redirect is invalid.
      if (pi.ttl !== 255 || (pi.src[0] & 0xffc00000) !== (0xfe800000 | 0)) {
        return c.icmpFail(skb, CtReason.Icmpv6BadRedirect);
      }
      if (pi.l4Len < 42 || b[o + 41] === 0) return c.icmpFail(skb, CtReason.Icmpv6BadRedirect);
      // Only the Redirected Header option (type 4) is looked at, and only when it comes first.
      if (b[o + 40] !== 4) return ICMP_CONTINUE;
      inner = scratchInner;
      parseEmbedded(inner, b, o + 48, pi.l4Len - 48, 6);
    } else if (type >= 128) {
      return ICMP_CONTINUE;
    } else if (type >= 1 && type <= 4) {
      inner = pi.inner;
    } else {
      // Other error types (0, 5..127): Linux treats every type below 128 as an error.
      inner = scratchInner;
      parseEmbedded(inner, b, o + 8, pi.l4Len - 8, 6);
    }
  }
  if (inner === null) return c.icmpFail(skb, CtReason.IcmpBadInner);
  return relatedLookup(c, skb, pi, inner);
}

/**
 * relatedLookup: Linux nf_conntrack_inet_error: the quoted packet's tuple, inverted, must be a
 * connection (either direction), and the error must travel to that direction's destination.
 */
function relatedLookup(c: Conntrack, skb: Skb, pi: PacketInfo, inner: PacketInfo): number {
  if (inner.status !== WireStatus.Ok || inner.family !== pi.family) return c.icmpFail(skb, CtReason.IcmpBadInner);
  // A quoted non-first fragment has no transport header.
  if (inner.fragOff !== 0) return c.icmpFail(skb, CtReason.IcmpBadInner);
  const proto = inner.proto;
  if (inner.family === 6 && proto === IPPROTO.NONE) return c.icmpFail(skb, CtReason.IcmpBadInner);
  let ports = 0;
  switch (proto) {
    case IPPROTO.TCP:
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
    case IPPROTO.SCTP:
      if (inner.l4Status !== WireStatus.Ok) return c.icmpFail(skb, CtReason.IcmpBadInner);
      ports = (inner.srcPort << 16) | inner.dstPort;
      break;
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6: {
      if (inner.l4Status !== WireStatus.Ok) return c.icmpFail(skb, CtReason.IcmpBadInner);
      const q = inner.l4Off;
      const ib = inner.buf;
      ports = (((ib[q + 4] << 8) | ib[q + 5]) << 16) | (ib[q] << 8) | ib[q + 1];
      break;
    }
    case IPPROTO.GRE:
      ports = greKeys(inner.buf, inner.l4Off, inner.l4Len);
      if (ports < 0) return c.icmpFail(skb, CtReason.IcmpBadInner);
      break;
    default:
      ports = 0;
      break;
  }
  // "Ordinarily we'd expect the inverted tuple": the quoted packet went the other way.
  if (!invertible(proto, ports)) return c.icmpFail(skb, CtReason.IcmpBadInner);
  const inv = invertPorts(proto, ports);
  const store: CtStore = pi.family === 4 ? c.v4 : c.v6;
  const n = c.findLive(store, inner.dst, inner.src, inv, proto, c.pktZone);
  if (n < 0) return c.icmpFail(skb, CtReason.IcmpNoRelated);
  const slot = n >>> 1;
  const dir = n & 1;
  // The error must be addressed to where that direction of the connection goes; otherwise a host
  // could make its packets RELATED to any connection it can name.
  const r = store.rec;
  const dOff = slot * store.stride + dir * store.node + store.aw;
  const od = pi.dst;
  for (let i = 0; i < store.aw; i++) {
    if (r[dOff + i] !== od[i]) return c.icmpFail(skb, CtReason.IcmpOuterDaddr);
  }
  skb.ct = c.ctId(store, slot);
  skb.ctInfo = dir === 0 ? CtInfo.Related : CtInfo.Related + CT_IS_REPLY;
  return Verdict.Accept;
}
