/**
 * TCP sequence number arithmetic modulo 2^32 (RFC 9293 §3.4), on int32 values. A sequence number is
 * "before" another when the signed 32-bit difference is negative, exactly as Linux's before()/after()
 * (`(s32)(seq1 - seq2) < 0`). Numbers stay int32 (`| 0`); print them with `>>> 0`.
 *
 * hot path: no allocation, integer math only.
 */

/** seqAdd: a + n modulo 2^32, as int32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) | 0;
}

/** seqDiff: the signed distance a - b (int32), meaningful when |a - b| < 2^31. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** seqBefore: a comes before b (Linux before(a, b)). */
export function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** seqAfter: a comes after b (Linux after(a, b) = before(b, a)). */
export function seqAfter(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** seqBeforeEq: a is b or before it (!after(a, b)). */
export function seqBeforeEq(a: number, b: number): boolean {
  return ((b - a) | 0) >= 0;
}

/** seqAfterEq: a is b or after it (!before(a, b)). */
export function seqAfterEq(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/**
 * seqBetween: low <= seq <= high in sequence space, going forward from low (Linux between(seq1, seq2,
 * seq3): seq3 - seq2 >= seq1 - seq2, unsigned).
 */
export function seqBetween(seq: number, low: number, high: number): boolean {
  return (high - low) >>> 0 >= (seq - low) >>> 0;
}

/** seqMax: the later of two sequence numbers. */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) < 0 ? b | 0 : a | 0;
}

/** seqMin: the earlier of two sequence numbers. */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) < 0 ? a | 0 : b | 0;
}
