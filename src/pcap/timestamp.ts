/**
 * 64-bit timestamp arithmetic without BigInt on the common path.
 *
 * pcapng stores a timestamp as a 64-bit count of `1 / resolution` units, split into two 32-bit words.
 * Nanosecond counts since 1970 (about 1.8e18) are beyond the 2^53 that a double holds exactly, so the
 * division by the resolution is done in 16-bit steps whose intermediate values stay below 2^53. Results
 * go to module-level scratch variables (no allocation; read them right after the call).
 */

/** quotient of the last divmod64() (exact while below 2^53) */
export let divQuot = 0;
/** remainder of the last divmod64() (always exact) */
export let divRem = 0;

/**
 * divmod64: (hi * 2^32 + lo) divided by `d`, for 1 <= d <= 2^37, into divQuot / divRem.
 * Preconditions: hi and lo are uint32; d an integer in [1, 2^37].
 */
export function divmod64(hi: number, lo: number, d: number): void {
  let q = Math.floor(hi / d);
  let r = hi - q * d;
  let quot = q * 4294967296;
  // r < d <= 2^37, so r * 65536 + 65535 < 2^53: every step below is exact.
  let cur = r * 65536 + (lo >>> 16);
  q = Math.floor(cur / d);
  r = cur - q * d;
  if (r < 0) {
    q--;
    r += d;
  } else if (r >= d) {
    q++;
    r -= d;
  }
  quot += q * 65536;
  cur = r * 65536 + (lo & 0xffff);
  q = Math.floor(cur / d);
  r = cur - q * d;
  if (r < 0) {
    q--;
    r += d;
  } else if (r >= d) {
    q++;
    r -= d;
  }
  divQuot = quot + q;
  divRem = r;
}

/** high word of the last mulAdd64() */
export let mulHi = 0;
/** low word of the last mulAdd64() */
export let mulLo = 0;

/**
 * mulAdd64: a * m + b as a 64-bit value split into mulHi / mulLo (uint32 each).
 * Preconditions: a a non-negative integer below 2^36, m an integer in [1, 2^30], b in [0, 2^32).
 * Values that do not fit 64 bits wrap (the high word is taken modulo 2^32).
 */
export function mulAdd64(a: number, m: number, b: number): void {
  const aLo = a % 65536;
  const aHi = (a - aLo) / 65536;
  const x = aLo * m + b; // < 2^46 + 2^32
  const y = aHi * m; // < 2^50
  const yLo = y % 65536;
  const yHi = (y - yLo) / 65536;
  const s = yLo * 65536 + x; // < 2^47
  const lo = s % 4294967296;
  mulLo = lo;
  mulHi = (yHi + (s - lo) / 4294967296) % 4294967296;
}
