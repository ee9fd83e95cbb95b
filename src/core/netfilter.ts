/**
 * Netfilter vocabulary shared by conntrack, nat, rules and the engine: hooks, verdicts, ctinfo, the
 * conntrack status bits and NAT manip types. Values are Linux's own where Linux exposes them (so that
 * they print and compare as the kernel's do).
 */

/** Hook: the five netfilter hooks (Linux `enum nf_inet_hooks`). */
export const Hook = {
  Prerouting: 0,
  Input: 1,
  Forward: 2,
  Output: 3,
  Postrouting: 4,
} as const;
export type Hook = (typeof Hook)[keyof typeof Hook];
export const HOOK_NAMES: readonly string[] = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

/** Verdict: what a hook function decides (Linux NF_DROP = 0, NF_ACCEPT = 1, NF_STOLEN = 2, NF_QUEUE = 3, NF_REPEAT = 4). */
export const Verdict = {
  Drop: 0,
  Accept: 1,
  Stolen: 2,
  Queue: 3,
  Repeat: 4,
  /** rule-engine internal: continue with the next rule (Linux XT_CONTINUE) */
  Continue: -1,
  /** rule-engine internal: return to the calling chain (Linux XT_RETURN) */
  Return: -2,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Direction of a packet relative to its connection (Linux IP_CT_DIR_ORIGINAL / REPLY). */
export const Dir = { Original: 0, Reply: 1 } as const;
export type Dir = (typeof Dir)[keyof typeof Dir];

/**
 * CtInfo: Linux `enum ip_conntrack_info`. The reply variants are the base value plus IP_CT_IS_REPLY (3).
 * A packet with no connection (ctstate INVALID) carries CtInfo.None.
 */
export const CtInfo = {
  Established: 0,
  Related: 1,
  New: 2,
  EstablishedReply: 3,
  RelatedReply: 4,
  Untracked: 7,
  /** ctnat: no conntrack entry attached (ctstate INVALID, or conntrack not consulted) */
  None: 255,
} as const;
export type CtInfo = (typeof CtInfo)[keyof typeof CtInfo];
export const CT_IS_REPLY = 3;

/** IPS_*: conntrack status bits (Linux include/uapi/linux/netfilter/nf_conntrack_common.h). */
export const IPS = {
  EXPECTED: 1 << 0,
  SEEN_REPLY: 1 << 1,
  ASSURED: 1 << 2,
  CONFIRMED: 1 << 3,
  SRC_NAT: 1 << 4,
  DST_NAT: 1 << 5,
  NAT_MASK: (1 << 4) | (1 << 5),
  SEQ_ADJUST: 1 << 6,
  SRC_NAT_DONE: 1 << 7,
  DST_NAT_DONE: 1 << 8,
  NAT_DONE_MASK: (1 << 7) | (1 << 8),
  DYING: 1 << 9,
  FIXED_TIMEOUT: 1 << 10,
  TEMPLATE: 1 << 11,
  UNTRACKED: 1 << 12,
  NAT_CLASH: 1 << 12,
  HELPER: 1 << 13,
  OFFLOAD: 1 << 14,
  HW_OFFLOAD: 1 << 15,
} as const;

/** Conntrack ctstate bits as the conntrack/state matches see them (Linux XT_CONNTRACK_STATE_*). */
export const CtState = {
  INVALID: 1 << 0,
  ESTABLISHED: 1 << 1,
  RELATED: 1 << 2,
  NEW: 1 << 3,
  UNTRACKED: 1 << 8,
  SNAT: 1 << 9,
  DNAT: 1 << 10,
} as const;

/**
 * CtZone: conntrack zones (Linux `struct nf_conntrack_zone`), packed in one number: the zone id in bits
 * 0-15, the directions it applies to in bits 16-17 (Linux NF_CT_ZONE_DIR_ORIG / _REPL; both for
 * `CT --zone`), and FromMark (bit 18) when the id is to be taken from the packet mark (`CT --zone mark`).
 * 0 is the default zone. A zone is part of a connection's identity: a tuple in one zone never meets the
 * same tuple in another.
 */
export const CtZone = {
  DirOrig: 1 << 16,
  DirReply: 1 << 17,
  DirBoth: 3 << 16,
  FromMark: 1 << 18,
  IdMask: 0xffff,
} as const;

/**
 * zoneIdInDir: Linux nf_ct_zone_id: the zone id a packed zone has in direction `dir` (Dir.Original or
 * Dir.Reply): its id when the zone applies to that direction, else the default zone 0.
 */
export function zoneIdInDir(zone: number, dir: number): number {
  return ((zone >>> (16 + dir)) & 1) !== 0 ? zone & 0xffff : 0;
}

/** NAT manipulation type (Linux `enum nf_nat_manip_type`). */
export const Manip = { Src: 0, Dst: 1 } as const;
export type Manip = (typeof Manip)[keyof typeof Manip];

/** NF_NAT_RANGE_* flags (Linux include/uapi/linux/netfilter/nf_nat.h). */
export const NatRangeFlag = {
  MAP_IPS: 1 << 0,
  PROTO_SPECIFIED: 1 << 1,
  PROTO_RANDOM: 1 << 2,
  PERSISTENT: 1 << 3,
  PROTO_RANDOM_FULLY: 1 << 4,
  PROTO_OFFSET: 1 << 5,
  NETMAP: 1 << 6,
} as const;

/**
 * NatRange: one range of `--to-source` / `--to-destination` (Linux `struct nf_nat_range2`).
 * Built once at load; never allocated per packet. Addresses are 4 int32 words as in PacketInfo.
 */
export class NatRange {
  flags = 0;
  readonly minAddr: Int32Array = new Int32Array(4);
  readonly maxAddr: Int32Array = new Int32Array(4);
  /** port (or ICMP id) range, host order */
  minProto = 0;
  maxProto = 0;
  /** base port for PROTO_OFFSET */
  baseProto = 0;
}

/** IP protocol numbers used across the code base. */
export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IGMP: 2,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  SCTP: 132,
  UDPLITE: 136,
  DCCP: 33,
} as const;
