/**
 * Ipv4Header: a zero-copy flyweight view over an IPv4 header, and Ipv4Repr, its owned parsed form.
 *
 * Contract (as smoltcp's wire views): `reset(buf, off, len)` points the view at `len` bytes starting
 * at `buf[off]`; `check()` validates it once; after `check()` returns WireStatus.Ok every accessor reads
 * inside the buffer, as long as the buffer is not changed. Changing `ihl` or `totalLen` through a setter
 * invalidates that guarantee until the next `check()`. Setters named `...WithChecksumUpdate` keep the
 * header checksum correct (RFC 1624 incremental update); plain setters do not.
 *
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

import { put16, put32 } from "./bytes.js";
import { checksumUpdate16, checksumUpdate32, foldSum, internetChecksum, sumBytes } from "./checksum.js";
import { HeaderView } from "./header-view.js";
import { EMPTY_BYTES, WireStatus } from "./packet-info.js";
import { TlvOptionIter } from "./tlv.js";

export const IPV4_MIN_HEADER_LEN = 20;
export const IPV4_MAX_HEADER_LEN = 60;
/** flag bits in the 16-bit flags/fragment-offset word */
export const IPV4_FLAG_RF = 0x8000;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;
export const IPV4_OFFSET_MASK = 0x1fff;

/** IPv4 option types (RFC 791 §3.1; the top bit is the "copied" flag) */
export const IPOPT_END = 0;
export const IPOPT_NOOP = 1;
export const IPOPT_RR = 7;
export const IPOPT_TS = 68;
export const IPOPT_SEC = 130;
export const IPOPT_LSRR = 131;
export const IPOPT_CIPSO = 134;
export const IPOPT_SID = 136;
export const IPOPT_SSRR = 137;
export const IPOPT_RA = 148;
/** ipv4OptionCopied: whether an option type is copied into every fragment (RFC 791: the high bit) */
export function ipv4OptionCopied(type: number): boolean {
  return (type & 0x80) !== 0;
}

export class Ipv4Header extends HeaderView {
  /**
   * check: the receive checks of Linux's ip_rcv_core (except the checksum, see verifyChecksum):
   * version 4, IHL >= 5, header present, total length within [header, available bytes].
   */
  check(): number {
    if (this.len < IPV4_MIN_HEADER_LEN) return WireStatus.Truncated;
    const b = this.buf;
    const o = this.off;
    if (b[o] >> 4 !== 4) return WireStatus.BadVersion;
    const hl = (b[o] & 0x0f) << 2;
    // RFC 791: "the minimum value for a correct header is 5"
    if (hl < IPV4_MIN_HEADER_LEN) return WireStatus.BadHeaderLen;
    if (hl > this.len) return WireStatus.Truncated;
    const tl = (b[o + 2] << 8) | b[o + 3];
    if (tl < hl || tl > this.len) return WireStatus.BadTotalLen;
    return WireStatus.Ok;
  }

  get version(): number {
    return this.buf[this.off] >> 4;
  }
  /** IHL in 32-bit words */
  get ihl(): number {
    return this.buf[this.off] & 0x0f;
  }
  /** header length in bytes (IHL * 4) */
  get headerLen(): number {
    return (this.buf[this.off] & 0x0f) << 2;
  }
  get tos(): number {
    return this.buf[this.off + 1];
  }
  /** DSCP (upper six bits of the TOS byte) */
  get dscp(): number {
    return this.buf[this.off + 1] >> 2;
  }
  /** ECN (lower two bits of the TOS byte) */
  get ecn(): number {
    return this.buf[this.off + 1] & 3;
  }
  get totalLen(): number {
    return (this.buf[this.off + 2] << 8) | this.buf[this.off + 3];
  }
  get ident(): number {
    return (this.buf[this.off + 4] << 8) | this.buf[this.off + 5];
  }
  /** the 16-bit flags + fragment offset word */
  get flagsFragWord(): number {
    return (this.buf[this.off + 6] << 8) | this.buf[this.off + 7];
  }
  get dontFrag(): boolean {
    return (this.buf[this.off + 6] & 0x40) !== 0;
  }
  get moreFrags(): boolean {
    return (this.buf[this.off + 6] & 0x20) !== 0;
  }
  /** fragment offset in bytes */
  get fragOffset(): number {
    return (((this.buf[this.off + 6] & 0x1f) << 8) | this.buf[this.off + 7]) << 3;
  }
  /** true for any fragment (MF set or offset non-zero) */
  get isFragment(): boolean {
    return (((this.buf[this.off + 6] << 8) | this.buf[this.off + 7]) & 0x3fff) !== 0;
  }
  get ttl(): number {
    return this.buf[this.off + 8];
  }
  get protocol(): number {
    return this.buf[this.off + 9];
  }
  get checksum(): number {
    return (this.buf[this.off + 10] << 8) | this.buf[this.off + 11];
  }
  /** source address as an int32 (network order) */
  get srcAddr(): number {
    const b = this.buf;
    const o = this.off + 12;
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  }
  get dstAddr(): number {
    const b = this.buf;
    const o = this.off + 16;
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  }
  /** absolute offset of the payload (after the options) */
  get payloadOff(): number {
    return this.off + this.headerLen;
  }
  /** payload length by the total length field */
  get payloadLen(): number {
    return this.totalLen - this.headerLen;
  }

  // ---- checksum ----
  /** verifyChecksum: the header (options included) sums to 0xffff. Precondition: check() is Ok. */
  verifyChecksum(): boolean {
    return foldSum(sumBytes(this.buf, this.off, this.headerLen, 0)) === 0xffff;
  }
  /** fillChecksum: compute and store the header checksum. */
  fillChecksum(): void {
    const b = this.buf;
    const o = this.off;
    b[o + 10] = 0;
    b[o + 11] = 0;
    const c = internetChecksum(b, o, this.headerLen);
    b[o + 10] = c >>> 8;
    b[o + 11] = c & 0xff;
  }

  // ---- raw setters (checksum not touched) ----
  setVersionIhl(version: number, ihl: number): void {
    this.buf[this.off] = ((version & 0x0f) << 4) | (ihl & 0x0f);
  }
  setTos(v: number): void {
    this.buf[this.off + 1] = v & 0xff;
  }
  setTotalLen(v: number): void {
    put16(this.buf, this.off + 2, v);
  }
  setIdent(v: number): void {
    put16(this.buf, this.off + 4, v);
  }
  setFlagsFragWord(v: number): void {
    put16(this.buf, this.off + 6, v);
  }
  setTtl(v: number): void {
    this.buf[this.off + 8] = v & 0xff;
  }
  setProtocol(v: number): void {
    this.buf[this.off + 9] = v & 0xff;
  }
  setChecksum(v: number): void {
    put16(this.buf, this.off + 10, v);
  }
  setSrcAddr(a: number): void {
    put32(this.buf, this.off + 12, a);
  }
  setDstAddr(a: number): void {
    put32(this.buf, this.off + 16, a);
  }

  // ---- setters that keep the header checksum correct ----
  setTtlWithChecksumUpdate(v: number): void {
    const b = this.buf;
    const o = this.off + 8;
    const old = (b[o] << 8) | b[o + 1];
    b[o] = v & 0xff;
    this.setChecksum(checksumUpdate16(this.checksum, old, (b[o] << 8) | b[o + 1]));
  }
  /**
   * decrementTtlWithChecksumUpdate: TTL - 1 with the checksum fix-up Linux's ip_decrease_ttl uses
   * (the same result as RFC 1624). Precondition: TTL > 0.
   */
  decrementTtlWithChecksumUpdate(): void {
    this.setTtlWithChecksumUpdate(this.ttl - 1);
  }
  setTosWithChecksumUpdate(v: number): void {
    const b = this.buf;
    const o = this.off;
    const old = (b[o] << 8) | b[o + 1];
    b[o + 1] = v & 0xff;
    this.setChecksum(checksumUpdate16(this.checksum, old, (b[o] << 8) | b[o + 1]));
  }
  setIdentWithChecksumUpdate(v: number): void {
    const old = this.ident;
    this.setIdent(v);
    this.setChecksum(checksumUpdate16(this.checksum, old, v & 0xffff));
  }
  setTotalLenWithChecksumUpdate(v: number): void {
    const old = this.totalLen;
    this.setTotalLen(v);
    this.setChecksum(checksumUpdate16(this.checksum, old, v & 0xffff));
  }
  setFlagsFragWordWithChecksumUpdate(v: number): void {
    const old = this.flagsFragWord;
    this.setFlagsFragWord(v);
    this.setChecksum(checksumUpdate16(this.checksum, old, v & 0xffff));
  }
  /** setSrcAddrWithChecksumUpdate: rewrite the source; transport checksums are the caller's job. */
  setSrcAddrWithChecksumUpdate(a: number): void {
    const old = this.srcAddr;
    this.setSrcAddr(a);
    this.setChecksum(checksumUpdate32(this.checksum, old, a));
  }
  setDstAddrWithChecksumUpdate(a: number): void {
    const old = this.dstAddr;
    this.setDstAddr(a);
    this.setChecksum(checksumUpdate32(this.checksum, old, a));
  }

  /** options: a reusable iterator over this header's options (reset it per header). */
  options(it: Ipv4OptionIter): Ipv4OptionIter {
    return it.reset(this.buf, this.off + IPV4_MIN_HEADER_LEN, this.headerLen - IPV4_MIN_HEADER_LEN);
  }
}

/**
 * Ipv4OptionIter: walks the options of an IPv4 header without allocating:
 * `while (it.next()) { it.type; it.optOff; it.optLen }`. NOP options are reported (length 1); END
 * stops the walk. A malformed list stops the walk with `malformed = true` (length byte < 2 or past the
 * end of the options).
 */
export class Ipv4OptionIter extends TlvOptionIter {
  /** type byte of the current option */
  get type(): number {
    return this.code;
  }
}

/** Ipv4Repr: the owned, validated fields of an IPv4 header (slow path, tests, emit). */
export class Ipv4Repr {
  src = 0;
  dst = 0;
  protocol = 0;
  ttl = 64;
  tos = 0;
  ident = 0;
  dontFrag = false;
  moreFrags = false;
  /** fragment offset in bytes */
  fragOffset = 0;
  /** option bytes (a multiple of 4 long) */
  options: Uint8Array = EMPTY_BYTES;
  /** payload length in bytes */
  payloadLen = 0;

  /** parse: fill from a view; returns the view's check() status (fields are set only when Ok). */
  parse(h: Ipv4Header): number {
    const st = h.check();
    if (st !== WireStatus.Ok) return st;
    this.src = h.srcAddr;
    this.dst = h.dstAddr;
    this.protocol = h.protocol;
    this.ttl = h.ttl;
    this.tos = h.tos;
    this.ident = h.ident;
    this.dontFrag = h.dontFrag;
    this.moreFrags = h.moreFrags;
    this.fragOffset = h.fragOffset;
    this.options = h.buf.slice(h.off + IPV4_MIN_HEADER_LEN, h.off + h.headerLen);
    this.payloadLen = h.payloadLen;
    return WireStatus.Ok;
  }

  /** bufferLen: header length in bytes. */
  bufferLen(): number {
    return IPV4_MIN_HEADER_LEN + ((this.options.length + 3) & ~3);
  }

  /** emit: write the header at buf[off] (checksum filled). The payload is the caller's. */
  emit(buf: Uint8Array, off: number): void {
    const hl = this.bufferLen();
    buf.fill(0, off, off + hl);
    const h = new Ipv4Header().reset(buf, off, hl);
    h.setVersionIhl(4, hl >> 2);
    h.setTos(this.tos);
    h.setTotalLen(hl + this.payloadLen);
    h.setIdent(this.ident);
    h.setFlagsFragWord(
      (this.dontFrag ? IPV4_FLAG_DF : 0) | (this.moreFrags ? IPV4_FLAG_MF : 0) | ((this.fragOffset >> 3) & 0x1fff),
    );
    h.setTtl(this.ttl);
    h.setProtocol(this.protocol);
    h.setSrcAddr(this.src);
    h.setDstAddr(this.dst);
    buf.set(this.options, off + IPV4_MIN_HEADER_LEN);
    h.fillChecksum();
  }
}
