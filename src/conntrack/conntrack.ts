/**
 * Conntrack: Linux nf_conntrack for IPv4 and IPv6 on typed-array tables (see store.ts), driven by
 * packet time. The packet path:
 *
 *   PREROUTING / OUTPUT (priority -200)   ct.in(skb, hook)      nf_conntrack_in
 *   INPUT / POSTROUTING (last)            ct.confirm(skb)       nf_confirm / __nf_conntrack_confirm
 *   a packet dropped in between           ct.release(skb)       (the skb's unconfirmed entry is freed)
 *
 * `in` attaches an entry to the packet (skb.ct, skb.ctInfo) or classifies it INVALID (skb.ct = -1,
 * skb.ctInfo = CtInfo.None, stats.invalid++, `reason` says why) or UNTRACKED. A new connection gets an
 * UNCONFIRMED entry that is not in the hash yet; `confirm` inserts it (clash check, UDP clash
 * resolution) and starts its timeout. Status bits are set as Linux sets them.
 *
 * Entry ids (`ct`): the slot index for IPv4, slot | CT_V6 for IPv6 (see ctFamily / ctSlot).
 *
 * hot path: `in` and `confirm` for established packets do not allocate. Entry creation may grow the
 * table (slow, amortised).
 */
import type { CtView } from "../core/env.js";
import { CtInfo, CtZone, Dir, IPPROTO, IPS, Verdict, zoneIdInDir } from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import type { Tuple } from "../core/tuple.js";
import { verifyL4Checksum } from "../wire/checksum.js";
import { type PacketInfo, WireStatus } from "../wire/packet-info.js";
import { type CtConfig, defaultCtConfig, HZ, TcpCtState, toTicks } from "./config.js";
import { hashV4 } from "./hash.js";
import { ICMP_CONTINUE, icmpError, icmpPacket, icmpv6Packet, invertible, invertPorts } from "./icmp.js";
import { CtReason } from "./reasons.js";
import { sctpCanEarlyDrop, sctpPacket } from "./sctp.js";
import {
  CtStore,
  MAX_SLOTS,
  META_EV_MARK,
  META_EV_PROTO,
  META_EV_UPDATE,
  META_FREE,
  META_HASHED_ORIG,
  META_STATE_MASK,
  META_STATE_SHIFT,
  NIL,
  W_AUX,
  W_END,
  W_EXPIRY,
  W_MARK,
  W_META,
} from "./store.js";
import { TR_ACCEPT, TR_REPEAT, tcpCanEarlyDrop, tcpPacket } from "./tcp.js";
import { genericPacket, greKeys, grePacket, udplitePacket, udpPacket } from "./udp.js";

/** CT_V6: the bit that marks an IPv6 entry id */
export const CT_V6 = 1 << 24;
/** ctFamily: 4 or 6 for an entry id */
export function ctFamily(ct: number): number {
  return (ct & CT_V6) !== 0 ? 6 : 4;
}
/** ctSlot: the slot of an entry id within its family's store */
export function ctSlot(ct: number): number {
  return ct & 0xffffff;
}

/**
 * zoneOfSkb: the conntrack zone a packet's CT template gives (Linux nf_ct_zone_tmpl): the template's
 * zone, its id taken from the packet mark (low 16 bits) for `CT --zone mark`; 0 for the default zone.
 */
export function zoneOfSkb(skb: Skb): number {
  const z = skb.ctZone;
  const id = (z & CtZone.FromMark) !== 0 ? skb.mark & CtZone.IdMask : z & CtZone.IdMask;
  return id === 0 ? 0 : id | (z & CtZone.DirBoth);
}

/** CtPrefetch: what Conntrack.prefetchIndex leaves for prefetchEntries (one per group of packets in flight). */
export class CtPrefetch {
  /** per packet: the index word where its lookup starts, or -1 */
  readonly at = new Int32Array(64);
  /** per packet: fingerprint (bits 0-7) and family (bit 8 set for IPv6) */
  readonly tags = new Int32Array(64);
  /** packets in the group */
  count = 0;
}

/** CtEvent: event types (conntrack -E [NEW] / [UPDATE] / [DESTROY]) */
export const CtEvent = { New: 1, Update: 2, Destroy: 3 } as const;

/** DestroyHook: called once for every entry that leaves the table (confirmed or not), before reuse */
export type DestroyHook = (ct: number) => void;
/** EventSink: receives conntrack events; format them with `formatEvent(ct, type, ctId)` */
export type EventSink = (type: number, ct: number) => void;
/** GrowHook: a store's capacity changed (family 4 or 6, new slot count) */
export type CapacityHook = (family: number, capacity: number) => void;

/** CtStats: Linux's per-CPU conntrack statistics (`conntrack -S`), for one CPU. */
export class CtStats {
  found = 0;
  invalid = 0;
  ignore = 0;
  insert = 0;
  insertFailed = 0;
  drop = 0;
  earlyDrop = 0;
  error = 0;
  searchRestart = 0;
  clashResolve = 0;
  chaintoolong = 0;
}

/** Options for a Conntrack table. */
export interface ConntrackOptions {
  /** sysctl-derived configuration (default: Linux defaults) */
  config?: CtConfig;
  /** hash seed (default 0); use a different one per table to spread chains unpredictably */
  seed?: number;
  /** slots allocated up front per family (default 1024); the table grows by doubling */
  initialCapacity?: number;
}

/**
 * GC pacing: every GC_EVERY packets, the collector earns credit in proportion to the packet time
 * elapsed, enough to visit every slot once per GC_CYCLE of packet time, and spends at most GC_BATCH
 * slots of it (bounded work per call). Lookups never return expired entries in between.
 */
const GC_EVERY = 64;
const GC_BATCH = 2048;
const GC_CYCLE = 8 * HZ;
/** Linux early_drop: buckets scanned (NF_CT_EVICTION_RANGE) */
const EVICTION_RANGE = 8;
/** Linux confirm: chain length limit, random in [MIN_CHAINLEN, MIN_CHAINLEN + MAX_CHAINLEN) */
const MIN_CHAINLEN = 50;
const MAX_CHAINLEN = 30;

export class Conntrack implements CtView {
  readonly cfg: CtConfig;
  readonly v4: CtStore;
  readonly v6: CtStore;
  readonly stats: CtStats = new CtStats();
  /** why the last `in` / `confirm` classified the packet as it did (CtReason) */
  reason = 0;
  /** time of the packet being processed, ticks (1/HZ s) */
  now = 0;
  /** hook of the packet being processed */
  hook = 0;
  /** set by findTuple: direction of the node found */
  foundDir = 0;
  /** conntrack zone of the packet being processed (packed, CtZone; resolved from its CT template) */
  pktZone = 0;

  private destroyHook: DestroyHook | null = null;
  private eventSink: EventSink | null = null;
  private capacityHook: CapacityHook | null = null;
  private gcCountdown = GC_EVERY;
  private gcLast = 0;
  private gcCredit = 0;
  private gcFamily = 0;
  private gcCursor = 0;
  /** Linux conntrack_gc_work.early_drop: set when an allocation failed for lack of room */
  private gcEarlyDrop = false;
  private rng: number;
  /** accounting counters per store: [origPackets, origBytes, replyPackets, replyBytes] per slot */
  private acct4: Float64Array | null = null;
  private acct6: Float64Array | null = null;
  private curDir = 0;
  private curBytes = 0;
  /** prefetchBatch scratch */
  private readonly pf = new CtPrefetch();
  /** earlyDrop scratch: the nodes of one hash chain */
  private readonly edNodes = new Int32Array(256);

  constructor(opts: ConntrackOptions = {}) {
    this.cfg = opts.config ?? defaultCtConfig();
    const seed = (opts.seed ?? 0) | 0;
    const init = opts.initialCapacity ?? 1024;
    const cap = Math.max(this.cfg.max, 0);
    this.v4 = new CtStore(4, init, cap, seed);
    this.v6 = new CtStore(6, init, cap, seed ^ 0x5bd1e995);
    this.rng = (seed ^ 0x9e3779b9) | 1;
    const grow = (family: number, capacity: number): void => this.onStoreGrow(family, capacity);
    this.v4.onGrow = grow;
    this.v6.onGrow = grow;
  }

  // ---- ids ---------------------------------------------------------------------------------------

  /** ctId: the entry id of `slot` in `store` */
  ctId(store: CtStore, slot: number): number {
    return store.family === 4 ? slot : slot | CT_V6;
  }
  /** storeOf: the store holding entry `ct` */
  storeOf(ct: number): CtStore {
    return (ct & CT_V6) !== 0 ? this.v6 : this.v4;
  }
  /** commonBase: index in storeOf(ct).rec of the entry's common area */
  commonBase(ct: number): number {
    const s = (ct & CT_V6) !== 0 ? this.v6 : this.v4;
    return (ct & 0xffffff) * s.stride + s.common;
  }

  // ---- hooks -------------------------------------------------------------------------------------

  /**
   * setDestroyHook: one callback for every entry leaving the table (killed, expired, early-dropped,
   * or an unconfirmed entry released). Runs before the slot can be reused; the entry is still
   * readable. NAT uses it to keep its by-source index.
   */
  setDestroyHook(fn: DestroyHook | null): void {
    this.destroyHook = fn;
  }
  /** setEventSink: receive [NEW] / [UPDATE] / [DESTROY] events (null: none, the default; cheaper). */
  setEventSink(fn: EventSink | null): void {
    this.eventSink = fn;
  }
  /**
   * setCapacityHook: called when a family's store grows (after the copy), with the new slot count.
   * Per-entry side arrays indexed by ctSlot(ct) must then hold `capacity` slots.
   */
  setCapacityHook(fn: CapacityHook | null): void {
    this.capacityHook = fn;
  }
  /** capacity: slots per family currently allocated (side arrays indexed by ctSlot need this many) */
  capacity(family: number): number {
    return family === 6 ? this.v6.capacity : this.v4.capacity;
  }

  private onStoreGrow(family: number, capacity: number): void {
    const old = family === 4 ? this.acct4 : this.acct6;
    if (old !== null) {
      const a = new Float64Array(capacity * 4);
      a.set(old);
      if (family === 4) this.acct4 = a;
      else this.acct6 = a;
    }
    if (this.capacityHook !== null) this.capacityHook(family, capacity);
  }

  // ---- services used by the trackers --------------------------------------------------------------

  /** checksumHere: whether transport checksums are verified for the current packet (PREROUTING + sysctl) */
  checksumHere(): boolean {
    return this.cfg.checksum && this.hook === 0;
  }
  /** l4ChecksumOk: the packet's transport checksum is correct */
  l4ChecksumOk(pi: PacketInfo): boolean {
    return verifyL4Checksum(pi) === WireStatus.Ok;
  }
  /** refresh: Linux nf_ct_refresh_acct: new timeout (unless fixed) and accounting */
  refresh(r: Int32Array, cb: number, timeout: number): void {
    if ((r[cb + W_META] & IPS.FIXED_TIMEOUT) === 0) r[cb + W_EXPIRY] = (this.now + timeout) | 0;
    if (this.cfg.acct) this.account(r, cb);
  }
  /** expiresTicks: ticks left before the entry expires (0 if expired) */
  expiresTicks(r: Int32Array, cb: number): number {
    const d = (r[cb + W_EXPIRY] - this.now) | 0;
    return Math.max(d, 0);
  }
  /** setExpiry: expire `t` ticks from now */
  setExpiry(r: Int32Array, cb: number, t: number): void {
    r[cb + W_EXPIRY] = (this.now + t) | 0;
  }
  /** eventUpdate: note an UPDATE event for delivery at confirm (only with an event sink) */
  eventUpdate(r: Int32Array, cb: number): void {
    if (this.eventSink !== null) r[cb + W_META] |= META_EV_UPDATE;
  }
  /** eventProtoinfo: a protocol state change (Linux IPCT_PROTOINFO): the event shows the state */
  eventProtoinfo(r: Int32Array, cb: number): void {
    if (this.eventSink !== null) r[cb + W_META] |= META_EV_UPDATE | META_EV_PROTO;
  }
  /** icmpFail: an ICMP packet conntrack cannot use: no entry, stat `error` (Linux: not `invalid`) */
  icmpFail(skb: Skb, reason: number): number {
    this.stats.error++;
    this.reason = reason;
    skb.ct = -1;
    skb.ctInfo = CtInfo.None;
    return Verdict.Accept;
  }
  /**
   * findLive: node id (slot * 2 + dir) of the hashed, unexpired entry with this tuple, or -1. An
   * expired entry met on the way is killed (Linux checks expiry on lookup).
   */
  findLive(store: CtStore, src: Int32Array, dst: Int32Array, ports: number, proto: number, zone = 0): number {
    store.expiredSeen = -1;
    const n = store.find(src, 0, dst, 0, ports, proto, this.now, zone);
    if (store.expiredSeen >= 0) this.kill(this.ctId(store, store.expiredSeen));
    return n;
  }

  /** accountOnly: count the current packet without refreshing (Linux nf_ct_kill_acct) */
  accountOnly(r: Int32Array, cb: number): void {
    this.account(r, cb);
  }

  private account(r: Int32Array, cb: number): void {
    const store = r === this.v4.rec ? this.v4 : this.v6;
    let a = store.family === 4 ? this.acct4 : this.acct6;
    if (a === null) {
      a = new Float64Array(store.capacity * 4);
      if (store.family === 4) this.acct4 = a;
      else this.acct6 = a;
    }
    const i = ((cb - store.common) / store.stride) * 4 + this.curDir * 2;
    a[i] += 1;
    a[i + 1] += this.curBytes;
  }

  /** counters: [packets, bytes] of `ct` in `dir` (accounting on), or null */
  counters(ct: number, dir: number): [number, number] | null {
    const a = (ct & CT_V6) !== 0 ? this.acct6 : this.acct4;
    if (a === null) return null;
    const i = (ct & 0xffffff) * 4 + dir * 2;
    return [a[i], a[i + 1]];
  }

  // ---- the packet path ---------------------------------------------------------------------------

  private invalid(skb: Skb, reason: number): number {
    this.stats.invalid++;
    this.reason = reason;
    skb.ct = -1;
    skb.ctInfo = CtInfo.None;
    return Verdict.Accept;
  }

  /**
   * in: Linux nf_conntrack_in at PREROUTING (hook 0) or OUTPUT (hook 3). Sets skb.ct / skb.ctInfo and
   * `reason`; returns Verdict.Accept, or Verdict.Drop when the table is full and nothing can be
   * early-dropped. A packet that already carries an entry (or UNTRACKED) is left alone; skb.notrack
   * (raw table NOTRACK / CT --notrack) makes it UNTRACKED.
   *
   * hot path: must not allocate for packets of existing connections.
   */
  in(skb: Skb, hook: number): number {
    this.reason = CtReason.None;
    if (skb.ct >= 0 || skb.ctInfo === CtInfo.Untracked) return Verdict.Accept;
    if (skb.notrack) {
      skb.ctInfo = CtInfo.Untracked;
      return Verdict.Accept;
    }
    this.now = toTicks(skb.now);
    this.hook = hook;
    this.pktZone = skb.ctZone === 0 ? 0 : zoneOfSkb(skb);
    if (--this.gcCountdown <= 0) this.gcTick();
    const pi = skb.pi;
    if (pi.status !== WireStatus.Ok) return this.invalid(skb, CtReason.BadIpHeader);
    // nf_defrag runs first: a fragment here is one it could not reassemble (no transport header).
    if (pi.fragOff !== 0) return this.invalid(skb, CtReason.Fragment);
    const fam = pi.family;
    const proto = pi.proto;
    if (fam === 6 && proto === IPPROTO.NONE) return this.invalid(skb, CtReason.NoNextHeader);
    if ((proto === IPPROTO.ICMP && fam === 4) || (proto === IPPROTO.ICMPV6 && fam === 6)) {
      const v = icmpError(this, skb, pi);
      if (v !== ICMP_CONTINUE) return v;
    }
    const b = pi.buf;
    const o = pi.l4Off;
    const l = pi.l4Len;
    let ports = 0;
    switch (proto) {
      case IPPROTO.TCP:
      case IPPROTO.UDP:
      case IPPROTO.UDPLITE:
      case IPPROTO.SCTP:
        if (l < 4) return this.invalid(skb, CtReason.NoTuple);
        ports = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
        break;
      case IPPROTO.ICMP:
      case IPPROTO.ICMPV6:
        if (l < 8) return this.invalid(skb, CtReason.NoTuple);
        ports = (((b[o + 4] << 8) | b[o + 5]) << 16) | (b[o] << 8) | b[o + 1];
        break;
      case IPPROTO.GRE:
        ports = greKeys(b, o, l);
        if (ports < 0) return this.invalid(skb, CtReason.GreBadProto);
        break;
      default:
        break;
    }
    const store = fam === 4 ? this.v4 : this.v6;
    for (let attempt = 0; ; attempt++) {
      store.expiredSeen = -1;
      const n = store.find(pi.src, 0, pi.dst, 0, ports, proto, this.now, this.pktZone);
      if (store.expiredSeen >= 0) this.kill(this.ctId(store, store.expiredSeen));
      let slot: number;
      let dir: number;
      let confirmed: boolean;
      if (n >= 0) {
        slot = n >>> 1;
        dir = n & 1;
        confirmed = true;
      } else {
        // init_conntrack: a tuple that cannot be inverted (an ICMP answer type) makes no entry.
        if (!invertible(proto, ports)) return this.invalid(skb, CtReason.IcmpNotNew);
        slot = this.newEntry(store, pi.src, pi.dst, ports, invertPorts(proto, ports), proto, this.pktZone);
        if (slot < 0) {
          // Table full and nothing could be early-dropped: "nf_conntrack: table full, dropping packet".
          this.stats.drop++;
          this.reason = CtReason.TableFull;
          skb.ct = -1;
          skb.ctInfo = CtInfo.None;
          return Verdict.Drop;
        }
        dir = 0;
        confirmed = false;
      }
      const r = store.rec;
      const cb = slot * store.stride + store.common;
      const status = r[cb + W_META];
      let ctinfo: number;
      if (dir === 1) ctinfo = CtInfo.EstablishedReply;
      else if ((status & IPS.SEEN_REPLY) !== 0) ctinfo = CtInfo.Established;
      else if ((status & IPS.EXPECTED) !== 0) ctinfo = CtInfo.Related;
      else ctinfo = CtInfo.New;
      const ct = fam === 4 ? slot : slot | CT_V6;
      this.curDir = dir;
      this.curBytes = pi.len;
      let ret: number;
      switch (proto) {
        case IPPROTO.TCP:
          ret = tcpPacket(this, ct, r, cb, dir, pi, confirmed);
          break;
        case IPPROTO.UDP:
          ret = udpPacket(this, r, cb, pi, confirmed);
          break;
        case IPPROTO.ICMP:
          ret = icmpPacket(this, r, cb, fam, r[slot * store.stride + 2 * store.aw]);
          break;
        case IPPROTO.ICMPV6:
          ret = icmpv6Packet(this, r, cb, fam, r[slot * store.stride + 2 * store.aw], confirmed);
          break;
        case IPPROTO.UDPLITE:
          ret = udplitePacket(this, r, cb, pi);
          break;
        case IPPROTO.SCTP:
          ret = sctpPacket(this, r, cb, dir, pi, confirmed);
          break;
        case IPPROTO.GRE:
          ret = grePacket(this, r, cb);
          break;
        default:
          ret = genericPacket(this, r, cb);
          break;
      }
      if (ret === TR_ACCEPT) {
        if (ctinfo === CtInfo.EstablishedReply && (r[cb + W_META] & IPS.SEEN_REPLY) === 0) {
          r[cb + W_META] |= IPS.SEEN_REPLY;
          this.eventUpdate(r, cb);
        }
        skb.ct = ct;
        skb.ctInfo = ctinfo;
        return Verdict.Accept;
      }
      if (!confirmed) this.freeUnconfirmed(store, slot);
      // TCP asks to look again after killing a closed connection that is being reopened.
      if (ret === TR_REPEAT && attempt < 3) continue;
      return this.invalid(skb, this.reason === CtReason.None ? CtReason.TcpInvalidState : this.reason);
    }
  }

  /**
   * prefetch: start the memory loads `in` will make for this packet's lookup, without changing
   * anything. An engine that handles packets in batches calls it for every packet of the batch first,
   * then runs them through the hooks: the cache misses of the batch overlap instead of stalling one
   * packet at a time. Returns a value only to keep the loads alive.
   *
   * hot path: must not allocate.
   */
  prefetch(pi: PacketInfo): number {
    if (pi.status !== WireStatus.Ok || pi.fragOff !== 0) return 0;
    const b = pi.buf;
    const o = pi.l4Off;
    const proto = pi.proto;
    let ports = 0;
    switch (proto) {
      case IPPROTO.TCP:
      case IPPROTO.UDP:
      case IPPROTO.UDPLITE:
      case IPPROTO.SCTP:
        if (pi.l4Len < 4) return 0;
        ports = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
        break;
      case IPPROTO.ICMP:
      case IPPROTO.ICMPV6:
        if (pi.l4Len < 8) return 0;
        ports = (((b[o + 4] << 8) | b[o + 5]) << 16) | (b[o] << 8) | b[o + 1];
        break;
      default:
        break;
    }
    return (pi.family === 4 ? this.v4 : this.v6).touch(pi.src, pi.dst, ports, proto);
  }

  /**
   * prefetchBatch: prefetch for `count` packets (at most 64) at once: the index buckets and then the
   * records their lookups will read, so that the CPU keeps many cache misses in flight instead of
   * stalling once or twice per packet (prefetchIndex then prefetchEntries). Returns a value only to keep
   * the loads alive.
   *
   * hot path: must not allocate.
   */
  prefetchBatch(pis: readonly PacketInfo[], count: number): number {
    return this.prefetchIndex(pis, count, this.pf) ^ this.prefetchEntries(this.pf);
  }

  /**
   * prefetchIndex: the first half of prefetchBatch for `count` packets (at most 64): hash their tuples
   * and load the index buckets their lookups start in; `pf` remembers where, for prefetchEntries. A
   * caller that can work ahead calls prefetchIndex for one group of packets and prefetchEntries for the
   * group before it, whose buckets have arrived by then, so that neither waits for memory (software
   * pipelining); prefetchBatch does both for one group, waiting once in between.
   *
   * The passes are kept lean on purpose: the CPU overlaps the misses of as many loads as its instruction
   * window holds, so the hashing is done in a pass of its own and the loads follow one after the other.
   *
   * hot path: must not allocate.
   */
  prefetchIndex(pis: readonly PacketInfo[], count: number, pf: CtPrefetch): number {
    const at = pf.at;
    const tags = pf.tags;
    const n = Math.min(count, at.length);
    pf.count = n;
    // 1: hash every packet's tuple: the index word where its lookup starts, its fingerprint and family
    const v4 = this.v4;
    const seeds = v4.seeds;
    const k0 = seeds[0];
    const k1 = seeds[1];
    const k2 = seeds[2];
    const scale4 = v4.bucketScale;
    for (let k = 0; k < n; k++) {
      const pi = pis[k];
      at[k] = -1;
      if (pi.status !== WireStatus.Ok || pi.fragOff !== 0 || pi.l4Len < 8) continue;
      const b = pi.buf;
      const o = pi.l4Off;
      const proto = pi.proto;
      let ports = 0;
      if (proto === IPPROTO.TCP || proto === IPPROTO.UDP || proto === IPPROTO.UDPLITE || proto === IPPROTO.SCTP) {
        ports = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
      } else if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) {
        ports = (((b[o + 4] << 8) | b[o + 5]) << 16) | (b[o] << 8) | b[o + 1];
      }
      if (pi.family === 4) {
        const h = hashV4(k0, k1, k2, pi.src[0], pi.dst[0], ports, proto);
        const fp = h & 0xff;
        at[k] = (((h >>> 8) * scale4) | 0) * 16 + 1 + (fp % 15);
        tags[k] = fp;
      } else {
        const h = this.v6.tupleHash(pi.src, 0, pi.dst, 0, ports, proto);
        const fp = h & 0xff;
        at[k] = this.v6.homeWord(h) + 1 + (fp % 15);
        tags[k] = fp | 0x100;
      }
    }
    // 2: the bucket lines
    const idx4 = v4.idx;
    const idx6 = this.v6.idx;
    let acc = 0;
    for (let k = 0; k < n; k++) {
      const j = at[k];
      if (j >= 0) acc ^= tags[k] < 0x100 ? idx4[j] : idx6[j];
    }
    return acc;
  }

  /**
   * prefetchEntries: the second half of prefetchBatch: load the records (both cache lines) of the entries
   * found in the buckets prefetchIndex loaded into `pf`: the entry at each lookup's start position, or
   * the next one, whichever has the tuple's fingerprint (where a lookup usually finds it).
   *
   * hot path: must not allocate.
   */
  prefetchEntries(pf: CtPrefetch): number {
    const at = pf.at;
    const tags = pf.tags;
    const n = pf.count;
    const v4 = this.v4;
    const idx4 = v4.idx;
    const idx6 = this.v6.idx;
    let acc = 0;
    const rec4 = v4.rec;
    const rec6 = this.v6.rec;
    const s4 = v4.stride;
    const s6 = this.v6.stride;
    for (let k = 0; k < n; k++) {
      const j = at[k];
      if (j < 0) continue;
      const tag = tags[k];
      const four = tag < 0x100;
      const idx = four ? idx4 : idx6;
      // the start position or the next (the last position of a bucket is followed by its first)
      let e = idx[j];
      if (e >>> 24 !== (tag & 0xff)) e = idx[(j & 15) === 15 ? j - 14 : j + 1];
      if (e === -1 || e >>> 24 !== (tag & 0xff)) continue;
      const slot = (e & NIL) >>> 1;
      if (four) acc ^= rec4[slot * s4] ^ rec4[slot * s4 + s4 - 1];
      else acc ^= rec6[slot * s6] ^ rec6[slot * s6 + s6 - 1];
    }
    return acc;
  }

  /**
   * newEntry: allocate an unconfirmed entry with the given original tuple (nf_conntrack_alloc),
   * early-dropping when nf_conntrack_max is reached. Returns the slot, or -1 (table full).
   */
  private newEntry(
    store: CtStore,
    src: Int32Array,
    dst: Int32Array,
    ports: number,
    rports: number,
    proto: number,
    zone: number,
  ): number {
    const max = this.cfg.max;
    if (max > 0 && this.v4.count + this.v6.count >= max) {
      if (!this.earlyDrop(store, store.tupleHash(src, 0, dst, 0, ports, proto))) {
        this.gcEarlyDrop = true;
        return -1;
      }
    }
    if (store.used >= store.capacity && store.freeHead === NIL) {
      // nf_conntrack_max may have been raised since the store was made
      store.hardCap = Math.min(max > 0 ? max : MAX_SLOTS, MAX_SLOTS);
    }
    const slot = store.alloc();
    if (slot < 0) return -1;
    const r = store.rec;
    const aw = store.aw;
    const o = slot * store.stride;
    const p = o + store.node;
    for (let i = 0; i < aw; i++) {
      r[o + i] = src[i];
      r[o + aw + i] = dst[i];
      r[p + i] = dst[i];
      r[p + aw + i] = src[i];
    }
    r[o + 2 * aw] = ports;
    r[p + 2 * aw] = rports;
    r[o + store.common + W_AUX] = proto << 24;
    r[o + store.common + W_EXPIRY] = this.now;
    if (zone !== 0) store.setZone(slot, zone);
    if (this.cfg.acct) {
      const a = store.family === 4 ? this.acct4 : this.acct6;
      if (a !== null) a.fill(0, slot * 4, slot * 4 + 4);
    }
    return slot;
  }

  /**
   * earlyDrop: Linux early_drop: look at the hash chain of the new tuple and the next ones (8 in all);
   * in the first that has any, kill every entry that is not ASSURED. Expired entries met on the way are
   * reaped without counting. Returns whether anything was dropped.
   *
   * The chains are those of a Linux hash table of nf_conntrack_buckets buckets over the top bits of the
   * tuple hash; the index keeps them in order (see CtStore.chainNodes), so the entries of eight
   * consecutive chains sit in one or two index buckets.
   */
  private earlyDrop(store: CtStore, hash: number): boolean {
    const r = store.rec;
    const nodes = this.edNodes;
    const chains = this.cfg.buckets;
    const first = Math.floor(((hash >>> 8) * chains) / 16777216);
    for (let i = 0; i < EVICTION_RANGE; i++) {
      const chain = (first + i) % chains;
      const cnt = store.chainNodes(chain, chains, nodes);
      let drops = 0;
      for (let k = 0; k < cnt; k++) {
        const slot = nodes[k] >>> 1;
        const cb = slot * store.stride + store.common;
        const meta = r[cb + W_META];
        if ((meta & (IPS.DYING | META_FREE)) === 0) {
          if (((r[cb + W_EXPIRY] - this.now) | 0) <= 0) this.kill(this.ctId(store, slot));
          else if ((meta & IPS.ASSURED) === 0 && this.kill(this.ctId(store, slot))) drops++;
        }
      }
      if (drops > 0) {
        this.stats.earlyDrop += drops;
        return true;
      }
    }
    return false;
  }

  /**
   * confirm: Linux nf_confirm at INPUT / POSTROUTING: an unconfirmed entry of an original-direction
   * packet goes into the hash (both tuples), unless a tuple clashes: UDP, UDP-Lite and GRE clashes
   * are resolved as Linux 6.x does (merge into the existing entry, or a reply-only entry with a fixed
   * 1 s timeout and IPS_NAT_CLASH); other clashes drop the packet (insert_failed). Then the [NEW] event
   * (or pending [UPDATE] events of a confirmed entry) are delivered. Returns Verdict.Accept or
   * Verdict.Drop; on Drop the entry is already released and skb.ct is -1.
   */
  confirm(skb: Skb): number {
    const ct = skb.ct;
    if (ct < 0) return Verdict.Accept;
    const store = (ct & CT_V6) !== 0 ? this.v6 : this.v4;
    const slot = ct & 0xffffff;
    const r = store.rec;
    const cb = slot * store.stride + store.common;
    const meta = r[cb + W_META];
    if ((meta & IPS.CONFIRMED) !== 0) {
      if ((meta & META_EV_UPDATE) !== 0) this.deliverUpdate(store, slot, ct);
      return Verdict.Accept;
    }
    // REJECT attaches its reply to the entry in the other direction; such a packet confirms nothing.
    if (skb.ctInfo === CtInfo.EstablishedReply || skb.ctInfo === CtInfo.RelatedReply) return Verdict.Accept;
    if ((meta & (IPS.DYING | META_FREE)) !== 0) {
      this.stats.insertFailed++;
      return this.confirmDrop(skb, store, slot);
    }
    this.now = toTicks(skb.now);
    this.reason = CtReason.None;
    const maxChain = MIN_CHAINLEN + this.nextRandom(MAX_CHAINLEN);
    const h0 = store.nodeHash(slot * 2);
    const h1 = store.nodeHash(slot * 2 + 1);
    for (let d = 0; d < 2; d++) {
      const h = this.clashNode(store, slot * 2 + d, d === 0 ? h0 : h1, slot, maxChain);
      if (h === -2) {
        this.stats.chaintoolong++;
        this.stats.insertFailed++;
        return this.confirmDrop(skb, store, slot);
      }
      if (h >= 0) return this.resolveClash(skb, store, slot, h);
    }
    store.hashNodeWith(slot * 2, h0);
    store.hashNodeWith(slot * 2 + 1, h1);
    r[cb + W_META] = (r[cb + W_META] | IPS.CONFIRMED) & ~META_EV_UPDATE;
    if (this.eventSink !== null) {
      this.eventSink(CtEvent.New, ct);
      r[cb + W_META] &= ~(META_EV_MARK | META_EV_PROTO);
    }
    return Verdict.Accept;
  }

  /**
   * clashNode: a hashed node (not of `slot`) holding node `n`'s tuple, -1 if none, -2 if the chain is
   * longer than `maxChain`. Expired holders are reaped (as the kernel's gc would have).
   */
  private clashNode(store: CtStore, n: number, hash: number, slot: number, maxChain: number): number {
    for (;;) {
      const h = store.clashWalk(n, hash, slot, maxChain);
      if (h < 0) return h;
      const hcb = (h >>> 1) * store.stride + store.common;
      if (((store.rec[hcb + W_EXPIRY] - this.now) | 0) > 0) return h;
      this.kill(this.ctId(store, h >>> 1));
    }
  }

  private confirmDrop(skb: Skb, store: CtStore, slot: number): number {
    this.reason = CtReason.InsertClash;
    this.freeUnconfirmed(store, slot);
    skb.ct = -1;
    skb.ctInfo = CtInfo.None;
    return Verdict.Drop;
  }

  /** whether entries `a` (existing) and `b` (loser) describe the same flow, in either orientation */
  private canMerge(store: CtStore, a: number, b: number): boolean {
    // Linux nf_ct_match: the same tuples, in the same zone in both directions
    const za = store.zoneOf(a);
    const zb = store.zoneOf(b);
    if (zoneIdInDir(za, 0) !== zoneIdInDir(zb, 0) || zoneIdInDir(za, 1) !== zoneIdInDir(zb, 1)) return false;
    return (
      (store.nodeEquals(a * 2, b * 2) && store.nodeEquals(a * 2 + 1, b * 2 + 1)) ||
      (store.nodeEquals(a * 2, b * 2 + 1) && store.nodeEquals(a * 2 + 1, b * 2))
    );
  }

  /** Linux nf_ct_resolve_clash and nf_ct_resolve_clash_harder */
  private resolveClash(skb: Skb, store: CtStore, slot: number, h: number): number {
    const r = store.rec;
    const proto = store.proto(slot);
    if (proto !== IPPROTO.UDP && proto !== IPPROTO.UDPLITE && proto !== IPPROTO.GRE) {
      this.stats.drop++;
      this.stats.insertFailed++;
      return this.confirmDrop(skb, store, slot);
    }
    const winner = h >>> 1;
    if (this.canMerge(store, winner, slot)) return this.mergeInto(skb, store, slot, winner);
    // Harder: the reply direction must be unique (or identical to an existing entry's).
    const h2 = this.clashNode(store, slot * 2 + 1, store.nodeHash(slot * 2 + 1), slot, 1 << 30);
    if (h2 >= 0) {
      if (this.canMerge(store, h2 >>> 1, slot)) return this.mergeInto(skb, store, slot, h2 >>> 1);
      this.stats.drop++;
      this.stats.insertFailed++;
      return this.confirmDrop(skb, store, slot);
    }
    // Insert the reply direction only, with a fixed 1 s timeout: original-direction packets keep
    // matching the existing entry; replies to this packet's NAT mapping find this one.
    const cb = slot * store.stride + store.common;
    r[cb + W_EXPIRY] = (this.now + HZ) | 0;
    r[cb + W_META] = (r[cb + W_META] | IPS.FIXED_TIMEOUT | IPS.NAT_CLASH | IPS.CONFIRMED) & ~META_EV_UPDATE;
    store.hashNode(slot * 2 + 1);
    this.stats.clashResolve++;
    return Verdict.Accept;
  }

  private mergeInto(skb: Skb, store: CtStore, loser: number, winner: number): number {
    this.freeUnconfirmed(store, loser);
    skb.ct = this.ctId(store, winner);
    this.stats.clashResolve++;
    return Verdict.Accept;
  }

  private deliverUpdate(store: CtStore, slot: number, ct: number): void {
    const r = store.rec;
    const cb = slot * store.stride + store.common;
    r[cb + W_META] &= ~META_EV_UPDATE;
    if ((r[cb + W_META] & IPS.DYING) === 0 && this.eventSink !== null) this.eventSink(CtEvent.Update, ct);
    r[cb + W_META] &= ~(META_EV_MARK | META_EV_PROTO);
  }

  /**
   * release: the packet is gone (dropped or stolen before confirm): its unconfirmed entry, if any, is
   * freed. Entries already confirmed are not affected. skb.ct becomes -1 when an entry was freed.
   */
  release(skb: Skb): void {
    const ct = skb.ct;
    // an attached connection belongs to the packet it was taken from
    if (ct < 0 || skb.ctAttached) return;
    const store = (ct & CT_V6) !== 0 ? this.v6 : this.v4;
    const slot = ct & 0xffffff;
    const meta = store.rec[slot * store.stride + store.common + W_META];
    if ((meta & (IPS.CONFIRMED | IPS.DYING | META_FREE)) !== 0) return;
    this.freeUnconfirmed(store, slot);
    skb.ct = -1;
    skb.ctInfo = CtInfo.None;
  }

  private freeUnconfirmed(store: CtStore, slot: number): void {
    const mo = slot * store.stride + store.common + W_META;
    store.rec[mo] |= IPS.DYING;
    if (this.destroyHook !== null) this.destroyHook(this.ctId(store, slot));
    store.retire(slot);
  }

  /**
   * kill: Linux nf_ct_delete: the entry leaves the hash now ([DESTROY] event, destroy hook); its data
   * stays readable for packets that still refer to it. Returns false if it was already dying/free.
   */
  kill(ct: number): boolean {
    const store = (ct & CT_V6) !== 0 ? this.v6 : this.v4;
    const slot = ct & 0xffffff;
    const r = store.rec;
    const mo = slot * store.stride + store.common + W_META;
    const meta = r[mo];
    if ((meta & (IPS.DYING | META_FREE)) !== 0) return false;
    r[mo] = meta | IPS.DYING;
    store.unhashNode(slot * 2);
    store.unhashNode(slot * 2 + 1);
    if (this.eventSink !== null && (meta & IPS.CONFIRMED) !== 0) this.eventSink(CtEvent.Destroy, ct);
    if (this.destroyHook !== null) this.destroyHook(ct);
    store.retire(slot);
    return true;
  }

  private nextRandom(n: number): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return (x >>> 0) % n;
  }

  // ---- garbage collection ------------------------------------------------------------------------

  /** gcTick: the paced collector (see GC_CYCLE) */
  private gcTick(): void {
    this.gcCountdown = GC_EVERY;
    const elapsed = (this.now - this.gcLast) | 0;
    this.gcLast = this.now;
    if (elapsed <= 0) {
      if (elapsed < 0) this.gcCredit = 0;
      return;
    }
    const used = this.v4.used + this.v6.used;
    this.gcCredit += (used * Math.min(elapsed, GC_CYCLE)) / GC_CYCLE;
    if (this.gcCredit < 64) return;
    const n = Math.min(GC_BATCH, Math.floor(this.gcCredit));
    this.gcCredit = Math.min(this.gcCredit - n, used);
    this.gcStep(n);
  }

  /**
   * gcStep: look at up to `budget` slots (round robin over both families) and kill the expired
   * entries; after a failed allocation (table full), also evict non-ASSURED and closing entries while
   * the table is at least 95% full (Linux gc_worker). `in` calls it, paced by packet time.
   */
  gcStep(budget: number): number {
    let killed = 0;
    const max = this.cfg.max;
    const max95 = max > 0 ? Math.floor(max / 100) * 95 : 0;
    for (let i = 0; i < budget; i++) {
      const store = this.gcFamily === 0 ? this.v4 : this.v6;
      if (this.gcCursor >= store.used) {
        this.gcCursor = 0;
        this.gcFamily ^= 1;
        if (this.gcFamily === 0) this.gcEarlyDrop = false;
        if (this.v4.used === 0 && this.v6.used === 0) break;
        continue;
      }
      if (this.gcSlot(store, this.gcCursor++, max95)) killed++;
    }
    return killed;
  }

  private gcSlot(store: CtStore, slot: number, max95: number): boolean {
    const r = store.rec;
    const cb = slot * store.stride + store.common;
    const meta = r[cb + W_META];
    if ((meta & (META_FREE | IPS.DYING)) !== 0 || (meta & IPS.CONFIRMED) === 0) return false;
    if (((r[cb + W_EXPIRY] - this.now) | 0) <= 0) return this.kill(this.ctId(store, slot));
    if (!this.gcEarlyDrop || max95 === 0 || this.v4.count + this.v6.count < max95) return false;
    if ((meta & IPS.ASSURED) !== 0) {
      const proto = store.proto(slot);
      const st = (meta & META_STATE_MASK) >>> META_STATE_SHIFT;
      const closing =
        (proto === IPPROTO.TCP && tcpCanEarlyDrop(st)) || (proto === IPPROTO.SCTP && sctpCanEarlyDrop(st));
      if (!closing) return false;
    }
    return this.kill(this.ctId(store, slot));
  }

  /**
   * gcAll: a full sweep at time `now` (seconds): kill every entry expired by then. Returns how many.
   */
  gcAll(now: number): number {
    this.now = toTicks(now);
    let killed = 0;
    for (const store of [this.v4, this.v6]) {
      for (let s = 0; s < store.used; s++) if (this.gcSlot(store, s, 0)) killed++;
    }
    return killed;
  }

  // ---- NAT support -----------------------------------------------------------------------------------

  /** isConfirmed: whether the entry is in the table (NAT may alter only unconfirmed entries) */
  isConfirmed(ct: number): boolean {
    return (this.status(ct) & IPS.CONFIRMED) !== 0;
  }

  /**
   * setTuple: overwrite the tuple of direction `dir` of an UNCONFIRMED entry (Linux
   * nf_conntrack_alter_reply, for dir = Dir.Reply). The protocol and family must be the entry's.
   * Returns false (and changes nothing) for a confirmed, dying or mismatching entry.
   */
  setTuple(ct: number, dir: number, t: Tuple): boolean {
    const store = this.storeOf(ct);
    const slot = ct & 0xffffff;
    const r = store.rec;
    const meta = r[slot * store.stride + store.common + W_META];
    if ((meta & (IPS.CONFIRMED | IPS.DYING | META_FREE)) !== 0) return false;
    const o = slot * store.stride + dir * store.node;
    const aw = store.aw;
    if (t.family !== store.family || t.proto !== store.proto(slot)) return false;
    for (let i = 0; i < aw; i++) {
      r[o + i] = t.src[i];
      r[o + aw + i] = t.dst[i];
    }
    r[o + 2 * aw] = ((t.srcPort & 0xffff) << 16) | (t.dstPort & 0xffff);
    return true;
  }

  /**
   * tupleTaken: Linux nf_conntrack_tuple_taken: whether `t` is a tuple (either direction) of another
   * live, confirmed entry. An entry whose ORIGINAL tuple equals `ignoreCt`'s original tuple does not
   * count (the same flow; the clash is resolved at confirm). Counts stat `found` when taken.
   */
  tupleTaken(t: Tuple, ignoreCt: number): boolean {
    const store = t.family === 6 ? this.v6 : this.v4;
    const ports = ((t.srcPort & 0xffff) << 16) | (t.dstPort & 0xffff);
    const ignoreSlot = ignoreCt >= 0 && this.storeOf(ignoreCt) === store ? ignoreCt & 0xffffff : -1;
    // the zone is the ignored (new) connection's: tuples of other zones are not taken
    const zone = ignoreSlot >= 0 ? store.zoneOf(ignoreSlot) : 0;
    const h = store.tupleHash(t.src, 0, t.dst, 0, ports, t.proto);
    const fp = h & 0xff;
    const p0 = fp % 15;
    const home = store.homeWord(h);
    let bi = home;
    for (;;) {
      const r = store.rec;
      const idx = store.idx;
      let p = p0;
      let restart = false;
      for (let k = 0; k < 15; k++) {
        const e = idx[bi + 1 + p];
        if (e === -1) break;
        p = p === 14 ? 0 : p + 1;
        if (e >>> 24 !== fp) continue;
        const n = e & NIL;
        const slot = n >>> 1;
        if (slot === ignoreSlot || !store.nodeIs(n, t.src, t.dst, ports, t.proto) || !store.zoneMatches(n, zone)) {
          continue;
        }
        if (((r[slot * store.stride + store.common + W_EXPIRY] - this.now) | 0) <= 0) {
          // killing it changes the index: start over (the entries already seen do not count)
          this.kill(this.ctId(store, slot));
          restart = true;
          break;
        }
        if (
          !(
            ignoreSlot >= 0 &&
            store.nodeEquals(slot * 2, ignoreSlot * 2) &&
            zoneIdInDir(store.zoneOf(slot), Dir.Original) === zoneIdInDir(zone, Dir.Original)
          )
        ) {
          this.stats.found++;
          return true;
        }
      }
      if (restart) {
        bi = home;
        continue;
      }
      if (idx[bi] === 0) return false;
      bi = store.nextBucket(bi);
      if (bi === home) return false;
    }
  }

  /**
   * findTuple: the live confirmed entry having tuple `t` in either direction in conntrack zone `zone`
   * (packed, CtZone; default the default zone) (Linux nf_conntrack_find_get), or -1; `foundDir` tells
   * which direction matched.
   */
  findTuple(t: Tuple, zone = 0): number {
    const store = t.family === 6 ? this.v6 : this.v4;
    const ports = ((t.srcPort & 0xffff) << 16) | (t.dstPort & 0xffff);
    const n = this.findLive(store, t.src, t.dst, ports, t.proto, zone);
    if (n < 0) return -1;
    this.foundDir = n & 1;
    return this.ctId(store, n >>> 1);
  }

  /** setStatus: set IPS_* bits (NAT: SRC_NAT, DST_NAT, *_DONE, SEQ_ADJUST) */
  setStatus(ct: number, bits: number): void {
    const store = this.storeOf(ct);
    store.rec[(ct & 0xffffff) * store.stride + store.common + W_META] |= bits & 0xffff;
  }
  /** clearStatus: clear IPS_* bits */
  clearStatus(ct: number, bits: number): void {
    const store = this.storeOf(ct);
    store.rec[(ct & 0xffffff) * store.stride + store.common + W_META] &= ~(bits & 0xffff);
  }
  /** tcpSeenEnd: td_end of direction `dir` (NAT's "sequence has advanced" test on port reuse) */
  tcpSeenEnd(ct: number, dir: number): number {
    const store = this.storeOf(ct);
    return store.rec[(ct & 0xffffff) * store.stride + store.common + W_END + 4 * dir];
  }

  // ---- CtView ----------------------------------------------------------------------------------------

  status(ct: number): number {
    const store = this.storeOf(ct);
    return store.rec[(ct & 0xffffff) * store.stride + store.common + W_META] & 0xffff;
  }
  mark(ct: number): number {
    const store = this.storeOf(ct);
    return store.rec[(ct & 0xffffff) * store.stride + store.common + W_MARK] >>> 0;
  }
  /** setMark: ctmark; a change is an IPCT_MARK event ([UPDATE] with mark=) */
  setMark(ct: number, mark: number): void {
    const store = this.storeOf(ct);
    const cb = (ct & 0xffffff) * store.stride + store.common;
    if (store.rec[cb + W_MARK] === (mark | 0)) return;
    store.rec[cb + W_MARK] = mark | 0;
    if (this.eventSink !== null) store.rec[cb + W_META] |= META_EV_UPDATE | META_EV_MARK;
  }
  l4proto(ct: number): number {
    const store = this.storeOf(ct);
    return store.proto(ct & 0xffffff);
  }
  tuple(ct: number, dir: number, out: Tuple): void {
    const store = this.storeOf(ct);
    const r = store.rec;
    const o = (ct & 0xffffff) * store.stride + dir * store.node;
    const aw = store.aw;
    out.family = store.family;
    out.src.fill(0);
    out.dst.fill(0);
    for (let i = 0; i < aw; i++) {
      out.src[i] = r[o + i];
      out.dst[i] = r[o + aw + i];
    }
    const ports = r[o + 2 * aw];
    out.srcPort = ports >>> 16;
    out.dstPort = ports & 0xffff;
    out.proto = store.proto(ct & 0xffffff);
  }
  expiresIn(ct: number, now: number): number {
    // Linux nf_ct_expires: an unconfirmed entry still holds its timeout as a relative value: 0 here
    if (!this.isConfirmed(ct)) return 0;
    const store = this.storeOf(ct);
    const d = (store.rec[(ct & 0xffffff) * store.stride + store.common + W_EXPIRY] - toTicks(now)) | 0;
    return d > 0 ? Math.floor(d / HZ) : 0;
  }
  /** zone: the entry's conntrack zone (packed, CtZone; 0 the default zone) */
  zone(ct: number): number {
    return this.storeOf(ct).zoneOf(ct & 0xffffff);
  }
  tcpState(ct: number): number {
    if (this.l4proto(ct) !== IPPROTO.TCP) return 0;
    const store = this.storeOf(ct);
    return (store.rec[(ct & 0xffffff) * store.stride + store.common + W_META] & META_STATE_MASK) >>> META_STATE_SHIFT;
  }
  /**
   * setClosing: Linux nf_ct_set_closing (REJECT --reject-with tcp-reset does it to the connection it
   * answers): a confirmed TCP entry moves to CLOSE with the CLOSE timeout, unless it is CLOSE already or
   * its timeout is fixed. `now` is seconds.
   */
  setClosing(ct: number, now: number): void {
    if (ct < 0 || this.l4proto(ct) !== IPPROTO.TCP || !this.isConfirmed(ct)) return;
    const store = this.storeOf(ct);
    const r = store.rec;
    const cb = (ct & 0xffffff) * store.stride + store.common;
    const meta = r[cb + W_META];
    const old = (meta & META_STATE_MASK) >>> META_STATE_SHIFT;
    r[cb + W_META] = (meta & ~META_STATE_MASK) | (TcpCtState.Close << META_STATE_SHIFT);
    if (old === TcpCtState.Close || (meta & IPS.FIXED_TIMEOUT) !== 0) return;
    r[cb + W_EXPIRY] = (toTicks(now) + this.cfg.tcpTimeouts[TcpCtState.Close]) | 0;
    this.eventProtoinfo(r, cb);
  }

  /** l4State: the protocol state (TcpCtState, SctpCtState) of any entry */
  l4State(ct: number): number {
    const store = this.storeOf(ct);
    return (store.rec[(ct & 0xffffff) * store.stride + store.common + W_META] & META_STATE_MASK) >>> META_STATE_SHIFT;
  }

  // ---- table-level API -------------------------------------------------------------------------------

  /** count: entries in the table (unconfirmed ones included, as Linux's nf_conntrack_count) */
  count(): number {
    return this.v4.count + this.v6.count;
  }

  /**
   * isListed: whether `conntrack -L` at `atTicks` shows the entry: confirmed, not dying, with its
   * original tuple in the hash (clash entries are hidden) and not expired.
   */
  isListed(ct: number, atTicks: number): boolean {
    const store = this.storeOf(ct);
    const cb = (ct & 0xffffff) * store.stride + store.common;
    const meta = store.rec[cb + W_META];
    if ((meta & (META_FREE | IPS.DYING)) !== 0) return false;
    if ((meta & (IPS.CONFIRMED | META_HASHED_ORIG)) !== (IPS.CONFIRMED | META_HASHED_ORIG)) return false;
    return ((store.rec[cb + W_EXPIRY] - atTicks) | 0) > 0;
  }

  /** entries: ids of the listed entries at `at` (seconds; default: the last packet's time), IPv4 first */
  entries(at?: number): number[] {
    const t = at === undefined ? this.now : toTicks(at);
    const out: number[] = [];
    for (const store of [this.v4, this.v6]) {
      for (let s = 0; s < store.used; s++) {
        const ct = this.ctId(store, s);
        if (this.isListed(ct, t)) out.push(ct);
      }
    }
    return out;
  }

  /**
   * deleteTuple: `conntrack -D` by tuple: kill the entry having `t` as its original or reply tuple.
   * Returns whether one was found.
   */
  deleteTuple(t: Tuple): boolean {
    const ct = this.findTuple(t);
    return ct >= 0 && this.kill(ct);
  }

  /**
   * flush: `conntrack -F` (no filter) or delete by filter: kill every confirmed entry for which
   * `filter(ct)` is true. Returns how many were deleted.
   */
  flush(filter?: (ct: number) => boolean): number {
    let n = 0;
    for (const store of [this.v4, this.v6]) {
      for (let s = 0; s < store.used; s++) {
        const ct = this.ctId(store, s);
        const meta = store.meta(s);
        if ((meta & (META_FREE | IPS.DYING)) !== 0 || (meta & IPS.CONFIRMED) === 0) continue;
        if (filter !== undefined && !filter(ct)) continue;
        if (this.kill(ct)) n++;
      }
    }
    return n;
  }

  /** setNow: set the table's clock (seconds), for API calls made outside the packet path */
  setNow(now: number): void {
    this.now = toTicks(now);
  }

  /** isTcpEstablishedState: helper for rules and tests */
  static isTcpEstablished(state: number): boolean {
    return state === TcpCtState.Established;
  }

  /** protoEventPending: whether the entry's next event carries its protocol state (formatters) */
  protoEventPending(ct: number): boolean {
    const store = this.storeOf(ct);
    return (store.rec[(ct & 0xffffff) * store.stride + store.common + W_META] & META_EV_PROTO) !== 0;
  }

  /** pendingMarkEvent: whether the entry has an unsent mark change (formatters) */
  markEventPending(ct: number): boolean {
    const store = this.storeOf(ct);
    return (store.rec[(ct & 0xffffff) * store.stride + store.common + W_META] & META_EV_MARK) !== 0;
  }

  /** bytesUsed: bytes held by the tables' typed arrays (memory measurements) */
  bytesUsed(): number {
    let n = this.v4.byteSize() + this.v6.byteSize();
    if (this.acct4 !== null) n += this.acct4.byteLength;
    if (this.acct6 !== null) n += this.acct6.byteLength;
    return n;
  }
}
