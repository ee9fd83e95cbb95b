/**
 * TCP walk-throughs with packets built by src/wire/build.ts: each step names the state, status bits
 * and ctinfo conntrack must reach (handshakes and closes from both sides, simultaneous open, refused
 * connection, RST, reopen from TIME_WAIT, pickup, window tracking with scaling and SACK, the ignore and
 * resync paths), plus the option parser's edge cases.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CtInfo, IPS } from "../core/netfilter.js";
import type { PacketSpec, TcpSpec } from "../wire/build.js";
import { TcpCtState } from "./config.js";
import { CtReason } from "./reasons.js";
import { tcpView } from "./tcp.js";
import { TCP_STATE_NAMES } from "./tcp-states.js";
import { Gateway } from "./testing.js";

const C = "192.168.1.10";
const S = "198.51.100.7";
const c = (t: TcpSpec): PacketSpec => ({ src: C, dst: S, tcp: { sport: 51000, dport: 443, win: 5000, ...t } });
const s = (t: TcpSpec): PacketSpec => ({ src: S, dst: C, tcp: { sport: 443, dport: 51000, win: 5000, ...t } });

interface Step {
  p: PacketSpec;
  /** state after the packet ("gone": no entry) */
  state: string;
  info?: number;
  status?: number;
  invalid?: boolean;
  reason?: number;
  wait?: number;
}

function walk(steps: Step[], g = new Gateway()): Gateway {
  let i = 0;
  for (const st of steps) {
    i++;
    if (st.wait !== undefined) g.wait(st.wait);
    else g.wait(0.001);
    const r = g.send(st.p);
    const lines = g.list();
    const what = `step ${i}: ${JSON.stringify(st.p.tcp)}`;
    if (st.state === "gone") assert.equal(lines.length, 0, `${what}\n${lines.join("\n")}`);
    else {
      assert.equal(lines.length, 1, what);
      assert.equal(lines[0].split(/\s+/)[3], st.state, `${what}\n${lines[0]}`);
    }
    if (st.info !== undefined) assert.equal(r.ctInfo, st.info, `${what}: ctinfo`);
    if (st.invalid !== undefined) assert.equal(r.ct < 0, st.invalid, `${what}: invalid`);
    if (st.reason !== undefined) assert.equal(r.reason, st.reason, `${what}: reason`);
    if (st.status !== undefined && r.ct >= 0) {
      const mask = IPS.SEEN_REPLY | IPS.ASSURED | IPS.CONFIRMED;
      assert.equal(g.ct.status(r.ct) & mask, st.status, `${what}: status`);
    }
  }
  return g;
}

const SR = IPS.SEEN_REPLY;
const AS = IPS.ASSURED;
const CF = IPS.CONFIRMED;

describe("TCP walk-throughs", () => {
  test("handshake, data, close by the client", () => {
    walk([
      { p: c({ flags: "S", seq: 1000 }), state: "SYN_SENT", info: CtInfo.New, status: CF },
      {
        p: s({ flags: "SA", seq: 9000, ack: 1001 }),
        state: "SYN_RECV",
        info: CtInfo.EstablishedReply,
        status: CF | SR,
      },
      {
        p: c({ flags: "A", seq: 1001, ack: 9001 }),
        state: "ESTABLISHED",
        info: CtInfo.Established,
        status: CF | SR | AS,
      },
      { p: c({ flags: "PA", seq: 1001, ack: 9001, payload: "GET /" }), state: "ESTABLISHED" },
      { p: s({ flags: "PA", seq: 9001, ack: 1006, payload: "200 OK" }), state: "ESTABLISHED" },
      { p: c({ flags: "FA", seq: 1006, ack: 9007 }), state: "FIN_WAIT" },
      { p: s({ flags: "A", seq: 9007, ack: 1007 }), state: "CLOSE_WAIT" },
      { p: s({ flags: "FA", seq: 9007, ack: 1007 }), state: "LAST_ACK" },
      { p: c({ flags: "A", seq: 1007, ack: 9008 }), state: "TIME_WAIT", status: CF | SR | AS },
    ]);
  });

  test("close by the server", () => {
    walk([
      { p: c({ flags: "S", seq: 1 }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 100, ack: 2 }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 2, ack: 101 }), state: "ESTABLISHED" },
      { p: s({ flags: "FA", seq: 101, ack: 2 }), state: "FIN_WAIT", info: CtInfo.EstablishedReply },
      { p: c({ flags: "A", seq: 2, ack: 102 }), state: "CLOSE_WAIT" },
      { p: c({ flags: "FA", seq: 2, ack: 102 }), state: "LAST_ACK" },
      { p: s({ flags: "A", seq: 102, ack: 3 }), state: "TIME_WAIT" },
    ]);
  });

  test("simultaneous open through SYN_SENT2", () => {
    walk([
      { p: c({ flags: "S", seq: 10 }), state: "SYN_SENT" },
      { p: s({ flags: "S", seq: 500 }), state: "SYN_SENT2", status: CF | SR },
      { p: c({ flags: "SA", seq: 10, ack: 501 }), state: "SYN_RECV" },
      { p: s({ flags: "SA", seq: 500, ack: 11 }), state: "SYN_RECV" },
      { p: s({ flags: "A", seq: 501, ack: 11 }), state: "ESTABLISHED", status: CF | SR | AS },
    ]);
  });

  test("refused: the RST answering the SYN deletes the entry", () => {
    const g = walk([
      { p: c({ flags: "S", seq: 10 }), state: "SYN_SENT" },
      { p: s({ flags: "RA", seq: 0, ack: 11 }), state: "gone", info: CtInfo.EstablishedReply, invalid: false },
    ]);
    assert.equal(g.ct.count(), 0);
  });

  test("RST in ESTABLISHED: CLOSE, then a new SYN from the same side reopens", () => {
    walk([
      { p: c({ flags: "S", seq: 10 }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 500, ack: 11 }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 11, ack: 501 }), state: "ESTABLISHED" },
      { p: c({ flags: "R", seq: 11 }), state: "CLOSE" },
      { p: c({ flags: "S", seq: 7000 }), state: "SYN_SENT", info: CtInfo.New, status: CF },
    ]);
  });

  test("port reuse: a SYN in TIME_WAIT after a client-initiated close starts a new connection", () => {
    const g = walk([
      { p: c({ flags: "S", seq: 10 }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 500, ack: 11 }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 11, ack: 501 }), state: "ESTABLISHED" },
      { p: c({ flags: "FA", seq: 11, ack: 501 }), state: "FIN_WAIT" },
      { p: s({ flags: "FA", seq: 501, ack: 12 }), state: "LAST_ACK" },
      { p: c({ flags: "A", seq: 12, ack: 502 }), state: "TIME_WAIT" },
      { p: c({ flags: "S", seq: 99999 }), state: "SYN_SENT", info: CtInfo.New, status: CF },
    ]);
    assert.equal(g.ct.count(), 1);
  });

  test("mid-stream pickup: ESTABLISHED without a reply, ASSURED after the answer is answered", () => {
    walk([
      { p: c({ flags: "A", seq: 5000, ack: 8000 }), state: "ESTABLISHED", info: CtInfo.New, status: CF },
      { p: s({ flags: "A", seq: 8000, ack: 5000 }), state: "ESTABLISHED", status: CF | SR },
      { p: c({ flags: "PA", seq: 5000, ack: 8000, payload: "x" }), state: "ESTABLISHED", status: CF | SR | AS },
    ]);
  });

  test("invalid segments leave the entry alone", () => {
    walk([
      { p: c({ flags: "S", seq: 10 }), state: "SYN_SENT" },
      { p: c({ flags: "A", seq: 11, ack: 1 }), state: "SYN_SENT", invalid: true, reason: CtReason.TcpInvalidState },
      { p: c({ flags: "SF", seq: 10 }), state: "SYN_SENT", invalid: true, reason: CtReason.TcpBadFlags },
      { p: s({ flags: "SA", seq: 500, ack: 11 }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 11, ack: 777 }), state: "SYN_RECV", invalid: true, reason: CtReason.TcpAckOverUpper },
      { p: c({ flags: "A", seq: 11, ack: 501 }), state: "ESTABLISHED" },
      { p: c({ flags: "PA", seq: 200000, ack: 501, payload: "x" }), state: "ESTABLISHED", invalid: true },
      { p: s({ flags: "SA", seq: 500, ack: 11 }), state: "ESTABLISHED", invalid: false, reason: CtReason.TcpIgnored },
    ]);
  });

  test("a SYN/ACK answering an ignored SYN resynchronises the entry", () => {
    const g = walk([
      { p: c({ flags: "S", seq: 10 }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 500, ack: 11 }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 11, ack: 501 }), state: "ESTABLISHED" },
      {
        p: c({ flags: "S", seq: 4000000, options: { wscale: 3, sackPerm: true } }),
        state: "ESTABLISHED",
        reason: CtReason.TcpIgnored,
      },
      { p: s({ flags: "SA", seq: 70000, ack: 4000001, options: { wscale: 2, sackPerm: true } }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 4000001, ack: 70001 }), state: "ESTABLISHED" },
    ]);
    const ct = g.ct.entries()[0];
    const v = tcpView(g.ct.storeOf(ct).rec, g.ct.commonBase(ct));
    assert.equal(v.seen[0].scale, 3);
    assert.equal(v.seen[1].scale, 2);
    assert.equal(v.seen[0].end, 4000001);
  });
});

describe("window tracking", () => {
  test("window scaling applies only when both sides offer it; the SYN window is never scaled", () => {
    const g = walk([
      { p: c({ flags: "S", seq: 0, win: 65535, options: { wscale: 7 } }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 0, ack: 1, win: 65535, options: { wscale: 2 } }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 1, ack: 1, win: 1000 }), state: "ESTABLISHED" },
      // the server's window is 1000 << 2 = 4000 bytes after its next segment
      { p: s({ flags: "A", seq: 1, ack: 1, win: 1000 }), state: "ESTABLISHED" },
      {
        p: c({ flags: "PA", seq: 1, ack: 1, win: 1000, payload: new Uint8Array(3900) }),
        state: "ESTABLISHED",
        invalid: false,
      },
    ]);
    const ct = g.ct.entries()[0];
    const v = tcpView(g.ct.storeOf(ct).rec, g.ct.commonBase(ct));
    assert.equal(v.seen[0].scale, 7);
    assert.equal(v.seen[1].scale, 2);
    assert.equal(v.seen[0].end, 3901);
    assert.ok(v.seen[0].flags & 0x10, "DATA_UNACKNOWLEDGED");

    const g2 = walk([
      { p: c({ flags: "S", seq: 0, win: 65535, options: { wscale: 7 } }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 0, ack: 1, win: 65535 }), state: "SYN_RECV" },
    ]);
    const ct2 = g2.ct.entries()[0];
    const v2 = tcpView(g2.ct.storeOf(ct2).rec, g2.ct.commonBase(ct2));
    assert.equal(v2.seen[0].scale, 0, "the client's scale is dropped when the server did not offer one");
  });

  test("SACK: the highest right edge is checked against what was sent", () => {
    const base: Step[] = [
      { p: c({ flags: "S", seq: 0, options: { sackPerm: true } }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 0, ack: 1, options: { sackPerm: true } }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 1, ack: 1 }), state: "ESTABLISHED" },
      { p: c({ flags: "PA", seq: 1, ack: 1, payload: new Uint8Array(1000) }), state: "ESTABLISHED" },
    ];
    walk([
      ...base,
      { p: s({ flags: "A", seq: 1, ack: 1, options: { sack: [[501, 1001]] } }), state: "ESTABLISHED", invalid: false },
      { p: s({ flags: "A", seq: 1, ack: 1, options: { sack: [[501, 1500]] } }), state: "ESTABLISHED", invalid: true },
    ]);
  });

  test("RETRANS after tcp_max_retrans identical segments; UNACK with data in flight", () => {
    const g = walk([
      { p: c({ flags: "S", seq: 0 }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 0, ack: 1 }), state: "SYN_RECV" },
      { p: c({ flags: "A", seq: 1, ack: 1 }), state: "ESTABLISHED" },
    ]);
    const ct = g.ct.entries()[0];
    for (let i = 0; i < 4; i++) {
      g.wait(0.1);
      g.send(c({ flags: "PA", seq: 1, ack: 1, payload: "retry" }));
    }
    const v = tcpView(g.ct.storeOf(ct).rec, g.ct.commonBase(ct));
    assert.equal(v.retrans, 3);
    assert.equal(g.ct.expiresIn(ct, g.now), 300);
    assert.equal(v.state, TcpCtState.Established);
    assert.equal(TCP_STATE_NAMES[v.state], "ESTABLISHED");
  });
});

describe("TCP options parsing (Linux tcp_options / tcp_sack)", () => {
  test("a silly option length stops parsing, options before it count", () => {
    const g = walk([
      { p: c({ flags: "S", seq: 0, options: { wscale: 5, raw: [4, 0] } }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 0, ack: 1, options: { wscale: 5 } }), state: "SYN_RECV" },
    ]);
    const ct = g.ct.entries()[0];
    const v = tcpView(g.ct.storeOf(ct).rec, g.ct.commonBase(ct));
    assert.equal(v.seen[0].scale, 5);
    assert.equal(v.seen[0].flags & 0x02, 0, "no SACK_PERM from a zero-length option");
  });

  test("a shift above 14 is capped", () => {
    const g = walk([
      { p: c({ flags: "S", seq: 0, options: { wscale: 15 } }), state: "SYN_SENT" },
      { p: s({ flags: "SA", seq: 0, ack: 1, options: { wscale: 200 } }), state: "SYN_RECV" },
    ]);
    const ct = g.ct.entries()[0];
    const v = tcpView(g.ct.storeOf(ct).rec, g.ct.commonBase(ct));
    assert.equal(v.seen[0].scale, 14);
    assert.equal(v.seen[1].scale, 14);
  });
});
