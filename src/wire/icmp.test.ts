import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  buildPacket,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_PORT_UNREACH,
  ICMPV6_PKT_TOOBIG,
  IcmpHeader,
  IcmpRepr,
  Icmpv6Header,
  PacketInfo,
  parsePacket,
  pseudoHeaderSum,
  verifyL4Checksum,
  WireStatus,
} from "./index.js";

const ECHO = Uint8Array.from([
  0x08, // echo request
  0x00, // code
  0xf7,
  0xf2, // checksum
  0x00,
  0x0a, // id 10
  0x00,
  0x03, // seq 3
]);

test("deconstruct / construct (ICMP echo)", () => {
  const h = new IcmpHeader().reset(ECHO, 0, 8);
  assert.equal(h.check(), WireStatus.Ok);
  assert.equal(h.type, ICMP_ECHO);
  assert.equal(h.code, 0);
  assert.equal(h.ident, 10);
  assert.equal(h.seqNo, 3);
  assert.equal(h.isError, false);
  assert.equal(h.verifyChecksum(), true);
  const b = new Uint8Array(8);
  const r = new IcmpRepr();
  r.type = 8;
  r.rest = (10 << 16) | 3;
  r.emit(b, 0);
  new IcmpHeader().reset(b, 0, 8).fillChecksum();
  assert.deepEqual(b, ECHO);
  const s = new IcmpRepr();
  assert.equal(s.parse(new IcmpHeader().reset(b, 0, 8)), WireStatus.Ok);
  assert.equal(s.ident, 10);
  assert.equal(s.seqNo, 3);
  assert.equal(new IcmpHeader().reset(ECHO, 0, 7).check(), WireStatus.Truncated);
});

test("errors: fields of unreachable and packet too big", () => {
  const inner = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: {} });
  const u = buildPacket({ src: "10.0.0.2", dst: "10.0.0.1", icmp: { type: 3, code: 4, rest: 1400, embed: inner } });
  const pi = new PacketInfo();
  parsePacket(pi, u, 0, u.length);
  const h = new IcmpHeader().reset(u, pi.l4Off, pi.l4Len);
  assert.equal(h.type, ICMP_DEST_UNREACH);
  assert.equal(h.isError, true);
  assert.equal(h.nextHopMtu, 1400);
  assert.equal(h.payloadLen, inner.length);
  const v6 = buildPacket({
    src: "fd00::9",
    dst: "fd00::1",
    icmp6: { type: 2, rest: 1280, embed: buildPacket({ src: "fd00::1", dst: "fd00::2", udp: {} }) },
  });
  parsePacket(pi, v6, 0, v6.length);
  const h6 = new Icmpv6Header().reset(v6, pi.l4Off, pi.l4Len);
  assert.equal(h6.type, ICMPV6_PKT_TOOBIG);
  assert.equal(h6.mtu, 1280);
  assert.equal(h6.isError, true);
  assert.equal(h6.verifyChecksum(pseudoHeaderSum(pi, 58, pi.l4Len)), true);
});

test("property: ICMP / ICMPv6 updates equal a full recompute", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer(),
      fc.uint8Array({ maxLength: 13 }),
      (v6, id, addr, payload) => {
        const p = v6
          ? buildPacket({ src: "fd00::1", dst: "fd00::2", icmp6: { type: 128, id: 1, seq: 2, payload } })
          : buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", icmp: { type: 8, id: 1, seq: 2, payload } });
        const pi = new PacketInfo();
        parsePacket(pi, p, 0, p.length);
        if (v6) {
          const h = new Icmpv6Header().reset(p, pi.l4Off, pi.l4Len);
          h.setIdentWithChecksumUpdate(id);
          h.setTypeCodeWithChecksumUpdate(129, 0);
          const nw = Int32Array.from([addr, 0, 0, 7]);
          h.adjustChecksumForAddrChange(Int32Array.from(pi.dst), nw, 4);
          for (let k = 0; k < 4; k++)
            p.set([(nw[k] >>> 24) & 255, (nw[k] >>> 16) & 255, (nw[k] >>> 8) & 255, nw[k] & 255], 24 + 4 * k);
        } else {
          const h = new IcmpHeader().reset(p, pi.l4Off, pi.l4Len);
          h.setIdentWithChecksumUpdate(id);
          h.setTypeCodeWithChecksumUpdate(0, 0);
        }
        const q = new PacketInfo();
        parsePacket(q, p, 0, p.length);
        assert.equal(verifyL4Checksum(q), WireStatus.Ok);
        assert.equal(q.icmpId, id);
      },
    ),
    { seed: 792, numRuns: 400 },
  );
  assert.equal(ICMP_PORT_UNREACH, 3);
});
