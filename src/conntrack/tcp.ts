/**
 * TCP connection tracking (Linux nf_conntrack_proto_tcp.c, 6.x semantics): `tcpError` (malformed
 * segments), `tcpNew` (first segment of an entry), `tcpInWindow` (window tracking with scaling and
 * SACK), `tcpPacket` (state machine, special cases, timeout choice).
 *
 * Per-direction window state lives in the record's protocol words (see store.ts); d = 0 original,
 * d = 1 reply. Sequence numbers are int32 and compared with wrap-around (`before` / `after`); window
 * sizes are unsigned 32-bit and compared with `>>> 0`.
 *
 * hot path: no allocation; every function reads the packet from the PacketInfo and the entry from the
 * typed arrays.
 */

import { IPS } from "../core/netfilter.js";
import type { PacketInfo } from "../wire/packet-info.js";
import { HZ, TcpCtState } from "./config.js";
import type { Conntrack } from "./conntrack.js";
import { CtReason } from "./reasons.js";
import {
  META_STATE_MASK,
  META_STATE_SHIFT,
  W_END,
  W_LACK,
  W_LEND,
  W_LSEQ,
  W_LWIN,
  W_MAXACK,
  W_MAXEND,
  W_MAXWIN,
  W_META,
  W_TFLAGS,
} from "./store.js";
import {
  TCP_ACK,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  TCP_TRANSITIONS,
  TCP_VALID_FLAGS,
  TCP_VALID_MASK,
  TcpIndex,
  tcpCell,
  tcpIndex,
} from "./tcp-states.js";

/** Per-direction flags (Linux IP_CT_TCP_FLAG_*) */
export const TF_WINDOW_SCALE = 0x01;
export const TF_SACK_PERM = 0x02;
export const TF_CLOSE_INIT = 0x04;
export const TF_BE_LIBERAL = 0x08;
export const TF_DATA_UNACKNOWLEDGED = 0x10;
export const TF_MAXACK_SET = 0x20;
/** last_flags only (Linux IP_CT_EXP_CHALLENGE_ACK, IP_CT_TCP_SIMULTANEOUS_OPEN) */
export const TF_EXP_CHALLENGE_ACK = 0x40;
export const TF_SIMULTANEOUS_OPEN = 0x80;

/** TCP_MAX_WSCALE: RFC 7323 §2.3 limits the shift to 14 */
const TCP_MAX_WSCALE = 14;
/** Linux MAXACKWINCONST */
const MAXACKWINCONST = 66000;

/** tracker results (Linux: NF_ACCEPT, -NF_ACCEPT, -NF_REPEAT) */
export const TR_ACCEPT = 1;
export const TR_INVALID = -1;
export const TR_REPEAT = -4;

const IN_IGNORE = 0;
const IN_INVALID = 1;
const IN_ACCEPT = 2;

/** before(a, b): sequence a comes before b (mod 2^32). */
export function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
/** after(a, b): sequence a comes after b (mod 2^32). */
export function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

// ---- field access -------------------------------------------------------------------------------

function dirFlags(r: Int32Array, cb: number, d: number): number {
  return (r[cb + W_TFLAGS] >>> (d << 3)) & 0xff;
}
function setDirFlags(r: Int32Array, cb: number, d: number, f: number): void {
  const sh = d << 3;
  r[cb + W_TFLAGS] = (r[cb + W_TFLAGS] & ~(0xff << sh)) | ((f & 0xff) << sh);
}
function dirScale(r: Int32Array, cb: number, d: number): number {
  return (r[cb + W_TFLAGS] >>> (16 + (d << 2))) & 0xf;
}
function setDirScale(r: Int32Array, cb: number, d: number, s: number): void {
  const sh = 16 + (d << 2);
  r[cb + W_TFLAGS] = (r[cb + W_TFLAGS] & ~(0xf << sh)) | ((s & 0xf) << sh);
}
function lastWscale(r: Int32Array, cb: number): number {
  return (r[cb + W_TFLAGS] >>> 24) & 0xf;
}
function lastDir(r: Int32Array, cb: number): number {
  return (r[cb + W_TFLAGS] >>> 28) & 1;
}
function lastIndex(r: Int32Array, cb: number): number {
  return r[cb + W_TFLAGS] >>> 29;
}
function setLastWscale(r: Int32Array, cb: number, v: number): void {
  r[cb + W_TFLAGS] = (r[cb + W_TFLAGS] & ~(0xf << 24)) | ((v & 0xf) << 24);
}
function setLastDirIndex(r: Int32Array, cb: number, dir: number, index: number): void {
  r[cb + W_TFLAGS] = (r[cb + W_TFLAGS] & 0x0fffffff) | (dir << 28) | (index << 29);
}
function lastWin(r: Int32Array, cb: number): number {
  return r[cb + W_LWIN] & 0xffff;
}
function setLastWin(r: Int32Array, cb: number, w: number): void {
  r[cb + W_LWIN] = (r[cb + W_LWIN] & ~0xffff) | (w & 0xffff);
}
function retrans(r: Int32Array, cb: number): number {
  return (r[cb + W_LWIN] >>> 16) & 0xff;
}
function setRetrans(r: Int32Array, cb: number, v: number): void {
  r[cb + W_LWIN] = (r[cb + W_LWIN] & ~(0xff << 16)) | ((v & 0xff) << 16);
}
function lastFlags(r: Int32Array, cb: number): number {
  return r[cb + W_LWIN] >>> 24;
}
function setLastFlags(r: Int32Array, cb: number, v: number): void {
  r[cb + W_LWIN] = (r[cb + W_LWIN] & 0x00ffffff) | ((v & 0xff) << 24);
}

/** TcpView: a readable snapshot of an entry's TCP state (tests, debugging; slow path). */
export interface TcpView {
  state: number;
  seen: { end: number; maxend: number; maxwin: number; maxack: number; scale: number; flags: number }[];
  lastDir: number;
  lastIndex: number;
  lastSeq: number;
  lastAck: number;
  lastEnd: number;
  lastWin: number;
  lastWscale: number;
  lastFlags: number;
  retrans: number;
}

/** tcpView: decode the TCP words of the record whose common area starts at `cb`. */
export function tcpView(r: Int32Array, cb: number): TcpView {
  const seen = [0, 1].map((d) => ({
    end: r[cb + W_END + 4 * d] >>> 0,
    maxend: r[cb + W_MAXEND + 4 * d] >>> 0,
    maxwin: r[cb + W_MAXWIN + 4 * d] >>> 0,
    maxack: r[cb + W_MAXACK + 4 * d] >>> 0,
    scale: dirScale(r, cb, d),
    flags: dirFlags(r, cb, d),
  }));
  return {
    state: (r[cb + W_META] & META_STATE_MASK) >>> META_STATE_SHIFT,
    seen,
    lastDir: lastDir(r, cb),
    lastIndex: lastIndex(r, cb),
    lastSeq: r[cb + W_LSEQ] >>> 0,
    lastAck: r[cb + W_LACK] >>> 0,
    lastEnd: r[cb + W_LEND] >>> 0,
    lastWin: lastWin(r, cb),
    lastWscale: lastWscale(r, cb),
    lastFlags: lastFlags(r, cb),
    retrans: retrans(r, cb),
  };
}

// ---- option parsing -------------------------------------------------------------------------------

/** results of tcpOptions (module scratch; hot path must not allocate) */
let optScale = 0;
let optFlags = 0;
let optFound = false;

/**
 * tcpOptions: read window scale and SACK-permitted from the options of the segment at `o` (header
 * length `hl`), as Linux `tcp_options` does: EOL stops, NOP skips a byte, a length below 2 ("silly
 * options") or beyond the header ("partial options") stops. Sets optScale (capped at 14), optFlags
 * (TF_WINDOW_SCALE / TF_SACK_PERM) and optFound (false when there were no option bytes at all, in
 * which case Linux leaves the state untouched).
 */
function tcpOptions(b: Uint8Array, o: number, hl: number): void {
  optScale = 0;
  optFlags = 0;
  let len = hl - 20;
  optFound = len > 0;
  let p = o + 20;
  while (len > 0) {
    const kind = b[p++];
    if (kind === 0) return;
    if (kind === 1) {
      len--;
      continue;
    }
    if (len < 2) return;
    const size = b[p++];
    if (size < 2 || size > len) return;
    if (kind === 4 && size === 2) optFlags |= TF_SACK_PERM;
    else if (kind === 3 && size === 3) {
      let s = b[p];
      if (s > TCP_MAX_WSCALE) s = TCP_MAX_WSCALE;
      optScale = s;
      optFlags |= TF_WINDOW_SCALE;
    }
    p += size - 2;
    len -= size;
  }
}

/**
 * tcpSack: the highest SACK right edge of the segment above `sack`, or `sack` (Linux `tcp_sack`,
 * including its fast path for a timestamp-only option block).
 */
function tcpSack(b: Uint8Array, o: number, hl: number, sack: number): number {
  let len = hl - 20;
  if (len <= 0) return sack;
  let p = o + 20;
  // Fast path: NOP NOP TIMESTAMP(10), the usual option block of a data segment.
  if (len === 12 && b[p] === 1 && b[p + 1] === 1 && b[p + 2] === 8 && b[p + 3] === 10) return sack;
  while (len > 0) {
    const kind = b[p++];
    if (kind === 0) return sack;
    if (kind === 1) {
      len--;
      continue;
    }
    if (len < 2) return sack;
    const size = b[p++];
    if (size < 2 || size > len) return sack;
    if (kind === 5 && size >= 10 && ((size - 2) & 7) === 0) {
      for (let i = 0; i < size - 2; i += 8) {
        const q = p + i + 4;
        const right = (b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3];
        if (after(right, sack)) sack = right;
      }
      return sack;
    }
    p += size - 2;
    len -= size;
  }
  return sack;
}

// ---- tracker ------------------------------------------------------------------------------------

/** segEnd: seq + payload + SYN + FIN (Linux segment_seq_plus_len) */
function segEnd(pi: PacketInfo): number {
  const f = pi.tcpFlags;
  return (pi.tcpSeq + (pi.l4Len - pi.tcpHeaderLen) + ((f & TCP_SYN) !== 0 ? 1 : 0) + ((f & TCP_FIN) !== 0 ? 1 : 0)) | 0;
}

/**
 * tcpError: Linux `tcp_error`: truncated header, bad checksum (PREROUTING with nf_conntrack_checksum
 * only; done by the caller, which owns the checksum policy), invalid flag combination. Returns a
 * CtReason, CtReason.None when the segment is sound.
 */
export function tcpError(pi: PacketInfo): number {
  // Not a whole TCP header, or a data offset outside the segment: "truncated packet".
  if (pi.l4Status !== 0) return CtReason.TcpTruncated;
  if (TCP_VALID_FLAGS[pi.tcpFlags & TCP_VALID_MASK] === 0) return CtReason.TcpBadFlags;
  return CtReason.None;
}

/**
 * tcpNew: Linux `tcp_new`, for the first segment of an unconfirmed entry: a SYN initialises the
 * original direction; anything that leads to ESTABLISHED is a mid-stream pickup (only with
 * nf_conntrack_tcp_loose), with SACK and liberal window checking assumed on both sides. Returns false
 * (invalid) for other segments.
 */
export function tcpNew(c: Conntrack, r: Int32Array, cb: number, pi: PacketInfo): boolean {
  const next = TCP_TRANSITIONS[tcpCell(0, tcpIndex(pi.tcpFlags), TcpCtState.None)];
  if (next >= TcpCtState.Max) {
    c.reason = CtReason.TcpInvalidNew;
    return false;
  }
  const end = segEnd(pi);
  let win = pi.tcpWindow;
  if (win === 0) win = 1;
  if (next === TcpCtState.SynSent) {
    r[cb + W_END] = end;
    r[cb + W_MAXWIN] = win;
    r[cb + W_MAXEND] = end;
    tcpOptions(pi.buf, pi.l4Off, pi.tcpHeaderLen);
    if (optFound) {
      setDirScale(r, cb, 0, optScale);
      setDirFlags(r, cb, 0, optFlags);
    }
  } else if (!c.cfg.tcpLoose) {
    c.reason = CtReason.TcpNoPickup;
    return false;
  } else {
    // Picked up in the middle: what we know of the connection is this one segment.
    r[cb + W_END] = end;
    r[cb + W_MAXWIN] = win;
    r[cb + W_MAXEND] = (end + win) | 0;
    setDirFlags(r, cb, 0, TF_SACK_PERM | TF_BE_LIBERAL);
    setDirFlags(r, cb, 1, TF_SACK_PERM | TF_BE_LIBERAL);
  }
  // tcpPacket sets last_index / last_dir
  setLastDirIndex(r, cb, 0, TcpIndex.None);
  return true;
}

/** tcpInitSender: (re)initialise the sender from a SYN or SYN/ACK (Linux tcp_init_sender). */
function tcpInitSender(r: Int32Array, cb: number, pi: PacketInfo, sd: number, end: number, win: number): void {
  const so = cb + 4 * sd;
  r[so + W_END] = end;
  r[so + W_MAXEND] = end;
  r[so + W_MAXWIN] = win === 0 ? 1 : win;
  tcpOptions(pi.buf, pi.l4Off, pi.tcpHeaderLen);
  if (optFound) {
    setDirScale(r, cb, sd, optScale);
    setDirFlags(r, cb, sd, (dirFlags(r, cb, sd) & TF_BE_LIBERAL) | optFlags);
  }
  // RFC 7323 §1.3: window scaling applies only if both sides sent the option.
  if (sd === 1 && !((dirFlags(r, cb, 1) & TF_WINDOW_SCALE) !== 0 && (dirFlags(r, cb, 0) & TF_WINDOW_SCALE) !== 0)) {
    setDirScale(r, cb, 0, 0);
    setDirScale(r, cb, 1, 0);
  }
}

/** logInvalid: Linux nf_tcp_log_invalid: liberal senders (or tcp_be_liberal) get ACCEPT instead. */
function logInvalid(c: Conntrack, r: Int32Array, cb: number, sd: number, res: number, reason: number): number {
  if ((dirFlags(r, cb, sd) & TF_BE_LIBERAL) !== 0 || c.cfg.tcpBeLiberal) return IN_ACCEPT;
  c.reason = reason;
  return res;
}

/** maxAckWindow: Linux MAXACKWINDOW(sender) */
function maxAckWindow(maxwin: number): number {
  return maxwin >>> 0 > MAXACKWINCONST ? maxwin : MAXACKWINCONST;
}

/**
 * tcpInWindow: Linux `tcp_in_window`. Returns IN_ACCEPT, IN_IGNORE (accepted without any state
 * change) or IN_INVALID. `state` is the state before this segment.
 *
 * The per-direction window words are loaded into locals and stored back once at the end (hot path).
 */
function tcpInWindow(
  c: Conntrack,
  r: Int32Array,
  cb: number,
  dir: number,
  index: number,
  pi: PacketInfo,
  state: number,
): number {
  const so = cb + 4 * dir;
  const ro = cb + 4 * (dir ^ 1);
  const flags = pi.tcpFlags;
  const syn = (flags & TCP_SYN) !== 0;
  const ackf = (flags & TCP_ACK) !== 0;
  let seq = pi.tcpSeq;
  let ack = pi.tcpAck;
  let sack = ack;
  const winRaw = pi.tcpWindow;
  let win = winRaw;
  let end = segEnd(pi);

  if ((dirFlags(r, cb, dir ^ 1) & TF_SACK_PERM) !== 0 && pi.tcpHeaderLen > 20) {
    sack = tcpSack(pi.buf, pi.l4Off, pi.tcpHeaderLen, sack);
  }
  // (NAT sequence adjustment would apply here; ctnat has no helpers that change lengths.)

  if (r[so + W_MAXWIN] === 0) {
    // First segment seen from this side.
    if (syn) {
      tcpInitSender(r, cb, pi, dir, end, win);
      // SYN from the reply direction without ACK: simultaneous open.
      if (!ackf) return IN_ACCEPT;
    } else {
      // Picked up in the middle of a connection: trust the segment.
      r[so + W_END] = end;
      let swin = (win << dirScale(r, cb, dir)) | 0;
      if (swin === 0) swin = 1;
      r[so + W_MAXWIN] = swin;
      r[so + W_MAXEND] = (end + swin) | 0;
      if (r[ro + W_MAXWIN] === 0) {
        // Nothing seen the other way yet: make checks III and IV pass until it is.
        r[ro + W_END] = sack;
        r[ro + W_MAXEND] = sack;
      } else if (sack === ((r[ro + W_END] + 1) | 0)) {
        // Probably the answer to a keepalive: needed for check III.
        r[ro + W_END] = (r[ro + W_END] + 1) | 0;
      }
    }
  } else if (syn && after(end, r[so + W_END]) && (state === TcpCtState.SynSent || state === TcpCtState.SynRecv)) {
    // RFC 793: a re-initialised TCP may reuse the connection with higher sequence numbers; the SYN
    // (or SYN/ACK) may differ in sequence, ack and options, so start this side over.
    tcpInitSender(r, cb, pi, dir, end, win);
    if (dir === 1 && !ackf) return IN_ACCEPT;
  }

  // The window state, now settled, in locals.
  let sEnd = r[so + W_END];
  const sMaxend = r[so + W_MAXEND];
  let sMaxwin = r[so + W_MAXWIN];
  const rEnd = r[ro + W_END];
  let rMaxend = r[ro + W_MAXEND];
  let rMaxwin = r[ro + W_MAXWIN];
  let tf = r[cb + W_TFLAGS];
  const ss = dir << 3;
  const rs = (dir ^ 1) << 3;

  if (!ackf) {
    // No ACK: pretend it acknowledges everything the receiver sent.
    ack = rEnd;
    sack = ack;
  } else if ((flags & (TCP_ACK | TCP_RST)) === (TCP_ACK | TCP_RST) && ack === 0) {
    // Broken stacks send RST+ACK with a zero ack.
    ack = rEnd;
    sack = ack;
  }
  if ((flags & TCP_RST) !== 0 && seq === 0 && state === TcpCtState.SynSent) {
    // RST answering a SYN, without a sequence number.
    seq = sEnd;
    end = seq;
  }

  const maxAckWin = maxAckWindow(sMaxwin);

  // I. upper bound: seq <= sender.td_maxend
  if (!before(seq, (sMaxend + 1) | 0)) {
    const overshot = (end - sMaxend + 1) >>> 0;
    const ackOk = after(sack, (rEnd - maxAckWin - 1) | 0);
    const inRecvWin = rMaxwin !== 0 && after(end, (sEnd - rMaxwin - 1) | 0);
    if (inRecvWin && ackOk && overshot <= rMaxwin >>> 0 && before(sack, (rEnd + 1) | 0)) {
      // The sender overran the receive window but the data is otherwise in order: remember it, so
      // that an ACK for it does not fail check III later.
      r[so + W_END] = end;
      r[cb + W_TFLAGS] = tf | (TF_DATA_UNACKNOWLEDGED << ss);
      return logInvalid(c, r, cb, dir, IN_IGNORE, CtReason.TcpOvershoot);
    }
    return logInvalid(c, r, cb, dir, IN_INVALID, CtReason.TcpSeqOverUpper);
  }
  // III. upper bound: sack <= receiver.td_end (acked data must have been seen)
  if (!before(sack, (rEnd + 1) | 0)) return logInvalid(c, r, cb, dir, IN_INVALID, CtReason.TcpAckOverUpper);
  // II. lower bound: end > sender.td_end - receiver.td_maxwin (else: old data retransmitted)
  if (rMaxwin !== 0 && !after(end, (sEnd - rMaxwin - 1) | 0)) {
    return logInvalid(c, r, cb, dir, IN_IGNORE, CtReason.TcpSeqUnderLower);
  }
  // IV. lower bound: sack > receiver.td_end - MAXACKWINDOW (else: an overly delayed ACK)
  if (!after(sack, (rEnd - maxAckWin - 1) | 0)) return logInvalid(c, r, cb, dir, IN_IGNORE, CtReason.TcpAckUnderLower);

  // RFC 7323 §2.3: the window field of a SYN is never scaled.
  if (!syn) win = (win << ((tf >>> (16 + (dir << 2))) & 0xf)) | 0;

  // Update the sender.
  const swin = (win + (sack - ack)) | 0;
  if (sMaxwin >>> 0 < swin >>> 0) sMaxwin = swin;
  if (after(end, sEnd)) {
    sEnd = end;
    tf |= TF_DATA_UNACKNOWLEDGED << ss;
  }
  if (ackf) {
    if ((tf & (TF_MAXACK_SET << ss)) === 0) {
      r[so + W_MAXACK] = ack;
      tf |= TF_MAXACK_SET << ss;
    } else if (after(ack, r[so + W_MAXACK])) {
      r[so + W_MAXACK] = ack;
    }
  }

  // Update the receiver.
  if (rMaxwin !== 0 && after(end, sMaxend)) rMaxwin = (rMaxwin + (end - sMaxend)) | 0;
  if (after((sack + win) | 0, (rMaxend - 1) | 0)) rMaxend = (sack + win + (win === 0 ? 1 : 0)) | 0;
  if (ack === rEnd) tf &= ~(TF_DATA_UNACKNOWLEDGED << rs);

  r[so + W_END] = sEnd;
  r[so + W_MAXWIN] = sMaxwin;
  r[ro + W_MAXEND] = rMaxend;
  r[ro + W_MAXWIN] = rMaxwin;

  // Retransmissions: the same ACK-class segment again, from the same side.
  if (index === TcpIndex.Ack) {
    if (
      ((tf >>> 28) & 1) === dir &&
      r[cb + W_LSEQ] === seq &&
      r[cb + W_LACK] === ack &&
      r[cb + W_LEND] === end &&
      (r[cb + W_LWIN] & 0xffff) === winRaw
    ) {
      setRetrans(r, cb, retrans(r, cb) + 1);
    } else {
      tf = (tf & ~(1 << 28)) | (dir << 28);
      r[cb + W_LSEQ] = seq;
      r[cb + W_LACK] = ack;
      r[cb + W_LEND] = end;
      // last_win = the raw window, retrans = 0
      r[cb + W_LWIN] = (r[cb + W_LWIN] & ~0xffffff) | winRaw;
    }
  }
  r[cb + W_TFLAGS] = tf;
  return IN_ACCEPT;
}

/** tcpCanEarlyDrop: closing states that may be evicted first (Linux tcp_can_early_drop). */
export function tcpCanEarlyDrop(state: number): boolean {
  return (
    state === TcpCtState.FinWait ||
    state === TcpCtState.LastAck ||
    state === TcpCtState.TimeWait ||
    state === TcpCtState.Close ||
    state === TcpCtState.CloseWait
  );
}

/**
 * tcpHandleInvalid: Linux nf_tcp_handle_invalid: an out-of-window FIN or RST answering an earlier
 * out-of-window FIN/RST of the other side lowers an ASSURED entry's timeout to the UNACK value.
 */
function tcpHandleInvalid(c: Conntrack, r: Int32Array, cb: number, dir: number, index: number, status: number): void {
  if ((status & IPS.ASSURED) === 0 || (status & IPS.FIXED_TIMEOUT) !== 0) return;
  if (index !== TcpIndex.Rst && index !== TcpIndex.Fin) return;
  const li = lastIndex(r, cb);
  if (lastDir(r, cb) !== dir && (li === TcpIndex.Fin || li === TcpIndex.Rst)) {
    let expires = c.expiresTicks(r, cb);
    if (expires < 120 * HZ) return;
    const t = c.cfg.tcpTimeouts[TcpCtState.Unack];
    if (expires > t) {
      expires = t;
      c.setExpiry(r, cb, t);
    }
  } else {
    setLastDirIndex(r, cb, dir, index);
  }
}

/**
 * tcpPacket: Linux nf_conntrack_tcp_packet for entry `ct` (record common area `cb`), the segment in
 * `pi` travelling in `dir`. `confirmed` says whether the entry is in the table already. Returns
 * TR_ACCEPT, TR_INVALID (the packet gets no entry; an unconfirmed entry is then freed by the caller)
 * or TR_REPEAT (the entry was killed to reopen the connection: look the packet up again).
 */
export function tcpPacket(
  c: Conntrack,
  ct: number,
  r: Int32Array,
  cb: number,
  dir: number,
  pi: PacketInfo,
  confirmed: boolean,
): number {
  // tcp_error: a whole header, a valid flag combination, a good checksum (PREROUTING only)
  if (pi.l4Status !== 0) {
    c.reason = CtReason.TcpTruncated;
    return TR_INVALID;
  }
  if (TCP_VALID_FLAGS[pi.tcpFlags & TCP_VALID_MASK] === 0) {
    c.reason = CtReason.TcpBadFlags;
    return TR_INVALID;
  }
  const cfg = c.cfg;
  if (c.hook === 0 && cfg.checksum && !c.l4ChecksumOk(pi)) {
    c.reason = CtReason.TcpBadChecksum;
    return TR_INVALID;
  }
  if (!confirmed && !tcpNew(c, r, cb, pi)) return TR_INVALID;

  const flags = pi.tcpFlags;
  const meta = r[cb + W_META];
  const status = meta & 0xffff;
  let oldState = (meta & META_STATE_MASK) >>> META_STATE_SHIFT;
  const index = tcpIndex(flags);
  let newState = TCP_TRANSITIONS[tcpCell(dir, index, oldState)];
  let skipWindow = false;

  let ignore = newState === TcpCtState.Ignore;
  if (newState === TcpCtState.SynSent && oldState >= TcpCtState.TimeWait) {
    // RFC 1122 4.2.2.13: a SYN may reopen a connection in TIME_WAIT. Also a client that aborted
    // (RST) and starts over. Kill this entry and let the packet create a fresh one.
    if (
      ((dirFlags(r, cb, dir) | dirFlags(r, cb, dir ^ 1)) & TF_CLOSE_INIT) !== 0 ||
      (lastDir(r, cb) === dir && lastIndex(r, cb) === TcpIndex.Rst)
    ) {
      c.kill(ct);
      return TR_REPEAT;
    }
    // Otherwise such a SYN is handled like an ignored one.
    ignore = true;
  }
  if (ignore) {
    const li = lastIndex(r, cb);
    const ld = lastDir(r, cb);
    if (index === TcpIndex.SynAck && li === TcpIndex.Syn && ld !== dir && pi.tcpAck === r[cb + W_LEND]) {
      // This SYN/ACK answers a SYN we ignored: client and server are in sync, we are not. Take
      // the connection over from the values noted for that SYN.
      oldState = TcpCtState.SynSent;
      newState = TcpCtState.SynRecv;
      const lo = cb + 4 * ld;
      const lend = r[cb + W_LEND];
      r[lo + W_END] = lend;
      r[lo + W_MAXEND] = lend;
      const lw = lastWin(r, cb);
      r[lo + W_MAXWIN] = lw === 0 ? 1 : lw;
      setDirScale(r, cb, ld, lastWscale(r, cb));
      const lf = lastFlags(r, cb) & ~TF_EXP_CHALLENGE_ACK;
      setLastFlags(r, cb, lf);
      setDirFlags(r, cb, ld, lf);
      // the answering side starts over
      const mo = cb + 4 * dir;
      r[mo + W_END] = 0;
      r[mo + W_MAXEND] = 0;
      r[mo + W_MAXWIN] = 0;
      r[mo + W_MAXACK] = 0;
      setDirScale(r, cb, dir, 0);
      setDirFlags(r, cb, dir, dirFlags(r, cb, dir) & TF_BE_LIBERAL);
    } else {
      // Note this segment: a later SYN/ACK or RST may show that the endpoints are in sync.
      setLastDirIndex(r, cb, dir, index);
      r[cb + W_LSEQ] = pi.tcpSeq;
      r[cb + W_LEND] = segEnd(pi);
      setLastWin(r, cb, pi.tcpWindow);
      if (index === TcpIndex.Syn && dir === 0) {
        // A SYN in the original direction: remember its options for the resync above. In LAST_ACK the
        // server may answer with an RFC 5961 challenge ACK that must not count as the last ACK.
        tcpOptions(pi.buf, pi.l4Off, pi.tcpHeaderLen);
        let lf = 0;
        let lw = 0;
        if ((optFlags & TF_WINDOW_SCALE) !== 0) {
          lf |= TF_WINDOW_SCALE;
          lw = optScale;
        }
        if ((optFlags & TF_SACK_PERM) !== 0) lf |= TF_SACK_PERM;
        if (oldState === TcpCtState.LastAck) lf |= TF_EXP_CHALLENGE_ACK;
        setLastFlags(r, cb, lf);
        setLastWscale(r, cb, lw);
      }
      // A reply ACK in SYN_SENT may be a challenge ACK: note its ack for a following RST.
      if (oldState === TcpCtState.SynSent && index === TcpIndex.Ack && dir === 1) r[cb + W_LACK] = pi.tcpAck;
      c.reason = CtReason.TcpIgnored;
      return TR_ACCEPT;
    }
  }

  switch (newState) {
    case TcpCtState.Max:
      // Invalid in this state.
      c.reason = CtReason.TcpInvalidState;
      return TR_INVALID;
    case TcpCtState.TimeWait:
      // RFC 5961 §4: a SYN in LAST_ACK draws a challenge ACK; it does not ack the last FIN.
      if (
        oldState === TcpCtState.LastAck &&
        index === TcpIndex.Ack &&
        lastDir(r, cb) !== dir &&
        lastIndex(r, cb) === TcpIndex.Syn &&
        (lastFlags(r, cb) & TF_EXP_CHALLENGE_ACK) !== 0
      ) {
        setLastFlags(r, cb, lastFlags(r, cb) & ~TF_EXP_CHALLENGE_ACK);
        c.reason = CtReason.TcpChallengeAck;
        return TR_ACCEPT;
      }
      break;
    case TcpCtState.SynSent2:
      // The table alone cannot follow a simultaneous open: remember that this one is.
      setLastFlags(r, cb, lastFlags(r, cb) | TF_SIMULTANEOUS_OPEN);
      break;
    case TcpCtState.SynRecv:
      if (dir === 1 && index === TcpIndex.Ack && (lastFlags(r, cb) & TF_SIMULTANEOUS_OPEN) !== 0) {
        newState = TcpCtState.Established;
      }
      break;
    case TcpCtState.Close: {
      if (index !== TcpIndex.Rst) break;
      // Closing: the tuple may be in use by a new connection already; the stored window values are
      // stale, and the entry may be evicted anyway. Skip the checks.
      if (tcpCanEarlyDrop(oldState)) {
        skipWindow = true;
        break;
      }
      const rd = dir ^ 1;
      const li = lastIndex(r, cb);
      if ((dirFlags(r, cb, rd) & TF_MAXACK_SET) !== 0 && li !== TcpIndex.Syn) {
        // td_maxack of the other side is known (and not outdated by a SYN we let through).
        const seq = pi.tcpSeq;
        const established = oldState === TcpCtState.Established && (status & IPS.ASSURED) !== 0;
        const maxack = r[cb + 4 * rd + W_MAXACK];
        // Not established and seq 0: most likely the answer to a SYN let through above.
        if (seq === 0 && !established) break;
        if (before(seq, maxack) && !c.cfg.tcpIgnoreInvalidRst) {
          c.reason = CtReason.TcpInvalidRst;
          return TR_INVALID;
        }
        // Not established, or exactly at the acked sequence: a valid reset.
        if (!established || seq === maxack) break;
        // Part of a train: data, then the RST at its end.
        if (li === TcpIndex.Ack && lastDir(r, cb) === dir && seq === r[cb + W_LEND]) break;
        // Not exact: keep the state, the other side may answer with a challenge ACK.
        newState = oldState;
      }
      if (
        (((status & IPS.SEEN_REPLY) !== 0 && li === TcpIndex.Syn) ||
          ((status & IPS.ASSURED) === 0 && li === TcpIndex.Ack)) &&
        pi.tcpAck === r[cb + W_LEND]
      ) {
        // RST answering a SYN we let through (ignored) or the ACK of a half-open connection: it may
        // ack segments we ignored, so skip the window check and close.
        skipWindow = true;
        break;
      }
      if (
        oldState === TcpCtState.SynSent &&
        li === TcpIndex.Ack &&
        lastDir(r, cb) === 1 &&
        pi.tcpSeq === r[cb + W_LACK]
      ) {
        // RST answering a challenge ACK we let through
        skipWindow = true;
      }
      break;
    }
    default:
      break;
  }

  if (!skipWindow) {
    // tcp_in_window reads the state stored in the entry (not the resync override of old_state)
    const res = tcpInWindow(c, r, cb, dir, index, pi, (meta & META_STATE_MASK) >>> META_STATE_SHIFT);
    if (res === IN_IGNORE) return TR_ACCEPT;
    if (res === IN_INVALID) {
      tcpHandleInvalid(c, r, cb, dir, index, status);
      return TR_INVALID;
    }
  }

  // In window from here on.
  setLastDirIndex(r, cb, dir, index);
  r[cb + W_META] = (r[cb + W_META] & ~META_STATE_MASK) | (newState << META_STATE_SHIFT);
  if (oldState !== newState && newState === TcpCtState.FinWait) {
    setDirFlags(r, cb, dir, dirFlags(r, cb, dir) | TF_CLOSE_INIT);
  }

  const t = cfg.tcpTimeouts;
  const tNew = t[newState];
  const lw = r[cb + W_LWIN];
  const tf = r[cb + W_TFLAGS];
  let timeout: number;
  // Linux's order: too many retransmissions, a reset, unacknowledged data, a zero window, the state.
  if (((lw >>> 16) & 0xff) >= cfg.tcpMaxRetrans && tNew > t[TcpCtState.Retrans]) timeout = t[TcpCtState.Retrans];
  else if (index === TcpIndex.Rst) timeout = t[TcpCtState.Close];
  else if ((tf & (TF_DATA_UNACKNOWLEDGED | (TF_DATA_UNACKNOWLEDGED << 8))) !== 0 && tNew > t[TcpCtState.Unack]) {
    timeout = t[TcpCtState.Unack];
  } else if ((lw & 0xffff) === 0 && tNew > t[TcpCtState.Retrans]) timeout = t[TcpCtState.Retrans];
  else timeout = tNew;

  if (newState !== oldState) c.eventProtoinfo(r, cb);

  if ((status & IPS.SEEN_REPLY) === 0) {
    if ((flags & TCP_RST) !== 0) {
      // The only answer is a reset: no connection was established (e.g. a refused port). Delete
      // the entry now (Linux nf_ct_kill_acct: the RST is counted first).
      if (cfg.acct) c.accountOnly(r, cb);
      c.kill(ct);
      return TR_ACCEPT;
    }
    if (index === TcpIndex.Syn && oldState === TcpCtState.SynSent) {
      // A retransmitted SYN does not extend the entry's life, or port reuse could keep it forever.
      return TR_ACCEPT;
    }
    // Mid-stream pickup without a reply yet: do not grant the long ESTABLISHED timeout.
    if (newState === TcpCtState.Established && timeout > t[TcpCtState.Unack]) timeout = t[TcpCtState.Unack];
  } else if (
    (status & IPS.ASSURED) === 0 &&
    (oldState === TcpCtState.SynRecv || oldState === TcpCtState.Established) &&
    newState === TcpCtState.Established
  ) {
    // A valid ACK after SYN_RECV, or a valid answer on a picked-up connection.
    r[cb + W_META] |= IPS.ASSURED;
    c.eventUpdate(r, cb);
  }
  c.refresh(r, cb, timeout);
  return TR_ACCEPT;
}

export { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN };
