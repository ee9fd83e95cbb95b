/**
 * IcmpHeader (ICMPv4, RFC 792) and Icmpv6Header (RFC 4443): zero-copy flyweight views over the 8-byte
 * ICMP header and its body; IcmpRepr: the owned form of either.
 *
 * Contract: `reset(buf, off, len)` views the whole ICMP message (`len` = IP payload); after `check()`
 * returns WireStatus.Ok the 8-byte header is inside the buffer. ICMPv4's checksum covers the message
 * only; ICMPv6's also covers the IPv6 pseudo header (RFC 4443 §2.3), so only Icmpv6Header has
 * `adjustChecksumForAddrChange`.
 *
 *  0                   1                   2                   3
 * |     Type      |     Code      |          Checksum             |
 * |           Identifier          |        Sequence Number        |   (queries: echo, timestamp...)
 * |                             unused / MTU / pointer            |   (errors, followed by the
 * |      as much of the invoking packet as fits ...                   invoking packet)
 */
import { get16, get32, put16, put32 } from "./bytes.js";
import {
  checksumUpdate16,
  checksumUpdate32,
  checksumUpdateAddr,
  finishChecksum,
  foldSum,
  sumBytes,
} from "./checksum.js";
import { HeaderView } from "./header-view.js";
import { WireStatus } from "./packet-info.js";
import { isIcmpError, isIcmpv6Error } from "./parse.js";

export const ICMP_HEADER_LEN = 8;

// ICMPv4 types (RFC 792 and later)
export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
export const ICMP_TIMESTAMP = 13;
export const ICMP_TIMESTAMPREPLY = 14;
export const ICMP_INFO_REQUEST = 15;
export const ICMP_INFO_REPLY = 16;
export const ICMP_ADDRESS = 17;
export const ICMP_ADDRESSREPLY = 18;
// ICMPv4 destination-unreachable codes used by Linux (REJECT --reject-with)
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_NET_ANO = 9;
export const ICMP_HOST_ANO = 10;
export const ICMP_PKT_FILTERED = 13;
// time exceeded codes
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

// ICMPv6 types (RFC 4443, RFC 4861)
export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_PKT_TOOBIG = 2;
export const ICMPV6_TIME_EXCEED = 3;
export const ICMPV6_PARAMPROB = 4;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_MGM_QUERY = 130;
export const ICMPV6_MGM_REPORT = 131;
export const ICMPV6_MGM_REDUCTION = 132;
export const ICMPV6_ROUTER_SOLICITATION = 133;
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
export const ICMPV6_NEIGHBOUR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOUR_ADVERTISEMENT = 136;
export const ICMPV6_REDIRECT = 137;
export const ICMPV6_NI_QUERY = 139;
export const ICMPV6_NI_REPLY = 140;
export const ICMPV6_MLD2_REPORT = 143;
// ICMPv6 destination-unreachable codes
export const ICMPV6_NOROUTE = 0;
export const ICMPV6_ADM_PROHIBITED = 1;
export const ICMPV6_NOT_NEIGHBOUR = 2;
export const ICMPV6_ADDR_UNREACH = 3;
export const ICMPV6_PORT_UNREACH = 4;
export const ICMPV6_POLICY_FAIL = 5;
export const ICMPV6_REJECT_ROUTE = 6;
// time exceeded codes
export const ICMPV6_EXC_HOPLIMIT = 0;
export const ICMPV6_EXC_FRAGTIME = 1;

/**
 * IcmpView: what ICMPv4 and ICMPv6 headers share: the same 8-byte layout (type, code, checksum, then
 * identifier and sequence or one 32-bit word) and the checksum updates that do not involve a pseudo
 * header. IcmpHeader and Icmpv6Header add their family's checksum rules and fields.
 */
abstract class IcmpView extends HeaderView {
  /** check: the 8-byte header is present (Linux icmp_error reads struct icmphdr). */
  check(): number {
    return this.len < ICMP_HEADER_LEN ? WireStatus.Truncated : WireStatus.Ok;
  }

  get type(): number {
    return this.buf[this.off];
  }
  get code(): number {
    return this.buf[this.off + 1];
  }
  get checksum(): number {
    return get16(this.buf, this.off + 2);
  }
  /** identifier (queries) */
  get ident(): number {
    return get16(this.buf, this.off + 4);
  }
  /** sequence number (queries) */
  get seqNo(): number {
    return get16(this.buf, this.off + 6);
  }
  /** the second 32-bit word (unused / gateway / pointer / MTU), int32 */
  get restOfHeader(): number {
    return get32(this.buf, this.off + 4);
  }
  get payloadOff(): number {
    return this.off + ICMP_HEADER_LEN;
  }
  get payloadLen(): number {
    return this.len - ICMP_HEADER_LEN;
  }

  setType(v: number): void {
    this.buf[this.off] = v & 0xff;
  }
  setCode(v: number): void {
    this.buf[this.off + 1] = v & 0xff;
  }
  setChecksum(v: number): void {
    put16(this.buf, this.off + 2, v);
  }
  setIdent(v: number): void {
    put16(this.buf, this.off + 4, v);
  }
  setSeqNo(v: number): void {
    put16(this.buf, this.off + 6, v);
  }
  setRestOfHeader(v: number): void {
    put32(this.buf, this.off + 4, v);
  }

  setIdentWithChecksumUpdate(v: number): void {
    const old = this.ident;
    this.setIdent(v);
    this.setChecksum(checksumUpdate16(this.checksum, old, v & 0xffff));
  }
  /** setTypeCodeWithChecksumUpdate: type and code share one 16-bit word. */
  setTypeCodeWithChecksumUpdate(type: number, code: number): void {
    const old = get16(this.buf, this.off);
    this.setType(type);
    this.setCode(code);
    this.setChecksum(checksumUpdate16(this.checksum, old, get16(this.buf, this.off)));
  }
  /**
   * adjustChecksumForChange16 / 32: fix the checksum after the caller changed a 16/32-bit word of the
   * body (e.g. NAT rewriting the quoted packet of an error); the word must be 16-bit aligned with the
   * message start (the quoted IP header is).
   */
  adjustChecksumForChange16(oldValue: number, newValue: number): void {
    this.setChecksum(checksumUpdate16(this.checksum, oldValue, newValue));
  }
  adjustChecksumForChange32(oldValue: number, newValue: number): void {
    this.setChecksum(checksumUpdate32(this.checksum, oldValue, newValue));
  }
  protected adjustForAddr(oldAddr: Int32Array, newAddr: Int32Array, nWords: number): void {
    this.setChecksum(checksumUpdateAddr(this.checksum, oldAddr, newAddr, nWords));
  }
}

/** IcmpHeader: ICMPv4; the checksum covers the message only. */
export class IcmpHeader extends IcmpView {
  /** next-hop MTU of a "fragmentation needed" message (RFC 1191) */
  get nextHopMtu(): number {
    return get16(this.buf, this.off + 6);
  }
  /** pointer of a parameter problem (byte offset into the invoking packet) */
  get pointer(): number {
    return this.buf[this.off + 4];
  }
  /** isError: an error message, quoting the invoking packet (Linux icmp_is_err) */
  get isError(): boolean {
    return isIcmpError(this.buf[this.off]);
  }

  verifyChecksum(): boolean {
    return foldSum(sumBytes(this.buf, this.off, this.len, 0)) === 0xffff;
  }
  fillChecksum(): void {
    this.setChecksum(0);
    this.setChecksum(finishChecksum(sumBytes(this.buf, this.off, this.len, 0)));
  }
  /** adjustChecksumForAddrsChange: a quoted address of `nWords` words changed (ICMPv4: 1). */
  adjustChecksumForAddrsChange(oldAddr: Int32Array, newAddr: Int32Array, nWords: number): void {
    this.adjustForAddr(oldAddr, newAddr, nWords);
  }
}

/** Icmpv6Header: ICMPv6; the checksum also covers the IPv6 pseudo header. */
export class Icmpv6Header extends IcmpView {
  /** MTU of a packet-too-big message */
  get mtu(): number {
    return get32(this.buf, this.off + 4) >>> 0;
  }
  /** isError: types 1..4 (RFC 4443 §2.1 errors Linux tracks as RELATED) */
  get isError(): boolean {
    return isIcmpv6Error(this.buf[this.off]);
  }

  /** verifyChecksum: with pseudoHeaderSumV6(src, dst, 58, len). */
  verifyChecksum(pseudoSum: number): boolean {
    return foldSum(sumBytes(this.buf, this.off, this.len, pseudoSum)) === 0xffff;
  }
  fillChecksum(pseudoSum: number): void {
    this.setChecksum(0);
    this.setChecksum(finishChecksum(sumBytes(this.buf, this.off, this.len, pseudoSum)));
  }
  /** adjustChecksumForAddrChange: a pseudo-header (or quoted) IPv6 address changed. */
  adjustChecksumForAddrChange(oldAddr: Int32Array, newAddr: Int32Array, nWords: number): void {
    this.adjustForAddr(oldAddr, newAddr, nWords);
  }
}

/** IcmpRepr: owned fields of an ICMP or ICMPv6 header (slow path, tests, emit). */
export class IcmpRepr {
  type = 0;
  code = 0;
  /** the second 32-bit word: identifier << 16 | sequence for queries; MTU / pointer for errors */
  rest = 0;

  parse(h: IcmpHeader | Icmpv6Header): number {
    const st = h.check();
    if (st !== WireStatus.Ok) return st;
    this.type = h.type;
    this.code = h.code;
    this.rest = h.restOfHeader;
    return WireStatus.Ok;
  }

  get ident(): number {
    return (this.rest >>> 16) & 0xffff;
  }
  get seqNo(): number {
    return this.rest & 0xffff;
  }

  bufferLen(): number {
    return ICMP_HEADER_LEN;
  }

  /** emit: the 8-byte header at buf[off], checksum 0 (fill it with the view). */
  emit(buf: Uint8Array, off: number): void {
    buf[off] = this.type & 0xff;
    buf[off + 1] = this.code & 0xff;
    put16(buf, off + 2, 0);
    put32(buf, off + 4, this.rest);
  }
}
