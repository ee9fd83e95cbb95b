/**
 * The seeded tuple hash (the role of Linux `hash_conntrack_raw`, which is a siphash keyed by a random
 * boot-time key): a 32-bit Murmur3-style mix of the tuple's words. The seed comes from the
 * configuration, so a table is deterministic for a given seed, and different seeds spread tuples
 * differently (an attacker who does not know the seed cannot aim at one chain).
 *
 * hot path: no allocation; int32 arithmetic only.
 */

/** mixWord: fold one 32-bit word into the running hash `h` (Murmur3 body step). */
export function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** finalMix: Murmur3 finaliser, so that the low bits (the bucket index) depend on every input bit. */
export function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * hashTuple: hash of a tuple given as address words `a[aOff .. aOff+aw)` (source) and
 * `b[bOff .. bOff+aw)` (destination), the ports word `(src << 16) | dst` and the protocol number.
 * `aw` is 1 for IPv4, 4 for IPv6.
 */
export function hashTuple(
  seed: number,
  a: Int32Array,
  aOff: number,
  b: Int32Array,
  bOff: number,
  aw: number,
  ports: number,
  proto: number,
): number {
  let h = seed ^ proto;
  if (aw === 1) {
    h = mixWord(h, a[aOff]);
    h = mixWord(h, b[bOff]);
  } else {
    for (let i = 0; i < aw; i++) h = mixWord(h, a[aOff + i]);
    for (let i = 0; i < aw; i++) h = mixWord(h, b[bOff + i]);
  }
  h = mixWord(h, ports);
  return finalMix(h ^ (aw << 3));
}
