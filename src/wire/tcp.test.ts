import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  buildPacket,
  PacketInfo,
  parsePacket,
  pseudoHeaderSum,
  TCP_FLAG_ACK,
  TCP_FLAG_SYN,
  TCPOPT_MSS,
  TcpHeader,
  TcpOptionIter,
  TcpRepr,
  verifyL4Checksum,
  WireStatus,
} from "./index.js";

function tcpOf(p: Uint8Array): { pi: PacketInfo; h: TcpHeader } {
  const pi = new PacketInfo();
  parsePacket(pi, p, 0, p.length);
  return { pi, h: new TcpHeader().reset(p, pi.l4Off, pi.l4Len) };
}

const SEG = Uint8Array.from([
  0x30,
  0x39, // sport 12345
  0x01,
  0xbb, // dport 443
  0xde,
  0xad,
  0xbe,
  0xef, // seq
  0x00,
  0x00,
  0x00,
  0x2a, // ack 42
  0x60, // data offset 6
  0x12, // SYN|ACK
  0x72,
  0x10, // window 29200
  0x00,
  0x00, // checksum
  0x00,
  0x00, // urgent
  0x02,
  0x04,
  0x05,
  0xb4, // MSS 1460
  0x68,
  0x69, // data "hi"
]);

test("deconstruct", () => {
  const h = new TcpHeader().reset(SEG, 0, SEG.length);
  assert.equal(h.check(), WireStatus.Ok);
  assert.equal(h.srcPort, 12345);
  assert.equal(h.dstPort, 443);
  assert.equal(h.seqNumber, 0xdeadbeef | 0);
  assert.equal(h.ackNumber, 42);
  assert.equal(h.dataOffset, 6);
  assert.equal(h.headerLen, 24);
  assert.equal(h.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
  assert.equal(h.syn && h.ack && !h.fin && !h.rst, true);
  assert.equal(h.windowLen, 29200);
  assert.equal(h.payloadOff, 24);
  assert.equal(h.payloadLen, 2);
  assert.equal(h.segLen, 3);
  const it = h.options(new TcpOptionIter());
  assert.equal(it.next(), true);
  assert.equal(it.kind, TCPOPT_MSS);
  assert.equal(it.data16, 1460);
  assert.equal(it.next(), false);
});

test("construct with setters; emit from TcpRepr", () => {
  const b = new Uint8Array(SEG.length);
  const h = new TcpHeader().reset(b, 0, b.length);
  h.setSrcPort(12345);
  h.setDstPort(443);
  h.setSeqNumber(0xdeadbeef);
  h.setAckNumber(42);
  h.setDataOffset(6);
  h.setFlags(0x12);
  h.setWindowLen(29200);
  b.set([2, 4, 5, 0xb4, 0x68, 0x69], 20);
  assert.deepEqual(b, SEG);
  const r = new TcpRepr();
  assert.equal(r.parse(h), WireStatus.Ok);
  assert.equal(r.mss, 1460);
  assert.equal(r.bufferLen(), 24);
  const out = new Uint8Array(24);
  r.emit(out, 0);
  assert.deepEqual(out, SEG.subarray(0, 24));
});

test("truncated and impossible lengths", () => {
  assert.equal(new TcpHeader().reset(SEG, 0, 19).check(), WireStatus.Truncated);
  const b = SEG.slice();
  b[12] = 0x40;
  assert.equal(new TcpHeader().reset(b, 0, b.length).check(), WireStatus.BadHeaderLen);
  b[12] = 0xf0;
  assert.equal(new TcpHeader().reset(b, 0, b.length).check(), WireStatus.BadHeaderLen);
});

test("parse / emit round trip of every known option", () => {
  const p = buildPacket({
    src: "10.0.0.1",
    dst: "10.0.0.2",
    tcp: { options: { mss: 1200, wscale: 9, sackPerm: true, ts: [5, 6] } },
  });
  const { h } = tcpOf(p);
  const r = new TcpRepr();
  assert.equal(r.parse(h), WireStatus.Ok);
  assert.deepEqual([r.mss, r.wscale, r.sackPerm, r.hasTs, r.tsVal, r.tsEcr], [1200, 9, true, true, 5, 6]);
  const out = new Uint8Array(r.bufferLen());
  r.emit(out, 0);
  out[16] = p[20 + 16];
  out[17] = p[20 + 17];
  assert.deepEqual(out, p.subarray(20, 20 + h.headerLen));
  const s = buildPacket({
    src: "10.0.0.1",
    dst: "10.0.0.2",
    tcp: {
      options: {
        sack: [
          [1, 2],
          [3, 4],
        ],
      },
    },
  });
  const rs = new TcpRepr();
  rs.parse(tcpOf(s).h);
  assert.deepEqual(rs.sack, [1, 2, 3, 4]);
});

test("malformed options", () => {
  for (const raw of [
    [30, 0],
    [30, 1],
    [1, 1, 30, 5],
    [1, 1, 1, 30],
  ]) {
    const p = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", tcp: { options: { raw } } });
    const r = new TcpRepr();
    assert.equal(r.parse(tcpOf(p).h), WireStatus.BadOptions, JSON.stringify(raw));
  }
});

test("property: every ...WithChecksumUpdate keeps the checksum equal to a full recompute", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer(),
      fc.integer(),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.array(fc.integer(), { minLength: 4, maxLength: 4 }),
      fc.uint8Array({ maxLength: 9 }),
      (v6, sp, dp, seq, ack, win, flags, mss, addr, payload) => {
        const p = buildPacket({
          src: v6 ? "fd00::1" : "10.0.0.1",
          dst: v6 ? "fd00::2" : "10.0.0.2",
          tcp: { options: { mss: 1460, raw: [1, 2, 4, 0, 0] }, payload },
        });
        const { pi, h } = tcpOf(p);
        h.setSrcPortWithChecksumUpdate(sp);
        h.setDstPortWithChecksumUpdate(dp);
        h.setSeqNumberWithChecksumUpdate(seq);
        h.setAckNumberWithChecksumUpdate(ack);
        h.setWindowLenWithChecksumUpdate(win);
        h.setFlagsWithChecksumUpdate(flags);
        h.set16WithChecksumUpdate(pi.l4Off + 22, mss); // MSS value (even offset)
        h.set16WithChecksumUpdate(pi.l4Off + 27, mss ^ 0x5a5a); // odd offset (raw option bytes)
        // pseudo header: rewrite the destination address
        const oldDst = Int32Array.from(pi.dst);
        const newDst = Int32Array.from(v6 ? addr : [addr[0], 0, 0, 0]);
        const n = v6 ? 4 : 1;
        h.adjustChecksumForAddrChange(oldDst, newDst, n);
        const dstOff = v6 ? 24 : 16;
        for (let k = 0; k < n; k++) {
          const w = newDst[k];
          p.set([(w >>> 24) & 0xff, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff], dstOff + 4 * k);
        }
        if (!v6) {
          // keep the IPv4 header consistent for the re-parse
          p[10] = p[11] = 0;
        }
        const q = new PacketInfo();
        parsePacket(q, p, 0, p.length);
        assert.equal(verifyL4Checksum(q), WireStatus.Ok);
        assert.equal(h.verifyChecksum(pseudoHeaderSum(q, 6, q.l4Len)), true);
      },
    ),
    { seed: 1624, numRuns: 500 },
  );
});
