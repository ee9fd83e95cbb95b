/**
 * `ip -j addr` / `ip -j route` JSON of the wrong shape: each mistake is an InputError whose one-line
 * message names the file and the JSON path (or the line and column of a syntax error). One case per
 * message of src/engine/netconf.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isInputError } from "../../src/core/errors.js";
import { parseIpAddrJson, parseIpRouteJson } from "../../src/engine/netconf.js";

const LAN = {
  ifindex: 2,
  ifname: "lan0",
  flags: ["UP"],
  mtu: 1500,
  link_type: "ether",
  address: "02:00:00:77:01:01",
  addr_info: [
    { family: "inet", local: "10.77.1.1", prefixlen: 24, scope: "global" },
    { family: "inet6", local: "fd77:1::1", prefixlen: 64 },
  ],
};

/** a copy of LAN with `edit` applied */
function lan(edit: (o: Record<string, unknown>) => void): Record<string, unknown> {
  const o = structuredClone(LAN) as Record<string, unknown>;
  edit(o);
  return o;
}
const addr0 = (o: Record<string, unknown>): Record<string, unknown> => (o.addr_info as Record<string, unknown>[])[0]!;

const ADDR_CASES: [string, string, string][] = [
  ["not JSON", '[{"ifindex": 2,}]', "addr.json:1:16: invalid JSON: Expected double-quoted property name"],
  ["empty file", "", "addr.json: invalid JSON: Unexpected end of JSON input"],
  ["top level an object", "{}", "addr.json: (top level): expected an array (expected `ip -j addr` output)"],
  ["item not an object", "[3]", "addr.json: [0]: expected an object (expected `ip -j addr` output)"],
  [
    "ifname missing",
    JSON.stringify([lan((o) => delete o.ifname)]),
    "addr.json: [0].ifname: expected a string (expected `ip -j addr` output)",
  ],
  [
    "ifname twice",
    JSON.stringify([LAN, lan((o) => (o.ifindex = 3))]),
    "addr.json: [1].ifname: interface lan0 listed twice (expected `ip -j addr` output)",
  ],
  [
    "ifindex a string",
    JSON.stringify([lan((o) => (o.ifindex = "2"))]),
    "addr.json: [0].ifindex: expected a number (expected `ip -j addr` output)",
  ],
  [
    "ifindex zero",
    JSON.stringify([lan((o) => (o.ifindex = 0))]),
    "addr.json: [0].ifindex: interface index 0 is not a positive integer (expected `ip -j addr` output)",
  ],
  [
    "ifindex fractional",
    JSON.stringify([lan((o) => (o.ifindex = 2.5))]),
    "addr.json: [0].ifindex: interface index 2.5 is not a positive integer (expected `ip -j addr` output)",
  ],
  [
    "ifindex twice",
    JSON.stringify([LAN, lan((o) => (o.ifname = "wan0"))]),
    "addr.json: [1].ifindex: interface index 2 listed twice (expected `ip -j addr` output)",
  ],
  [
    "flags not an array",
    JSON.stringify([lan((o) => (o.flags = "UP"))]),
    "addr.json: [0].flags: expected an array (expected `ip -j addr` output)",
  ],
  [
    "a flag not a string",
    JSON.stringify([lan((o) => (o.flags = [1]))]),
    "addr.json: [0].flags[0]: expected a string (expected `ip -j addr` output)",
  ],
  [
    "link_type a number",
    JSON.stringify([lan((o) => (o.link_type = 1))]),
    "addr.json: [0].link_type: expected a string (expected `ip -j addr` output)",
  ],
  [
    "mtu a string",
    JSON.stringify([lan((o) => (o.mtu = "1500"))]),
    "addr.json: [0].mtu: expected a number (expected `ip -j addr` output)",
  ],
  [
    "mtu too small",
    JSON.stringify([lan((o) => (o.mtu = 67))]),
    "addr.json: [0].mtu: MTU 67 out of range 68..65536 (expected `ip -j addr` output)",
  ],
  [
    "mtu too big",
    JSON.stringify([lan((o) => (o.mtu = 70000))]),
    "addr.json: [0].mtu: MTU 70000 out of range 68..65536 (expected `ip -j addr` output)",
  ],
  [
    "MAC malformed",
    JSON.stringify([lan((o) => (o.address = "02:00:zz"))]),
    'addr.json: [0].address: not a link-layer address: "02:00:zz" (expected `ip -j addr` output)',
  ],
  [
    "addr_info not an array",
    JSON.stringify([lan((o) => (o.addr_info = {}))]),
    "addr.json: [0].addr_info: expected an array (expected `ip -j addr` output)",
  ],
  [
    "address not an object",
    JSON.stringify([lan((o) => (o.addr_info = ["10.0.0.1"]))]),
    "addr.json: [0].addr_info[0]: expected an object (expected `ip -j addr` output)",
  ],
  [
    "family missing",
    JSON.stringify([lan((o) => delete addr0(o).family)]),
    "addr.json: [0].addr_info[0].family: expected a string (expected `ip -j addr` output)",
  ],
  [
    "local missing",
    JSON.stringify([lan((o) => delete addr0(o).local)]),
    "addr.json: [0].addr_info[0].local: expected a string (expected `ip -j addr` output)",
  ],
  [
    "local not an address",
    JSON.stringify([lan((o) => (addr0(o).local = "10.77.1"))]),
    'addr.json: [0].addr_info[0].local: not an IP address: "10.77.1" (expected `ip -j addr` output)',
  ],
  [
    "local of the other family",
    JSON.stringify([lan((o) => (addr0(o).local = "fd00::1"))]),
    "addr.json: [0].addr_info[0].local: expected an IPv4 address, found fd00::1 (expected `ip -j addr` output)",
  ],
  [
    "prefixlen a string",
    JSON.stringify([lan((o) => (addr0(o).prefixlen = "24"))]),
    "addr.json: [0].addr_info[0].prefixlen: expected a number (expected `ip -j addr` output)",
  ],
  [
    "prefixlen 33",
    JSON.stringify([lan((o) => (addr0(o).prefixlen = 33))]),
    "addr.json: [0].addr_info[0].prefixlen: prefix length 33 out of range (expected `ip -j addr` output)",
  ],
  [
    "prefixlen negative",
    JSON.stringify([lan((o) => (addr0(o).prefixlen = -1))]),
    "addr.json: [0].addr_info[0].prefixlen: prefix length -1 out of range (expected `ip -j addr` output)",
  ],
  [
    "prefixlen 129 (IPv6)",
    JSON.stringify([lan((o) => ((o.addr_info as Record<string, unknown>[])[1]!.prefixlen = 129))]),
    "addr.json: [0].addr_info[1].prefixlen: prefix length 129 out of range (expected `ip -j addr` output)",
  ],
  [
    "scope unknown",
    JSON.stringify([lan((o) => (addr0(o).scope = "galaxy"))]),
    "addr.json: [0].addr_info[0].scope: unknown scope galaxy (expected `ip -j addr` output)",
  ],
  [
    "scope named like an Object property",
    JSON.stringify([lan((o) => (addr0(o).scope = "constructor"))]),
    "addr.json: [0].addr_info[0].scope: unknown scope constructor (expected `ip -j addr` output)",
  ],
  [
    "scope a number",
    JSON.stringify([lan((o) => (addr0(o).scope = 0))]),
    "addr.json: [0].addr_info[0].scope: expected a string (expected `ip -j addr` output)",
  ],
  [
    "peer address bad",
    JSON.stringify([lan((o) => (addr0(o).address = "x"))]),
    'addr.json: [0].addr_info[0].address: not an IP address: "x" (expected `ip -j addr` output)',
  ],
  [
    "broadcast IPv6",
    JSON.stringify([lan((o) => (addr0(o).broadcast = "fd00::ff"))]),
    "addr.json: [0].addr_info[0].broadcast: expected an IPv4 address, found fd00::ff (expected `ip -j addr` output)",
  ],
];

const ROUTE_CASES: [string, string, string][] = [
  ["not JSON", "[{", "route.json:1:3: invalid JSON: Expected property name or '}'"],
  ["top level a string", '"default"', "route.json: (top level): expected an array (expected `ip -j route` output)"],
  ["item not an object", "[null]", "route.json: [0]: expected an object (expected `ip -j route` output)"],
  [
    "multipath",
    JSON.stringify([{ dst: "default", nexthops: [] }]),
    "route.json: [0].nexthops: multipath routes are not supported (expected `ip -j route` output)",
  ],
  [
    "type unknown",
    JSON.stringify([{ dst: "default", type: "wormhole" }]),
    "route.json: [0].type: unknown route type wormhole (expected `ip -j route` output)",
  ],
  [
    "type named like an Object property",
    JSON.stringify([{ dst: "default", type: "toString" }]),
    "route.json: [0].type: unknown route type toString (expected `ip -j route` output)",
  ],
  [
    "dst missing",
    JSON.stringify([{ dev: "lan0" }]),
    "route.json: [0].dst: expected a string (expected `ip -j route` output)",
  ],
  [
    "dst not an address",
    JSON.stringify([{ dst: "10.0.0/8" }]),
    'route.json: [0].dst: not an IP address: "10.0.0" (expected `ip -j route` output)',
  ],
  [
    "dst of the other family",
    JSON.stringify([{ dst: "fd00::/8" }]),
    "route.json: [0].dst: expected an IPv4 address, found fd00:: (expected `ip -j route` output)",
  ],
  [
    "prefix length 33",
    JSON.stringify([{ dst: "10.0.0.0/33" }]),
    "route.json: [0].dst: bad prefix length in 10.0.0.0/33 (expected `ip -j route` output)",
  ],
  [
    "prefix length not a number",
    JSON.stringify([{ dst: "10.0.0.0/x" }]),
    "route.json: [0].dst: bad prefix length in 10.0.0.0/x (expected `ip -j route` output)",
  ],
  [
    "metrics not an array",
    JSON.stringify([{ dst: "default", metrics: {} }]),
    "route.json: [0].metrics: expected an array (expected `ip -j route` output)",
  ],
  [
    "metric entry not an object",
    JSON.stringify([{ dst: "default", metrics: [1] }]),
    "route.json: [0].metrics[0]: expected an object (expected `ip -j route` output)",
  ],
  [
    "mtu metric a string",
    JSON.stringify([{ dst: "default", metrics: [{ mtu: "1400" }] }]),
    "route.json: [0].metrics[0].mtu: expected a number (expected `ip -j route` output)",
  ],
  [
    "gateway bad",
    JSON.stringify([{ dst: "default", gateway: "10.77.2" }]),
    'route.json: [0].gateway: not an IP address: "10.77.2" (expected `ip -j route` output)',
  ],
  [
    "dev a number",
    JSON.stringify([{ dst: "default", dev: 3 }]),
    "route.json: [0].dev: expected a string (expected `ip -j route` output)",
  ],
  [
    "prefsrc of the other family",
    JSON.stringify([{ dst: "default", prefsrc: "::1" }]),
    "route.json: [0].prefsrc: expected an IPv4 address, found ::1 (expected `ip -j route` output)",
  ],
  [
    "metric a string",
    JSON.stringify([{ dst: "default", metric: "100" }]),
    "route.json: [0].metric: expected a number (expected `ip -j route` output)",
  ],
];

function refused(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isInputError(e), `an InputError, not ${String(e)}`);
    const m = (e as Error).message;
    assert.ok(!m.includes("\n"), "one line");
    assert.equal(m.replace(/ \(line \d+ column \d+\)/, "").replace(/ in JSON at position \d+/, ""), message);
    return true;
  });
}

for (const [name, text, message] of ADDR_CASES) {
  test(`ip -j addr: ${name}`, () => refused(() => parseIpAddrJson(text, "addr.json"), message));
}
for (const [name, text, message] of ROUTE_CASES) {
  test(`ip -j route: ${name}`, () => refused(() => parseIpRouteJson(text, 4, "route.json"), message));
}

test("ip -j -6 route: an IPv4 route in the IPv6 file", () => {
  refused(
    () => parseIpRouteJson(JSON.stringify([{ dst: "10.0.0.0/8" }]), 6, "route6.json"),
    "route6.json: [0].dst: expected an IPv6 address, found 10.0.0.0 (expected `ip -j -6 route` output)",
  );
});

test("the shapes ip really prints still load (tunnels print an IPv4 address as their link address)", () => {
  const ifs = parseIpAddrJson(
    JSON.stringify([
      LAN,
      { ifindex: 7, ifname: "gre1", link_type: "gre", address: "0.0.0.0", addr_info: [] },
      {
        ifindex: 8,
        ifname: "tun0",
        link_type: "none",
        addr_info: [{ family: "inet", local: "10.8.0.1", prefixlen: 32, scope: "253" }],
      },
    ]),
    "addr.json",
  );
  assert.deepEqual(
    ifs.map((f) => [f.ifindex, f.name, f.mac === null]),
    [
      [2, "lan0", false],
      [7, "gre1", true],
      [8, "tun0", true],
    ],
  );
});
