/**
 * HeaderView: the flyweight every header view is: a window of `len` bytes of `buf` from `off`, moved
 * onto the next packet with reset() instead of allocating a new view.
 */
import { EMPTY_BYTES } from "./packet-info.js";

export abstract class HeaderView {
  buf: Uint8Array = EMPTY_BYTES;
  off = 0;
  /** bytes viewed from `off` (clipped to the buffer) */
  len = 0;

  /** reset: view `len` bytes of `buf` from `off`. Returns this. */
  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len < 0 ? 0 : Math.min(len, buf.length - off);
    return this;
  }
}
