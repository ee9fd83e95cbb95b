/**
 * The seeded tuple hash (the role of Linux `hash_conntrack_raw`, a siphash keyed by a random boot-time
 * key). Each 32-bit word of the tuple is XORed with a word of the seed and multiplied by its own odd
 * constant; the products are XORed and the result goes through a xorshift-multiply finaliser, so that
 * the bucket index (the low bits) depends on every input bit. The multiplications are independent, so
 * the hash costs little latency on the packet path. A table is deterministic for a given seed;
 * different seeds spread tuples differently (not a cryptographic defence against chosen collisions,
 * as siphash is).
 *
 * hot path: no allocation; int32 arithmetic only (every constant is an int32 literal, so V8 keeps the
 * whole computation in integer registers).
 */

const K1 = 0x9e3779b1 | 0;
const K2 = 0x85ebca77 | 0;
const K3 = 0xc2b2ae3d | 0;
const K4 = 0x27d4eb2f | 0;
const KF = 0x2c1b3c6d | 0;

/** seedWord: the i-th derived seed word (slow path: computed once per table). */
export function seedWord(seed: number, i: number): number {
  let h = (seed + Math.imul(i + 1, K1)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, K2);
  h ^= h >>> 13;
  h = Math.imul(h, K3);
  h ^= h >>> 16;
  return h;
}

/** finalMix: xorshift-multiply finaliser. */
export function finalMix(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, KF);
  h ^= h >>> 12;
  h = Math.imul(h, K1);
  h ^= h >>> 15;
  return h;
}

/** hashV4: hash of an IPv4 tuple (source, destination, ports word, protocol) under seed words s0..s3. */
export function hashV4(
  s0: number,
  s1: number,
  s2: number,
  src: number,
  dst: number,
  ports: number,
  proto: number,
): number {
  return finalMix(
    Math.imul(src ^ s0, K1) ^ Math.imul(dst ^ s1, K2) ^ Math.imul(ports ^ s2, K3) ^ Math.imul(proto + 1, K4),
  );
}

/**
 * hashTuple: hash of a tuple given as address words `a[aOff .. aOff+aw)` (source) and
 * `b[bOff .. bOff+aw)` (destination), the ports word `(src << 16) | dst` and the protocol number;
 * `aw` is 1 (IPv4) or 4 (IPv6). `seeds` holds 4 derived seed words (see seedWord).
 */
export function hashTuple(
  seeds: Int32Array,
  a: Int32Array,
  aOff: number,
  b: Int32Array,
  bOff: number,
  aw: number,
  ports: number,
  proto: number,
): number {
  const s0 = seeds[0];
  const s1 = seeds[1];
  const s2 = seeds[2];
  if (aw === 1) return hashV4(s0, s1, s2, a[aOff], b[bOff], ports, proto);
  // IPv6: fold the four words of each address first (each word with its own multiplier).
  const sa =
    Math.imul(a[aOff] ^ s0, K1) ^ Math.imul(a[aOff + 1], K2) ^ Math.imul(a[aOff + 2], K3) ^ Math.imul(a[aOff + 3], K4);
  const sb =
    Math.imul(b[bOff] ^ s1, K3) ^ Math.imul(b[bOff + 1], K4) ^ Math.imul(b[bOff + 2], K1) ^ Math.imul(b[bOff + 3], K2);
  return finalMix(finalMix(sa) ^ Math.imul(sb ^ seeds[3], KF) ^ Math.imul(ports ^ s2, K3) ^ Math.imul(proto + 1, K4));
}
