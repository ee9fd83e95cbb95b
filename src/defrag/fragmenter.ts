/**
 * Output fragmentation as Linux does it after POSTROUTING (ip_finish_output -> ip_fragment ->
 * ip_do_fragment; __ip6_finish_output -> ip6_fragment), including what happens to packets that
 * nf_defrag reassembled (they carry a FragInfo: frag_max_size and the original fragment lengths):
 *
 * IPv4
 * - A packet is fragmented when it exceeds the MTU or was reassembled (frag_max_size set). With DF
 *   set it is refused (ICMP "fragmentation needed", reported as NeedFrag) unless ignore_df is set and
 *   frag_max_size fits the MTU; nf_defrag sets ignore_df on every reassembled packet.
 * - The fragment size is min(MTU, frag_max_size). When the original fragments still fit (every data
 *   piece <= size - header, all but the last a multiple of 8), Linux's frag_list fast path sends them
 *   again with their original boundaries; these fragments never carry DF (measured: DF fragments in,
 *   no DF out). Otherwise the slow path cuts the data into pieces of (size - header) & ~7, with DF when
 *   the reassembled packet had IPSKB_FRAG_PMTU.
 * - Every fragment copies the IPv4 header (identification included); from the second fragment on,
 *   options without the "copied" bit are overwritten with NOPs (ip_options_fragment). Total length,
 *   offset/MF and the header checksum are set per fragment.
 *
 * IPv6
 * - A packet is fragmented when it exceeds the MTU, or is longer than its frag_max_size. It is refused
 *   (ICMPv6 packet too big) when frag_max_size exceeds the MTU, or when it exceeds the MTU without
 *   ignore_df.
 * - The fragment size is frag_max_size (at least 1280) when set, else the MTU. The unfragmentable part
 *   is found as ip6_find_1stfragopt finds it (hop-by-hop, routing, and destination options unless they
 *   follow a routing header); a fragment header with a NEW identification (Linux draws it at random;
 *   the caller passes it) follows it in every fragment. Fast path and slow path as for IPv4.
 *
 * hot path: fragments are written one at a time into a reused buffer and handed to `sink`, which must
 * copy them before returning.
 */
import { internetChecksum } from "../wire/checksum.js";
import { IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING } from "../wire/ip-protocol.js";
import type { FragInfo } from "./reassembler.js";

/** FragOutput: what became of a packet given to ipv4Output / ipv6Output. */
export const FragOutput = {
  /** sent whole (one call of sink) */
  Whole: 0,
  /** sent as fragments (`fragmentCount` calls of sink) */
  Fragmented: 1,
  /** refused: the caller sends ICMP fragmentation needed / ICMPv6 packet too big with `needMtu` */
  NeedFrag: 2,
  /** dropped (unparseable headers) */
  Drop: 3,
} as const;
export type FragOutput = (typeof FragOutput)[keyof typeof FragOutput];

/** IPV6_MIN_MTU: RFC 8200 §5. */
const IPV6_MIN_MTU = 1280;

/** A sink receives each outgoing packet or fragment: bytes buf[off, off + len), valid during the call. */
export type FragmentSink = (buf: Uint8Array, off: number, len: number) => void;

/**
 * ipv4ExceedsMtu: Linux ip_exceeds_mtu, checked by ip_forward before the TTL is decremented: true
 * means the gateway answers ICMP fragmentation needed and drops the packet.
 */
export function ipv4ExceedsMtu(
  buf: Uint8Array,
  off: number,
  len: number,
  mtu: number,
  info: FragInfo | null,
  ignoreDf: boolean,
): boolean {
  if (len <= mtu) return false;
  if ((buf[off + 6] & 0x40) === 0) return false;
  // an original fragment exceeds the MTU and DF is set
  if (info !== null && info.fragMaxSize > mtu) return true;
  if (ignoreDf) return false;
  return true;
}

/** ipv6PktTooBig: Linux ip6_pkt_too_big, checked by ip6_forward (true: ICMPv6 packet too big). */
export function ipv6PktTooBig(len: number, mtu: number, info: FragInfo | null, ignoreDf: boolean): boolean {
  if (len <= mtu) return false;
  if (info !== null && info.fragMaxSize > mtu) return true;
  if (ignoreDf) return false;
  return true;
}

/**
 * ipv6FindFirstFragOpt: Linux ip6_find_1stfragopt: the length of the unfragmentable part of the IPv6
 * packet at buf[off] (len bytes), and in `nhOut[0]` the offset (from `off`) of the next-header byte
 * that will name the fragment header. Returns -1 for a malformed chain.
 */
export function ipv6FindFirstFragOpt(buf: Uint8Array, off: number, len: number, nhOut: Int32Array): number {
  let offset = 40;
  let nhAt = 6;
  let foundRouting = false;
  while (offset <= len) {
    const nh = buf[off + nhAt];
    if (nh === IPPROTO_HOPOPTS) {
      // unfragmentable
    } else if (nh === IPPROTO_ROUTING) {
      foundRouting = true;
    } else if (nh === IPPROTO_DSTOPTS) {
      if (foundRouting) break;
    } else {
      break;
    }
    if (offset + 2 > len) return -1;
    nhAt = offset;
    offset += (buf[off + offset + 1] + 1) << 3;
    if (offset > 65535) return -1;
  }
  if (offset > len) return -1;
  nhOut[0] = nhAt;
  return offset;
}

export class Fragmenter {
  /** the fragment being emitted (reused) */
  private frag: Uint8Array = new Uint8Array(2048);
  private readonly nh = new Int32Array(1);
  private hdr: Uint8Array = new Uint8Array(64);
  /** after Fragmented: number of fragments sent */
  fragmentCount = 0;
  /** after NeedFrag: the MTU to report */
  needMtu = 0;
  /** after Fragmented: whether the original-geometry fast path was used */
  fastPath = false;

  private fragBuf(n: number): Uint8Array {
    if (this.frag.length < n) this.frag = new Uint8Array(Math.max(n, this.frag.length * 2));
    return this.frag;
  }

  /**
   * ipv4Output: send the IPv4 packet buf[off, off + len) out of an interface with `mtu` (Linux
   * ip_finish_output for a non-GSO packet). `info` is the FragInfo of a reassembled packet (null
   * otherwise); `ignoreDf` Linux's skb->ignore_df (true for reassembled packets).
   */
  ipv4Output(
    buf: Uint8Array,
    off: number,
    len: number,
    mtu: number,
    info: FragInfo | null,
    ignoreDf: boolean,
    sink: FragmentSink,
  ): number {
    this.fragmentCount = 0;
    this.fastPath = false;
    const fms = info !== null ? info.fragMaxSize : 0;
    if (len <= mtu && fms === 0) {
      sink(buf, off, len);
      return FragOutput.Whole;
    }
    // ip_fragment
    if ((buf[off + 6] & 0x40) !== 0 && (!ignoreDf || (fms !== 0 && fms > mtu))) {
      this.needMtu = mtu;
      return FragOutput.NeedFrag;
    }
    // ip_do_fragment
    let m = mtu;
    if (fms !== 0 && fms < m) m = fms;
    const hlen = (buf[off] & 0x0f) << 2;
    if (hlen < 20 || hlen > len) return FragOutput.Drop;
    m -= hlen;
    if (m < 8) {
      this.needMtu = mtu;
      return FragOutput.NeedFrag;
    }
    const isFrag = (((buf[off + 6] << 8) | buf[off + 7]) & 0x3fff) !== 0;
    if (info !== null && info.pieceCount > 1 && !isFrag && this.v4FastPathFits(info, m, len - hlen)) {
      this.v4FastPath(buf, off, len, hlen, info, sink);
      return FragOutput.Fragmented;
    }
    this.v4SlowPath(buf, off, len, hlen, m, info?.pmtu === true, sink);
    return FragOutput.Fragmented;
  }

  private v4FastPathFits(info: FragInfo, m: number, dataLen: number): boolean {
    let sum = 0;
    for (let i = 0; i < info.pieceCount; i++) {
      const l = info.pieceLen[i];
      const last = i === info.pieceCount - 1;
      if (l > m || ((l & 7) !== 0 && !last)) return false;
      sum += l;
    }
    return sum === dataLen;
  }

  private v4FastPath(
    buf: Uint8Array,
    off: number,
    len: number,
    hlen: number,
    info: FragInfo,
    sink: FragmentSink,
  ): void {
    this.fastPath = true;
    const hdr = this.headerCopy(buf, off, hlen);
    let dataOff = off + hlen;
    let offset = 0;
    for (let i = 0; i < info.pieceCount; i++) {
      const l = info.pieceLen[i];
      const last = i === info.pieceCount - 1;
      const f = this.fragBuf(hlen + l);
      f.set(hdr.subarray(0, hlen), 0);
      f.set(buf.subarray(dataOff, dataOff + l), hlen);
      const tot = hlen + l;
      f[2] = tot >>> 8;
      f[3] = tot & 0xff;
      // ip_fraglist_init / ip_fraglist_prepare: offset and MF only (DF is not kept)
      const fo = (offset >> 3) | (last ? 0 : 0x2000);
      f[6] = fo >>> 8;
      f[7] = fo & 0xff;
      setChecksum(f, 0, hlen);
      sink(f, 0, tot);
      this.fragmentCount++;
      // the second fragment's header gets the non-copied options removed; later ones inherit it
      if (i === 0 && hlen > 20) ipv4OptionsFragment(hdr, 0, hlen);
      dataOff += l;
      offset += l;
    }
    void len;
  }

  private v4SlowPath(
    buf: Uint8Array,
    off: number,
    len: number,
    hlen: number,
    m: number,
    df: boolean,
    sink: FragmentSink,
  ): void {
    const hdr = this.headerCopy(buf, off, hlen);
    const ff = (buf[off + 6] << 8) | buf[off + 7];
    let offset = (ff & 0x1fff) << 3;
    const notLast = (ff & 0x2000) !== 0;
    let left = len - hlen;
    let ptr = off + hlen;
    let first = true;
    while (left > 0) {
      let l = left;
      if (l > m) l = m;
      if (l < left) l &= ~7;
      const f = this.fragBuf(hlen + l);
      f.set(hdr.subarray(0, hlen), 0);
      f.set(buf.subarray(ptr, ptr + l), hlen);
      left -= l;
      let fo = offset >> 3;
      if (df) fo |= 0x4000;
      if (left > 0 || notLast) fo |= 0x2000;
      f[6] = fo >>> 8;
      f[7] = fo & 0xff;
      const tot = hlen + l;
      f[2] = tot >>> 8;
      f[3] = tot & 0xff;
      setChecksum(f, 0, hlen);
      sink(f, 0, tot);
      this.fragmentCount++;
      if (first && hlen > 20) ipv4OptionsFragment(hdr, 0, hlen);
      first = false;
      ptr += l;
      offset += l;
    }
  }

  private headerCopy(buf: Uint8Array, off: number, n: number): Uint8Array {
    if (this.hdr.length < n) this.hdr = new Uint8Array(n);
    this.hdr.set(buf.subarray(off, off + n), 0);
    return this.hdr;
  }

  /**
   * ipv6Output: send the IPv6 packet buf[off, off + len) out of an interface with `mtu` (Linux
   * __ip6_finish_output). `fragId` is the identification for new fragment headers (Linux
   * ipv6_select_ident: random), used only if the packet is fragmented.
   */
  ipv6Output(
    buf: Uint8Array,
    off: number,
    len: number,
    mtu: number,
    info: FragInfo | null,
    ignoreDf: boolean,
    fragId: number,
    sink: FragmentSink,
  ): number {
    this.fragmentCount = 0;
    this.fastPath = false;
    const fms = info !== null ? info.fragMaxSize : 0;
    if (!(len > mtu || (fms !== 0 && len > fms))) {
      sink(buf, off, len);
      return FragOutput.Whole;
    }
    // ip6_fragment
    const hlen = ipv6FindFirstFragOpt(buf, off, len, this.nh);
    if (hlen < 0) return FragOutput.Drop;
    const nhAt = this.nh[0];
    const nexthdr = buf[off + nhAt];
    if (!ignoreDf && len > mtu) {
      this.needMtu = mtu;
      return FragOutput.NeedFrag;
    }
    let m = mtu;
    if (fms !== 0) {
      if (fms > mtu) {
        this.needMtu = mtu;
        return FragOutput.NeedFrag;
      }
      // never send fragments larger than those received
      m = Math.max(fms, IPV6_MIN_MTU);
    }
    if (m < hlen + 8 + 8) {
      this.needMtu = mtu;
      return FragOutput.NeedFrag;
    }
    m -= hlen + 8;
    const hdr = this.headerCopy(buf, off, hlen);
    hdr[nhAt] = IPPROTO_FRAGMENT;
    if (info !== null && info.pieceCount > 1) {
      const firstData = info.headLen + info.pieceLen[0] - hlen;
      if (this.v6FastPathFits(info, firstData, m, len - hlen)) {
        this.fastPath = true;
        let dataOff = off + hlen;
        let offset = 0;
        for (let i = 0; i < info.pieceCount; i++) {
          const l = i === 0 ? firstData : info.pieceLen[i];
          const last = i === info.pieceCount - 1;
          this.v6Emit(hdr, hlen, nexthdr, offset, !last, fragId, buf, dataOff, l, sink);
          dataOff += l;
          offset += l;
        }
        return FragOutput.Fragmented;
      }
    }
    let left = len - hlen;
    let ptr = off + hlen;
    let offset = 0;
    while (left > 0) {
      let l = left;
      if (l > m) l = m;
      if (l < left) l &= ~7;
      left -= l;
      this.v6Emit(hdr, hlen, nexthdr, offset, left > 0, fragId, buf, ptr, l, sink);
      ptr += l;
      offset += l;
    }
    return FragOutput.Fragmented;
  }

  private v6FastPathFits(info: FragInfo, firstData: number, m: number, dataLen: number): boolean {
    if (firstData <= 0 || firstData > m || (firstData & 7) !== 0) return false;
    let sum = firstData;
    for (let i = 1; i < info.pieceCount; i++) {
      const l = info.pieceLen[i];
      const last = i === info.pieceCount - 1;
      if (l > m || ((l & 7) !== 0 && !last)) return false;
      sum += l;
    }
    return sum === dataLen;
  }

  private v6Emit(
    hdr: Uint8Array,
    hlen: number,
    nexthdr: number,
    offset: number,
    more: boolean,
    fragId: number,
    buf: Uint8Array,
    from: number,
    l: number,
    sink: FragmentSink,
  ): void {
    const tot = hlen + 8 + l;
    const f = this.fragBuf(tot);
    f.set(hdr.subarray(0, hlen), 0);
    const fh = hlen;
    f[fh] = nexthdr;
    f[fh + 1] = 0;
    const fo = (offset & 0xfff8) | (more ? 1 : 0);
    f[fh + 2] = fo >>> 8;
    f[fh + 3] = fo & 0xff;
    f[fh + 4] = (fragId >>> 24) & 0xff;
    f[fh + 5] = (fragId >>> 16) & 0xff;
    f[fh + 6] = (fragId >>> 8) & 0xff;
    f[fh + 7] = fragId & 0xff;
    f.set(buf.subarray(from, from + l), fh + 8);
    const pl = tot - 40;
    f[4] = pl >>> 8;
    f[5] = pl & 0xff;
    sink(f, 0, tot);
    this.fragmentCount++;
  }
}

function setChecksum(f: Uint8Array, off: number, hlen: number): void {
  f[off + 10] = 0;
  f[off + 11] = 0;
  const c = internetChecksum(f, off, hlen);
  f[off + 10] = c >>> 8;
  f[off + 11] = c & 0xff;
}

/**
 * ipv4OptionsFragment: Linux ip_options_fragment on the header at h[off]: options whose type lacks the
 * "copied" bit become NOPs (they belong to the first fragment only). Stops at END or a malformed length.
 */
export function ipv4OptionsFragment(h: Uint8Array, off: number, hlen: number): void {
  let p = off + 20;
  let l = hlen - 20;
  while (l > 0) {
    const t = h[p];
    if (t === 0) return;
    if (t === 1) {
      p++;
      l--;
      continue;
    }
    const ol = h[p + 1];
    if (ol < 2 || ol > l) return;
    if ((t & 0x80) === 0) h.fill(1, p, p + ol);
    l -= ol;
    p += ol;
  }
}
