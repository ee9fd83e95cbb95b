/**
 * Unit tests of Stack: one per rule on when Linux sends nothing, and the layout of what it sends.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PacketType } from "../core/skb.js";
import { buildPacket } from "../wire/build.js";
import { StackReason } from "./reasons.js";
import { relatedCtInfo, StackIcmpKind } from "./stack.js";
import { a4, a6, ctx, env, LAN, LO, reply, testRoutes, WAN } from "./testdata/fixture.js";

const udp4 = { src: "10.0.0.5", dst: "198.51.100.7", udp: { sport: 1234, dport: 33434, payload: "probe" } };
const udp6 = { src: "fd00:1::5", dst: "2001:db8::7", udp: { sport: 1234, dport: 33434, payload: "probe" } };

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

describe("ICMPv4 errors (__icmp_send)", () => {
  test("time exceeded: layout, TOS, TTL, source, quote, ct attach", () => {
    const { stack, out } = env();
    const c = ctx({ ...udp4, ttl: 1, tos: 0xff, id: 77 });
    const n = stack.icmpError(c, StackIcmpKind.TimeExceeded, 0, out);
    assert.equal(stack.reason, StackReason.Sent);
    assert.equal(n, 20 + 8 + c.pi.len);
    const r = reply(out, n);
    assert.equal(r.tos, 0xde); // (0xff & 0x1e) | 0xc0
    assert.equal(r.ttl, 64);
    assert.equal(r.dontFrag, false);
    assert.equal(r.src[0], a4("10.0.0.1"));
    assert.equal(r.dst[0], a4("10.0.0.5"));
    assert.equal(r.icmpType, 11);
    assert.equal(r.icmpCode, 0);
    assert.deepEqual(out.subarray(28, n), c.pi.buf.subarray(0, c.pi.len));
    assert.equal(stack.attachToCt, true);
    assert.equal(stack.setClosing, false);
    assert.equal(stack.oif, LAN);
  });

  test("fragmentation needed carries the MTU and is never rate limited", () => {
    const { stack, out } = env();
    for (let i = 0; i < 20; i++) {
      const n = stack.icmpError(ctx({ ...udp4, df: true }), StackIcmpKind.FragNeeded, 1280, out);
      assert.ok(n > 0, `message ${i}: ${stack.reason}`);
      assert.equal(out[20], 3);
      assert.equal(out[21], 4);
      assert.equal(u16(out, 24), 0);
      assert.equal(u16(out, 26), 1280);
    }
  });

  test("quotes at most 576 bytes in all", () => {
    const { stack, out } = env();
    const n = stack.icmpError(
      ctx({ ...udp4, udp: { payload: new Uint8Array(1200) } }),
      StackIcmpKind.TimeExceeded,
      0,
      out,
    );
    assert.equal(n, 576);
  });

  test("quotes less when the route back has a smaller MTU; none when it leaves no room for a header", () => {
    let e = env(undefined, testRoutes([{ dst: "10.0.0.5/32", dev: LAN, mtu: 300 }]));
    let n = e.stack.icmpError(
      ctx({ ...udp4, udp: { payload: new Uint8Array(1200) } }),
      StackIcmpKind.TimeExceeded,
      0,
      e.out,
    );
    assert.equal(n, 300);
    e = env(undefined, testRoutes([{ dst: "10.0.0.5/32", dev: LAN, mtu: 48 }]));
    n = e.stack.icmpError(ctx(udp4), StackIcmpKind.TimeExceeded, 0, e.out);
    assert.equal(n, 0);
    assert.equal(e.stack.reason, StackReason.TinyMtu);
  });

  test("TTL from the route back's hoplimit metric", () => {
    const { stack, out } = env(undefined, testRoutes([{ dst: "10.0.0.5/32", dev: LAN, hoplimit: 17 }]));
    const n = stack.icmpError(ctx(udp4), StackIcmpKind.TimeExceeded, 0, out);
    assert.equal(reply(out, n).ttl, 17);
  });

  test("not to a link-layer broadcast or multicast", () => {
    const { stack, out } = env();
    for (const t of [PacketType.Broadcast, PacketType.Multicast, PacketType.OtherHost]) {
      assert.equal(stack.icmpError(ctx(udp4, { pktType: t }), StackIcmpKind.TimeExceeded, 0, out), 0);
      assert.equal(stack.reason, StackReason.NotHost);
    }
  });

  test("not about a packet to a broadcast or multicast address", () => {
    const { stack, out } = env();
    for (const dst of ["10.0.0.255", "255.255.255.255", "224.0.0.1", "239.1.2.3"]) {
      assert.equal(stack.icmpError(ctx({ ...udp4, dst }), StackIcmpKind.TimeExceeded, 0, out), 0, dst);
      assert.equal(stack.reason, StackReason.NonUnicastDest);
    }
  });

  test("not about a fragment other than the first; about the first", () => {
    const { stack, out } = env();
    assert.equal(
      stack.icmpError(
        ctx({ src: "10.0.0.5", dst: "198.51.100.7", fragOff: 8, proto: 17, payload: "xxxxxxxx" }),
        0,
        0,
        out,
      ),
      0,
    );
    assert.equal(stack.reason, StackReason.NonFirstFragment);
    assert.ok(stack.icmpError(ctx({ ...udp4, mf: true }), 0, 0, out) > 0);
  });

  test("not about an ICMP error, nor an unknown ICMP type; about queries", () => {
    const { stack, out } = env();
    for (const type of [3, 4, 5, 11, 12, 1, 9, 19, 200]) {
      assert.equal(
        stack.icmpError(ctx({ src: "10.0.0.5", dst: "198.51.100.7", icmp: { type } }), 0, 0, out),
        0,
        `type ${type}`,
      );
      assert.equal(stack.reason, StackReason.AboutIcmpError);
    }
    for (const type of [0, 8, 13, 14, 15, 17, 18]) {
      assert.ok(
        stack.icmpError(ctx({ src: `10.0.0.${type + 100}`, dst: "198.51.100.7", icmp: { type } }), 0, 0, out) > 0,
        `type ${type}`,
      );
    }
  });

  test("not to an unspecified, broadcast or multicast source", () => {
    const { stack, out } = env();
    for (const src of ["0.0.0.0", "255.255.255.255", "224.0.0.5"]) {
      assert.equal(stack.icmpError(ctx({ ...udp4, src }), 0, 0, out), 0, src);
      assert.equal(stack.reason, StackReason.InvalidSource);
    }
  });

  test("nothing without a route back", () => {
    const { stack, out } = env(undefined, testRoutes([], false));
    assert.equal(stack.icmpError(ctx({ ...udp4, src: "203.0.113.9" }), 0, 0, out), 0);
    assert.equal(stack.reason, StackReason.NoRoute);
  });

  test("per destination: a burst of 6, then one per icmp_ratelimit", () => {
    const { stack, out } = env();
    let sent = 0;
    for (let i = 0; i < 10; i++) if (stack.icmpError(ctx(udp4, { now: 1000 }), 0, 0, out) > 0) sent++;
    assert.equal(sent, 6);
    assert.equal(stack.reason, StackReason.RateLimitPeer);
    assert.equal(stack.icmpError(ctx(udp4, { now: 1000.996 }), 0, 0, out), 0);
    assert.ok(stack.icmpError(ctx(udp4, { now: 1001 }), 0, 0, out) > 0);
    // another destination has its own bucket
    assert.ok(stack.icmpError(ctx({ ...udp4, src: "10.0.0.6" }, { now: 1001 }), 0, 0, out) > 0);
  });

  test("icmp_ratemask: a type outside the mask is not limited", () => {
    const { stack, out } = env((c) => {
      c.icmpRatemask = 0x0808; // 3 and 11 only...
      c.icmpRatemask &= ~(1 << 11); // ...then 11 removed
    });
    for (let i = 0; i < 20; i++) assert.ok(stack.icmpError(ctx(udp4), StackIcmpKind.TimeExceeded, 0, out) > 0);
  });

  test("the global bucket: burst, then a refill per HZ/50", () => {
    const { stack, out } = env((c) => {
      c.icmpMsgsBurst = 3;
      c.icmpMsgsPerSec = 100;
    });
    let sent = 0;
    for (let i = 0; i < 10; i++)
      if (stack.icmpError(ctx({ ...udp4, src: `10.0.0.${10 + i}` }, { now: 500 }), 0, 0, out) > 0) sent++;
    assert.equal(sent, 3);
    assert.equal(stack.reason, StackReason.RateLimitGlobal);
    // 16 ms later (4 jiffies < HZ/50 = 5): still empty; at 20 ms: 2 credits
    assert.equal(stack.icmpError(ctx({ ...udp4, src: "10.0.0.40" }, { now: 500.016 }), 0, 0, out), 0);
    assert.ok(stack.icmpError(ctx({ ...udp4, src: "10.0.0.41" }, { now: 500.02 }), 0, 0, out) > 0);
  });

  test("unreachable routes: codes, and the route-error limiter (burst 5 s of 1 s)", () => {
    const { stack, out } = env();
    assert.ok(stack.icmpError(ctx(udp4), StackIcmpKind.HostUnreachable, 0, out) > 0);
    assert.equal(out[21], 1);
    assert.ok(stack.icmpError(ctx({ ...udp4, src: "10.0.0.7" }), StackIcmpKind.NetUnreachable, 0, out) > 0);
    assert.equal(out[21], 0);
    assert.ok(stack.icmpError(ctx({ ...udp4, src: "10.0.0.8" }), StackIcmpKind.AdminProhibited, 0, out) > 0);
    assert.equal(out[21], 13);
    // the two limiters share the peer's tokens: 1250 -> 1000 (route) -> 750 (icmp) -> 500 (route) ->
    // 250 (icmp) -> 0 (route) -> refused by the icmp limiter; then the route limiter refuses
    assert.ok(stack.icmpError(ctx(udp4), StackIcmpKind.HostUnreachable, 0, out) > 0);
    assert.equal(stack.icmpError(ctx(udp4), StackIcmpKind.HostUnreachable, 0, out), 0);
    assert.equal(stack.reason, StackReason.RateLimitPeer);
    assert.equal(stack.icmpError(ctx(udp4), StackIcmpKind.HostUnreachable, 0, out), 0);
    assert.equal(stack.reason, StackReason.RateLimitRoute);
  });

  test("icmp_errors_use_inbound_ifaddr: the source is the input interface's address", () => {
    const { stack, out } = env((c) => {
      c.icmpErrorsUseInboundIfaddr = true;
    });
    const n = stack.icmpError(ctx({ ...udp4, src: "203.0.113.9" }, { inIf: WAN }), 0, 0, out);
    assert.equal(reply(out, n).src[0], a4("192.0.2.1"));
  });

  test("an error about a packet to the gateway itself comes from that address", () => {
    const { stack, out } = env();
    const n = stack.icmpError(ctx({ ...udp4, src: "10.0.0.5", dst: "192.0.2.1", udp: { dport: 9 } }), 0, 0, out);
    assert.equal(reply(out, n).src[0], a4("192.0.2.1"));
  });

  test("parameter problem for a bad option points at it (byte 0 of the second word)", () => {
    const { stack, out } = env();
    const n = stack.icmpError(ctx(udp4), StackIcmpKind.ParamProblem, 22, out);
    assert.equal(out[20], 12);
    assert.equal(out[24], 22);
    assert.ok(n > 0);
  });

  test("the IPv6-only kinds do not exist for IPv4", () => {
    const { stack, out } = env();
    assert.equal(stack.icmpError(ctx(udp4), StackIcmpKind.BeyondScope, 0, out), 0);
    assert.equal(stack.reason, StackReason.Unsupported);
  });

  test("an output buffer too small is refused, not overrun", () => {
    const { stack } = env();
    assert.equal(stack.icmpError(ctx(udp4), 0, 0, new Uint8Array(40)), 0);
    assert.equal(stack.reason, StackReason.BufferTooSmall);
  });
});

describe("ICMPv6 errors (icmp6_send)", () => {
  test("time exceeded: layout, hop limit, traffic class 0, source, ct attach", () => {
    const { stack, out } = env();
    const c = ctx({ ...udp6, ttl: 1, tos: 0xff, flowLabel: 0x12345 });
    const n = stack.icmpError(c, StackIcmpKind.TimeExceeded, 0, out);
    assert.equal(n, 48 + c.pi.len);
    const r = reply(out, n);
    assert.equal(r.tos, 0);
    assert.equal(r.ttl, 64);
    assert.deepEqual([...r.src], [...a6("fd00:1::1")]);
    assert.equal(r.icmpType, 3);
    assert.equal(stack.attachToCt, true);
  });

  test("packet too big: MTU never below 1280, not limited, allowed about multicast", () => {
    const { stack, out } = env();
    for (let i = 0; i < 10; i++) assert.ok(stack.icmpError(ctx(udp6), StackIcmpKind.FragNeeded, 1000, out) > 0);
    assert.equal(((out[44] << 24) | (out[45] << 16) | (out[46] << 8) | out[47]) >>> 0, 1280);
    assert.ok(stack.icmpError(ctx({ ...udp6, dst: "ff0e::1" }), StackIcmpKind.FragNeeded, 1500, out) > 0);
    assert.ok(stack.icmpError(ctx(udp6, { pktType: PacketType.Multicast }), StackIcmpKind.FragNeeded, 1500, out) > 0);
  });

  test("not about a packet to a multicast address (other types)", () => {
    const { stack, out } = env();
    assert.equal(stack.icmpError(ctx({ ...udp6, dst: "ff0e::1" }), StackIcmpKind.TimeExceeded, 0, out), 0);
    assert.equal(stack.reason, StackReason.NonUnicastDest);
    assert.equal(stack.icmpError(ctx(udp6, { pktType: PacketType.Broadcast }), StackIcmpKind.TimeExceeded, 0, out), 0);
  });

  test("not to an unspecified or multicast source", () => {
    const { stack, out } = env();
    for (const src of ["::", "ff02::1"]) {
      assert.equal(stack.icmpError(ctx({ ...udp6, src }), 0, 0, out), 0);
      assert.equal(stack.reason, StackReason.InvalidSource);
    }
  });

  test("not about an ICMPv6 error (also behind extension headers); about informational messages", () => {
    const { stack, out } = env();
    for (const type of [1, 2, 3, 4, 100]) {
      assert.equal(stack.icmpError(ctx({ src: "fd00:1::5", dst: "2001:db8::7", icmp6: { type } }), 0, 0, out), 0);
      assert.equal(stack.reason, StackReason.AboutIcmpError);
    }
    assert.equal(
      stack.icmpError(
        ctx({ src: "fd00:1::5", dst: "2001:db8::7", ext: [{ type: "dst" }], icmp6: { type: 1 } }),
        0,
        0,
        out,
      ),
      0,
    );
    for (const type of [128, 129, 200]) {
      assert.ok(stack.icmpError(ctx({ src: "fd00:1::5", dst: "2001:db8::7", icmp6: { type } }), 0, 0, out) > 0);
    }
  });

  test("a truncated ICMPv6 header is taken for an error, except in a non-first fragment", () => {
    const { stack, out } = env();
    assert.equal(stack.icmpError(ctx({ src: "fd00:1::5", dst: "2001:db8::7", proto: 58, payload: "" }), 0, 0, out), 0);
    assert.equal(stack.reason, StackReason.AboutIcmpError);
    const frag = ctx({
      src: "fd00:1::5",
      dst: "2001:db8::7",
      ext: [{ type: "fragment", offset: 8 }],
      proto: 58,
      payload: "",
    });
    assert.ok(stack.icmpError(frag, 0, 0, out) > 0);
  });

  test("quotes at most 1280 bytes in all", () => {
    const { stack, out } = env();
    const n = stack.icmpError(ctx({ ...udp6, udp: { payload: new Uint8Array(3000) } }), 0, 0, out);
    assert.equal(n, 1280);
  });

  test("per destination: a burst of 6, then one per ratelimit (100 ms)", () => {
    const { stack, out } = env();
    let sent = 0;
    for (let i = 0; i < 10; i++) if (stack.icmpError(ctx(udp6, { now: 50 }), 0, 0, out) > 0) sent++;
    assert.equal(sent, 6);
    assert.equal(stack.icmpError(ctx(udp6, { now: 50.096 }), 0, 0, out), 0);
    assert.ok(stack.icmpError(ctx(udp6, { now: 50.1 }), 0, 0, out) > 0);
  });

  test("a link-local source is answered from the link-local address of its interface", () => {
    const { stack, out } = env();
    const n = stack.icmpError(ctx({ ...udp6, src: "fe80::5" }, { inIf: LAN }), StackIcmpKind.BeyondScope, 0, out);
    const r = reply(out, n);
    assert.deepEqual([...r.src], [...a6("fe80::1")]);
    assert.equal(out[41], 2);
  });

  test("parameter problem for an option of type 10xxxxxx is sent even about multicast", () => {
    const { stack, out } = env();
    const opt = ctx({ ...udp6, dst: "ff02::1", ext: [{ type: "hop", options: [0x81, 0, 0, 0] }] });
    assert.ok(stack.paramProblem6(opt, 2, 42, out) > 0);
    const opt11 = ctx({ ...udp6, dst: "ff02::1", ext: [{ type: "hop", options: [0xc1, 0, 0, 0] }] });
    assert.equal(stack.paramProblem6(opt11, 2, 42, out), 0);
  });

  test("the flow label is a stable hash of the flow (seeded), 0 with auto_flowlabels off", () => {
    const a = env();
    const b = env((c) => {
      c.autoFlowlabels = 0;
    });
    a.stack.icmpError(ctx(udp6), 0, 0, a.out);
    const l1 = ((a.out[1] & 0x0f) << 16) | (a.out[2] << 8) | a.out[3];
    a.stack.icmpError(ctx(udp6, { now: 2000 }), 0, 0, a.out);
    const l2 = ((a.out[1] & 0x0f) << 16) | (a.out[2] << 8) | a.out[3];
    assert.equal(l1, l2);
    assert.notEqual(l1, 0);
    b.stack.icmpError(ctx(udp6), 0, 0, b.out);
    assert.equal(((b.out[1] & 0x0f) << 16) | (b.out[2] << 8) | b.out[3], 0);
  });
});

describe("the local stack, IPv4", () => {
  const syn = { src: "10.0.0.5", dst: "10.0.0.1", tos: 0x13, tcp: { sport: 40000, dport: 22, flags: "S", seq: 1000 } };

  test("a SYN gets RST|ACK acking it; TOS without ECN, DF, id 0, no ct attach", () => {
    const { stack, out } = env();
    const n = stack.answer(ctx(syn), out);
    const r = reply(out, n);
    assert.equal(n, 40);
    assert.equal(r.tcpFlags, 0x14);
    assert.equal(r.tcpSeq, 0);
    assert.equal(r.tcpAck, 1001);
    assert.equal(r.srcPort, 22);
    assert.equal(r.dstPort, 40000);
    assert.equal(r.tos, 0x10);
    assert.equal(r.dontFrag, true);
    assert.equal(r.ipId, 0);
    assert.equal(r.tcpWindow, 0);
    assert.equal(stack.attachToCt, false);
  });

  test("a segment with ACK gets a RST with its ack number as sequence", () => {
    const { stack, out } = env();
    const n = stack.answer(
      ctx({ ...syn, tcp: { flags: "PA", seq: 5, ack: 0xdeadbeef, payload: "hello", dport: 22 } }),
      out,
    );
    const r = reply(out, n);
    assert.equal(r.tcpFlags, 0x04);
    assert.equal(r.tcpSeq >>> 0, 0xdeadbeef);
    assert.equal(r.tcpAck, 0);
  });

  test("FIN and data count in the ack, modulo 2^32", () => {
    const { stack, out } = env();
    const n = stack.answer(
      ctx({ ...syn, tcp: { flags: "F", seq: 0xfffffff0, payload: "0123456789abcdefghij", dport: 22 } }),
      out,
    );
    assert.equal(reply(out, n).tcpAck, 5);
  });

  test("no RST for a RST, a bad checksum, a bad data offset, an MD5 signature, a non-local or non-host destination", () => {
    const { stack, out } = env();
    const cases: [object, number, object?][] = [
      [{ ...syn, tcp: { flags: "R", dport: 22 } }, StackReason.IsRst],
      [{ ...syn, tcp: { flags: "S", dport: 22, checksum: "bad" } }, StackReason.BadChecksum],
      [{ ...syn, tcp: { flags: "S", dport: 22, dataOffset: 4 } }, StackReason.Malformed],
      [{ ...syn, tcp: { flags: "S", dport: 22, dataOffset: 15 } }, StackReason.Malformed],
      [
        { ...syn, tcp: { flags: "S", dport: 22, options: { raw: [19, 18, ...new Array(16).fill(0)] } } },
        StackReason.AuthOption,
      ],
      [{ ...syn, dst: "10.0.0.255" }, StackReason.NonUnicastDest],
      [syn, StackReason.NotHost, { pktType: PacketType.Broadcast }],
    ];
    for (const [spec, why, opts] of cases) {
      assert.equal(stack.answer(ctx(spec as never, opts ?? {}), out), 0);
      assert.equal(stack.reason, why);
    }
  });

  test("with checksums taken as verified, a bad checksum is answered", () => {
    const { stack, out } = env((c) => {
      c.verifyChecksums = false;
    });
    assert.ok(stack.answer(ctx({ ...syn, tcp: { flags: "S", dport: 22, checksum: "bad" } }), out) > 0);
  });

  test("UDP: port unreachable from the address asked, TOS precedence 6", () => {
    const { stack, out } = env();
    const c = ctx({ src: "10.0.0.5", dst: "192.0.2.1", tos: 0x28, udp: { sport: 5, dport: 7 } });
    const n = stack.answer(c, out);
    const r = reply(out, n);
    assert.equal(r.src[0], a4("192.0.2.1"));
    assert.equal(r.icmpType, 3);
    assert.equal(r.icmpCode, 3);
    assert.equal(r.tos, 0xc8);
    assert.equal(stack.attachToCt, true);
  });

  test("UDP: checksum 0 is fine, a wrong one is not; broadcast and multicast get nothing", () => {
    const { stack, out } = env();
    assert.ok(stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", udp: { dport: 7, checksum: "none" } }), out) > 0);
    assert.equal(stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", udp: { dport: 7, checksum: "bad" } }), out), 0);
    assert.equal(stack.reason, StackReason.BadChecksum);
    assert.equal(stack.answer(ctx({ src: "10.0.0.5", dst: "255.255.255.255", udp: { dport: 7 } }), out), 0);
    assert.equal(stack.reason, StackReason.NonUnicastDest);
  });

  test("UDP: a length shorter than the payload cuts the quote; longer is dropped", () => {
    const { stack, out } = env((c) => {
      c.verifyChecksums = false;
    });
    const n = stack.answer(
      ctx({ src: "10.0.0.5", dst: "10.0.0.1", udp: { dport: 7, len: 10, payload: "0123456789" } }),
      out,
    );
    assert.equal(n, 20 + 8 + 20 + 10);
    assert.equal(
      stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", udp: { dport: 7, len: 40, payload: "01" } }), out),
      0,
    );
  });

  test("UDP-Lite: port unreachable; checksum 0 is refused", () => {
    const { stack, out } = env();
    assert.ok(
      stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", udplite: { dport: 7, len: 8, payload: "x" } }), out) > 0,
    );
    assert.equal(
      stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", udplite: { dport: 7, checksum: "none" } }), out),
      0,
    );
  });

  test("protocol unreachable for protocols without a handler; nothing for IGMP", () => {
    const { stack, out } = env();
    for (const proto of [0, 4, 41, 47, 50, 132, 253]) {
      const n = stack.answer(ctx({ src: `10.0.0.${proto % 200}`, dst: "10.0.0.1", proto, payload: "abcd" }), out);
      assert.ok(n > 0, `proto ${proto}`);
      assert.equal(out[21], 2);
    }
    assert.equal(stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", proto: 2, payload: "abcdefgh" }), out), 0);
    assert.equal(stack.reason, StackReason.NoAnswer);
  });

  test("echo: the whole message back, code kept, whole TOS kept, no DF", () => {
    const { stack, out } = env();
    const c = ctx({
      src: "10.0.0.5",
      dst: "10.0.0.1",
      tos: 0xff,
      df: true,
      icmp: { type: 8, code: 5, id: 7, seq: 9, payload: "ping!" },
    });
    const n = stack.answer(c, out);
    const r = reply(out, n);
    assert.equal(r.icmpType, 0);
    assert.equal(r.icmpCode, 5);
    assert.equal(r.icmpId, 7);
    assert.equal(r.icmpSeq, 9);
    assert.equal(r.tos, 0xff);
    assert.equal(r.dontFrag, false);
    assert.equal(n, c.pi.len);
    assert.equal(stack.attachToCt, false);
  });

  test("echo: ignored when echo_ignore_all, to a broadcast, with a bad checksum; not limited", () => {
    const e = env((c) => {
      c.icmpEchoIgnoreAll = true;
    });
    assert.equal(e.stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", icmp: { type: 8 } }), e.out), 0);
    assert.equal(e.stack.reason, StackReason.EchoIgnored);
    const { stack, out } = env();
    assert.equal(stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.255", icmp: { type: 8 } }), out), 0);
    assert.equal(stack.reason, StackReason.EchoIgnored);
    assert.equal(stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", icmp: { type: 8, checksum: "bad" } }), out), 0);
    assert.equal(stack.reason, StackReason.BadChecksum);
    for (let i = 0; i < 50; i++)
      assert.ok(stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", icmp: { type: 8, seq: i } }), out) > 0);
  });

  test("echo to a broadcast is answered from the route's source when broadcasts are not ignored", () => {
    const { stack, out } = env((c) => {
      c.icmpEchoIgnoreBroadcasts = false;
    });
    const n = stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.255", icmp: { type: 8 } }), out);
    assert.equal(reply(out, n).src[0], a4("10.0.0.1"));
  });

  test("timestamp: 20 bytes, originate copied, receive = transmit = ms since midnight", () => {
    const { stack, out } = env();
    const now = 86400 * 20000 + 3600 + 0.25;
    const n = stack.answer(
      ctx(
        {
          src: "10.0.0.5",
          dst: "10.0.0.1",
          icmp: { type: 13, id: 1, seq: 2, payload: [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 9] },
        },
        { now },
      ),
      out,
    );
    assert.equal(n, 40);
    assert.equal(out[20], 14);
    assert.deepEqual([...out.subarray(28, 32)], [1, 2, 3, 4]);
    const ms = ((out[32] << 24) | (out[33] << 16) | (out[34] << 8) | out[35]) >>> 0;
    assert.equal(ms, 3600250);
    assert.deepEqual([...out.subarray(32, 36)], [...out.subarray(36, 40)]);
    assert.equal(stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", icmp: { type: 13, payload: "abc" } }), out), 0);
  });

  test("other ICMP messages get nothing", () => {
    const { stack, out } = env();
    for (const type of [0, 3, 11, 14, 15, 17, 42, 100]) {
      assert.equal(stack.answer(ctx({ src: "10.0.0.5", dst: "10.0.0.1", icmp: { type } }), out), 0, `type ${type}`);
    }
  });

  test("a fragment is answered only after reassembly", () => {
    const { stack, out } = env();
    assert.equal(stack.answer(ctx({ ...syn, mf: true }), out), 0);
    assert.equal(stack.reason, StackReason.NonFirstFragment);
  });
});

describe("the local stack, IPv6", () => {
  const syn6 = {
    src: "fd00:1::5",
    dst: "fd00:1::1",
    tos: 0x13,
    flowLabel: 0xabcde,
    tcp: { sport: 40000, dport: 22, flags: "S", seq: 1000 },
  };

  test("RST: traffic class without ECN, an automatic flow label, hop limit 64", () => {
    const { stack, out } = env();
    const n = stack.answer(ctx(syn6), out);
    const r = reply(out, n);
    assert.equal(r.tcpFlags, 0x14);
    assert.equal(r.tcpAck, 1001);
    assert.equal(r.tos, 0x10);
    assert.notEqual(r.flowLabel, 0xabcde);
    assert.equal(r.ttl, 64);
  });

  test("RST reflects the flow label with flowlabel_reflect bit 2", () => {
    const { stack, out } = env((c) => {
      c.flowlabelReflect = 2;
    });
    assert.equal(reply(out, stack.answer(ctx(syn6), out)).flowLabel, 0xabcde);
  });

  test("no RST to a multicast destination or a RST", () => {
    const { stack, out } = env();
    assert.equal(stack.answer(ctx({ ...syn6, dst: "ff02::1" }), out), 0);
    assert.equal(stack.answer(ctx({ ...syn6, tcp: { flags: "R" } }), out), 0);
    assert.equal(stack.reason, StackReason.IsRst);
  });

  test("UDP: zero checksum refused; port unreachable otherwise, quote cut at the UDP length", () => {
    const { stack, out } = env();
    assert.equal(
      stack.answer(ctx({ src: "fd00:1::5", dst: "fd00:1::1", udp: { dport: 7, checksum: "none" } }), out),
      0,
    );
    assert.equal(stack.reason, StackReason.ZeroChecksum);
    const n = stack.answer(ctx({ src: "fd00:1::5", dst: "fd00:1::1", udp: { dport: 7, payload: "hello" } }), out);
    assert.equal(reply(out, n).icmpCode, 4);
  });

  test("unknown next header: parameter problem pointing at the byte that named it", () => {
    const { stack, out } = env();
    stack.answer(ctx({ src: "fd00:1::5", dst: "fd00:1::1", proto: 253, payload: "abcdefgh" }), out);
    assert.deepEqual([out[40], out[41], out[47]], [4, 1, 6]);
    stack.answer(
      ctx({ src: "fd00:1::5", dst: "fd00:1::1", ext: [{ type: "dst" }], proto: 253, payload: "abcdefgh" }),
      out,
    );
    assert.deepEqual([out[40], out[41], out[47]], [4, 1, 40]);
    assert.equal(stack.answer(ctx({ src: "fd00:1::5", dst: "fd00:1::1", proto: 59, payload: "" }), out), 0);
  });

  test("destination options: unknown option actions 00 skip, 01 drop, 10 and 11 answer", () => {
    const { stack, out } = env();
    const mk = (t: number) =>
      ctx({ src: "fd00:1::5", dst: "fd00:1::1", ext: [{ type: "dst", options: [t, 2, 0, 0] }], udp: { dport: 7 } });
    assert.equal(out[0], out[0]);
    stack.answer(mk(0x01 + 0x10), out); // 0x11: skip -> port unreachable
    assert.equal(out[40], 1);
    assert.equal(stack.answer(mk(0x41), out), 0);
    stack.answer(mk(0x81), out);
    assert.deepEqual([out[40], out[41], out[47]], [4, 2, 42]);
    stack.answer(mk(0xc1), out);
    assert.deepEqual([out[40], out[41], out[47]], [4, 2, 42]);
  });

  test("echo: traffic class kept; to a multicast group answered from the route's source", () => {
    const { stack, out } = env();
    let n = stack.answer(
      ctx({
        src: "fd00:1::5",
        dst: "fd00:1::1",
        tos: 0xff,
        icmp6: { type: 128, code: 3, id: 1, seq: 2, payload: "hi" },
      }),
      out,
    );
    let r = reply(out, n);
    assert.equal(r.tos, 0xff);
    assert.equal(r.icmpType, 129);
    assert.equal(r.icmpCode, 3);
    n = stack.answer(
      ctx({ src: "fe80::5", dst: "ff02::1", icmp6: { type: 128 } }, { pktType: PacketType.Multicast }),
      out,
    );
    r = reply(out, n);
    assert.deepEqual([...r.src], [...a6("fe80::1")]);
    const ig = env((c) => {
      c.icmp6EchoIgnoreMulticast = true;
    });
    assert.equal(ig.stack.answer(ctx({ src: "fe80::5", dst: "ff02::1", icmp6: { type: 128 } }), ig.out), 0);
  });

  test("a hop-by-hop option the parser refused gets its parameter problem", () => {
    const { stack, out } = env();
    const c = ctx({
      src: "fd00:1::5",
      dst: "2001:db8::7",
      ext: [{ type: "hop", options: [0x81, 2, 0, 0] }],
      udp: { dport: 7 },
    });
    assert.ok(stack.hopByHopError6(c, out) > 0);
    assert.deepEqual([out[40], out[41], out[47]], [4, 2, 42]);
    const silent = ctx({
      src: "fd00:1::5",
      dst: "2001:db8::7",
      ext: [{ type: "hop", options: [0x41, 2, 0, 0] }],
      udp: { dport: 7 },
    });
    assert.equal(stack.hopByHopError6(silent, out), 0);
  });
});

describe("REJECT", () => {
  const fwd = { src: "10.0.0.5", dst: "198.51.100.7", ttl: 63, tcp: { sport: 40000, dport: 80, flags: "S", seq: 77 } };

  test("tcp-reset: from the destination, TOS 0, DF, id 0, ct attach and closing", () => {
    const { stack, out } = env();
    const n = stack.reject(ctx({ ...fwd, tos: 0xff }), 7, out);
    const r = reply(out, n);
    assert.equal(r.src[0], a4("198.51.100.7"));
    assert.equal(r.dst[0], a4("10.0.0.5"));
    assert.equal(r.tos, 0);
    assert.equal(r.ipId, 0);
    assert.equal(r.dontFrag, true);
    assert.equal(r.tcpAck, 78);
    assert.equal(stack.attachToCt, true);
    assert.equal(stack.setClosing, true);
  });

  test("tcp-reset: TTL from the forwarding route's hoplimit, not the route back's", () => {
    const { stack, out } = env(
      undefined,
      testRoutes([
        { dst: "198.51.100.0/24", via: "192.0.2.254", dev: WAN, hoplimit: 33 },
        { dst: "10.0.0.5/32", dev: LAN, hoplimit: 17 },
      ]),
    );
    assert.equal(reply(out, stack.reject(ctx(fwd), 7, out)).ttl, 33);
  });

  test("tcp-reset: nothing for a RST, a bad checksum, a broadcast, a non-TCP packet, a later fragment", () => {
    const { stack, out } = env();
    assert.equal(stack.reject(ctx({ ...fwd, tcp: { flags: "RA" } }), 7, out), 0);
    assert.equal(stack.reason, StackReason.IsRst);
    assert.equal(stack.reject(ctx({ ...fwd, tcp: { flags: "S", checksum: "bad" } }), 7, out), 0);
    assert.equal(stack.reason, StackReason.BadChecksum);
    assert.equal(stack.reject(ctx({ ...fwd, dst: "10.0.0.255" }), 7, out), 0);
    assert.equal(stack.reject(ctx(udp4), 7, out), 0);
    assert.equal(
      stack.reject(
        ctx({ src: "10.0.0.5", dst: "198.51.100.7", fragOff: 16, proto: 6, payload: new Uint8Array(24) }),
        7,
        out,
      ),
      0,
    );
  });

  test("ICMP types map to their codes (IPv4)", () => {
    const { stack, out } = env();
    const codes: [number, number][] = [
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [5, 9],
      [6, 10],
      [8, 13],
    ];
    let i = 10;
    for (const [withType, code] of codes) {
      const n = stack.reject(ctx({ ...udp4, src: `10.0.0.${i++}` }), withType, out);
      assert.ok(n > 0);
      assert.equal(out[20], 3);
      assert.equal(out[21], code);
    }
    assert.equal(stack.reject(ctx(udp4), 4, out), 0); // icmp-echo-reply: "doesn't happen"
    assert.equal(stack.reject(ctx(udp4), 12, out), 0); // an IPv6 type
    assert.equal(stack.reason, StackReason.Unsupported);
  });

  test("ICMP types map to their codes (IPv6)", () => {
    const { stack, out } = env();
    const codes: [number, number][] = [
      [9, 0],
      [10, 1],
      [13, 2],
      [11, 3],
      [12, 4],
      [14, 5],
      [15, 6],
    ];
    let i = 16;
    for (const [withType, code] of codes) {
      const n = stack.reject(ctx({ ...udp6, src: `fd00:1::${(i++).toString(16)}` }), withType, out);
      assert.ok(n > 0);
      assert.equal(out[40], 1);
      assert.equal(out[41], code);
    }
  });

  test("REJECT's checksum checks: UDP 0 skipped, unknown protocols summed (IPv6 with pseudo header)", () => {
    const { stack, out } = env();
    assert.ok(stack.reject(ctx({ ...udp4, udp: { checksum: "none" } }), 3, out) > 0);
    assert.equal(stack.reject(ctx({ ...udp4, udp: { checksum: "bad" } }), 3, out), 0);
    // a payload whose one's-complement sum is 0xffff passes; another does not
    assert.ok(
      stack.reject(ctx({ src: "10.0.0.5", dst: "198.51.100.7", proto: 253, payload: [0xff, 0xff] }), 3, out) > 0,
    );
    assert.equal(stack.reject(ctx({ src: "10.0.0.5", dst: "198.51.100.7", proto: 253, payload: [1, 2] }), 3, out), 0);
    assert.ok(stack.reject(ctx({ src: "10.0.0.5", dst: "198.51.100.7", proto: 47, payload: [1, 2] }), 3, out) > 0);
    assert.equal(
      stack.reject(ctx({ src: "fd00:1::5", dst: "2001:db8::7", proto: 253, payload: [0xff, 0xff] }), 12, out),
      0,
    );
    assert.ok(
      stack.reject(
        ctx({ src: "fd00:1::5", dst: "2001:db8::7", proto: 253, payload: [0xff, 0xff] }, { locallyGenerated: true }),
        12,
        out,
      ) > 0,
    );
  });

  test("IPv6 tcp-reset: class 0, label 0, hop limit from the route back; unicast addresses only", () => {
    const { stack, out } = env(undefined, testRoutes([{ dst: "fd00:1::5/128", dev: LAN, hoplimit: 17 }]));
    const n = stack.reject(
      ctx({ src: "fd00:1::5", dst: "2001:db8::7", tos: 0xff, flowLabel: 5, tcp: { flags: "S", seq: 1 } }),
      7,
      out,
    );
    const r = reply(out, n);
    assert.equal(r.ttl, 17);
    assert.equal(r.tos, 0);
    assert.equal(r.flowLabel, 0);
    assert.equal(stack.reject(ctx({ src: "fd00:1::5", dst: "ff0e::1", tcp: { flags: "S" } }), 7, out), 0);
    assert.equal(stack.reject(ctx({ src: "::ffff:10.0.0.5", dst: "2001:db8::7", tcp: { flags: "S" } }), 7, out), 0);
  });

  test("relatedCtInfo: an answer to an original-direction packet is RELATED_REPLY", () => {
    assert.equal(relatedCtInfo(2), 4);
    assert.equal(relatedCtInfo(0), 4);
    assert.equal(relatedCtInfo(3), 1);
  });
});

describe("loopback", () => {
  test("a packet that came in on lo is not rate limited", () => {
    const { stack, out } = env();
    for (let i = 0; i < 20; i++) assert.ok(stack.icmpError(ctx(udp4, { inIf: LO }), 0, 0, out) > 0);
  });

  test("a non-IP parse gets nothing", () => {
    const { stack, out } = env();
    const c = ctx(new Uint8Array([0x12, 0x34]));
    assert.equal(stack.answer(c, out), 0);
    assert.equal(stack.icmpError(c, 0, 0, out), 0);
    assert.equal(stack.reject(c, 3, out), 0);
    assert.equal(stack.reason, StackReason.NotIp);
    void buildPacket;
  });
});
