/**
 * IP sets at packet time and at load: `ipset save` / `ipset list` texts, each implemented type's lookup
 * (Linux ip_set_hash_*, bitmap_port, list_set), nomatch elements and --return-nomatch, timeouts and
 * counters, -j SET, and the load errors (IpsetError and the ruleset's own, with line and column).
 * Save/print round trips are in oracle.test.ts (recorded with iptables 1.8.9), end-to-end behaviour in
 * the kernel scenario rules-ipset.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hook, Verdict } from "../../core/netfilter.js";
import type { PacketSpec } from "../../wire/build.js";
import { isRulesetError, isUnsupportedError, loadRuleset, type Ruleset, TableId } from "../index.js";
import { makeEnv, makeSkb } from "../testdata/fakes.js";
import { XtState } from "../xt-state.js";
import { IpsetError, parseIpsets } from "./parse.js";

/** load: sets from `sets`, FORWARD rules `rules` (one per line, without -A FORWARD) */
function load(sets: string, rules: string[], family = 4): Ruleset {
  const xt = new XtState(parseIpsets(sets, "sets"));
  const body = rules.map((r) => `-A FORWARD ${r}\n`).join("");
  return loadRuleset(`*filter\n:FORWARD ACCEPT [0:0]\n${body}COMMIT\n`, { family, xt, file: "rules" });
}

/** dropped: whether FORWARD drops the packet at time `now` */
function dropped(rs: Ruleset, spec: PacketSpec, now = 0): boolean {
  const e = makeEnv();
  const skb = makeSkb(spec, { hook: Hook.Forward, outIf: 2, now });
  return rs.run(TableId.Filter, Hook.Forward, skb, e.env) === Verdict.Drop;
}

const udp = (src: string, dst: string, sport = 40000, dport = 53): PacketSpec => ({
  src,
  dst,
  udp: { sport, dport },
});
const tcp = (src: string, dst: string, sport = 40000, dport = 80): PacketSpec => ({
  src,
  dst,
  tcp: { sport, dport, flags: "S" },
});

test("hash:net: the most specific prefix decides, nomatch elements exclude, --return-nomatch inverts", () => {
  const sets = [
    "create nets hash:net family inet hashsize 1024 maxelem 65536",
    "add nets 10.0.0.0/8",
    "add nets 10.1.0.0/16 nomatch",
    "add nets 10.1.2.0/24",
    "add nets 192.168.5.7",
  ].join("\n");
  const rs = load(sets, ["-m set --match-set nets src -j DROP"]);
  assert.equal(dropped(rs, udp("10.9.9.9", "1.1.1.1")), true);
  assert.equal(dropped(rs, udp("10.1.3.3", "1.1.1.1")), false);
  assert.equal(dropped(rs, udp("10.1.2.3", "1.1.1.1")), true);
  assert.equal(dropped(rs, udp("192.168.5.7", "1.1.1.1")), true);
  assert.equal(dropped(rs, udp("192.168.5.8", "1.1.1.1")), false);
  // --return-nomatch: an element found as nomatch matches, a matching element does not
  const rn = load(sets, ["-m set --match-set nets src --return-nomatch -j DROP"]);
  assert.equal(dropped(rn, udp("10.1.3.3", "1.1.1.1")), true);
  assert.equal(dropped(rn, udp("10.9.9.9", "1.1.1.1")), false);
  assert.equal(dropped(rn, udp("172.16.0.1", "1.1.1.1")), false);
  // negated
  const neg = load(sets, ["-m set ! --match-set nets dst -j DROP"]);
  assert.equal(dropped(neg, udp("1.1.1.1", "10.1.3.3")), true);
  assert.equal(dropped(neg, udp("1.1.1.1", "10.2.0.1")), false);
});

test("hash:net: an address range is split into prefixes, as ipset does", () => {
  const rs = load("create r hash:net family inet\nadd r 10.0.0.3-10.0.0.9\n", ["-m set --match-set r dst -j DROP"]);
  const hits = [];
  for (let i = 0; i <= 11; i++) if (dropped(rs, udp("1.1.1.1", `10.0.0.${i}`))) hits.push(i);
  assert.deepEqual(hits, [3, 4, 5, 6, 7, 8, 9]);
  const reg = parseIpsets("create r hash:net family inet\nadd r 10.0.0.3-10.0.0.9\n");
  // 10.0.0.3/32, .4/30, .8/31
  assert.equal(reg.get("r")!.size(0), 3);
});

test("hash:ip with netmask 24 stores and looks up the /24 of each address", () => {
  const rs = load("create bl hash:ip family inet netmask 24\nadd bl 10.77.1.64\n", [
    "-m set --match-set bl src -j DROP",
  ]);
  assert.equal(dropped(rs, udp("10.77.1.200", "1.1.1.1")), true);
  assert.equal(dropped(rs, udp("10.77.2.1", "1.1.1.1")), false);
  // a prefix in a hash:ip element is each address of it
  const reg = parseIpsets("create h hash:ip family inet\nadd h 10.0.0.0/30\n");
  assert.equal(reg.get("h")!.size(0), 4);
});

test("hash:ip,port: protocol and port are part of the element; ICMP type/code; port ranges expand", () => {
  const sets = [
    "create svc hash:ip,port family inet hashsize 1024 maxelem 65536",
    "add svc 10.0.0.2,udp:53",
    "add svc 10.0.0.2,tcp:80",
    "add svc 10.0.0.2,8000-8002",
    "add svc 10.0.0.2,icmp:echo-request",
    "add svc 10.0.0.3,icmp:3/1",
  ].join("\n");
  const rs = load(sets, ["-m set --match-set svc dst,dst -j DROP"]);
  assert.equal(dropped(rs, udp("1.1.1.1", "10.0.0.2", 40000, 53)), true);
  assert.equal(dropped(rs, tcp("1.1.1.1", "10.0.0.2", 40000, 53)), false);
  assert.equal(dropped(rs, tcp("1.1.1.1", "10.0.0.2", 40000, 80)), true);
  assert.equal(dropped(rs, udp("1.1.1.1", "10.0.0.2", 40000, 80)), false);
  // a port without protocol is TCP
  assert.equal(dropped(rs, tcp("1.1.1.1", "10.0.0.2", 40000, 8001)), true);
  assert.equal(dropped(rs, udp("1.1.1.1", "10.0.0.2", 40000, 8001)), false);
  assert.equal(dropped(rs, tcp("1.1.1.1", "10.0.0.2", 40000, 8003)), false);
  assert.equal(dropped(rs, { src: "1.1.1.1", dst: "10.0.0.2", icmp: { type: 8, code: 0, id: 1, seq: 1 } }), true);
  assert.equal(dropped(rs, { src: "1.1.1.1", dst: "10.0.0.2", icmp: { type: 0, code: 0, id: 1, seq: 1 } }), false);
  // the src,dst directions: address from the source, port from the destination
  const mixed = load(sets, ["-m set --match-set svc src,dst -j DROP"]);
  assert.equal(dropped(mixed, tcp("10.0.0.2", "9.9.9.9", 40000, 80)), true);
  assert.equal(dropped(mixed, tcp("9.9.9.9", "10.0.0.2", 40000, 80)), false);
  // a rule with fewer directions than the set's dimension never matches
  const short = load(sets, ["-m set --match-set svc dst -j DROP"]);
  assert.equal(dropped(short, tcp("1.1.1.1", "10.0.0.2", 40000, 80)), false);
  // a non-first fragment has no ports: no match
  assert.equal(dropped(rs, { ...udp("1.1.1.1", "10.0.0.2", 40000, 53), fragOff: 8 }), false);
});

test("hash:ip,port,ip (kube-proxy KUBE-LOOP-BACK dst,dst,src) and hash:net,port", () => {
  const sets = [
    "create KUBE-LOOP-BACK hash:ip,port,ip family inet hashsize 1024 maxelem 65536",
    "add KUBE-LOOP-BACK 10.244.1.5,tcp:8080,10.244.1.5",
    "create np hash:net,port family inet",
    "add np 10.244.0.0/16,tcp:8080",
    "add np 10.244.9.0/24,tcp:8080 nomatch",
  ].join("\n");
  const rs = load(sets, ["-m set --match-set KUBE-LOOP-BACK dst,dst,src -j DROP"]);
  assert.equal(dropped(rs, tcp("10.244.1.5", "10.244.1.5", 40000, 8080)), true);
  assert.equal(dropped(rs, tcp("10.244.1.6", "10.244.1.5", 40000, 8080)), false);
  const np = load(sets, ["-m set --match-set np src,dst -j DROP"]);
  assert.equal(dropped(np, tcp("10.244.3.3", "1.1.1.1", 40000, 8080)), true);
  assert.equal(dropped(np, tcp("10.244.9.3", "1.1.1.1", 40000, 8080)), false);
  assert.equal(dropped(np, tcp("10.244.3.3", "1.1.1.1", 40000, 8081)), false);
});

test("bitmap:port: TCP and UDP ports in the range, other protocols never", () => {
  const rs = load("create ports bitmap:port range 0-1024\nadd ports 22\nadd ports 100-102\n", [
    "-m set --match-set ports dst -j DROP",
  ]);
  assert.equal(dropped(rs, tcp("1.1.1.1", "2.2.2.2", 40000, 22)), true);
  assert.equal(dropped(rs, udp("1.1.1.1", "2.2.2.2", 40000, 101)), true);
  assert.equal(dropped(rs, udp("1.1.1.1", "2.2.2.2", 40000, 103)), false);
  assert.equal(dropped(rs, tcp("1.1.1.1", "2.2.2.2", 40000, 2000)), false);
  assert.equal(dropped(rs, { src: "1.1.1.1", dst: "2.2.2.2", icmp: { type: 8, code: 0, id: 22, seq: 22 } }), false);
  // a bitmap:port set is usable from ip6tables too
  const six = load(
    "create ports bitmap:port range 0-1024\nadd ports 22\n",
    ["-m set --match-set ports dst -j DROP"],
    6,
  );
  assert.equal(dropped(six, tcp("fd00::1", "fd00::2", 40000, 22)), true);
});

test("list:set: the members in order, the first that matches", () => {
  const sets = [
    "create a hash:ip family inet",
    "add a 10.0.0.1",
    "create b hash:ip,port family inet",
    "add b 10.0.0.2,udp:53",
    "create v6 hash:ip family inet6",
    "add v6 fd00::1",
    "create lst list:set size 8",
    "add lst a",
    "add lst b",
    "add lst v6",
  ].join("\n");
  const rs = load(sets, ["-m set --match-set lst dst,dst -j DROP"]);
  assert.equal(dropped(rs, udp("1.1.1.1", "10.0.0.1", 40000, 9)), true);
  assert.equal(dropped(rs, udp("1.1.1.1", "10.0.0.2", 40000, 53)), true);
  assert.equal(dropped(rs, udp("1.1.1.1", "10.0.0.2", 40000, 54)), false);
  const six = load(sets, ["-m set --match-set lst dst -j DROP"], 6);
  assert.equal(dropped(six, udp("fd00::9", "fd00::1")), true);
  assert.equal(dropped(six, udp("fd00::9", "fd00::2")), false);
});

test("IPv6 sets: hash:net family inet6", () => {
  const rs = load(
    "create n6 hash:net family inet6\nadd n6 2001:db8::/32\nadd n6 2001:db8:1::/48 nomatch\n",
    ["-m set --match-set n6 src -j DROP"],
    6,
  );
  assert.equal(dropped(rs, udp("2001:db8:2::1", "fd00::1")), true);
  assert.equal(dropped(rs, udp("2001:db8:1::1", "fd00::1")), false);
  assert.equal(dropped(rs, udp("2001:db9::1", "fd00::1")), false);
});

test("timeouts: dump elements expire after their remaining seconds; SET --add-set with and without --exist; --del-set", () => {
  const sets = [
    "create seen hash:ip family inet hashsize 1024 maxelem 65536 timeout 10 counters",
    "add seen 10.0.0.1 timeout 3 packets 5 bytes 500",
  ].join("\n");
  const rs = load(sets, [
    "-p udp --dport 1 -j SET --add-set seen src",
    "-p udp --dport 2 -j SET --add-set seen src --exist --timeout 20",
    "-p udp --dport 3 -j SET --del-set seen src",
    "-p udp --dport 9 -m set --match-set seen src -j DROP",
  ]);
  const probe = (src: string, now: number) => dropped(rs, udp(src, "2.2.2.2", 40000, 9), now);
  // the dump's remaining time counts from the first use
  assert.equal(probe("10.0.0.1", 100), true);
  assert.equal(probe("10.0.0.1", 102.9), true);
  assert.equal(probe("10.0.0.1", 103.1), false);
  // added with the set's default timeout (10 s)
  dropped(rs, udp("10.0.0.2", "2.2.2.2", 40000, 1), 110);
  assert.equal(probe("10.0.0.2", 119.9), true);
  // --add-set without --exist does not refresh
  dropped(rs, udp("10.0.0.2", "2.2.2.2", 40000, 1), 115);
  assert.equal(probe("10.0.0.2", 120.1), false);
  // --exist refreshes, with --timeout's value
  dropped(rs, udp("10.0.0.3", "2.2.2.2", 40000, 1), 130);
  dropped(rs, udp("10.0.0.3", "2.2.2.2", 40000, 2), 135);
  assert.equal(probe("10.0.0.3", 154.9), true);
  assert.equal(probe("10.0.0.3", 155.1), false);
  dropped(rs, udp("10.0.0.4", "2.2.2.2", 40000, 1), 160);
  dropped(rs, udp("10.0.0.4", "2.2.2.2", 40000, 3), 161);
  assert.equal(probe("10.0.0.4", 162), false);
});

test("counters: a lookup counts the packet first (unless ! --update-counters), then --packets-* / --bytes-* compare", () => {
  const sets = "create c hash:ip family inet counters\nadd c 10.0.0.1 packets 1 bytes 10\n";
  const rs = load(sets, ["-m set --match-set c src --packets-gt 2 -j DROP"]);
  const p = udp("10.0.0.1", "2.2.2.2");
  // Linux ip_set_match_extensions updates the counter before comparing: 2 > 2 no, 3 > 2 yes
  assert.equal(dropped(rs, p), false);
  assert.equal(dropped(rs, p), true);
  const still = load(sets, ["-m set --match-set c src ! --update-counters --packets-gt 1 -j DROP"]);
  assert.equal(dropped(still, p), false);
  assert.equal(dropped(still, p), false);
  const eq = load(sets, ["-m set --match-set c src --packets-eq 3 -j DROP"]);
  assert.deepEqual([dropped(eq, p), dropped(eq, p), dropped(eq, p)], [false, true, false]);
  const ne = load(sets, ["-m set --match-set c src ! --packets-eq 2 -j DROP"]);
  assert.deepEqual([dropped(ne, p), dropped(ne, p)], [false, true]);
  // bytes: the IP packet length (28 bytes of this UDP packet)
  const bytes = load(sets, ["-m set --match-set c src --bytes-lt 60 -j DROP"]);
  assert.deepEqual([dropped(bytes, p), dropped(bytes, p)], [true, false]);
  // a set without counters: the comparisons are skipped (Linux tests them only SET_WITH_COUNTER)
  const none = load("create n hash:ip family inet\nadd n 10.0.0.1\n", [
    "-m set --match-set n src --packets-gt 5 -j DROP",
  ]);
  assert.equal(dropped(none, p), true);
});

test("ipset list text loads like ipset save text", () => {
  const listing = [
    "Name: allow",
    "Type: hash:net",
    "Revision: 7",
    "Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x5c2a7d3e",
    "Size in memory: 504",
    "References: 1",
    "Number of entries: 2",
    "Members:",
    "10.77.1.0/24",
    "10.77.1.128/25 nomatch",
    "",
    "Name: ports",
    "Type: bitmap:port",
    "Revision: 3",
    "Header: range 0-1024",
    "Size in memory: 264",
    "References: 0",
    "Number of entries: 1",
    "Members:",
    "22",
    "",
  ].join("\n");
  const reg = parseIpsets(listing, "list.txt");
  assert.deepEqual([...reg.sets.keys()], ["allow", "ports"]);
  const rs = loadRuleset("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set allow src -j DROP\nCOMMIT\n", {
    xt: new XtState(reg),
  });
  assert.equal(dropped(rs, udp("10.77.1.5", "1.1.1.1")), true);
  assert.equal(dropped(rs, udp("10.77.1.200", "1.1.1.1")), false);
});

test("ipset text errors name the file, line and column", () => {
  const bad = (text: string, re: RegExp) =>
    assert.throws(
      () => parseIpsets(text, "sets.txt"),
      (e: unknown) => e instanceof IpsetError && re.test(e.message),
    );
  bad("create a hash:ip family inet\nadd a 10.0.0.300\n", /^sets\.txt:2:7: bad address '10\.0\.0\.300'/);
  bad("create a hash:ip family inet\nadd b 10.0.0.1\n", /^sets\.txt:2:5: set 'b' does not exist/);
  bad("create a hash:ip family inet\nadd a 10.0.0.1 nomatch\n", /^sets\.txt:2:16: the hash:ip type has no nomatch/);
  bad("create a hash:ip family inet\nadd a 10.0.0.1 timeout 5\n", /^sets\.txt:2:16: .*without timeout support/);
  bad("create a hash:ip,port family inet\nadd a 10.0.0.1\n", /^sets\.txt:2:7: element '10\.0\.0\.1' has 1 part/);
  bad("create a hash:ip family inet\ncreate a hash:net\n", /^sets\.txt:2:8: set 'a' is created twice/);
  bad("create a hash:ip family ipx\n", /^sets\.txt:1:25: unknown family 'ipx'/);
  bad("create p bitmap:port range 10-20\nadd p 30\n", /^sets\.txt:2:7: port 30 is outside/);
  bad("flush\n", /^sets\.txt:1:1: 'flush' is not a line/);
  bad(
    "create l list:set size 1\ncreate a hash:ip\ncreate b hash:ip\nadd l a\nadd l b\n",
    /^sets\.txt:5:7: list:set 'l' is full/,
  );
});

test("rules naming a missing set, a set of the other family or an unimplemented type are refused at load", () => {
  const sets = "create v4 hash:ip family inet\ncreate gen hash:mac\n";
  const refused = (rule: string, family: number, pred: (e: unknown) => boolean) =>
    assert.throws(() => load(sets, [rule], family), pred);
  refused(
    "-m set --match-set nope src -j DROP",
    4,
    (e) => isRulesetError(e) && /^rules:3:31: Set nope doesn't exist/.test(e.message),
  );
  refused(
    "-j SET --add-set nope src",
    4,
    (e) => isRulesetError(e) && /^rules:3:\d+: Set nope doesn't exist/.test(e.message),
  );
  refused(
    "-m set --match-set v4 src -j DROP",
    6,
    (e) => isRulesetError(e) && /family of set v4 is IPv4/.test(e.message),
  );
  refused("-m set --match-set gen src -j DROP", 4, (e) => isUnsupportedError(e) && /hash:mac/.test(e.message));
  refused("-m set --match-set v4 sideways -j DROP", 4, (e) => isRulesetError(e) && /'src' or 'dst'/.test(e.message));
  // without an --ipsets input, every set is missing
  assert.throws(
    () => loadRuleset("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m set --match-set x src -j DROP\nCOMMIT\n"),
    (e: unknown) => isRulesetError(e) && /Set x doesn't exist/.test(e.message),
  );
});

test("a large hash:ip set answers lookups without allocating per packet", () => {
  const lines = ["create big hash:ip family inet maxelem 131072"];
  for (let i = 0; i < 100000; i++) lines.push(`add big 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const rs = load(lines.join("\n"), ["-m set --match-set big dst -j DROP"]);
  const e = makeEnv();
  const hit = makeSkb(udp("1.1.1.1", "10.1.2.3"), { hook: Hook.Forward, outIf: 2 });
  const miss = makeSkb(udp("1.1.1.1", "10.200.2.3"), { hook: Hook.Forward, outIf: 2 });
  let drops = 0;
  for (let i = 0; i < 20000; i++) {
    if (rs.run(TableId.Filter, Hook.Forward, hit, e.env) === Verdict.Drop) drops++;
    if (rs.run(TableId.Filter, Hook.Forward, miss, e.env) === Verdict.Drop) drops += 1000000;
  }
  assert.equal(drops, 20000);
});
