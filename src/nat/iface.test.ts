import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  IFA_F,
  inetSelectAddr,
  ipv6AddrLabel,
  ipv6AddrType,
  ipv6DevGetSaddr,
  NatInterfaces,
  parseIpv4,
  parseIpv6,
  RT_SCOPE,
  redirectAddr4,
  redirectAddr6,
} from "./iface.js";
import { formatAddr } from "./tuple-ops.js";

const A = parseIpv4;
const six = (a: Int32Array): string => formatAddr(6, a);

describe("inetSelectAddr (MASQUERADE, IPv4)", () => {
  const ifs = new NatInterfaces();
  ifs.add(1, "lo");
  ifs.addV4(1, A("127.0.0.1"), 8, RT_SCOPE.Host);
  ifs.add(2, "wan0");
  ifs.addV4(2, A("10.0.2.1"), 24);
  ifs.addV4(2, A("10.0.2.50"), 24, 0, IFA_F.SECONDARY);
  ifs.addV4(2, A("10.0.5.1"), 24);
  ifs.addV4(2, A("169.254.1.1"), 16, RT_SCOPE.Link);
  ifs.add(3, "empty");
  ifs.add(4, "other");
  ifs.addV4(4, A("192.0.2.7"), 24);

  test("the primary address in the next hop's subnet, else the first primary", () => {
    assert.equal(inetSelectAddr(ifs, 2, A("10.0.5.77"), RT_SCOPE.Universe), A("10.0.5.1"));
    assert.equal(inetSelectAddr(ifs, 2, A("10.0.2.77"), RT_SCOPE.Universe), A("10.0.2.1"));
    assert.equal(inetSelectAddr(ifs, 2, A("203.0.113.1"), RT_SCOPE.Universe), A("10.0.2.1"));
  });

  test("secondary and link-scope addresses are never chosen for universe scope", () => {
    assert.notEqual(inetSelectAddr(ifs, 2, A("169.254.9.9"), RT_SCOPE.Universe), A("169.254.1.1"));
  });

  test("an interface without addresses borrows another interface's (lo's host address skipped)", () => {
    assert.equal(inetSelectAddr(ifs, 3, A("10.9.9.9"), RT_SCOPE.Universe), A("10.0.2.1"));
    assert.equal(inetSelectAddr(new NatInterfaces(), 3, 0, RT_SCOPE.Universe), 0);
  });

  test("REDIRECT takes the incoming interface's first address, none: 0", () => {
    assert.equal(redirectAddr4(ifs, 2), A("10.0.2.1"));
    assert.equal(redirectAddr4(ifs, 3), 0);
  });
});

describe("ipv6DevGetSaddr (MASQUERADE, IPv6)", () => {
  const ifs = new NatInterfaces();
  ifs.add(1, "lo");
  ifs.addV6(1, parseIpv6("::1"), 128);
  const lan = ifs.add(2, "lan0");
  ifs.addV6(2, parseIpv6("2001:db8:1::1"), 64);
  ifs.addV6(2, parseIpv6("fe80::1"), 64);
  const wan = ifs.add(3, "wan0");
  ifs.addV6(3, parseIpv6("fd77:2::1"), 64);
  ifs.addV6(3, parseIpv6("2001:db8:2::1"), 64);
  ifs.addV6(3, parseIpv6("2001:db8:2::50"), 64, IFA_F.DEPRECATED);
  ifs.addV6(3, parseIpv6("2001:db8:2::77"), 64, IFA_F.TENTATIVE);
  ifs.addV6(3, parseIpv6("2001:db8:2::aa"), 64, IFA_F.TEMPORARY);
  ifs.addV6(3, parseIpv6("fe80::2"), 64);
  void lan;

  const pick = (ifindex: number, dst: string): string => {
    const out = new Int32Array(4);
    assert.ok(ipv6DevGetSaddr(ifs, ifindex, parseIpv6(dst), out));
    return six(out);
  };

  test("label, prefix, deprecated, tentative, temporary and interface rules", () => {
    assert.equal(pick(3, "fd77:9::9"), "fd77:2::1"); // ULA label (5)
    assert.equal(pick(3, "2001:db8:2::2"), "2001:db8:2::1"); // label 1, longest prefix, public over temporary
    assert.equal(pick(3, "2001:db8:2::51"), "2001:db8:2::1"); // the deprecated ::50 shares a longer prefix
    assert.equal(pick(3, "2a00::1"), "2001:db8:2::1"); // label 1 on the outgoing interface
    assert.equal(pick(3, "2001:db8:1::9"), "2001:db8:2::1"); // rule 5 (outgoing interface) beats prefix
    assert.equal(pick(-1, "2001:db8:1::9"), "2001:db8:1::1"); // no interface given: prefix decides
    assert.equal(pick(3, "fe80::9"), "fe80::2"); // link-local destination: outgoing interface only
    assert.equal(pick(3, "2001:db8:2::77"), "2001:db8:2::1"); // tentative ::77 is not assigned yet
  });

  test("use_tempaddr >= 2 prefers temporary addresses", () => {
    wan.useTempaddr = 2;
    assert.equal(pick(3, "2a00::1"), "2001:db8:2::aa");
    wan.useTempaddr = 0;
  });

  test("REDIRECT: first usable address of matching scope", () => {
    const out = new Int32Array(4);
    assert.ok(redirectAddr6(ifs, 3, parseIpv6("2001:db8:2::1"), out));
    assert.equal(six(out), "fd77:2::1");
    assert.ok(redirectAddr6(ifs, 3, parseIpv6("fe80::2"), out));
    assert.equal(six(out), "fe80::2");
    assert.equal(redirectAddr6(new NatInterfaces(), 3, parseIpv6("::1"), out), false);
  });

  test("address types and labels (Linux's default policy table)", () => {
    assert.equal(ipv6AddrType(parseIpv6("::1")) >>> 16, 2);
    assert.equal(ipv6AddrType(parseIpv6("fe80::1")) >>> 16, 2);
    assert.equal(ipv6AddrType(parseIpv6("2001:db8::1")) >>> 16, 14);
    assert.equal(ipv6AddrType(parseIpv6("ff02::1")) >>> 16, 2);
    assert.equal(ipv6AddrType(parseIpv6("::")), 0);
    const lbl = (s: string) => ipv6AddrLabel(parseIpv6(s), ipv6AddrType(parseIpv6(s)));
    assert.equal(lbl("::1"), 0);
    assert.equal(lbl("::ffff:10.0.0.1"), 4);
    assert.equal(lbl("::10.0.0.1"), 3);
    assert.equal(lbl("2002::1"), 2);
    assert.equal(lbl("2001::1"), 6);
    assert.equal(lbl("2001:10::1"), 7);
    assert.equal(lbl("fd00::1"), 5);
    assert.equal(lbl("fec0::1"), 11);
    assert.equal(lbl("3ffe::1"), 12);
    assert.equal(lbl("2a00::1"), 1);
  });
});

describe("NatInterfaces.fromIpJson and address text", () => {
  test("reads ip -j addr output with flags", () => {
    const ifs = NatInterfaces.fromIpJson([
      {
        ifindex: 3,
        ifname: "wan0",
        addr_info: [
          { family: "inet", local: "10.0.2.1", prefixlen: 24, scope: "global" },
          { family: "inet", local: "10.0.2.9", prefixlen: 24, scope: "global", secondary: true },
          { family: "inet6", local: "2001:db8::1", prefixlen: 64, scope: "global", deprecated: true },
          { family: "inet6", local: "fe80::1", prefixlen: 64, scope: "link" },
        ],
      },
      { ifindex: 1, ifname: "lo", addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8, scope: "host" }] },
    ]);
    assert.deepEqual(
      ifs.list.map((f) => f.name),
      ["lo", "wan0"],
    );
    const w = ifs.byName("wan0")!;
    assert.equal(w.v4[1].flags, IFA_F.SECONDARY);
    assert.equal(w.v6[0].flags, IFA_F.DEPRECATED);
    assert.equal(ifs.byName("lo")!.v4[0].scope, RT_SCOPE.Host);
    assert.throws(() => NatInterfaces.fromIpJson({}));
  });

  test("parseIpv6 / formatAddr round trip (RFC 5952 compression)", () => {
    for (const s of [
      "::",
      "::1",
      "fd77:2::1",
      "2001:db8::ffff:fff0",
      "1:2:3:4:5:6:7:8",
      "fe80::1:0:0:2",
      "::ffff:10.0.0.1",
    ]) {
      const t = formatAddr(6, parseIpv6(s));
      if (!s.includes(".")) assert.equal(t, s);
    }
    assert.throws(() => parseIpv6("1::2::3"));
    assert.throws(() => parseIpv4("1.2.3.256"));
  });
});
