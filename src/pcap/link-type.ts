/**
 * Link-layer header types of capture files (the LINKTYPE_* registry that pcap and pcapng share, as
 * tcpdump.org/linktypes.html lists it). Values are the numbers stored in files; unknown values flow
 * through as plain numbers (unknown is not malformed).
 */

/** LinkType: the LINKTYPE_* values ctnat meets most (open set: any number may appear in a file). */
export const LinkType = {
  /** BSD loopback: 4-byte address family in host byte order */
  Null: 0,
  Ethernet: 1,
  /** raw IP as DLT_RAW (12) that older writers stored instead of LINKTYPE_RAW (101) */
  RawDlt: 12,
  Ppp: 9,
  Fddi: 10,
  Ieee802_5: 6,
  PppHdlc: 50,
  PppEther: 51,
  AtmRfc1483: 100,
  /** raw IP (IPv4 or IPv6, by the version nibble) */
  Raw: 101,
  CiscoHdlc: 104,
  Ieee802_11: 105,
  FrameRelay: 107,
  /** OpenBSD loopback: 4-byte address family in network byte order */
  Loop: 108,
  /** Linux "cooked" capture v1 (tcpdump -i any) */
  LinuxSll: 113,
  Ltalk: 114,
  Pflog: 117,
  Ieee802_11Prism: 119,
  IpOverFc: 122,
  SunAtm: 123,
  Ieee802_11Radiotap: 127,
  ArcnetLinux: 129,
  AppleIpOverIeee1394: 138,
  Mtp2WithPhdr: 139,
  Mtp2: 140,
  Mtp3: 141,
  Sccp: 142,
  Docsis: 143,
  LinuxIrda: 144,
  User0: 147,
  Ieee802_11Avs: 163,
  BacnetMsTp: 165,
  PppPppd: 166,
  GprsLlc: 169,
  LinuxLapd: 177,
  Ieee802_15_4WithFcs: 195,
  UsbLinux: 189,
  BluetoothHciH4: 187,
  Ppi: 192,
  Erf: 197,
  BluetoothHciH4WithPhdr: 201,
  Ieee802_15_4NoFcs: 230,
  Dbus: 231,
  Ipv4: 228,
  Ipv6: 229,
  Nflog: 239,
  Netanalyzer: 240,
  Ipnet: 226,
  CanSocketcan: 227,
  UsbPcap: 249,
  Netlink: 253,
  BluetoothLeLl: 251,
  LinuxSll2: 276,
  Ebhscr: 279,
} as const;

/** Generic maximum snapshot length of libpcap (MAXIMUM_SNAPLEN): 256 KiB. */
export const MAXIMUM_SNAPLEN = 262144;

/**
 * maxSnaplenForLinkType: the largest captured length that is plausible for a link type, as libpcap
 * judges it (pcap-common.c max_snaplen_for_dlt): 128 MiB for D-Bus messages, 8 MiB for EBHSCR, 1 MiB
 * for USBPcap, 256 KiB for everything else. A record claiming more is corrupt, and a reader must
 * never allocate for it.
 */
export function maxSnaplenForLinkType(linkType: number): number {
  switch (linkType) {
    case LinkType.Dbus:
      return 128 * 1024 * 1024;
    case LinkType.Ebhscr:
      return 8 * 1024 * 1024;
    case LinkType.UsbPcap:
      return 1024 * 1024;
    default:
      return MAXIMUM_SNAPLEN;
  }
}

/**
 * adjustSnaplen: the snapshot length a reader should enforce for a file's stated snaplen, as libpcap
 * does (pcap_adjust_snapshot): 0 (unknown) and implausibly large values become the link type's maximum.
 */
export function adjustSnaplen(linkType: number, snaplen: number): number {
  const max = maxSnaplenForLinkType(linkType);
  return snaplen === 0 || snaplen > max ? max : snaplen;
}

const NAMES: Readonly<Record<number, string>> = {
  0: "NULL",
  1: "ETHERNET",
  6: "IEEE802_5",
  9: "PPP",
  10: "FDDI",
  12: "DLT_RAW",
  50: "PPP_HDLC",
  51: "PPP_ETHER",
  100: "ATM_RFC1483",
  101: "RAW",
  104: "C_HDLC",
  105: "IEEE802_11",
  107: "FRELAY",
  108: "LOOP",
  113: "LINUX_SLL",
  114: "LTALK",
  117: "PFLOG",
  119: "IEEE802_11_PRISM",
  122: "IP_OVER_FC",
  123: "SUNATM",
  127: "IEEE802_11_RADIOTAP",
  129: "ARCNET_LINUX",
  138: "APPLE_IP_OVER_IEEE1394",
  139: "MTP2_WITH_PHDR",
  140: "MTP2",
  141: "MTP3",
  142: "SCCP",
  143: "DOCSIS",
  144: "LINUX_IRDA",
  163: "IEEE802_11_AVS",
  165: "BACNET_MS_TP",
  166: "PPP_PPPD",
  169: "GPRS_LLC",
  177: "LINUX_LAPD",
  187: "BLUETOOTH_HCI_H4",
  189: "USB_LINUX",
  192: "PPI",
  195: "IEEE802_15_4_WITHFCS",
  197: "ERF",
  201: "BLUETOOTH_HCI_H4_WITH_PHDR",
  226: "IPNET",
  227: "CAN_SOCKETCAN",
  228: "IPV4",
  229: "IPV6",
  230: "IEEE802_15_4_NOFCS",
  231: "DBUS",
  239: "NFLOG",
  240: "NETANALYZER",
  249: "USBPCAP",
  251: "BLUETOOTH_LE_LL",
  253: "NETLINK",
  276: "LINUX_SLL2",
  279: "EBHSCR",
};

/** linkTypeName: the LINKTYPE_ name without its prefix ("ETHERNET"), or "LINKTYPE_<n>" when unknown here. */
export function linkTypeName(linkType: number): string {
  return NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}
