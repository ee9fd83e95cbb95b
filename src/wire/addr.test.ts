import assert from "node:assert/strict";
import { test } from "node:test";
import { AddrSyntaxError, addrFamily, formatAddr, formatIpv6, parseAddr, parseAddrInto } from "./addr.js";

/** glibc inet_ntop output for these 16-byte addresses (recorded with Python's socket.inet_ntop on glibc). */
const GLIBC_NTOP: readonly (readonly [string, string])[] = [
  ["00000000000000000000000000000000", "::"],
  ["00000000000000000000000000000001", "::1"],
  ["00000000000000000000000000000002", "::2"],
  ["00000000000000000000000001020304", "::1.2.3.4"],
  ["00000000000000000000ffff01020304", "::ffff:1.2.3.4"],
  ["00000000000000000000ffff00000000", "::ffff:0.0.0.0"],
  ["00000000000000000000fffe01020304", "::fffe:102:304"],
  ["00010000000000000000000000000000", "1::"],
  ["00010000000000020000000000000003", "1:0:0:2::3"],
  ["00010000000200000000000000030004", "1:0:2::3:4"],
  ["00010000000000020000000000030004", "1::2:0:0:3:4"],
  ["00010000000000000002000000000000", "1::2:0:0:0"],
  ["fd000000000000000000000000000001", "fd00::1"],
  ["fe800000000000000000000000010002", "fe80::1:2"],
  ["00000000000100000000000000000000", "0:0:1::"],
  ["20010db8000000000000ffff01020304", "2001:db8::ffff:102:304"],
  ["00000000000000000001000000000000", "::1:0:0:0"],
  ["00010002000300040005000600070008", "1:2:3:4:5:6:7:8"],
  ["00000001000000010000000100000001", "0:1:0:1:0:1:0:1"],
  ["0000000000000000ffffffff00000000", "::ffff:ffff:0:0"],
  ["0064ff9b000000000000000001020304", "64:ff9b::102:304"],
  ["00000000000000000001000200030004", "::1:2:3:4"],
  ["00000000000000000000000000010000", "::0.1.0.0"],
  ["0000000000000000ffff000001020304", "::ffff:0:102:304"],
  ["0000ca2600000000ffff000000010000", "0:ca26::ffff:0:1:0"],
  ["000000000000ffff0000000000000000", "0:0:0:ffff::"],
  ["ffffffff00000000ffffffffffff0001", "ffff:ffff::ffff:ffff:ffff:1"],
  ["0000ffff000000005c0a0000ffff0000", "0:ffff::5c0a:0:ffff:0"],
  ["000000000000000000011412ffff0000", "::1:1412:ffff:0"],
  ["ffffffff00000000f2bd00009e840000", "ffff:ffff::f2bd:0:9e84:0"],
  ["c58600000000ffff0001000000000001", "c586::ffff:1:0:0:1"],
  ["0001000000010000ffff8e8d00000000", "1:0:1:0:ffff:8e8d::"],
  ["0000000076c30000ffff000000000001", "::76c3:0:ffff:0:0:1"],
  ["ffff0000000100010001000100000000", "ffff:0:1:1:1:1::"],
  ["00010000ffff0000ffffffff00000000", "1:0:ffff:0:ffff:ffff::"],
  ["ffff0000000000010000000100010000", "ffff::1:0:1:1:0"],
  ["0000af6d0001ffff00000000ffff989f", "0:af6d:1:ffff::ffff:989f"],
  ["2e98ffff00000000a8c9ffff0000cd26", "2e98:ffff::a8c9:ffff:0:cd26"],
  ["00000000000000010000000100000000", "::1:0:1:0:0"],
  ["000000000000ffff0001b0212b680001", "::ffff:1:b021:2b68:1"],
  ["0001000100000001cd822b7a00000000", "1:1:0:1:cd82:2b7a::"],
  ["ffffee42fffff2de00000000074affff", "ffff:ee42:ffff:f2de::74a:ffff"],
  ["0001000000000000ffff000000001f2e", "1::ffff:0:0:1f2e"],
  ["0001ffffffffffff0001ffff00000000", "1:ffff:ffff:ffff:1:ffff::"],
  ["ffffffff00000000000000000000ffff", "ffff:ffff::ffff"],
  ["0000000066180001ffff7eccffff0001", "::6618:1:ffff:7ecc:ffff:1"],
  ["00010001000025240001000000004f13", "1:1:0:2524:1::4f13"],
  ["000000000000000100000000ffff0000", "::1:0:0:ffff:0"],
  ["000000002f340000ffff00010001ffff", "::2f34:0:ffff:1:1:ffff"],
  ["ffff0000000000000000000000010001", "ffff::1:1"],
  ["fffffd3d0000000000010000089e0000", "ffff:fd3d::1:0:89e:0"],
  ["ffff000000000000ffff000000000000", "ffff::ffff:0:0:0"],
  ["000000000000ffff0000ffff00000000", "::ffff:0:ffff:0:0"],
  ["00000000ffff00000000dd46ffffffff", "::ffff:0:0:dd46:ffff:ffff"],
  ["9d950000000000010000000024350001", "9d95::1:0:0:2435:1"],
  ["00002b41ffffffff7c03000000000000", "0:2b41:ffff:ffff:7c03::"],
  ["00000000ffff00000000000000000001", "0:0:ffff::1"],
  ["0001ffff000000000000000100010000", "1:ffff::1:1:0"],
  ["9bc500004f7d00000000917f0000dbc5", "9bc5:0:4f7d::917f:0:dbc5"],
  ["ffff083b0000000044240000000119ff", "ffff:83b::4424:0:1:19ff"],
  ["09a50001000000002f1321d100000000", "9a5:1::2f13:21d1:0:0"],
  ["7835000000010000f540000000000000", "7835:0:1:0:f540::"],
  ["8204ffff00000000000032f46f750000", "8204:ffff::32f4:6f75:0"],
  ["00010001ffff00000001000000000000", "1:1:ffff:0:1::"],
];

function wordsOfHex(hex: string): Int32Array {
  const w = new Int32Array(4);
  for (let k = 0; k < 4; k++) w[k] = Number.parseInt(hex.slice(8 * k, 8 * k + 8), 16) | 0;
  return w;
}

test("formatIpv6 prints as glibc inet_ntop", () => {
  for (const [hex, text] of GLIBC_NTOP) {
    assert.equal(formatIpv6(wordsOfHex(hex)), text, hex);
  }
});

test("parseAddr reads what formatAddr prints, and back", () => {
  for (const [hex, text] of GLIBC_NTOP) {
    assert.deepEqual(parseAddr(text), wordsOfHex(hex), text);
  }
});

test("IPv4 dotted quads", () => {
  const w = parseAddr("10.0.0.1");
  assert.deepEqual([...w], [0x0a000001, 0, 0, 0]);
  assert.equal(formatAddr(w, 4), "10.0.0.1");
  assert.equal(formatAddr(parseAddr("255.255.255.255"), 4), "255.255.255.255");
  assert.equal(parseAddr("255.255.255.255")[0], -1);
  assert.equal(addrFamily("192.168.1.1"), 4);
  assert.equal(addrFamily("fd00::1"), 6);
});

test("IPv6 text forms", () => {
  assert.deepEqual([...parseAddr("fd00::1")], [0xfd000000 | 0, 0, 0, 1]);
  assert.deepEqual([...parseAddr("FD00:0:0:0:0:0:0:1")], [0xfd000000 | 0, 0, 0, 1]);
  assert.deepEqual([...parseAddr("::ffff:10.0.0.1")], [0, 0, 0xffff, 0x0a000001]);
  assert.deepEqual([...parseAddr("::")], [0, 0, 0, 0]);
  assert.deepEqual([...parseAddr("1::")], [0x10000, 0, 0, 0]);
});

test("invalid address text is refused", () => {
  const bad = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "01.2.3.4",
    "1.2.3.4 ",
    ":",
    ":::",
    "1:::2",
    "1::2::3",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "12345::",
    "g::",
    "1:",
    ":1",
    "::1.2.3",
    "1:2:3:4:5:6:7:1.2.3.4",
  ];
  const out = new Int32Array(4);
  for (const s of bad) {
    assert.equal(parseAddrInto(out, s), 0, JSON.stringify(s));
    assert.throws(() => parseAddr(s), AddrSyntaxError);
  }
});
