/**
 * Each match and target at packet time, with fakes for conntrack, interfaces, address types and the
 * gateway's target services.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RejectWith } from "../core/env.js";
import { CtInfo, Dir, Hook, IPS, Manip, NatRangeFlag, Verdict } from "../core/netfilter.js";
import { PacketType } from "../core/skb.js";
import { Tuple } from "../core/tuple.js";
import type { PacketSpec } from "../wire/build.js";
import { formatAddr, parseAddr } from "./addr.js";
import { loadRuleset, TableId } from "./index.js";
import { LimitMatch } from "./matches/statistic.js";
import { type FakeConn, makeEnv, makeSkb, type SkbOpts } from "./testdata/fakes.js";

const H = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
const TCP: PacketSpec = { src: "192.168.1.10", dst: "10.0.0.1", tcp: { sport: 40000, dport: 80, flags: "S" } };
const UDP: PacketSpec = { src: "192.168.1.10", dst: "10.0.0.1", udp: { sport: 5353, dport: 53 } };

function tuple(src: string, dst: string, sport: number, dport: number, proto = 6): Tuple {
  const t = new Tuple();
  t.family = 4;
  t.proto = proto;
  parseAddr(4, src, t.src);
  parseAddr(4, dst, t.dst);
  t.srcPort = sport;
  t.dstPort = dport;
  return t;
}

function conn(over: Partial<FakeConn> = {}): FakeConn {
  return {
    status: IPS.CONFIRMED,
    mark: 0,
    l4proto: 6,
    orig: tuple("192.168.1.10", "10.0.0.1", 40000, 80),
    reply: tuple("10.0.0.1", "192.168.1.10", 80, 40000),
    expires: 100,
    tcpState: 3,
    ...over,
  };
}

/** matches: does `rule` (its matches, in INPUT, target DROP) match the packet? */
function matches(
  rule: string,
  spec: PacketSpec = TCP,
  o: SkbOpts = {},
  c: FakeConn | null = null,
  hook: number = Hook.Input,
): boolean {
  const chain = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"][hook]!;
  const text =
    hook === Hook.Prerouting || hook === Hook.Postrouting
      ? `*mangle\n:${chain} ACCEPT [0:0]\n-A ${chain} ${rule} -j DROP\nCOMMIT\n`
      : `${H}-A ${chain} ${rule} -j DROP\nCOMMIT\n`;
  const rs = loadRuleset(text);
  const e = makeEnv();
  let ct = -1;
  if (c !== null) ct = e.ct.add(c);
  const skb = makeSkb(spec, { hook, ct, ...o });
  const table = hook === Hook.Prerouting || hook === Hook.Postrouting ? TableId.Mangle : TableId.Filter;
  return rs.run(table, hook, skb, e.env) === Verdict.Drop;
}

test("tcp: ports, ranges, negations, flags, --syn, options", () => {
  assert.ok(matches("-p tcp --dport 80"));
  assert.ok(!matches("-p tcp --dport 81"));
  assert.ok(matches("-p tcp --dport 1:100"));
  assert.ok(matches("-p tcp ! --dport 22"));
  assert.ok(matches("-p tcp --sport 40000: --dport :80"));
  assert.ok(matches("-p tcp --syn"));
  assert.ok(!matches("-p tcp --syn", { ...TCP, tcp: { ...TCP.tcp, flags: "SA" } }));
  assert.ok(matches("-p tcp ! --syn", { ...TCP, tcp: { ...TCP.tcp, flags: "A" } }));
  assert.ok(matches("-p tcp --tcp-flags ALL NONE", { ...TCP, tcp: { ...TCP.tcp, flags: 0 } }));
  assert.ok(matches("-p tcp --tcp-flags SYN,FIN SYN,FIN", { ...TCP, tcp: { ...TCP.tcp, flags: "SF" } }));
  assert.ok(matches("-p tcp --tcp-option 3", { ...TCP, tcp: { ...TCP.tcp, options: { mss: 1460, wscale: 7 } } }));
  assert.ok(!matches("-p tcp --tcp-option 4", { ...TCP, tcp: { ...TCP.tcp, options: { mss: 1460, wscale: 7 } } }));
  assert.ok(matches("-p tcp ! --tcp-option 4", { ...TCP, tcp: { ...TCP.tcp, options: { mss: 1460 } } }));
});

test("udp and multiport", () => {
  assert.ok(matches("-p udp --dport 53", UDP));
  assert.ok(matches("-p udp --sport 5353 --dport 50:60", UDP));
  assert.ok(!matches("-p udp --dport 53", TCP));
  assert.ok(matches("-p tcp -m multiport --dports 22,80,443", TCP));
  assert.ok(matches("-p tcp -m multiport --dports 1000:2000,70:90", TCP));
  assert.ok(!matches("-p tcp -m multiport ! --dports 80", TCP));
  assert.ok(matches("-p tcp -m multiport --sports 40000", TCP));
  assert.ok(matches("-p tcp -m multiport --ports 40000", TCP));
  assert.ok(matches("-p udp -m multiport --ports 53", UDP));
  // a missing port header hotdrops (multiport is an x_tables match)
  assert.ok(
    matches("-p tcp -m multiport ! --ports 1", {
      src: "1.1.1.1",
      dst: "2.2.2.2",
      proto: 6,
      payload: new Uint8Array(2),
    }),
  );
});

test("icmp and icmp6 types and codes", () => {
  const ping: PacketSpec = { src: "1.1.1.1", dst: "2.2.2.2", icmp: { type: 8, id: 7 } };
  const unreach: PacketSpec = { src: "1.1.1.1", dst: "2.2.2.2", icmp: { type: 3, code: 3, embed: new Uint8Array(28) } };
  assert.ok(matches("-p icmp --icmp-type echo-request", ping));
  assert.ok(matches("-p icmp --icmp-type any", unreach));
  assert.ok(matches("-p icmp --icmp-type destination-unreachable", unreach));
  assert.ok(matches("-p icmp --icmp-type port-unreachable", unreach));
  assert.ok(!matches("-p icmp --icmp-type 3/4", unreach));
  assert.ok(matches("-p icmp ! --icmp-type echo-reply", ping));
  const rs6 = loadRuleset(
    "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p icmpv6 --icmpv6-type echo-request -j DROP\n-A INPUT -p icmpv6 --icmpv6-type 1/4 -j REJECT\nCOMMIT\n",
    { family: 6 },
  );
  const e = makeEnv();
  assert.equal(
    rs6.run(
      TableId.Filter,
      Hook.Input,
      makeSkb({ src: "2001:db8::1", dst: "2001:db8::2", icmp6: { type: 128, id: 1 } }),
      e.env,
    ),
    Verdict.Drop,
  );
  const pu: PacketSpec = {
    src: "2001:db8::1",
    dst: "2001:db8::2",
    icmp6: { type: 1, code: 4, embed: new Uint8Array(48) },
  };
  assert.equal(rs6.run(TableId.Filter, Hook.Input, makeSkb(pu), e.env), Verdict.Drop);
  assert.deepEqual(e.target.calls.at(-1)!.arg, RejectWith.Icmp6PortUnreachable);
});

test("conntrack: ctstate from ctinfo, INVALID and UNTRACKED without entry, SNAT/DNAT, tuples, status, expire, dir", () => {
  const est = { ctInfo: CtInfo.Established };
  assert.ok(matches("-m conntrack --ctstate ESTABLISHED", TCP, est, conn()));
  assert.ok(matches("-m conntrack --ctstate RELATED,ESTABLISHED", TCP, { ctInfo: CtInfo.EstablishedReply }, conn()));
  assert.ok(matches("-m conntrack --ctstate NEW", TCP, { ctInfo: CtInfo.New }, conn()));
  assert.ok(matches("-m state --state RELATED", TCP, { ctInfo: CtInfo.RelatedReply }, conn()));
  assert.ok(matches("-m conntrack --ctstate INVALID"));
  assert.ok(!matches("-m conntrack --ctstate NEW"));
  assert.ok(matches("-m conntrack ! --ctstate NEW"));
  assert.ok(matches("-m conntrack --ctstate UNTRACKED", TCP, { ctInfo: CtInfo.Untracked }));
  assert.ok(matches("-m conntrack --ctstate DNAT", TCP, est, conn({ status: IPS.DST_NAT })));
  assert.ok(!matches("-m conntrack --ctstate SNAT", TCP, est, conn({ status: IPS.DST_NAT })));
  // without an entry only --ctstate is tested; another option fails the match
  assert.ok(!matches("-m conntrack --ctproto tcp"));
  assert.ok(matches("-m conntrack --ctstate INVALID --ctproto udp"));
  assert.ok(matches("-m conntrack --ctproto tcp --ctorigsrc 192.168.0.0/16 --ctorigdst 10.0.0.1", TCP, est, conn()));
  assert.ok(matches("-m conntrack --ctreplsrc 10.0.0.1 ! --ctrepldst 1.2.3.4", TCP, est, conn()));
  assert.ok(
    matches(
      "-m conntrack --ctorigsrcport 40000 --ctorigdstport 1:100 --ctreplsrcport 80 --ctrepldstport 40000",
      TCP,
      est,
      conn(),
    ),
  );
  assert.ok(!matches("-m conntrack ! --ctorigdstport 80", TCP, est, conn()));
  assert.ok(matches("-m conntrack --ctstatus ASSURED", TCP, est, conn({ status: IPS.ASSURED })));
  assert.ok(matches("-m conntrack ! --ctstatus ASSURED", TCP, est, conn()));
  assert.ok(matches("-m conntrack --ctexpire 50:100", TCP, { ...est, now: 10 }, conn({ expires: 100 })));
  assert.ok(!matches("-m conntrack --ctexpire 91:100", TCP, { ...est, now: 10 }, conn({ expires: 100 })));
  assert.ok(matches("-m conntrack --ctdir ORIGINAL", TCP, est, conn()));
  assert.ok(matches("-m conntrack --ctdir REPLY", TCP, { ctInfo: CtInfo.EstablishedReply }, conn()));
  assert.ok(!matches("-m conntrack --ctdir REPLY", TCP, est, conn()));
  void Dir;
});

test("mark, connmark, length, ttl, pkttype, mac, iprange, addrtype, owner", () => {
  assert.ok(matches("-m mark --mark 0x10/0xf0", TCP, { mark: 0x1f }));
  assert.ok(!matches("-m mark --mark 0x10", TCP, { mark: 0x1f }));
  assert.ok(matches("-m mark ! --mark 0x10", TCP, { mark: 0x1f }));
  assert.ok(matches("-m connmark --mark 5", TCP, { ctInfo: CtInfo.Established }, conn({ mark: 5 })));
  assert.ok(!matches("-m connmark ! --mark 5"));
  assert.ok(matches("-m length --length 40"));
  assert.ok(matches("-m length ! --length 41:1500"));
  assert.ok(matches("-m ttl --ttl-eq 64"));
  assert.ok(matches("-m ttl --ttl-lt 65"));
  assert.ok(matches("-m ttl ! --ttl-eq 63"));
  assert.ok(!matches("-m ttl --ttl-gt 64"));
  assert.ok(matches("-m pkttype --pkt-type broadcast", TCP, {}, null) === false);
  const bcast = loadRuleset(`${H}-A INPUT -m pkttype --pkt-type broadcast -j DROP\nCOMMIT\n`);
  const e = makeEnv();
  const skb = makeSkb(TCP);
  skb.pktType = PacketType.Broadcast;
  assert.equal(bcast.run(TableId.Filter, Hook.Input, skb, e.env), Verdict.Drop);
  // mac: the Ethernet source of the frame
  const mac = loadRuleset(`${H}-A INPUT -m mac --mac-source 02:00:00:00:00:01 -j DROP\nCOMMIT\n`);
  const withL2 = makeSkb(TCP);
  withL2.l2 = new Uint8Array([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]);
  withL2.macOff = 0;
  assert.equal(mac.run(TableId.Filter, Hook.Input, withL2, e.env), Verdict.Drop);
  assert.equal(mac.run(TableId.Filter, Hook.Input, makeSkb(TCP), e.env), Verdict.Accept);
  assert.ok(matches("-m iprange --src-range 192.168.1.1-192.168.1.100 --dst-range 10.0.0.0-10.0.0.255"));
  assert.ok(matches("-m iprange ! --src-range 192.168.1.11-192.168.1.100"));
  assert.ok(matches("-m addrtype --dst-type LOCAL"));
  assert.ok(matches("-m addrtype ! --src-type LOCAL --dst-type LOCAL,BROADCAST"));
  assert.ok(!matches("-m addrtype --dst-type UNICAST"));
  assert.ok(matches("-m addrtype --dst-type BROADCAST", { ...TCP, dst: "192.168.1.255" }));
  assert.ok(!matches("-m owner --uid-owner 0", TCP, {}, null, Hook.Output));
  assert.ok(matches("-m owner ! --uid-owner 0", TCP, {}, null, Hook.Output));
  assert.ok(!matches("-m owner --socket-exists", TCP, {}, null, Hook.Output));
});

test("addrtype --limit-iface-in asks about the incoming interface", () => {
  const rs = loadRuleset(`${H}-A INPUT -m addrtype --dst-type LOCAL --limit-iface-in -j DROP\nCOMMIT\n`);
  const e = makeEnv();
  rs.run(TableId.Filter, Hook.Input, makeSkb(TCP, { inIf: 3 }), e.env);
  assert.equal(e.addr.lastIf, 3);
});

test("statistic nth: every n-th evaluation from the configured start", () => {
  const rs = loadRuleset(`${H}-A INPUT -m statistic --mode nth --every 3 --packet 1 -j DROP\nCOMMIT\n`);
  const e = makeEnv();
  const hits: number[] = [];
  for (let i = 0; i < 9; i++)
    if (rs.run(TableId.Filter, Hook.Input, makeSkb(TCP), e.env) === Verdict.Drop) hits.push(i);
  // count starts at every-1-packet = 1 and matches when it wraps to 0: the 2nd, 5th, 8th packets
  assert.deepEqual(hits, [1, 4, 7]);
  const p0 = loadRuleset(`${H}-A INPUT -m statistic --mode nth --every 2 --packet 0 -j DROP\nCOMMIT\n`);
  const seq: boolean[] = [];
  for (let i = 0; i < 4; i++) seq.push(p0.run(TableId.Filter, Hook.Input, makeSkb(TCP), e.env) === Verdict.Drop);
  assert.deepEqual(seq, [true, false, true, false]);
});

test("statistic random: seeded, and the hit rate follows the probability", () => {
  for (const [p, lo, hi] of [
    [0.5, 0.47, 0.53],
    [0.1, 0.08, 0.12],
    [0.33333, 0.3, 0.37],
  ] as const) {
    const rs = loadRuleset(`${H}-A INPUT -m statistic --mode random --probability ${p} -j DROP\nCOMMIT\n`);
    const e = makeEnv(12345);
    let n = 0;
    for (let i = 0; i < 4000; i++) if (rs.run(TableId.Filter, Hook.Input, makeSkb(TCP), e.env) === Verdict.Drop) n++;
    assert.ok(n / 4000 > lo && n / 4000 < hi, `p=${p}: ${n / 4000}`);
    // same seed, same choices
    const again = makeEnv(12345);
    let m = 0;
    for (let i = 0; i < 4000; i++)
      if (rs.run(TableId.Filter, Hook.Input, makeSkb(TCP), again.env) === Verdict.Drop) m++;
    assert.equal(m, n);
  }
  // kube-proxy's endpoint choice: 1/3, 1/2, rest gives each endpoint about a third
  const rs = loadRuleset(
    `${H}-A INPUT -m statistic --mode random --probability 0.33333333349 -j DROP\n-A INPUT -m statistic --mode random --probability 0.50000000000 -j REJECT\n-A INPUT -j ACCEPT\nCOMMIT\n`,
  );
  const e = makeEnv(99);
  const t = rs.tables[TableId.Filter]!;
  for (let i = 0; i < 3000; i++) rs.run(TableId.Filter, Hook.Input, makeSkb(TCP), e.env);
  for (let r = 1; r <= 3; r++) {
    const c = t.pcnt(t.ruleSlot(t.chainIndex("INPUT"), r));
    assert.ok(c > 900 && c < 1100, `endpoint ${r}: ${c}`);
  }
});

test("limit: nf_tables token bucket in packet time (burst, then one per period)", () => {
  // 1/sec burst 2: two pass at once, then one per second
  const rs = loadRuleset(`${H}-A INPUT -m limit --limit 1/sec --limit-burst 2 -j DROP\nCOMMIT\n`);
  const e = makeEnv();
  const at = (now: number): boolean =>
    rs.run(TableId.Filter, Hook.Input, makeSkb(TCP, { now }), e.env) === Verdict.Drop;
  assert.deepEqual([0, 0.1, 0.2, 0.9, 1.25, 1.3, 3.0, 3.1, 3.2, 3.3].map(at), [
    true,
    true,
    false,
    false,
    true,
    false,
    true,
    true,
    false,
    false,
  ]);
  const m = new LimitMatch(4);
  assert.deepEqual(m.rateUnit(), [3, 3600]);
});

test("targets: MARK and CONNMARK arithmetic", () => {
  const rs = loadRuleset(
    "*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j MARK --set-mark 0x12\n-A PREROUTING -j MARK --and-mark 0xf0\n-A PREROUTING -j MARK --or-mark 0x3\n-A PREROUTING -j MARK --xor-mark 0x1\n-A PREROUTING -j CONNMARK --save-mark --mask 0xff\n-A PREROUTING -j CONNMARK --set-xmark 0x100/0xf00\n-A PREROUTING -j MARK --set-mark 0\n-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xf00 --ctmask 0xf00\nCOMMIT\n",
  );
  const e = makeEnv();
  const c = e.ct.add(conn({ mark: 0xabcd0000 }));
  const skb = makeSkb(TCP, { ct: c, ctInfo: CtInfo.New });
  assert.equal(rs.run(TableId.Mangle, Hook.Prerouting, skb, e.env), Verdict.Accept);
  // 0x12 & 0xf0 = 0x10, | 3 = 0x13, ^ 1 = 0x12; saved into the low byte of the ctmark
  assert.equal(e.ct.conns[c]!.mark >>> 0, 0xabcd0112);
  assert.equal(skb.mark, 0x100);
});

test("targets: REJECT types, LOG and NFLOG prefixes, CT --notrack, NOTRACK, TRACE", () => {
  const rs = loadRuleset(
    `${H}-A INPUT -p udp -j LOG --log-prefix "in: "\n-A INPUT -p udp -j NFLOG --nflog-prefix nf\n-A INPUT -p tcp -j REJECT --reject-with tcp-reset\n-A INPUT -j REJECT --reject-with icmp-admin-prohibited\nCOMMIT\n`,
  );
  const e = makeEnv();
  assert.equal(rs.run(TableId.Filter, Hook.Input, makeSkb(TCP), e.env), Verdict.Drop);
  assert.equal(rs.run(TableId.Filter, Hook.Input, makeSkb(UDP), e.env), Verdict.Drop);
  assert.deepEqual(
    e.target.calls.map((c) => `${c.kind}:${c.arg}:${c.text}`),
    [`reject:${RejectWith.TcpReset}:`, "LOG:0:in: ", "NFLOG:0:nf", `reject:${RejectWith.IcmpAdminProhibited}:`],
  );
  const raw = loadRuleset(
    "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp -j CT --notrack\n-A PREROUTING -p tcp -j TRACE\n-A OUTPUT -j NOTRACK\nCOMMIT\n",
  );
  const u = makeSkb(UDP);
  raw.run(TableId.Raw, Hook.Prerouting, u, e.env);
  assert.ok(u.notrack && !u.nfTrace);
  const t = makeSkb(TCP);
  raw.run(TableId.Raw, Hook.Prerouting, t, e.env);
  assert.ok(t.nfTrace && !t.notrack);
  const o = makeSkb(TCP);
  raw.run(TableId.Raw, Hook.Output, o, e.env);
  assert.ok(o.notrack);
});

test("targets: NAT ranges are built at load and handed to TargetEnv, whose verdict is the rule's", () => {
  const rs = loadRuleset(
    "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 10.1.0.1-10.1.0.9:8000-8010 --random --persistent\n-A PREROUTING -p tcp --dport 81 -j REDIRECT --to-ports 3128\n-A PREROUTING -d 10.0.0.0/24 -j NETMAP --to 172.16.0.0/24\n-A POSTROUTING -p udp -j SNAT --to-source 1.2.3.4 --random-fully\n-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1024-2047\nCOMMIT\n",
  );
  const e = makeEnv();
  const run = (hook: number, spec: PacketSpec): number => rs.run(TableId.Nat, hook, makeSkb(spec, { hook }), e.env);
  assert.equal(run(Hook.Prerouting, TCP), Verdict.Accept);
  let c = e.target.calls.at(-1)!;
  assert.equal(c.kind, "dnat");
  assert.equal(c.arg, Manip.Dst);
  const r = c.range!;
  assert.equal(formatAddr(4, r.minAddr), "10.1.0.1");
  assert.equal(formatAddr(4, r.maxAddr), "10.1.0.9");
  assert.deepEqual([r.minProto, r.maxProto], [8000, 8010]);
  assert.equal(
    r.flags,
    NatRangeFlag.MAP_IPS | NatRangeFlag.PROTO_SPECIFIED | NatRangeFlag.PROTO_RANDOM | NatRangeFlag.PERSISTENT,
  );
  run(Hook.Prerouting, { ...TCP, tcp: { dport: 81 } });
  c = e.target.calls.at(-1)!;
  assert.equal(c.kind, "redirect");
  assert.deepEqual([c.range!.minProto, c.range!.maxProto], [3128, 3128]);
  run(Hook.Prerouting, { ...TCP, tcp: { dport: 82 } });
  c = e.target.calls.at(-1)!;
  assert.equal(c.kind, "dnat");
  assert.equal(formatAddr(4, c.range!.minAddr), "172.16.0.0");
  assert.equal(formatAddr(4, c.range!.maxAddr), "172.16.0.255");
  assert.ok(c.range!.flags & NatRangeFlag.NETMAP);
  run(Hook.Postrouting, UDP);
  c = e.target.calls.at(-1)!;
  assert.equal(c.kind, "snat");
  assert.equal(c.range!.flags, NatRangeFlag.MAP_IPS | NatRangeFlag.PROTO_RANDOM_FULLY);
  e.target.natVerdict = Verdict.Drop;
  assert.equal(run(Hook.Postrouting, TCP), Verdict.Drop);
  assert.equal(e.target.calls.at(-1)!.kind, "masquerade");
});
