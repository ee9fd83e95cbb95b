/**
 * TcpHeader: a zero-copy flyweight view over a TCP segment; TcpOptionIter: an allocation-free walk
 * over its options; TcpRepr: the owned form.
 *
 * Contract: `reset(buf, off, len)` views a segment of `len` bytes (header + data, the IP payload);
 * after `check()` returns WireStatus.Ok, every header accessor and the option area are inside the
 * buffer. Setters named `...WithChecksumUpdate` keep the TCP checksum correct by RFC 1624 incremental
 * update (so they are exact only if the checksum was correct before, as for Linux's
 * inet_proto_csum_replace*); `adjustChecksumForAddrChange` does the same for a pseudo-header address.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |          Source Port          |       Destination Port        |
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * |           Checksum            |         Urgent Pointer        |
 * |                    Options                    |    Padding    |   (RFC 9293 §3.1)
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
import { TlvOptionIter } from "./tlv.js";

export const TCP_MIN_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;

export const TCP_FLAG_FIN = 0x01;
export const TCP_FLAG_SYN = 0x02;
export const TCP_FLAG_RST = 0x04;
export const TCP_FLAG_PSH = 0x08;
export const TCP_FLAG_ACK = 0x10;
export const TCP_FLAG_URG = 0x20;
export const TCP_FLAG_ECE = 0x40;
export const TCP_FLAG_CWR = 0x80;

/** TCP option kinds (IANA "TCP Option Kind Numbers") */
export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW = 3;
export const TCPOPT_SACK_PERM = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMP = 8;
export const TCPOPT_MD5SIG = 19;
export const TCPOPT_MPTCP = 30;
export const TCPOPT_FASTOPEN = 34;
/** RFC 7323 §2.3: "the maximum scale exponent is limited to 14" */
export const TCP_MAX_WSCALE = 14;

/** TcpHeader: `len` is the segment length (header + data). */
export class TcpHeader extends HeaderView {
  /** check: as Linux tcp_error: 20 bytes present, 20 <= data offset * 4 <= segment length. */
  check(): number {
    if (this.len < TCP_MIN_HEADER_LEN) return WireStatus.Truncated;
    const hl = (this.buf[this.off + 12] >> 4) << 2;
    if (hl < TCP_MIN_HEADER_LEN || hl > this.len) return WireStatus.BadHeaderLen;
    return WireStatus.Ok;
  }

  get srcPort(): number {
    return get16(this.buf, this.off);
  }
  get dstPort(): number {
    return get16(this.buf, this.off + 2);
  }
  /** sequence number, int32 */
  get seqNumber(): number {
    return get32(this.buf, this.off + 4);
  }
  /** acknowledgment number, int32 */
  get ackNumber(): number {
    return get32(this.buf, this.off + 8);
  }
  /** data offset in 32-bit words */
  get dataOffset(): number {
    return this.buf[this.off + 12] >> 4;
  }
  get headerLen(): number {
    return (this.buf[this.off + 12] >> 4) << 2;
  }
  /** the flags byte (CWR ECE URG ACK PSH RST SYN FIN) */
  get flags(): number {
    return this.buf[this.off + 13];
  }
  get fin(): boolean {
    return (this.buf[this.off + 13] & TCP_FLAG_FIN) !== 0;
  }
  get syn(): boolean {
    return (this.buf[this.off + 13] & TCP_FLAG_SYN) !== 0;
  }
  get rst(): boolean {
    return (this.buf[this.off + 13] & TCP_FLAG_RST) !== 0;
  }
  get ack(): boolean {
    return (this.buf[this.off + 13] & TCP_FLAG_ACK) !== 0;
  }
  get windowLen(): number {
    return get16(this.buf, this.off + 14);
  }
  get checksum(): number {
    return get16(this.buf, this.off + 16);
  }
  get urgentPointer(): number {
    return get16(this.buf, this.off + 18);
  }
  get payloadOff(): number {
    return this.off + this.headerLen;
  }
  get payloadLen(): number {
    return this.len - this.headerLen;
  }
  /** segLen: sequence space the segment uses: data + SYN + FIN (Linux conntrack's end - seq) */
  get segLen(): number {
    const f = this.buf[this.off + 13];
    return this.payloadLen + (f & TCP_FLAG_SYN ? 1 : 0) + (f & TCP_FLAG_FIN ? 1 : 0);
  }

  /** options: start a reusable iterator over the options. */
  options(it: TcpOptionIter): TcpOptionIter {
    return it.reset(this.buf, this.off + TCP_MIN_HEADER_LEN, this.headerLen - TCP_MIN_HEADER_LEN);
  }

  // ---- checksum (pseudo header sum from checksum.ts: pseudoHeaderSumV4/V6(src, dst, 6, len)) ----
  verifyChecksum(pseudoSum: number): boolean {
    return foldSum(sumBytes(this.buf, this.off, this.len, pseudoSum)) === 0xffff;
  }
  fillChecksum(pseudoSum: number): void {
    this.setChecksum(0);
    this.setChecksum(finishChecksum(sumBytes(this.buf, this.off, this.len, pseudoSum)));
  }

  // ---- raw setters ----
  setSrcPort(v: number): void {
    put16(this.buf, this.off, v);
  }
  setDstPort(v: number): void {
    put16(this.buf, this.off + 2, v);
  }
  setSeqNumber(v: number): void {
    put32(this.buf, this.off + 4, v);
  }
  setAckNumber(v: number): void {
    put32(this.buf, this.off + 8, v);
  }
  setDataOffset(words: number): void {
    const b = this.buf;
    b[this.off + 12] = ((words & 0x0f) << 4) | (b[this.off + 12] & 0x0f);
  }
  setFlags(v: number): void {
    this.buf[this.off + 13] = v & 0xff;
  }
  setWindowLen(v: number): void {
    put16(this.buf, this.off + 14, v);
  }
  setChecksum(v: number): void {
    put16(this.buf, this.off + 16, v);
  }
  setUrgentPointer(v: number): void {
    put16(this.buf, this.off + 18, v);
  }

  // ---- setters that keep the checksum correct ----
  setSrcPortWithChecksumUpdate(v: number): void {
    const old = this.srcPort;
    this.setSrcPort(v);
    this.setChecksum(checksumUpdate16(this.checksum, old, v & 0xffff));
  }
  setDstPortWithChecksumUpdate(v: number): void {
    const old = this.dstPort;
    this.setDstPort(v);
    this.setChecksum(checksumUpdate16(this.checksum, old, v & 0xffff));
  }
  setSeqNumberWithChecksumUpdate(v: number): void {
    const old = this.seqNumber;
    this.setSeqNumber(v);
    this.setChecksum(checksumUpdate32(this.checksum, old, v));
  }
  setAckNumberWithChecksumUpdate(v: number): void {
    const old = this.ackNumber;
    this.setAckNumber(v);
    this.setChecksum(checksumUpdate32(this.checksum, old, v));
  }
  setWindowLenWithChecksumUpdate(v: number): void {
    const old = this.windowLen;
    this.setWindowLen(v);
    this.setChecksum(checksumUpdate16(this.checksum, old, v & 0xffff));
  }
  /** setFlagsWithChecksumUpdate: the flags byte shares a 16-bit word with the data offset. */
  setFlagsWithChecksumUpdate(v: number): void {
    const b = this.buf;
    const o = this.off + 12;
    const old = get16(b, o);
    b[o + 1] = v & 0xff;
    this.setChecksum(checksumUpdate16(this.checksum, old, get16(b, o)));
  }
  /**
   * set16WithChecksumUpdate: write a 16-bit value at absolute offset `at` inside the segment (an
   * option field, e.g. MSS clamping) and fix the checksum. A value at an odd distance from the segment
   * start contributes byte-swapped to the sum (RFC 1071 §2(B)), and is updated so. (Linux's
   * xt_TCPMSS updates as if the field were aligned; callers that must reproduce that use
   * checksumUpdate16 directly.)
   */
  set16WithChecksumUpdate(at: number, v: number): void {
    const b = this.buf;
    const old = get16(b, at);
    put16(b, at, v);
    const nv = v & 0xffff;
    if (((at - this.off) & 1) === 0) {
      this.setChecksum(checksumUpdate16(this.checksum, old, nv));
    } else {
      this.setChecksum(checksumUpdate16(this.checksum, swap16(old), swap16(nv)));
    }
  }
  /**
   * adjustChecksumForAddrChange: fix the checksum after an address of the pseudo header changed
   * (`nWords` 1 for IPv4, 4 for IPv6).
   */
  adjustChecksumForAddrChange(oldAddr: Int32Array, newAddr: Int32Array, nWords: number): void {
    this.setChecksum(checksumUpdateAddr(this.checksum, oldAddr, newAddr, nWords));
  }
  /** adjustChecksumForAddrChangeV4: as adjustChecksumForAddrChange, for an int32 IPv4 address. */
  adjustChecksumForAddrChangeV4(oldAddr: number, newAddr: number): void {
    this.setChecksum(checksumUpdate32(this.checksum, oldAddr, newAddr));
  }
}

/**
 * TcpOptionIter: walks TCP options without allocating, as Linux's tcp_options/tcp_parse_options do:
 *
 *   const it = tcp.options(iter);
 *   while (it.next()) { it.kind; it.optOff; it.optLen; it.dataOff }
 *
 * NOP is reported (length 1); EOL ends the walk; a length byte below 2 or running past the header ends
 * the walk with `malformed = true` (Linux: "silly options", "don't parse partial options").
 */
export class TcpOptionIter extends TlvOptionIter {
  /** kind byte of the current option */
  get kind(): number {
    return this.code;
  }

  /** absolute offset of the option's data (after kind and length) */
  get dataOff(): number {
    return this.optOff + 2;
  }
  /** data as a 16-bit value (MSS) */
  get data16(): number {
    return get16(this.buf, this.optOff + 2);
  }
  /** data byte 0 (window scale shift) */
  get data8(): number {
    return this.buf[this.optOff + 2];
  }
  /** the 32-bit data word at `i` (timestamps: 0 = TSval, 1 = TSecr; SACK: edges) */
  data32(i: number): number {
    return get32(this.buf, this.optOff + 2 + 4 * i);
  }
}

/** TcpRepr: the owned fields of a TCP header and its known options (slow path, tests, emit). */
export class TcpRepr {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  urgent = 0;
  /** -1: absent */
  mss = -1;
  /** -1: absent */
  wscale = -1;
  sackPerm = false;
  /** SACK edges, pairs [left0, right0, left1, right1, ...] (int32) */
  sack: number[] = [];
  hasTs = false;
  tsVal = 0;
  tsEcr = 0;
  /** data offset in bytes as parsed */
  headerLen = TCP_MIN_HEADER_LEN;
  payloadLen = 0;

  /** parse: fill from a view; returns check() (Ok) or BadOptions for a malformed option list. */
  parse(h: TcpHeader): number {
    const st = h.check();
    if (st !== WireStatus.Ok) return st;
    this.srcPort = h.srcPort;
    this.dstPort = h.dstPort;
    this.seq = h.seqNumber;
    this.ack = h.ackNumber;
    this.flags = h.flags;
    this.window = h.windowLen;
    this.urgent = h.urgentPointer;
    this.headerLen = h.headerLen;
    this.payloadLen = h.payloadLen;
    this.mss = -1;
    this.wscale = -1;
    this.sackPerm = false;
    this.sack = [];
    this.hasTs = false;
    const it = h.options(new TcpOptionIter());
    while (it.next()) {
      switch (it.kind) {
        case TCPOPT_MSS:
          if (it.optLen === 4) this.mss = it.data16;
          break;
        case TCPOPT_WINDOW:
          if (it.optLen === 3) this.wscale = it.data8;
          break;
        case TCPOPT_SACK_PERM:
          if (it.optLen === 2) this.sackPerm = true;
          break;
        case TCPOPT_SACK:
          if (it.optLen >= 10 && ((it.optLen - 2) & 7) === 0) {
            for (let i = 0; i < (it.optLen - 2) >> 2; i++) this.sack.push(it.data32(i));
          }
          break;
        case TCPOPT_TIMESTAMP:
          if (it.optLen === 10) {
            this.hasTs = true;
            this.tsVal = it.data32(0);
            this.tsEcr = it.data32(1);
          }
          break;
        default:
          break;
      }
    }
    return it.malformed ? WireStatus.BadOptions : WireStatus.Ok;
  }

  private optionBytes(): number[] {
    const v: number[] = [];
    const w32 = (x: number) => v.push((x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
    if (this.mss >= 0) v.push(TCPOPT_MSS, 4, (this.mss >>> 8) & 0xff, this.mss & 0xff);
    if (this.hasTs) {
      if (this.sackPerm) v.push(TCPOPT_SACK_PERM, 2);
      else v.push(TCPOPT_NOP, TCPOPT_NOP);
      v.push(TCPOPT_TIMESTAMP, 10);
      w32(this.tsVal);
      w32(this.tsEcr);
    } else if (this.sackPerm) {
      v.push(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM, 2);
    }
    if (this.wscale >= 0) v.push(TCPOPT_NOP, TCPOPT_WINDOW, 3, this.wscale);
    if (this.sack.length > 0) {
      v.push(TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 2 + 4 * this.sack.length);
      for (const x of this.sack) w32(x);
    }
    while ((v.length & 3) !== 0) v.push(TCPOPT_EOL);
    return v;
  }

  /** bufferLen: header length (with options, Linux's order) in bytes. */
  bufferLen(): number {
    return TCP_MIN_HEADER_LEN + this.optionBytes().length;
  }

  /** emit: write the header at buf[off]; the checksum is left 0 (fill it with TcpHeader.fillChecksum). */
  emit(buf: Uint8Array, off: number): void {
    const opts = this.optionBytes();
    const hl = TCP_MIN_HEADER_LEN + opts.length;
    const h = new TcpHeader().reset(buf, off, hl);
    h.setSrcPort(this.srcPort);
    h.setDstPort(this.dstPort);
    h.setSeqNumber(this.seq);
    h.setAckNumber(this.ack);
    buf[off + 12] = (hl >> 2) << 4;
    h.setFlags(this.flags);
    h.setWindowLen(this.window);
    h.setChecksum(0);
    h.setUrgentPointer(this.urgent);
    buf.set(opts, off + TCP_MIN_HEADER_LEN);
  }
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}
