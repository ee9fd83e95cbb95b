/**
 * parsePacket: one pass over an IP packet that fills a reused PacketInfo (see packet-info.ts).
 *
 * Contract:
 * - Never throws and never allocates: malformed input is classified with WireStatus codes in
 *   `pi.status` (IP layer) and `pi.l4Status` (transport layer).
 * - The IP layer is judged as Linux's receive path judges it before the PREROUTING hook
 *   (`ip_rcv_core`, `ip6_rcv_core` + `ipv6_parse_hopopts`), plus the IPv4 option checks that
 *   `ip_options_compile` makes for a received packet (Linux runs those just after PREROUTING, in
 *   `ip_rcv_finish`, at routing; a bad list is reported in `pi.ipOptProblem` (the parameter-problem
 *   pointer) while the status stays Ok, so that the packet crosses PREROUTING as in Linux).
 * - The transport layer is judged as conntrack's per-protocol `*_error` functions judge the header
 *   (length and data offset checks); checksums are NOT verified here (see checksum.ts).
 * - Bytes past the length the IP header states are ignored (Linux trims them with pskb_trim_rcsum).
 * - Nothing in the buffer is modified (Linux's `ip_options_compile` fills in padding after an END option
 *   and records route/timestamp data; that is the forwarding path's job, not the parser's).
 */
import {
  IPPROTO_AH,
  IPPROTO_DCCP,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
} from "./ip-protocol.js";
import { type PacketInfo, WireStatus } from "./packet-info.js";
import { viewOf } from "./view.js";

// ---- IPv4 option bits reported in PacketInfo.ipOptFlags -----------------------------------------

/** record route (type 7) */
export const IPV4_OPT_RR = 0x01;
/** timestamp (type 68) */
export const IPV4_OPT_TS = 0x02;
/** loose source route (type 131) */
export const IPV4_OPT_LSRR = 0x04;
/** strict source route (type 137) */
export const IPV4_OPT_SSRR = 0x08;
/** router alert (type 148) with value 0 */
export const IPV4_OPT_RA = 0x10;
/** CIPSO (type 134) */
export const IPV4_OPT_CIPSO = 0x20;
/** any other option Linux accepts without reading it (security 130, stream id 136, unknown types) */
export const IPV4_OPT_OTHER = 0x40;

/**
 * IPV6_MAX_HBH_OPTS: Linux's default `net.ipv6.max_hbh_opts_number` (8): more non-padding options in a
 * hop-by-hop header make `ip6_parse_tlv` drop the packet.
 */
export const IPV6_MAX_HBH_OPTS = 8;

/** resetPacketInfo: put every field of `pi` (not of its inner record) back to its "nothing parsed" value. */
export function resetPacketInfo(pi: PacketInfo): void {
  pi.status = WireStatus.NotIp;
  pi.family = 0;
  pi.ipHeaderLen = 0;
  pi.ttl = 0;
  pi.tos = 0;
  pi.flowLabel = 0;
  pi.ipId = 0;
  pi.dontFrag = false;
  pi.moreFrags = false;
  pi.fragOff = 0;
  pi.isFragment = false;
  pi.fragHdrOff = -1;
  const src = pi.src;
  const dst = pi.dst;
  src[0] = 0;
  src[1] = 0;
  src[2] = 0;
  src[3] = 0;
  dst[0] = 0;
  dst[1] = 0;
  dst[2] = 0;
  dst[3] = 0;
  pi.proto = 0;
  pi.firstNextHeader = 0;
  pi.ipTotalLen = 0;
  pi.ipOptFlags = 0;
  pi.ipOptProblem = -1;
  clearL4(pi);
}

function clearL4(pi: PacketInfo): void {
  pi.l4Status = WireStatus.NotIp;
  pi.l4Off = 0;
  pi.l4Len = 0;
  pi.srcPort = 0;
  pi.dstPort = 0;
  pi.tcpSeq = 0;
  pi.tcpAck = 0;
  pi.tcpFlags = 0;
  pi.tcpWindow = 0;
  pi.tcpHeaderLen = 0;
  pi.tcpUrgent = 0;
  pi.udpLen = 0;
  pi.tcpOptStatus = WireStatus.Ok;
  pi.optMss = -1;
  pi.optWscale = -1;
  pi.optSackPerm = false;
  pi.optSackBlocks = 0;
  pi.optSackOff = 0;
  pi.optHasTs = false;
  pi.optTsVal = 0;
  pi.optTsEcr = 0;
  pi.icmpType = 0;
  pi.icmpCode = 0;
  pi.icmpId = 0;
  pi.icmpSeq = 0;
  pi.icmpIsError = false;
  pi.payloadOff = 0;
  pi.payloadLen = 0;
  const inner = pi.inner;
  if (inner !== null) inner.status = WireStatus.NotIp;
}

/**
 * parsePacket: parse the IP packet at `buf[off]` of which `capLen` bytes were captured, into `pi`.
 * The version nibble decides IPv4 or IPv6. Returns `pi.status`.
 *
 * hot path: must not allocate.
 */
export function parsePacket(pi: PacketInfo, buf: Uint8Array, off: number, capLen: number): number {
  resetPacketInfo(pi);
  pi.buf = buf;
  pi.off = off;
  pi.len = 0;
  // Never trust capLen beyond the buffer: out-of-bounds reads of a Uint8Array give undefined -> 0.
  const avail = buf.length - off;
  if (off < 0 || avail <= 0 || capLen <= 0) return pi.status; // NotIp: no bytes
  if (capLen > avail) capLen = avail;
  const version = buf[off] >> 4;
  if (version === 4) return parseIpv4(pi, buf, off, capLen, false);
  if (version === 6) return parseIpv6(pi, buf, off, capLen, false);
  pi.status = WireStatus.BadVersion;
  return pi.status;
}

/** readWord: four bytes as an int32 in network order. */
function readWord(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

// ---- IPv4 -------------------------------------------------------------------------------------

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options                    |    Padding    |   (RFC 791 §3.1)
 */
function parseIpv4(pi: PacketInfo, b: Uint8Array, off: number, capLen: number, quoted: boolean): number {
  pi.family = 4;
  // Linux ip_rcv_core: pskb_may_pull(sizeof(struct iphdr)) before reading anything.
  if (capLen < 20) {
    pi.status = WireStatus.Truncated;
    return pi.status;
  }
  // the fixed header in five big-endian words (in bounds: capLen is within the buffer)
  const dv = viewOf(b);
  const w0 = dv.getInt32(off);
  const w1 = dv.getInt32(off + 4);
  const w2 = dv.getInt32(off + 8);
  const ihl = (w0 >>> 24) & 0x0f;
  const hl = ihl << 2;
  pi.ipHeaderLen = hl;
  pi.tos = (w0 >>> 16) & 0xff;
  const totLen = w0 & 0xffff;
  pi.ipTotalLen = totLen;
  pi.ipId = w1 >>> 16;
  const ff = w1 & 0xffff;
  pi.dontFrag = (ff & 0x4000) !== 0;
  pi.moreFrags = (ff & 0x2000) !== 0;
  pi.fragOff = (ff & 0x1fff) << 3;
  pi.isFragment = (ff & 0x3fff) !== 0;
  pi.ttl = w2 >>> 24;
  pi.proto = (w2 >>> 16) & 0xff;
  pi.firstNextHeader = pi.proto;
  pi.src[0] = dv.getInt32(off + 12);
  pi.dst[0] = dv.getInt32(off + 16);
  // RFC 791: "the minimum value for a correct header is 5" (Linux: iph->ihl < 5 -> inhdr error).
  if (ihl < 5) {
    pi.status = WireStatus.BadHeaderLen;
    return pi.status;
  }
  // Linux: pskb_may_pull(iph->ihl * 4): the options must be there.
  if (hl > capLen) {
    pi.status = WireStatus.Truncated;
    return pi.status;
  }
  let end: number;
  if (!quoted) {
    // Linux: skb->len < tot_len is a truncated packet; tot_len < ihl * 4 a header error.
    if (totLen > capLen || totLen < hl) {
      pi.status = WireStatus.BadTotalLen;
      return pi.status;
    }
    end = off + totLen;
    pi.len = totLen;
    // Bad options do not stop the packet here: Linux compiles them after PREROUTING (ip_rcv_finish),
    // so conntrack and the PREROUTING rules see the packet first. The pointer is kept for the ICMP
    // parameter problem the routing step sends.
    if (hl > 20) pi.ipOptProblem = checkIpv4Options(pi, b, off, hl - 20);
  } else {
    // A quoted header: the quote may be cut, so the stated length may exceed the bytes present. Linux
    // (ipv4_get_l4proto) reads neither the total length nor the options of the quoted header.
    end = off + (totLen >= hl && totLen < capLen ? totLen : capLen);
    pi.len = end - off;
  }
  pi.status = WireStatus.Ok;
  pi.l4Off = off + hl;
  pi.l4Len = end - pi.l4Off;
  if (pi.fragOff !== 0) {
    // Non-first fragment: no transport header here.
    pi.l4Status = WireStatus.Truncated;
    return pi.status;
  }
  if (quoted) parseL4Quoted(pi, b, end, pi.l4Off + pi.l4Len);
  else parseL4(pi, b, end);
  return pi.status;
}

/**
 * checkIpv4Options: validate the option list of a received IPv4 packet (the IP header at `h`, `l`
 * option bytes after its fixed part) as Linux's `ip_options_compile(net, opt, skb)` does (`skb` set: the
 * privileged-only checks do not apply), and record which options are present in `pi.ipOptFlags`.
 * Returns -1 for a sound list, else the offset from the IP header of the byte Linux blames (its
 * `pp_ptr`), which the ICMP parameter problem reports.
 *
 * Assumes no CIPSO DOI is configured (Linux's default), so a CIPSO option never validates.
 */
function checkIpv4Options(pi: PacketInfo, b: Uint8Array, h: number, l: number): number {
  let flags = 0;
  let p = h + 20;
  while (l > 0) {
    const type = b[p];
    if (type === 0) break; // END: the rest is padding
    if (type === 1) {
      // NOP
      p++;
      l--;
      continue;
    }
    // Every other option has a length byte, at least 2 and within the remaining option space.
    if (l < 2) return p - h;
    const optLen = b[p + 1];
    if (optLen < 2 || optLen > l) return p - h;
    switch (type) {
      case 131: // LSRR
      case 137: {
        // SSRR; RFC 1812 §5.2.4.1: at most one source route option
        if (optLen < 3) return p + 1 - h;
        if (b[p + 2] < 4) return p + 2 - h;
        if ((flags & (IPV4_OPT_LSRR | IPV4_OPT_SSRR)) !== 0) return p - h;
        flags |= type === 131 ? IPV4_OPT_LSRR : IPV4_OPT_SSRR;
        break;
      }
      case 7: {
        // record route: pointer >= 4; if not full, room for one more address
        if ((flags & IPV4_OPT_RR) !== 0) return p - h;
        if (optLen < 3) return p + 1 - h;
        const ptr = b[p + 2];
        if (ptr < 4) return p + 2 - h;
        if (ptr <= optLen && ptr + 3 > optLen) return p + 2 - h;
        flags |= IPV4_OPT_RR;
        break;
      }
      case 68: {
        // timestamp: pointer >= 5; if not full, room for the entry its flag asks for
        if ((flags & IPV4_OPT_TS) !== 0) return p - h;
        if (optLen < 4) return p + 1 - h;
        const ptr = b[p + 2];
        if (ptr < 5) return p + 2 - h;
        const oflw = b[p + 3];
        if (ptr <= optLen) {
          if (ptr + 3 > optLen) return p + 2 - h;
          const fl = oflw & 0x0f;
          // 1 = timestamps with addresses, 3 = prespecified addresses: 8 bytes per entry
          if ((fl === 1 || fl === 3) && ptr + 7 > optLen) return p + 2 - h;
        } else if ((oflw & 0x0f) !== 3 && oflw >> 4 === 15) {
          // full, and the overflow counter cannot count one more hop (Linux leaves a full
          // prespecified-address list alone)
          return p + 3 - h;
        }
        flags |= IPV4_OPT_TS;
        break;
      }
      case 148: // router alert
        if (optLen < 4) return p + 1 - h;
        if (b[p + 2] === 0 && b[p + 3] === 0) flags |= IPV4_OPT_RA;
        break;
      case 134: // CIPSO: validated against the configured DOIs, of which Linux has none by default
        return p - h;
      default:
        flags |= IPV4_OPT_OTHER;
        break;
    }
    p += optLen;
    l -= optLen;
  }
  pi.ipOptFlags = flags;
  return -1;
}

// ---- IPv6 -------------------------------------------------------------------------------------

/*
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * |                 Source Address (128 bits)                     |
 * |              Destination Address (128 bits)                   |   (RFC 8200 §3)
 */
function parseIpv6(pi: PacketInfo, b: Uint8Array, off: number, capLen: number, quoted: boolean): number {
  pi.family = 6;
  pi.ipHeaderLen = 40;
  if (capLen < 40) {
    pi.status = WireStatus.Truncated;
    return pi.status;
  }
  pi.tos = ((b[off] & 0x0f) << 4) | (b[off + 1] >> 4);
  pi.flowLabel = ((b[off + 1] & 0x0f) << 16) | (b[off + 2] << 8) | b[off + 3];
  const plen = (b[off + 4] << 8) | b[off + 5];
  const nh = b[off + 6];
  pi.firstNextHeader = nh;
  pi.ttl = b[off + 7];
  for (let i = 0; i < 4; i++) {
    pi.src[i] = readWord(b, off + 8 + 4 * i);
    pi.dst[i] = readWord(b, off + 24 + 4 * i);
  }
  pi.ipTotalLen = 40 + plen;
  let end: number;
  if (!quoted) {
    if (plen === 0 && nh === IPPROTO_HOPOPTS) {
      // A jumbogram (RFC 2675) states its length in the hop-by-hop header; until that is read, the
      // packet is what was captured (Linux ip6_rcv_core does not trim in this case).
      pi.ipTotalLen = capLen;
    } else if (40 + plen > capLen) {
      // Linux: pkt_len + sizeof(ipv6hdr) > skb->len is a truncated packet.
      pi.status = WireStatus.BadTotalLen;
      return pi.status;
    }
    pi.len = pi.ipTotalLen;
    if (nh === IPPROTO_HOPOPTS) {
      const st = checkHopByHop(pi, b, off, plen);
      if (st !== WireStatus.Ok) {
        pi.status = st;
        return st;
      }
    }
    end = off + pi.len;
  } else {
    // A quoted packet: Linux walks its extension headers up to the end of the outer packet.
    end = off + capLen;
    pi.len = Math.min(40 + plen, capLen);
  }
  return walkIpv6Chain(pi, b, off, nh, end, quoted);
}

/**
 * checkHopByHop: Linux `ipv6_parse_hopopts` + `ip6_parse_tlv(hopbyhop=true)` with default sysctls:
 * the header must be complete, padding at most 7 bytes in a row and zero-filled, at most
 * IPV6_MAX_HBH_OPTS other options, unknown options must have action bits 00 (skip), router alert has
 * length 2, a jumbo payload option is 4n+2 aligned with length 4, states more than 65535 bytes, comes
 * with payload length 0 and fits the captured bytes (the packet is then trimmed to it); IOAM must be
 * 4n-aligned (and is otherwise ignored, as ioam6_enabled is 0 by default).
 */
function checkHopByHop(pi: PacketInfo, b: Uint8Array, off: number, plen: number): number {
  const h = off + 40;
  if (pi.len < 48) return WireStatus.BadExtHeader;
  const hlen = (b[h + 1] + 1) << 3;
  if (40 + hlen > pi.len) return WireStatus.BadExtHeader;
  let p = h + 2;
  let left = hlen - 2;
  let pad = 0;
  let count = 0;
  while (left > 0) {
    const t = b[p];
    if (t === 0) {
      // Pad1; RFC 8200 §4.2: padding aligns to 8 octets, so more than 7 in a row is not padding
      if (++pad > 7) return WireStatus.BadExtHeader;
      p++;
      left--;
      continue;
    }
    if (left < 2) return WireStatus.BadExtHeader;
    const optLen = b[p + 1] + 2;
    if (optLen > left) return WireStatus.BadExtHeader;
    if (t === 1) {
      // PadN: RFC 4942 §2.1.9.5 recommends checking that its bytes are zero
      pad += optLen;
      if (pad > 7) return WireStatus.BadExtHeader;
      for (let i = 2; i < optLen; i++) if (b[p + i] !== 0) return WireStatus.BadExtHeader;
    } else {
      if (++count > IPV6_MAX_HBH_OPTS) return WireStatus.BadExtHeader;
      const rel = p - off; // offset from the IPv6 header, as Linux aligns it
      switch (t) {
        case 0x05: // router alert (RFC 2711)
          if (optLen !== 4) return WireStatus.BadExtHeader;
          break;
        case 0xc2: {
          // jumbo payload (RFC 2675 §3)
          if (optLen !== 6 || (rel & 3) !== 2) return WireStatus.BadExtHeader;
          const jlen = readWord(b, p + 2) >>> 0;
          if (jlen <= 65535 || plen !== 0) return WireStatus.BadExtHeader;
          if (jlen > pi.len - 40) return WireStatus.BadTotalLen;
          pi.len = 40 + jlen;
          pi.ipTotalLen = pi.len;
          break;
        }
        case 0x07: // CALIPSO (RFC 5570): without a configured DOI, Linux drops it
          return WireStatus.BadExtHeader;
        case 0x31: // IOAM (RFC 9486): must be 4n-aligned
          if ((rel & 3) !== 0) return WireStatus.BadExtHeader;
          break;
        default:
          // RFC 8200 §4.2: the two high-order bits say what to do with an unknown option; only 00 skips
          if ((t & 0xc0) !== 0) return WireStatus.BadExtHeader;
          break;
      }
      pad = 0;
    }
    p += optLen;
    left -= optLen;
  }
  return WireStatus.Ok;
}

/**
 * walkIpv6Chain: skip the extension headers Linux's `ipv6_skip_exthdr` skips (hop-by-hop, routing,
 * destination options, fragment, AH), recording the fragment header, then parse the transport header.
 */
function walkIpv6Chain(pi: PacketInfo, b: Uint8Array, off: number, nh: number, end: number, quoted: boolean): number {
  let p = off + 40;
  // Each extension header is at least 8 bytes, so the loop ends within (end - p) / 8 rounds.
  for (;;) {
    switch (nh) {
      case IPPROTO_HOPOPTS:
      case IPPROTO_ROUTING:
      case IPPROTO_DSTOPTS: {
        if (p + 2 > end) return badChain(pi, p, end);
        const hlen = (b[p + 1] + 1) << 3;
        if (p + hlen > end) return badChain(pi, p, end);
        nh = b[p];
        p += hlen;
        continue;
      }
      case IPPROTO_AH: {
        // RFC 4302 §2.2: the AH length is in 4-octet units, minus 2
        if (p + 2 > end) return badChain(pi, p, end);
        const hlen = (b[p + 1] + 2) << 2;
        if (p + hlen > end) return badChain(pi, p, end);
        nh = b[p];
        p += hlen;
        continue;
      }
      case IPPROTO_FRAGMENT: {
        if (p + 8 > end) return badChain(pi, p, end);
        const fo = (b[p + 2] << 8) | b[p + 3];
        if (pi.fragHdrOff < 0) {
          pi.fragHdrOff = p;
          pi.fragOff = fo & 0xfff8;
          pi.moreFrags = (fo & 1) !== 0;
          pi.isFragment = (fo & 0xfff9) !== 0;
          pi.ipId = readWord(b, p + 4);
        }
        nh = b[p];
        p += 8;
        if ((fo & 0xfff8) !== 0) {
          // Non-first fragment: Linux stops here, with the fragment's next header as the protocol.
          pi.proto = nh;
          pi.status = WireStatus.Ok;
          pi.l4Off = p;
          pi.l4Len = end - p;
          pi.l4Status = WireStatus.Truncated;
          return pi.status;
        }
        continue;
      }
      default:
        break;
    }
    break;
  }
  pi.proto = nh;
  pi.status = WireStatus.Ok;
  pi.l4Off = p;
  if (quoted) {
    const stated = off + pi.len;
    pi.l4Len = (stated > p ? stated : end) - p;
    parseL4Quoted(pi, b, p + pi.l4Len, end);
  } else {
    pi.l4Len = end - p;
    // 59 (no next header): nothing follows; conntrack treats such a packet as invalid.
    if (nh === IPPROTO_NONE) pi.l4Status = WireStatus.Ok;
    else parseL4(pi, b, end);
  }
  return pi.status;
}

function badChain(pi: PacketInfo, p: number, end: number): number {
  pi.status = WireStatus.BadExtHeader;
  pi.l4Off = p;
  pi.l4Len = end > p ? end - p : 0;
  return pi.status;
}

// ---- transport --------------------------------------------------------------------------------

/** isIcmpError: ICMP types whose body quotes the offending packet (Linux `icmp_is_err`). */
export function isIcmpError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** isIcmpv6Error: ICMPv6 error messages (RFC 4443 §2.1: types below 128 that Linux tracks, 1..4). */
export function isIcmpv6Error(type: number): boolean {
  return type >= 1 && type <= 4;
}

/**
 * parseL4: the transport header of a complete (or first-fragment) packet, `pi.l4Off` to `end`.
 * Length checks follow conntrack's tcp_error / udp_error / udplite_error / icmp_error.
 */
function parseL4(pi: PacketInfo, b: Uint8Array, end: number): void {
  const o = pi.l4Off;
  const len = end - o;
  switch (pi.proto) {
    case IPPROTO_TCP: {
      if (len < 20) {
        pi.l4Status = WireStatus.Truncated;
        return;
      }
      readTcpFixed(pi, b, o);
      const hl = pi.tcpHeaderLen;
      // Linux tcp_error: doff * 4 < sizeof(tcphdr) or > the segment is a "truncated packet"
      if (hl < 20 || hl > len) {
        pi.l4Status = WireStatus.BadHeaderLen;
        return;
      }
      pi.l4Status = WireStatus.Ok;
      if (hl > 20) parseTcpOptions(pi, b, o + 20, hl - 20);
      pi.payloadOff = o + hl;
      pi.payloadLen = len - hl;
      return;
    }
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE: {
      if (len < 8) {
        pi.l4Status = WireStatus.Truncated;
        return;
      }
      pi.srcPort = (b[o] << 8) | b[o + 1];
      pi.dstPort = (b[o + 2] << 8) | b[o + 3];
      const ul = (b[o + 4] << 8) | b[o + 5];
      pi.udpLen = ul;
      pi.payloadOff = o + 8;
      pi.payloadLen = len - 8;
      pi.l4Status = WireStatus.Ok;
      if (pi.isFragment) return; // a first fragment: the length covers the whole datagram
      if (pi.proto === IPPROTO_UDP) {
        // Linux udp_error: the UDP length may be shorter than the IP payload (padding), never longer,
        // and covers at least the header.
        if (ul > len || ul < 8) pi.l4Status = WireStatus.BadLength;
        else pi.payloadLen = ul - 8;
      } else if (ul !== 0 && (ul < 8 || ul > len)) {
        // Linux udplite_error: checksum coverage 0 means the whole datagram; otherwise header..datagram
        pi.l4Status = WireStatus.BadLength;
      }
      return;
    }
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      parseIcmp(pi, b, o, len, false);
      return;
    case IPPROTO_SCTP:
      // common header: ports, verification tag, checksum (RFC 9260 §3.1)
      if (len < 12) {
        pi.l4Status = WireStatus.Truncated;
        return;
      }
      pi.srcPort = (b[o] << 8) | b[o + 1];
      pi.dstPort = (b[o + 2] << 8) | b[o + 3];
      pi.payloadOff = o + 12;
      pi.payloadLen = len - 12;
      pi.l4Status = WireStatus.Ok;
      return;
    case IPPROTO_DCCP: {
      // generic header is 12 bytes (16 with extended sequence numbers); data offset in 32-bit words
      if (len < 12) {
        pi.l4Status = WireStatus.Truncated;
        return;
      }
      pi.srcPort = (b[o] << 8) | b[o + 1];
      pi.dstPort = (b[o + 2] << 8) | b[o + 3];
      const hl = b[o + 4] << 2;
      if (hl < 12 || hl > len) {
        pi.l4Status = WireStatus.BadHeaderLen;
        return;
      }
      pi.payloadOff = o + hl;
      pi.payloadLen = len - hl;
      pi.l4Status = WireStatus.Ok;
      return;
    }
    default:
      // Unknown is not malformed: the generic tracker handles it without ports.
      pi.payloadOff = o;
      pi.payloadLen = len;
      pi.l4Status = WireStatus.Ok;
      return;
  }
}

/**
 * parseL4Quoted: the transport header of a packet quoted in an ICMP error. Linux reads only what it
 * needs for the tuple (`nf_ct_get_tuple`): the 4 port bytes of TCP/UDP/UDP-Lite/SCTP/DCCP, the 8-byte
 * ICMP header. Those bytes must be present; anything after them is read when present. `stated` is
 * where the quoted packet says it ends, `end` where the quote ends.
 */
function parseL4Quoted(pi: PacketInfo, b: Uint8Array, stated: number, end: number): void {
  const o = pi.l4Off;
  const len = Math.min(stated, end) - o;
  switch (pi.proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_SCTP:
    case IPPROTO_DCCP:
      if (len < 4) {
        pi.l4Status = WireStatus.Truncated;
        return;
      }
      pi.srcPort = (b[o] << 8) | b[o + 1];
      pi.dstPort = (b[o + 2] << 8) | b[o + 3];
      pi.l4Status = WireStatus.Ok;
      if (pi.proto === IPPROTO_TCP) {
        if (len >= 8) pi.tcpSeq = readWord(b, o + 4);
        if (len >= 20) {
          readTcpFixed(pi, b, o);
          const hl = pi.tcpHeaderLen;
          if (hl >= 20 && hl <= len) {
            if (hl > 20) parseTcpOptions(pi, b, o + 20, hl - 20);
            pi.payloadOff = o + hl;
            pi.payloadLen = len - hl;
          }
        }
      } else if ((pi.proto === IPPROTO_UDP || pi.proto === IPPROTO_UDPLITE) && len >= 8) {
        pi.udpLen = (b[o + 4] << 8) | b[o + 5];
        pi.payloadOff = o + 8;
        pi.payloadLen = len - 8;
      }
      return;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      parseIcmp(pi, b, o, len, true);
      return;
    default:
      pi.payloadOff = o;
      pi.payloadLen = len;
      pi.l4Status = WireStatus.Ok;
      return;
  }
}

/*
 *  0                   1                   2                   3
 * |          Source Port          |       Destination Port        |
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * |           Checksum            |         Urgent Pointer        |   (RFC 9293 §3.1)
 */
function readTcpFixed(pi: PacketInfo, b: Uint8Array, o: number): void {
  // five big-endian words (callers checked that the 20 bytes are there)
  const dv = viewOf(b);
  const ports = dv.getInt32(o);
  pi.srcPort = ports >>> 16;
  pi.dstPort = ports & 0xffff;
  pi.tcpSeq = dv.getInt32(o + 4);
  pi.tcpAck = dv.getInt32(o + 8);
  const w3 = dv.getInt32(o + 12);
  pi.tcpHeaderLen = (w3 >>> 28) << 2;
  pi.tcpFlags = (w3 >>> 16) & 0xff;
  pi.tcpWindow = w3 & 0xffff;
  pi.tcpUrgent = dv.getUint16(o + 18);
}

/**
 * parseTcpOptions: read MSS, window scale, SACK-permitted, SACK and timestamps, as Linux conntrack's
 * `tcp_options` / `tcp_sack` read them: EOL ends the list, NOP is one byte, every other option has a
 * length of at least 2 that must fit ("silly options", "don't parse partial options" end the walk,
 * reported here as BadOptions); a known option with the wrong length is skipped unread; unknown
 * options are skipped.
 */
function parseTcpOptions(pi: PacketInfo, b: Uint8Array, p: number, l: number): void {
  // fast path: NOP, NOP, timestamps, the layout Linux sends on every segment of a connection that
  // negotiated timestamps (its own tcp_parse_aligned_timestamp looks for the same bytes)
  if (l === 12 && b[p] === 1 && b[p + 1] === 1 && b[p + 2] === 8 && b[p + 3] === 10) {
    const dv = viewOf(b);
    pi.optHasTs = true;
    pi.optTsVal = dv.getInt32(p + 4);
    pi.optTsEcr = dv.getInt32(p + 8);
    return;
  }
  while (l > 0) {
    const kind = b[p];
    if (kind === 0) return; // EOL
    if (kind === 1) {
      p++;
      l--;
      continue;
    }
    if (l < 2) {
      pi.tcpOptStatus = WireStatus.BadOptions;
      return;
    }
    const size = b[p + 1];
    if (size < 2 || size > l) {
      pi.tcpOptStatus = WireStatus.BadOptions;
      return;
    }
    switch (kind) {
      case 2: // MSS (RFC 9293 §3.2)
        if (size === 4) pi.optMss = (b[p + 2] << 8) | b[p + 3];
        break;
      case 3: // window scale (RFC 7323 §2.2); the shift is kept as sent, capping is the reader's job
        if (size === 3) pi.optWscale = b[p + 2];
        break;
      case 4: // SACK permitted (RFC 2018 §2)
        if (size === 2) pi.optSackPerm = true;
        break;
      case 5: // SACK (RFC 2018 §3): 2 + 8n bytes
        if (size >= 10 && ((size - 2) & 7) === 0) {
          pi.optSackBlocks = (size - 2) >> 3;
          pi.optSackOff = p + 2;
        }
        break;
      case 8: // timestamps (RFC 7323 §3.2)
        if (size === 10) {
          pi.optHasTs = true;
          pi.optTsVal = readWord(b, p + 2);
          pi.optTsEcr = readWord(b, p + 6);
        }
        break;
      default:
        break;
    }
    p += size;
    l -= size;
  }
}

/**
 * parseIcmp: ICMP or ICMPv6 header (8 bytes: type, code, checksum, then identifier/sequence for
 * queries). Errors carry the offending packet, parsed into `pi.inner` (not for a quoted ICMP).
 */
function parseIcmp(pi: PacketInfo, b: Uint8Array, o: number, len: number, quoted: boolean): void {
  if (len < 8) {
    pi.l4Status = WireStatus.Truncated;
    return;
  }
  const type = b[o];
  pi.icmpType = type;
  pi.icmpCode = b[o + 1];
  pi.payloadOff = o + 8;
  pi.payloadLen = len - 8;
  pi.l4Status = WireStatus.Ok;
  const isErr = pi.proto === IPPROTO_ICMP ? isIcmpError(type) : isIcmpv6Error(type);
  pi.icmpIsError = isErr;
  if (!isErr) {
    // Linux conntrack reads the identifier of any non-error message (un.echo.id / icmp6_identifier).
    pi.icmpId = (b[o + 4] << 8) | b[o + 5];
    pi.icmpSeq = (b[o + 6] << 8) | b[o + 7];
    return;
  }
  const inner = pi.inner;
  if (quoted || inner === null || pi.isFragment) return;
  parseEmbedded(inner, b, o + 8, len - 8, pi.family);
}

/**
 * parseEmbedded: parse the packet quoted in an ICMP error, leniently: the quoted IP header must be
 * complete and of the outer family; its stated length may exceed the quote; the transport header needs
 * only the bytes a conntrack tuple needs. `inner.len` is the bytes of the quoted packet present.
 */
export function parseEmbedded(inner: PacketInfo, b: Uint8Array, off: number, capLen: number, family: number): number {
  resetPacketInfo(inner);
  inner.buf = b;
  inner.off = off;
  inner.len = 0;
  // only the bytes the buffer holds (the readers below do not read past them)
  if (off < 0 || off >= b.length) return inner.status;
  if (capLen > b.length - off) capLen = b.length - off;
  if (capLen <= 0) return inner.status;
  const version = b[off] >> 4;
  if (version !== family) {
    inner.status = WireStatus.BadVersion;
    return inner.status;
  }
  if (version === 4) return parseIpv4(inner, b, off, capLen, true);
  return parseIpv6(inner, b, off, capLen, true);
}

/**
 * ipv6RcvAddrOk: the address checks Linux's ip6_rcv_core makes before PREROUTING (so conntrack never
 * sees such packets): the loopback address as source or destination on a non-loopback device
 * (RFC 4291 §2.5.3), an interface-local multicast destination from another node (RFC 4291 errata
 * 3480), a multicast destination with the reserved scope 0, and a multicast source (RFC 4291 §2.7).
 * `onLoopback`: the packet came in on a loopback device. Precondition: pi.family === 6, header parsed.
 */
export function ipv6RcvAddrOk(pi: PacketInfo, onLoopback: boolean): boolean {
  const s = pi.src;
  const d = pi.dst;
  const isLoop = (a: Int32Array) => a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] === 1;
  if (!onLoopback && (isLoop(s) || isLoop(d))) return false;
  const dMulti = d[0] >>> 24 === 0xff;
  const dScope = (d[0] >>> 16) & 0x0f;
  if (!onLoopback && dMulti && dScope === 1) return false;
  if (dMulti && dScope === 0) return false;
  if (s[0] >>> 24 === 0xff) return false;
  return true;
}
