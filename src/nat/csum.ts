/**
 * Checksum arithmetic exactly as Linux's NAT performs it, so that rewritten packets are byte-identical
 * with the kernel's (including the choice between the two one's-complement zeros, 0x0000 and 0xffff).
 *
 * Every checksum change NAT makes in Linux goes through `csum_replace4` / `inet_proto_csum_replace4` /
 * `inet_proto_csum_replace16` (ports and ICMP ids too: `inet_proto_csum_replace2` widens to the 4-byte
 * form), or through a full recompute (`csum_fold(skb_checksum(...))`, `csum_ipv6_magic`). All of them
 * end in `csum_fold` of a 32-bit one's-complement accumulator that is never all-zero (the complemented
 * old checksum is widened to 32 bits, so its upper half is 0xffff; a full recompute always covers a
 * non-zero type or protocol byte). Such a fold is the unique value in 1..0xffff congruent to the sum
 * modulo 0xffff, so the stored checksum is `0xffff - v`: never 0xffff, and 0x0000 exactly when the sum
 * is a multiple of 0xffff. This module computes that with plain integer arithmetic on "residues".
 *
 * A delta is an unfolded sum (non-negative integer < 2^53) of 16-bit words: for each changed word the
 * complement of the old value plus the new value (RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m')).
 *
 * hot path: nothing here allocates.
 */

/**
 * csumApplyDelta: the new checksum field after adding `delta` (see module doc; below 2^31) to checksum
 * `check`. Folding with end-around carry gives the residue as 1..0xffff for a non-zero sum; a zero sum
 * stands for Linux's widened 0xffff0000 operand, which is also "zero", so both store 0x0000.
 */
export function csumApplyDelta(check: number, delta: number): number {
  let v = (~check & 0xffff) + delta;
  v = (v & 0xffff) + (v >>> 16);
  v = (v & 0xffff) + (v >>> 16);
  return v === 0 ? 0 : 0xffff - v;
}

/** csumFinish: the checksum field for a full sum (Linux csum_fold of a non-zero accumulator). */
export function csumFinish(sum: number): number {
  const r = sum % 0xffff;
  return r === 0 ? 0 : 0xffff - r;
}

/** deltaWord: the delta for one int32 word (two 16-bit halves) changing from `o` to `n`. */
export function deltaWord(o: number, n: number): number {
  return (~(o >>> 16) & 0xffff) + (~o & 0xffff) + ((n >>> 16) & 0xffff) + (n & 0xffff);
}

/** delta16: the delta for one 16-bit field changing from `o` to `n`. */
export function delta16(o: number, n: number): number {
  return (~o & 0xffff) + (n & 0xffff);
}

/** sumRange: the plain sum of big-endian 16-bit words of buf[off, end) (odd tail padded with zero). */
export function sumRange(buf: Uint8Array, off: number, end: number): number {
  let s = 0;
  let i = off;
  const even = end - ((end - off) & 1);
  while (i < even) {
    s += (buf[i] << 8) | buf[i + 1];
    i += 2;
  }
  if (even < end) s += buf[even] << 8;
  return s;
}

/** sumWords: the plain sum of the 16-bit halves of `n` int32 words read from `buf` at `off`. */
export function sumAddrBytes(buf: Uint8Array, off: number, nBytes: number): number {
  let s = 0;
  for (let i = 0; i < nBytes; i += 2) s += (buf[off + i] << 8) | buf[off + i + 1];
  return s;
}

/** readU16: big-endian 16-bit read. */
export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** writeU16: big-endian 16-bit write. */
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** readWord: four bytes as an int32 in network order. */
export function readWord(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** writeWord: store an int32 in network order. */
export function writeWord(b: Uint8Array, o: number, w: number): void {
  b[o] = (w >>> 24) & 0xff;
  b[o + 1] = (w >>> 16) & 0xff;
  b[o + 2] = (w >>> 8) & 0xff;
  b[o + 3] = w & 0xff;
}
