import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildPacket,
  fragment,
  PacketInfo,
  parsePacket,
  tcpFlagsValue,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
  WireStatus,
} from "./index.js";

function parse(b: Uint8Array): PacketInfo {
  const pi = new PacketInfo();
  parsePacket(pi, b, 0, b.length);
  return pi;
}

test("tcp flag letters", () => {
  assert.equal(tcpFlagsValue("S"), 0x02);
  assert.equal(tcpFlagsValue("SA"), 0x12);
  assert.equal(tcpFlagsValue("S."), 0x12);
  assert.equal(tcpFlagsValue("FPRUEC"), 0x01 | 0x08 | 0x04 | 0x20 | 0x40 | 0x80);
  assert.throws(() => tcpFlagsValue("X"));
});

test("checksum overrides", () => {
  const bad = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", ipChecksum: "bad", tcp: { checksum: "bad" } }));
  assert.equal(verifyIpv4HeaderChecksum(bad), false);
  assert.equal(verifyL4Checksum(bad), WireStatus.BadChecksum);
  const fixed = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { checksum: 0x1234 } }));
  assert.equal((fixed.buf[26] << 8) | fixed.buf[27], 0x1234);
  assert.throws(() => buildPacket({ src: "10.0.0.1", dst: "10.0.0.2" }));
  assert.throws(() => buildPacket({ src: "10.0.0.300", dst: "10.0.0.2", udp: {} }));
});

function reassembledPayload(frags: Uint8Array[]): Uint8Array {
  const parts = frags.map((f) => {
    const pi = parse(f);
    return { off: pi.fragOff, data: f.subarray(pi.fragHdrOff >= 0 ? pi.fragHdrOff + 8 : pi.ipHeaderLen, pi.len) };
  });
  const n = Math.max(...parts.map((p) => p.off + p.data.length));
  const out = new Uint8Array(n);
  for (const p of parts) out.set(p.data, p.off);
  return out;
}

test("fragment IPv4: sizes, flags, offsets, option copying, checksums", () => {
  const p = buildPacket({
    src: "10.0.0.1",
    dst: "10.0.0.2",
    id: 9,
    ipOptions: [148, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0], // router alert (copied), record route (not copied)
    udp: { payload: new Uint8Array(200).map((_, i) => i) },
  });
  const frags = fragment(p, 100); // 208 bytes of UDP in steps of (100 - 32) & ~7 = 64
  assert.equal(frags.length, 4);
  for (const [i, f] of frags.entries()) {
    const pi = parse(f);
    assert.equal(pi.status, WireStatus.Ok);
    assert.ok(f.length <= 100);
    assert.equal(pi.ipId, 9);
    assert.equal(pi.moreFrags, i < 3);
    assert.equal(verifyIpv4HeaderChecksum(pi), true);
    assert.equal(pi.ipHeaderLen, 32);
    if (i > 0) {
      // record route replaced by NOPs, router alert kept
      assert.deepEqual([...f.subarray(20, 32)], [148, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0]);
    }
  }
  assert.equal(parse(frags[1]).fragOff, 64);
  assert.deepEqual(reassembledPayload(frags), p.subarray(32));
  assert.deepEqual(fragment(p, 1500), [p]);
  assert.throws(() => fragment(p, 36));
});

test("fragment IPv6: unfragmentable part as ip6_find_1stfragopt, ids, M flags", () => {
  const p = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [{ type: "hop" }, { type: "dst" }, { type: "routing" }, { type: "dst" }],
    udp: { payload: new Uint8Array(300).map((_, i) => i * 7) },
  });
  const frags = fragment(p, 200, { id: 0x01020304 });
  assert.equal(frags.length, 3);
  for (const [i, f] of frags.entries()) {
    const pi = parse(f);
    assert.equal(pi.status, WireStatus.Ok);
    assert.ok(f.length <= 200);
    // hop-by-hop, destination options (before routing) and routing stay in front of the fragment header
    assert.equal(pi.fragHdrOff, 40 + 8 + 8 + 8);
    assert.equal(pi.ipId, 0x01020304);
    assert.equal(pi.moreFrags, i < 2);
    assert.equal(pi.proto, i === 0 ? 17 : 60);
  }
  // the trailing destination options header went into the fragmentable part
  assert.deepEqual(reassembledPayload(frags), p.subarray(64));
  // destination options without a routing header stay unfragmentable (as Linux does)
  const q = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [{ type: "dst" }],
    udp: { payload: new Uint8Array(2000) },
  });
  assert.equal(parse(fragment(q, 1280)[0]).fragHdrOff, 48);
});
