/**
 * UdpHeader: a zero-copy flyweight view over a UDP (or UDP-Lite) datagram; UdpRepr: the owned form.
 *
 * Contract: `reset(buf, off, len)` views `len` bytes (the IP payload); after `check()` returns
 * WireStatus.Ok the 8-byte header is inside the buffer and the length field is consistent (Linux
 * udp_error: 8 <= length <= IP payload; UDP-Lite: coverage 0 or 8..payload). The `...WithChecksumUpdate`
 * setters follow Linux's udp_manip_pkt: a zero checksum (none, allowed in IPv4) is left alone, and a
 * result of zero is stored as 0xffff.
 *
 *  0      7 8     15 16    23 24    31
 * |     Source      |   Destination   |
 * |      Port       |      Port       |
 * |     Length      |    Checksum     |   (RFC 768; UDP-Lite RFC 3828: Length = Checksum Coverage)
 */
import { get16, put16 } from "./bytes.js";
import {
  finishChecksum,
  foldSum,
  sumBytes,
  udpChecksumUpdate16,
  udpChecksumUpdate32,
  udpChecksumUpdateAddr,
} from "./checksum.js";
import { HeaderView } from "./header-view.js";
import { WireStatus } from "./packet-info.js";

export const UDP_HEADER_LEN = 8;

export class UdpHeader extends HeaderView {
  /** true: UDP-Lite semantics (the length field is the checksum coverage) */
  lite = false;

  override reset(buf: Uint8Array, off: number, len: number, lite = false): this {
    super.reset(buf, off, len);
    this.lite = lite;
    return this;
  }

  check(): number {
    if (this.len < UDP_HEADER_LEN) return WireStatus.Truncated;
    const l = get16(this.buf, this.off + 4);
    if (this.lite) {
      // RFC 3828 §3.1: coverage 0 = whole datagram; otherwise at least the header
      if (l !== 0 && (l < UDP_HEADER_LEN || l > this.len)) return WireStatus.BadLength;
    } else if (l < UDP_HEADER_LEN || l > this.len) {
      return WireStatus.BadLength;
    }
    return WireStatus.Ok;
  }

  get srcPort(): number {
    return get16(this.buf, this.off);
  }
  get dstPort(): number {
    return get16(this.buf, this.off + 2);
  }
  /** the length field (UDP-Lite: checksum coverage) */
  get length(): number {
    return get16(this.buf, this.off + 4);
  }
  get checksum(): number {
    return get16(this.buf, this.off + 6);
  }
  get payloadOff(): number {
    return this.off + UDP_HEADER_LEN;
  }
  /** payload length: UDP by the length field; UDP-Lite the rest of the IP payload */
  get payloadLen(): number {
    return (this.lite ? this.len : this.length) - UDP_HEADER_LEN;
  }
  /** bytes the checksum covers */
  get coverage(): number {
    const l = this.length;
    if (this.lite) return l === 0 ? this.len : l;
    return this.len;
  }

  /**
   * verifyChecksum: with the pseudo header sum for length `len` (the IP payload, as Linux's
   * nf_checksum uses). A zero UDP checksum is "none" and passes; callers apply IPv6's rule.
   */
  verifyChecksum(pseudoSum: number): boolean {
    if (this.checksum === 0 && !this.lite) return true;
    return foldSum(sumBytes(this.buf, this.off, this.coverage, pseudoSum)) === 0xffff;
  }
  fillChecksum(pseudoSum: number): void {
    this.setChecksum(0);
    const c = finishChecksum(sumBytes(this.buf, this.off, this.coverage, pseudoSum));
    this.setChecksum(c === 0 ? 0xffff : c);
  }

  setSrcPort(v: number): void {
    put16(this.buf, this.off, v);
  }
  setDstPort(v: number): void {
    put16(this.buf, this.off + 2, v);
  }
  setLength(v: number): void {
    put16(this.buf, this.off + 4, v);
  }
  setChecksum(v: number): void {
    put16(this.buf, this.off + 6, v);
  }

  setSrcPortWithChecksumUpdate(v: number): void {
    const old = this.srcPort;
    this.setSrcPort(v);
    this.setChecksum(udpChecksumUpdate16(this.checksum, old, v & 0xffff));
  }
  setDstPortWithChecksumUpdate(v: number): void {
    const old = this.dstPort;
    this.setDstPort(v);
    this.setChecksum(udpChecksumUpdate16(this.checksum, old, v & 0xffff));
  }
  adjustChecksumForAddrChange(oldAddr: Int32Array, newAddr: Int32Array, nWords: number): void {
    this.setChecksum(udpChecksumUpdateAddr(this.checksum, oldAddr, newAddr, nWords));
  }
  adjustChecksumForAddrChangeV4(oldAddr: number, newAddr: number): void {
    this.setChecksum(udpChecksumUpdate32(this.checksum, oldAddr, newAddr));
  }
}

/** UdpRepr: owned UDP header fields (slow path, tests, emit). */
export class UdpRepr {
  srcPort = 0;
  dstPort = 0;
  /** length field as parsed/emitted (UDP: header + payload) */
  length = UDP_HEADER_LEN;

  parse(h: UdpHeader): number {
    const st = h.check();
    if (st !== WireStatus.Ok) return st;
    this.srcPort = h.srcPort;
    this.dstPort = h.dstPort;
    this.length = h.length;
    return WireStatus.Ok;
  }

  bufferLen(): number {
    return UDP_HEADER_LEN;
  }

  /** emit: the 8-byte header at buf[off]; checksum 0 (fill with UdpHeader.fillChecksum). */
  emit(buf: Uint8Array, off: number): void {
    put16(buf, off, this.srcPort);
    put16(buf, off + 2, this.dstPort);
    put16(buf, off + 4, this.length);
    put16(buf, off + 6, 0);
  }
}
