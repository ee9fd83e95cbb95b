/**
 * The seams between NAT and the rest of the gateway: what NAT needs from the connection tracker
 * (`NatConntrack`), where its randomness comes from (`NatRandom`), and how the engine hands it the nat
 * table of a hook (`NatTableRunner`).
 *
 * ctnat's Conntrack (src/conntrack) implements NatConntrack as it is; tests use a small fake. Hot path:
 * implementations must not allocate.
 */
import type { Skb } from "../core/skb.js";
import type { Tuple } from "../core/tuple.js";

/**
 * sideIndex: a dense index for per-entry side arrays shared by both families, from a conntrack entry id
 * (Conntrack's ids are the slot, with bit 24 (CT_V6) set for IPv6 entries; the index interleaves the two
 * families, so such arrays need 2 * max(capacity(4), capacity(6)) elements). Nat itself keeps per-family
 * arrays indexed by the slot when the table tells its capacity, and uses this only for tables that do not
 * (test doubles).
 */
export function sideIndex(ct: number): number {
  return ((ct & 0xffffff) << 1) | ((ct >>> 24) & 1);
}

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
   * Overwrite the tuple of direction `dir` of an UNCONFIRMED entry; NAT uses it for the reply
   * direction (Linux nf_conntrack_alter_reply). Returns false if the entry cannot be changed.
   */
  setTuple(ct: number, dir: number, t: Tuple): boolean;
  /**
   * Linux nf_conntrack_tuple_taken: whether a live (unexpired) confirmed entry other than `ignoreCt`, in
   * the conntrack zone of `ignoreCt`, holds `t` in either direction, except an entry whose ORIGINAL tuple equals the ORIGINAL tuple of
   * `ignoreCt` (the same flow seen twice; left to clash resolution). `ignoreCt` may be -1.
   */
  tupleTaken(t: Tuple, ignoreCt: number): boolean;
  /**
   * Linux nf_conntrack_find_get: the live confirmed entry holding `t` in some direction within conntrack
   * zone `zone` (packed, CtZone; default 0), or -1; the direction that matched is left in `foundDir`.
   */
  findTuple(t: Tuple, zone?: number): number;
  /**
   * Optional: the entry's conntrack zone (packed, CtZone; 0 the default zone). Without it every entry is
   * in the default zone.
   */
  zone?(ct: number): number;
  /** Direction (Dir.Original / Dir.Reply) of the tuple the last successful findTuple matched. */
  readonly foundDir: number;
  /** TCP conntrack state (Linux enum tcp_conntrack numbering: SYN_SENT 1 ... TIME_WAIT 7, CLOSE 8). */
  tcpState(ct: number): number;
  /** TCP `seen[dir].td_end` (int32) of the entry. */
  tcpSeenEnd(ct: number, dir: number): number;
  /** Linux nf_ct_kill: remove the entry now (the destroy notification follows); false if already dying. */
  kill(ct: number): boolean;
  /**
   * Optional fast access to the entries' records (Conntrack's CtStore): the tuple of direction d of entry
   * `ct` starts at `(ct & 0xffffff) * stride + d * node` in `rec`: `aw` source words, `aw` destination
   * words, then `(srcPort << 16) | dstPort`; the AUX word at `(ct & 0xffffff) * stride + 2 * node` holds
   * the protocol in its top byte and NAT's 24 bits below (see NatTupleStore). When present, the
   * per-packet rewrite reads the tuples from there instead of calling `tuple`, and the MASQUERADE
   * interface is kept in the AUX word.
   */
  storeOf?(ct: number): NatTupleStore;
  /**
   * Optional: slots of `family` (4 or 6) the table holds now (ctSlot(ct) < capacity(family)); NAT then
   * sizes its per-family side arrays from it.
   */
  capacity?(family: number): number;
}

/**
 * NatTupleStore: the part of Conntrack's CtStore the per-packet rewrite reads (see NatConntrack.storeOf).
 * The entry's record starts at `(ct & 0xffffff) * stride`: the ORIGINAL node, the REPLY node (`node`
 * words each: `aw` source words, `aw` destination words, the ports word), then the AUX word, whose top
 * byte is the protocol and whose low 24 bits belong to NAT (zero for a new entry; NAT keeps the
 * MASQUERADE interface there, so that the per-packet check reads the record it has in hand).
 */
export interface NatTupleStore {
  readonly rec: Int32Array;
  readonly stride: number;
  readonly node: number;
  readonly aw: number;
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
