/**
 * Every cell of the TCP transition table against an independently typed copy of Linux 6.x's
 * `tcp_conntracks` (as digested in the project's linux-netfilter.md), the valid-flag table for all
 * 256 flag bytes, and the flag-class precedence.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TcpCtState } from "./config.js";
import {
  TCP_INDEX_NAMES,
  TCP_STATE_NAMES,
  TCP_TRANSITIONS,
  TCP_VALID_FLAGS,
  TCP_VALID_MASK,
  TcpIndex,
  tcpCell,
  tcpIndex,
} from "./tcp-states.js";

// columns: sNO sSS sSR sES sFW sCW sLA sTW sCL sS2
const EXPECTED: Record<string, Record<string, string>> = {
  original: {
    syn: "sSS sSS sIG sIG sIG sIG sIG sSS sSS sS2",
    synack: "sIV sIV sSR sIV sIV sIV sIV sIV sIV sSR",
    fin: "sIV sIV sFW sFW sLA sLA sLA sTW sCL sIV",
    ack: "sES sIV sES sES sCW sCW sTW sTW sCL sIV",
    rst: "sIV sCL sCL sCL sCL sCL sCL sCL sCL sCL",
    none: "sIV sIV sIV sIV sIV sIV sIV sIV sIV sIV",
  },
  reply: {
    syn: "sIV sS2 sIV sIV sIV sIV sIV sSS sIV sS2",
    synack: "sIV sSR sIG sIG sIG sIG sIG sIG sIG sSR",
    fin: "sIV sIV sFW sFW sLA sLA sLA sTW sCL sIV",
    ack: "sIV sIG sSR sES sCW sCW sTW sTW sCL sIG",
    rst: "sIV sCL sCL sCL sCL sCL sCL sCL sCL sCL",
    none: "sIV sIV sIV sIV sIV sIV sIV sIV sIV sIV",
  },
};

const CODE: Record<string, number> = {
  sNO: TcpCtState.None,
  sSS: TcpCtState.SynSent,
  sSR: TcpCtState.SynRecv,
  sES: TcpCtState.Established,
  sFW: TcpCtState.FinWait,
  sCW: TcpCtState.CloseWait,
  sLA: TcpCtState.LastAck,
  sTW: TcpCtState.TimeWait,
  sCL: TcpCtState.Close,
  sS2: TcpCtState.SynSent2,
  sIV: TcpCtState.Max,
  sIG: TcpCtState.Ignore,
};

describe("TCP_TRANSITIONS: every cell, both directions", () => {
  for (const [dirName, rows] of Object.entries(EXPECTED)) {
    const dir = dirName === "original" ? 0 : 1;
    for (const [cls, row] of Object.entries(rows)) {
      const index = TCP_INDEX_NAMES.indexOf(cls);
      const cells = row.split(" ");
      for (let state = 0; state < 10; state++) {
        test(`${dirName} ${cls} in ${TCP_STATE_NAMES[state]} -> ${cells[state]}`, () => {
          assert.equal(TCP_TRANSITIONS[tcpCell(dir, index, state)], CODE[cells[state]]);
        });
      }
    }
  }
});

describe("TCP valid flag combinations (Linux tcp_valid_flags)", () => {
  // Allowed, ignoring PSH, ECE and CWR: SYN, SYN|URG, SYN|ACK, RST, RST|ACK, FIN|ACK, FIN|ACK|URG, ACK, ACK|URG
  const allowed = new Set([0x02, 0x22, 0x12, 0x04, 0x14, 0x11, 0x31, 0x10, 0x30]);
  test("all 256 flag bytes", () => {
    for (let f = 0; f < 256; f++) {
      const core = f & ~(0x08 | 0x40 | 0x80);
      assert.equal(TCP_VALID_FLAGS[f & TCP_VALID_MASK] === 1, allowed.has(core), `flags 0x${f.toString(16)}`);
    }
  });
});

describe("tcpIndex precedence RST > SYN(+ACK) > FIN > ACK > none", () => {
  const cases: [number, number][] = [
    [0x04, TcpIndex.Rst],
    [0x16, TcpIndex.Rst],
    [0x07, TcpIndex.Rst],
    [0x02, TcpIndex.Syn],
    [0x03, TcpIndex.Syn],
    [0x12, TcpIndex.SynAck],
    [0x13, TcpIndex.SynAck],
    [0x11, TcpIndex.Fin],
    [0x01, TcpIndex.Fin],
    [0x10, TcpIndex.Ack],
    [0x18, TcpIndex.Ack],
    [0x00, TcpIndex.None],
    [0x08, TcpIndex.None],
    [0x20, TcpIndex.None],
  ];
  for (const [flags, idx] of cases) {
    test(`0x${flags.toString(16)} -> ${TCP_INDEX_NAMES[idx]}`, () => assert.equal(tcpIndex(flags), idx));
  }
});
