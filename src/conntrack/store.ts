/**
 * CtStore: the connection table of one address family, as one Int32Array of fixed-size records
 * (entries by slot index, no per-entry objects) and a seeded hash with chaining over both tuples of
 * every entry.
 *
 * Record layout (int32 words; `aw` = address words: 1 for IPv4, 4 for IPv6; NODE = 2*aw + 2):
 *
 *   node ORIGINAL  at 0     : src[aw] dst[aw] ports link
 *   node REPLY     at NODE  : src[aw] dst[aw] ports link
 *   common         at 2*NODE: META EXPIRY MARK  END0 MAXEND0 MAXWIN0 MAXACK0  END1 MAXEND1 MAXWIN1 MAXACK1
 *                             TFLAGS LSEQ LACK LEND LWIN
 *
 *   ports = (srcPort << 16) | dstPort   (ICMP: id << 16 | type << 8 | code; GRE: keys)
 *   link  = (l4proto << 24) | next node id (NIL = 0xffffff ends a chain)
 *
 * IPv4 records are 24 words (96 bytes), IPv6 records 36 words (144 bytes). A lookup compares the key
 * words of one node and, for IPv4, they share one cache line with the other node and the status word.
 * The 13 words after MARK are protocol state: TCP window tracking (Linux `ip_ct_tcp`), reused as a
 * union by UDP (stream timestamp), SCTP (verification tags) and the others.
 *
 * Node ids are `slot * 2 + dir`; buckets hold node ids; chains are singly linked through `link`.
 * A slot is FREE, UNCONFIRMED (allocated, not hashed), CONFIRMED (hashed: both nodes, or the reply node
 * only for an IPS_NAT_CLASH entry), or DYING (unhashed, kept readable in a quarantine ring until
 * QUARANTINE later deletions, so a packet that still refers to it can finish with it).
 *
 * hot path: lookups and updates do not allocate. Growth (doubling, up to the configured maximum) and
 * rehashing allocate and happen on insertion only.
 */
import { zoneIdInDir } from "../core/netfilter.js";
import { hashTuple, hashV4, seedWord } from "./hash.js";

/** NIL: end of a chain / empty bucket / no slot (24 bits) */
export const NIL = 0xffffff;
/** MAX_SLOTS: entries per family (node ids must fit in 24 bits) */
export const MAX_SLOTS = (NIL >>> 1) - 1;
/** QUARANTINE: deleted slots kept readable before reuse */
export const QUARANTINE = 1024;

// ---- common-area word offsets (relative to the common base 2*NODE) ---------------------------------
/** status (bits 0-15, IPS_*), l4 state (16-23), flags below (24-31) */
export const W_META = 0;
/** absolute expiry, ticks (int32, compare by difference) */
export const W_EXPIRY = 1;
/** ctmark */
export const W_MARK = 2;
/** TCP per direction d: td_end at W_END + 4d, td_maxend, td_maxwin, td_maxack follow */
export const W_END = 3;
export const W_MAXEND = 4;
export const W_MAXWIN = 5;
export const W_MAXACK = 6;
/** TCP: flags0 (0-7) flags1 (8-15) scale0 (16-19) scale1 (20-23) last_wscale (24-27) last_dir (28) last_index (29-31) */
export const W_TFLAGS = 11;
export const W_LSEQ = 12;
export const W_LACK = 13;
export const W_LEND = 14;
/** TCP: last_win (0-15) retrans (16-23) last_flags (24-31) */
export const W_LWIN = 15;
export const COMMON_WORDS = 16;

// ---- META bits above the status ------------------------------------------------------------------
export const META_STATUS_MASK = 0xffff;
export const META_STATE_SHIFT = 16;
export const META_STATE_MASK = 0xff << 16;
/** an UPDATE event is pending delivery (only set when an event sink is installed) */
export const META_EV_UPDATE = 1 << 24;
/** the ORIGINAL node is in the hash */
export const META_HASHED_ORIG = 1 << 25;
/** the REPLY node is in the hash */
export const META_HASHED_REPLY = 1 << 26;
/** a mark change is pending in the next UPDATE event (printed as mark= even when 0) */
export const META_EV_MARK = 1 << 27;
/** a protocol state change is pending in the next event (Linux IPCT_PROTOINFO: the state is printed) */
export const META_EV_PROTO = 1 << 28;
/** the slot is unused (free list or never allocated) */
export const META_FREE = 1 << 30;

/** onGrow callback type: called after a store's capacity changed */
export type GrowHook = (family: number, capacity: number) => void;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class CtStore {
  /** 4 or 6 */
  readonly family: number;
  /** address words: 1 (IPv4) or 4 (IPv6) */
  readonly aw: number;
  /** words per tuple node */
  readonly node: number;
  /** offset of the common area in a record */
  readonly common: number;
  /** words per record */
  readonly stride: number;
  /** the records */
  rec: Int32Array;
  /** slots available without growing */
  capacity: number;
  /** never grow beyond this many slots */
  hardCap: number;
  /** bucket heads (node ids) */
  buckets: Int32Array;
  bucketMask: number;
  /** slots ever handed out (high-water mark) */
  used = 0;
  /** free-list head (slot), chained through the ORIGINAL node's link word */
  freeHead = NIL;
  /** allocated entries (unconfirmed + confirmed, not dying) */
  count = 0;
  /** the quarantine ring of DYING slots */
  readonly quarantine: Int32Array = new Int32Array(QUARANTINE);
  qHead = 0;
  qLen = 0;
  /** hash seed */
  readonly seed: number;
  /** derived seed words for the hash */
  readonly seeds: Int32Array = new Int32Array(4);
  /** set by lookups: a slot found expired on the chain (the caller kills it), or -1 */
  expiredSeen = -1;
  /** called after growth (NAT sizes its side arrays from it) */
  onGrow: GrowHook | null = null;
  /**
   * per slot: the entry's conntrack zone, packed as CtZone describes; null until the first entry outside
   * the default zone (lookups then skip the zone test)
   */
  zones: Int32Array | null = null;

  constructor(family: number, initialCapacity: number, hardCap: number, seed: number) {
    this.family = family;
    this.aw = family === 4 ? 1 : 4;
    this.node = 2 * this.aw + 2;
    this.common = 2 * this.node;
    this.stride = this.common + COMMON_WORDS;
    this.hardCap = Math.min(hardCap > 0 ? hardCap : MAX_SLOTS, MAX_SLOTS);
    this.capacity = Math.max(1, Math.min(initialCapacity, this.hardCap));
    this.rec = new Int32Array(this.capacity * this.stride);
    const nb = nextPow2(this.capacity * 2);
    this.buckets = new Int32Array(nb).fill(NIL);
    this.bucketMask = nb - 1;
    this.seed = seed | 0;
    for (let i = 0; i < 4; i++) this.seeds[i] = seedWord(this.seed, i);
  }

  /** base: first word of a slot's record */
  base(slot: number): number {
    return slot * this.stride;
  }

  /** meta word of a slot */
  meta(slot: number): number {
    return this.rec[slot * this.stride + this.common + W_META];
  }

  // ---- allocation ------------------------------------------------------------------------------

  /**
   * alloc: a slot for a new (unconfirmed) entry, its record zeroed, or -1 when the store cannot grow
   * any more (nf_conntrack_max is enforced by the caller; this is the MAX_SLOTS / memory bound).
   */
  alloc(): number {
    let slot: number;
    if (this.freeHead !== NIL) {
      slot = this.freeHead;
      this.freeHead = this.rec[slot * this.stride + this.node - 1] & NIL;
    } else if (this.used < this.capacity) {
      slot = this.used++;
    } else if (this.capacity < this.hardCap) {
      this.grow(Math.min(this.capacity * 2, this.hardCap));
      slot = this.used++;
    } else if (this.qLen > 0) {
      // Full to the hard cap: reuse the oldest quarantined slot early.
      slot = this.quarantine[this.qHead];
      this.qHead = (this.qHead + 1) % QUARANTINE;
      this.qLen--;
    } else {
      return -1;
    }
    const b = slot * this.stride;
    this.rec.fill(0, b, b + this.stride);
    if (this.zones !== null) this.zones[slot] = 0;
    this.count++;
    return slot;
  }

  /** setZone: the conntrack zone of a slot (packed, CtZone; 0 the default zone). */
  setZone(slot: number, zone: number): void {
    if (zone !== 0 && this.zones === null) this.zones = new Int32Array(this.capacity);
    if (this.zones !== null) this.zones[slot] = zone;
  }

  /** zoneOf: the conntrack zone of a slot (packed, CtZone). */
  zoneOf(slot: number): number {
    return this.zones === null ? 0 : this.zones[slot];
  }

  /**
   * zoneMatches: Linux nf_ct_zone_equal for node `n`: the entry's zone id in the node's direction equals
   * that of `zone` (packed, CtZone).
   */
  zoneMatches(n: number, zone: number): boolean {
    const d = n & 1;
    const ez = this.zones === null ? 0 : this.zones[n >>> 1];
    return zoneIdInDir(ez, d) === zoneIdInDir(zone, d);
  }

  /**
   * retire: a slot leaves the table (its nodes must already be unhashed). It is marked DYING by the
   * caller and stays readable until QUARANTINE further retirements push it onto the free list.
   */
  retire(slot: number): void {
    this.count--;
    if (this.qLen === QUARANTINE) {
      const old = this.quarantine[this.qHead];
      this.qHead = (this.qHead + 1) % QUARANTINE;
      this.qLen--;
      this.pushFree(old);
    }
    this.quarantine[(this.qHead + this.qLen) % QUARANTINE] = slot;
    this.qLen++;
  }

  private pushFree(slot: number): void {
    const b = slot * this.stride;
    this.rec[b + this.common + W_META] = META_FREE;
    this.rec[b + this.node - 1] = this.freeHead;
    this.freeHead = slot;
  }

  /** drainQuarantine: free every quarantined slot now (tests, flush). */
  drainQuarantine(): void {
    while (this.qLen > 0) {
      const s = this.quarantine[this.qHead];
      this.qHead = (this.qHead + 1) % QUARANTINE;
      this.qLen--;
      this.pushFree(s);
    }
  }

  /** grow: enlarge the record array to `newCap` slots and rehash (slow path). */
  grow(newCap: number): void {
    const rec = new Int32Array(newCap * this.stride);
    rec.set(this.rec);
    this.rec = rec;
    this.capacity = newCap;
    if (this.zones !== null) {
      const z = new Int32Array(newCap);
      z.set(this.zones);
      this.zones = z;
    }
    const nb = nextPow2(newCap * 2);
    if (nb !== this.buckets.length) {
      this.buckets = new Int32Array(nb).fill(NIL);
      this.bucketMask = nb - 1;
      const c = this.common;
      for (let s = 0; s < this.used; s++) {
        const m = rec[s * this.stride + c + W_META];
        if ((m & META_HASHED_ORIG) !== 0) this.linkNode(s * 2);
        if ((m & META_HASHED_REPLY) !== 0) this.linkNode(s * 2 + 1);
      }
    }
    if (this.onGrow !== null) this.onGrow(this.family, newCap);
  }

  // ---- hashing ---------------------------------------------------------------------------------

  /** nodeHash: hash of the tuple stored in node `n` (= slot*2 + dir). */
  nodeHash(n: number): number {
    const off = (n >>> 1) * this.stride + (n & 1) * this.node;
    const r = this.rec;
    const aw = this.aw;
    return hashTuple(this.seeds, r, off, r, off + aw, aw, r[off + 2 * aw], r[off + 2 * aw + 1] >>> 24);
  }

  /** linkNode: push node `n` at the head of its bucket (no flag update). */
  private linkNode(n: number): void {
    const bi = this.nodeHash(n) & this.bucketMask;
    const linkOff = (n >>> 1) * this.stride + (n & 1) * this.node + this.node - 1;
    const r = this.rec;
    r[linkOff] = (r[linkOff] & ~NIL) | (this.buckets[bi] & NIL);
    this.buckets[bi] = n;
  }

  /** hashNode: insert node `n` into the hash and flag it. */
  hashNode(n: number): void {
    this.linkNode(n);
    const mo = (n >>> 1) * this.stride + this.common + W_META;
    this.rec[mo] |= (n & 1) === 0 ? META_HASHED_ORIG : META_HASHED_REPLY;
  }

  /** unhashNode: remove node `n` from its chain, if hashed. */
  unhashNode(n: number): void {
    const r = this.rec;
    const mo = (n >>> 1) * this.stride + this.common + W_META;
    const bit = (n & 1) === 0 ? META_HASHED_ORIG : META_HASHED_REPLY;
    if ((r[mo] & bit) === 0) return;
    r[mo] &= ~bit;
    const bi = this.nodeHash(n) & this.bucketMask;
    const nodeW = this.node;
    const stride = this.stride;
    const myNext = r[(n >>> 1) * stride + (n & 1) * nodeW + nodeW - 1] & NIL;
    let cur = this.buckets[bi];
    if (cur === n) {
      this.buckets[bi] = myNext;
      return;
    }
    while (cur !== NIL) {
      const lo = (cur >>> 1) * stride + (cur & 1) * nodeW + nodeW - 1;
      const next = r[lo] & NIL;
      if (next === n) {
        r[lo] = (r[lo] & ~NIL) | myNext;
        return;
      }
      cur = next;
    }
  }

  // ---- lookup ----------------------------------------------------------------------------------

  /**
   * find: the node id whose tuple is (src, dst, ports, proto) in conntrack zone `zone` (packed, CtZone;
   * default 0), among hashed entries not expired at `now` (ticks), or -1. An expired entry met on the
   * way is left in `expiredSeen` for the caller to kill (Linux kills expired entries it meets during
   * lookups). The zone is tested only after the tuple matched, and only when some entry or the packet
   * is outside the default zone.
   *
   * hot path: must not allocate.
   */
  find(
    src: Int32Array,
    sOff: number,
    dst: Int32Array,
    dOff: number,
    ports: number,
    proto: number,
    now: number,
    zone = 0,
  ): number {
    const r = this.rec;
    const stride = this.stride;
    const zoned = zone !== 0 || this.zones !== null;
    if (this.aw === 1) {
      const s0 = src[sOff];
      const d0 = dst[dOff];
      const seeds = this.seeds;
      let n = this.buckets[hashV4(seeds[0], seeds[1], seeds[2], s0, d0, ports, proto) & this.bucketMask];
      while (n !== NIL) {
        // IPv4 layout: node d at slot * 24 + 4d; expiry at slot * 24 + 9
        const slotBase = (n >>> 1) * stride;
        const o = slotBase + ((n & 1) << 2);
        const link = r[o + 3];
        if (
          r[o] === s0 &&
          r[o + 1] === d0 &&
          r[o + 2] === ports &&
          link >>> 24 === proto &&
          (!zoned || this.zoneMatches(n, zone))
        ) {
          if (((r[slotBase + 9] - now) | 0) > 0) return n;
          this.expiredSeen = n >>> 1;
        }
        n = link & NIL;
      }
      return -1;
    }
    const nodeW = this.node;
    const ew = this.common + W_EXPIRY;
    let n = this.buckets[hashTuple(this.seeds, src, sOff, dst, dOff, 4, ports, proto) & this.bucketMask];
    while (n !== NIL) {
      const slotBase = (n >>> 1) * stride;
      const o = slotBase + (n & 1) * nodeW;
      const link = r[o + 9];
      if (
        r[o + 8] === ports &&
        link >>> 24 === proto &&
        r[o] === src[sOff] &&
        r[o + 1] === src[sOff + 1] &&
        r[o + 2] === src[sOff + 2] &&
        r[o + 3] === src[sOff + 3] &&
        r[o + 4] === dst[dOff] &&
        r[o + 5] === dst[dOff + 1] &&
        r[o + 6] === dst[dOff + 2] &&
        r[o + 7] === dst[dOff + 3] &&
        (!zoned || this.zoneMatches(n, zone))
      ) {
        if (((r[slotBase + ew] - now) | 0) > 0) return n;
        this.expiredSeen = n >>> 1;
      }
      n = link & NIL;
    }
    return -1;
  }

  /**
   * touch: start the memory loads a lookup of this tuple will make (bucket head, the first node's
   * record, both of its cache lines) and return a value derived from them. Calling it for several
   * packets before processing them lets the cache misses overlap (memory-level parallelism).
   */
  touch(src: Int32Array, dst: Int32Array, ports: number, proto: number): number {
    const r = this.rec;
    const h =
      this.aw === 1
        ? hashV4(this.seeds[0], this.seeds[1], this.seeds[2], src[0], dst[0], ports, proto)
        : hashTuple(this.seeds, src, 0, dst, 0, 4, ports, proto);
    const n = this.buckets[h & this.bucketMask];
    if (n === NIL) return 0;
    const b = (n >>> 1) * this.stride;
    return r[b + (n & 1) * this.node] ^ r[b + this.stride - 1];
  }

  /** bucketOf: the bucket index of a tuple */
  bucketOf(src: Int32Array, dst: Int32Array, ports: number, proto: number): number {
    const h =
      this.aw === 1
        ? hashV4(this.seeds[0], this.seeds[1], this.seeds[2], src[0], dst[0], ports, proto)
        : hashTuple(this.seeds, src, 0, dst, 0, 4, ports, proto);
    return h & this.bucketMask;
  }

  /** nodeEquals: whether nodes `a` and `b` (of this store) hold the same tuple. */
  nodeEquals(a: number, b: number): boolean {
    const r = this.rec;
    const oa = (a >>> 1) * this.stride + (a & 1) * this.node;
    const ob = (b >>> 1) * this.stride + (b & 1) * this.node;
    const n = this.node;
    // the link word: compare the protocol only
    for (let i = 0; i < n - 1; i++) if (r[oa + i] !== r[ob + i]) return false;
    return r[oa + n - 1] >>> 24 === r[ob + n - 1] >>> 24;
  }

  /**
   * clashWalk: walk the chain of node `n`'s tuple (Linux __nf_conntrack_confirm's loop): the first
   * hashed node holding the same tuple in the same zone (that of node `n`'s entry), not of slot
   * `skipSlot` (ignoring expiry), or -1 when there is none, or -2 when more than `maxLen` nodes precede
   * it (chain too long). Expired holders are the caller's to judge.
   */
  clashWalk(n: number, skipSlot: number, maxLen: number): number {
    const bi = this.nodeHash(n) & this.bucketMask;
    const r = this.rec;
    const zone = this.zoneOf(n >>> 1);
    let cur = this.buckets[bi];
    let len = 0;
    while (cur !== NIL) {
      if (cur >>> 1 !== skipSlot && this.nodeEquals(cur, n) && this.zoneMatches(cur, zone)) return cur;
      if (len++ > maxLen) return -2;
      cur = r[(cur >>> 1) * this.stride + (cur & 1) * this.node + this.node - 1] & NIL;
    }
    return -1;
  }

  /** bytes held by this store's typed arrays */
  byteSize(): number {
    return this.rec.byteLength + this.buckets.byteLength + this.quarantine.byteLength;
  }
}
