import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  buildPacket,
  PacketInfo,
  parsePacket,
  pseudoHeaderSum,
  UdpHeader,
  UdpRepr,
  verifyL4Checksum,
  WireStatus,
} from "./index.js";

const DGRAM = Uint8Array.from([
  0xbf,
  0x00, // sport 48896
  0x00,
  0x35, // dport 53
  0x00,
  0x0c, // length 12
  0x12,
  0x4d, // checksum (not verified here)
  0xaa,
  0x00,
  0x00,
  0xff, // payload
]);

test("deconstruct", () => {
  const h = new UdpHeader().reset(DGRAM, 0, DGRAM.length);
  assert.equal(h.check(), WireStatus.Ok);
  assert.equal(h.srcPort, 48896);
  assert.equal(h.dstPort, 53);
  assert.equal(h.length, 12);
  assert.equal(h.checksum, 0x124d);
  assert.equal(h.payloadOff, 8);
  assert.equal(h.payloadLen, 4);
});

test("construct / emit", () => {
  const b = new Uint8Array(12);
  const r = new UdpRepr();
  r.srcPort = 48896;
  r.dstPort = 53;
  r.length = 12;
  r.emit(b, 0);
  const h = new UdpHeader().reset(b, 0, 12);
  h.setChecksum(0x124d);
  b.set([0xaa, 0, 0, 0xff], 8);
  assert.deepEqual(b, DGRAM);
  const s = new UdpRepr();
  assert.equal(s.parse(h), WireStatus.Ok);
  assert.deepEqual(s, r);
  assert.equal(s.bufferLen(), 8);
});

test("truncated and impossible lengths", () => {
  assert.equal(new UdpHeader().reset(DGRAM, 0, 7).check(), WireStatus.Truncated);
  assert.equal(new UdpHeader().reset(DGRAM, 0, 11).check(), WireStatus.BadLength);
  const b = DGRAM.slice();
  b[5] = 7;
  assert.equal(new UdpHeader().reset(b, 0, 12).check(), WireStatus.BadLength);
  b[5] = 0;
  assert.equal(new UdpHeader().reset(b, 0, 12, true).check(), WireStatus.Ok); // UDP-Lite: coverage 0 = all
  b[5] = 13;
  assert.equal(new UdpHeader().reset(b, 0, 12, true).check(), WireStatus.BadLength);
});

test("property: ...WithChecksumUpdate equals a full recompute; zero checksum stays zero", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer(),
      fc.uint8Array({ maxLength: 11 }),
      (v6, zero, sp, dp, addr, payload) => {
        const none = zero && !v6;
        const p = buildPacket({
          src: v6 ? "fd00::1" : "10.0.0.1",
          dst: v6 ? "fd00::2" : "10.0.0.2",
          udp: { payload, checksum: none ? "none" : undefined },
        });
        const pi = new PacketInfo();
        parsePacket(pi, p, 0, p.length);
        const h = new UdpHeader().reset(p, pi.l4Off, pi.l4Len);
        h.setSrcPortWithChecksumUpdate(sp);
        h.setDstPortWithChecksumUpdate(dp);
        const srcOff = v6 ? 8 : 12;
        if (v6) {
          const nw = Int32Array.from([addr, 1, 2, 3]);
          h.adjustChecksumForAddrChange(Int32Array.from(pi.src), nw, 4);
          for (let k = 0; k < 4; k++)
            p.set([(nw[k] >>> 24) & 255, (nw[k] >>> 16) & 255, (nw[k] >>> 8) & 255, nw[k] & 255], srcOff + 4 * k);
        } else {
          h.adjustChecksumForAddrChangeV4(pi.src[0], addr);
          p.set([(addr >>> 24) & 255, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255], srcOff);
        }
        const q = new PacketInfo();
        parsePacket(q, p, 0, p.length);
        if (none) {
          assert.equal(h.checksum, 0);
          return;
        }
        assert.notEqual(h.checksum, 0);
        assert.equal(verifyL4Checksum(q), WireStatus.Ok);
        assert.equal(h.verifyChecksum(pseudoHeaderSum(q, 17, q.l4Len)), true);
        const c = h.checksum;
        h.fillChecksum(pseudoHeaderSum(q, 17, q.l4Len));
        assert.equal(h.checksum, c);
      },
    ),
    { seed: 768, numRuns: 500 },
  );
});
