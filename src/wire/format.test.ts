import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { arbSpec } from "../../test/wire/arbitraries.js";
import {
  buildPacket,
  formatPacket,
  formatTcpFlags,
  fragment,
  PacketInfo,
  type PacketSpec,
  parsePacket,
} from "./index.js";

function fmt(b: Uint8Array): string {
  const pi = new PacketInfo();
  parsePacket(pi, b, 0, b.length);
  return formatPacket(pi);
}

const udp4 = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { sport: 1024, dport: 9999, payload: "abcd" } });
const udp6 = buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { sport: 1, dport: 2, payload: "x" } });

/** Expected lines: "= tcpdump" marks lines identical to `tcpdump -nn -S` output for the same packet. */
const CASES: [PacketSpec, string][] = [
  [
    {
      src: "10.0.0.1",
      dst: "10.0.0.2",
      id: 1,
      df: true,
      tcp: {
        sport: 1234,
        dport: 80,
        seq: 1,
        flags: "S",
        options: { mss: 1460, sackPerm: true, ts: [7, 0], wscale: 7 },
      },
    },
    "IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [S], seq 1, win 64240, options [mss 1460,sackOK,TS val 7 ecr 0,nop,wscale 7], length 0", // = tcpdump
  ],
  [
    {
      src: "10.0.0.2",
      dst: "10.0.0.1",
      tcp: {
        sport: 80,
        dport: 1234,
        seq: 100,
        ack: 2,
        flags: "SA",
        options: {
          mss: 1400,
          sack: [
            [1, 2],
            [5, 9],
          ],
        },
      },
    },
    "IP 10.0.0.2.80 > 10.0.0.1.1234: Flags [S.], seq 100, ack 2, win 64240, options [mss 1400,nop,nop,sack 2 {1:2}{5:9}], length 0", // = tcpdump
  ],
  [
    {
      src: "10.0.0.1",
      dst: "10.0.0.2",
      tcp: { sport: 1234, dport: 80, seq: 2, ack: 101, flags: "PAU", urg: 3, payload: "hello" },
    },
    "IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [P.U], seq 2:7, ack 101, win 64240, urg 3, length 5", // = tcpdump (less its HTTP decode)
  ],
  [
    { src: "10.0.0.1", dst: "10.0.0.2", tcp: { sport: 1234, dport: 80, seq: -1, flags: 0xff, payload: "hello" } },
    "IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [FSRP.UEW], seq 4294967295:4, ack 0, win 64240, urg 0, length 5",
  ],
  [
    { src: "10.0.0.1", dst: "10.0.0.2", tcp: { sport: 1234, dport: 80, seq: 2, flags: 0 } },
    "IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [none], win 64240, length 0",
  ], // = tcpdump
  [
    { src: "10.0.0.1", dst: "10.0.0.2", udp: { sport: 1024, dport: 9999, payload: "abcd" } },
    "IP 10.0.0.1.1024 > 10.0.0.2.9999: UDP, length 4",
  ], // = tcpdump
  [
    { src: "10.0.0.1", dst: "10.0.0.2", icmp: { type: 8, id: 1, seq: 2, payload: "abcd" } },
    "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 12",
  ], // = tcpdump
  [
    { src: "10.0.0.2", dst: "10.0.0.1", icmp: { type: 0, id: 1, seq: 2, payload: "abcd" } },
    "IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 1, seq 2, length 12",
  ], // = tcpdump
  [
    { src: "10.0.0.2", dst: "10.0.0.1", icmp: { type: 3, code: 3, embed: udp4 } },
    "IP 10.0.0.2 > 10.0.0.1: ICMP 10.0.0.2 udp port 9999 unreachable, length 40",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 3, code: 4, rest: 1400, embed: udp4 } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP 10.0.0.2 unreachable - need to frag (mtu 1400), length 40",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 3, code: 1, embed: udp4 } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP host 10.0.0.2 unreachable, length 40",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 11, code: 0, embed: udp4 } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP time exceeded in-transit, length 40",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 3, code: 13, embed: udp4 } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP host 10.0.0.2 unreachable - admin prohibited filter, length 40",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 3, code: 2, embed: udp4 } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP 10.0.0.2 protocol 17 unreachable, length 40",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 12, code: 0, rest: 0x08000000, embed: udp4 } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP parameter problem - octet 8, length 40",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 5, code: 1, rest: 0x0a000005, embed: udp4 } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP redirect 10.0.0.2 to host 10.0.0.5, length 40",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 13, id: 5, seq: 6, payload: new Uint8Array(12) } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP time stamp query id 5 seq 6, length 20",
  ], // = tcpdump
  [
    { src: "10.0.0.9", dst: "10.0.0.1", icmp: { type: 42, code: 1, payload: new Uint8Array(4) } },
    "IP 10.0.0.9 > 10.0.0.1: ICMP type-#42, length 12",
  ], // = tcpdump
  [
    { src: "fd00::1", dst: "fd00::2", tcp: { sport: 1234, dport: 80, seq: 1, flags: "S", options: { mss: 1440 } } },
    "IP6 fd00::1.1234 > fd00::2.80: Flags [S], seq 1, win 64240, options [mss 1440], length 0",
  ], // = tcpdump
  [
    { src: "fd00::1", dst: "fd00::2", udp: { sport: 1, dport: 2, payload: "x" } },
    "IP6 fd00::1.1 > fd00::2.2: UDP, length 1",
  ], // = tcpdump
  [
    { src: "fd00::1", dst: "fd00::2", icmp6: { type: 128, id: 1, seq: 2, payload: "abcd" } },
    "IP6 fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 2, length 12",
  ], // = tcpdump
  [
    { src: "fd00::9", dst: "fd00::1", icmp6: { type: 1, code: 4, embed: udp6 } },
    "IP6 fd00::9 > fd00::1: ICMP6, destination unreachable, unreachable port, fd00::2 udp port 2, length 57",
  ], // = tcpdump
  [
    { src: "fd00::9", dst: "fd00::1", icmp6: { type: 1, code: 3, embed: udp6 } },
    "IP6 fd00::9 > fd00::1: ICMP6, destination unreachable, unreachable address fd00::2, length 57",
  ], // = tcpdump
  [
    { src: "fd00::9", dst: "fd00::1", icmp6: { type: 2, rest: 1280, embed: udp6 } },
    "IP6 fd00::9 > fd00::1: ICMP6, packet too big, mtu 1280, length 57",
  ], // = tcpdump
  [
    { src: "fd00::9", dst: "fd00::1", icmp6: { type: 3, code: 0, embed: udp6 } },
    "IP6 fd00::9 > fd00::1: ICMP6, time exceeded in-transit for fd00::2, length 57",
  ], // = tcpdump
  [
    { src: "fd00::9", dst: "fd00::1", icmp6: { type: 4, code: 1, rest: 40, embed: udp6 } },
    "IP6 fd00::9 > fd00::1: ICMP6, parameter problem, next header - octet 40, length 57",
  ], // = tcpdump
  [
    { src: "fd00::9", dst: "fd00::1", icmp6: { type: 135, payload: new Uint8Array(16) } },
    "IP6 fd00::9 > fd00::1: ICMP6, neighbor solicitation, who has ::, length 24",
  ], // = tcpdump
  [
    {
      src: "fd00::1",
      dst: "fd00::2",
      ext: [{ type: "hop" }, { type: "dst" }],
      tcp: { sport: 1, dport: 2, flags: "R", seq: 5 },
    },
    "IP6 fd00::1 > fd00::2: HBH DSTOPT 1 > 2: Flags [R], seq 5, win 64240, length 0",
  ], // = tcpdump
  [{ src: "fd00::1", dst: "fd00::2", proto: 59, payload: [] }, "IP6 fd00::1 > fd00::2: no next header"], // = tcpdump
  [
    { src: "10.0.0.1", dst: "10.0.0.2", proto: 99, payload: new Uint8Array(3) },
    "IP 10.0.0.1 > 10.0.0.2: ip-proto-99 3",
  ],
  [
    { src: "10.0.0.1", dst: "10.0.0.2", udp: { payload: "abcd", len: 50 } },
    "IP 10.0.0.1.1024 > 10.0.0.2.53: UDP, bad length 50 > 12",
  ],
  [
    { src: "10.0.0.1", dst: "10.0.0.2", tcp: { dataOffset: 3 } },
    "IP 10.0.0.1.1024 > 10.0.0.2.80: tcp 20 [bad hdr length 12 - too short, < 20]",
  ],
  [
    { src: "10.0.0.1", dst: "10.0.0.2", tcp: { options: { raw: [30, 0] } } },
    "IP 10.0.0.1.1024 > 10.0.0.2.80: Flags [S], seq 0, win 64240, options [[bad opt]], length 0",
  ],
  [{ src: "10.0.0.1", dst: "10.0.0.2", ihl: 4, udp: {} }, "IP bad-hlen 16"], // = tcpdump
  [{ src: "10.0.0.1", dst: "10.0.0.2", proto: 6, payload: new Uint8Array(10) }, "IP 10.0.0.1 > 10.0.0.2: [|tcp]"],
  [
    { src: "10.0.0.1", dst: "10.0.0.2", ipOptions: [7, 3, 3, 0], udp: {} },
    "IP 10.0.0.1 > 10.0.0.2: [bad IPv4 options at byte 22], proto 17, length 32",
  ],
];

test("one-line format, checked against tcpdump -nn -S where marked", () => {
  for (const [spec, line] of CASES) assert.equal(fmt(buildPacket(spec)), line);
});

test("truncated and fragmented packets", () => {
  const big = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", totalLen: 200, udp: { payload: "abcd" } });
  assert.equal(fmt(big), "IP 10.0.0.1 > 10.0.0.2: truncated-ip - 168 bytes missing!");
  const fr = fragment(
    buildPacket({
      src: "10.0.0.1",
      dst: "10.0.0.2",
      id: 4321,
      udp: { sport: 5, dport: 6, payload: new Uint8Array(100) },
    }),
    60,
  );
  assert.deepEqual(fr.map(fmt), [
    "IP 10.0.0.1.5 > 10.0.0.2.6: UDP, length 100 (frag 4321:40@0+)",
    "IP 10.0.0.1 > 10.0.0.2: ip-proto-17 (frag 4321:40@40+)",
    "IP 10.0.0.1 > 10.0.0.2: ip-proto-17 (frag 4321:28@80)",
  ]);
  const fr6 = fragment(
    buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { sport: 7, dport: 8, payload: new Uint8Array(100) } }),
    100,
    { id: 77 },
  );
  // = tcpdump for all three
  assert.deepEqual(fr6.map(fmt), [
    "IP6 fd00::1 > fd00::2: frag (0|48) 7 > 8: UDP, length 100",
    "IP6 fd00::1 > fd00::2: frag (48|48)",
    "IP6 fd00::1 > fd00::2: frag (96|12)",
  ]);
  assert.equal(fmt(new Uint8Array(0)), "not IP");
  assert.equal(fmt(Uint8Array.from([0x45, 0, 0])), "IP truncated-ip (3 bytes)");
  assert.equal(fmt(Uint8Array.from([0x75, 0, 0])), "IP bad-version 7");
  assert.equal(formatTcpFlags(0x12), "S.");
});

test("property: format never throws on damaged packets", () => {
  const pi = new PacketInfo();
  fc.assert(
    fc.property(arbSpec, fc.nat(), fc.nat(), fc.nat(), (s, cut, pos, bit) => {
      const b = buildPacket(s);
      b[pos % b.length] ^= 1 << (bit % 8);
      parsePacket(pi, b, 0, cut % (b.length + 1));
      assert.equal(typeof formatPacket(pi), "string");
      parsePacket(pi, b, 0, b.length);
      assert.equal(typeof formatPacket(pi), "string");
    }),
    { seed: 5, numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      if (b.length > 0) b[0] = (b[0] & 0x0f) | ((b.length & 1) === 0 ? 0x40 : 0x60);
      parsePacket(pi, b, 0, b.length);
      formatPacket(pi);
    }),
    { seed: 6, numRuns: 2000 },
  );
});
