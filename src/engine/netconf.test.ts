import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../core/errors.js";
import { formatAddr } from "../wire/addr.js";
import { DstClass, Fib } from "./fib.js";
import { parseIpAddrJson, parseIpRouteJson, RouteType } from "./netconf.js";
import { parseSysctl, sysctlInt } from "./sysctl.js";

const ADDR = JSON.stringify([
  {
    ifindex: 1,
    ifname: "lo",
    flags: ["LOOPBACK", "UP", "LOWER_UP"],
    mtu: 65536,
    link_type: "loopback",
    address: "00:00:00:00:00:00",
    addr_info: [
      { family: "inet", local: "127.0.0.1", prefixlen: 8, scope: "host", label: "lo" },
      { family: "inet6", local: "::1", prefixlen: 128, scope: "host" },
    ],
  },
  {
    ifindex: 2,
    ifname: "lan0",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    mtu: 1500,
    link_type: "ether",
    address: "02:00:00:00:01:01",
    addr_info: [
      { family: "inet", local: "10.77.1.1", prefixlen: 24, broadcast: "10.77.1.255", scope: "global", label: "lan0" },
      { family: "inet", local: "10.77.1.9", prefixlen: 24, scope: "global", secondary: true, label: "lan0" },
      { family: "inet6", local: "fd77:1::1", prefixlen: 64, scope: "global", nodad: true },
      { family: "inet6", local: "fe80::1", prefixlen: 64, scope: "link" },
    ],
  },
  {
    ifindex: 3,
    ifname: "wan0",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    mtu: 1400,
    address: "02:00:00:00:02:01",
    addr_info: [{ family: "inet", local: "10.77.2.1", prefixlen: 24, broadcast: "10.77.2.255", scope: "global" }],
  },
]);

test("ip -j addr: interfaces, MTUs, MACs and addresses in order", () => {
  const ifs = parseIpAddrJson(ADDR, "addr.json");
  assert.deepEqual(
    ifs.map((f) => [f.ifindex, f.name, f.mtu, f.loopback, f.up]),
    [
      [1, "lo", 65536, true, true],
      [2, "lan0", 1500, false, true],
      [3, "wan0", 1400, false, true],
    ],
  );
  assert.deepEqual([...ifs[1].mac!], [2, 0, 0, 0, 1, 1]);
  assert.deepEqual(
    ifs[1].addrs.map((a) => `${formatAddr(a.local, a.family)}/${a.prefixLen}${a.secondary ? " secondary" : ""}`),
    ["10.77.1.1/24", "10.77.1.9/24 secondary", "fd77:1::1/64", "fe80::1/64"],
  );
  assert.equal(ifs[1].addrs[3].scope, 253);
});

test("ip -j addr: errors name the file and the place", () => {
  assert.throws(
    () => parseIpAddrJson("[{", "a.json"),
    (e: unknown) => e instanceof InputError && /^a\.json:1:\d+: invalid JSON/.test(e.message),
  );
  assert.throws(
    () =>
      parseIpAddrJson(
        '[{"ifindex":2,"ifname":"x","addr_info":[{"family":"inet","local":"1.2.3","prefixlen":24}]}]',
        "a.json",
      ),
    /a\.json: \[0\]\.addr_info\[0\]\.local: not an IP address: "1\.2\.3"/,
  );
  assert.throws(() => parseIpAddrJson('{"x":1}', "a.json"), /a\.json: \(top level\): expected an array/);
  assert.throws(
    () => parseIpAddrJson('[{"ifindex":2,"ifname":"x","mtu":10}]', "a.json"),
    /\[0\]\.mtu: MTU 10 out of range/,
  );
  assert.throws(
    () => parseIpAddrJson('[{"ifindex":2,"ifname":"x"},{"ifindex":3,"ifname":"x"}]', "a.json"),
    /\[1\]\.ifname: interface x listed twice/,
  );
});

test("ip -j route: default, connected, typed routes; errors", () => {
  const rs = parseIpRouteJson(
    JSON.stringify([
      { dst: "default", gateway: "10.77.2.2", dev: "wan0" },
      { dst: "10.77.1.0/24", dev: "lan0", protocol: "kernel", scope: "link", prefsrc: "10.77.1.1" },
      { type: "unreachable", dst: "192.0.2.0/24" },
      { type: "blackhole", dst: "198.51.100.7" },
      { dst: "203.0.113.0/24", gateway: "10.77.2.3", dev: "wan0", metrics: [{ mtu: 1280 }] },
    ]),
    4,
  );
  assert.equal(rs.length, 5);
  assert.equal(rs[0].prefixLen, 0);
  assert.equal(formatAddr(rs[0].gateway!, 4), "10.77.2.2");
  assert.equal(rs[2].type, RouteType.Unreachable);
  assert.equal(rs[3].prefixLen, 32);
  assert.equal(rs[4].mtu, 1280);
  assert.throws(
    () => parseIpRouteJson('[{"dst":"fd00::/64","dev":"x"}]', 4, "r.json"),
    /r\.json: \[0\]\.dst: expected an IPv4 address/,
  );
  assert.throws(
    () => parseIpRouteJson('[{"dst":"default","nexthops":[]}]', 4, "r.json"),
    /multipath routes are not supported/,
  );
  assert.throws(() => parseIpRouteJson('[{"dst":"10.0.0.0/33"}]', 4, "r.json"), /bad prefix length/);
  assert.throws(() => parseIpRouteJson('[{"dst":"default","type":"nat"}]', 4, "r.json"), /unknown route type nat/);
});

test("fib: local, broadcast, multicast and longest-prefix routes", () => {
  const ifs = parseIpAddrJson(ADDR);
  const routes = parseIpRouteJson(
    JSON.stringify([
      { dst: "default", gateway: "10.77.2.2", dev: "wan0" },
      { dst: "10.99.0.0/16", gateway: "10.77.1.5", dev: "lan0" },
      { dst: "10.99.3.0/24", gateway: "10.77.2.7", dev: "wan0" },
      { type: "blackhole", dst: "10.99.3.3" },
    ]),
    4,
  );
  const routes6 = parseIpRouteJson(
    JSON.stringify([{ dst: "default", gateway: "fd77:1::5", dev: "lan0", metric: 1024 }]),
    6,
  );
  const fib = new Fib(ifs, routes, routes6);
  const a = (s: string): number => {
    const p = s.split(".").map(Number);
    return (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3] | 0;
  };
  assert.equal(fib.classify4(a("10.77.1.1")), DstClass.Local);
  assert.equal(fib.classify4(a("10.77.2.1")), DstClass.Local);
  assert.equal(fib.classify4(a("127.0.0.5")), DstClass.Local);
  assert.equal(fib.classify4(a("10.77.1.255")), DstClass.Broadcast);
  assert.equal(fib.classify4(a("255.255.255.255")), DstClass.Broadcast);
  assert.equal(fib.classify4(a("224.0.0.1")), DstClass.Multicast);
  assert.equal(fib.classify4(a("224.0.0.251")), DstClass.MulticastOther);
  assert.equal(fib.classify4(a("8.8.8.8")), DstClass.Unicast);
  const via = (d: string): string => {
    const r = fib.lookup4(a(d));
    const route = fib.route(4, r);
    return `${route.dev || route.type} ${route.gateway ? formatAddr(route.gateway, 4) : "direct"}`;
  };
  assert.equal(via("8.8.8.8"), "wan0 10.77.2.2");
  assert.equal(via("10.77.1.77"), "lan0 direct");
  assert.equal(via("10.99.1.1"), "lan0 10.77.1.5");
  assert.equal(via("10.99.3.1"), "wan0 10.77.2.7");
  assert.equal(via("10.99.3.3"), `${RouteType.Blackhole} direct`);
  assert.equal(fib.oif(4, fib.lookup4(a("10.77.2.9"))), 3);
  const v6 = new Int32Array([0xfd770001 | 0, 0, 0, 9]);
  assert.equal(fib.route(6, fib.lookup6(v6)).dev, "lan0");
  assert.equal(fib.classify6(new Int32Array([0xfd770001 | 0, 0, 0, 1])), DstClass.Local);
  assert.equal(fib.classify6(new Int32Array([0xff020000 | 0, 0, 0, 1])), DstClass.Multicast);
  assert.equal(fib.classify6(new Int32Array([0xff020000 | 0, 0, 1, 0xff000001 | 0])), DstClass.Multicast);
  assert.equal(fib.classify6(new Int32Array([0xff020000 | 0, 0, 0, 0xfb])), DstClass.MulticastOther);
});

test("fib: no route", () => {
  const fib = new Fib(parseIpAddrJson(ADDR), [], []);
  assert.equal(fib.lookup4(0x08080808), -1);
});

test("sysctl -a text", () => {
  const s = parseSysctl(
    "net.ipv4.ip_forward = 1\n# comment\n\nnet/netfilter/nf_conntrack_max=65536\nkernel.x =  a b \n",
    "s.txt",
  );
  assert.equal(s.get("net.ipv4.ip_forward"), "1");
  assert.equal(s.get("net.netfilter.nf_conntrack_max"), "65536");
  assert.equal(s.get("kernel.x"), "a b");
  assert.equal(sysctlInt(s, "net.ipv4.ip_forward", 0), 1);
  assert.equal(sysctlInt(s, "absent", 7), 7);
  assert.throws(() => sysctlInt(s, "kernel.x", 0, "s.txt"), /s\.txt: kernel\.x: expected an integer/);
  assert.throws(
    () => parseSysctl("ok = 1\nthis line is wrong\n", "s.txt"),
    /^Error|s\.txt:2:1: expected "key = value"/,
  );
});
