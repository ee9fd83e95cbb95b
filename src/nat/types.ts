/**
 * The seams between NAT and the rest of the gateway: what NAT needs from the connection tracker
 * (`NatConntrack`), where its randomness comes from (`NatRandom`), and how the engine hands it the nat
 * table of a hook (`NatTableRunner`).
 *
 * The connection tracker implements NatConntrack over its own tables (an adapter of a few lines); tests
 * use a small fake. Hot path: implementations must not allocate.
 */
import type { Skb } from "../core/skb.js";
import type { Tuple } from "../core/tuple.js";

/**
 * NatConntrack: the connection-table services Linux's NAT core uses (nf_conntrack_core.c), by entry
 * index. Entries are "unconfirmed" from their first packet until the packet leaves the last hook
 * (Linux __nf_conntrack_confirm); NAT bindings are decided only while unconfirmed.
 */
export interface NatConntrack {
  /** Fill `out` with the entry's tuple in direction `dir` (Dir.Original / Dir.Reply). */
  tuple(ct: number, dir: number, out: Tuple): void;
  /** IPS_* status bits of the entry. */
  status(ct: number): number;
  /** Set (OR in) IPS_* status bits (SRC_NAT, DST_NAT, SRC_NAT_DONE, DST_NAT_DONE). */
  setStatus(ct: number, bits: number): void;
  /**
   * Replace the reply tuple of an unconfirmed entry (Linux nf_conntrack_alter_reply); the entry's
   * hash position for the reply direction is decided at confirm time from this tuple.
   */
  alterReply(ct: number, reply: Tuple): void;
  /**
   * Linux nf_conntrack_tuple_taken: whether a live (unexpired) confirmed entry other than `ignoredCt`
   * holds `tuple` in either direction, except an entry whose ORIGINAL tuple equals the ORIGINAL tuple of
   * `ignoredCt` (the same flow seen twice; left to clash resolution). `ignoredCt` may be -1.
   */
  tupleTaken(tuple: Tuple, ignoredCt: number): boolean;
  /**
   * Linux nf_conntrack_find_get: the live confirmed entry holding `tuple` in some direction, encoded as
   * `(ct << 1) | dir`, or -1 when there is none.
   */
  findTuple(tuple: Tuple): number;
  /** TCP conntrack state (TcpCtState numbering = Linux enum tcp_conntrack) or 0 for other protocols. */
  tcpState(ct: number): number;
  /** TCP `seen[dir].td_end` (int32) of the entry; 0 for other protocols. */
  tcpTdEnd(ct: number, dir: number): number;
  /** Linux nf_ct_kill: remove the entry now (destroy notification follows); false if already dying. */
  kill(ct: number): boolean;
}

/** NatRandom: a seeded source of random 32-bit words (Linux get_random_u16/u32 stand-in). */
export interface NatRandom {
  randomU32(): number;
}

/**
 * NatTableRunner: runs the nat table's chain for `hook` on the packet (the iptables `nat` table as Linux's
 * iptable_nat registers it) and returns its verdict. NAT targets in it call `Nat.setupInfo` (through
 * TargetEnv.natSetup / masquerade / redirect). Called at most once per manip type and connection.
 */
export type NatTableRunner = (skb: Skb, hook: number) => number;
