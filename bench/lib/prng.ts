/**
 * Seeded pseudo-random numbers for the benchmark generators (xorshift32: tiny, fast, deterministic
 * across runs and machines). Not for anything but traffic generation.
 */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0 || 0x2545f491;
  }
  /** next: a uniform unsigned 32-bit integer */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
  /** below: a uniform integer in [0, n) (n < 2^32; the tiny modulo bias is irrelevant here) */
  below(n: number): number {
    return this.next() % n;
  }
  /** chance: true with probability p */
  chance(p: number): boolean {
    return this.next() < p * 4294967296;
  }
}

/** shuffle: Fisher-Yates over a typed array, in place, seeded */
export function shuffle(a: Uint32Array | Int32Array, rng: Prng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
