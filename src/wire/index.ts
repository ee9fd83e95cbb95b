/**
 * ctnat/wire: bytes <-> parsed packets. Parsing into a reused PacketInfo, Internet checksums, address
 * text, and (for tests and tools) packet builders.
 */

// addresses
export {
  AddrSyntaxError,
  addrFamily,
  formatAddr,
  formatIpv4,
  formatIpv6,
  isAddrSyntaxError,
  parseAddr,
  parseAddrInto,
} from "./addr.js";
export type {
  Bytes,
  ChecksumSpec,
  FragmentOptions,
  IcmpSpec,
  Ipv6ExtSpec,
  PacketSpec,
  TcpOptionsSpec,
  TcpSpec,
  UdpSpec,
} from "./build.js";
// builders (tests and tools; slow path)
export { buildPacket, fragment, tcpFlagsValue, tcpOptionBytes, toBytes } from "./build.js";
// checksums
export {
  checksumUpdate16,
  checksumUpdate32,
  checksumUpdateAddr,
  fillIpv4HeaderChecksum,
  fillL4Checksum,
  finishChecksum,
  foldSum,
  internetChecksum,
  l4ChecksumOffset,
  pseudoHeaderSum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumBytes,
  sumWords,
  udpChecksumUpdate16,
  udpChecksumUpdate32,
  udpChecksumUpdateAddr,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
} from "./checksum.js";
// protocol numbers
export {
  IPPROTO_AH,
  IPPROTO_DCCP,
  IPPROTO_DSTOPTS,
  IPPROTO_ESP,
  IPPROTO_FRAGMENT,
  IPPROTO_GRE,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_MH,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
  ipProtocolName,
  isIpv6ExtHeader,
} from "./ip-protocol.js";
// per-packet parse record
export { EMPTY_BYTES, PacketInfo, WIRE_STATUS_NAMES, WireStatus } from "./packet-info.js";
// parsing
export {
  IPV4_OPT_CIPSO,
  IPV4_OPT_LSRR,
  IPV4_OPT_OTHER,
  IPV4_OPT_RA,
  IPV4_OPT_RR,
  IPV4_OPT_SSRR,
  IPV4_OPT_TS,
  IPV6_MAX_HBH_OPTS,
  isIcmpError,
  isIcmpv6Error,
  parseEmbedded,
  parsePacket,
  resetPacketInfo,
} from "./parse.js";
