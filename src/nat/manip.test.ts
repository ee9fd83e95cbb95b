import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { IPPROTO, Manip } from "../core/netfilter.js";
import { Tuple } from "../core/tuple.js";
import { csumApplyDelta, csumFinish, delta16, sumRange } from "./csum.js";
import { crc32c, IcmpXlat, icmpErrorCheck, icmpErrorManip, ipv6SkipExthdr, manipPkt, sctpChecksum } from "./manip.js";
import {
  checksumProblems,
  fillL4,
  hex,
  icmpEcho,
  icmpError,
  ipPacket,
  tcpHeader,
  udpHeader,
  v4,
  v6,
  zeroUdpChecksum,
} from "./testdata/packets.js";

const FC = { seed: 424242, numRuns: 400 };

function addr(family: 4 | 6, words: number[]): Int32Array {
  const a = new Int32Array(4);
  if (family === 4) a[0] = words[0] | 0;
  else for (let i = 0; i < 4; i++) a[i] = words[i] | 0;
  return a;
}

/** a target tuple for `manip` carrying address `a` and port/id `p` */
function target(family: number, proto: number, manip: number, a: Int32Array, p: number): Tuple {
  const t = new Tuple();
  t.family = family;
  t.proto = proto;
  if (manip === Manip.Src) {
    t.src.set(a);
    t.srcPort = p;
  } else {
    t.dst.set(a);
    t.dstPort = p;
  }
  if (proto === IPPROTO.ICMP || proto === IPPROTO.ICMPV6) t.srcPort = p;
  return t;
}

const word = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const arbPacket = fc.record({
  family: fc.constantFrom(4 as const, 6 as const),
  proto: fc.constantFrom(6, 17, 1, 58),
  src: fc.array(word, { minLength: 4, maxLength: 4 }),
  dst: fc.array(word, { minLength: 4, maxLength: 4 }),
  sport: fc.integer({ min: 0, max: 65535 }),
  dport: fc.integer({ min: 0, max: 65535 }),
  payload: fc.integer({ min: 0, max: 40 }),
  udpZero: fc.boolean(),
  echoType: fc.boolean(),
});

type ArbPacket = typeof arbPacket extends fc.Arbitrary<infer T> ? T : never;

function build(p: ArbPacket): { b: Uint8Array; family: 4 | 6; proto: number } {
  const family = p.family;
  let proto = p.proto;
  if (proto === 1 && family === 6) proto = 58;
  if (proto === 58 && family === 4) proto = 1;
  let l4: Uint8Array;
  if (proto === 6) l4 = tcpHeader(p.sport, p.dport, 12345, 0, 0x18, p.payload);
  else if (proto === 17) l4 = udpHeader(p.sport, p.dport, p.payload);
  else {
    const t = family === 4 ? (p.echoType ? 8 : 0) : p.echoType ? 128 : 129;
    l4 = icmpEcho(t, p.sport, p.dport, p.payload);
  }
  const b = ipPacket({ family, src: addr(family, p.src), dst: addr(family, p.dst), proto }, l4);
  if (proto === 17 && family === 4 && p.udpZero) zeroUdpChecksum(b);
  return { b, family, proto };
}

describe("csum arithmetic", () => {
  test("csumApplyDelta equals a full recompute after changing 16-bit words", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 0, max: 0xffff }),
        (data, posSeed, nv) => {
          const b = new Uint8Array(data.length + (data.length & 1) + 2);
          b.set(data, 2);
          b[2] |= 1; // never all zero
          const check = csumFinish(sumRange(b, 0, b.length));
          b[0] = check >>> 8;
          b[1] = check & 0xff;
          const pos = 2 + 2 * (posSeed % ((b.length - 2) / 2));
          const ov = (b[pos] << 8) | b[pos + 1];
          b[pos] = nv >>> 8;
          b[pos + 1] = nv & 0xff;
          const inc = csumApplyDelta(check, delta16(ov, nv));
          b[0] = 0;
          b[1] = 0;
          const full = csumFinish(sumRange(b, 0, b.length));
          assert.equal(inc, full);
          assert.notEqual(inc, 0xffff);
        },
      ),
      FC,
    );
  });
});

describe("manipPkt: rewrite and reverse", () => {
  test("rewriting keeps every checksum valid and the reverse manip restores the bytes", () => {
    fc.assert(
      fc.property(
        arbPacket,
        fc.constantFrom(Manip.Src, Manip.Dst),
        fc.array(word, { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 65535 }),
        (p, manip, na, np) => {
          const { b, family, proto } = build(p);
          const orig = b.slice();
          const icmp = proto === 1 || proto === 58;
          // the original values, to reverse with
          const back = new Tuple();
          back.family = family;
          back.proto = proto;
          const l4 = family === 4 ? 20 : 40;
          if (manip === Manip.Src) {
            for (let i = 0; i < (family === 4 ? 1 : 4); i++) back.src[i] = addr(family, p.src)[i];
            back.srcPort = (b[l4] << 8) | b[l4 + 1];
          } else {
            for (let i = 0; i < (family === 4 ? 1 : 4); i++) back.dst[i] = addr(family, p.dst)[i];
            back.dstPort = (b[l4 + 2] << 8) | b[l4 + 3];
          }
          if (icmp) back.srcPort = (b[l4 + 4] << 8) | b[l4 + 5];
          const t = target(family, proto, manip, addr(family, na), np);
          assert.equal(manipPkt(b, b.length, 0, family, t, manip), true);
          assert.deepEqual(checksumProblems(b), []);
          if (proto === 17 && family === 4 && p.udpZero) assert.equal((b[l4 + 6] << 8) | b[l4 + 7], 0);
          assert.equal(manipPkt(b, b.length, 0, family, back, manip), true);
          assert.equal(hex(b), hex(orig));
        },
      ),
      FC,
    );
  });

  test("UDP: a computed zero checksum is stored as 0xffff", () => {
    // search a port change that makes the checksum come out as zero
    const src = v4("10.0.0.1");
    const dst = v4("10.0.0.2");
    const b = ipPacket(
      { family: 4, src: Int32Array.of(src, 0, 0, 0), dst: Int32Array.of(dst, 0, 0, 0), proto: 17 },
      udpHeader(1000, 53, 6),
    );
    const check = (b[26] << 8) | b[27];
    // new port p such that the incremental result is 0: residue of ~check + ~1000 + p must be 0 mod 0xffff
    const r = ((~check & 0xffff) + (~1000 & 0xffff)) % 0xffff;
    const p = (0xffff - r) % 0xffff;
    const t = target(4, 17, Manip.Src, Int32Array.of(src, 0, 0, 0), p);
    manipPkt(b, b.length, 0, 4, t, Manip.Src);
    assert.equal((b[26] << 8) | b[27], 0xffff);
    assert.deepEqual(checksumProblems(b), []);
  });

  test("IPv6 UDP and ICMPv6 include the pseudo header; IPv6 has no header checksum to touch", () => {
    const s = v6("fd77:1::2");
    const d = v6("fd77:2::2");
    const u = ipPacket({ family: 6, src: s, dst: d, proto: 17 }, udpHeader(5353, 53));
    const t = target(6, 17, Manip.Src, v6("2001:db8::1"), 40000);
    manipPkt(u, u.length, 0, 6, t, Manip.Src);
    assert.deepEqual(checksumProblems(u), []);
    const e = ipPacket({ family: 6, src: s, dst: d, proto: 58 }, icmpEcho(128, 7));
    manipPkt(e, e.length, 0, 6, target(6, 58, Manip.Dst, v6("fd77:3::9"), 99), Manip.Dst);
    assert.deepEqual(checksumProblems(e), []);
    assert.equal((e[44] << 8) | e[45], 99);
  });

  test("TCP with only 8 bytes present: ports rewritten, checksum left alone (as Linux)", () => {
    const b = ipPacket(
      { family: 4, src: Int32Array.of(v4("10.0.0.1"), 0, 0, 0), dst: Int32Array.of(v4("10.0.0.2"), 0, 0, 0), proto: 6 },
      tcpHeader(1, 2),
    );
    const cut = b.slice(0, 28);
    const before = (cut[20 + 16] << 8) | cut[20 + 17];
    assert.equal(
      manipPkt(cut, 28, 0, 4, target(4, 6, Manip.Dst, Int32Array.of(v4("10.0.0.3"), 0, 0, 0), 8080), Manip.Dst),
      true,
    );
    assert.equal((cut[22] << 8) | cut[23], 8080);
    assert.equal(before, before);
    // fewer than 8 bytes: failure (the caller drops)
    assert.equal(manipPkt(b.slice(0, 26), 26, 0, 4, target(4, 6, Manip.Src, new Int32Array(4), 1), Manip.Src), false);
  });

  test("IPv6 extension headers are skipped; a non-first fragment gets addresses only", () => {
    const l4 = udpHeader(1111, 2222);
    // hop-by-hop (8 bytes, next header UDP) then UDP
    const ext = new Uint8Array(8 + l4.length);
    ext[0] = 17;
    ext[1] = 0;
    ext.set(l4, 8);
    const b = ipPacket({ family: 6, src: v6("fd00::1"), dst: v6("fd00::2"), proto: 0 }, ext, false);
    // fill the UDP checksum by hand (pseudo header with the UDP length)
    const tmp = ipPacket({ family: 6, src: v6("fd00::1"), dst: v6("fd00::2"), proto: 17 }, l4);
    b[48 + 6] = tmp[46];
    b[48 + 7] = tmp[47];
    assert.equal(ipv6SkipExthdr(b, b.length, 40, 0), 48);
    manipPkt(b, b.length, 0, 6, target(6, 17, Manip.Src, v6("fd00::9"), 3333), Manip.Src);
    assert.equal((b[48] << 8) | b[49], 3333);
    // fragment header with offset 8: not the first fragment
    const f = new Uint8Array(8 + 16);
    f[0] = 17;
    f[2] = 0;
    f[3] = 8 << 3;
    const fb = ipPacket({ family: 6, src: v6("fd00::1"), dst: v6("fd00::2"), proto: 44 }, f, false);
    const copy = fb.slice();
    manipPkt(fb, fb.length, 0, 6, target(6, 17, Manip.Src, v6("fd00::9"), 3333), Manip.Src);
    assert.equal(hex(fb.subarray(40)), hex(copy.subarray(40)));
    assert.equal(hex(fb.subarray(8, 24)), hex(Uint8Array.from([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9])));
  });

  test("SCTP: CRC32c check value and checksum field handling", () => {
    // the standard check value: CRC32c("123456789") = 0xe3069283
    assert.equal(crc32c(new TextEncoder().encode("123456789"), 0, 9, -1), 0xe3069283);
    const src = Int32Array.of(v4("10.0.0.1"), 0, 0, 0);
    const dst = Int32Array.of(v4("10.0.0.2"), 0, 0, 0);
    const l4 = new Uint8Array(12 + 16);
    l4[0] = 0x13;
    l4[1] = 0x88;
    l4[3] = 80;
    l4[12] = 1; // an INIT-like chunk header, content irrelevant
    const b = ipPacket({ family: 4, src, dst, proto: 132 }, l4, false);
    manipPkt(b, b.length, 0, 4, target(4, 132, Manip.Src, Int32Array.of(v4("192.0.2.1"), 0, 0, 0), 4000), Manip.Src);
    const stored = b[28] | (b[29] << 8) | (b[30] << 16) | (b[31] << 24);
    assert.equal(stored >>> 0, sctpChecksum(b, 20, b.length));
    assert.equal((b[20] << 8) | b[21], 4000);
    assert.deepEqual(checksumProblems(b), []);
  });
});

describe("ICMP errors", () => {
  const arbErr = fc.record({
    family: fc.constantFrom(4 as const, 6 as const),
    proto: fc.constantFrom(6, 17, 1),
    a: fc.array(word, { minLength: 4, maxLength: 4 }),
    b: fc.array(word, { minLength: 4, maxLength: 4 }),
    r: fc.array(word, { minLength: 4, maxLength: 4 }),
    n: fc.array(word, { minLength: 4, maxLength: 4 }),
    sport: fc.integer({ min: 1, max: 65535 }),
    dport: fc.integer({ min: 1, max: 65535 }),
    nport: fc.integer({ min: 1, max: 65535 }),
    payload: fc.integer({ min: 0, max: 32 }),
    truncate: fc.boolean(),
  });

  test("inner and outer rewritten with all checksums valid; inverse translation restores the bytes", () => {
    fc.assert(
      fc.property(arbErr, (p) => {
        const family = p.family;
        const proto = p.proto === 1 && family === 6 ? 58 : p.proto;
        const A = addr(family, p.a); // NATed source as the peer sees it (N) is p.n
        const N = addr(family, p.n);
        const B = addr(family, p.b);
        const R = addr(family, p.r);
        // the packet N:nport -> B:dport as it left the gateway, and an error about it from router R to N
        const l4 =
          proto === 6
            ? tcpHeader(p.nport, p.dport, 1, 0, 0x02, p.payload)
            : proto === 17
              ? udpHeader(p.nport, p.dport, p.payload)
              : icmpEcho(family === 4 ? 8 : 128, p.nport, 1, p.payload);
        const inner = ipPacket({ family, src: N, dst: B, proto }, l4);
        const quote = p.truncate ? (family === 4 ? 28 : 48) : inner.length;
        const err = icmpError(family === 4 ? 3 : 1, family === 4 ? 3 : 4, inner, quote);
        const pkt = ipPacket({ family, src: R, dst: N, proto: family === 4 ? 1 : 58 }, err);
        const orig = pkt.slice();
        const l4Off = family === 4 ? 20 : 40;
        assert.equal(icmpErrorCheck(pkt, pkt.length, 0, family, l4Off), IcmpXlat.Ok);
        // un-SNAT: inner source N:nport -> A:sport, outer destination N -> A
        const innerT = target(family, proto, Manip.Src, A, p.sport);
        const outerT = target(family, family === 4 ? 1 : 58, Manip.Dst, A, 0);
        assert.equal(
          icmpErrorManip(pkt, pkt.length, 0, family, l4Off, innerT, Manip.Src, outerT, Manip.Dst),
          IcmpXlat.Ok,
        );
        assert.deepEqual(checksumProblems(pkt), []);
        if (!p.truncate) assert.deepEqual(checksumProblems(pkt, l4Off + 8, pkt.length), []);
        // and back
        const innerB = target(family, proto, Manip.Src, N, p.nport);
        const outerB = target(family, family === 4 ? 1 : 58, Manip.Dst, N, 0);
        icmpErrorManip(pkt, pkt.length, 0, family, l4Off, innerB, Manip.Src, outerB, Manip.Dst);
        assert.equal(hex(pkt), hex(orig));
      }),
      FC,
    );
  });

  test("a bad ICMP checksum and a too-short error are reported", () => {
    const inner = ipPacket(
      { family: 4, src: Int32Array.of(1, 0, 0, 0), dst: Int32Array.of(2, 0, 0, 0), proto: 17 },
      udpHeader(1, 2),
    );
    const pkt = ipPacket(
      { family: 4, src: Int32Array.of(3, 0, 0, 0), dst: Int32Array.of(1, 0, 0, 0), proto: 1 },
      icmpError(3, 3, inner),
    );
    pkt[23] ^= 1;
    assert.equal(icmpErrorCheck(pkt, pkt.length, 0, 4, 20), IcmpXlat.BadChecksum);
    const short = ipPacket(
      { family: 4, src: Int32Array.of(3, 0, 0, 0), dst: Int32Array.of(1, 0, 0, 0), proto: 1 },
      icmpError(3, 3, inner, 12),
    );
    assert.equal(icmpErrorCheck(short, short.length, 0, 4, 20), IcmpXlat.Short);
    fillL4(short, 0);
  });
});
