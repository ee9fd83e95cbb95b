/**
 * The seams between the rules engine and the rest of the gateway. Matches read connection state through
 * CtView; targets act on the world through TargetEnv. The engine implements both. Keeping them as narrow
 * interfaces lets the rules engine be tested alone (with fakes) and lets an embedder swap parts.
 *
 * Hot path: implementations must not allocate.
 */
import type { NatRange } from "./netfilter.js";
import type { Skb } from "./skb.js";
import type { Tuple } from "./tuple.js";

/** Read/write access to conntrack entries by index (the `ct` of an Skb). */
export interface CtView {
  /** IPS_* status bits */
  status(ct: number): number;
  /** ctmark (connmark) */
  mark(ct: number): number;
  setMark(ct: number, mark: number): void;
  /** layer-4 protocol number of the connection */
  l4proto(ct: number): number;
  /** fill `out` with the connection's tuple in direction `dir` (Dir.Original / Dir.Reply) */
  tuple(ct: number, dir: number, out: Tuple): void;
  /** seconds left before the entry expires, as `conntrack -L` would print it at `now` */
  expiresIn(ct: number, now: number): number;
  /** TCP conntrack state (TcpCtState) or 0 for other protocols */
  tcpState(ct: number): number;
  /** the entry's conntrack zone, packed as CtZone describes (0: the default zone) */
  zone(ct: number): number;
  /**
   * findTuple: the live confirmed entry holding tuple `t` in some direction within `zone` (packed,
   * CtZone), or -1 (Linux nf_conntrack_find_get)
   */
  findTuple(t: Tuple, zone?: number): number;
}

/** Interface facts the rules need (ifname matching, addrtype, MASQUERADE, REDIRECT). */
export interface IfaceView {
  /** interface name by index ("" for -1) */
  name(ifindex: number): string;
  /** index by name, -1 when unknown */
  index(name: string): number;
}

/** Reject replies a REJECT target can ask for (iptables --reject-with). */
export const RejectWith = {
  IcmpNetUnreachable: 0,
  IcmpHostUnreachable: 1,
  IcmpProtUnreachable: 2,
  IcmpPortUnreachable: 3,
  IcmpEchoReply: 4,
  IcmpNetProhibited: 5,
  IcmpHostProhibited: 6,
  TcpReset: 7,
  IcmpAdminProhibited: 8,
  Icmp6NoRoute: 9,
  Icmp6AdmProhibited: 10,
  Icmp6AddrUnreachable: 11,
  Icmp6PortUnreachable: 12,
  Icmp6NotNeighbour: 13,
  Icmp6PolicyFail: 14,
  Icmp6RejectRoute: 15,
} as const;

/** Services targets need from the gateway. */
export interface TargetEnv {
  /**
   * Bind NAT for the packet's connection (Linux nf_nat_setup_info) with one range; `manip` is Manip.Src
   * or Manip.Dst. Returns a Verdict (Accept, or Drop when no tuple can be found).
   */
  natSetup(skb: Skb, range: NatRange, manip: number): number;
  /** MASQUERADE: choose the source address from the outgoing interface and next hop, then natSetup. */
  masquerade(skb: Skb, range: NatRange): number;
  /** REDIRECT: destination becomes the incoming interface's first address (or loopback at OUTPUT). */
  redirect(skb: Skb, range: NatRange): number;
  /** REJECT: build and send the reply for `skb` (the original packet is then dropped by the caller). */
  reject(skb: Skb, withType: number): void;
  /** LOG / NFLOG: record a log line in the trace (prefix as given in the rule) */
  log(skb: Skb, kind: "LOG" | "NFLOG", prefix: string): void;
  /** seeded random u32 for statistic --mode random and NAT randomness */
  randomU32(): number;
  /**
   * routeMtu: the MTU of the route the packet takes (Linux dst_mtu(skb_dst(skb))), or with `reverse` of
   * the route back to its source address (the lookup TCPMSS --clamp-mss-to-pmtu makes); 0xffffffff
   * when there is no such route.
   */
  routeMtu(skb: Skb, reverse: boolean): number;
}
