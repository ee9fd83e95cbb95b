/**
 * BySource: the index of connections with a source binding, keyed by their ORIGINAL source (address,
 * port or ICMP id, protocol), so a new connection from the same source can reuse the same mapping
 * (Linux nf_nat_bysource, filled by nf_nat_setup_info for every SRC manip, null bindings included,
 * and emptied when the connection is freed).
 *
 * Storage: singly linked chains through one Int32Array per address family, indexed by the entry's
 * slot (ctSlot: the conntrack id without its family bit), each word holding 7 bits of the entry's own
 * key hash (a fingerprint: a walk skips entries whose fingerprint differs without reading their
 * connection, which would be a cache miss) and the next entry's conntrack id + 1 (0 ends a chain; -1
 * marks an entry that is not linked), and bucket heads hashed with a per-instance seed. No key or back
 * pointer is stored: removal finds the entry's bucket again from its key (the owner's `keyOf`, read
 * from the connection's original tuple, which is still readable when it is freed) and walks that
 * chain, which holds about one entry. New entries go to the head of their chain, as Linux's
 * hlist_add_head does, so a walk visits the newest binding first.
 *
 * Memory: 4 bytes per conntrack slot of each family plus 4 bytes per bucket (one bucket per two slots).
 *
 * hot path: add/remove/walk do not allocate (growth happens only in ensureCapacity).
 */
import { finalMix } from "../conntrack/hash.js";

/** the conntrack id bit of IPv6 entries (Conntrack's CT_V6) */
const V6 = 1 << 24;
/** link word of an entry that is not in the index */
const UNLINKED = -1;
/** link word: the next entry's id + 1 in the low 25 bits, the fingerprint above */
const NEXT_MASK = 0x1ffffff;
const FP_SHIFT = 25;

function grown(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n).fill(UNLINKED);
  b.set(a);
  return b;
}

export class BySource {
  /** bucket heads: conntrack id or -1 */
  private heads: Int32Array;
  private mask: number;
  /** per slot of each family: the link word (fingerprint, next id + 1), or UNLINKED */
  private next4: Int32Array;
  private next6: Int32Array;
  private readonly seed: number;
  /** number of linked entries */
  count = 0;
  /** keyOf: set by the owner: the key hash (keyHash) of linked entry `ct` (used by remove and rehash) */
  keyOf: ((ct: number) => number) | null = null;

  constructor(capacity: number, seed: number) {
    this.seed = seed | 0;
    const cap = Math.max(16, capacity | 0);
    this.next4 = new Int32Array(cap).fill(UNLINKED);
    this.next6 = new Int32Array(16).fill(UNLINKED);
    const nb = BySource.bucketsFor(cap + 16);
    this.heads = new Int32Array(nb).fill(-1);
    this.mask = nb - 1;
  }

  private static bucketsFor(slots: number): number {
    let n = 1024;
    while (n * 2 < slots) n <<= 1;
    return n;
  }

  /** capacity: slots of `family` (4 or 6) that can be linked. */
  capacity(family: number): number {
    return family === 6 ? this.next6.length : this.next4.length;
  }

  /** bytes held by the typed arrays */
  byteSize(): number {
    return this.heads.byteLength + this.next4.byteLength + this.next6.byteLength;
  }

  /**
   * ensureCapacity: make room for slots below `cap` of `family` (call when the connection table
   * grows). Rehashes when the bucket array should grow; not a per-packet operation.
   */
  ensureCapacity(family: number, cap: number): void {
    if (cap <= this.capacity(family)) return;
    let n = Math.max(16, this.capacity(family));
    while (n < cap) n *= 2;
    if (family === 6) this.next6 = grown(this.next6, n);
    else this.next4 = grown(this.next4, n);
    const nb = BySource.bucketsFor(this.next4.length + this.next6.length);
    if (nb > this.heads.length) this.rehash(nb);
  }

  /**
   * keyHash: the hash of a source key; its bucket is keyBucket(h), its fingerprint keyFp(h). (Linux
   * hashes with jhash2; which entries share a chain is not observable, only the order of entries with
   * the same key, which is newest first whatever the hash, so a cheaper seeded multiply-xor hash does.)
   */
  keyHash(src: Int32Array, port: number, proto: number): number {
    return finalMix(
      Math.imul(src[0] ^ this.seed, 0x9e3779b1 | 0) ^
        Math.imul(src[1], 0x85ebca77 | 0) ^
        Math.imul(src[2], 0xc2b2ae3d | 0) ^
        Math.imul(src[3], 0x27d4eb2f | 0) ^
        Math.imul(((port & 0xffff) << 8) | proto, 0x2c1b3c6d),
    );
  }

  /** keyBucket: the bucket of key hash `h` */
  keyBucket(h: number): number {
    return h & this.mask;
  }

  /** keyFp: the fingerprint of key hash `h` (7 bits) */
  static keyFp(h: number): number {
    return h >>> FP_SHIFT;
  }

  /** hash of a source key, in [0, buckets) */
  bucket(src: Int32Array, port: number, proto: number): number {
    return this.keyHash(src, port, proto) & this.mask;
  }

  /** head: first entry (conntrack id) of bucket `b`, or -1. */
  head(b: number): number {
    return this.heads[b];
  }

  private link(ct: number): number {
    return (ct & V6) !== 0 ? this.next6[ct & 0xffffff] : this.next4[ct & 0xffffff];
  }

  /** nextOf: the entry after linked entry `ct` in its chain, or -1. */
  nextOf(ct: number): number {
    return (this.link(ct) & NEXT_MASK) - 1;
  }

  /** fpOf: the fingerprint of linked entry `ct`'s key (compare with BySource.keyFp of a key's hash). */
  fpOf(ct: number): number {
    return this.link(ct) >>> FP_SHIFT;
  }

  private setLink(ct: number, v: number): void {
    if ((ct & V6) !== 0) this.next6[ct & 0xffffff] = v;
    else this.next4[ct & 0xffffff] = v;
  }

  /** setNext: keep `ct`'s fingerprint, point it at `next` (-1: end of chain) */
  private setNext(ct: number, next: number): void {
    this.setLink(ct, (this.link(ct) & ~NEXT_MASK) | (next + 1));
  }

  /** isLinked: `ct` is in the index. */
  isLinked(ct: number): boolean {
    if (ct < 0) return false;
    const a = (ct & V6) !== 0 ? this.next6 : this.next4;
    const s = ct & 0xffffff;
    return s < a.length && a[s] !== UNLINKED;
  }

  /** add: link entry `ct` whose key hash is `h` at the head of its bucket (unlinks it first if linked). */
  add(ct: number, h: number): void {
    if (this.isLinked(ct)) this.remove(ct);
    const b = h & this.mask;
    this.setLink(ct, ((h >>> FP_SHIFT) << FP_SHIFT) | (this.heads[b] + 1));
    this.heads[b] = ct;
    this.count++;
  }

  /** remove: unlink `ct` if linked. */
  remove(ct: number): void {
    if (!this.isLinked(ct) || this.keyOf === null) return;
    const b = this.keyOf(ct) & this.mask;
    const after = this.nextOf(ct);
    this.setLink(ct, UNLINKED);
    this.count--;
    let cur = this.heads[b];
    if (cur === ct) {
      this.heads[b] = after;
      return;
    }
    while (cur >= 0) {
      const nx = this.nextOf(cur);
      if (nx === ct) {
        this.setNext(cur, after);
        return;
      }
      cur = nx;
    }
  }

  /** clear: unlink everything. */
  clear(): void {
    this.heads.fill(-1);
    this.next4.fill(UNLINKED);
    this.next6.fill(UNLINKED);
    this.count = 0;
  }

  private rehash(nb: number): void {
    // collect chains in newest-first order per bucket, then relink preserving relative order
    const order: number[] = [];
    for (let b = 0; b < this.heads.length; b++) {
      const chain: number[] = [];
      for (let c = this.heads[b]; c >= 0; c = this.nextOf(c)) chain.push(c);
      // oldest first, so that re-adding at head restores newest-first
      for (let i = chain.length - 1; i >= 0; i--) order.push(chain[i]);
    }
    this.heads = new Int32Array(nb).fill(-1);
    this.mask = nb - 1;
    this.next4.fill(UNLINKED);
    this.next6.fill(UNLINKED);
    this.count = 0;
    const key = this.keyOf;
    for (const ct of order) {
      if (key !== null) this.add(ct, key(ct));
    }
  }
}
