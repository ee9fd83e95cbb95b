/**
 * TlvOptionIter: the walk IPv4 options (RFC 791) and TCP options (RFC 9293) share: a list of
 * one-byte END (0) and NOP (1) options and kind-length-data options, the length counting the kind and
 * length bytes. NOP is reported (length 1); END stops the walk; a length byte below 2, or an option
 * running past the end of the list, stops it with `malformed = true` (Linux: "silly options", "don't
 * parse partial options"). No allocation. Ipv4OptionIter and TcpOptionIter name the code byte.
 */
import { EMPTY_BYTES } from "./packet-info.js";

const OPT_END = 0;
const OPT_NOP = 1;

export abstract class TlvOptionIter {
  buf: Uint8Array = EMPTY_BYTES;
  /** absolute offset of the current option (its code byte) */
  optOff = 0;
  /** length of the current option in bytes (1 for NOP) */
  optLen = 0;
  malformed = false;
  /** the code byte of the current option (IPv4: type; TCP: kind) */
  protected code = 0;
  private pos = 0;
  private end = 0;

  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.pos = off;
    this.end = off + Math.max(len, 0);
    this.code = 0;
    this.optOff = off;
    this.optLen = 0;
    this.malformed = false;
    return this;
  }

  next(): boolean {
    const p = this.pos;
    if (p >= this.end || this.malformed) return false;
    const c = this.buf[p];
    if (c === OPT_END) {
      this.pos = this.end;
      return false;
    }
    this.code = c;
    this.optOff = p;
    if (c === OPT_NOP) {
      this.optLen = 1;
      this.pos = p + 1;
      return true;
    }
    if (p + 2 > this.end) {
      this.malformed = true;
      return false;
    }
    const l = this.buf[p + 1];
    if (l < 2 || p + l > this.end) {
      this.malformed = true;
      return false;
    }
    this.optLen = l;
    this.pos = p + l;
    return true;
  }
}
