/**
 * The TCP middlebox state machine of Linux 6.x (`tcp_conntracks` in nf_conntrack_proto_tcp.c), as a
 * Uint8Array indexed by (direction, flag class, old state), plus the valid-flag table.
 *
 * The table is built from the list below, one line per transition with its reason. Tests check every
 * cell against an independently typed copy of the kernel's table.
 */
import { TcpCtState } from "./config.js";

/** TcpIndex: the flag class of a segment (Linux `enum tcp_bit_set`). Precedence RST > SYN > FIN > ACK. */
export const TcpIndex = { Syn: 0, SynAck: 1, Fin: 2, Ack: 3, Rst: 4, None: 5 } as const;
export const TCP_INDEX_NAMES: readonly string[] = ["syn", "synack", "fin", "ack", "rst", "none"];

export const TCP_STATE_NAMES: readonly string[] = [
  "NONE",
  "SYN_SENT",
  "SYN_RECV",
  "ESTABLISHED",
  "FIN_WAIT",
  "CLOSE_WAIT",
  "LAST_ACK",
  "TIME_WAIT",
  "CLOSE",
  "SYN_SENT2",
];

/** TCP header flag bits */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** tcpIndex: the flag class of a flags byte. */
export function tcpIndex(flags: number): number {
  if ((flags & TCP_RST) !== 0) return TcpIndex.Rst;
  if ((flags & TCP_SYN) !== 0) return (flags & TCP_ACK) !== 0 ? TcpIndex.SynAck : TcpIndex.Syn;
  if ((flags & TCP_FIN) !== 0) return TcpIndex.Fin;
  if ((flags & TCP_ACK) !== 0) return TcpIndex.Ack;
  return TcpIndex.None;
}

/**
 * TCP_VALID_FLAGS: 1 for the flag combinations conntrack accepts, indexed by the flags byte without
 * PSH, ECE and CWR (those three are always allowed). Anything else is "invalid tcp flag combination".
 */
export const TCP_VALID_FLAGS: Uint8Array = (() => {
  const t = new Uint8Array(64);
  t[TCP_SYN] = 1; // connection request
  t[TCP_SYN | TCP_URG] = 1; // request with urgent pointer (tolerated)
  t[TCP_SYN | TCP_ACK] = 1; // request answered
  t[TCP_RST] = 1; // reset
  t[TCP_RST | TCP_ACK] = 1; // reset acknowledging
  t[TCP_FIN | TCP_ACK] = 1; // close
  t[TCP_FIN | TCP_ACK | TCP_URG] = 1; // close with urgent data
  t[TCP_ACK] = 1; // data / acknowledgement
  t[TCP_ACK | TCP_URG] = 1; // urgent data
  return t;
})();

/** mask that removes PSH, ECE and CWR before indexing TCP_VALID_FLAGS */
export const TCP_VALID_MASK = 0xff & ~(TCP_PSH | TCP_ECE | TCP_CWR);

const S = TcpCtState;
const sNO = S.None;
const sSS = S.SynSent;
const sSR = S.SynRecv;
const sES = S.Established;
const sFW = S.FinWait;
const sCW = S.CloseWait;
const sLA = S.LastAck;
const sTW = S.TimeWait;
const sCL = S.Close;
const sS2 = S.SynSent2;
const sIV = S.Max;
const sIG = S.Ignore;
const I = TcpIndex;
const ORIG = 0;
const REPL = 1;

/** cell index into TCP_TRANSITIONS */
export function tcpCell(dir: number, index: number, state: number): number {
  return (dir * 6 + index) * 10 + state;
}

/** TCP_TRANSITIONS: new state by tcpCell(dir, index, old state); sIV = Max, sIG = Ignore. */
export const TCP_TRANSITIONS: Uint8Array = (() => {
  const t = new Uint8Array(2 * 6 * 10).fill(sIV);
  const set = (dir: number, idx: number, from: number, to: number, _why: string): void => {
    t[tcpCell(dir, idx, from)] = to;
  };
  // ---- ORIGINAL direction -------------------------------------------------------------------------
  set(ORIG, I.Syn, sNO, sSS, "a new connection starts");
  set(ORIG, I.Syn, sSS, sSS, "retransmitted SYN");
  set(ORIG, I.Syn, sSR, sIG, "SYN while SYN_RECV: we may be out of sync; the server answers RST or SYN/ACK");
  set(ORIG, I.Syn, sES, sIG, "SYN in an established connection: error or a dead entry of ours");
  set(ORIG, I.Syn, sFW, sIG, "SYN while closing: ignored, the answer tells");
  set(ORIG, I.Syn, sCW, sIG, "SYN while closing: ignored, the answer tells");
  set(ORIG, I.Syn, sLA, sIG, "SYN while closing: ignored (may draw an RFC 5961 challenge ACK)");
  set(ORIG, I.Syn, sTW, sSS, "reopened connection (RFC 1122 4.2.2.13)");
  set(ORIG, I.Syn, sCL, sSS, "reopened after a reset");
  set(ORIG, I.Syn, sS2, sS2, "late retransmitted SYN in a simultaneous open");
  set(ORIG, I.SynAck, sNO, sIV, "SYN/ACK with no SYN seen: too late to pick up");
  set(ORIG, I.SynAck, sSS, sIV, "the client cannot send SYN and then SYN/ACK");
  set(ORIG, I.SynAck, sSR, sSR, "late retransmitted SYN/ACK in a simultaneous open");
  set(ORIG, I.SynAck, sES, sIV, "SYN/ACK from the client in an established connection");
  set(ORIG, I.SynAck, sFW, sIV, "SYN/ACK from the client while closing");
  set(ORIG, I.SynAck, sCW, sIV, "SYN/ACK from the client while closing");
  set(ORIG, I.SynAck, sLA, sIV, "SYN/ACK from the client while closing");
  set(ORIG, I.SynAck, sTW, sIV, "SYN/ACK from the client after close");
  set(ORIG, I.SynAck, sCL, sIV, "SYN/ACK from the client after reset");
  set(ORIG, I.SynAck, sS2, sSR, "SYN/ACK answering the SYN of a simultaneous open");
  set(ORIG, I.Fin, sNO, sIV, "FIN with no connection: nothing to pick up");
  set(ORIG, I.Fin, sSS, sIV, "FIN before the SYN/ACK: wait for the reply first");
  set(ORIG, I.Fin, sSR, sFW, "close starts");
  set(ORIG, I.Fin, sES, sFW, "close starts");
  set(ORIG, I.Fin, sFW, sLA, "FIN in both directions (or a retransmitted FIN)");
  set(ORIG, I.Fin, sCW, sLA, "FIN after the other side's FIN was acked");
  set(ORIG, I.Fin, sLA, sLA, "retransmitted FIN");
  set(ORIG, I.Fin, sTW, sTW, "retransmitted FIN after close");
  set(ORIG, I.Fin, sCL, sCL, "FIN after reset");
  set(ORIG, I.Fin, sS2, sIV, "FIN during a simultaneous open");
  set(ORIG, I.Ack, sNO, sES, "mid-stream pickup (nf_conntrack_tcp_loose)");
  set(ORIG, I.Ack, sSS, sIV, "ACK before any SYN/ACK was seen");
  set(ORIG, I.Ack, sSR, sES, "handshake completes");
  set(ORIG, I.Ack, sES, sES, "data");
  set(ORIG, I.Ack, sFW, sCW, "the FIN is acknowledged");
  set(ORIG, I.Ack, sCW, sCW, "data/acks while half closed");
  set(ORIG, I.Ack, sLA, sTW, "last ACK (unless it is an RFC 5961 challenge ACK)");
  set(ORIG, I.Ack, sTW, sTW, "retransmitted last ACK");
  set(ORIG, I.Ack, sCL, sCL, "ACK after reset");
  set(ORIG, I.Ack, sS2, sIV, "ACK during a simultaneous open");
  for (let s = sNO; s <= sS2; s++) {
    set(ORIG, I.Rst, s, s === sNO ? sIV : sCL, s === sNO ? "RST with no connection" : "reset closes the connection");
    set(ORIG, I.None, s, sIV, "a segment without SYN, FIN, ACK or RST");
  }
  // ---- REPLY direction ----------------------------------------------------------------------------
  set(REPL, I.Syn, sNO, sIV, "never reached: a reply needs an entry");
  set(REPL, I.Syn, sSS, sS2, "simultaneous open");
  set(REPL, I.Syn, sSR, sIV, "SYN from the server after its SYN/ACK");
  set(REPL, I.Syn, sES, sIV, "SYN from the server in an established connection");
  set(REPL, I.Syn, sFW, sIV, "SYN from the server while closing");
  set(REPL, I.Syn, sCW, sIV, "SYN from the server while closing");
  set(REPL, I.Syn, sLA, sIV, "SYN from the server while closing");
  set(REPL, I.Syn, sTW, sSS, "reopened connection, roles swapped");
  set(REPL, I.Syn, sCL, sIV, "SYN from the server after reset");
  set(REPL, I.Syn, sS2, sS2, "retransmitted simultaneous SYN");
  set(REPL, I.SynAck, sNO, sIV, "never reached");
  set(REPL, I.SynAck, sSS, sSR, "standard open");
  set(REPL, I.SynAck, sSR, sIG, "retransmitted SYN/ACK");
  set(REPL, I.SynAck, sES, sIG, "late retransmitted SYN/ACK");
  set(REPL, I.SynAck, sFW, sIG, "SYN/ACK that may answer an ignored SYN");
  set(REPL, I.SynAck, sCW, sIG, "SYN/ACK that may answer an ignored SYN");
  set(REPL, I.SynAck, sLA, sIG, "SYN/ACK that may answer an ignored SYN");
  set(REPL, I.SynAck, sTW, sIG, "SYN/ACK that may answer an ignored SYN");
  set(REPL, I.SynAck, sCL, sIG, "SYN/ACK that may answer an ignored SYN");
  set(REPL, I.SynAck, sS2, sSR, "simultaneous open: SYN/ACK answering our SYN");
  set(REPL, I.Fin, sNO, sIV, "never reached");
  set(REPL, I.Fin, sSS, sIV, "the server cannot FIN before its SYN/ACK");
  set(REPL, I.Fin, sSR, sFW, "close starts");
  set(REPL, I.Fin, sES, sFW, "close starts");
  set(REPL, I.Fin, sFW, sLA, "FIN in both directions");
  set(REPL, I.Fin, sCW, sLA, "FIN after the other side's FIN was acked");
  set(REPL, I.Fin, sLA, sLA, "retransmitted FIN");
  set(REPL, I.Fin, sTW, sTW, "retransmitted FIN after close");
  set(REPL, I.Fin, sCL, sCL, "FIN after reset");
  set(REPL, I.Fin, sS2, sIV, "FIN during a simultaneous open");
  set(REPL, I.Ack, sNO, sIV, "never reached");
  set(REPL, I.Ack, sSS, sIG, "may be a half-open connection's ACK (or a challenge ACK)");
  set(REPL, I.Ack, sSR, sSR, "may answer a late resent SYN");
  set(REPL, I.Ack, sES, sES, "data");
  set(REPL, I.Ack, sFW, sCW, "the FIN is acknowledged");
  set(REPL, I.Ack, sCW, sCW, "data/acks while half closed");
  set(REPL, I.Ack, sLA, sTW, "last ACK (unless it is an RFC 5961 challenge ACK)");
  set(REPL, I.Ack, sTW, sTW, "retransmitted last ACK");
  set(REPL, I.Ack, sCL, sCL, "ACK after reset");
  set(REPL, I.Ack, sS2, sIG, "ACK during a simultaneous open");
  for (let s = sNO; s <= sS2; s++) {
    set(REPL, I.Rst, s, s === sNO ? sIV : sCL, s === sNO ? "never reached" : "reset closes the connection");
    set(REPL, I.None, s, sIV, "a segment without SYN, FIN, ACK or RST");
  }
  return t;
})();
