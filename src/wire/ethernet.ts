/**
 * EthernetFrame: a zero-copy flyweight view over an Ethernet II frame with any stack of 802.1Q
 * (TPID 0x8100) and 802.1ad (TPID 0x88a8) tags, the two TPIDs Linux treats as VLAN tags
 * (`eth_type_vlan`).
 *
 * Contract: after `check()` returns WireStatus.Ok, the MAC addresses, every tag and the inner
 * EtherType are inside the buffer, and `payloadOff` is where the inner protocol starts. A frame whose
 * type field is below 0x0600 is an IEEE 802.3 length frame (LLC follows): `isLlc` is then true.
 *
 * | destination MAC (6) | source MAC (6) | [TPID (2) TCI (2)]* | EtherType (2) | payload ...
 */
import { get16, put16 } from "./bytes.js";
import { HeaderView } from "./header-view.js";
import { WireStatus } from "./packet-info.js";

export const ETH_HEADER_LEN = 14;
export const ETH_ALEN = 6;
export const VLAN_TAG_LEN = 4;

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_RARP = 0x8035;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_LLDP = 0x88cc;
export const ETH_P_PPP_SES = 0x8864;
export const ETH_P_MPLS_UC = 0x8847;
/** values below this in the type field are 802.3 lengths (IEEE 802.3 §3.2.6) */
export const ETH_P_802_3_MIN = 0x0600;

/** isVlanTpid: Linux eth_type_vlan: 802.1Q or 802.1ad. */
export function isVlanTpid(t: number): boolean {
  return t === ETH_P_8021Q || t === ETH_P_8021AD;
}

export class EthernetFrame extends HeaderView {
  /** number of VLAN tags (set by check()) */
  tagCount = 0;
  /** absolute offset of the inner EtherType field (set by check()) */
  typeOff = 0;

  override reset(buf: Uint8Array, off: number, len: number): this {
    super.reset(buf, off, len);
    this.tagCount = 0;
    this.typeOff = off + 12;
    return this;
  }

  /** check: the header and all tags are present. */
  check(): number {
    if (this.len < ETH_HEADER_LEN) return WireStatus.Truncated;
    const b = this.buf;
    const end = this.off + this.len;
    let p = this.off + 12;
    let n = 0;
    while (isVlanTpid(get16(b, p))) {
      if (p + VLAN_TAG_LEN + 2 > end) {
        this.tagCount = n;
        this.typeOff = p;
        return WireStatus.Truncated;
      }
      n++;
      p += VLAN_TAG_LEN;
    }
    this.tagCount = n;
    this.typeOff = p;
    return WireStatus.Ok;
  }

  get dstMacOff(): number {
    return this.off;
  }
  get srcMacOff(): number {
    return this.off + ETH_ALEN;
  }
  /** destination is ff:ff:ff:ff:ff:ff */
  get isBroadcast(): boolean {
    const b = this.buf;
    const o = this.off;
    return (b[o] & b[o + 1] & b[o + 2] & b[o + 3] & b[o + 4] & b[o + 5]) === 0xff;
  }
  /** destination is a group address (I/G bit set; broadcast included) */
  get isMulticast(): boolean {
    return (this.buf[this.off] & 1) !== 0;
  }
  /** the outer type field (a TPID when tagged) */
  get outerType(): number {
    return get16(this.buf, this.off + 12);
  }
  /** the EtherType after all tags (or an 802.3 length) */
  get etherType(): number {
    return get16(this.buf, this.typeOff);
  }
  get isLlc(): boolean {
    return this.etherType < ETH_P_802_3_MIN;
  }
  /** TPID of tag i (0 = outermost) */
  tagTpid(i: number): number {
    return get16(this.buf, this.off + 12 + VLAN_TAG_LEN * i);
  }
  /** TCI of tag i: PCP (3 bits), DEI (1), VID (12) */
  tagTci(i: number): number {
    return get16(this.buf, this.off + 14 + VLAN_TAG_LEN * i);
  }
  /** VLAN id of tag i */
  vlanId(i: number): number {
    return this.tagTci(i) & 0x0fff;
  }
  get payloadOff(): number {
    return this.typeOff + 2;
  }
  get payloadLen(): number {
    return this.off + this.len - this.typeOff - 2;
  }

  setEtherType(v: number): void {
    put16(this.buf, this.typeOff, v);
  }
  /** setDstMac / setSrcMac: copy 6 bytes from `mac` at `macOff`. */
  setDstMac(mac: Uint8Array, macOff = 0): void {
    for (let i = 0; i < ETH_ALEN; i++) this.buf[this.off + i] = mac[macOff + i];
  }
  setSrcMac(mac: Uint8Array, macOff = 0): void {
    for (let i = 0; i < ETH_ALEN; i++) this.buf[this.off + ETH_ALEN + i] = mac[macOff + i];
  }
}

/** formatMac: "aa:bb:cc:dd:ee:ff" for the 6 bytes at buf[off] (slow path). */
export function formatMac(buf: Uint8Array, off: number): string {
  let s = "";
  for (let i = 0; i < ETH_ALEN; i++) {
    if (i > 0) s += ":";
    s += buf[off + i].toString(16).padStart(2, "0");
  }
  return s;
}

/**
 * parseMac: "aa:bb:cc:dd:ee:ff" (or with "-") to 6 bytes.
 * @throws Error for anything else (configuration input).
 */
export function parseMac(s: string): Uint8Array {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new Error(`not a MAC address: ${JSON.stringify(s)}`);
  }
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}
