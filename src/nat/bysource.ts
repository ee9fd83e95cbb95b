/**
 * BySource: the index of connections with a source binding, keyed by their ORIGINAL source (address,
 * port or ICMP id, protocol), so a new connection from the same source can reuse the same mapping
 * (Linux nf_nat_bysource, filled by nf_nat_setup_info for every SRC manip, null bindings included,
 * and emptied when the connection is freed).
 *
 * Storage: typed arrays indexed by the entry's side index (see sideIndex; doubly linked chains, so
 * removal is O(1)), with the conntrack entry id kept per index,
 * bucket heads hashed with a per-instance seed. New entries go to the head of their chain, as Linux's
 * hlist_add_head does, so a walk visits the newest binding first.
 *
 * hot path: add/remove/walk do not allocate (growth happens only in ensureCapacity).
 */
import { bswap32, jhash2x4 } from "./jhash.js";

export class BySource {
  /** bucket heads: entry index or -1 */
  private heads: Int32Array;
  private mask: number;
  /** per entry: next / previous in chain (-1 none); bucket or -1 when not linked */
  private next: Int32Array;
  private prev: Int32Array;
  private bucketOf: Int32Array;
  /** per index: the conntrack entry id */
  private ids: Int32Array;
  private readonly seed: number;
  /** number of linked entries */
  count = 0;

  constructor(capacity: number, seed: number) {
    this.seed = seed | 0;
    const cap = Math.max(16, capacity | 0);
    this.next = new Int32Array(cap).fill(-1);
    this.prev = new Int32Array(cap).fill(-1);
    this.bucketOf = new Int32Array(cap).fill(-1);
    this.ids = new Int32Array(cap).fill(-1);
    const nb = BySource.bucketsFor(cap);
    this.heads = new Int32Array(nb).fill(-1);
    this.mask = nb - 1;
  }

  private static bucketsFor(cap: number): number {
    let n = 1024;
    while (n < cap) n <<= 1;
    return n;
  }

  /** capacity: entry indexes below this can be linked. */
  get capacity(): number {
    return this.next.length;
  }

  /**
   * ensureCapacity: make room for entry indexes below `cap` (call when the connection table grows).
   * Rehashes when the bucket array should grow; not a per-packet operation.
   */
  ensureCapacity(cap: number): void {
    if (cap <= this.next.length) return;
    const old = this.next.length;
    let n = old;
    while (n < cap) n *= 2;
    const grow = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n).fill(-1);
      b.set(a);
      return b;
    };
    this.next = grow(this.next);
    this.prev = grow(this.prev);
    this.bucketOf = grow(this.bucketOf);
    this.ids = grow(this.ids);
    const nb = BySource.bucketsFor(n);
    if (nb > this.heads.length) {
      // rehash: bucket numbers depend on the mask; recompute each entry's bucket from its key
      this.rehash(nb);
    }
  }

  /** hash of a source key, in [0, buckets) */
  bucket(src: Int32Array, port: number, proto: number): number {
    const h = jhash2x4(
      bswap32(src[0]),
      bswap32(src[1]),
      bswap32(src[2]),
      bswap32(src[3]),
      this.seed ^ ((port << 8) | proto),
    );
    return h & this.mask;
  }

  /** head: first entry of bucket `b` or -1. */
  head(b: number): number {
    return this.heads[b];
  }

  /** nextOf: the entry after `ct` in its chain, or -1. */
  nextOf(ct: number): number {
    return this.next[ct];
  }

  /** isLinked: `ct` is in the index. */
  isLinked(ct: number): boolean {
    return ct >= 0 && ct < this.bucketOf.length && this.bucketOf[ct] >= 0;
  }

  /** ctOf: the conntrack entry id linked at index `i`. */
  ctOf(i: number): number {
    return this.ids[i];
  }

  /** add: link index `ct` (entry id `id`) at the head of bucket `b` (unlinks it first if linked). */
  add(ct: number, id: number, b: number): void {
    if (this.bucketOf[ct] >= 0) this.remove(ct);
    this.ids[ct] = id;
    const h = this.heads[b];
    this.next[ct] = h;
    this.prev[ct] = -1;
    if (h >= 0) this.prev[h] = ct;
    this.heads[b] = ct;
    this.bucketOf[ct] = b;
    this.count++;
  }

  /** remove: unlink `ct` if linked. */
  remove(ct: number): void {
    if (ct < 0 || ct >= this.bucketOf.length) return;
    const b = this.bucketOf[ct];
    if (b < 0) return;
    const n = this.next[ct];
    const p = this.prev[ct];
    if (p >= 0) this.next[p] = n;
    else this.heads[b] = n;
    if (n >= 0) this.prev[n] = p;
    this.next[ct] = -1;
    this.prev[ct] = -1;
    this.bucketOf[ct] = -1;
    this.count--;
  }

  /** clear: unlink everything. */
  clear(): void {
    this.heads.fill(-1);
    this.next.fill(-1);
    this.prev.fill(-1);
    this.bucketOf.fill(-1);
    this.count = 0;
  }

  /** rehashKey: set by the owner so a rehash can recompute buckets (the bucket of index `i`). */
  rehashKey: ((ct: number) => number) | null = null;

  private rehash(nb: number): void {
    // collect chains in newest-first order per bucket, then relink preserving relative order
    const order: number[] = [];
    for (let b = 0; b < this.heads.length; b++) {
      const chain: number[] = [];
      for (let c = this.heads[b]; c >= 0; c = this.next[c]) chain.push(c);
      // oldest first, so that re-adding at head restores newest-first
      for (let i = chain.length - 1; i >= 0; i--) order.push(chain[i]);
    }
    this.heads = new Int32Array(nb).fill(-1);
    this.mask = nb - 1;
    this.next.fill(-1);
    this.prev.fill(-1);
    this.bucketOf.fill(-1);
    this.count = 0;
    const key = this.rehashKey;
    for (const ct of order) {
      if (key !== null) this.add(ct, this.ids[ct], key(ct));
    }
  }
}
