import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { arbSpec } from "../../test/wire/arbitraries.js";
import {
  buildPacket,
  formatAddr,
  IPOPT_RR,
  Ipv4Header,
  Ipv4OptionIter,
  Ipv4Repr,
  parseAddr,
  WireStatus,
} from "./index.js";

// A UDP/IPv4 header from RFC-style folklore: 192.168.0.1 -> 192.168.0.199, checksum 0xb861.
const HDR = Uint8Array.from([
  0x45, // version 4, IHL 5
  0x00, // TOS
  0x00,
  0x73, // total length 115
  0x00,
  0x00, // identification 0
  0x40,
  0x00, // DF
  0x40, // TTL 64
  0x11, // UDP
  0xb8,
  0x61, // checksum
  0xc0,
  0xa8,
  0x00,
  0x01, // 192.168.0.1
  0xc0,
  0xa8,
  0x00,
  0xc7, // 192.168.0.199
]);

function packet(): Uint8Array {
  const b = new Uint8Array(115);
  b.set(HDR);
  return b;
}

test("deconstruct", () => {
  const h = new Ipv4Header().reset(packet(), 0, 115);
  assert.equal(h.check(), WireStatus.Ok);
  assert.equal(h.version, 4);
  assert.equal(h.ihl, 5);
  assert.equal(h.headerLen, 20);
  assert.equal(h.tos, 0);
  assert.equal(h.totalLen, 115);
  assert.equal(h.ident, 0);
  assert.equal(h.dontFrag, true);
  assert.equal(h.moreFrags, false);
  assert.equal(h.fragOffset, 0);
  assert.equal(h.isFragment, false);
  assert.equal(h.ttl, 64);
  assert.equal(h.protocol, 17);
  assert.equal(h.checksum, 0xb861);
  assert.equal(formatAddr([h.srcAddr], 4), "192.168.0.1");
  assert.equal(formatAddr([h.dstAddr], 4), "192.168.0.199");
  assert.equal(h.payloadOff, 20);
  assert.equal(h.payloadLen, 95);
  assert.equal(h.verifyChecksum(), true);
});

test("construct with raw setters, then fill the checksum", () => {
  const b = new Uint8Array(115);
  const h = new Ipv4Header().reset(b, 0, 115);
  h.setVersionIhl(4, 5);
  h.setTotalLen(115);
  h.setFlagsFragWord(0x4000);
  h.setTtl(64);
  h.setProtocol(17);
  h.setSrcAddr(parseAddr("192.168.0.1")[0]);
  h.setDstAddr(parseAddr("192.168.0.199")[0]);
  h.fillChecksum();
  assert.deepEqual(b.subarray(0, 20), HDR);
});

test("truncated and impossible lengths", () => {
  const cases: { name: string; mut?: (b: Uint8Array) => void; len?: number; st: number }[] = [
    { name: "19 bytes", len: 19, st: WireStatus.Truncated },
    { name: "version 6", mut: (b) => (b[0] = 0x65), st: WireStatus.BadVersion },
    { name: "IHL 4", mut: (b) => (b[0] = 0x44), st: WireStatus.BadHeaderLen },
    { name: "IHL 15, 24 bytes", mut: (b) => (b[0] = 0x4f), len: 24, st: WireStatus.Truncated },
    { name: "total length 19", mut: (b) => (b[3] = 19), st: WireStatus.BadTotalLen },
    { name: "total length > available", len: 114, st: WireStatus.BadTotalLen },
  ];
  for (const tc of cases) {
    const b = packet();
    tc.mut?.(b);
    assert.equal(new Ipv4Header().reset(b, 0, tc.len ?? 115).check(), tc.st, tc.name);
  }
});

test("parse / emit round trip through Ipv4Repr, options included", () => {
  const p = buildPacket({
    src: "10.1.2.3",
    dst: "10.4.5.6",
    id: 99,
    ttl: 3,
    tos: 0x10,
    mf: true,
    fragOff: 64,
    ipOptions: [148, 4, 0, 0],
    proto: 253,
    payload: "abcd",
  });
  const r = new Ipv4Repr();
  assert.equal(r.parse(new Ipv4Header().reset(p, 0, p.length)), WireStatus.Ok);
  assert.equal(r.ident, 99);
  assert.equal(r.ttl, 3);
  assert.equal(r.moreFrags, true);
  assert.equal(r.fragOffset, 64);
  assert.equal(r.options.length, 4);
  assert.equal(r.bufferLen(), 24);
  const out = new Uint8Array(p.length);
  r.emit(out, 0);
  out.set(p.subarray(24), 24);
  assert.deepEqual(out, p);
});

test("malformed options stop the iterator", () => {
  const it = new Ipv4OptionIter();
  const ok = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", ipOptions: [1, IPOPT_RR, 7, 4, 0, 0, 0, 0], proto: 253 });
  const h = new Ipv4Header().reset(ok, 0, ok.length);
  const seen: number[] = [];
  h.options(it);
  while (it.next()) seen.push(it.type, it.optLen);
  assert.deepEqual(seen, [1, 1, IPOPT_RR, 7]);
  assert.equal(it.malformed, false);
  const bad = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", ipOptions: [1, 30, 9, 0], proto: 253 });
  h.reset(bad, 0, bad.length).options(it);
  assert.equal(it.next(), true); // NOP
  assert.equal(it.next(), false);
  assert.equal(it.malformed, true);
});

test("property: setters with checksum update equal a full recompute", () => {
  fc.assert(
    fc.property(
      arbSpec.filter((s) => !s.src!.includes(":")),
      fc.integer(),
      fc.integer(),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 255 }),
      (s, src, dst, ttl, id, tos) => {
        const b = buildPacket(s);
        const h = new Ipv4Header().reset(b, 0, b.length);
        assert.equal(h.check(), WireStatus.Ok);
        h.setSrcAddrWithChecksumUpdate(src);
        h.setDstAddrWithChecksumUpdate(dst);
        h.setTtlWithChecksumUpdate(ttl);
        h.setIdentWithChecksumUpdate(id);
        h.setTosWithChecksumUpdate(tos);
        h.setFlagsFragWordWithChecksumUpdate(0x4000);
        if (ttl > 0) h.decrementTtlWithChecksumUpdate();
        assert.equal(h.verifyChecksum(), true);
        const c = h.checksum;
        h.fillChecksum();
        assert.equal(h.checksum, c);
      },
    ),
    { seed: 4, numRuns: 500 },
  );
});
