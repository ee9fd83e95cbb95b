/**
 * Big-endian byte access helpers shared by the wire views. No bounds checks: callers validate first.
 */

/** get16: unsigned 16-bit big-endian read. */
export function get16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** get32: 32-bit big-endian read as an int32. */
export function get32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** put16: 16-bit big-endian write (the low 16 bits of v). */
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** put32: 32-bit big-endian write. */
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** readAddr6: 16 bytes at b[o] into four int32 words. */
export function readAddr6(b: Uint8Array, o: number, out: Int32Array): void {
  out[0] = get32(b, o);
  out[1] = get32(b, o + 4);
  out[2] = get32(b, o + 8);
  out[3] = get32(b, o + 12);
}

/** writeAddr6: four int32 words as 16 bytes at b[o]. */
export function writeAddr6(b: Uint8Array, o: number, w: ArrayLike<number>): void {
  put32(b, o, w[0]);
  put32(b, o + 4, w[1]);
  put32(b, o + 8, w[2]);
  put32(b, o + 12, w[3]);
}
