/**
 * Bob Jenkins' lookup3 word hash in the variant Linux calls `jhash2`, and Linux's `reciprocal_scale`.
 * NAT uses them to pick an address from a multi-address range (find_best_ips_proto), and that choice is
 * visible on the wire, so these must give the kernel's numbers bit for bit. The algorithm is public
 * domain (lookup3.c, "hashword"); the code here is written from its description.
 *
 * Kernel words are u32 values read from memory in the host's byte order. The kernel oracle of this
 * project is little-endian (x86-64), so an address word stored in network order reads as the
 * byte-swapped value: use `bswap32` on ctnat's network-order int32 words before hashing.
 *
 * hot path: no allocation; all arithmetic in int32.
 */

/** JHASH_INITVAL: lookup3's arbitrary start value. */
const JHASH_INITVAL = 0xdeadbeef | 0;

function rol32(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** bswap32: reverse the byte order of a 32-bit word (network order <-> little-endian host order). */
export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff);
}

/**
 * jhash2x4: Linux `jhash2(k, 4, initval)` for the four words k0..k3 (already in host order). Returns an
 * int32 (compare with `>>> 0` if unsigned needed).
 */
export function jhash2x4(k0: number, k1: number, k2: number, k3: number, initval: number): number {
  // length 4 words: initial state is INITVAL + (4 << 2) + initval
  let a = (JHASH_INITVAL + 16 + initval) | 0;
  let b = a;
  let c = a;
  // one full block of three words, then mix
  a = (a + k0) | 0;
  b = (b + k1) | 0;
  c = (c + k2) | 0;
  // mix(a, b, c)
  a = (a - c) | 0;
  a ^= rol32(c, 4);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= rol32(a, 6);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= rol32(b, 8);
  b = (b + a) | 0;
  a = (a - c) | 0;
  a ^= rol32(c, 16);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= rol32(a, 19);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= rol32(b, 4);
  b = (b + a) | 0;
  // the last (fourth) word goes into a, then the final avalanche
  a = (a + k3) | 0;
  return jhashFinal(a, b, c);
}

/** jhash3words: Linux `jhash_3words(a, b, c, initval)`. */
export function jhash3words(a: number, b: number, c: number, initval: number): number {
  const iv = (initval + JHASH_INITVAL + 12) | 0;
  return jhashFinal((a + iv) | 0, (b + iv) | 0, (c + iv) | 0);
}

function jhashFinal(a: number, b: number, c: number): number {
  c ^= b;
  c = (c - rol32(b, 14)) | 0;
  a ^= c;
  a = (a - rol32(c, 11)) | 0;
  b ^= a;
  b = (b - rol32(a, 25)) | 0;
  c ^= b;
  c = (c - rol32(b, 16)) | 0;
  a ^= c;
  a = (a - rol32(c, 4)) | 0;
  b ^= a;
  b = (b - rol32(a, 14)) | 0;
  c ^= b;
  c = (c - rol32(b, 24)) | 0;
  return c;
}

/**
 * reciprocalScale: Linux `reciprocal_scale(val, range)` = (u32)(((u64)val * range) >> 32), i.e. `val`
 * (a u32 hash) scaled into [0, range). Both arguments are treated as unsigned 32-bit; exact for all
 * inputs (computed in two 16-bit halves so no intermediate exceeds 2^53).
 */
export function reciprocalScale(val: number, range: number): number {
  const v = val >>> 0;
  const r = range >>> 0;
  const hi = v >>> 16;
  const lo = v & 0xffff;
  return Math.floor((hi * r + Math.floor((lo * r) / 65536)) / 65536);
}
