/**
 * TCPMSS target at packet time: the MSS option lowered in place or inserted, with the checksums and
 * lengths Linux's xt_TCPMSS leaves, and its load-time checks.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hook, Verdict } from "../core/netfilter.js";
import { buildPacket, type PacketSpec } from "../wire/build.js";
import { verifyIpv4HeaderChecksum, verifyL4Checksum } from "../wire/checksum.js";
import { WireStatus } from "../wire/packet-info.js";
import { isRulesetError, loadRuleset, TableId } from "./index.js";
import { makeEnv, makeSkb } from "./testdata/fakes.js";

const SYN4: PacketSpec = {
  src: "192.168.1.10",
  dst: "10.0.0.1",
  tcp: { sport: 40000, dport: 80, flags: "S", options: { mss: 1460, sackPerm: true, wscale: 7 } },
};

function mangle(rule: string, family = 4): ReturnType<typeof loadRuleset> {
  return loadRuleset(`*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD ${rule}\nCOMMIT\n`, { family });
}

function run(rule: string, spec: PacketSpec, family = 4, mtus: [number, number] = [1500, 1500]) {
  const rs = mangle(rule, family);
  const e = makeEnv();
  e.target.mtu = mtus[0];
  e.target.reverseMtu = mtus[1];
  const skb = makeSkb(spec, { hook: Hook.Forward, outIf: 2 });
  const v = rs.run(TableId.Mangle, Hook.Forward, skb, e.env);
  return { v, skb, e };
}

test("TCPMSS --set-mss lowers the MSS option in place, with a valid checksum, and never raises it", () => {
  const { v, skb } = run("-p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400", SYN4);
  assert.equal(v, Verdict.Accept);
  assert.equal(skb.pi.optMss, 1400);
  assert.equal(verifyL4Checksum(skb.pi), WireStatus.Ok);
  const up = run("-p tcp -j TCPMSS --set-mss 1480", SYN4);
  assert.equal(up.skb.pi.optMss, 1460);
});

test("TCPMSS --clamp-mss-to-pmtu: the smaller of the route MTUs less 40 (IPv4) / 60 (IPv6)", () => {
  const a = run("-p tcp -j TCPMSS --clamp-mss-to-pmtu", SYN4, 4, [1492, 1500]);
  assert.equal(a.skb.pi.optMss, 1452);
  assert.deepEqual(
    a.e.target.calls.filter((c) => c.kind === "routeMtu").map((c) => c.arg),
    [1, 0],
  );
  const b = run("-p tcp -j TCPMSS --clamp-mss-to-pmtu", SYN4, 4, [1500, 1400]);
  assert.equal(b.skb.pi.optMss, 1360);
  // no usable route: 0xffffffff, truncated to 16 bits as the kernel's u16 does; an MTU <= 40 drops
  assert.equal(run("-p tcp -j TCPMSS --clamp-mss-to-pmtu", SYN4, 4, [40, 1500]).v, Verdict.Drop);
  const six: PacketSpec = { ...SYN4, src: "fd00::1", dst: "fd01::2" };
  const c = run("-p tcp -j TCPMSS --clamp-mss-to-pmtu", six, 6, [1280, 1500]);
  assert.equal(c.skb.pi.optMss, 1220);
  assert.equal(verifyL4Checksum(c.skb.pi), WireStatus.Ok);
});

test("TCPMSS inserts an MSS option when there is none (capped at 536 / 1220), growing the packet", () => {
  const bare: PacketSpec = { ...SYN4, tcp: { sport: 40000, dport: 80, flags: "S", options: { wscale: 7 } } };
  const before = buildPacket(bare);
  const { v, skb } = run("-p tcp -j TCPMSS --set-mss 1400", bare);
  assert.equal(v, Verdict.Accept);
  const pi = skb.pi;
  assert.equal(pi.len, before.length + 4);
  assert.equal(pi.optMss, 536);
  assert.equal(pi.tcpHeaderLen, 20 + 4 + 4);
  assert.ok(verifyIpv4HeaderChecksum(pi));
  assert.equal(verifyL4Checksum(pi), WireStatus.Ok);
  // the new option comes first, the old ones follow
  assert.deepEqual(Array.from(pi.buf.subarray(pi.l4Off + 20, pi.l4Off + 24)), [2, 4, 2, 24]);
  assert.deepEqual(Array.from(pi.buf.subarray(pi.l4Off + 24, pi.l4Off + 28)), [1, 3, 3, 7]); // NOP, window scale
  const six: PacketSpec = { ...bare, src: "fd00::1", dst: "fd01::2" };
  const s6 = run("-p tcp -j TCPMSS --set-mss 1400", six, 6).skb.pi;
  assert.equal(s6.optMss, 1220);
  assert.equal(verifyL4Checksum(s6), WireStatus.Ok);
  // with payload the option is not added
  const data: PacketSpec = { ...bare, tcp: { ...bare.tcp!, payload: new Uint8Array([1, 2, 3]) } };
  assert.equal(run("-p tcp -j TCPMSS --set-mss 1400", data).skb.pi.optMss, -1);
});

test("TCPMSS: fragments pass, truncated headers drop", () => {
  const frag = run("-p tcp -j TCPMSS --set-mss 1000", { ...SYN4, fragOff: 64 });
  assert.equal(frag.v, Verdict.Accept);
  const rs = mangle("-p tcp -j TCPMSS --set-mss 1000");
  const e = makeEnv();
  const skb = makeSkb(SYN4, { hook: Hook.Forward, truncate: 20 + 12 });
  assert.equal(rs.run(TableId.Mangle, Hook.Forward, skb, e.env), Verdict.Drop);
});

test("TCPMSS load errors: -p tcp needed, clamp only in FORWARD/OUTPUT/POSTROUTING, one parameter at least", () => {
  const bad = (text: string, re: RegExp) =>
    assert.throws(
      () => loadRuleset(text, { file: "t" }),
      (e: unknown) => isRulesetError(e) && re.test(e.message),
    );
  bad("*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j TCPMSS --set-mss 1400\nCOMMIT\n", /^t:3:\d+: .*protocol 6/);
  bad("*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -j TCPMSS\nCOMMIT\n", /At least one parameter/);
  bad("*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -j TCPMSS --clamp-mss-to-pmtu\nCOMMIT\n", /PREROUTING/);
  bad("*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -j TCPMSS --set-mss 65516\nCOMMIT\n", /0-65515/);
  // the last of --set-mss / --clamp-mss-to-pmtu wins, as libxt_TCPMSS stores them in one field
  const rs = mangle("-p tcp -j TCPMSS --clamp-mss-to-pmtu --set-mss 100");
  assert.match(rs.save(), /-j TCPMSS --set-mss 100/);
});
