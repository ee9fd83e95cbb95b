/**
 * Link layer: from a capture's link type (pcap LINKTYPE_* / DLT_*) and one captured frame to the IP
 * packet inside it, through a reused LinkInfo record. Never throws and never allocates: frames that
 * carry no IP (ARP, LLDP, 802.3/LLC, ...) are classified, truncated ones reported.
 *
 * Supported link types (`isSupportedLinkType`):
 * - 1 Ethernet, with any stack of 802.1Q / 802.1ad tags;
 * - 101 raw IP (and 12 / 14, the DLT_RAW values some platforms write), 228 raw IPv4, 229 raw IPv6;
 * - 113 Linux cooked capture (SLL) and 276 SLL2, including their packet-type field;
 * - 0 BSD loopback (4-byte address family in the writer's byte order: AF_INET 2; AF_INET6 10 Linux,
 *   24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin) and 108 OpenBSD loopback (the same, network order).
 *
 * Packet types follow Linux's PACKET_* values (as in the pkttype match): the cooked headers carry
 * them; for Ethernet they are derived from the destination MAC as eth_type_trans does (broadcast,
 * multicast, and, when the receiving interface's MAC is given, host vs otherhost).
 */
import { get16 } from "./bytes.js";
import {
  ETH_ALEN,
  ETH_HEADER_LEN,
  ETH_P_802_3_MIN,
  ETH_P_ARP,
  ETH_P_IP,
  ETH_P_IPV6,
  ETH_P_LLDP,
  ETH_P_RARP,
  isVlanTpid,
  VLAN_TAG_LEN,
} from "./ethernet.js";
import { EMPTY_BYTES, WireStatus } from "./packet-info.js";

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_DLT12 = 12;
export const LINKTYPE_RAW_DLT14 = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const SLL_HEADER_LEN = 16;
export const SLL2_HEADER_LEN = 20;
export const LOOPBACK_HEADER_LEN = 4;

/** Linux PACKET_* packet types (include/uapi/linux/if_packet.h); Unknown when the link cannot tell. */
export const LinkPktType = {
  Host: 0,
  Broadcast: 1,
  Multicast: 2,
  OtherHost: 3,
  Outgoing: 4,
  Loopback: 5,
  Unknown: -1,
} as const;
export type LinkPktType = (typeof LinkPktType)[keyof typeof LinkPktType];

/** What a frame carries. */
export const LinkPayload = {
  None: 0,
  Ipv4: 1,
  Ipv6: 2,
  Arp: 3,
  Rarp: 4,
  Lldp: 5,
  /** IEEE 802.3 length frame (LLC/SNAP: STP, CDP, ...) */
  Llc: 6,
  /** any other EtherType / family */
  Other: 7,
} as const;
export type LinkPayload = (typeof LinkPayload)[keyof typeof LinkPayload];

/** isSupportedLinkType: whether parseLink understands a capture's link type. */
export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LINKTYPE_NULL:
    case LINKTYPE_ETHERNET:
    case LINKTYPE_RAW_DLT12:
    case LINKTYPE_RAW_DLT14:
    case LINKTYPE_RAW:
    case LINKTYPE_LOOP:
    case LINKTYPE_LINUX_SLL:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case LINKTYPE_LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/** LinkInfo: the reused result of parseLink. */
export class LinkInfo {
  /**
   * Ok: an IP packet at l3Off (family 4 or 6); NotIp: a frame without IP (see `payload`); Truncated: the
   * link header is cut; BadVersion: the link says IP but the version nibble disagrees (Linux drops
   * these in ip_rcv / ipv6_rcv).
   */
  status: number = WireStatus.NotIp;
  /** 4, 6, or 0 */
  family = 0;
  /** LinkPayload classification */
  payload: number = LinkPayload.None;
  /** the EtherType (Ethernet, SLL, SLL2) or address family (loopback) the link states; -1 raw */
  etherType = -1;
  /** absolute offset and captured length of the L3 packet */
  l3Off = 0;
  l3Len = 0;
  /** Linux PACKET_* type, LinkPktType.Unknown if the link does not tell */
  pktType: number = LinkPktType.Unknown;
  /** absolute offset of the link-layer header, -1 for raw IP */
  macOff = -1;
  /** bytes of link-layer header before l3Off */
  macLen = 0;
  /** absolute offset of the 6-byte source MAC (Ethernet; cooked with a 6-byte address), -1 otherwise */
  srcMacOff = -1;
  /** absolute offset of the destination MAC (Ethernet only), -1 otherwise */
  dstMacOff = -1;
  /** VLAN tags crossed, and the outermost VLAN id (-1 untagged) */
  vlanCount = 0;
  vlanId = -1;
  /** ARPHRD_* type of a cooked capture, -1 otherwise */
  arphrd = -1;
  /** interface index of an SLL2 capture, -1 otherwise */
  ifIndex = -1;
  /** the bytes parsed */
  buf: Uint8Array = EMPTY_BYTES;

  clear(buf: Uint8Array): void {
    this.status = WireStatus.NotIp;
    this.family = 0;
    this.payload = LinkPayload.None;
    this.etherType = -1;
    this.l3Off = 0;
    this.l3Len = 0;
    this.pktType = LinkPktType.Unknown;
    this.macOff = -1;
    this.macLen = 0;
    this.srcMacOff = -1;
    this.dstMacOff = -1;
    this.vlanCount = 0;
    this.vlanId = -1;
    this.arphrd = -1;
    this.ifIndex = -1;
    this.buf = buf;
  }
}

/**
 * parseLink: classify one captured frame of link type `linkType` (`capLen` bytes at buf[off]) into
 * `li`. `ifMac` (6 bytes at ifMac[0..5]), when given, is the receiving interface's MAC, used to tell
 * PACKET_HOST from PACKET_OTHERHOST on Ethernet. Returns `li.status`. Unsupported link types give
 * NotIp with payload Other.
 *
 * hot path: must not allocate.
 */
export function parseLink(
  li: LinkInfo,
  linkType: number,
  buf: Uint8Array,
  off: number,
  capLen: number,
  ifMac: Uint8Array | null = null,
): number {
  li.clear(buf);
  const avail = buf.length - off;
  if (off < 0 || avail <= 0 || capLen <= 0) {
    li.status = WireStatus.Truncated;
    return li.status;
  }
  if (capLen > avail) capLen = avail;
  const end = off + capLen;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return parseEthernet(li, buf, off, end, ifMac);
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_DLT12:
    case LINKTYPE_RAW_DLT14:
      return rawIp(li, buf, off, end, 0);
    case LINKTYPE_IPV4:
      return rawIp(li, buf, off, end, 4);
    case LINKTYPE_IPV6:
      return rawIp(li, buf, off, end, 6);
    case LINKTYPE_LINUX_SLL: {
      if (capLen < SLL_HEADER_LEN) return truncated(li);
      li.macOff = off;
      li.pktType = get16(buf, off);
      li.arphrd = get16(buf, off + 2);
      if (get16(buf, off + 4) === ETH_ALEN) li.srcMacOff = off + 6;
      return byEtherType(li, buf, off + 14, end, off);
    }
    case LINKTYPE_LINUX_SLL2: {
      if (capLen < SLL2_HEADER_LEN) return truncated(li);
      li.macOff = off;
      li.ifIndex = ((buf[off + 4] << 24) | (buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7]) >>> 0;
      li.arphrd = get16(buf, off + 8);
      li.pktType = buf[off + 10];
      if (buf[off + 11] === ETH_ALEN) li.srcMacOff = off + 12;
      return byEtherType(li, buf, off, end, off, off + SLL2_HEADER_LEN);
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (capLen < LOOPBACK_HEADER_LEN) return truncated(li);
      li.macOff = off;
      li.macLen = LOOPBACK_HEADER_LEN;
      // the family is in the writer's byte order (LOOP: network order); the right reading is small
      const be = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
      const le = ((buf[off + 3] << 24) | (buf[off + 2] << 16) | (buf[off + 1] << 8) | buf[off]) >>> 0;
      const fam = linkType === LINKTYPE_LOOP || be <= 0xffff ? be : le;
      li.etherType = fam;
      li.pktType = LinkPktType.Host;
      if (fam === 2) return ipAt(li, buf, off + LOOPBACK_HEADER_LEN, end, 4);
      if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return ipAt(li, buf, off + LOOPBACK_HEADER_LEN, end, 6);
      li.payload = LinkPayload.Other;
      li.l3Off = off + LOOPBACK_HEADER_LEN;
      li.l3Len = end - li.l3Off;
      return li.status;
    }
    default:
      li.payload = LinkPayload.Other;
      return li.status;
  }
}

function truncated(li: LinkInfo): number {
  li.status = WireStatus.Truncated;
  return li.status;
}

function parseEthernet(li: LinkInfo, b: Uint8Array, off: number, end: number, ifMac: Uint8Array | null): number {
  if (end - off < ETH_HEADER_LEN) return truncated(li);
  li.macOff = off;
  li.dstMacOff = off;
  li.srcMacOff = off + ETH_ALEN;
  // Linux eth_type_trans: group addresses are broadcast or multicast; unicast to another MAC is otherhost
  if ((b[off] & 1) !== 0) {
    li.pktType =
      (b[off] & b[off + 1] & b[off + 2] & b[off + 3] & b[off + 4] & b[off + 5]) === 0xff
        ? LinkPktType.Broadcast
        : LinkPktType.Multicast;
  } else if (ifMac !== null) {
    let same = true;
    for (let i = 0; i < ETH_ALEN; i++) {
      if (b[off + i] !== ifMac[i]) {
        same = false;
        break;
      }
    }
    li.pktType = same ? LinkPktType.Host : LinkPktType.OtherHost;
  } else {
    li.pktType = LinkPktType.Host;
  }
  return byEtherType(li, b, off + 12, end, off);
}

/**
 * byEtherType: the type field at `typeOff` (after skipping VLAN tags) decides the payload. For SLL2
 * the type is at the start of the header and the payload at `payloadStart`.
 */
function byEtherType(
  li: LinkInfo,
  b: Uint8Array,
  typeOff: number,
  end: number,
  macOff: number,
  payloadStart = -1,
): number {
  let p = typeOff;
  if (p + 2 > end) return truncated(li);
  let t = get16(b, p);
  let data = payloadStart >= 0 ? payloadStart : p + 2;
  // VLAN tags: in Ethernet and SLL the tag follows the type field; in SLL2 it starts the payload
  while (isVlanTpid(t)) {
    const tagAt = payloadStart >= 0 ? data : p + 2;
    if (tagAt + VLAN_TAG_LEN > end) return truncated(li);
    if (li.vlanCount === 0) li.vlanId = get16(b, tagAt) & 0x0fff;
    li.vlanCount++;
    p = tagAt + 2;
    t = get16(b, p);
    data = p + 2;
  }
  li.etherType = t;
  li.macLen = data - macOff;
  li.l3Off = data;
  li.l3Len = end > data ? end - data : 0;
  switch (t) {
    case ETH_P_IP:
      return ipAt(li, b, data, end, 4);
    case ETH_P_IPV6:
      return ipAt(li, b, data, end, 6);
    case ETH_P_ARP:
      li.payload = LinkPayload.Arp;
      break;
    case ETH_P_RARP:
      li.payload = LinkPayload.Rarp;
      break;
    case ETH_P_LLDP:
      li.payload = LinkPayload.Lldp;
      break;
    default:
      // SLL/SLL2 use small pseudo-protocol values (ETH_P_802_2, ETH_P_802_3...) for non-Ethernet-II frames
      li.payload = t < ETH_P_802_3_MIN ? LinkPayload.Llc : LinkPayload.Other;
      break;
  }
  li.status = WireStatus.NotIp;
  return li.status;
}

/** ipAt: the link says `family`; the version nibble must agree (Linux ip_rcv / ipv6_rcv). */
function ipAt(li: LinkInfo, b: Uint8Array, data: number, end: number, family: number): number {
  li.family = family;
  li.payload = family === 4 ? LinkPayload.Ipv4 : LinkPayload.Ipv6;
  li.l3Off = data;
  li.l3Len = end > data ? end - data : 0;
  if (li.l3Len === 0) return truncated(li);
  li.status = b[data] >> 4 === family ? WireStatus.Ok : WireStatus.BadVersion;
  return li.status;
}

/** rawIp: no link header; `family` 0 means "by the version nibble". */
function rawIp(li: LinkInfo, b: Uint8Array, off: number, end: number, family: number): number {
  li.macLen = 0;
  const v = b[off] >> 4;
  if (family === 0) {
    if (v !== 4 && v !== 6) {
      li.payload = LinkPayload.Other;
      li.l3Off = off;
      li.l3Len = end - off;
      li.status = WireStatus.BadVersion;
      return li.status;
    }
    family = v;
  }
  return ipAt(li, b, off, end, family);
}
