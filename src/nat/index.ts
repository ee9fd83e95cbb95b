// NAT: Linux nf_nat semantics over ctnat's connection table.

// helpers
export { csumApplyDelta, csumFinish } from "./csum.js";
// interfaces and address selection
export {
  IFA_F,
  IfaceAddr4,
  IfaceAddr6,
  inetSelectAddr,
  ipv6AddrLabel,
  ipv6AddrType,
  ipv6DevGetSaddr,
  NatIface,
  NatInterfaces,
  parseIpv4,
  parseIpv6,
  RT_SCOPE,
  redirectAddr4,
  redirectAddr6,
} from "./iface.js";
export { bswap32, jhash2x4, reciprocalScale } from "./jhash.js";
// packet rewriting
export {
  IcmpXlat,
  icmpErrorCheck,
  icmpErrorManip,
  ipv4ManipPkt,
  ipv6ManipPkt,
  ipv6SkipExthdr,
  l4ManipPkt,
  manipPkt,
  sctpChecksum,
} from "./manip.js";
export type { NatOptions } from "./nat.js";
// core
export {
  allowClash,
  describeBinding,
  findBestIps,
  hookToManip,
  inetInRange,
  l4InRange,
  Nat,
  NatBinding,
  NatStats,
  netmapRange,
  nfInRange,
  singleAddrRange,
} from "./nat.js";
// targets that compute their range per packet
export { masquerade, netmap, redirect } from "./targets.js";
export { formatAddr, invertTuple } from "./tuple-ops.js";
export type { NatConntrack, NatRandom, NatTableRunner } from "./types.js";
export { sideIndex } from "./types.js";
