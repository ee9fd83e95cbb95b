/**
 * CtStore: the connection table of one address family, as one Int32Array of fixed-size records
 * (entries by slot index, no per-entry objects) and a seeded hash index over both tuples of every
 * entry.
 *
 * Record layout (int32 words; `aw` = address words: 1 for IPv4, 4 for IPv6; NODE = 2*aw + 1):
 *
 *   node ORIGINAL  at 0     : src[aw] dst[aw] ports
 *   node REPLY     at NODE  : src[aw] dst[aw] ports
 *   common         at 2*NODE: AUX META  END0 MAXEND0 MAXWIN0 MAXACK0  END1 MAXEND1 MAXWIN1 MAXACK1
 *                             EXPIRY TFLAGS LSEQ LACK LEND LWIN  MARK ZONE
 *
 *   ports = (srcPort << 16) | dstPort   (ICMP: id << 16 | type << 8 | code; GRE: keys)
 *   AUX   = (l4proto << 24) | NAT's word (24 bits: the MASQUERADE interface, see setNatAux)
 *
 * IPv4 records are 24 words (96 bytes), IPv6 records 36 words (144 bytes). The IPv4 record of an
 * established TCP connection is touched in two cache lines, whatever the slot: words 0-7 (both
 * tuples, AUX, META) share one line and words 16-23 (EXPIRY, the last-segment words, MARK, ZONE) the
 * next one; the window words 8-15 fall in one or the other. A lookup loads the EXPIRY word together
 * with the key, so both lines are fetched at once (one memory latency, not two). The 10 words after
 * META are protocol state: TCP window tracking (Linux `ip_ct_tcp`), reused as a union by UDP (stream
 * timestamp), SCTP (verification tags) and the others.
 *
 * Index: node ids are `slot * 2 + dir`. The index is an array of 64-byte buckets, each one count word
 * and 15 entries `(fingerprint << 24) | node id` (8 bits of the tuple's hash not used to choose the
 * bucket), -1 for empty. A tuple's home bucket comes from the top 24 bits of its hash; inside a bucket,
 * an entry sits at the first free position from `fingerprint % 15` on (linear probing within the
 * bucket, deletion without tombstones by moving later entries back, Knuth's algorithm R), so a lookup
 * usually finds its entry at the first or second position it looks at. A full bucket passes new entries
 * on to the next one and counts them in its count word (how many entries that hashed here or before
 * live further on), so a lookup goes on to the next bucket only while that count is not 0 (the overflow
 * counts of F14). A lookup reads one bucket line, compares fingerprints and visits a record only on a
 * fingerprint match (a wrong record for 1 in 256 other entries looked at), so finding an entry costs
 * the bucket line and the record: no chains through other records.
 *
 * A slot is FREE, UNCONFIRMED (allocated, not hashed), CONFIRMED (hashed: both nodes, or the reply node
 * only for an IPS_NAT_CLASH entry), or DYING (unhashed, kept readable in a quarantine ring until
 * QUARANTINE later deletions, so a packet that still refers to it can finish with it).
 *
 * Alignment: big typed arrays come from the C allocator's mmap'ed chunks, whose data starts 16 bytes
 * past a page boundary (glibc). The record and index arrays are views starting 48 bytes into their
 * buffers, so that records and buckets start on 64-byte lines there; elsewhere this only costs a
 * little speed (correctness never depends on it).
 *
 * hot path: lookups and updates do not allocate. Growth (doubling, up to the configured maximum) and
 * rehashing allocate and happen on insertion only.
 */
import { zoneIdInDir } from "../core/netfilter.js";
import { hashTuple, hashV4, seedWord } from "./hash.js";

/** NIL: no node / no slot (24 bits) */
export const NIL = 0xffffff;
/** MAX_SLOTS: entries per family (node ids must fit in 24 bits) */
export const MAX_SLOTS = (NIL >>> 1) - 1;
/** QUARANTINE: deleted slots kept readable before reuse */
export const QUARANTINE = 1024;

// ---- common-area word offsets (relative to the common base 2*NODE) ---------------------------------
/** l4proto (bits 24-31); NAT's word (bits 0-23) */
export const W_AUX = 0;
/** status (bits 0-15, IPS_*), l4 state (16-23), flags below (24-31) */
export const W_META = 1;
/** TCP per direction d: td_end at W_END + 4d, td_maxend, td_maxwin, td_maxack follow */
export const W_END = 2;
export const W_MAXEND = 3;
export const W_MAXWIN = 4;
export const W_MAXACK = 5;
/** absolute expiry, ticks (int32, compare by difference) */
export const W_EXPIRY = 10;
/** TCP: flags0 (0-7) flags1 (8-15) scale0 (16-19) scale1 (20-23) last_wscale (24-27) last_dir (28) last_index (29-31) */
export const W_TFLAGS = 11;
export const W_LSEQ = 12;
export const W_LACK = 13;
export const W_LEND = 14;
/** TCP: last_win (0-15) retrans (16-23) last_flags (24-31) */
export const W_LWIN = 15;
/** ctmark */
export const W_MARK = 16;
/** the entry's conntrack zone (packed, CtZone; 0 the default zone) */
export const W_ZONE = 17;
export const COMMON_WORDS = 18;
/** NAT's part of the AUX word */
export const AUX_NAT_MASK = 0xffffff;

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

// ---- the index -----------------------------------------------------------------------------------
/** words per index bucket: one count word and BUCKET_ENTRIES entries (64 bytes) */
const BUCKET_WORDS = 16;
const BUCKET_ENTRIES = BUCKET_WORDS - 1;
/** entries per bucket on average at full capacity (both nodes of every slot hashed) */
const INDEX_LOAD = 0.6 * BUCKET_ENTRIES;
/** an empty index entry */
const EMPTY = -1;
/** words skipped at the start of a big array's buffer so that word 0 starts a 64-byte line (see above) */
const ALIGN_WORDS = 12;
/** IPv4 record constants (the find fast path) */
const V4_STRIDE = 24;
const V4_COMMON = 6;

/** alignedInt32: a zeroed Int32Array of `n` words, ALIGN_WORDS into its buffer */
function alignedInt32(n: number): Int32Array {
  return new Int32Array(new ArrayBuffer((n + ALIGN_WORDS + 4) * 4), ALIGN_WORDS * 4, n);
}

/** onGrow callback type: called after a store's capacity changed */
export type GrowHook = (family: number, capacity: number) => void;

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
  /** the index: buckets of BUCKET_WORDS words (see the module doc) */
  idx: Int32Array;
  /** index buckets */
  nBuckets: number;
  /** nBuckets / 2^24: the home bucket of hash h is ((h >>> 8) * bucketScale) | 0 */
  bucketScale: number;
  /** slots ever handed out (high-water mark) */
  used = 0;
  /** free-list head (slot), chained through the EXPIRY word of free slots */
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
  /** set by lookups: a slot found expired on the way (the caller kills it), or -1 */
  expiredSeen = -1;
  /** insertions into the index so far (tells a caller whether a tuple it checked may have been taken since) */
  inserts = 0;
  /** called after growth (NAT sizes its side arrays from it) */
  onGrow: GrowHook | null = null;
  /** whether any entry was ever given a zone other than the default (lookups test zones only then) */
  zoned = false;

  constructor(family: number, initialCapacity: number, hardCap: number, seed: number) {
    this.family = family;
    this.aw = family === 4 ? 1 : 4;
    this.node = 2 * this.aw + 1;
    this.common = 2 * this.node;
    this.stride = this.common + COMMON_WORDS;
    this.hardCap = Math.min(hardCap > 0 ? hardCap : MAX_SLOTS, MAX_SLOTS);
    this.capacity = Math.max(1, Math.min(initialCapacity, this.hardCap));
    this.rec = alignedInt32(this.capacity * this.stride);
    this.nBuckets = CtStore.bucketsFor(this.capacity);
    this.bucketScale = this.nBuckets / 16777216;
    this.idx = CtStore.emptyIndex(this.nBuckets);
    this.seed = seed | 0;
    for (let i = 0; i < 4; i++) this.seeds[i] = seedWord(this.seed, i);
  }

  private static bucketsFor(capacity: number): number {
    return Math.max(2, Math.ceil((2 * capacity) / INDEX_LOAD));
  }

  private static emptyIndex(nb: number): Int32Array {
    const idx = alignedInt32(nb * BUCKET_WORDS);
    idx.fill(EMPTY);
    for (let b = 0; b < idx.length; b += BUCKET_WORDS) idx[b] = 0;
    return idx;
  }

  /** base: first word of a slot's record */
  base(slot: number): number {
    return slot * this.stride;
  }

  /** meta word of a slot */
  meta(slot: number): number {
    return this.rec[slot * this.stride + this.common + W_META];
  }

  /** proto: the l4 protocol of a slot */
  proto(slot: number): number {
    return this.rec[slot * this.stride + this.common + W_AUX] >>> 24;
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
      this.freeHead = this.rec[slot * this.stride + this.common + W_EXPIRY] & NIL;
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
    this.count++;
    return slot;
  }

  /** setZone: the conntrack zone of a slot (packed, CtZone; 0 the default zone). */
  setZone(slot: number, zone: number): void {
    if (zone !== 0) this.zoned = true;
    this.rec[slot * this.stride + this.common + W_ZONE] = zone;
  }

  /** zoneOf: the conntrack zone of a slot (packed, CtZone). */
  zoneOf(slot: number): number {
    return this.rec[slot * this.stride + this.common + W_ZONE];
  }

  /**
   * zoneMatches: Linux nf_ct_zone_equal for node `n`: the entry's zone id in the node's direction equals
   * that of `zone` (packed, CtZone).
   */
  zoneMatches(n: number, zone: number): boolean {
    const d = n & 1;
    const ez = this.rec[(n >>> 1) * this.stride + this.common + W_ZONE];
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
    const cb = slot * this.stride + this.common;
    this.rec[cb + W_META] = META_FREE;
    this.rec[cb + W_EXPIRY] = this.freeHead;
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

  /** grow: enlarge the record array to `newCap` slots and rebuild the index (slow path). */
  grow(newCap: number): void {
    const rec = alignedInt32(newCap * this.stride);
    rec.set(this.rec);
    this.rec = rec;
    this.capacity = newCap;
    const nb = CtStore.bucketsFor(newCap);
    if (nb !== this.nBuckets) {
      this.nBuckets = nb;
      this.bucketScale = nb / 16777216;
      this.idx = CtStore.emptyIndex(nb);
      const c = this.common;
      for (let s = 0; s < this.used; s++) {
        const m = rec[s * this.stride + c + W_META];
        if ((m & META_HASHED_ORIG) !== 0) this.insertNode(s * 2, this.nodeHash(s * 2));
        if ((m & META_HASHED_REPLY) !== 0) this.insertNode(s * 2 + 1, this.nodeHash(s * 2 + 1));
      }
    }
    if (this.onGrow !== null) this.onGrow(this.family, newCap);
  }

  // ---- hashing ---------------------------------------------------------------------------------

  /** nodeHash: hash of the tuple stored in node `n` (= slot*2 + dir). */
  nodeHash(n: number): number {
    const b = (n >>> 1) * this.stride;
    const off = b + (n & 1) * this.node;
    const r = this.rec;
    const aw = this.aw;
    return hashTuple(this.seeds, r, off, r, off + aw, aw, r[off + 2 * aw], r[b + this.common + W_AUX] >>> 24);
  }

  /** tupleHash: hash of a tuple given as words (as find takes it) */
  tupleHash(src: Int32Array, sOff: number, dst: Int32Array, dOff: number, ports: number, proto: number): number {
    return hashTuple(this.seeds, src, sOff, dst, dOff, this.aw, ports, proto);
  }

  /** homeWord: the index offset of the home bucket of hash `h` */
  homeWord(h: number): number {
    return (((h >>> 8) * this.bucketScale) | 0) * BUCKET_WORDS;
  }

  /** nextBucket: the index offset of the bucket after the one at `bi` (wrapping) */
  nextBucket(bi: number): number {
    const nb = bi + BUCKET_WORDS;
    return nb >= this.idx.length ? 0 : nb;
  }

  /** insertNode: put node `n` (tuple hash `h`) in the index (no flag update). */
  private insertNode(n: number, h: number): void {
    const idx = this.idx;
    const e = ((h & 0xff) << 24) | n;
    const p0 = (h & 0xff) % BUCKET_ENTRIES;
    let bi = this.homeWord(h);
    for (;;) {
      let p = p0;
      for (let k = 0; k < BUCKET_ENTRIES; k++) {
        if (idx[bi + 1 + p] === EMPTY) {
          idx[bi + 1 + p] = e;
          return;
        }
        p = p === BUCKET_ENTRIES - 1 ? 0 : p + 1;
      }
      // full: the entry goes on, counted here
      idx[bi]++;
      bi = this.nextBucket(bi);
    }
  }

  /** removeNode: take node `n` (tuple hash `h`) out of the index; false if it was not found. */
  private removeNode(n: number, h: number): boolean {
    const idx = this.idx;
    const e = ((h & 0xff) << 24) | n;
    const p0 = (h & 0xff) % BUCKET_ENTRIES;
    const home = this.homeWord(h);
    let bi = home;
    // first find it, then undo the overflow counts of the buckets it passed
    for (;;) {
      let p = p0;
      for (let k = 0; k < BUCKET_ENTRIES; k++) {
        const x = idx[bi + 1 + p];
        if (x === EMPTY) break;
        if (x === e) {
          this.closeHole(bi, p);
          for (let q = home; q !== bi; q = this.nextBucket(q)) idx[q]--;
          return true;
        }
        p = p === BUCKET_ENTRIES - 1 ? 0 : p + 1;
      }
      if (idx[bi] === 0) return false;
      bi = this.nextBucket(bi);
      if (bi === home) return false;
    }
  }

  /**
   * closeHole: empty position `hole` of the bucket at `bi` and move later entries of its run back where
   * their probe from their own start (fingerprint % BUCKET_ENTRIES) passes the hole, so that every entry
   * stays reachable from its start without crossing an empty position.
   */
  private closeHole(bi: number, hole: number): void {
    const idx = this.idx;
    const w = BUCKET_ENTRIES;
    const first = hole;
    let k = hole === w - 1 ? 0 : hole + 1;
    while (k !== first) {
      const x = idx[bi + 1 + k];
      if (x === EMPTY) break;
      const start = (x >>> 24) % w;
      // x stays unless its start lies cyclically outside (hole, k]
      const stays = hole <= k ? start > hole && start <= k : start > hole || start <= k;
      if (!stays) {
        idx[bi + 1 + hole] = x;
        hole = k;
      }
      k = k === w - 1 ? 0 : k + 1;
    }
    idx[bi + 1 + hole] = EMPTY;
  }

  // ---- probing (slow paths; find has its own copy) ------------------------------------------------

  private prBi = 0;
  private prHome = 0;
  private prP = 0;
  private prK = 0;
  private prFp = 0;
  /** entries looked at by the current probe (all, not only fingerprint matches) */
  probeLooked = 0;

  /** probeStart: begin walking the index entries a lookup of hash `h` looks at (see probeNext). */
  probeStart(h: number): void {
    this.prFp = h & 0xff;
    this.prHome = this.homeWord(h);
    this.prBi = this.prHome;
    this.prP = this.prFp % BUCKET_ENTRIES;
    this.prK = 0;
    this.probeLooked = 0;
  }

  /**
   * probeNext: the next node whose entry has the probe's fingerprint, in lookup order, or -1 at the end.
   * The index must not change during a probe (start over after removing anything).
   */
  probeNext(): number {
    const idx = this.idx;
    const fp = this.prFp;
    for (;;) {
      while (this.prK < BUCKET_ENTRIES) {
        const e = idx[this.prBi + 1 + this.prP];
        if (e === EMPTY) {
          this.prK = BUCKET_ENTRIES;
          break;
        }
        this.prK++;
        this.prP = this.prP === BUCKET_ENTRIES - 1 ? 0 : this.prP + 1;
        this.probeLooked++;
        if (e >>> 24 === fp) return e & NIL;
      }
      if (idx[this.prBi] === 0) return -1;
      this.prBi = this.nextBucket(this.prBi);
      if (this.prBi === this.prHome) return -1;
      this.prK = 0;
      this.prP = fp % BUCKET_ENTRIES;
    }
  }

  /** hashNode: insert node `n` into the index and flag it. */
  hashNode(n: number): void {
    this.hashNodeWith(n, this.nodeHash(n));
  }

  /** hashNodeWith: hashNode for a node whose tuple hash `h` the caller computed already. */
  hashNodeWith(n: number, h: number): void {
    this.insertNode(n, h);
    this.inserts++;
    const mo = (n >>> 1) * this.stride + this.common + W_META;
    this.rec[mo] |= (n & 1) === 0 ? META_HASHED_ORIG : META_HASHED_REPLY;
  }

  /** unhashNode: remove node `n` from the index, if hashed. */
  unhashNode(n: number): void {
    const r = this.rec;
    const mo = (n >>> 1) * this.stride + this.common + W_META;
    const bit = (n & 1) === 0 ? META_HASHED_ORIG : META_HASHED_REPLY;
    if ((r[mo] & bit) === 0) return;
    r[mo] &= ~bit;
    this.removeNode(n, this.nodeHash(n));
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
    if (this.aw !== 1) return this.find6(src, sOff, dst, dOff, ports, proto, now, zone);
    const r = this.rec;
    const idx = this.idx;
    const zoned = zone !== 0 || this.zoned;
    const s0 = src[sOff];
    const d0 = dst[dOff];
    const seeds = this.seeds;
    const h = hashV4(seeds[0], seeds[1], seeds[2], s0, d0, ports, proto);
    const fp = h & 0xff;
    const p0 = fp % BUCKET_ENTRIES;
    let bi = (((h >>> 8) * this.bucketScale) | 0) * BUCKET_WORDS;
    for (;;) {
      let p = p0;
      for (let k = 0; k < BUCKET_ENTRIES; k++) {
        const e = idx[bi + 1 + p];
        if (e === EMPTY) break;
        p = p === BUCKET_ENTRIES - 1 ? 0 : p + 1;
        if (e >>> 24 !== fp) continue;
        const n = e & NIL;
        // IPv4 layout: node d at slot * 24 + 3d, AUX at + 6, EXPIRY at + 16
        const sb = (n >>> 1) * V4_STRIDE;
        const o = sb + (n & 1) * 3;
        // the expiry word lies in the record's other cache line: load it with the key
        const expiry = r[sb + V4_COMMON + W_EXPIRY];
        if (
          r[o] === s0 &&
          r[o + 1] === d0 &&
          r[o + 2] === ports &&
          r[sb + V4_COMMON] >>> 24 === proto &&
          (!zoned || this.zoneMatches(n, zone))
        ) {
          if (((expiry - now) | 0) > 0) return n;
          this.expiredSeen = n >>> 1;
        }
      }
      if (idx[bi] === 0) return -1;
      bi = bi + BUCKET_WORDS >= idx.length ? 0 : bi + BUCKET_WORDS;
    }
  }

  private find6(
    src: Int32Array,
    sOff: number,
    dst: Int32Array,
    dOff: number,
    ports: number,
    proto: number,
    now: number,
    zone: number,
  ): number {
    const r = this.rec;
    const zoned = zone !== 0 || this.zoned;
    const stride = this.stride;
    const nodeW = this.node;
    const cw = this.common;
    this.probeStart(hashTuple(this.seeds, src, sOff, dst, dOff, 4, ports, proto));
    for (let n = this.probeNext(); n >= 0; n = this.probeNext()) {
      const sb = (n >>> 1) * stride;
      const o = sb + (n & 1) * nodeW;
      if (
        r[o + 8] === ports &&
        r[sb + cw] >>> 24 === proto &&
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
        if (((r[sb + cw + W_EXPIRY] - now) | 0) > 0) return n;
        this.expiredSeen = n >>> 1;
      }
    }
    return -1;
  }

  /**
   * touch: start the memory loads a lookup of this tuple will make (the index bucket, then the record
   * of the first entry whose fingerprint matches, both of its cache lines) and return a value derived
   * from them. Calling it for several packets before processing them lets the cache misses overlap
   * (memory-level parallelism).
   */
  touch(src: Int32Array, dst: Int32Array, ports: number, proto: number): number {
    const h = this.tupleHash(src, 0, dst, 0, ports, proto);
    return this.touchRecord(this.homeWord(h), h & 0xff);
  }

  /**
   * touchRecord: the second half of touch: in the bucket at index offset `bi`, the first entry with
   * fingerprint `fp`: load both cache lines of its record (0 when there is none).
   */
  touchRecord(bi: number, fp: number): number {
    const idx = this.idx;
    let p = fp % BUCKET_ENTRIES;
    for (let k = 0; k < BUCKET_ENTRIES; k++) {
      const e = idx[bi + 1 + p];
      if (e === EMPTY) return 0;
      p = p === BUCKET_ENTRIES - 1 ? 0 : p + 1;
      if (e >>> 24 !== fp) continue;
      const b = ((e & NIL) >>> 1) * this.stride;
      return this.rec[b] ^ this.rec[b + this.stride - 1];
    }
    return 0;
  }

  /** nodeEquals: whether nodes `a` and `b` (of this store) hold the same tuple. */
  nodeEquals(a: number, b: number): boolean {
    const r = this.rec;
    const ba = (a >>> 1) * this.stride;
    const bb = (b >>> 1) * this.stride;
    const oa = ba + (a & 1) * this.node;
    const ob = bb + (b & 1) * this.node;
    const n = this.node;
    for (let i = 0; i < n; i++) if (r[oa + i] !== r[ob + i]) return false;
    return r[ba + this.common + W_AUX] >>> 24 === r[bb + this.common + W_AUX] >>> 24;
  }

  /**
   * nodeIs: whether node `n` holds the tuple (src, dst, ports, proto), addresses as `aw` words from
   * offset 0 of `src` / `dst`.
   */
  nodeIs(n: number, src: Int32Array, dst: Int32Array, ports: number, proto: number): boolean {
    const r = this.rec;
    const b = (n >>> 1) * this.stride;
    const o = b + (n & 1) * this.node;
    const aw = this.aw;
    if (r[o + 2 * aw] !== ports || r[b + this.common + W_AUX] >>> 24 !== proto) return false;
    for (let i = 0; i < aw; i++) if (r[o + i] !== src[i] || r[o + aw + i] !== dst[i]) return false;
    return true;
  }

  /**
   * clashWalk: look through the index for node `n`'s tuple (tuple hash `h`; Linux
   * __nf_conntrack_confirm's loop): the first hashed node holding the same tuple in the same zone (that
   * of node `n`'s entry), not of slot `skipSlot` (ignoring expiry), or -1 when there is none, or -2 when
   * more than `maxLen` other entries with the same fingerprint were looked at before (Linux's chain too
   * long: many tuples with the same hash, the sign of a collision attack; entries that merely share an
   * index bucket do not count). Expired holders are the caller's to judge.
   */
  clashWalk(n: number, h: number, skipSlot: number, maxLen: number): number {
    const zone = this.zoneOf(n >>> 1);
    let len = 0;
    this.probeStart(h);
    for (let cur = this.probeNext(); cur >= 0; cur = this.probeNext()) {
      if (cur >>> 1 !== skipSlot && this.nodeEquals(cur, n) && this.zoneMatches(cur, zone)) return cur;
      if (len++ > maxLen) return -2;
    }
    return -1;
  }

  // ---- Linux-like hash chains (early drop) -------------------------------------------------------

  /**
   * chainNodes: the hashed nodes on chain `chain` of a Linux-like hash table of `chains` buckets, into
   * `out` (at most out.length); returns how many. A tuple with hash h is on chain
   * floor((h >>> 8) * chains / 2^24) (Linux's reciprocal_scale over the 24 bits the index orders
   * by), so a chain's entries sit in consecutive index buckets. Slow path: the hash of every entry in
   * those buckets is recomputed from its record.
   */
  chainNodes(chain: number, chains: number, out: Int32Array): number {
    const idx = this.idx;
    const lo24 = Math.ceil((chain * 16777216) / chains);
    const hi24 = Math.ceil(((chain + 1) * 16777216) / chains) - 1;
    if (hi24 < lo24) return 0;
    const lo = ((lo24 * this.bucketScale) | 0) * BUCKET_WORDS;
    const hi = ((hi24 * this.bucketScale) | 0) * BUCKET_WORDS;
    let count = this.chainScan(lo, chain, chains, out, 0);
    let bi = lo;
    // the chain's home buckets
    while (bi !== hi) {
      bi += BUCKET_WORDS;
      count = this.chainScan(bi, chain, chains, out, count);
    }
    // entries of those homes that went on past the last one
    while (idx[bi] !== 0) {
      bi = this.nextBucket(bi);
      if (bi === lo) break;
      count = this.chainScan(bi, chain, chains, out, count);
    }
    return count;
  }

  private chainScan(bi: number, chain: number, chains: number, out: Int32Array, count: number): number {
    const idx = this.idx;
    const end = bi + BUCKET_WORDS;
    for (let j = bi + 1; j < end; j++) {
      const e = idx[j];
      if (e === EMPTY) continue;
      const n = e & NIL;
      if (Math.floor(((this.nodeHash(n) >>> 8) * chains) / 16777216) === chain && count < out.length) {
        out[count++] = n;
      }
    }
    return count;
  }

  /**
   * checkIndex: verify the index against the records (tests; slow): every hashed node has exactly one
   * entry, reachable by a lookup of its tuple, with its fingerprint; no other entries; every bucket's
   * count is the number of entries that passed it. Returns a description of the first problem, or null.
   */
  checkIndex(): string | null {
    const idx = this.idx;
    const nb = this.nBuckets;
    const counts = new Int32Array(nb);
    const seen = new Set<number>();
    for (let b = 0; b < nb; b++) {
      for (let p = 0; p < BUCKET_ENTRIES; p++) {
        const e = idx[b * BUCKET_WORDS + 1 + p];
        if (e === EMPTY) continue;
        const n = e & NIL;
        const slot = n >>> 1;
        if (slot >= this.used) return `bucket ${b}: entry for slot ${slot} beyond the used slots`;
        const bit = (n & 1) === 0 ? META_HASHED_ORIG : META_HASHED_REPLY;
        if ((this.meta(slot) & bit) === 0) return `bucket ${b}: node ${n} is not flagged hashed`;
        if (seen.has(n)) return `node ${n} is in the index twice`;
        seen.add(n);
        const h = this.nodeHash(n);
        if (e >>> 24 !== (h & 0xff)) return `node ${n}: wrong fingerprint`;
        // reachable from its start position without crossing an empty one
        for (let q = (h & 0xff) % BUCKET_ENTRIES; q !== p; q = (q + 1) % BUCKET_ENTRIES) {
          if (idx[b * BUCKET_WORDS + 1 + q] === EMPTY) return `node ${n}: an empty position before it`;
        }
        for (let q = this.homeWord(h) / BUCKET_WORDS; q !== b; q = (q + 1) % nb) counts[q]++;
      }
    }
    for (let b = 0; b < nb; b++) {
      if (idx[b * BUCKET_WORDS] !== counts[b])
        return `bucket ${b}: count ${idx[b * BUCKET_WORDS]}, expected ${counts[b]}`;
    }
    for (let s = 0; s < this.used; s++) {
      const m = this.meta(s);
      if ((m & META_HASHED_ORIG) !== 0 && !seen.has(s * 2)) return `node ${s * 2} is flagged hashed but missing`;
      if ((m & META_HASHED_REPLY) !== 0 && !seen.has(s * 2 + 1))
        return `node ${s * 2 + 1} is flagged hashed but missing`;
    }
    return null;
  }

  /** bytes held by this store's typed arrays */
  byteSize(): number {
    return this.rec.buffer.byteLength + this.idx.buffer.byteLength + this.quarantine.byteLength;
  }
}
