import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { arbSpec } from "../../test/wire/arbitraries.js";
import { formatAddr, parseAddr } from "./addr.js";
import { buildPacket, fragment } from "./build.js";
import { PacketInfo, WireStatus } from "./packet-info.js";
import { IPV4_OPT_LSRR, IPV4_OPT_RA, IPV4_OPT_RR, IPV4_OPT_TS, ipv6RcvAddrOk, parsePacket } from "./parse.js";

function parse(b: Uint8Array, capLen = b.length): PacketInfo {
  const pi = new PacketInfo();
  parsePacket(pi, b, 0, capLen);
  return pi;
}

// ---- deconstruct: a hand-written packet, field by field ----------------------------------------

const SYN_BYTES = Uint8Array.from([
  0x45, // version 4, IHL 5
  0x00, // TOS
  0x00,
  0x3c, // total length 60
  0x1c,
  0x46, // id 0x1c46
  0x40,
  0x00, // DF, offset 0
  0x40, // TTL 64
  0x06, // TCP
  0x00,
  0x00, // header checksum (not checked by parse)
  0xc0,
  0xa8,
  0x00,
  0x68, // 192.168.0.104
  0xc0,
  0xa8,
  0x00,
  0x01, // 192.168.0.1
  // TCP
  0xd4,
  0x31, // sport 54321
  0x00,
  0x50, // dport 80
  0x80,
  0x00,
  0x00,
  0x01, // seq 0x80000001
  0x00,
  0x00,
  0x00,
  0x00, // ack 0
  0xa0, // data offset 10 (40 bytes)
  0x02, // SYN
  0xfa,
  0xf0, // window 64240
  0x00,
  0x00, // checksum
  0x00,
  0x00, // urgent
  0x02,
  0x04,
  0x05,
  0xb4, // MSS 1460
  0x04,
  0x02, // SACK permitted
  0x08,
  0x0a,
  0x00,
  0x00,
  0x00,
  0x07,
  0x00,
  0x00,
  0x00,
  0x00, // TS val 7 ecr 0
  0x01, // NOP
  0x03,
  0x03,
  0x07, // window scale 7
]);

test("deconstruct: IPv4 TCP SYN with options", () => {
  const pi = parse(SYN_BYTES);
  assert.equal(pi.status, WireStatus.Ok);
  assert.equal(pi.family, 4);
  assert.equal(pi.len, 60);
  assert.equal(pi.ipHeaderLen, 20);
  assert.equal(pi.ipId, 0x1c46);
  assert.equal(pi.dontFrag, true);
  assert.equal(pi.isFragment, false);
  assert.equal(pi.ttl, 64);
  assert.equal(pi.proto, 6);
  assert.equal(formatAddr(pi.src, 4), "192.168.0.104");
  assert.equal(formatAddr(pi.dst, 4), "192.168.0.1");
  assert.equal(pi.l4Status, WireStatus.Ok);
  assert.equal(pi.l4Off, 20);
  assert.equal(pi.l4Len, 40);
  assert.equal(pi.srcPort, 54321);
  assert.equal(pi.dstPort, 80);
  assert.equal(pi.tcpSeq, 0x80000001 | 0);
  assert.equal(pi.tcpFlags, 0x02);
  assert.equal(pi.tcpWindow, 64240);
  assert.equal(pi.tcpHeaderLen, 40);
  assert.equal(pi.tcpOptStatus, WireStatus.Ok);
  assert.equal(pi.optMss, 1460);
  assert.equal(pi.optSackPerm, true);
  assert.equal(pi.optHasTs, true);
  assert.equal(pi.optTsVal, 7);
  assert.equal(pi.optWscale, 7);
  assert.equal(pi.payloadOff, 60);
  assert.equal(pi.payloadLen, 0);
});

test("construct: buildPacket emits the same bytes as the hand-written SYN", () => {
  const b = buildPacket({
    src: "192.168.0.104",
    dst: "192.168.0.1",
    id: 0x1c46,
    df: true,
    tcp: {
      sport: 54321,
      dport: 80,
      seq: 0x80000001,
      flags: "S",
      win: 64240,
      options: { mss: 1460, sackPerm: true, ts: [7, 0], wscale: 7 },
    },
  });
  const expect = SYN_BYTES.slice();
  // checksums are filled by the builder; compare the rest
  b[10] = b[11] = b[36] = b[37] = 0;
  assert.deepEqual(b, expect);
});

// ---- the IP layer's receive checks --------------------------------------------------------------

test("truncated and impossible lengths (IPv4)", () => {
  const p = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { sport: 1, dport: 2, payload: "abcd" } });
  const cases: { name: string; bytes: Uint8Array; cap?: number; status: number }[] = [
    { name: "empty", bytes: new Uint8Array(0), status: WireStatus.NotIp },
    { name: "19 bytes", bytes: p, cap: 19, status: WireStatus.Truncated },
    { name: "bad version", bytes: withByte(p, 0, 0x55), status: WireStatus.BadVersion },
    { name: "ihl 4", bytes: withByte(p, 0, 0x44), status: WireStatus.BadHeaderLen },
    { name: "ihl 15 beyond capture", bytes: withByte(p, 0, 0x4f), status: WireStatus.Truncated },
    { name: "total length > captured", bytes: p, cap: p.length - 1, status: WireStatus.BadTotalLen },
    { name: "total length < header", bytes: with16(p, 2, 19), status: WireStatus.BadTotalLen },
  ];
  for (const tc of cases) {
    assert.equal(parse(tc.bytes, tc.cap ?? tc.bytes.length).status, tc.status, tc.name);
  }
});

test("trailing bytes past the total length are ignored (Linux trims them)", () => {
  const p = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { sport: 1, dport: 2, payload: "abcd" } });
  const padded = new Uint8Array(p.length + 10);
  padded.set(p);
  const pi = parse(padded);
  assert.equal(pi.status, WireStatus.Ok);
  assert.equal(pi.len, p.length);
  assert.equal(pi.l4Len, 12);
  assert.equal(pi.l4Status, WireStatus.Ok);
  assert.equal(pi.payloadLen, 4);
});

test("IPv4 options: accepted and rejected as ip_options_compile does", () => {
  // `at`: the byte Linux's ip_options_compile blames (the ICMP parameter problem pointer)
  const cases: { name: string; opts: number[]; ok: boolean; flags?: number; at?: number }[] = [
    { name: "NOPs and END", opts: [1, 1, 1, 0], ok: true, flags: 0 },
    { name: "record route, room left", opts: [7, 7, 4, 0, 0, 0, 0], ok: true, flags: IPV4_OPT_RR },
    { name: "record route full", opts: [7, 7, 8, 1, 2, 3, 4], ok: true, flags: IPV4_OPT_RR },
    { name: "record route pointer 3", opts: [7, 7, 3, 0, 0, 0, 0], ok: false, at: 22 },
    { name: "record route no room for an address", opts: [7, 6, 4, 0, 0, 0], ok: false },
    { name: "two record routes", opts: [7, 3, 4, 7, 3, 4, 0, 0], ok: false, at: 23 },
    { name: "LSRR", opts: [131, 7, 4, 10, 0, 0, 1], ok: true, flags: IPV4_OPT_LSRR },
    { name: "LSRR pointer < 4", opts: [131, 7, 3, 10, 0, 0, 1], ok: false },
    { name: "LSRR + SSRR", opts: [131, 3, 4, 137, 3, 4, 0, 0], ok: false },
    { name: "timestamp only", opts: [68, 8, 5, 0, 0, 0, 0, 0], ok: true, flags: IPV4_OPT_TS },
    { name: "timestamp pointer 4", opts: [68, 8, 4, 0, 0, 0, 0, 0], ok: false },
    { name: "timestamp+addr no room", opts: [68, 8, 5, 1, 0, 0, 0, 0], ok: false },
    { name: "timestamp full, overflow counts", opts: [68, 8, 9, 0x10, 0, 0, 0, 0], ok: true, flags: IPV4_OPT_TS },
    { name: "timestamp full, overflow 15", opts: [68, 8, 9, 0xf0, 0, 0, 0, 0], ok: false, at: 23 },
    {
      name: "prespecified timestamps full, overflow 15 ignored",
      opts: [68, 12, 13, 0xf3, 0, 0, 0, 0, 0, 0, 0, 0],
      ok: true,
    },
    { name: "timestamp length 3", opts: [68, 3, 5, 0], ok: false },
    { name: "router alert", opts: [148, 4, 0, 0], ok: true, flags: IPV4_OPT_RA },
    { name: "router alert length 2", opts: [148, 2, 0, 0], ok: false, at: 21 },
    { name: "unknown option skipped", opts: [30, 4, 0, 0], ok: true },
    { name: "length 1", opts: [30, 1, 0, 0], ok: false },
    { name: "length beyond header", opts: [30, 5, 0, 0], ok: false, at: 20 },
    { name: "option byte without length", opts: [1, 1, 1, 30], ok: false, at: 23 },
    { name: "CIPSO (no DOI configured)", opts: [134, 8, 0, 0, 0, 1, 0, 0], ok: false },
    { name: "garbage after END", opts: [0, 7, 7, 7], ok: true, flags: 0 },
  ];
  for (const tc of cases) {
    const p = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", ipOptions: tc.opts, proto: 253, payload: "x" });
    const pi = parse(p);
    // the packet itself stays Ok: Linux judges the options after PREROUTING
    assert.equal(pi.status, WireStatus.Ok, tc.name);
    if (tc.ok) assert.equal(pi.ipOptProblem, -1, tc.name);
    else assert.ok(pi.ipOptProblem >= 20, tc.name);
    if (tc.at !== undefined) assert.equal(pi.ipOptProblem, tc.at, tc.name);
    if (tc.flags !== undefined) assert.equal(pi.ipOptFlags, tc.flags, tc.name);
  }
});

test("IPv4 fragments: fields, first fragment has ports, later ones do not", () => {
  const p = buildPacket({
    src: "10.0.0.1",
    dst: "10.0.0.2",
    id: 77,
    udp: { sport: 5, dport: 6, payload: new Uint8Array(100) },
  });
  const frags = fragment(p, 60);
  assert.equal(frags.length, 3);
  const a = parse(frags[0]);
  assert.equal(a.isFragment, true);
  assert.equal(a.moreFrags, true);
  assert.equal(a.fragOff, 0);
  assert.equal(a.ipId, 77);
  assert.equal(a.l4Status, WireStatus.Ok);
  assert.equal(a.srcPort, 5);
  const b = parse(frags[1]);
  assert.equal(b.fragOff, 40);
  assert.equal(b.proto, 17);
  assert.equal(b.l4Status, WireStatus.Truncated);
  assert.equal(b.srcPort, 0);
  const c = parse(frags[2]);
  assert.equal(c.moreFrags, false);
  assert.equal(c.fragOff, 80);
});

// ---- IPv6 ---------------------------------------------------------------------------------------

test("IPv6: header fields and extension header walk", () => {
  const p = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    tos: 0xb8,
    flowLabel: 0x12345,
    ttl: 9,
    ext: [{ type: "hop" }, { type: "routing" }, { type: "dst", options: [1, 4, 0, 0, 0, 0] }, { type: "ah" }],
    tcp: { sport: 1, dport: 2, flags: "SA", seq: -1, ack: 5 },
  });
  const pi = parse(p);
  assert.equal(pi.status, WireStatus.Ok);
  assert.equal(pi.family, 6);
  assert.equal(pi.tos, 0xb8);
  assert.equal(pi.flowLabel, 0x12345);
  assert.equal(pi.ttl, 9);
  assert.equal(pi.firstNextHeader, 0);
  assert.equal(pi.proto, 6);
  assert.equal(pi.l4Off, 40 + 8 + 8 + 8 + 24);
  assert.equal(pi.tcpFlags, 0x12);
  assert.equal(pi.tcpSeq, -1);
  assert.equal(formatAddr(pi.dst, 6), "fd00::2");
});

test("IPv6: truncated chain, payload length checks, jumbo", () => {
  const p = buildPacket({ src: "fd00::1", dst: "fd00::2", ext: [{ type: "dst" }], udp: { sport: 1, dport: 2 } });
  assert.equal(parse(p, 39).status, WireStatus.Truncated);
  assert.equal(parse(p, p.length - 1).status, WireStatus.BadTotalLen);
  // payload length smaller than the chain: the chain runs off the end
  assert.equal(parse(with16(p, 4, 4)).status, WireStatus.BadExtHeader);
  // no next header: the chain ends, nothing to parse
  const none = buildPacket({ src: "fd00::1", dst: "fd00::2", proto: 59, payload: "junk" });
  const n = parse(none);
  assert.equal(n.status, WireStatus.Ok);
  assert.equal(n.proto, 59);
  // jumbo payload option with a small length is refused
  const jumbo = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    payloadLen: 0,
    ext: [{ type: "hop", options: [0xc2, 4, 0, 0, 0, 100] }],
    proto: 253,
  });
  assert.equal(parse(jumbo).status, WireStatus.BadExtHeader);
});

test("IPv6 hop-by-hop options: validated as ip6_parse_tlv does", () => {
  const cases: { name: string; opts: number[]; ok: boolean }[] = [
    { name: "router alert", opts: [5, 2, 0, 0], ok: true },
    { name: "router alert length 3", opts: [5, 3, 0, 0, 0], ok: false },
    { name: "unknown skip-type option", opts: [0x1e, 2, 0, 0], ok: true },
    { name: "unknown discard-type option", opts: [0x5e, 2, 0, 0], ok: false },
    { name: "unknown ICMP-type option", opts: [0x9e, 2, 0, 0], ok: false },
    { name: "PadN with non-zero byte", opts: [1, 2, 0, 1], ok: false },
    { name: "8 bytes of padding", opts: [1, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], ok: false },
    { name: "option runs past the header", opts: [0x1e, 9, 0, 0], ok: false },
    { name: "9 options", opts: Array.from({ length: 9 }, () => [0x1e, 0]).flat(), ok: false },
    { name: "8 options", opts: Array.from({ length: 8 }, () => [0x1e, 0]).flat(), ok: true },
  ];
  for (const tc of cases) {
    const p = buildPacket({ src: "fd00::1", dst: "fd00::2", ext: [{ type: "hop", options: tc.opts }], proto: 253 });
    assert.equal(parse(p).status, tc.ok ? WireStatus.Ok : WireStatus.BadExtHeader, tc.name);
  }
});

test("IPv6 fragments: header fields; non-first fragment has the protocol but no header", () => {
  const p = buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { sport: 7, dport: 8, payload: new Uint8Array(3000) } });
  const frags = fragment(p, 1280, { id: 0xdeadbeef });
  const a = parse(frags[0]);
  assert.equal(a.status, WireStatus.Ok);
  assert.equal(a.isFragment, true);
  assert.equal(a.fragHdrOff, 40);
  assert.equal(a.ipId, 0xdeadbeef | 0);
  assert.equal(a.moreFrags, true);
  assert.equal(a.proto, 17);
  assert.equal(a.srcPort, 7);
  const b = parse(frags[1]);
  assert.equal(b.fragOff, 1232);
  assert.equal(b.proto, 17);
  assert.equal(b.l4Off, 48);
  assert.equal(b.l4Status, WireStatus.Truncated);
  // an atomic fragment (offset 0, M clear) is still a fragment header but not a fragment
  const at = parse(
    buildPacket({ src: "fd00::1", dst: "fd00::2", ext: [{ type: "fragment", id: 1 }], udp: { sport: 1, dport: 2 } }),
  );
  assert.equal(at.fragHdrOff, 40);
  assert.equal(at.isFragment, false);
  assert.equal(at.l4Status, WireStatus.Ok);
});

// ---- transport ----------------------------------------------------------------------------------

test("TCP header length checks", () => {
  const p = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", tcp: { sport: 1, dport: 2, payload: "abc" } });
  assert.equal(parse(withByte(p, 32, 0x40)).l4Status, WireStatus.BadHeaderLen); // data offset 4
  assert.equal(parse(withByte(p, 32, 0x70)).l4Status, WireStatus.BadHeaderLen); // 28 > 23 bytes
  assert.equal(parse(withByte(p, 32, 0x50)).l4Status, WireStatus.Ok);
  const short = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", proto: 6, payload: new Uint8Array(19) });
  assert.equal(parse(short).l4Status, WireStatus.Truncated);
});

test("malformed TCP options: the header stays Ok, the option list does not", () => {
  const cases: { name: string; raw: number[]; st: number; check?: (pi: PacketInfo) => void }[] = [
    { name: "length 0", raw: [0x1e, 0, 0, 0], st: WireStatus.BadOptions },
    { name: "length 1", raw: [0x1e, 1, 0, 0], st: WireStatus.BadOptions },
    { name: "runs past the header", raw: [1, 1, 0x1e, 3], st: WireStatus.BadOptions },
    { name: "kind without length", raw: [1, 1, 1, 2], st: WireStatus.BadOptions },
    { name: "EOL stops", raw: [0, 0x1e, 0, 0], st: WireStatus.Ok },
    {
      name: "MSS with wrong length is ignored",
      raw: [2, 3, 5, 1],
      st: WireStatus.Ok,
      check: (pi) => assert.equal(pi.optMss, -1),
    },
    {
      name: "SACK blocks",
      raw: [1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4],
      st: WireStatus.Ok,
      check: (pi) => {
        assert.equal(pi.optSackBlocks, 2);
        assert.equal(pi.optSackOff, 20 + 20 + 4);
      },
    },
    {
      name: "unknown option skipped, later ones read",
      raw: [0x1e, 4, 9, 9, 3, 3, 14, 0],
      st: WireStatus.Ok,
      check: (pi) => assert.equal(pi.optWscale, 14),
    },
  ];
  for (const tc of cases) {
    const pi = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", tcp: { options: { raw: tc.raw } } }));
    assert.equal(pi.l4Status, WireStatus.Ok, tc.name);
    assert.equal(pi.tcpOptStatus, tc.st, tc.name);
    tc.check?.(pi);
  }
});

test("UDP length checks (udp_error) and UDP-Lite coverage (udplite_error)", () => {
  const ok = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { payload: "abcd" } });
  assert.equal(parse(ok).l4Status, WireStatus.Ok);
  assert.equal(parse(ok).udpLen, 12);
  assert.equal(
    parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { payload: "abcd", len: 13 } })).l4Status,
    WireStatus.BadLength,
  );
  assert.equal(
    parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { payload: "abcd", len: 7 } })).l4Status,
    WireStatus.BadLength,
  );
  // shorter than the IP payload is allowed (the rest is padding)
  const shortLen = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { payload: "abcd", len: 9 } }));
  assert.equal(shortLen.l4Status, WireStatus.Ok);
  assert.equal(shortLen.payloadLen, 1);
  assert.equal(
    parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", proto: 17, payload: "1234567" })).l4Status,
    WireStatus.Truncated,
  );
  const lite = (len: number) =>
    parse(buildPacket({ src: "fd00::1", dst: "fd00::2", udplite: { payload: "abcdefgh", len } })).l4Status;
  assert.equal(lite(0), WireStatus.Ok);
  assert.equal(lite(8), WireStatus.Ok);
  assert.equal(lite(16), WireStatus.Ok);
  assert.equal(lite(7), WireStatus.BadLength);
  assert.equal(lite(17), WireStatus.BadLength);
});

test("ICMP echo and ICMPv6 echo: id and sequence", () => {
  const a = parse(
    buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", icmp: { type: 8, id: 0x1234, seq: 7, payload: "ping" } }),
  );
  assert.equal(a.l4Status, WireStatus.Ok);
  assert.equal(a.icmpType, 8);
  assert.equal(a.icmpId, 0x1234);
  assert.equal(a.icmpSeq, 7);
  assert.equal(a.icmpIsError, false);
  assert.equal(a.payloadLen, 4);
  const b = parse(buildPacket({ src: "fd00::1", dst: "fd00::2", icmp6: { type: 129, id: 9, seq: 10 } }));
  assert.equal(b.proto, 58);
  assert.equal(b.icmpType, 129);
  assert.equal(b.icmpId, 9);
  assert.equal(
    parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", proto: 1, payload: "1234567" })).l4Status,
    WireStatus.Truncated,
  );
});

test("ICMP errors: the quoted packet is parsed leniently into pi.inner", () => {
  const tcp = buildPacket({
    src: "10.0.0.1",
    dst: "10.0.0.2",
    tcp: { sport: 1111, dport: 22, seq: 5, payload: "data" },
  });
  for (const cut of [28, 24, 40, 64, tcp.length]) {
    const err = buildPacket({
      src: "10.0.0.9",
      dst: "10.0.0.1",
      icmp: { type: 11, code: 0, embed: tcp, embedLen: cut },
    });
    const pi = parse(err);
    assert.equal(pi.icmpIsError, true, `cut ${cut}`);
    const inner = pi.inner!;
    assert.equal(inner.status, WireStatus.Ok, `cut ${cut}`);
    assert.equal(inner.l4Status, WireStatus.Ok, `cut ${cut}`);
    assert.equal(inner.srcPort, 1111);
    assert.equal(inner.dstPort, 22);
    assert.equal(inner.ipTotalLen, tcp.length);
    assert.equal(inner.len, Math.min(cut, tcp.length));
    assert.equal(formatAddr(inner.src, 4), "10.0.0.1");
    if (cut >= 28) assert.equal(inner.tcpSeq, 5);
  }
  // the quoted IP header must be complete; the quoted transport header needs its ports
  const short = parse(
    buildPacket({ src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 3, code: 1, embed: tcp, embedLen: 19 } }),
  );
  assert.equal(short.inner!.status, WireStatus.Truncated);
  const noPorts = parse(
    buildPacket({ src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 3, code: 1, embed: tcp, embedLen: 23 } }),
  );
  assert.equal(noPorts.inner!.status, WireStatus.Ok);
  assert.equal(noPorts.inner!.l4Status, WireStatus.Truncated);
  // an IPv6 packet quoted in an ICMPv4 error is not the outer family
  const v6 = buildPacket({ src: "fd00::1", dst: "fd00::2", udp: {} });
  assert.equal(
    parse(buildPacket({ src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 3, code: 1, embed: v6 } })).inner!.status,
    WireStatus.BadVersion,
  );
  // ICMPv6 packet too big quoting an IPv6 UDP datagram
  const u6 = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [{ type: "dst" }],
    udp: { sport: 53, dport: 5353, payload: new Uint8Array(2000) },
  });
  const ptb = parse(
    buildPacket({ src: "fd00::9", dst: "fd00::1", icmp6: { type: 2, rest: 1280, embed: u6, embedLen: 1232 } }),
  );
  assert.equal(ptb.icmpIsError, true);
  assert.equal(ptb.inner!.status, WireStatus.Ok);
  assert.equal(ptb.inner!.proto, 17);
  assert.equal(ptb.inner!.srcPort, 53);
  assert.equal(ptb.inner!.ipTotalLen, u6.length);
  assert.equal(ptb.inner!.len, 1232);
  // an ICMP error quoting an ICMP echo
  const echo = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", icmp: { type: 8, id: 99, seq: 1 } });
  const ue = parse(
    buildPacket({ src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 3, code: 13, embed: echo, embedLen: 28 } }),
  );
  assert.equal(ue.inner!.proto, 1);
  assert.equal(ue.inner!.icmpType, 8);
  assert.equal(ue.inner!.icmpId, 99);
});

test("SCTP / DCCP ports; unknown protocols pass with no ports", () => {
  const sctp = parse(
    buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", proto: 132, payload: [0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0] }),
  );
  assert.equal(sctp.l4Status, WireStatus.Ok);
  assert.equal(sctp.srcPort, 1);
  assert.equal(sctp.dstPort, 2);
  const gre = parse(buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", proto: 47, payload: [0, 0, 8, 0] }));
  assert.equal(gre.l4Status, WireStatus.Ok);
  assert.equal(gre.srcPort, 0);
  assert.equal(gre.payloadLen, 4);
});

// ---- properties ---------------------------------------------------------------------------------

test("property: parse(build(spec)) gives back the spec's fields", () => {
  fc.assert(
    fc.property(arbSpec, (s) => {
      const b = buildPacket(s);
      const pi = parse(b);
      assert.equal(pi.status, WireStatus.Ok);
      assert.equal(pi.l4Status, WireStatus.Ok);
      assert.equal(pi.len, b.length);
      assert.deepEqual(pi.src, parseAddr(s.src!));
      assert.deepEqual(pi.dst, parseAddr(s.dst!));
      assert.equal(pi.ttl, s.ttl);
      assert.equal(pi.tos, s.tos);
      if (pi.family === 4) {
        assert.equal(pi.ipId, s.id);
        assert.equal(pi.dontFrag, s.df);
      }
      if (s.tcp) {
        const t = s.tcp;
        assert.equal(pi.proto, 6);
        assert.equal(pi.srcPort, t.sport);
        assert.equal(pi.dstPort, t.dport);
        assert.equal(pi.tcpSeq, t.seq! | 0);
        assert.equal(pi.tcpAck, t.ack! | 0);
        assert.equal(pi.tcpFlags, t.flags);
        assert.equal(pi.tcpWindow, t.win);
        assert.equal(pi.tcpOptStatus, WireStatus.Ok);
        assert.equal(pi.optMss, t.options!.mss ?? -1);
        assert.equal(pi.optWscale, t.options!.wscale ?? -1);
        assert.equal(pi.optSackPerm, t.options!.sackPerm);
        assert.equal(pi.optHasTs, t.options!.ts !== undefined);
        if (t.options!.ts) {
          assert.equal(pi.optTsVal, t.options!.ts[0] | 0);
          assert.equal(pi.optTsEcr, t.options!.ts[1] | 0);
        }
        assert.equal(pi.payloadLen, (t.payload as Uint8Array).length);
      } else if (s.udp) {
        assert.equal(pi.proto, 17);
        assert.equal(pi.srcPort, s.udp.sport);
        assert.equal(pi.dstPort, s.udp.dport);
        assert.equal(pi.payloadLen, (s.udp.payload as Uint8Array).length);
      } else {
        const ic = s.icmp ?? s.icmp6!;
        assert.equal(pi.icmpType, ic.type);
        assert.equal(pi.icmpId, ic.id);
        assert.equal(pi.icmpSeq, ic.seq);
      }
    }),
    { seed: 1071, numRuns: 500 },
  );
});

test("property: random bytes, truncations and bit flips never throw", () => {
  const pi = new PacketInfo();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 130 }), (b, cap) => {
      if (b.length > 0) b[0] = (b[0] & 0x0f) | ((cap & 1) === 0 ? 0x40 : 0x60);
      parsePacket(pi, b, 0, cap);
      parsePacket(pi, b, 0, b.length);
    }),
    { seed: 42, numRuns: 3000 },
  );
  fc.assert(
    fc.property(arbSpec, fc.nat(), fc.nat(), fc.nat(), (s, cut, pos, bit) => {
      const b = buildPacket(s);
      parsePacket(pi, b, 0, cut % (b.length + 1));
      b[pos % b.length] ^= 1 << (bit % 8);
      parsePacket(pi, b, 0, b.length);
      // offsets stay inside the buffer whenever a layer says Ok
      if (pi.status === WireStatus.Ok) assert.ok(pi.l4Off + pi.l4Len <= b.length);
      if (pi.l4Status === WireStatus.Ok) assert.ok(pi.payloadOff + pi.payloadLen <= b.length);
    }),
    { seed: 7, numRuns: 2000 },
  );
});

test("parse after parse: no state leaks from a previous packet", () => {
  const pi = new PacketInfo();
  const a = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", tcp: { options: { mss: 1000, ts: [1, 2] } } });
  const b = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: {} });
  parsePacket(pi, a, 0, a.length);
  parsePacket(pi, b, 0, b.length);
  const fresh = parse(b);
  for (const k of Object.keys(fresh) as (keyof PacketInfo)[]) {
    if (k === "inner") continue;
    assert.deepEqual(pi[k], fresh[k], String(k));
  }
});

function withByte(p: Uint8Array, i: number, v: number): Uint8Array {
  const c = p.slice();
  c[i] = v;
  return c;
}

function with16(p: Uint8Array, i: number, v: number): Uint8Array {
  const c = p.slice();
  c[i] = v >> 8;
  c[i + 1] = v & 0xff;
  return c;
}

test("IPv6 receive address checks (ip6_rcv_core)", () => {
  const cases: [string, string, boolean, boolean][] = [
    ["fd00::1", "fd00::2", false, true],
    ["::1", "fd00::2", false, false],
    ["fd00::1", "::1", false, false],
    ["::1", "::1", true, true],
    ["fd00::1", "ff01::1", false, false], // interface-local multicast from another node
    ["fd00::1", "ff01::1", true, true],
    ["fd00::1", "ff00::1", true, false], // reserved scope 0
    ["fd00::1", "ff02::1", false, true],
    ["ff02::1", "fd00::2", false, false], // multicast source
  ];
  for (const [src, dst, lo, ok] of cases) {
    const pi = parse(buildPacket({ src, dst, udp: {} }));
    assert.equal(ipv6RcvAddrOk(pi, lo), ok, `${src} > ${dst}${lo ? " (lo)" : ""}`);
  }
});
