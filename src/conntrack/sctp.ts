/**
 * SCTP connection tracking (Linux nf_conntrack_proto_sctp.c, 6.x): a state per association driven by
 * the chunk types seen in each direction, verification-tag checks (RFC 9260 §8.5), and a timeout per
 * state. Data chunks do not change the state.
 *
 * Record words used (protocol union, see store.ts): W_END = vtag[original], W_MAXEND = vtag[reply],
 * W_MAXWIN = init[0] (bit 0) | init[1] (bit 1) | HEARTBEAT_VTAG_FAILED (bit 2) | last_dir (bit 3).
 *
 * hot path: no allocation (the CRC table is built once at module load).
 */
import { IPS } from "../core/netfilter.js";
import type { PacketInfo } from "../wire/packet-info.js";
import { SctpCtState } from "./config.js";
import type { Conntrack } from "./conntrack.js";
import { CtReason } from "./reasons.js";
import { META_STATE_MASK, META_STATE_SHIFT, W_END, W_MAXEND, W_MAXWIN, W_META } from "./store.js";
import { TR_ACCEPT, TR_INVALID } from "./tcp.js";

export const SCTP_STATE_NAMES: readonly string[] = [
  "NONE",
  "CLOSED",
  "COOKIE_WAIT",
  "COOKIE_ECHOED",
  "ESTABLISHED",
  "SHUTDOWN_SENT",
  "SHUTDOWN_RECD",
  "SHUTDOWN_ACK_SENT",
  "HEARTBEAT_SENT",
];

/** chunk types (RFC 9260 §3.2) */
const CID_DATA = 0;
const CID_INIT = 1;
const CID_INIT_ACK = 2;
const CID_HEARTBEAT = 4;
const CID_HEARTBEAT_ACK = 5;
const CID_ABORT = 6;
const CID_SHUTDOWN = 7;
const CID_SHUTDOWN_ACK = 8;
const CID_ERROR = 9;
const CID_COOKIE_ECHO = 10;
const CID_COOKIE_ACK = 11;
const CID_SHUTDOWN_COMPLETE = 14;
/** the T bit of ABORT / SHUTDOWN COMPLETE: the tag is the peer's (RFC 9260 §3.3.7) */
const CHUNK_FLAG_T = 1;

const F_INIT0 = 1;
const F_HB_VTAG_FAILED = 4;
const F_LAST_DIR = 8;

const sNO = SctpCtState.None;
const sCL = SctpCtState.Closed;
const sCW = SctpCtState.CookieWait;
const sCE = SctpCtState.CookieEchoed;
const sES = SctpCtState.Established;
const sSS = SctpCtState.ShutdownSent;
const sSR = SctpCtState.ShutdownRecd;
const sSA = SctpCtState.ShutdownAckSent;
const sHS = SctpCtState.HeartbeatSent;
const sIV = SctpCtState.Max;

/** chunk class rows of the transition table (Linux sctp_new_state's index) */
function chunkClass(type: number): number {
  switch (type) {
    case CID_INIT:
      return 0;
    case CID_INIT_ACK:
      return 1;
    case CID_ABORT:
      return 2;
    case CID_SHUTDOWN:
      return 3;
    case CID_SHUTDOWN_ACK:
      return 4;
    case CID_ERROR:
      return 5;
    case CID_COOKIE_ECHO:
      return 6;
    case CID_COOKIE_ACK:
      return 7;
    case CID_SHUTDOWN_COMPLETE:
      return 8;
    case CID_HEARTBEAT:
      return 9;
    case CID_HEARTBEAT_ACK:
      return 10;
    default:
      return -1;
  }
}

/**
 * SCTP_TRANSITIONS: new state by ((dir * 11 + chunk class) * 9 + old state). Rows are the kernel's
 * (states sNO sCL sCW sCE sES sSS sSR sSA sHS); the comments say what each row means.
 */
// biome-ignore format: one row of nine states per chunk class reads best as a table
export const SCTP_TRANSITIONS: Uint8Array = Uint8Array.from([
  // ---- ORIGINAL ----
  // INIT: opens (CLOSED until answered); restarts a closing association; heartbeat flow -> COOKIE_WAIT
  sCL, sCL, sCW, sCE, sES, sCL, sCL, sSA, sCW,
  // INIT_ACK from the initiator's side: only meaningful in a collision; closes a heartbeat flow
  sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sCL,
  // ABORT: closed
  sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL,
  // SHUTDOWN: ESTABLISHED -> SHUTDOWN_SENT
  sCL, sCL, sCW, sCE, sSS, sSS, sSR, sSA, sCL,
  // SHUTDOWN_ACK: answers the other side's SHUTDOWN; out of the blue it starts in SHUTDOWN_ACK_SENT
  sSA, sCL, sCW, sCE, sES, sSA, sSA, sSA, sSA,
  // ERROR: no change (a stale cookie cannot come from the initiator)
  sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sCL,
  // COOKIE_ECHO: COOKIE_WAIT -> COOKIE_ECHOED
  sCL, sCL, sCE, sCE, sES, sSS, sSR, sSA, sCL,
  // COOKIE_ACK: cannot come from the initiator (no change)
  sCL, sCL, sCW, sES, sES, sSS, sSR, sSA, sCL,
  // SHUTDOWN_COMPLETE: SHUTDOWN_ACK_SENT -> CLOSED
  sCL, sCL, sCW, sCE, sES, sSS, sSR, sCL, sCL,
  // HEARTBEAT: a new flow of a multihomed association -> HEARTBEAT_SENT
  sHS, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS,
  // HEARTBEAT_ACK from the original side: no change
  sCL, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS,
  // ---- REPLY ----
  // INIT from the responder: no change (INIT in CLOSED is a kernel TODO)
  sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sIV,
  // INIT_ACK: CLOSED -> COOKIE_WAIT
  sIV, sCW, sCW, sCE, sES, sSS, sSR, sSA, sIV,
  // ABORT: closed
  sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sIV,
  // SHUTDOWN: ESTABLISHED -> SHUTDOWN_RECD
  sIV, sCL, sCW, sCE, sSR, sSS, sSR, sSA, sIV,
  // SHUTDOWN_ACK: answers the initiator's SHUTDOWN
  sIV, sCL, sCW, sCE, sES, sSA, sSA, sSA, sIV,
  // ERROR: a stale cookie in COOKIE_ECHOED closes
  sIV, sCL, sCW, sCL, sES, sSS, sSR, sSA, sIV,
  // COOKIE_ECHO: cannot come from the responder (no change)
  sIV, sCL, sCE, sCE, sES, sSS, sSR, sSA, sIV,
  // COOKIE_ACK: COOKIE_ECHOED -> ESTABLISHED
  sIV, sCL, sCW, sES, sES, sSS, sSR, sSA, sIV,
  // SHUTDOWN_COMPLETE: SHUTDOWN_ACK_SENT -> CLOSED
  sIV, sCL, sCW, sCE, sES, sSS, sSR, sCL, sIV,
  // HEARTBEAT: no change
  sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sHS,
  // HEARTBEAT_ACK: the secondary flow answered -> ESTABLISHED
  sIV, sCL, sCW, sCE, sES, sSS, sSR, sSA, sES,
]);

/** sctpNewState: Linux sctp_new_state: DATA, SACK and other chunks keep the state. */
export function sctpNewState(dir: number, cur: number, type: number): number {
  const cls = chunkClass(type);
  if (cls < 0) return cur;
  return SCTP_TRANSITIONS[(dir * 11 + cls) * 9 + cur];
}

/** sctpCanEarlyDrop: shutting-down associations may be evicted first. */
export function sctpCanEarlyDrop(state: number): boolean {
  return state === sSS || state === sSR || state === sSA;
}

// ---- CRC32c (RFC 9260 Appendix B, Castagnoli polynomial, reflected) -----------------------------

const CRC32C_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/**
 * sctpChecksumOk: the CRC32c of the SCTP packet at `o` (length `len`), computed with the checksum
 * field as zero, equals the stored one (stored least significant byte first, RFC 9260 Appendix B).
 */
export function sctpChecksumOk(b: Uint8Array, o: number, len: number): boolean {
  let crc = 0xffffffff;
  for (let i = 0; i < len; i++) {
    const byte = i >= 8 && i < 12 ? 0 : b[o + i];
    crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  }
  crc = ~crc >>> 0;
  const stored = (b[o + 8] | (b[o + 9] << 8) | (b[o + 10] << 16) | (b[o + 11] << 24)) >>> 0;
  return crc === stored;
}

/** chunk map of the last basicChecks call (types below 32) */
let chunkMap = 0;

/**
 * basicChecks: Linux do_basic_checks: at least one chunk; no zero-length chunk; COOKIE_ECHO,
 * COOKIE_ACK, INIT, INIT_ACK and SHUTDOWN_COMPLETE only as the first chunk and INIT, INIT_ACK,
 * SHUTDOWN_COMPLETE alone. Fills chunkMap. Returns true when the packet is malformed.
 */
function basicChecks(b: Uint8Array, o: number, end: number): boolean {
  chunkMap = 0;
  let flag = false;
  let count = 0;
  for (let p = o + 12; p < end && p + 4 <= end; count++) {
    const type = b[p];
    const len = (b[p + 2] << 8) | b[p + 3];
    if (type === CID_INIT || type === CID_INIT_ACK || type === CID_SHUTDOWN_COMPLETE) flag = true;
    if (((type === CID_COOKIE_ACK || type === CID_COOKIE_ECHO || flag) && count !== 0) || len === 0) return true;
    if (type < 32) chunkMap |= 1 << type;
    p += (len + 3) & ~3;
  }
  return count === 0;
}

function has(type: number): boolean {
  return (chunkMap & (1 << type)) !== 0;
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/**
 * sctpNew: Linux sctp_new for an unconfirmed entry: every chunk must be able to start an
 * association from NONE; INIT (with a zero tag, RFC 9260 §8.5.1 A) notes the reply tag, HEARTBEAT the
 * original tag, SHUTDOWN_ACK (out of the blue) the reply tag.
 */
function sctpNew(r: Int32Array, cb: number, b: Uint8Array, o: number, end: number): boolean {
  const vtag = readU32(b, o + 4);
  for (let p = o + 12; p < end && p + 4 <= end; ) {
    const type = b[p];
    const ns = sctpNewState(0, sNO, type);
    if (ns === sNO || ns === sIV) return false;
    if (type === CID_INIT) {
      if (vtag !== 0) return false;
      if (p + 4 + 16 > end) return false;
      r[cb + W_MAXEND] = readU32(b, p + 4);
    } else if (type === CID_HEARTBEAT) {
      r[cb + W_END] = vtag;
    } else if (type === CID_SHUTDOWN_ACK) {
      r[cb + W_MAXEND] = vtag;
    }
    p += (((b[p + 2] << 8) | b[p + 3]) + 3) & ~3;
  }
  return true;
}

/** sctpPacket: Linux nf_conntrack_sctp_packet. */
export function sctpPacket(
  c: Conntrack,
  r: Int32Array,
  cb: number,
  dir: number,
  pi: PacketInfo,
  confirmed: boolean,
): number {
  const b = pi.buf;
  const o = pi.l4Off;
  const end = o + pi.l4Len;
  if (pi.l4Len < 12) return sctpInvalid(c);
  if (c.checksumHere() && !sctpChecksumOk(b, o, pi.l4Len)) return sctpInvalid(c);
  if (basicChecks(b, o, end)) return sctpInvalid(c);
  if (!confirmed) {
    // Out of the blue packets with these chunks are discarded (RFC 9260 §8.4).
    if (has(CID_ABORT) || has(CID_SHUTDOWN_COMPLETE) || has(CID_COOKIE_ACK)) return sctpInvalid(c);
    if (!sctpNew(r, cb, b, o, end)) return sctpInvalid(c);
    r[cb + W_META] &= ~META_STATE_MASK;
  }
  const vtag = readU32(b, o + 4);
  const vo = dir === 0 ? W_END : W_MAXEND;
  const vp = dir === 0 ? W_MAXEND : W_END;
  // RFC 9260 §8.5: the tag must be ours, except for the chunks with their own rules.
  if (
    !has(CID_INIT) &&
    !has(CID_SHUTDOWN_COMPLETE) &&
    !has(CID_COOKIE_ECHO) &&
    !has(CID_ABORT) &&
    !has(CID_SHUTDOWN_ACK) &&
    !has(CID_HEARTBEAT) &&
    !has(CID_HEARTBEAT_ACK) &&
    vtag !== r[cb + vo]
  ) {
    return sctpInvalid(c);
  }
  let oldState: number = sNO;
  let newState: number = sNO;
  let ignore = false;
  const initBit = dir === 0 ? F_INIT0 : F_INIT0 << 1;
  const initPeer = dir === 0 ? F_INIT0 << 1 : F_INIT0;
  for (let p = o + 12; p < end && p + 4 <= end; p += (((b[p + 2] << 8) | b[p + 3]) + 3) & ~3) {
    const type = b[p];
    const cflags = b[p + 1];
    let f = r[cb + W_MAXWIN];
    if (type === CID_INIT) {
      // §8.5.1 (A): the tag of a packet carrying INIT is zero
      if (vtag !== 0) return sctpInvalid(c);
    } else if (type === CID_ABORT || type === CID_SHUTDOWN_COMPLETE) {
      // §8.5.1 (B), (C): our tag, or the peer's with the T bit
      if ((cflags & CHUNK_FLAG_T) === 0 ? vtag !== r[cb + vo] : vtag !== r[cb + vp]) return sctpInvalid(c);
    } else if (type === CID_COOKIE_ECHO) {
      // §8.5.1 (D): the tag from the INIT ACK
      if (vtag !== r[cb + vo]) return sctpInvalid(c);
    } else if (type === CID_COOKIE_ACK) {
      r[cb + W_MAXWIN] = f & ~(F_INIT0 | (F_INIT0 << 1));
    } else if (type === CID_HEARTBEAT) {
      if (r[cb + vo] === 0) {
        r[cb + vo] = vtag;
      } else if (vtag !== r[cb + vo]) {
        if (has(CID_DATA) || ignore) return sctpInvalid(c);
        // Maybe a new path of a multihomed association: remember and let it through.
        r[cb + W_MAXWIN] = (f | F_HB_VTAG_FAILED) & ~F_LAST_DIR;
        if (dir === 1) r[cb + W_MAXWIN] |= F_LAST_DIR;
        ignore = true;
        continue;
      } else if ((f & F_HB_VTAG_FAILED) !== 0) {
        r[cb + W_MAXWIN] = f & ~F_HB_VTAG_FAILED;
      }
    } else if (type === CID_HEARTBEAT_ACK) {
      if (r[cb + vo] === 0) {
        r[cb + vo] = vtag;
      } else if (vtag !== r[cb + vo]) {
        if (has(CID_DATA) || ignore) return sctpInvalid(c);
        const lastDir = (f & F_LAST_DIR) !== 0 ? 1 : 0;
        if ((f & F_HB_VTAG_FAILED) === 0 || lastDir === dir) return sctpInvalid(c);
        // The answer to the heartbeat of a new path: adopt its tags.
        r[cb + W_MAXWIN] = f & ~F_HB_VTAG_FAILED;
        r[cb + vo] = vtag;
        r[cb + vp] = 0;
      } else if ((f & F_HB_VTAG_FAILED) !== 0) {
        r[cb + W_MAXWIN] = f & ~F_HB_VTAG_FAILED;
      }
    }
    oldState = (r[cb + W_META] & META_STATE_MASK) >>> META_STATE_SHIFT;
    newState = sctpNewState(dir, oldState, type);
    if (newState === sIV) return sctpInvalid(c);
    f = r[cb + W_MAXWIN];
    if (type === CID_INIT) {
      if (p + 4 + 16 > end) return sctpInvalid(c);
      if ((f & initBit) !== 0 && (f & initPeer) !== 0) f &= ~initPeer;
      f |= initBit;
      r[cb + W_MAXWIN] = f;
      r[cb + vp] = readU32(b, p + 4);
      // A retransmitted INIT does not extend the entry's life (port reuse could keep it forever).
      if (newState === sCL && oldState === sCL && confirmed) ignore = true;
    } else if (type === CID_INIT_ACK) {
      if (p + 4 + 16 > end) return sctpInvalid(c);
      const initTag = readU32(b, p + 4);
      const peerTag = r[cb + vp];
      if ((f & initPeer) === 0 && peerTag !== 0 && peerTag !== initTag) return sctpInvalid(c);
      // INIT collision
      if ((f & initBit) !== 0 && (f & initPeer) !== 0 && peerTag !== initTag) return sctpInvalid(c);
      r[cb + vp] = initTag;
    }
    r[cb + W_META] = (r[cb + W_META] & ~META_STATE_MASK) | (newState << META_STATE_SHIFT);
    if (oldState !== newState) {
      c.eventProtoinfo(r, cb);
      if (newState === sES && (r[cb + W_META] & IPS.ASSURED) === 0) {
        r[cb + W_META] |= IPS.ASSURED;
      }
    }
  }
  if (ignore) return TR_ACCEPT;
  c.refresh(r, cb, c.cfg.sctpTimeouts[newState]);
  return TR_ACCEPT;
}

function sctpInvalid(c: Conntrack): number {
  c.reason = CtReason.SctpInvalid;
  return TR_INVALID;
}
