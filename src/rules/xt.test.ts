/**
 * The stateful and the small x_tables matches at packet time: recent (xt_recent's tables: stamps,
 * --seconds/--hitcount, the 100-entry LRU, --rttl, --mask, --rdest, --reap), hashlimit (per-group
 * token buckets in the kernel's credit arithmetic), connlimit (nf_conncount lists checked against the
 * connection table), nfacct, ip6tables frag and policy --pol none. Their save/list text and load
 * refusals are in oracle.test.ts (recorded with iptables 1.8.9); end to end in the kernel scenarios
 * rules-recent and rules-limits.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hook, IPS, Verdict } from "../core/netfilter.js";
import { Tuple } from "../core/tuple.js";
import type { PacketSpec } from "../wire/build.js";
import { parseAddr } from "./addr.js";
import { isRulesetError, isUnsupportedError, loadRuleset, type Ruleset, TableId } from "./index.js";
import type { RecentTable } from "./matches/recent.js";
import { type FakeConn, makeEnv, makeSkb, type SkbOpts } from "./testdata/fakes.js";

/** chain: a filter table with `rules` in INPUT (one per line, without -A INPUT) */
function chain(rules: string[], family = 4, hookChain = "INPUT"): Ruleset {
  const body = rules.map((r) => `-A ${hookChain} ${r}\n`).join("");
  return loadRuleset(`*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${body}COMMIT\n`, {
    family,
    file: "rules",
  });
}

const env = makeEnv();

/** verdict of INPUT (or `hook`) for the packet at time `now` */
function run(rs: Ruleset, spec: PacketSpec, now: number, o: SkbOpts = {}, e = env): number {
  const hook = o.hook ?? Hook.Input;
  const skb = makeSkb(spec, { inIf: 1, ...o, hook, now });
  return rs.run(TableId.Filter, hook, skb, e.env);
}

const ssh = (src: string, ttl = 64): PacketSpec => ({
  src,
  dst: "10.0.0.1",
  ttl,
  tcp: { sport: 40000, dport: 22, flags: "S" },
});

test("recent: SSH brute force (--set, then --update --seconds 60 --hitcount 4)", () => {
  const rs = chain([
    "-p tcp --dport 22 -m recent --set --name SSH --rsource",
    "-p tcp --dport 22 -m recent --update --seconds 60 --hitcount 4 --name SSH --rsource -j DROP",
  ]);
  const seen = [0, 1, 2, 3, 4].map((t) => run(rs, ssh("192.0.2.1"), 100 + t) === Verdict.Drop);
  // the 4th packet finds 4 stamps (the --set ones); the DROP rule's --update stamps it again
  assert.deepEqual(seen, [false, false, false, true, true]);
  // another address has its own entry
  assert.equal(run(rs, ssh("192.0.2.2"), 105), Verdict.Accept);
  // more than 60 s later only the new stamp is recent
  assert.equal(run(rs, ssh("192.0.2.1"), 200), Verdict.Accept);
  const t = rs.xt.recent.get("SSH") as RecentTable;
  assert.equal(t.count, 2);
});

test("recent: --rcheck without --seconds counts every stamp; --remove forgets; an unknown address matches only --set", () => {
  const rs = chain([
    "-p tcp --dport 1 -m recent --set --name A",
    "-p tcp --dport 2 -m recent --remove --name A -j DROP",
    "-p tcp --dport 3 -m recent --rcheck --name A -j DROP",
    "-p tcp --dport 4 -m recent ! --rcheck --name A -j DROP",
  ]);
  const p = (dport: number): PacketSpec => ({
    src: "192.0.2.9",
    dst: "10.0.0.1",
    tcp: { sport: 1, dport, flags: "S" },
  });
  assert.equal(run(rs, p(3), 0), Verdict.Accept);
  assert.equal(run(rs, p(4), 0), Verdict.Drop);
  assert.equal(run(rs, p(2), 0), Verdict.Accept); // --remove of an unknown address does not match
  run(rs, p(1), 0);
  assert.equal(run(rs, p(3), 1000), Verdict.Drop);
  assert.equal(run(rs, p(2), 1000), Verdict.Drop);
  assert.equal(run(rs, p(3), 1000), Verdict.Accept);
});

test("recent: a table holds 100 addresses; the least recently seen is evicted", () => {
  const rs = chain(["-p udp -m recent --set --name L", "-p tcp --dport 9 -m recent --rcheck --name L -j DROP"]);
  const addr = (i: number) => `198.51.${i >> 8}.${i & 255}`;
  const set = (i: number, now: number) => run(rs, { src: addr(i), dst: "10.0.0.1", udp: { sport: 1, dport: 1 } }, now);
  const check = (i: number) =>
    run(rs, { src: addr(i), dst: "10.0.0.1", tcp: { sport: 1, dport: 9, flags: "S" } }, 4) === Verdict.Drop;
  for (let i = 0; i < 100; i++) set(i, i * 0.01);
  // refresh the first: the second becomes the least recently seen, and goes for the 101st
  set(0, 2);
  set(100, 3);
  const t = rs.xt.recent.get("L") as RecentTable;
  assert.equal(t.count, 100);
  assert.deepEqual([check(0), check(1), check(2), check(100)], [true, false, true, true]);
  // --rcheck does not make an address recently seen (only --set and a matching --update move it in the
  // LRU list): the next new address evicts 2, the least recently set
  set(101, 5);
  assert.deepEqual([check(2), check(3)], [false, true]);
});

test("recent: --rttl needs the same TTL; a forwarded packet's TTL counts as before the decrement", () => {
  const rs = chain([
    "-p tcp --dport 22 -m recent --set --name T",
    "-p tcp --dport 22 -m recent --rcheck --rttl --name T -j DROP",
  ]);
  // the --set rule re-stamps the entry with the packet's own TTL, so --rcheck --rttl after it matches
  assert.equal(run(rs, ssh("192.0.2.7", 60), 0), Verdict.Drop);
  // a table filled through another TTL is compared on the stored one
  const both = chain([
    "-p udp -m recent --set --name TT",
    "-p tcp --dport 22 -m recent --rcheck --rttl --name TT -j DROP",
  ]);
  run(both, { src: "192.0.2.8", dst: "10.0.0.1", ttl: 60, udp: { sport: 1, dport: 1 } }, 0);
  assert.equal(run(both, ssh("192.0.2.8", 61), 1), Verdict.Accept);
  assert.equal(run(both, ssh("192.0.2.8", 60), 1), Verdict.Drop);
  // in FORWARD (an output interface, not a local packet) the TTL seen is one more
  const fwd = chain(
    ["-p udp -m recent --set --name F", "-p tcp --dport 22 -m recent --rcheck --rttl --name F -j DROP"],
    4,
    "FORWARD",
  );
  run(fwd, { src: "192.0.2.8", dst: "10.0.0.9", ttl: 60, udp: { sport: 1, dport: 1 } }, 0, {
    hook: Hook.Forward,
    outIf: 2,
  });
  assert.equal(
    run(fwd, { ...ssh("192.0.2.8", 60), dst: "10.0.0.9" }, 1, { hook: Hook.Forward, outIf: 2 }),
    Verdict.Drop,
  );
  const t = fwd.xt.recent.get("F") as RecentTable;
  assert.match(t.list()[0]!, /^src=192\.0\.2\.8 ttl: 61 /);
});

test("recent: --rdest and --mask group addresses; --reap forgets the oldest stale entry", () => {
  const rs = chain([
    "-p udp -m recent --set --name D --rdest --mask 255.255.255.0",
    "-p tcp -m recent --rcheck --name D --rdest --mask 255.255.255.0 -j DROP",
  ]);
  run(rs, { src: "192.0.2.1", dst: "10.9.9.1", udp: { sport: 1, dport: 1 } }, 0);
  assert.equal(
    run(rs, { src: "192.0.2.50", dst: "10.9.9.200", tcp: { sport: 1, dport: 2, flags: "S" } }, 1),
    Verdict.Drop,
  );
  assert.equal(
    run(rs, { src: "192.0.2.50", dst: "10.9.8.200", tcp: { sport: 1, dport: 2, flags: "S" } }, 1),
    Verdict.Accept,
  );
  assert.match((rs.xt.recent.get("D") as RecentTable).list()[0]!, /^src=10\.9\.9\.0 /);
  const reap = chain([
    "-p udp -m recent --set --name R",
    "-p tcp -m recent --rcheck --seconds 10 --reap --name R -j DROP",
  ]);
  run(reap, { src: "192.0.2.1", dst: "10.0.0.1", udp: { sport: 1, dport: 1 } }, 0);
  run(reap, { src: "192.0.2.2", dst: "10.0.0.1", udp: { sport: 1, dport: 1 } }, 15);
  const t = reap.xt.recent.get("R") as RecentTable;
  assert.equal(t.count, 2);
  // 192.0.2.2 checked at 16: recent, matches; the least recently seen (192.0.2.1, 16 s old) is reaped
  assert.equal(
    run(reap, { src: "192.0.2.2", dst: "10.0.0.1", tcp: { sport: 1, dport: 2, flags: "S" } }, 16),
    Verdict.Drop,
  );
  assert.equal(t.count, 1);
});

test("hashlimit: a bucket per source (burst, then one per period), --hashlimit-above inverts", () => {
  const rs = chain([
    "-p udp -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 3 --hashlimit-mode srcip --hashlimit-name H -j ACCEPT",
    "-p udp -j DROP",
  ]);
  const p = (src: string): PacketSpec => ({ src, dst: "10.0.0.1", udp: { sport: 1, dport: 1 } });
  const at = (src: string, t: number) => run(rs, p(src), t) === Verdict.Accept;
  assert.deepEqual(
    [at("192.0.2.1", 10), at("192.0.2.1", 10), at("192.0.2.1", 10), at("192.0.2.1", 10)],
    [true, true, true, false],
  );
  // another source has its own bucket
  assert.equal(at("192.0.2.2", 10), true);
  // one credit per second: 249 jiffies are not enough, 250 are
  assert.equal(at("192.0.2.1", 10.996), false);
  assert.equal(at("192.0.2.1", 11), true);
  assert.equal(at("192.0.2.1", 11.5), false);
  const above = chain([
    "-p udp -m hashlimit --hashlimit-above 2/sec --hashlimit-burst 1 --hashlimit-mode srcip,dstport --hashlimit-srcmask 24 --hashlimit-name A -j DROP",
  ]);
  const q = (src: string, dport: number): PacketSpec => ({ src, dst: "10.0.0.1", udp: { sport: 1, dport } });
  assert.equal(run(above, q("192.0.2.1", 5), 0), Verdict.Accept);
  // the same /24 and port: over the limit
  assert.equal(run(above, q("192.0.2.99", 5), 0), Verdict.Drop);
  assert.equal(run(above, q("192.0.2.99", 6), 0), Verdict.Accept);
  assert.equal(run(above, q("192.0.2.99", 5), 0.5), Verdict.Accept);
});

test("hashlimit in bytes: the cost grows with the packet length", () => {
  const rs = chain([
    "-p udp -m hashlimit --hashlimit-upto 1kb/s --hashlimit-burst 2kb --hashlimit-mode srcip --hashlimit-name B -j ACCEPT",
    "-p udp -j DROP",
  ]);
  const big: PacketSpec = {
    src: "192.0.2.1",
    dst: "10.0.0.1",
    udp: { sport: 1, dport: 1, payload: new Uint8Array(972) },
  };
  const e = makeEnv();
  const times = [0, 0, 0, 0, 0, 0, 0.5, 1, 1, 1, 2, 2, 2, 5, 5, 5, 5, 5];
  const got = times.map((t) => (run(rs, big, t, {}, e) === Verdict.Accept ? "A" : "D")).join("");
  // what Linux 6.18 did with the same rule and 1000-byte packets sent at these times (on lo, in a
  // network namespace): one per second after the initial refills
  assert.equal(got, "AAADDDDADDADDADDDD");
});

function tcpTuple(src: string, dst: string, sport: number, dport: number): Tuple {
  const t = new Tuple();
  t.family = 4;
  t.proto = 6;
  parseAddr(4, src, t.src);
  parseAddr(4, dst, t.dst);
  t.srcPort = sport;
  t.dstPort = dport;
  return t;
}

test("connlimit: connections per /32 (or --connlimit-mask group); closed connections leave the count", () => {
  const rs = chain(["-p tcp --syn -m connlimit --connlimit-above 2 --connlimit-mask 32 -j DROP"]);
  const e = makeEnv();
  const conns: FakeConn[] = [];
  const open = (src: string, sport: number, now: number): number => {
    const c: FakeConn = {
      status: IPS.CONFIRMED,
      mark: 0,
      l4proto: 6,
      orig: tcpTuple(src, "10.0.0.1", sport, 22),
      reply: tcpTuple("10.0.0.1", src, 22, sport),
      expires: 1e9,
      tcpState: 1,
    };
    conns.push(c);
    const ct = e.ct.add(c);
    return run(rs, { src, dst: "10.0.0.1", tcp: { sport, dport: 22, flags: "S" } }, now, { ct }, e);
  };
  assert.equal(open("192.0.2.1", 1001, 0), Verdict.Accept);
  assert.equal(open("192.0.2.1", 1002, 0), Verdict.Accept);
  assert.equal(open("192.0.2.1", 1003, 0), Verdict.Drop);
  assert.equal(open("192.0.2.2", 1001, 0), Verdict.Accept);
  // the first goes to TIME_WAIT: checked again in a later jiffy, it leaves the list
  conns[0]!.tcpState = 7;
  conns[2]!.orig = tcpTuple("203.0.113.1", "10.0.0.1", 1, 1);
  conns[2]!.reply = tcpTuple("10.0.0.1", "203.0.113.1", 1, 1);
  assert.equal(open("192.0.2.1", 1004, 1), Verdict.Accept);
  assert.equal(open("192.0.2.1", 1005, 1), Verdict.Drop);
  // --connlimit-upto with a /24 mask and the destination address
  const up = chain(["-p tcp --syn -m connlimit --connlimit-upto 1 --connlimit-mask 24 --connlimit-daddr -j DROP"]);
  const e2 = makeEnv();
  const pkt = (dst: string, sport: number): PacketSpec => ({
    src: "192.0.2.1",
    dst,
    tcp: { sport, dport: 80, flags: "S" },
  });
  // without a connection the packet's own tuple is counted
  assert.equal(run(up, pkt("10.1.1.1", 1), 0, {}, e2), Verdict.Drop);
  assert.equal(run(up, pkt("10.1.1.2", 2), 0, {}, e2), Verdict.Accept);
});

test("nfacct: matches always and counts packets and bytes in the named object, shared by rules", () => {
  const rs = chain(["-p udp -m nfacct --nfacct-name web", "-p tcp -m nfacct --nfacct-name web -j DROP"]);
  run(rs, { src: "192.0.2.1", dst: "10.0.0.1", udp: { sport: 1, dport: 1 } }, 0);
  assert.equal(
    run(rs, { src: "192.0.2.1", dst: "10.0.0.1", tcp: { sport: 1, dport: 1, flags: "S" } }, 0),
    Verdict.Drop,
  );
  const o = rs.xt.nfacct.get("web")!;
  assert.equal(o.packets, 2);
  assert.equal(o.bytes, 28 + 40);
  assert.equal(o.format(), "{ pkts = 00000000000000000002, bytes = 00000000000000000068 } = web;");
});

test("frag (ip6tables): id range, first, more, last, reserved; no fragment header: no match", () => {
  const rs = (m: string) => chain([`${m} -j DROP`], 6);
  const frag = (offset: number, more: boolean, id = 7, reserved = 0): PacketSpec => ({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [{ type: "fragment", offset, more, id, reserved }],
    udp: { sport: 1, dport: 1 },
  });
  const m = (rule: string, spec: PacketSpec) => run(rs(rule), spec, 0) === Verdict.Drop;
  assert.equal(m("-m frag --fragid 5:10", frag(0, true)), true);
  assert.equal(m("-m frag --fragid 8:10", frag(0, true)), false);
  assert.equal(m("-m frag ! --fragid 8:10", frag(0, true)), true);
  assert.equal(m("-m frag --fragid 7", frag(0, true)), true);
  assert.equal(m("-m frag --fragfirst", frag(0, true)), true);
  assert.equal(m("-m frag --fragfirst", frag(8, true)), false);
  assert.equal(m("-m frag --fragmore", frag(8, true)), true);
  assert.equal(m("-m frag --fraglast", frag(8, true)), false);
  assert.equal(m("-m frag --fraglast", frag(8, false)), true);
  assert.equal(m("-m frag --fragres", frag(0, false)), true);
  assert.equal(m("-m frag --fragres", frag(0, false, 7, 1)), false);
  // --fraglen is never tested (as in Linux)
  assert.equal(m("-m frag --fraglen 99", frag(0, false)), true);
  assert.equal(
    m("-m frag --fragid 0:4294967295", { src: "fd00::1", dst: "fd00::2", udp: { sport: 1, dport: 1 } }),
    false,
  );
});

test("policy --pol none matches every packet (no IPsec); --pol ipsec is refused as unsupported", () => {
  const rs = chain(["-m policy --dir in --pol none -j DROP"]);
  assert.equal(run(rs, ssh("192.0.2.1"), 0), Verdict.Drop);
  assert.throws(
    () => chain(["-m policy --dir in ! --pol none -j DROP"]),
    (e: unknown) => isRulesetError(e) && /^rules:5:31: policy: option "--pol" cannot be inverted/.test(e.message),
  );
  const out = chain(["-m policy --dir out --pol none -j DROP"], 4, "OUTPUT");
  assert.equal(run(out, ssh("10.0.0.1"), 0, { hook: Hook.Output, inIf: -1, outIf: 1 }), Verdict.Drop);
  assert.throws(
    () => chain(["-m policy --dir in --pol ipsec --proto esp -j ACCEPT"]),
    (e: unknown) => isUnsupportedError(e) && /ipsec/i.test(e.message),
  );
  assert.throws(
    () => chain(["-m policy --dir out --pol none -j ACCEPT"]),
    (e: unknown) => isRulesetError(e) && /^rules:\d+:\d+: /.test(e.message),
  );
});

test("hashlimit byte rates: the suffix is exactly [k|m]b/s; under 16b/s a burst is refused (iptables 1.8.9 dies of SIGFPE there)", () => {
  // iptables itself saves 1b/s as 0b/s (cost_to_bytes rounds it away)
  const low = chain(["-m hashlimit --hashlimit-upto 1b/s --hashlimit-name L"]);
  assert.match(low.save(), /--hashlimit-upto 0b\/s --hashlimit-name L/);
  assert.throws(
    () => chain(["-m hashlimit --hashlimit-upto 1b/s --hashlimit-burst 2mb --hashlimit-name L"]),
    (e: unknown) => isRulesetError(e) && /below 16b\/s cannot take --hashlimit-burst/.test(e.message),
  );
  const ok = chain(["-m hashlimit --hashlimit-upto 16b/s --hashlimit-burst 2mb --hashlimit-name L"]);
  assert.match(ok.save(), /--hashlimit-upto 16b\/s --hashlimit-burst 2mb --hashlimit-name L/);
  // anything else is parse_rate's: atoi of the text, the unit after the slash
  for (const rate of ["1\u0000b/s", "1xb/s", "1b/sec"]) {
    assert.match(
      chain([`-m hashlimit --hashlimit-upto ${rate} --hashlimit-name L`]).save(),
      /--hashlimit-upto 1\/sec /,
    );
  }
  assert.throws(
    () => chain(["-m hashlimit --hashlimit-upto kb/s --hashlimit-name L"]),
    (e: unknown) => isRulesetError(e) && /bad value for option "--hashlimit-upto"/.test(e.message),
  );
});
