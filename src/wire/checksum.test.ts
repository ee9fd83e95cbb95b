import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { arbSpec } from "../../test/wire/arbitraries.js";
import { parseAddr } from "./addr.js";
import { buildPacket } from "./build.js";
import {
  checksumUpdate16,
  checksumUpdate32,
  checksumUpdateAddr,
  fillIpv4HeaderChecksum,
  fillL4Checksum,
  finishChecksum,
  foldSum,
  internetChecksum,
  l4ChecksumOffset,
  pseudoHeaderSumV4,
  sumBytes,
  udpChecksumUpdate16,
  udpChecksumUpdateAddr,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
} from "./checksum.js";
import { PacketInfo, WireStatus } from "./packet-info.js";
import { parsePacket } from "./parse.js";

function parse(b: Uint8Array): PacketInfo {
  const pi = new PacketInfo();
  parsePacket(pi, b, 0, b.length);
  return pi;
}

test("RFC 1071 §3 example: sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2", () => {
  const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(foldSum(sumBytes(b, 0, b.length, 0)), 0xddf2);
  assert.equal(internetChecksum(b, 0, b.length), ~0xddf2 & 0xffff);
  // odd length: the last byte is padded with zero
  assert.equal(foldSum(sumBytes(b, 0, 3, 0)), 0xf201);
  // a large buffer exercises the periodic fold
  const big = new Uint8Array(200000).fill(0xff);
  assert.equal(foldSum(sumBytes(big, 0, big.length, 0)), 0xffff);
});

test("a known IPv4 header checksum (RFC 1071 folklore example: b861)", () => {
  const h = Uint8Array.from([
    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00,
    0xc7,
  ]);
  const pi = new PacketInfo();
  pi.buf = h;
  pi.family = 4;
  pi.ipHeaderLen = 20;
  assert.equal(verifyIpv4HeaderChecksum(pi), true);
  h[10] = h[11] = 0;
  fillIpv4HeaderChecksum(pi);
  assert.equal((h[10] << 8) | h[11], 0xb861);
});

test("verify / fill for every protocol and family", () => {
  const specs = [
    { src: "10.0.0.1", dst: "10.0.0.2", tcp: { payload: "abc" } },
    { src: "10.0.0.1", dst: "10.0.0.2", udp: { payload: "abcde" } },
    { src: "10.0.0.1", dst: "10.0.0.2", udplite: { payload: "abcdefghij", len: 12 } },
    { src: "10.0.0.1", dst: "10.0.0.2", icmp: { type: 8, id: 1, seq: 2, payload: "x" } },
    { src: "fd00::1", dst: "fd00::2", tcp: { payload: "abc" } },
    { src: "fd00::1", dst: "fd00::2", ext: [{ type: "hop" as const }], udp: { payload: "abcde" } },
    { src: "fd00::1", dst: "fd00::2", udplite: { payload: "abcdefghij" } },
    { src: "fd00::1", dst: "fd00::2", icmp6: { type: 128, id: 1, seq: 2, payload: "x" } },
  ];
  for (const s of specs) {
    const b = buildPacket(s);
    const pi = parse(b);
    assert.equal(verifyL4Checksum(pi), WireStatus.Ok, JSON.stringify(s));
    if (pi.family === 4) assert.equal(verifyIpv4HeaderChecksum(pi), true);
    const co = l4ChecksumOffset(pi);
    const good = (b[co] << 8) | b[co + 1];
    b[co] ^= 0x10;
    assert.equal(verifyL4Checksum(pi), WireStatus.BadChecksum, JSON.stringify(s));
    assert.equal(fillL4Checksum(pi), true);
    assert.equal((b[co] << 8) | b[co + 1], good);
    const bad = buildPacket({ ...s, ipChecksum: "bad" } as never);
    if (pi.family === 4) assert.equal(verifyIpv4HeaderChecksum(parse(bad)), false);
  }
});

test("UDP zero checksum: none in IPv4, invalid in IPv6; UDP-Lite zero always invalid", () => {
  const v4 = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { payload: "a", checksum: "none" } }));
  assert.equal(verifyL4Checksum(v4), WireStatus.Ok);
  const v6 = parse(buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { payload: "a", checksum: "none" } }));
  assert.equal(verifyL4Checksum(v6), WireStatus.BadChecksum);
  const lite = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udplite: { payload: "a", checksum: "none" } }));
  assert.equal(verifyL4Checksum(lite), WireStatus.BadChecksum);
});

test("a UDP checksum that computes to 0 is sent as 0xffff", () => {
  // find a payload whose checksum is 0 by solving for the last two bytes
  const b = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { sport: 1, dport: 2, payload: [0, 0] } });
  const pi = parse(b);
  const co = l4ChecksumOffset(pi);
  b[co] = b[co + 1] = 0;
  const s = foldSum(sumBytes(b, pi.l4Off, pi.l4Len, pseudoHeaderSumV4(pi.src[0], pi.dst[0], 17, pi.l4Len)));
  // choose payload word w so that s + w = 0xffff (all ones): checksum ~0xffff = 0
  const w = 0xffff - s;
  b[pi.payloadOff] = w >> 8;
  b[pi.payloadOff + 1] = w & 0xff;
  assert.equal(fillL4Checksum(pi), true);
  assert.equal((b[co] << 8) | b[co + 1], 0xffff);
  assert.equal(verifyL4Checksum(pi), WireStatus.Ok);
});

test("fragments and bad headers cannot be verified", () => {
  const f = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", mf: true, udp: { payload: "abcd" } }));
  assert.equal(verifyL4Checksum(f), WireStatus.Truncated);
  assert.equal(fillL4Checksum(f), false);
  const g = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", proto: 47, payload: "abcd" }));
  assert.equal(verifyL4Checksum(g), WireStatus.Ok);
  assert.equal(fillL4Checksum(g), false);
});

test("RFC 1624 §3 example: incremental update gives the recomputed value", () => {
  // RFC 1624: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000
  assert.equal(checksumUpdate16(0xdd2f, 0x5555, 0x3285), 0x0000);
  assert.equal(udpChecksumUpdate16(0xdd2f, 0x5555, 0x3285), 0xffff);
  assert.equal(udpChecksumUpdate16(0, 0x5555, 0x3285), 0);
});

// ---- property: incremental update == full recompute ----------------------------------------------

function read16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function write16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >> 8;
  b[o + 1] = v & 0xff;
}
function write32(b: Uint8Array, o: number, v: number): void {
  write16(b, o, (v >>> 16) & 0xffff);
  write16(b, o + 2, v & 0xffff);
}

const rewrite = fc.record({
  src: fc.array(fc.integer(), { minLength: 4, maxLength: 4 }),
  dst: fc.array(fc.integer(), { minLength: 4, maxLength: 4 }),
  sport: fc.integer({ min: 0, max: 0xffff }),
  dport: fc.integer({ min: 0, max: 0xffff }),
  ttl: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.integer(),
  zeroUdp: fc.boolean(),
});

test("property: incremental checksum updates equal a full recompute", () => {
  fc.assert(
    fc.property(arbSpec, rewrite, (spec, rw) => {
      if (rw.zeroUdp && spec.udp && !spec.src!.includes(":")) spec.udp.checksum = "none";
      const b = buildPacket(spec);
      const pi = parse(b);
      const v6 = pi.family === 6;
      const n = v6 ? 4 : 1;
      const newSrc = Int32Array.from(v6 ? rw.src : [rw.src[0], 0, 0, 0]);
      const newDst = Int32Array.from(v6 ? rw.dst : [rw.dst[0], 0, 0, 0]);
      const co = l4ChecksumOffset(pi);
      const isUdp = pi.proto === 17;
      const upd16 = isUdp ? udpChecksumUpdate16 : checksumUpdate16;
      const updAddr = isUdp ? udpChecksumUpdateAddr : checksumUpdateAddr;
      let l4c = read16(b, co);
      const pseudo = pi.proto !== 1; // ICMPv4 has no pseudo header
      // addresses: the IPv4 header checksum and the pseudo header
      const srcOff = v6 ? pi.off + 8 : pi.off + 12;
      const dstOff = v6 ? pi.off + 24 : pi.off + 16;
      if (!v6) {
        let hc = read16(b, 10);
        hc = checksumUpdate32(hc, pi.src[0], newSrc[0]);
        hc = checksumUpdate32(hc, pi.dst[0], newDst[0]);
        hc = checksumUpdate16(hc, (b[8] << 8) | b[9], (rw.ttl << 8) | b[9]);
        hc = checksumUpdate16(hc, read16(b, 4), rw.id);
        write16(b, 10, hc);
        b[8] = rw.ttl;
        write16(b, 4, rw.id);
      }
      if (pseudo) {
        l4c = updAddr(l4c, pi.src, newSrc, n);
        l4c = updAddr(l4c, pi.dst, newDst, n);
      }
      for (let k = 0; k < n; k++) {
        write32(b, srcOff + 4 * k, newSrc[k]);
        write32(b, dstOff + 4 * k, newDst[k]);
      }
      if (pi.proto === 6 || pi.proto === 17) {
        l4c = upd16(l4c, read16(b, pi.l4Off), rw.sport);
        l4c = upd16(l4c, read16(b, pi.l4Off + 2), rw.dport);
        write16(b, pi.l4Off, rw.sport);
        write16(b, pi.l4Off + 2, rw.dport);
      }
      if (pi.proto === 6) {
        const old = (read16(b, pi.l4Off + 4) << 16) | read16(b, pi.l4Off + 6);
        l4c = checksumUpdate32(l4c, old, rw.seq);
        write32(b, pi.l4Off + 4, rw.seq);
      }
      if (pi.proto === 1 || pi.proto === 58) {
        l4c = checksumUpdate16(l4c, read16(b, pi.l4Off + 4), rw.id);
        write16(b, pi.l4Off + 4, rw.id);
      }
      write16(b, co, l4c);
      // compare with a full recompute
      const pj = parse(b);
      if (!v6) assert.equal(verifyIpv4HeaderChecksum(pj), true);
      if (isUdp && rw.zeroUdp && !v6) {
        assert.equal(l4c, 0);
        return;
      }
      assert.equal(verifyL4Checksum(pj), WireStatus.Ok);
      const copy = b.slice();
      const pc = parse(copy);
      fillL4Checksum(pc);
      assert.equal(read16(copy, co), l4c);
      if (!v6) {
        fillIpv4HeaderChecksum(pc);
        assert.equal(read16(copy, 10), read16(b, 10));
      }
    }),
    { seed: 1624, numRuns: 1000 },
  );
});

test("property: checksum functions never throw on random or damaged packets", () => {
  const pi = new PacketInfo();
  fc.assert(
    fc.property(arbSpec, fc.nat(), fc.nat(), fc.nat(), (s, cut, pos, bit) => {
      const b = buildPacket(s);
      b[pos % b.length] ^= 1 << (bit % 8);
      parsePacket(pi, b, 0, cut % (b.length + 1));
      verifyL4Checksum(pi);
      verifyIpv4HeaderChecksum(pi);
      parsePacket(pi, b, 0, b.length);
      const st = verifyL4Checksum(pi);
      assert.ok(st === WireStatus.Ok || st === WireStatus.BadChecksum || st === WireStatus.Truncated);
      verifyIpv4HeaderChecksum(pi);
    }),
    { seed: 99, numRuns: 1000 },
  );
  assert.equal(finishChecksum(0), 0xffff);
  assert.equal(parseAddr("10.0.0.1")[0], 0x0a000001);
});

/** the plain RFC 1071 sum, 16 bits at a time: the reference for sumBytes' fast path */
function referenceSum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i]! << 8) | b[off + i + 1]!;
  if (len & 1) s += b[off + len - 1]! << 8;
  return s;
}

test("property: sumBytes folds to the reference sum at any offset, length and buffer (subarrays too)", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 600 }),
      fc.nat(40),
      fc.nat(700),
      fc.nat(8),
      fc.nat(0xffff),
      (bytes, pre, lenWant, viewOff, seed) => {
        // some buffers are views into a larger one at an odd byte offset
        const backing = new Uint8Array(bytes.length + pre + viewOff + 8);
        backing.set(bytes, pre + viewOff);
        const buf = backing.subarray(viewOff);
        const len = Math.min(lenWant, buf.length - pre);
        if (len < 0) return;
        const want = foldSum(referenceSum(buf, pre, len) + seed);
        assert.equal(foldSum(sumBytes(buf, pre, len, seed)), want);
      },
    ),
    { seed: 1071, numRuns: 2000 },
  );
});

test("sumBytes: large runs (above 64 KiB), all-ones and all-zero data, and many buffers in turn", () => {
  const big = new Uint8Array(200_003);
  for (let i = 0; i < big.length; i++) big[i] = (Math.imul(i, 2654435761) >>> 13) & 0xff;
  for (const [o, l] of [
    [0, 200_003],
    [3, 131_072],
    [1, 65_537],
    [5, 65_536],
  ] as const) {
    assert.equal(foldSum(sumBytes(big, o, l, 0)), foldSum(referenceSum(big, o, l)));
  }
  const ones = new Uint8Array(1500).fill(0xff);
  assert.equal(foldSum(sumBytes(ones, 0, 1500, 0)), 0xffff);
  const zeros = new Uint8Array(1500);
  assert.equal(sumBytes(zeros, 2, 1400, 0), 0);
  // more buffers than the DataView cache holds, interleaved
  const bufs: Uint8Array[] = [];
  for (let k = 0; k < 7; k++) bufs.push(big.slice(k * 1000, k * 1000 + 900));
  for (let round = 0; round < 3; round++) {
    for (const b of bufs) assert.equal(foldSum(sumBytes(b, 1, 800, 0)), foldSum(referenceSum(b, 1, 800)));
  }
  // past the end of the buffer: the bytes that are not there count as zero, and nothing throws
  assert.equal(foldSum(sumBytes(bufs[0]!, 850, 100, 0)), foldSum(referenceSum(bufs[0]!, 850, 50)));
});
