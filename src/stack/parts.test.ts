/**
 * Unit tests of the stack's parts: sysctl reading, the rate limiters, IPv4 options, TableRoutes.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isInputError } from "../core/errors.js";
import { buildPacket } from "../wire/build.js";
import { verifyIpv4HeaderChecksum } from "../wire/checksum.js";
import { PacketInfo, WireStatus } from "../wire/packet-info.js";
import { parsePacket } from "../wire/parse.js";
import { msecsToJiffies, StackConfig, setIcmp6Ratemask, stackConfigFromSysctls } from "./config.js";
import {
  ADDR6_ANY,
  ADDR6_LINKLOCAL,
  ADDR6_LOOPBACK,
  ADDR6_MAPPED,
  ADDR6_MULTICAST,
  ADDR6_UNICAST,
  ipv6AddrType,
  SkipResult,
  skipExtHeaders6,
} from "./emit.js";
import {
  echoIpv4Options,
  Ipv4RxOptions,
  ipv4ForwardOptions,
  ipv4OptionsReceive,
  OPTIONS_DROP,
  OPTIONS_OK,
} from "./ipv4-options.js";
import { IcmpLimiter } from "./ratelimit.js";
import { AddrClass, StackRoute, TableRoutes } from "./routes.js";
import { StackIcmpKind } from "./stack.js";
import { a4, a6, ctx, env, LAN, testRoutes, WAN } from "./testdata/fixture.js";
import { maskUnreproducible } from "./testdata/harness.js";

describe("StackConfig from sysctls", () => {
  test("Linux defaults", () => {
    const c = stackConfigFromSysctls(new Map(), 250);
    const d = new StackConfig();
    assert.equal(c.icmpRatelimit, 250);
    assert.equal(c.icmp6Ratelimit, 25);
    assert.equal(c.icmpRatemask, 0x1818);
    assert.equal(c.icmpMsgsPerSec, 1000);
    assert.equal(c.icmpMsgsBurst, 50);
    assert.deepEqual([...c.icmp6Ratemask], [...d.icmp6Ratemask]);
    // 0-1,3-127: bit 2 (packet too big) clear, 128 and up clear
    assert.equal(c.icmp6Ratemask[0], 0xfb);
    assert.equal(c.icmp6Ratemask[16], 0);
  });

  test("milliseconds become jiffies, rounded up; other keys as they are", () => {
    const c = stackConfigFromSysctls(
      new Map([
        ["net.ipv4.icmp_ratelimit", "10"],
        ["net.ipv6.icmp.ratelimit", "1"],
        ["net.ipv4.icmp_ratemask", "2048"],
        ["net.ipv6.icmp.ratemask", "1,3-4"],
        ["net.ipv4.icmp_echo_ignore_all", "1"],
        ["net.ipv4.ip_default_ttl", "100"],
      ]),
      250,
    );
    assert.equal(c.icmpRatelimit, 3);
    assert.equal(c.icmp6Ratelimit, 1);
    assert.equal(c.icmpRatemask, 2048);
    assert.equal(c.icmp6Ratemask[0], 0b11010);
    assert.equal(c.icmpEchoIgnoreAll, true);
    assert.equal(c.ipDefaultTtl, 100);
    assert.equal(msecsToJiffies(1000, 100), 100);
    assert.equal(msecsToJiffies(0, 250), 0);
  });

  test("bad values are InputErrors", () => {
    assert.throws(() => stackConfigFromSysctls(new Map([["net.ipv4.icmp_ratelimit", "fast"]])), isInputError);
    assert.throws(() => setIcmp6Ratemask(new Uint8Array(32), "5-3"), isInputError);
    assert.throws(() => setIcmp6Ratemask(new Uint8Array(32), "300"), isInputError);
    const m = new Uint8Array(32);
    setIcmp6Ratemask(m, "");
    assert.equal(
      m.reduce((a, b) => a + b, 0),
      0,
    );
  });
});

describe("IcmpLimiter", () => {
  test("redirects: the n-th waits redirect_load << n, at most redirect_number, then silence starts over and clears the ICMP tokens", () => {
    const l = new IcmpLimiter(250, 1000, 50);
    const load = 5;
    const silence = 5 * 1024;
    const p = l.peer4(0x0a4d010a, 10_000);
    const sent: number[] = [];
    // a packet every 25 jiffies (100 ms at HZ 250) for 20 s
    for (let t = 10_000; t < 15_000; t += 25) {
      if (l.redirectAllow(p, t, load, 9, silence)) {
        l.redirectSent(p, t);
        sent.push(t - 10_000);
      }
    }
    // the first at once, each next more than 10, 20, 40 ... 1280 jiffies after the previous: 9 in all
    assert.deepEqual(sent, [0, 25, 50, 100, 200, 375, 700, 1350, 2650]);
    // every refused packet moved the peer's last-use time (the last at 4975): no silence yet at 4975 + silence
    assert.equal(l.redirectAllow(p, 14_975 + silence, load, 9, silence), false);
    // after redirect_silence without packets the peer starts over; a redirect sent now leaves it no
    // ICMP error tokens (they share the peer's last-use time)
    const t2 = 14_975 + 2 * silence + 1;
    assert.equal(l.redirectAllow(p, t2, load, 9, silence), true);
    l.redirectSent(p, t2);
    assert.equal(l.xrlimAllow(4, p, 250, t2), false);
    assert.equal(l.xrlimAllow(4, p, 250, t2 + 250), true);
  });

  test("global: starts full, refills only after HZ/50, capped at the burst, allows once per refill", () => {
    const l = new IcmpLimiter(250, 1000, 50);
    let n = 0;
    while (l.globalAllow(1000)) {
      l.globalConsume();
      if (++n > 100) break;
    }
    assert.equal(n, 50);
    assert.equal(l.globalAllow(1004), false); // 4 jiffies < 5
    assert.equal(l.globalAllow(1005), true); // +20 credits
    assert.equal(l.credit, 20);
    // a draw of 0 consumes nothing; of 2, two
    l.consumeDraw = () => 2;
    l.globalConsume();
    assert.equal(l.credit, 18);
  });

  test("global: an empty bucket with too small a rate never refills within a jiffy budget", () => {
    const l = new IcmpLimiter(250, 10, 5);
    l.credit = 0;
    l.stamp = 0;
    assert.equal(l.globalAllow(5), false); // 10 * 5 / 250 = 0 credits
    assert.equal(l.globalAllow(25), true); // 10 * 25 / 250 = 1
  });

  test("peer: a fresh peer has the full burst of 6; tokens >= cost pass", () => {
    const l = new IcmpLimiter(250, 1000, 50);
    const p = l.peer4(a4("10.0.0.5"), 1e6);
    let n = 0;
    while (l.xrlimAllow(4, p, 250, 1e6)) n++;
    assert.equal(n, 6);
    assert.equal(l.xrlimAllow(4, p, 250, 1e6 + 249), false);
    assert.equal(l.xrlimAllow(4, p, 250, 1e6 + 250), true);
  });

  test("peer tables grow and forget peers idle for a minute, keeping the others", () => {
    const l = new IcmpLimiter(250, 1000, 50);
    const keep = l.peer4(a4("192.0.2.99"), 0);
    l.xrlimAllow(4, keep, 250, 0);
    for (let i = 0; i < 5000; i++) l.peer4(i * 7919, 20000 + i);
    const again = l.peer4(a4("192.0.2.99"), 20000 + 5000);
    // idle for 100 s: forgotten, so it comes back fresh (same as Linux: full bucket)
    assert.equal(l.xrlimAllow(4, again, 250, 25000), true);
    assert.ok(l.peerCount <= 5002);
    const a = new Int32Array([1, 2, 3, 4]);
    const p6 = l.peer6(a, 0);
    assert.equal(l.peer6(a, 1), p6);
  });
});

describe("IPv4 options", () => {
  function pkt(opts: number[], dst = "10.0.0.1"): PacketInfo {
    const b = buildPacket({ src: "10.0.0.5", dst, ipOptions: opts, udp: { dport: 7 } });
    const pi = new PacketInfo();
    parsePacket(pi, b, 0, b.length);
    return pi;
  }
  const routes = testRoutes();

  test("record route on receive: our address in the next slot, pointer advanced, checksum left", () => {
    const pi = pkt([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    const before = pi.buf.slice(10, 12);
    assert.equal(ipv4OptionsReceive(pi, a4("10.0.0.1"), 0, routes), OPTIONS_OK);
    assert.deepEqual([...pi.buf.subarray(20, 31)], [7, 11, 8, 10, 0, 0, 1, 0, 0, 0, 0]);
    assert.deepEqual([...pi.buf.subarray(10, 12)], [...before]);
    // echo: copied, next slot claimed with the answer's source
    const out = new Uint8Array(64);
    const n = echoIpv4Options(pi.buf, 0, pi.ipHeaderLen, out, 0, a4("10.0.0.1"), 0);
    assert.equal(n, 12);
    assert.deepEqual([...out.subarray(0, 12)], [7, 11, 12, 10, 0, 0, 1, 10, 0, 0, 1, 0]);
  });

  test("a full record route is echoed as it is", () => {
    const pi = pkt([7, 7, 8, 1, 2, 3, 4]);
    assert.equal(ipv4OptionsReceive(pi, a4("10.0.0.1"), 0, routes), OPTIONS_OK);
    const out = new Uint8Array(64);
    assert.equal(echoIpv4Options(pi.buf, 0, pi.ipHeaderLen, out, 0, 1, 0), 8);
    assert.deepEqual([...out.subarray(0, 8)], [7, 7, 8, 1, 2, 3, 4, 0]);
  });

  test("timestamp only: the time in ms since midnight", () => {
    const pi = pkt([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(ipv4OptionsReceive(pi, a4("10.0.0.1"), 86400 + 1.5, routes), OPTIONS_OK);
    assert.deepEqual([...pi.buf.subarray(20, 32)], [68, 12, 9, 0, 0, 0, 0x05, 0xdc, 0, 0, 0, 0]);
    const full = pkt([68, 4, 5, 0x10]);
    ipv4OptionsReceive(full, 1, 0, routes);
    assert.equal(full.buf[23], 0x20); // overflow counted
  });

  test("malformed options point at the fault; source routes are dropped", () => {
    assert.equal(ipv4OptionsReceive(pkt([7, 11, 2, 0, 0, 0, 0, 0, 0, 0, 0]), 1, 0, routes), 22);
    assert.equal(ipv4OptionsReceive(pkt([7, 3, 4, 7, 3, 4]), 1, 0, routes), 23);
    assert.equal(ipv4OptionsReceive(pkt([131, 7, 4, 1, 2, 3, 4]), 1, 0, routes), OPTIONS_DROP);
    assert.equal(ipv4OptionsReceive(pkt([134, 10, 0, 0, 0, 1, 0, 0, 0, 0]), 1, 0, routes), 22);
  });

  test("forwarding writes the outgoing address into the claimed slot and fixes the checksum", () => {
    const pi = pkt([7, 15, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "198.51.100.7");
    const rec = new Ipv4RxOptions();
    assert.equal(ipv4OptionsReceive(pi, a4("10.0.0.1"), 0, routes, rec), OPTIONS_OK);
    assert.equal(rec.rr, 20);
    assert.equal(rec.rrNeedaddr, true);
    assert.equal(ipv4ForwardOptions(pi, rec, a4("192.0.2.1")), true);
    assert.deepEqual([...pi.buf.subarray(20, 27)], [7, 15, 8, 192, 0, 2, 1]);
    assert.ok(verifyIpv4HeaderChecksum(pi));
  });

  test("a timestamp option longer than the header: parameter problem pointing at it (kernel bytes)", () => {
    // recorded: the datagram Linux 6.18 answered, and its answer (ct-checksums-options scenario)
    const input = Uint8Array.from(
      Buffer.from(
        "4800003100010000401117090a4d01020a4d0202441405010000000000000000bbea13890011f20974696d657374616d70",
        "hex",
      ),
    );
    const kernel =
      "45c0004d7e4900004001e50a0a4d01010a4d01020c00f7bf140000004800003100010000401117090a4d01020a4d0202441405010000000000000000bbea13890011f20974696d657374616d70";
    const routes4 = new TableRoutes([
      { ifindex: 2, mtu: 1500, addrs: ["10.77.1.1/24"] },
      { ifindex: 3, mtu: 1500, addrs: ["10.77.2.1/24"] },
    ]);
    const e = env(undefined, routes4);
    const c = ctx(input, { inIf: 2 });
    // (parse status Ok or BadOptions: either way Linux's option walk finds the fault)
    assert.ok(c.pi.status === WireStatus.Ok || c.pi.status === WireStatus.BadOptions);
    const ptr = ipv4OptionsReceive(c.pi, a4("10.77.1.1"), 0, routes4);
    assert.equal(ptr, 20);
    const n = e.stack.icmpError(c, StackIcmpKind.ParamProblem, ptr, e.out);
    const mine = e.out.slice(0, n);
    const k = Uint8Array.from(Buffer.from(kernel, "hex"));
    assert.deepEqual(maskUnreproducible(mine, k), ["ip.id"]);
    assert.equal(Buffer.from(mine).toString("hex"), kernel);
  });

  test("padding after the end of the list is zeroed", () => {
    const pi = pkt([1, 0, 7, 7]);
    assert.equal(ipv4OptionsReceive(pi, 1, 0, routes), OPTIONS_OK);
    assert.deepEqual([...pi.buf.subarray(20, 24)], [1, 0, 0, 0]);
  });
});

describe("TableRoutes and address helpers", () => {
  test("classify, route, source selection", () => {
    const r = testRoutes([{ dst: "198.51.100.0/24", via: "192.0.2.254", src: "192.0.2.1", mtu: 1400 }]);
    assert.equal(r.classify4(a4("10.0.0.1")), AddrClass.Local);
    assert.equal(r.classify4(a4("10.0.0.255")), AddrClass.Broadcast);
    assert.equal(r.classify4(a4("127.3.3.3")), AddrClass.Local);
    assert.equal(r.classify4(a4("8.8.8.8")), AddrClass.Unicast);
    assert.equal(r.classify6(a6("ff02::1")), AddrClass.Multicast);
    assert.equal(r.classify6(a6("fd00:2::1")), AddrClass.Local);
    const out = new StackRoute();
    assert.ok(r.route4(a4("198.51.100.3"), out));
    assert.equal(out.oif, WAN);
    assert.equal(out.mtu, 1400);
    assert.equal(out.hasPrefsrc, true);
    assert.ok(r.route4(a4("10.0.0.9"), out));
    assert.equal(out.src[0], a4("10.0.0.1"));
    assert.ok(r.route6(a6("fe80::9"), LAN, out));
    assert.deepEqual([...out.src], [...a6("fe80::1")]);
    assert.equal(r.route6(a6("fe80::9"), -1, out), false);
    assert.ok(r.route6(a6("2001:db8::1"), -1, out));
    assert.deepEqual([...out.src], [...a6("fd00:2::1")]);
  });

  test("ipv6AddrType and the extension-header walk", () => {
    assert.equal(ipv6AddrType(a6("::")), ADDR6_ANY);
    assert.equal(ipv6AddrType(a6("::1")), ADDR6_UNICAST | ADDR6_LOOPBACK);
    assert.equal(ipv6AddrType(a6("::ffff:1.2.3.4")), ADDR6_MAPPED);
    assert.equal(ipv6AddrType(a6("fe80::1")), ADDR6_UNICAST | ADDR6_LINKLOCAL);
    assert.equal(ipv6AddrType(a6("ff02::1")) & ADDR6_MULTICAST, ADDR6_MULTICAST);
    assert.equal(ipv6AddrType(a6("2001:db8::1")), ADDR6_UNICAST);
    const b = buildPacket({
      src: "fd00:1::5",
      dst: "fd00:1::1",
      ext: [{ type: "hop" }, { type: "fragment", offset: 16 }],
      udp: {},
    });
    const r = skipExtHeaders6(b, 40, b.length, b[6], new SkipResult());
    assert.equal(r.nextHeader, 44); // Linux stops AT a later fragment's header
    assert.equal(r.off, 48);
  });
});
