/**
 * Ipv6Header: a zero-copy flyweight view over the fixed IPv6 header; Ipv6ExtIter: an allocation-free
 * walk over its extension headers; Ipv6Repr: the owned form.
 *
 * Contract: after `check()` returns WireStatus.Ok, the fixed header's accessors read inside the buffer
 * and 40 + payloadLen bytes are present (unless the packet is a jumbogram: payload length 0 with a
 * hop-by-hop header, whose length is in the jumbo option; see parse.ts). IPv6 has no header checksum:
 * rewriting an address changes the transport checksum through the pseudo header, which the transport
 * views' `...WithChecksumUpdate` methods handle.
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * |                 Source Address (128 bits)                     |
 * |              Destination Address (128 bits)                   |   (RFC 8200 §3)
 */
import { get16, get32, put16, put32, readAddr6, writeAddr6 } from "./bytes.js";
import { HeaderView } from "./header-view.js";
import { IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING } from "./ip-protocol.js";
import { EMPTY_BYTES, WireStatus } from "./packet-info.js";

export const IPV6_HEADER_LEN = 40;
export const IPV6_FRAG_HEADER_LEN = 8;
/** minimum link MTU (RFC 8200 §5) */
export const IPV6_MIN_MTU = 1280;

export class Ipv6Header extends HeaderView {
  /** check: version 6, fixed header present, payload length within the available bytes (ip6_rcv_core). */
  check(): number {
    if (this.len < IPV6_HEADER_LEN) return WireStatus.Truncated;
    const b = this.buf;
    const o = this.off;
    if (b[o] >> 4 !== 6) return WireStatus.BadVersion;
    const pl = get16(b, o + 4);
    if (pl === 0 && b[o + 6] === IPPROTO_HOPOPTS) return WireStatus.Ok; // jumbogram candidate
    if (IPV6_HEADER_LEN + pl > this.len) return WireStatus.BadTotalLen;
    return WireStatus.Ok;
  }

  get version(): number {
    return this.buf[this.off] >> 4;
  }
  get trafficClass(): number {
    const b = this.buf;
    return ((b[this.off] & 0x0f) << 4) | (b[this.off + 1] >> 4);
  }
  get flowLabel(): number {
    const b = this.buf;
    const o = this.off;
    return ((b[o + 1] & 0x0f) << 16) | (b[o + 2] << 8) | b[o + 3];
  }
  get payloadLen(): number {
    return get16(this.buf, this.off + 4);
  }
  get nextHeader(): number {
    return this.buf[this.off + 6];
  }
  get hopLimit(): number {
    return this.buf[this.off + 7];
  }
  /** srcAddr: copy the source address into `out` (four int32 words). */
  srcAddr(out: Int32Array): Int32Array {
    readAddr6(this.buf, this.off + 8, out);
    return out;
  }
  dstAddr(out: Int32Array): Int32Array {
    readAddr6(this.buf, this.off + 24, out);
    return out;
  }
  /** srcWord(i): word i (0..3) of the source address */
  srcWord(i: number): number {
    return get32(this.buf, this.off + 8 + 4 * i);
  }
  dstWord(i: number): number {
    return get32(this.buf, this.off + 24 + 4 * i);
  }
  get payloadOff(): number {
    return this.off + IPV6_HEADER_LEN;
  }

  setTrafficClass(v: number): void {
    const b = this.buf;
    const o = this.off;
    b[o] = (b[o] & 0xf0) | ((v >> 4) & 0x0f);
    b[o + 1] = ((v & 0x0f) << 4) | (b[o + 1] & 0x0f);
  }
  setFlowLabel(v: number): void {
    const b = this.buf;
    const o = this.off;
    b[o + 1] = (b[o + 1] & 0xf0) | ((v >> 16) & 0x0f);
    put16(b, o + 2, v);
  }
  setVersionTcFlow(tc: number, flow: number): void {
    put32(this.buf, this.off, (6 << 28) | ((tc & 0xff) << 20) | (flow & 0xfffff));
  }
  setPayloadLen(v: number): void {
    put16(this.buf, this.off + 4, v);
  }
  setNextHeader(v: number): void {
    this.buf[this.off + 6] = v & 0xff;
  }
  setHopLimit(v: number): void {
    this.buf[this.off + 7] = v & 0xff;
  }
  setSrcAddr(w: ArrayLike<number>): void {
    writeAddr6(this.buf, this.off + 8, w);
  }
  setDstAddr(w: ArrayLike<number>): void {
    writeAddr6(this.buf, this.off + 24, w);
  }

  /** extHeaders: start a reusable iterator over the extension headers (bounded by the payload length). */
  extHeaders(it: Ipv6ExtIter): Ipv6ExtIter {
    const pl = this.payloadLen;
    const end = pl === 0 && this.nextHeader === IPPROTO_HOPOPTS ? this.len : IPV6_HEADER_LEN + pl;
    return it.reset(this.buf, this.off + IPV6_HEADER_LEN, this.off + Math.min(end, this.len), this.nextHeader);
  }
}

/**
 * Ipv6ExtIter: walks the extension headers Linux's ipv6_skip_exthdr walks (hop-by-hop, routing,
 * destination options, fragment, AH):
 *
 *   const it = ip6.extHeaders(iter);
 *   while (it.next()) { it.type; it.hdrOff; it.hdrLen; it.nextHeader }
 *   // then: it.upperProto / it.upperOff (status in it.status)
 *
 * The walk stops at the first header that is not an extension header (the upper-layer protocol), at a
 * non-first fragment's fragment header (Linux stops there too; `it.upperProto` is then its next header
 * and `it.nonFirstFragment` is true), at 59 (no next header), or at a truncated header (`status`
 * becomes BadExtHeader).
 */
export class Ipv6ExtIter {
  buf: Uint8Array = EMPTY_BYTES;
  /** the current extension header: type (its own protocol number), absolute offset, length in bytes */
  type = 0;
  hdrOff = 0;
  hdrLen = 0;
  /** the current header's next-header field */
  nextHeader = 0;
  /** once next() returned false: the upper-layer protocol and its offset */
  upperProto = 0;
  upperOff = 0;
  /** absolute offset of the next-header byte that names the upper-layer protocol */
  upperProtoFieldOff = 0;
  nonFirstFragment = false;
  status: number = WireStatus.Ok;
  private pos = 0;
  private end = 0;
  private nh = 0;

  /** reset: walk from `off` (the first extension header, or the upper layer) to `end`, starting with `nh`. */
  reset(buf: Uint8Array, off: number, end: number, nh: number): this {
    this.buf = buf;
    this.pos = off;
    this.end = end;
    this.nh = nh;
    this.type = 0;
    this.hdrOff = off;
    this.hdrLen = 0;
    this.nextHeader = nh;
    this.upperProto = nh;
    this.upperOff = off;
    this.upperProtoFieldOff = off - IPV6_HEADER_LEN + 6;
    this.nonFirstFragment = false;
    this.status = WireStatus.Ok;
    return this;
  }

  next(): boolean {
    if (this.status !== WireStatus.Ok || this.nonFirstFragment) return false;
    const nh = this.nh;
    const p = this.pos;
    const b = this.buf;
    let hl: number;
    switch (nh) {
      case IPPROTO_HOPOPTS:
      case IPPROTO_ROUTING:
      case IPPROTO_DSTOPTS:
        if (p + 2 > this.end) return this.fail();
        hl = (b[p + 1] + 1) << 3;
        break;
      case IPPROTO_AH:
        if (p + 2 > this.end) return this.fail();
        hl = (b[p + 1] + 2) << 2;
        break;
      case IPPROTO_FRAGMENT:
        hl = IPV6_FRAG_HEADER_LEN;
        break;
      default:
        this.upperProto = nh;
        this.upperOff = p;
        return false;
    }
    if (p + hl > this.end) return this.fail();
    this.type = nh;
    this.hdrOff = p;
    this.hdrLen = hl;
    this.nextHeader = b[p];
    this.upperProtoFieldOff = p;
    this.nh = b[p];
    this.pos = p + hl;
    this.upperProto = this.nh;
    this.upperOff = this.pos;
    if (nh === IPPROTO_FRAGMENT && (get16(b, p + 2) & 0xfff8) !== 0) this.nonFirstFragment = true;
    return true;
  }

  private fail(): boolean {
    this.status = WireStatus.BadExtHeader;
    return false;
  }

  // ---- fragment header fields (valid when type === IPPROTO_FRAGMENT) ----
  /** fragment offset in bytes */
  get fragOffset(): number {
    return get16(this.buf, this.hdrOff + 2) & 0xfff8;
  }
  get fragMore(): boolean {
    return (this.buf[this.hdrOff + 3] & 1) !== 0;
  }
  /** fragment identification (int32) */
  get fragIdent(): number {
    return get32(this.buf, this.hdrOff + 4);
  }

  // ---- routing header fields (valid when type === IPPROTO_ROUTING) ----
  get routingType(): number {
    return this.buf[this.hdrOff + 2];
  }
  get segmentsLeft(): number {
    return this.buf[this.hdrOff + 3];
  }
}

/** Ipv6Repr: the owned fields of a fixed IPv6 header (slow path, tests, emit). */
export class Ipv6Repr {
  readonly src: Int32Array = new Int32Array(4);
  readonly dst: Int32Array = new Int32Array(4);
  nextHeader = 0;
  hopLimit = 64;
  trafficClass = 0;
  flowLabel = 0;
  payloadLen = 0;

  parse(h: Ipv6Header): number {
    const st = h.check();
    if (st !== WireStatus.Ok) return st;
    h.srcAddr(this.src);
    h.dstAddr(this.dst);
    this.nextHeader = h.nextHeader;
    this.hopLimit = h.hopLimit;
    this.trafficClass = h.trafficClass;
    this.flowLabel = h.flowLabel;
    this.payloadLen = h.payloadLen;
    return WireStatus.Ok;
  }

  bufferLen(): number {
    return IPV6_HEADER_LEN;
  }

  emit(buf: Uint8Array, off: number): void {
    const h = new Ipv6Header().reset(buf, off, IPV6_HEADER_LEN);
    h.setVersionTcFlow(this.trafficClass, this.flowLabel);
    h.setPayloadLen(this.payloadLen);
    h.setNextHeader(this.nextHeader);
    h.setHopLimit(this.hopLimit);
    h.setSrcAddr(this.src);
    h.setDstAddr(this.dst);
  }
}
