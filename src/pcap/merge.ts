/**
 * CaptureMerger: several record sources merged into one stream in timestamp order, as the replay
 * merges its `--in` captures. Ties (equal timestamps) go to the source listed first, so the order is
 * deterministic.
 *
 * Zero-copy: each source keeps its own reused record, and the merger holds every source's next
 * record (its head) without copying: a source is only advanced after its head has been returned and
 * the caller asks for the next record. The returned record is therefore valid until the next call
 * to next(), like a single reader's.
 */
import type { CaptureRecord } from "./record.js";

/**
 * RecordSource: anything that yields records one at a time and returns null only at its end: a
 * CaptureFileReader, or a CaptureReader that has been given all its input and end().
 */
export interface RecordSource {
  next(): CaptureRecord | null;
}

export class CaptureMerger {
  private readonly sources: RecordSource[];
  private readonly heads: (CaptureRecord | null)[];
  private primed = false;
  /** index (in the constructor's list) of the source of the record last returned; -1 before */
  source = -1;

  constructor(sources: readonly RecordSource[]) {
    this.sources = sources.slice();
    this.heads = new Array(sources.length).fill(null);
  }

  /**
   * next: the earliest head among the sources (ties: the lowest source index), or null when every
   * source is exhausted. Errors of a source (CaptureFormatError) propagate.
   */
  next(): CaptureRecord | null {
    const heads = this.heads;
    if (!this.primed) {
      for (let i = 0; i < heads.length; i++) heads[i] = this.sources[i].next();
      this.primed = true;
    } else if (this.source >= 0) {
      heads[this.source] = this.sources[this.source].next();
    }
    let best = -1;
    let bestSec = 0;
    let bestNsec = 0;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h === null) continue;
      if (best < 0 || h.tsSec < bestSec || (h.tsSec === bestSec && h.tsNsec < bestNsec)) {
        best = i;
        bestSec = h.tsSec;
        bestNsec = h.tsNsec;
      }
    }
    this.source = best;
    return best < 0 ? null : heads[best];
  }
}
