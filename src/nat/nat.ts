/**
 * Nat: Linux's NAT core (net/netfilter/nf_nat_core.c, nf_nat_proto.c) over ctnat's connection table.
 *
 *   packet ──► [PREROUTING  nat: DST] ─► routing ─► [FORWARD] ─► [POSTROUTING nat: SRC] ──► out
 *                                        │                           ▲
 *                                        └► [INPUT nat: SRC]   [OUTPUT nat: DST] ◄─ local
 *
 * At each NAT hook (`hook`), a packet of a connection whose binding for that hook's manip type is not
 * decided yet (its first packet: ctinfo NEW, or RELATED / RELATED_REPLY) runs the nat table once; its
 * targets call `setupInfo` (through TargetEnv); if none did, a null binding is made. Every packet then
 * gets the manip of its direction applied from the connection's two tuples (`natPacket`), without
 * consulting rules again. ICMP errors RELATED to a connection are translated inside and out
 * (`icmpReplyTranslation`) instead.
 *
 * Bindings: `setupInfo` picks a unique tuple as Linux's get_unique_tuple does (keep the original tuple
 * when it is in range and free; reuse the mapping of an earlier connection from the same source; the
 * range address chosen by jhash2 of source and destination, exactly as the kernel; the port / ICMP id
 * searched from a random start in the range or the port's band, bounded attempts with halving, and
 * TIME_WAIT eviction in the last attempts), then alters the unconfirmed entry's reply tuple and sets
 * the SRC_NAT / DST_NAT (when changed) and _DONE status bits.
 *
 * After a rewrite, the packet's PacketInfo keeps in step: addresses, ports and the ICMP id (and those of
 * its `inner` record for an ICMP error) are updated; nothing else a parse records changes under NAT.
 *
 * Wiring (the engine):
 *
 *   const nat = new Nat(conntrack, rng);                         // Conntrack satisfies NatConntrack
 *   conntrack.setDestroyHook((ct) => nat.onDestroy(ct));
 *   conntrack.setCapacityHook((family, cap) => nat.onCapacity(family, cap));
 *   // at PREROUTING / OUTPUT (after conntrack) and INPUT / POSTROUTING (before confirm):
 *   verdict = nat.hook(skb, hook, runNatTable);                  // runNatTable evaluates the nat chain
 *   // TargetEnv: natSetup -> nat.natSetup(skb, range, manip) (SNAT, DNAT, NETMAP);
 *   //            masquerade -> masquerade(nat, ifaces, skb, range); redirect -> redirect(nat, ifaces, skb, range)
 *
 * hot path: `hook`, `natPacket`, `icmpReplyTranslation` and `setupInfo` do not allocate.
 */
import { protoName as conntrackProtoName } from "../conntrack/format.js";
import {
  CtInfo,
  Dir,
  Hook,
  IPPROTO,
  IPS,
  Manip,
  NatRange,
  NatRangeFlag,
  Verdict,
  zoneIdInDir,
} from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import { Tuple } from "../core/tuple.js";
import { type PacketInfo, WireStatus } from "../wire/packet-info.js";
import { BySource } from "./bysource.js";
import { readU16 } from "./csum.js";
import { bswap32, jhash2x4, reciprocalScale } from "./jhash.js";
import {
  IcmpXlat,
  icmpErrorCheck,
  icmpErrorManip,
  ipv4ManipPorts,
  ipv6SkipExthdr,
  lastSkipNextHdr,
  manipPkt,
} from "./manip.js";
import { addrCompare, addrEqual, copyAddr, copyTuple, formatAddr, invertTuple, isIcmpProto } from "./tuple-ops.js";
import { type NatConntrack, type NatRandom, type NatTableRunner, type NatTupleStore, sideIndex } from "./types.js";

/** NF_NAT_MAX_ATTEMPTS: at most this many candidates per search round. */
const MAX_ATTEMPTS = 128;
/** NF_NAT_HARDER_THRESH: in the last this-many attempts, a TIME_WAIT entry may be evicted. */
const HARDER_THRESH = MAX_ATTEMPTS / 4;
/** NF_NAT_RANGE_PROTO_RANDOM_ALL */
const RANDOM_ALL = NatRangeFlag.PROTO_RANDOM | NatRangeFlag.PROTO_RANDOM_FULLY;
/** Linux enum tcp_conntrack values used here */
const TCP_SYN_SENT = 1;
const TCP_TIME_WAIT = 7;

/** hookToManip: Linux HOOK2MANIP: PREROUTING and OUTPUT change the destination, the others the source. */
export function hookToManip(hook: number): number {
  return hook === Hook.Prerouting || hook === Hook.Output ? Manip.Dst : Manip.Src;
}

/**
 * allowClash: whether Linux's tracker for `proto` resolves insert clashes (UDP, UDP-Lite, and the
 * generic tracker; not TCP, ICMP, ICMPv6, SCTP, DCCP, GRE).
 */
export function allowClash(proto: number): boolean {
  switch (proto) {
    case IPPROTO.TCP:
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
    case IPPROTO.SCTP:
    case IPPROTO.DCCP:
    case IPPROTO.GRE:
      return false;
    default:
      return true;
  }
}

/** NatStats: counters of NAT decisions and failures. */
export class NatStats {
  /** bindings decided by setupInfo (null bindings included) */
  setups = 0;
  /** bindings that changed a tuple (SRC_NAT or DST_NAT set) */
  mangled = 0;
  /** unique-tuple searches that ended without a free tuple (the packet will clash at confirm) */
  exhausted = 0;
  /** entries evicted from TIME_WAIT to free a tuple */
  evicted = 0;
  /** packets dropped because rewriting failed (truncated headers) */
  manipFailed = 0;
  /** ICMP errors dropped: bad checksum, too short, or a redirect for a NATed connection */
  icmpDropped = 0;
  /** packets dropped because a MASQUERADE connection's output interface changed */
  oifChanged = 0;
}

/** NatBinding: what NAT did to a connection, for display and queries (slow path record). */
export class NatBinding {
  readonly orig = new Tuple();
  readonly reply = new Tuple();
  /** source was rewritten: orig.src:srcPort became snatAddr:snatPort */
  snat = false;
  readonly snatAddr = new Int32Array(4);
  snatPort = 0;
  /** destination was rewritten: orig.dst:dstPort became dnatAddr:dnatPort */
  dnat = false;
  readonly dnatAddr = new Int32Array(4);
  dnatPort = 0;
  /** MASQUERADE interface index, -1 if none */
  masqIfindex = -1;
}

export interface NatOptions {
  /** initial capacity for per-entry side arrays (grown with ensureCapacity) */
  capacity?: number;
  /** seed of the bysource hash */
  hashSeed?: number;
  /**
   * verify the ICMP checksum of RELATED ICMP errors before translating them, dropping bad ones
   * (Linux does for packets whose checksum has not been validated, i.e. CHECKSUM_NONE; default true)
   */
  verifyIcmpChecksum?: boolean;
}

export class Nat {
  readonly ct: NatConntrack;
  readonly rng: NatRandom;
  readonly stats = new NatStats();
  readonly bysource: BySource;
  /**
   * MASQUERADE output interface index + 1 per entry (0 = not masqueraded): kept in the entry's own record
   * (NAT's bits of the AUX word, see NatTupleStore) when the connection table offers `storeOf`, else
   * in this side array indexed by sideIndex (allocated on first use)
   */
  private masqIndex: Int32Array = new Int32Array(0);
  /** number of entries with a MASQUERADE interface (the per-packet check is skipped while 0) */
  private masqCount = 0;
  private readonly verifyIcmp: boolean;

  // scratch records (never exposed)
  private readonly tA = new Tuple();
  private readonly tB = new Tuple();
  private readonly tCurr = new Tuple();
  private readonly tNew = new Tuple();
  private readonly tRev = new Tuple();
  private readonly tHard = new Tuple();
  private readonly tOther = new Tuple();
  private readonly tOwn = new Tuple();
  private readonly tSrc = new Tuple();
  private readonly tKey = new Tuple();
  private readonly nullRange = new NatRange();
  /** a scratch range for targets that compute their range per packet (MASQUERADE, REDIRECT, NETMAP) */
  readonly scratchRange = new NatRange();
  /**
   * portHint: optional chooser consulted where Linux starts the port / id search at a random offset
   * (source manips, --random, --random-fully). Given the entry, the candidate tuple (address already
   * chosen, port / id still the original), the manip and the search range [min, min + rangeSize), it may
   * return the value to try first, or -1. Trying a given value first is one of the outcomes of Linux's
   * random draw, so a replay can steer NAT to the kernel's recorded choice without leaving Linux's
   * behaviour (a taken value is skipped as usual). The generator is still drawn from, so hints do not
   * shift later random choices.
   */
  portHint: ((ct: number, t: Tuple, manip: number, min: number, rangeSize: number) => number) | null = null;
  /** when true, the search neither evicts nor counts (queryMapping) */
  private dryRun = false;
  private queryRng: NatRandom | null = null;

  constructor(conntrack: NatConntrack, rng: NatRandom, opts: NatOptions = {}) {
    this.ct = conntrack;
    this.rng = rng;
    const cap = Math.max(16, opts.capacity ?? 1024);
    this.bysource = new BySource(cap, opts.hashSeed ?? 0x5eed);
    this.bysource.keyOf = (c: number): number => {
      this.readTuple(c, Dir.Original, this.tKey);
      return this.bysource.keyHash(this.tKey.src, this.tKey.srcPort, this.tKey.proto);
    };
    this.verifyIcmp = opts.verifyIcmpChecksum ?? true;
  }

  // ---- table life cycle ---------------------------------------------------------------------

  /**
   * onCapacity: Conntrack's capacity hook: a family's store now has `capacity` slots; grow the side
   * arrays to match.
   */
  onCapacity(family: number, capacity: number): void {
    this.bysource.ensureCapacity(family, capacity);
  }

  /**
   * ensureCapacity: make room for every entry of the connection table: each family's side arrays are
   * sized from NatConntrack.capacity when the table offers it (`cap` is then not needed), else for
   * side indexes below `cap` (see sideIndex).
   */
  ensureCapacity(cap: number): void {
    const ops = this.ct;
    if (ops.capacity !== undefined) {
      this.bysource.ensureCapacity(4, ops.capacity(4));
      this.bysource.ensureCapacity(6, ops.capacity(6));
    } else {
      this.bysource.ensureCapacity(4, cap);
      this.bysource.ensureCapacity(6, cap);
    }
  }

  /**
   * onDestroy: the entry `ct` is being freed (expired, killed, flushed, or an unconfirmed entry whose
   * packet was dropped or lost a clash): forget its NAT state (Linux nf_nat_cleanup_conntrack).
   */
  onDestroy(ct: number): void {
    if (ct < 0) return;
    this.bysource.remove(ct);
    if (this.masqCount > 0 && this.masqWord(ct) !== 0) {
      this.setMasqWord(ct, 0);
      this.masqCount--;
    }
  }

  /** reset: forget every binding (after a conntrack flush). */
  reset(): void {
    this.bysource.clear();
    this.masqIndex.fill(0);
    this.masqCount = 0;
  }

  /** masqWord: the MASQUERADE interface index + 1 of `ct` (0: none) */
  private masqWord(ct: number): number {
    const ops = this.ct;
    if (ops.storeOf !== undefined) {
      const st: NatTupleStore = ops.storeOf(ct);
      return st.rec[(ct & 0xffffff) * st.stride + 2 * st.node] & 0xffffff;
    }
    const i = sideIndex(ct);
    return i < this.masqIndex.length ? this.masqIndex[i] : 0;
  }

  private setMasqWord(ct: number, v: number): void {
    const ops = this.ct;
    if (ops.storeOf !== undefined) {
      const st: NatTupleStore = ops.storeOf(ct);
      const o = (ct & 0xffffff) * st.stride + 2 * st.node;
      st.rec[o] = (st.rec[o] & ~0xffffff) | (v & 0xffffff);
      return;
    }
    const i = sideIndex(ct);
    if (i >= this.masqIndex.length) {
      let n = Math.max(16, this.masqIndex.length);
      while (n <= i) n *= 2;
      const m = new Int32Array(n);
      m.set(this.masqIndex);
      this.masqIndex = m;
    }
    this.masqIndex[i] = v;
  }

  /** isInitialized: Linux nf_nat_initialized: the binding for `manip` has been decided. */
  isInitialized(ct: number, manip: number): boolean {
    const done = manip === Manip.Src ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE;
    return (this.ct.status(ct) & done) !== 0;
  }

  // ---- nf_nat_setup_info --------------------------------------------------------------------

  /**
   * setupInfo: decide the binding of `ct` for `manip` within `range` (Linux nf_nat_setup_info). Returns
   * Verdict.Accept (also for a confirmed entry, which keeps its binding), or Verdict.Drop when the
   * binding was already decided. A range with NatRangeFlag.NETMAP is not expanded here (see natSetup).
   *
   * hot path: must not allocate.
   */
  setupInfo(ct: number, range: NatRange, manip: number): number {
    const ops = this.ct;
    const status = ops.status(ct);
    if ((status & IPS.CONFIRMED) !== 0) return Verdict.Accept;
    const done = manip === Manip.Src ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE;
    if ((status & done) !== 0) return Verdict.Drop;

    // what the packet looks like now: the inverse of the reply tuple (earlier manips included)
    this.readTuple(ct, Dir.Reply, this.tA);
    invertTuple(this.tCurr, this.tA);
    this.getUniqueTuple(this.tNew, this.tCurr, range, ct, manip);

    if (!this.tNew.equals(this.tCurr)) {
      invertTuple(this.tA, this.tNew);
      ops.setTuple(ct, Dir.Reply, this.tA);
      ops.setStatus(ct, manip === Manip.Src ? IPS.SRC_NAT : IPS.DST_NAT);
      this.stats.mangled++;
    }
    if (manip === Manip.Src) {
      this.readTuple(ct, Dir.Original, this.tA);
      const fam = (ct & 0x1000000) !== 0 ? 6 : 4;
      if ((ct & 0xffffff) >= this.bysource.capacity(fam)) this.bysource.ensureCapacity(fam, (ct & 0xffffff) + 1);
      this.bysource.add(ct, this.bysource.keyHash(this.tA.src, this.tA.srcPort, this.tA.proto));
    }
    ops.setStatus(ct, done);
    this.stats.setups++;
    return Verdict.Accept;
  }

  /**
   * allocNullBinding: bind `ct` for `manip` to its current address (Linux __nf_nat_alloc_null_binding):
   * the address is kept, the port is kept when free (otherwise moved within its band).
   */
  allocNullBinding(ct: number, manip: number): number {
    const r = this.nullRange;
    this.readTuple(ct, Dir.Reply, this.tB);
    const ip = manip === Manip.Src ? this.tB.dst : this.tB.src;
    r.flags = NatRangeFlag.MAP_IPS;
    copyAddr(r.minAddr, ip);
    copyAddr(r.maxAddr, ip);
    r.minProto = 0;
    r.maxProto = 0;
    r.baseProto = 0;
    return this.setupInfo(ct, r, manip);
  }

  /**
   * natSetup: what TargetEnv.natSetup should call for SNAT / DNAT / NETMAP targets: setupInfo for the
   * packet's connection; a range flagged NatRangeFlag.NETMAP is first turned into the single address
   * xt_NETMAP computes from the packet (see netmapRange).
   */
  natSetup(skb: Skb, range: NatRange, manip: number): number {
    if (skb.ct < 0) return Verdict.Accept;
    if ((range.flags & NatRangeFlag.NETMAP) !== 0) {
      netmapRange(skb.pi, range, manip, this.scratchRange);
      return this.setupInfo(skb.ct, this.scratchRange, manip);
    }
    return this.setupInfo(skb.ct, range, manip);
  }

  /** setMasqIndex: record the MASQUERADE output interface of `ct` (Linux nat->masq_index). */
  setMasqIndex(ct: number, ifindex: number): void {
    if (this.masqWord(ct) === 0) this.masqCount++;
    this.setMasqWord(ct, ifindex + 1);
  }

  /** masqIfindex: the MASQUERADE output interface of `ct`, or -1. */
  masqIfindex(ct: number): number {
    return ct >= 0 ? this.masqWord(ct) - 1 : -1;
  }

  // ---- get_unique_tuple -------------------------------------------------------------------

  private getUniqueTuple(out: Tuple, orig: Tuple, range: NatRange, ct: number, manip: number): void {
    const flags = range.flags;
    const zone = this.zoneOf(ct);
    // 1) source mappings: keep the original tuple if it fits and is free, else reuse this source's mapping
    if (manip === Manip.Src && (flags & RANDOM_ALL) === 0) {
      if (nfInRange(orig, range)) {
        if (!this.usedTupleNew(orig, ct)) {
          copyTuple(out, orig);
          return;
        }
      } else if (this.findAppropriateSrc(orig, out, range, zone)) {
        if (!this.usedTuple(out, ct)) return;
      }
    }
    // 2) the address in the range, deterministic per (source, destination)
    copyTuple(out, orig);
    findBestIps(out, range, manip, zone & 0xffff);
    // 3) keep the port/id if it is in range and unique
    if ((flags & RANDOM_ALL) === 0) {
      if ((flags & NatRangeFlag.PROTO_SPECIFIED) !== 0) {
        if (
          (flags & NatRangeFlag.PROTO_OFFSET) === 0 &&
          l4InRange(out, manip, range.minProto, range.maxProto) &&
          (range.minProto === range.maxProto || !this.usedTuple(out, ct))
        ) {
          return;
        }
      } else if (!this.usedTuple(out, ct)) {
        return;
      }
    }
    // 4) search the port / id space
    this.l4UniqueTuple(out, range, manip, ct);
  }

  /** Linux nf_nat_used_tuple: the reply this tuple implies is already some other entry's. */
  private usedTuple(t: Tuple, ct: number): boolean {
    invertTuple(this.tRev, t);
    return this.ct.tupleTaken(this.tRev, ct);
  }

  /**
   * Linux nf_nat_used_tuple_new: as usedTuple, but for protocols with clash resolution a collision
   * with an un-NATed entry going the exact opposite way (both ends sent their first packet at once)
   * is left to the confirm-time clash handling.
   */
  private usedTupleNew(t: Tuple, ct: number): boolean {
    if (!this.usedTuple(t, ct)) return false;
    if (!allowClash(t.proto)) return true;
    const usesNat = IPS.NAT_MASK | IPS.SEQ_ADJUST;
    if (ct >= 0 && (this.ct.status(ct) & usesNat) !== 0) return true;
    const zone = this.zoneOf(ct);
    let other = this.ct.findTuple(t, zone);
    if (other < 0) {
      invertTuple(this.tRev, t);
      other = this.ct.findTuple(this.tRev, zone);
      if (other < 0) return false; // the clashing entry went away
    }
    if (this.ct.foundDir !== Dir.Reply) return true;
    if ((this.ct.status(other) & usesNat) !== 0) return true;
    if (ct < 0) return true;
    // the other entry is exactly our connection seen from the other side
    this.readTuple(other, Dir.Original, this.tOther);
    this.readTuple(ct, Dir.Reply, this.tOwn);
    if (!this.tOther.equals(this.tOwn)) return true;
    this.readTuple(other, Dir.Reply, this.tOther);
    this.readTuple(ct, Dir.Original, this.tOwn);
    return !this.tOther.equals(this.tOwn);
  }

  /**
   * Linux nf_nat_used_tuple_harder: usedTuple, except that in the last HARDER_THRESH attempts for a TCP
   * connection in SYN_SENT, a colliding source-NATed entry in TIME_WAIT (or later) whose sequence space
   * the new connection has passed is evicted and its tuple reused.
   */
  private usedTupleHarder(t: Tuple, ct: number, attemptsLeft: number): boolean {
    invertTuple(this.tHard, t);
    const ops = this.ct;
    if (
      this.dryRun ||
      attemptsLeft > HARDER_THRESH ||
      t.proto !== IPPROTO.TCP ||
      ct < 0 ||
      ops.tcpState(ct) !== TCP_SYN_SENT
    ) {
      return ops.tupleTaken(this.tHard, ct);
    }
    const other = ops.findTuple(this.tHard, this.zoneOf(ct));
    if (other < 0) return false;
    if (ops.foundDir === Dir.Original) return true;
    if (other === ct) return true;
    const flags = ops.status(other);
    if (ops.tcpState(other) < TCP_TIME_WAIT) return true;
    if ((flags & (IPS.FIXED_TIMEOUT | IPS.DYING)) !== 0) return true;
    if ((flags & IPS.SRC_NAT) === 0) return true;
    // the new connection's first sequence must be past the old one's, so the old peer's late
    // segments cannot be taken for the new connection's
    if (((ops.tcpSeenEnd(ct, Dir.Original) - ops.tcpSeenEnd(other, Dir.Original)) | 0) <= 0) return true;
    if (ops.kill(other)) {
      this.stats.evicted++;
      return (flags & (IPS.OFFLOAD | IPS.HW_OFFLOAD)) !== 0;
    }
    return true;
  }

  /** zoneOf: the conntrack zone of entry `ct` (packed, CtZone); 0 without an entry or zone support. */
  private zoneOf(ct: number): number {
    return ct >= 0 && this.ct.zone !== undefined ? this.ct.zone(ct) : 0;
  }

  /**
   * Linux find_appropriate_src: an earlier binding of the same source, in the same conntrack zone (its
   * original direction), whose mapping fits `range`.
   */
  private findAppropriateSrc(orig: Tuple, out: Tuple, range: NatRange, zone: number): boolean {
    const bs = this.bysource;
    const s = this.tSrc;
    const h = bs.keyHash(orig.src, orig.srcPort, orig.proto);
    const fp = BySource.keyFp(h);
    for (let c = bs.head(bs.keyBucket(h)); c >= 0; c = bs.nextOf(c)) {
      // another key (the fingerprint of a different hash): skip it without reading its connection
      if (bs.fpOf(c) !== fp) continue;
      if (zoneIdInDir(this.zoneOf(c), Dir.Original) !== zoneIdInDir(zone, Dir.Original)) continue;
      this.readTuple(c, Dir.Original, s);
      if (s.proto !== orig.proto || s.family !== orig.family || s.srcPort !== orig.srcPort) continue;
      if (!addrEqual(s.src, orig.src)) continue;
      // take the source part of that connection's mapping, keep our destination
      this.readTuple(c, Dir.Reply, s);
      invertTuple(out, s);
      copyAddr(out.dst, orig.dst);
      out.dstPort = orig.dstPort;
      out.proto = orig.proto;
      if (nfInRange(out, range)) return true;
    }
    return false;
  }

  private random16(): number {
    const r = this.queryRng !== null ? this.queryRng : this.rng;
    return r.randomU32() & 0xffff;
  }

  /** Linux nf_nat_l4proto_unique_tuple: search the port / id space for a free tuple. */
  private l4UniqueTuple(t: Tuple, range: NatRange, manip: number, ct: number): void {
    const proto = t.proto;
    const flags = range.flags;
    let min: number;
    let rangeSize: number;
    let useSrc: boolean;
    if (isIcmpProto(proto)) {
      // the id is the same field in both directions
      useSrc = true;
      if ((flags & NatRangeFlag.PROTO_SPECIFIED) === 0) {
        min = 0;
        rangeSize = 65536;
      } else {
        min = range.minProto;
        // Linux computes the size in an unsigned int from u16 values: a reversed range wraps around
        rangeSize = range.maxProto - range.minProto + 1;
        if (rangeSize <= 0) rangeSize += 0x100000000;
      }
    } else if (proto === IPPROTO.TCP || proto === IPPROTO.UDP || proto === IPPROTO.UDPLITE || proto === IPPROTO.SCTP) {
      useSrc = manip === Manip.Src;
      if ((flags & NatRangeFlag.PROTO_SPECIFIED) === 0) {
        // a destination port never changes without a range
        if (manip === Manip.Dst) return;
        const port = useSrc ? t.srcPort : t.dstPort;
        if (port < 1024) {
          // ports below 512 stay below 512; 512..1023 ("credential passing") go to 600..1023
          if (port < 512) {
            min = 1;
            rangeSize = 511;
          } else {
            min = 600;
            rangeSize = 1023 - 600 + 1;
          }
        } else {
          min = 1024;
          rangeSize = 65535 - 1024 + 1;
        }
      } else {
        let lo = range.minProto;
        let hi = range.maxProto;
        if (hi < lo) {
          const x = lo;
          lo = hi;
          hi = x;
        }
        min = lo;
        rangeSize = hi - lo + 1;
      }
    } else {
      // GRE keys change only for PPTP (not tracked); other protocols have nothing to search
      return;
    }

    let off: number;
    if ((flags & NatRangeFlag.PROTO_OFFSET) !== 0) {
      off = ((useSrc ? t.srcPort : t.dstPort) - range.baseProto) & 0xffff;
    } else if ((flags & RANDOM_ALL) !== 0 || manip !== Manip.Dst) {
      off = this.random16();
      if (this.portHint !== null && !this.dryRun) {
        const k = this.portHint(ct, t, manip, min, rangeSize);
        if (k >= min && k - min < rangeSize) off = k - min;
      }
    } else {
      off = 0;
    }

    let attempts = Math.min(rangeSize, MAX_ATTEMPTS);
    for (;;) {
      for (let i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
        const key = (min + (off % rangeSize)) & 0xffff;
        if (useSrc) t.srcPort = key;
        else t.dstPort = key;
        if (!this.usedTupleHarder(t, ct, attempts - i)) return;
      }
      if (attempts >= rangeSize || attempts < 16) break;
      attempts = attempts >>> 1;
      off = this.random16();
    }
    // nothing free: keep the last candidate; the entry will clash at confirm time and be dropped
    if (!this.dryRun) this.stats.exhausted++;
  }

  // ---- packet path ------------------------------------------------------------------------

  /**
   * hook: the NAT hook function (Linux nf_nat_ipv4_fn / nf_nat_ipv6_fn + nf_nat_inet_fn) at `hook`
   * (Prerouting, Input, Output or Postrouting) for the packet in `skb` with its conntrack entry and
   * ctinfo. `runTable` evaluates the nat table chain of the hook (called only when the binding for this
   * hook's manip type is undecided). Returns the verdict; the packet bytes are rewritten in place and
   * skb.pi's addresses, ports and ids are kept in step.
   *
   * hot path: must not allocate.
   */
  hook(skb: Skb, hook: number, runTable: NatTableRunner): number {
    const ct = skb.ct;
    const ctinfo = skb.ctInfo;
    if (ct < 0 || ctinfo === CtInfo.None || ctinfo === CtInfo.Untracked) return Verdict.Accept;
    const pi = skb.pi;
    const manip = hookToManip(hook);

    if (ctinfo === CtInfo.Related || ctinfo === CtInfo.RelatedReply) {
      if (this.isIcmpPacket(pi)) {
        return this.icmpReplyTranslation(pi, ct, ctinfo, hook) ? Verdict.Accept : Verdict.Drop;
      }
    }

    switch (ctinfo) {
      case CtInfo.Related:
      case CtInfo.RelatedReply:
      case CtInfo.New:
        if (!this.isInitialized(ct, manip)) {
          const v = runTable(skb, hook);
          if (v !== Verdict.Accept) return v;
          if (!this.isInitialized(ct, manip)) {
            const w = this.allocNullBinding(ct, manip);
            if (w !== Verdict.Accept) return w;
          }
          break;
        }
        if (this.oifChanged(ct, ctinfo, hook, skb.outIf)) return this.killOifChanged(ct);
        break;
      default:
        if (this.oifChanged(ct, ctinfo, hook, skb.outIf)) return this.killOifChanged(ct);
    }
    return this.natPacket(pi, ct, ctinfo, hook);
  }

  /** Linux nf_nat_oif_changed: a MASQUERADEd connection's original direction leaves by another interface. */
  private oifChanged(ct: number, ctinfo: number, hook: number, outIf: number): boolean {
    // fast path: no MASQUERADE connection at all
    if (this.masqCount === 0 || hook !== Hook.Postrouting || ctinfo >= 3) return false;
    const m = this.masqWord(ct);
    return m !== 0 && m !== outIf + 1;
  }

  private killOifChanged(ct: number): number {
    this.stats.oifChanged++;
    this.ct.kill(ct);
    return Verdict.Drop;
  }

  /** the packet is ICMP (IPv4 protocol field) / ICMPv6 (after the extension headers Linux skips) */
  private isIcmpPacket(pi: PacketInfo): boolean {
    const b = pi.buf;
    if (pi.family === 4) return b[pi.off + 9] === IPPROTO.ICMP;
    if (pi.family !== 6) return false;
    const o = ipv6SkipExthdr(b, pi.off + pi.len, pi.off + 40, b[pi.off + 6]);
    return o >= 0 && lastSkipNextHdr() === IPPROTO.ICMPV6;
  }

  /**
   * natPacket: Linux nf_nat_packet: apply to the packet the manip of `hook` in the packet's direction,
   * if the connection has that kind of binding (SRC_NAT / DST_NAT, inverted for the reply direction).
   * Returns Verdict.Accept, or Drop when the packet is too short to rewrite.
   *
   * hot path: must not allocate.
   */
  natPacket(pi: PacketInfo, ct: number, ctinfo: number, hook: number): number {
    const manip = hookToManip(hook);
    const dir = ctinfo >= 3 ? Dir.Reply : Dir.Original;
    let statusbit = manip === Manip.Src ? IPS.SRC_NAT : IPS.DST_NAT;
    if (dir === Dir.Reply) statusbit ^= IPS.NAT_MASK;
    const ops = this.ct;
    if ((ops.status(ct) & statusbit) === 0) return Verdict.Accept;
    if (pi.family === 4 && ops.storeOf !== undefined) {
      // fast path (IPv4 TCP / UDP): the target is the inverse of the other direction's tuple, read
      // straight from the record: manip Src takes its destination, manip Dst its source
      const st: NatTupleStore = ops.storeOf(ct);
      const r = st.rec;
      const b = (ct & 0xffffff) * st.stride;
      const proto = r[b + 2 * st.node] >>> 24;
      if (st.aw === 1 && (proto === IPPROTO.TCP || proto === IPPROTO.UDP)) {
        const o = b + (1 - dir) * st.node;
        const src = manip === Manip.Src;
        const ports = r[o + 2];
        if (
          !ipv4ManipPorts(
            pi.buf,
            pi.off + pi.len,
            pi.off,
            proto,
            manip,
            src ? r[o + 1] : r[o],
            src ? ports & 0xffff : ports >>> 16,
          )
        ) {
          this.stats.manipFailed++;
          return Verdict.Drop;
        }
        syncPorts4(pi, src ? r[o + 1] : r[o], manip);
        return Verdict.Accept;
      }
    }
    // aim at the inverse of the other direction's tuple
    this.loadTarget(ct, 1 - dir, this.tB);
    const end = pi.off + pi.len;
    if (!manipPkt(pi.buf, end, pi.off, pi.family, this.tB, manip)) {
      this.stats.manipFailed++;
      return Verdict.Drop;
    }
    syncInfo(pi, this.tB, manip);
    return Verdict.Accept;
  }

  /**
   * readTuple: `out` = entry `ct`'s tuple in direction `dir`, straight from the connection table's words
   * when it offers them (NatConntrack.storeOf), else through `tuple`.
   *
   * hot path: must not allocate.
   */
  private readTuple(ct: number, dir: number, out: Tuple): void {
    const ops = this.ct;
    if (ops.storeOf === undefined) {
      ops.tuple(ct, dir, out);
      return;
    }
    const st: NatTupleStore = ops.storeOf(ct);
    const r = st.rec;
    const aw = st.aw;
    const o = (ct & 0xffffff) * st.stride + dir * st.node;
    const s = out.src;
    const d = out.dst;
    if (aw === 1) {
      out.family = 4;
      s[0] = r[o];
      d[0] = r[o + 1];
      s[1] = s[2] = s[3] = 0;
      d[1] = d[2] = d[3] = 0;
    } else {
      out.family = 6;
      s[0] = r[o];
      s[1] = r[o + 1];
      s[2] = r[o + 2];
      s[3] = r[o + 3];
      d[0] = r[o + 4];
      d[1] = r[o + 5];
      d[2] = r[o + 6];
      d[3] = r[o + 7];
    }
    const ports = r[o + 2 * aw];
    out.srcPort = ports >>> 16;
    out.dstPort = ports & 0xffff;
    out.proto = r[(ct & 0xffffff) * st.stride + 2 * st.node] >>> 24;
  }

  /**
   * loadTarget: `t` = the inverse of entry `ct`'s tuple in direction `other` (what nf_nat_manip_pkt aims
   * at), read straight from the connection table's words when it offers them. The ICMP type is left as
   * stored (the rewrite does not use it).
   *
   * hot path: must not allocate.
   */
  private loadTarget(ct: number, other: number, t: Tuple): void {
    const ops = this.ct;
    if (ops.storeOf === undefined) {
      ops.tuple(ct, other, this.tA);
      invertTuple(t, this.tA);
      return;
    }
    const st: NatTupleStore = ops.storeOf(ct);
    const r = st.rec;
    const aw = st.aw;
    const o = (ct & 0xffffff) * st.stride + other * st.node;
    const s = t.src;
    const d = t.dst;
    if (aw === 1) {
      t.family = 4;
      s[0] = r[o + 1];
      d[0] = r[o];
      s[1] = s[2] = s[3] = 0;
      d[1] = d[2] = d[3] = 0;
    } else {
      t.family = 6;
      s[0] = r[o + 4];
      s[1] = r[o + 5];
      s[2] = r[o + 6];
      s[3] = r[o + 7];
      d[0] = r[o];
      d[1] = r[o + 1];
      d[2] = r[o + 2];
      d[3] = r[o + 3];
    }
    const ports = r[o + 2 * aw];
    const proto = r[(ct & 0xffffff) * st.stride + 2 * st.node] >>> 24;
    t.proto = proto;
    if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) {
      t.srcPort = ports >>> 16;
      t.dstPort = ports & 0xffff;
    } else {
      t.srcPort = ports & 0xffff;
      t.dstPort = ports >>> 16;
    }
  }

  /**
   * icmpReplyTranslation: Linux nf_nat_icmp_reply_translation / nf_nat_icmpv6_reply_translation for an
   * ICMP error RELATED to `ct`: the quoted packet is rewritten as the connection's packets in the other
   * direction are, the ICMP checksum recomputed, and the outer header rewritten like a reply. Returns
   * false when the packet must be dropped.
   *
   * hot path: must not allocate.
   */
  icmpReplyTranslation(pi: PacketInfo, ct: number, ctinfo: number, hook: number): boolean {
    const buf = pi.buf;
    const end = pi.off + pi.len;
    const family = pi.family;
    let l4Off: number;
    if (family === 4) {
      l4Off = pi.off + (buf[pi.off] & 0x0f) * 4;
    } else {
      l4Off = ipv6SkipExthdr(buf, end, pi.off + 40, buf[pi.off + 6]);
      if (l4Off < 0) return false;
    }
    if (end < l4Off + 8 + (family === 4 ? 20 : 40)) {
      this.stats.icmpDropped++;
      return false;
    }
    if (this.verifyIcmp && icmpErrorCheck(buf, end, pi.off, family, l4Off) !== IcmpXlat.Ok) {
      this.stats.icmpDropped++;
      return false;
    }
    const status = this.ct.status(ct);
    const type = buf[l4Off];
    // redirects are translated only for connections without any NAT
    if ((family === 4 && type === 5) || (family === 6 && type === 137)) {
      if ((status & IPS.NAT_DONE_MASK) !== IPS.NAT_DONE_MASK || (status & IPS.NAT_MASK) !== 0) {
        this.stats.icmpDropped++;
        return false;
      }
    }
    const manip = hookToManip(hook);
    const dir = ctinfo === CtInfo.RelatedReply ? Dir.Reply : Dir.Original;
    let statusbit = manip === Manip.Src ? IPS.SRC_NAT : IPS.DST_NAT;
    if (dir === Dir.Reply) statusbit ^= IPS.NAT_MASK;
    if ((status & statusbit) === 0) return true;

    // inner: the quoted packet travelled the other way; outer: look like the reply to it
    this.readTuple(ct, 1 - dir, this.tA);
    invertTuple(this.tB, this.tA);
    this.tB.proto = family === 4 ? IPPROTO.ICMP : IPPROTO.ICMPV6;
    const innerManip = manip === Manip.Src ? Manip.Dst : Manip.Src;
    const r = icmpErrorManip(buf, end, pi.off, family, l4Off, this.tA, innerManip, this.tB, manip);
    if (r !== IcmpXlat.Ok) {
      this.stats.manipFailed++;
      return false;
    }
    syncAddr(pi, this.tB, manip);
    const inner = pi.inner;
    if (inner !== null && inner.status === WireStatus.Ok) syncInfo(inner, this.tA, innerManip);
    return true;
  }

  // ---- queries ----------------------------------------------------------------------------

  /**
   * queryMapping: the tuple a NEW connection whose packet currently looks like `orig` would get from
   * `range` for `manip`, given the table as it is now, without committing anything (no entry is
   * changed or evicted; TIME_WAIT eviction is not simulated). Random choices come from `rng` (default:
   * the Nat's own generator, which then advances). Slow path.
   */
  queryMapping(orig: Tuple, range: NatRange, manip: number, out: Tuple, rng?: NatRandom): void {
    this.dryRun = true;
    this.queryRng = rng ?? null;
    try {
      const r = this.scratchQueryRange;
      r.flags = range.flags & ~NatRangeFlag.NETMAP;
      r.minAddr.set(range.minAddr);
      r.maxAddr.set(range.maxAddr);
      r.minProto = range.minProto;
      r.maxProto = range.maxProto;
      r.baseProto = range.baseProto;
      this.getUniqueTuple(out, orig, r, -1, manip);
    } finally {
      this.dryRun = false;
      this.queryRng = null;
    }
  }
  private readonly scratchQueryRange = new NatRange();

  /**
   * queryNullBinding: the tuple a NEW connection would keep at a hook where no nat rule matched (its own
   * address, its port unless that is taken). Slow path.
   */
  queryNullBinding(orig: Tuple, manip: number, out: Tuple, rng?: NatRandom): void {
    const r = new NatRange();
    r.flags = NatRangeFlag.MAP_IPS;
    const ip = manip === Manip.Src ? orig.src : orig.dst;
    r.minAddr.set(ip);
    r.maxAddr.set(ip);
    this.queryMapping(orig, r, manip, out, rng);
  }

  /** bindings: fill `out` with what NAT did to `ct` (tuples and the rewritten endpoints). Slow path. */
  bindings(ct: number, out: NatBinding): NatBinding {
    this.readTuple(ct, Dir.Original, out.orig);
    this.readTuple(ct, Dir.Reply, out.reply);
    const st = this.ct.status(ct);
    out.snat = (st & IPS.SRC_NAT) !== 0;
    out.dnat = (st & IPS.DST_NAT) !== 0;
    // the reply's destination is where the source was mapped to, its source where the destination was
    out.snatAddr.set(out.reply.dst);
    out.dnatAddr.set(out.reply.src);
    if (isIcmpProto(out.orig.proto)) {
      out.snatPort = out.reply.srcPort;
      out.dnatPort = out.reply.srcPort;
    } else {
      out.snatPort = out.reply.dstPort;
      out.dnatPort = out.reply.srcPort;
    }
    out.masqIfindex = this.masqIfindex(ct);
    return out;
  }

  /**
   * describe: one line explaining the bindings of `ct`, e.g.
   * `tcp 10.0.0.2:40000 -> 198.51.100.7:80: SNAT to 192.0.2.1:40000`. Slow path.
   */
  describe(ct: number): string {
    const b = this.bindings(ct, new NatBinding());
    return describeBinding(b);
  }
}

/** describeBinding: the text of `describe` for a NatBinding. */
export function describeBinding(b: NatBinding): string {
  const o = b.orig;
  const icmp = isIcmpProto(o.proto);
  const ep = (family: number, a: Int32Array, port: number): string => {
    const s = formatAddr(family, a);
    if (icmp) return s;
    if (!hasPortsForDisplay(o.proto)) return s;
    return family === 6 ? `[${s}]:${port}` : `${s}:${port}`;
  };
  const name = protoName(o.proto);
  const idNote = icmp ? ` id=${o.srcPort}` : "";
  let s = `${name} ${ep(o.family, o.src, o.srcPort)} -> ${ep(o.family, o.dst, o.dstPort)}${idNote}:`;
  const parts: string[] = [];
  if (b.snat) parts.push(`SNAT to ${ep(o.family, b.snatAddr, b.snatPort)}${icmp ? ` id=${b.snatPort}` : ""}`);
  if (b.dnat)
    parts.push(`DNAT to ${ep(o.family, b.dnatAddr, b.dnatPort)}${icmp && !b.snat ? ` id=${b.dnatPort}` : ""}`);
  if (parts.length === 0) parts.push("no NAT");
  if (b.masqIfindex >= 0) parts.push(`(MASQUERADE via ifindex ${b.masqIfindex})`);
  s += ` ${parts.join(", ")}`;
  return s;
}

function hasPortsForDisplay(proto: number): boolean {
  return (
    proto === IPPROTO.TCP ||
    proto === IPPROTO.UDP ||
    proto === IPPROTO.UDPLITE ||
    proto === IPPROTO.SCTP ||
    proto === IPPROTO.DCCP
  );
}

/** the protocol's name in descriptions: conntrack's names, "proto N" for the ones it calls "unknown" */
function protoName(proto: number): string {
  const n = conntrackProtoName(proto);
  return n === "unknown" ? `proto ${proto}` : n;
}

// ---- range helpers (pure) -------------------------------------------------------------------

/** Linux nf_nat_inet_in_range: the tuple's SOURCE address lies within [minAddr, maxAddr]. */
export function inetInRange(t: Tuple, range: NatRange): boolean {
  return addrCompare(t.src, range.minAddr) >= 0 && addrCompare(t.src, range.maxAddr) <= 0;
}

/** Linux l4proto_in_range: the manipulable port / id of `t` lies within [min, max]. */
export function l4InRange(t: Tuple, manip: number, min: number, max: number): boolean {
  const proto = t.proto;
  if (isIcmpProto(proto)) return t.srcPort >= min && t.srcPort <= max;
  if (
    proto === IPPROTO.GRE ||
    proto === IPPROTO.TCP ||
    proto === IPPROTO.UDP ||
    proto === IPPROTO.UDPLITE ||
    proto === IPPROTO.SCTP
  ) {
    const port = manip === Manip.Src ? t.srcPort : t.dstPort;
    return port >= min && port <= max;
  }
  return true;
}

/** Linux nf_in_range: a source mapping to `t` would satisfy `range`. */
export function nfInRange(t: Tuple, range: NatRange): boolean {
  if ((range.flags & NatRangeFlag.MAP_IPS) !== 0 && !inetInRange(t, range)) return false;
  if ((range.flags & NatRangeFlag.PROTO_SPECIFIED) === 0) return true;
  return l4InRange(t, Manip.Src, range.minProto, range.maxProto);
}

/**
 * findBestIps: Linux find_best_ips_proto: choose the address of `t` that `manip` changes from the
 * range: the range's only address, or jhash2 of the source address seeded with the last word of the
 * destination xor the conntrack zone id `zoneId` (unless PERSISTENT), scaled word by word into the range with reciprocal_scale, exactly as
 * the kernel computes it on a little-endian host.
 */
export function findBestIps(t: Tuple, range: NatRange, manip: number, zoneId = 0): void {
  if ((range.flags & NatRangeFlag.MAP_IPS) === 0) return;
  const v = manip === Manip.Src ? t.src : t.dst;
  const min = range.minAddr;
  const maxA = range.maxAddr;
  if (addrEqual(min, maxA)) {
    copyAddr(v, min);
    return;
  }
  const last = t.family === 4 ? 0 : 3;
  const persistent = (range.flags & NatRangeFlag.PERSISTENT) !== 0;
  // the hash reads the words in host (little-endian) order; the seed mixes in the conntrack zone id
  let j = jhash2x4(
    bswap32(t.src[0]),
    bswap32(t.src[1]),
    bswap32(t.src[2]),
    bswap32(t.src[3]),
    persistent ? 0 : (bswap32(t.dst[last]) ^ zoneId) | 0,
  );
  let fullRange = false;
  for (let i = 0; i <= last; i++) {
    let minip: number;
    let dist: number;
    if (!fullRange) {
      minip = min[i] >>> 0;
      dist = ((maxA[i] >>> 0) - minip + 1) >>> 0;
    } else {
      minip = 0;
      dist = 0xffffffff;
    }
    v[i] = (minip + reciprocalScale(j, dist)) | 0;
    if (v[i] !== maxA[i]) fullRange = true;
    if (!persistent) j ^= bswap32(t.dst[i]);
  }
}

// ---- per-packet range builders for targets --------------------------------------------------

/**
 * netmapRange: xt_NETMAP: map the packet's destination (manip Dst: PREROUTING, OUTPUT) or source
 * (manip Src: POSTROUTING, INPUT) address into the prefix of `range` (mask = ~(min ^ max): the host
 * part is kept), into `out` as a single-address range with MAP_IPS and the rule's port range.
 */
export function netmapRange(pi: PacketInfo, range: NatRange, manip: number, out: NatRange): NatRange {
  const a = manip === Manip.Dst ? pi.dst : pi.src;
  const min = range.minAddr;
  const max = range.maxAddr;
  const n = pi.family === 4 ? 1 : 4;
  for (let i = 0; i < 4; i++) {
    if (i >= n) {
      out.minAddr[i] = 0;
      out.maxAddr[i] = 0;
      continue;
    }
    const mask = ~(min[i] ^ max[i]);
    const w = (a[i] & ~mask) | (min[i] & mask);
    out.minAddr[i] = w;
    out.maxAddr[i] = w;
  }
  out.flags = (range.flags | NatRangeFlag.MAP_IPS) & ~NatRangeFlag.NETMAP;
  out.minProto = range.minProto;
  out.maxProto = range.maxProto;
  out.baseProto = range.baseProto;
  return out;
}

/** singleAddrRange: `out` = range with address fixed to `addr` (4 words) and MAP_IPS, ports from `range`. */
export function singleAddrRange(range: NatRange, addr: Int32Array, out: NatRange): NatRange {
  out.flags = (range.flags | NatRangeFlag.MAP_IPS) & ~NatRangeFlag.NETMAP;
  copyAddr(out.minAddr, addr);
  copyAddr(out.maxAddr, addr);
  out.minProto = range.minProto;
  out.maxProto = range.maxProto;
  out.baseProto = range.baseProto;
  return out;
}

// ---- keeping PacketInfo in step -------------------------------------------------------------

/** syncAddr: copy the address `manip` changed into `pi`. */
function syncAddr(pi: PacketInfo, target: Tuple, manip: number): void {
  const to = manip === Manip.Src ? pi.src : pi.dst;
  const from = manip === Manip.Src ? target.src : target.dst;
  to[0] = from[0];
  if (pi.family === 6) {
    to[1] = from[1];
    to[2] = from[2];
    to[3] = from[3];
  }
}

/** syncPorts4: syncInfo after an IPv4 TCP / UDP rewrite whose new address is `addr`. */
function syncPorts4(pi: PacketInfo, addr: number, manip: number): void {
  if (manip === Manip.Src) pi.src[0] = addr;
  else pi.dst[0] = addr;
  if (pi.l4Status !== WireStatus.Ok || pi.isFragment) return;
  const b = pi.buf;
  const o = pi.l4Off;
  if (o + 4 > b.length) return;
  pi.srcPort = readU16(b, o);
  pi.dstPort = readU16(b, o + 2);
}

/** syncInfo: after a rewrite, refresh the address and the port / id fields `manip` changed. */
function syncInfo(pi: PacketInfo, target: Tuple, manip: number): void {
  syncAddr(pi, target, manip);
  if (pi.l4Status !== WireStatus.Ok || pi.isFragment) return;
  const b = pi.buf;
  const o = pi.l4Off;
  if (o + 4 > b.length) return;
  switch (target.proto) {
    case IPPROTO.TCP:
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
    case IPPROTO.SCTP:
      pi.srcPort = readU16(b, o);
      pi.dstPort = readU16(b, o + 2);
      break;
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
      if (o + 6 <= b.length && !pi.icmpIsError) pi.icmpId = readU16(b, o + 4);
      break;
    default:
      break;
  }
}
