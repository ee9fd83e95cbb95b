/**
 * Table-level behaviour: the NAT-facing API, confirm and clash resolution, early drop, table full,
 * garbage collection, expiry on lookup, deletion and flush, hooks, events, accounting, growth, IPv6,
 * untracked and invalid packets.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CtInfo, Dir, Hook, IPS, Verdict } from "../core/netfilter.js";
import { Skb } from "../core/skb.js";
import { Tuple } from "../core/tuple.js";
import { parseAddr } from "../wire/addr.js";
import { buildPacket, type PacketSpec } from "../wire/build.js";
import { parsePacket } from "../wire/parse.js";
import { ctConfigFromSysctl, defaultCtConfig, TcpCtState } from "./config.js";
import { Conntrack, CT_V6, CtEvent, ctFamily, ctSlot } from "./conntrack.js";
import { formatEntry, formatStats } from "./format.js";
import { CtReason } from "./reasons.js";
import { Gateway } from "./testing.js";

const A = "10.1.1.1";
const B = "10.2.2.2";

function udp(sport: number, dport: number, src = A, dst = B): PacketSpec {
  return { src, dst, udp: { sport, dport, payload: "x" } };
}

function tuple(src: string, dst: string, proto: number, sport: number, dport: number): Tuple {
  const t = new Tuple();
  const s = parseAddr(src);
  t.family = src.includes(":") ? 6 : 4;
  t.proto = proto;
  t.src.set(s);
  t.dst.set(parseAddr(dst));
  t.srcPort = sport;
  t.dstPort = dport;
  return t;
}

/** a table of at most `max` entries; early drop's 8 chains out of `buckets` (8: all of them) */
function withMax(max: number, buckets = 8): Gateway {
  const sysctl = new Map([
    ["net.netfilter.nf_conntrack_max", String(max)],
    ["net.netfilter.nf_conntrack_buckets", String(buckets)],
  ]);
  return new Gateway({ config: ctConfigFromSysctl(sysctl) });
}

/** make a UDP flow ASSURED: request, answer, and a packet after the 2 s stream mark */
function assure(g: Gateway, sport: number): void {
  g.send(udp(sport, 53));
  g.send(udp(53, sport, B, A));
  g.wait(2.1);
  g.send(udp(sport, 53));
}

describe("in / confirm / release", () => {
  test("a new connection is UNCONFIRMED until confirm, then in the table", () => {
    const g = new Gateway();
    const r = g.send(udp(1000, 53), { confirm: false });
    assert.equal(r.verdict, Verdict.Accept);
    assert.equal(r.ctInfo, CtInfo.New);
    assert.ok(r.ct >= 0);
    assert.equal(g.ct.status(r.ct) & IPS.CONFIRMED, 0);
    assert.equal(g.list().length, 0, "unconfirmed entries are not listed");
    assert.equal(g.ct.count(), 1, "but counted");
    // a second packet of the same flow before confirm does not find the unconfirmed entry
    const r2 = g.send(udp(1000, 53), { confirm: false });
    assert.notEqual(r2.ct, r.ct);
    g.skb.ct = r.ct;
    g.skb.ctInfo = CtInfo.New;
    assert.equal(g.ct.confirm(g.skb), Verdict.Accept);
    assert.equal(g.ct.status(r.ct) & IPS.CONFIRMED, IPS.CONFIRMED);
    assert.equal(g.list().length, 1);
  });

  test("release frees an unconfirmed entry (destroy hook once), and is harmless otherwise", () => {
    const g = new Gateway();
    const destroyed: number[] = [];
    g.ct.setDestroyHook((ct) => destroyed.push(ct));
    const r = g.send(udp(1000, 53), { confirm: false });
    g.ct.release(g.skb);
    assert.deepEqual(destroyed, [r.ct]);
    assert.equal(g.skb.ct, -1);
    assert.equal(g.ct.count(), 0);
    g.ct.release(g.skb);
    const r2 = g.send(udp(1001, 53));
    g.ct.release(g.skb);
    assert.equal(g.ct.count(), 1, "a confirmed entry is not released");
    assert.deepEqual(destroyed, [r.ct]);
    assert.ok(r2.ct >= 0);
  });

  test("a packet that already has an entry, or is UNTRACKED, is left alone", () => {
    const g = new Gateway();
    const skb = g.skb;
    const bytes = buildPacket(udp(1, 2));
    skb.reset(g.now, 0);
    parsePacket(skb.pi, bytes, 0, bytes.length);
    skb.notrack = true;
    assert.equal(g.ct.in(skb, Hook.Prerouting), Verdict.Accept);
    assert.equal(skb.ctInfo, CtInfo.Untracked);
    assert.equal(skb.ct, -1);
    assert.equal(g.ct.in(skb, Hook.Prerouting), Verdict.Accept);
    assert.equal(g.ct.count(), 0);
    skb.reset(g.now, 0);
    parsePacket(skb.pi, bytes, 0, bytes.length);
    skb.ct = 5;
    skb.ctInfo = CtInfo.Established;
    g.ct.in(skb, Hook.Output);
    assert.equal(skb.ct, 5);
    assert.equal(g.ct.count(), 0);
  });

  test("INVALID: no entry, ctInfo None, stat and reason", () => {
    const g = new Gateway();
    const r = g.send({ src: A, dst: B, tcp: { sport: 1, dport: 2, flags: "SF" } });
    assert.equal(r.ct, -1);
    assert.equal(r.ctInfo, CtInfo.None);
    assert.equal(r.reason, CtReason.TcpBadFlags);
    assert.equal(g.ct.stats.invalid, 1);
  });

  test("a non-first fragment is INVALID (defrag could not reassemble it)", () => {
    const g = new Gateway();
    const r = g.send({ src: A, dst: B, fragOff: 64, proto: 17, payload: "abcdefgh" });
    assert.equal(r.ct, -1);
    assert.equal(r.reason, CtReason.Fragment);
    const r6 = g.send({
      src: "fd00::1",
      dst: "fd00::2",
      ext: [{ type: "fragment", offset: 64 }],
      proto: 17,
      payload: "x",
    });
    assert.equal(r6.reason, CtReason.Fragment);
    assert.equal(g.ct.stats.invalid, 2);
  });

  test("checksums are verified at PREROUTING only", () => {
    const g = new Gateway();
    const bad: PacketSpec = { src: A, dst: B, udp: { sport: 7, dport: 8, checksum: "bad" } };
    assert.equal(g.send(bad).reason, CtReason.UdpBadChecksum);
    const r = g.send(bad, { hook: Hook.Output });
    assert.ok(r.ct >= 0, "OUTPUT does not check");
  });

  test("ctinfo: NEW, ESTABLISHED_REPLY, then ESTABLISHED", () => {
    const g = new Gateway();
    assert.equal(g.send(udp(5, 6)).ctInfo, CtInfo.New);
    assert.equal(g.send(udp(5, 6)).ctInfo, CtInfo.New, "still NEW until a reply");
    assert.equal(g.send(udp(6, 5, B, A)).ctInfo, CtInfo.EstablishedReply);
    assert.equal(g.send(udp(5, 6)).ctInfo, CtInfo.Established);
  });
});

describe("RELATED ICMP errors", () => {
  test("an error for a connection is RELATED / RELATED_REPLY and refreshes nothing", () => {
    const g = new Gateway();
    const orig = buildPacket(udp(4000, 53));
    const r = g.send(orig);
    g.wait(5);
    const e = g.send({ src: B, dst: A, icmp: { type: 3, code: 3, embed: orig, embedLen: 28 } });
    assert.equal(e.ct, r.ct);
    assert.equal(e.ctInfo, CtInfo.RelatedReply);
    assert.equal(g.ct.expiresIn(r.ct, g.now), 25);
    // an error about the reply direction, travelling in the original direction
    const reply = buildPacket(udp(53, 4000, B, A));
    const e2 = g.send({ src: A, dst: B, icmp: { type: 11, code: 0, embed: reply, embedLen: 28 } });
    assert.equal(e2.ct, r.ct);
    assert.equal(e2.ctInfo, CtInfo.Related);
    assert.equal(g.ct.count(), 1);
  });

  test("IPv6: destination unreachable is RELATED; ND is UNTRACKED", () => {
    const g = new Gateway();
    const orig = buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { sport: 9, dport: 53 } });
    const r = g.send(orig);
    assert.ok((r.ct & CT_V6) !== 0);
    const e = g.send({ src: "fd00::2", dst: "fd00::1", icmp6: { type: 1, code: 4, embed: orig } });
    assert.equal(e.ct, r.ct);
    assert.equal(e.ctInfo, CtInfo.RelatedReply);
    const ns = g.send({ src: "fd00::1", dst: "ff02::1:ff00:2", ttl: 255, icmp6: { type: 135, code: 0 } });
    assert.equal(ns.ctInfo, CtInfo.Untracked);
    assert.equal(g.ct.stats.invalid + g.ct.stats.error, 0);
  });

  test("an error about no connection counts `error`, not `invalid`", () => {
    const g = new Gateway();
    const e = g.send({ src: B, dst: A, icmp: { type: 3, code: 3, embed: buildPacket(udp(1, 2)), embedLen: 28 } });
    assert.equal(e.ct, -1);
    assert.equal(e.reason, CtReason.IcmpNoRelated);
    assert.equal(g.ct.stats.error, 1);
    assert.equal(g.ct.stats.invalid, 0);
  });
});

describe("NAT support", () => {
  test("setTuple changes the reply tuple of an unconfirmed entry only; confirm hashes the new tuple", () => {
    const g = new Gateway();
    const r = g.send(udp(1234, 53), { confirm: false });
    const t = new Tuple();
    g.ct.tuple(r.ct, Dir.Reply, t);
    assert.equal(t.srcPort, 53);
    assert.equal(t.dstPort, 1234);
    const natted = tuple(B, "192.0.2.1", 17, 53, 61000);
    assert.ok(g.ct.setTuple(r.ct, Dir.Reply, natted));
    g.ct.setStatus(r.ct, IPS.SRC_NAT | IPS.SRC_NAT_DONE);
    assert.equal(g.ct.confirm(g.skb), Verdict.Accept);
    assert.equal(g.ct.setTuple(r.ct, Dir.Reply, natted), false, "confirmed entries are immutable");
    // the reply arrives for the NATed address
    const rep = g.send(udp(53, 61000, B, "192.0.2.1"));
    assert.equal(rep.ct, r.ct);
    assert.equal(rep.ctInfo, CtInfo.EstablishedReply);
    assert.equal(g.ct.status(r.ct) & (IPS.SRC_NAT | IPS.SEEN_REPLY), IPS.SRC_NAT | IPS.SEEN_REPLY);
    g.ct.clearStatus(r.ct, IPS.SRC_NAT);
    assert.equal(g.ct.status(r.ct) & IPS.SRC_NAT, 0);
    assert.match(g.list()[0], /src=10\.2\.2\.2 dst=192\.0\.2\.1 sport=53 dport=61000/);
  });

  test("tupleTaken: either direction of another live confirmed entry; the same original flow is ignored", () => {
    const g = new Gateway();
    const first = g.send(udp(1000, 53)).ct;
    const second = g.send(udp(1000, 53), { confirm: false }).ct;
    const replyOfFirst = tuple(B, A, 17, 53, 1000);
    assert.equal(g.ct.tupleTaken(replyOfFirst, -1), true);
    assert.equal(g.ct.tupleTaken(replyOfFirst, second), false, "same original tuple: left to clash resolution");
    assert.equal(g.ct.tupleTaken(tuple(A, B, 17, 1000, 53), -1), true, "original direction too");
    assert.equal(g.ct.tupleTaken(tuple(A, B, 17, 1001, 53), -1), false);
    assert.equal(g.ct.tupleTaken(replyOfFirst, first), false, "the ignored entry itself");
    assert.equal(g.ct.stats.found, 2);
    g.wait(31);
    g.ct.setNow(g.now);
    assert.equal(g.ct.tupleTaken(replyOfFirst, -1), false, "expired entries do not count");
  });

  test("findTuple gives the entry and the direction that matched", () => {
    const g = new Gateway();
    const ct = g.send(udp(1000, 53)).ct;
    g.ct.setNow(g.now);
    assert.equal(g.ct.findTuple(tuple(B, A, 17, 53, 1000)), ct);
    assert.equal(g.ct.foundDir, Dir.Reply);
    assert.equal(g.ct.findTuple(tuple(A, B, 17, 1000, 53)), ct);
    assert.equal(g.ct.foundDir, Dir.Original);
    assert.equal(g.ct.findTuple(tuple(A, B, 17, 1000, 54)), -1);
  });

  test("kill: DESTROY event, destroy hook, gone from lookups; the slot stays readable", () => {
    const g = new Gateway({}, 1000, true);
    const destroyed: number[] = [];
    g.ct.setDestroyHook((ct) => destroyed.push(ct));
    const ct = g.send(udp(1000, 53)).ct;
    assert.equal(g.ct.kill(ct), true);
    assert.equal(g.ct.kill(ct), false);
    assert.deepEqual(destroyed, [ct]);
    assert.match(g.events.at(-1) ?? "", /^\[DESTROY\] udp {6}17 30 src=10\.1\.1\.1/);
    assert.equal(g.list().length, 0);
    const t = new Tuple();
    g.ct.tuple(ct, Dir.Original, t);
    assert.equal(t.srcPort, 1000);
    assert.notEqual(g.send(udp(1000, 53)).ct, ct, "a new entry, not the dying one");
  });

  test("ids: IPv4 slots, IPv6 slots with CT_V6; capacity hook on growth", () => {
    const g = new Gateway({ initialCapacity: 4 });
    const grown: [number, number][] = [];
    g.ct.setCapacityHook((f, c) => grown.push([f, c]));
    assert.equal(g.ct.capacity(4), 4);
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push(g.send(udp(2000 + i, 53)).ct);
    assert.deepEqual(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(grown, [
      [4, 8],
      [4, 16],
    ]);
    const v6 = g.send({ src: "fd00::1", dst: "fd00::2", udp: { sport: 1, dport: 2 } }).ct;
    assert.equal(ctFamily(v6), 6);
    assert.equal(ctSlot(v6), 0);
    for (let i = 0; i < 10; i++) assert.ok(g.ct.findTuple(tuple(B, A, 17, 53, 2000 + i)) === ids[i]);
  });
});

describe("confirm clashes", () => {
  /** two unconfirmed entries of the same flow (as two CPUs would create them), confirmed in turn */
  function race(g: Gateway, spec: PacketSpec): [number, number, Skb] {
    const first = g.send(spec, { confirm: false }).ct;
    const skb2 = new Skb();
    const bytes = buildPacket(spec);
    skb2.reset(g.now, 0);
    parsePacket(skb2.pi, bytes, 0, bytes.length);
    g.ct.in(skb2, Hook.Prerouting);
    const second = skb2.ct;
    g.skb.ct = first;
    g.skb.ctInfo = CtInfo.New;
    assert.equal(g.ct.confirm(g.skb), Verdict.Accept);
    return [first, second, skb2];
  }

  test("TCP: the loser is dropped (insert_failed, drop)", () => {
    const g = new Gateway();
    const [, , skb2] = race(g, { src: A, dst: B, tcp: { sport: 1, dport: 2, flags: "S" } });
    assert.equal(g.ct.confirm(skb2), Verdict.Drop);
    assert.equal(skb2.ct, -1);
    assert.equal(g.ct.stats.insertFailed, 1);
    assert.equal(g.ct.stats.drop, 1);
    assert.equal(g.ct.count(), 1);
  });

  test("UDP: identical entries merge into the winner (clash_resolve)", () => {
    const g = new Gateway();
    const [first, , skb2] = race(g, udp(1, 2));
    assert.equal(g.ct.confirm(skb2), Verdict.Accept);
    assert.equal(skb2.ct, first);
    assert.equal(g.ct.stats.clashResolve, 1);
    assert.equal(g.ct.count(), 1);
  });

  test("UDP: a different NAT mapping is inserted reply-only with a fixed 1 s timeout, never ASSURED, not listed", () => {
    const g = new Gateway();
    const [first, second, skb2] = race(g, udp(1, 2));
    assert.ok(g.ct.setTuple(second, Dir.Reply, tuple(B, "192.0.2.1", 17, 2, 7777)));
    assert.equal(g.ct.confirm(skb2), Verdict.Accept);
    assert.equal(skb2.ct, second);
    const st = g.ct.status(second);
    assert.equal(
      st & (IPS.NAT_CLASH | IPS.FIXED_TIMEOUT | IPS.CONFIRMED),
      IPS.NAT_CLASH | IPS.FIXED_TIMEOUT | IPS.CONFIRMED,
    );
    assert.equal(g.ct.expiresIn(second, g.now), 1);
    assert.equal(g.list().length, 1, "clash entries are hidden from conntrack -L");
    // original-direction packets keep matching the winner; replies to the clash mapping find the loser
    assert.equal(g.send(udp(1, 2)).ct, first);
    g.wait(0.5);
    const rep = g.send(udp(2, 7777, B, "192.0.2.1"));
    assert.equal(rep.ct, second);
    g.wait(0.3);
    g.send(udp(2, 7777, B, "192.0.2.1"));
    assert.equal(g.ct.status(second) & IPS.ASSURED, 0);
    assert.equal(g.ct.expiresIn(second, g.now), 0, "fixed timeout: not refreshed");
    g.wait(0.3);
    assert.equal(g.send(udp(2, 7777, B, "192.0.2.1")).ct === second, false, "expired after 1 s");
  });
});

describe("nf_conntrack_max", () => {
  test("early drop evicts non-ASSURED entries, never ASSURED ones", () => {
    const g = withMax(4);
    assure(g, 100);
    assure(g, 101);
    g.send(udp(102, 53));
    g.send(udp(103, 53));
    assert.equal(g.ct.count(), 4);
    const r = g.send(udp(104, 53));
    assert.ok(r.ct >= 0);
    assert.ok(g.ct.stats.earlyDrop >= 1);
    const listed = g.list().join("\n");
    assert.match(listed, /sport=100 /);
    assert.match(listed, /sport=101 /);
  });

  test("early drop looks at 8 chains of nf_conntrack_buckets: with many buckets, a full table of few entries drops", () => {
    // 4 entries in a table of 2^24 chains: the new tuple's 8 chains almost surely hold none of them
    const g = withMax(4, 1 << 24);
    for (let p = 100; p < 104; p++) g.send(udp(p, 53));
    const r = g.send(udp(104, 53));
    assert.equal(r.verdict, Verdict.Drop);
    assert.equal(r.reason, CtReason.TableFull);
    assert.equal(g.ct.stats.earlyDrop, 0);
    assert.equal(g.ct.count(), 4);
  });

  test("table full of ASSURED entries: the packet is dropped (drop, TableFull)", () => {
    const g = withMax(2);
    assure(g, 100);
    assure(g, 101);
    const r = g.send(udp(102, 53));
    assert.equal(r.verdict, Verdict.Drop);
    assert.equal(r.reason, CtReason.TableFull);
    assert.equal(g.ct.stats.drop, 1);
    assert.equal(g.ct.count(), 2);
  });
});

describe("expiry and garbage collection", () => {
  test("an expired entry is never returned by lookups and a new one is created", () => {
    const g = new Gateway({}, 1000, true);
    const ct = g.send(udp(1, 2)).ct;
    g.wait(30.01);
    const r = g.send(udp(1, 2));
    assert.equal(r.ctInfo, CtInfo.New);
    assert.equal(g.ct.status(ct) & IPS.DYING, IPS.DYING);
    assert.deepEqual(
      g.events.map((e) => e.slice(0, 9)),
      ["    [NEW]", "[DESTROY]", "    [NEW]"],
    );
    assert.doesNotMatch(g.events[1], / 0 /, "no timeout field once it ran out");
  });

  test("gcAll removes exactly the expired entries", () => {
    const g = new Gateway();
    for (let i = 0; i < 20; i++) {
      g.send(udp(1000 + i, 53));
      g.wait(1);
    }
    // entries made at t0 .. t0+19 with a 30 s timeout: at t0+40 those made at t0 .. t0+10 have run
    // out (an entry expires when its timeout is reached, Linux nf_ct_is_expired)
    const killed = g.ct.gcAll(1000 + 40);
    assert.equal(killed, 11);
    assert.equal(g.ct.count(), 9);
  });

  test("the paced collector reclaims expired entries as packet time passes", () => {
    const g = new Gateway();
    for (let i = 0; i < 500; i++) g.send(udp(1000 + i, 53));
    g.wait(100);
    for (let i = 0; i < 2000; i++) {
      g.wait(0.01);
      g.send(udp(5, 6));
    }
    assert.equal(g.ct.count(), 1);
  });

  test("listing at a time hides what expired by then", () => {
    const g = new Gateway();
    g.send(udp(1, 2));
    assert.equal(g.list(g.now + 29.9).length, 1);
    assert.equal(g.list(g.now + 30).length, 0);
  });
});

describe("delete, flush, events, marks, accounting", () => {
  test("deleteTuple by either direction, flush with a filter", () => {
    const g = new Gateway({}, 1000, true);
    for (let i = 0; i < 5; i++) g.send(udp(100 + i, 53));
    g.ct.setNow(g.now);
    assert.equal(g.ct.deleteTuple(tuple(B, A, 17, 53, 100)), true);
    assert.equal(g.ct.deleteTuple(tuple(B, A, 17, 53, 100)), false);
    const t = new Tuple();
    const n = g.ct.flush((ct) => {
      g.ct.tuple(ct, Dir.Original, t);
      return t.srcPort % 2 === 0;
    });
    assert.equal(n, 2);
    assert.equal(g.ct.count(), 2);
    assert.equal(g.ct.flush(), 2);
    assert.equal(g.events.filter((e) => e.startsWith("[DESTROY]")).length, 5);
  });

  test("a mark change is an UPDATE event with mark=, delivered at confirm", () => {
    const g = new Gateway({}, 1000, true);
    const ct = g.send(udp(1, 2)).ct;
    g.ct.setMark(ct, 7);
    g.ct.setMark(ct, 7);
    assert.equal(g.ct.mark(ct), 7);
    g.send(udp(1, 2));
    assert.equal(g.events.length, 2);
    assert.match(g.events[1], /^ \[UPDATE\] udp {6}17 30 src=.* mark=7$/);
    g.ct.setMark(ct, 0);
    g.send(udp(1, 2));
    assert.match(g.events[2], / mark=0$/, "a change to 0 is printed");
    g.send(udp(2, 1, B, A));
    assert.doesNotMatch(g.events[3], /mark=/);
    assert.match(formatEntry(g.ct, ct, g.now), / mark=0 use=1$/);
  });

  test("nf_conntrack_acct=1 prints packets= bytes= per direction", () => {
    const cfg = defaultCtConfig();
    cfg.acct = true;
    const g = new Gateway({ config: cfg });
    g.send(udp(1, 2));
    g.send(udp(1, 2));
    g.send(udp(2, 1, B, A));
    assert.match(
      g.list()[0],
      /^udp {6}17 30 src=10\.1\.1\.1 dst=10\.2\.2\.2 sport=1 dport=2 packets=2 bytes=58 src=10\.2\.2\.2 dst=10\.1\.1\.1 sport=2 dport=1 packets=1 bytes=29 mark=0 use=1$/,
    );
  });

  test("conntrack -S line", () => {
    const g = new Gateway();
    g.send({ src: A, dst: B, tcp: { sport: 1, dport: 2, flags: "F" } });
    assert.equal(
      formatStats(g.ct.stats),
      "cpu=0   \tfound=0 invalid=1 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 ",
    );
  });

  test("IPv6 listing prints addresses as inet_ntop does", () => {
    const g = new Gateway();
    g.send({ src: "2001:db8::1", dst: "::ffff:10.0.0.1", udp: { sport: 1, dport: 2 } });
    assert.equal(
      g.list()[0],
      "udp      17 30 src=2001:db8::1 dst=::ffff:10.0.0.1 sport=1 dport=2 [UNREPLIED] src=::ffff:10.0.0.1 dst=2001:db8::1 sport=2 dport=1 mark=0 use=1",
    );
  });
});

describe("CtView", () => {
  test("status, l4proto, tcpState, expiresIn", () => {
    const g = new Gateway();
    const ct = g.send({ src: A, dst: B, tcp: { sport: 1, dport: 2, flags: "S" } }).ct;
    assert.equal(g.ct.l4proto(ct), 6);
    assert.equal(g.ct.tcpState(ct), TcpCtState.SynSent);
    assert.equal(g.ct.status(ct), IPS.CONFIRMED);
    assert.equal(g.ct.expiresIn(ct, g.now + 0.5), 119);
    const u = g.send(udp(1, 2)).ct;
    assert.equal(g.ct.tcpState(u), 0);
  });
});

describe("growth keeps every entry reachable", () => {
  test("10k flows from a 16-slot start", () => {
    const g = new Gateway({ initialCapacity: 16 });
    for (let i = 0; i < 10000; i++)
      g.send(udp(1024 + (i % 50000), 53, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    assert.equal(g.ct.count(), 10000);
    const t = new Tuple();
    for (let i = 0; i < 10000; i += 97) {
      const ct = g.send(udp(1024 + (i % 50000), 53, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)).ct;
      g.ct.tuple(ct, Dir.Original, t);
      assert.equal(t.srcPort, 1024 + (i % 50000));
    }
    assert.equal(g.ct.count(), 10000);
    assert.equal(new Conntrack().capacity(6), 1024);
    assert.equal(CtEvent.Destroy, 3);
  });
});
