import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CtInfo, Dir, Hook, IPPROTO, IPS, Manip, NatRange, NatRangeFlag, Verdict } from "../core/netfilter.js";
import { Skb } from "../core/skb.js";
import { Tuple } from "../core/tuple.js";
import { findBestIps, Nat, NatBinding } from "./nat.js";
import { FakeConntrack, SeqRandom, tuple } from "./testdata/fake-conntrack.js";
import { checksumProblems, icmpError, info, ipPacket, tcpHeader, udpHeader, v4, v6 } from "./testdata/packets.js";

const TCP = IPPROTO.TCP;
const UDP = IPPROTO.UDP;
const ICMP = IPPROTO.ICMP;
const A = (s: string): number => v4(s);

function harness(seed = 1) {
  const ct = new FakeConntrack();
  const nat = new Nat(ct, new SeqRandom(seed), { capacity: 64 });
  ct.onDestroy = (c) => nat.onDestroy(c);
  return { ct, nat };
}

function range(
  family: number,
  min: number | Int32Array,
  max: number | Int32Array = min,
  pmin = 0,
  pmax = pmin,
  flags = 0,
): NatRange {
  const r = new NatRange();
  r.flags = NatRangeFlag.MAP_IPS | flags;
  if (typeof min === "number") r.minAddr[0] = min;
  else r.minAddr.set(min);
  if (typeof max === "number") r.maxAddr[0] = max;
  else r.maxAddr.set(max);
  if (pmin !== 0 || pmax !== 0) {
    r.flags |= NatRangeFlag.PROTO_SPECIFIED;
    r.minProto = pmin;
    r.maxProto = pmax;
  }
  void family;
  return r;
}

/** a connection that passes DNAT (optional) then SNAT (range or null binding), then is confirmed */
function conn(
  h: ReturnType<typeof harness>,
  orig: Tuple,
  snat: NatRange | null,
  dnat: NatRange | null = null,
  confirm = true,
): { c: number; reply: Tuple; confirmed: boolean } {
  const c = h.ct.create(orig, orig.proto === TCP ? 1 : 0);
  if (dnat !== null) assert.equal(h.nat.setupInfo(c, dnat, Manip.Dst), Verdict.Accept);
  else h.nat.allocNullBinding(c, Manip.Dst);
  if (snat !== null) assert.equal(h.nat.setupInfo(c, snat, Manip.Src), Verdict.Accept);
  else h.nat.allocNullBinding(c, Manip.Src);
  const confirmed = confirm ? h.ct.confirm(c) : false;
  const reply = new Tuple();
  h.ct.tuple(c, Dir.Reply, reply);
  return { c, reply, confirmed };
}

describe("setupInfo: source NAT", () => {
  test("maps the source to the range address and keeps a free port", () => {
    const h = harness();
    const { c, reply } = conn(h, tuple(4, TCP, A("10.0.0.2"), 40000, A("198.51.100.7"), 80), range(4, A("192.0.2.1")));
    assert.equal(reply.dst[0], A("192.0.2.1"));
    assert.equal(reply.dstPort, 40000);
    const st = h.ct.status(c);
    assert.ok(st & IPS.SRC_NAT && st & IPS.SRC_NAT_DONE && st & IPS.DST_NAT_DONE);
    assert.equal(st & IPS.DST_NAT, 0);
  });

  test("a colliding source port moves within its band (1-511, 600-1023, 1024-65535)", () => {
    for (const [sport, lo, hi] of [
      [80, 1, 511],
      [700, 600, 1023],
      [512, 600, 1023],
      [33000, 1024, 65535],
    ] as const) {
      const h = harness(sport);
      const r = range(4, A("192.0.2.1"));
      const a = conn(h, tuple(4, UDP, A("10.0.0.2"), sport, A("198.51.100.7"), 53), r);
      const b = conn(h, tuple(4, UDP, A("10.0.0.3"), sport, A("198.51.100.7"), 53), r);
      assert.equal(a.reply.dstPort, sport);
      assert.notEqual(b.reply.dstPort, sport);
      assert.ok(b.reply.dstPort >= lo && b.reply.dstPort <= hi, `${sport} -> ${b.reply.dstPort}`);
      assert.ok(b.confirmed);
    }
  });

  test("ICMP echo ids collide and move like ports (0-65535)", () => {
    const h = harness(7);
    const r = range(4, A("192.0.2.1"));
    const a = conn(h, tuple(4, ICMP, A("10.0.0.2"), 4660, A("198.51.100.7"), 8 << 8), r);
    const b = conn(h, tuple(4, ICMP, A("10.0.0.3"), 4660, A("198.51.100.7"), 8 << 8), r);
    assert.equal(a.reply.srcPort, 4660);
    assert.notEqual(b.reply.srcPort, 4660);
    assert.equal(b.reply.dstPort, 0); // reply type echo-reply 0, code 0
    assert.ok(b.confirmed);
  });

  test("the same source keeps its mapping (bysource), even where the address hash would differ", () => {
    const h = harness();
    const r = range(4, A("192.0.2.1"), A("192.0.2.4"));
    const src = A("10.0.0.2");
    const first = conn(h, tuple(4, UDP, src, 5000, A("198.51.100.1"), 53), r);
    // a destination for which the hash alone picks another address
    let other = -1;
    for (let d = 2; d < 250 && other < 0; d++) {
      const t = tuple(4, UDP, src, 5000, A(`198.51.100.${d}`), 53);
      findBestIps(t, r, Manip.Src);
      if (t.src[0] !== first.reply.dst[0]) other = d;
    }
    assert.ok(other > 0);
    const second = conn(h, tuple(4, UDP, src, 5000, A(`198.51.100.${other}`), 53), r);
    assert.equal(second.reply.dst[0], first.reply.dst[0]);
    assert.equal(second.reply.dstPort, 5000);
    // once the first connection is gone, the hash decides again
    h.ct.destroy(first.c);
    h.ct.destroy(second.c);
    const third = conn(h, tuple(4, UDP, src, 5000, A(`198.51.100.${other}`), 53), r);
    assert.notEqual(third.reply.dst[0], first.reply.dst[0]);
  });

  test("--persistent: the address depends on the source only", () => {
    const r = range(4, A("192.0.2.1"), A("192.0.2.200"), 0, 0, NatRangeFlag.PERSISTENT);
    const chosen = new Set<number>();
    for (let d = 1; d < 60; d++) {
      const t = tuple(4, TCP, A("10.0.0.9"), 1234, A(`203.0.113.${d}`), 443);
      findBestIps(t, r, Manip.Src);
      chosen.add(t.src[0]);
    }
    assert.equal(chosen.size, 1);
    const spread = new Set<number>();
    const r2 = range(4, A("192.0.2.1"), A("192.0.2.200"));
    for (let d = 1; d < 60; d++) {
      const t = tuple(4, TCP, A("10.0.0.9"), 1234, A(`203.0.113.${d}`), 443);
      findBestIps(t, r2, Manip.Src);
      spread.add(t.src[0]);
    }
    assert.ok(spread.size > 20);
  });

  test("a port range of 10 hands out 10 distinct ports, then the 11th clashes (as Linux: dropped at confirm)", () => {
    for (const proto of [TCP, UDP]) {
      const h = harness(99);
      const r = range(4, A("192.0.2.1"), A("192.0.2.1"), 20000, 20009);
      const ports = new Set<number>();
      for (let i = 0; i < 10; i++) {
        const x = conn(h, tuple(4, proto, A(`10.0.0.${i + 2}`), 40000, A("198.51.100.7"), 80), r);
        assert.ok(x.confirmed);
        assert.ok(x.reply.dstPort >= 20000 && x.reply.dstPort <= 20009);
        ports.add(x.reply.dstPort);
      }
      assert.equal(ports.size, 10);
      const last = conn(h, tuple(4, proto, A("10.0.0.99"), 40000, A("198.51.100.7"), 80), r);
      assert.equal(last.confirmed, false);
      assert.equal(h.nat.stats.exhausted, 1);
    }
  });

  test("a single-port range: an in-range port is kept without a uniqueness check (clash at confirm)", () => {
    const h = harness();
    const r = range(4, A("192.0.2.1"), A("192.0.2.1"), 20000, 20000);
    assert.ok(conn(h, tuple(4, TCP, A("10.0.0.2"), 20000, A("198.51.100.7"), 80), r).confirmed);
    const b = conn(h, tuple(4, TCP, A("10.0.0.3"), 20000, A("198.51.100.7"), 80), r);
    assert.equal(b.reply.dstPort, 20000);
    assert.equal(b.confirmed, false);
    assert.equal(h.nat.stats.exhausted, 0);
    // a port outside the range goes through the search, which fails
    const c = conn(h, tuple(4, TCP, A("10.0.0.4"), 1, A("198.51.100.7"), 80), r);
    assert.equal(c.reply.dstPort, 20000);
    assert.equal(c.confirmed, false);
    assert.equal(h.nat.stats.exhausted, 1);
  });

  test("--random / --random-fully pick a random port even when the original is free", () => {
    for (const f of [NatRangeFlag.PROTO_RANDOM, NatRangeFlag.PROTO_RANDOM_FULLY]) {
      const h = harness(3);
      const r = range(4, A("192.0.2.1"), A("192.0.2.1"), 0, 0, f);
      const x = conn(h, tuple(4, TCP, A("10.0.0.2"), 40000, A("198.51.100.7"), 80), r);
      assert.notEqual(x.reply.dstPort, 40000);
      assert.ok(x.reply.dstPort >= 1024);
    }
  });

  test("the gateway's own connection gets a new port when a NATed one holds its reply tuple", () => {
    const h = harness();
    const r = range(4, A("192.0.2.1"));
    conn(h, tuple(4, TCP, A("10.0.0.2"), 5000, A("198.51.100.7"), 80), r);
    // local connection from the NAT address itself: null bindings
    const own = conn(h, tuple(4, TCP, A("192.0.2.1"), 5000, A("198.51.100.7"), 80), null);
    assert.notEqual(own.reply.dstPort, 5000);
    assert.ok(own.confirmed);
    assert.ok(h.ct.status(own.c) & IPS.SRC_NAT);
  });

  test("UDP: an un-NATed entry going exactly the other way is left to clash resolution", () => {
    const h = harness();
    // existing: B:53 -> A:1000 (confirmed, no NAT)
    conn(h, tuple(4, UDP, A("10.0.0.9"), 53, A("10.0.0.1"), 1000), null);
    // new: A:1000 -> B:53, null binding keeps the tuple (UDP), but TCP would move
    const u = h.ct.create(tuple(4, UDP, A("10.0.0.1"), 1000, A("10.0.0.9"), 53));
    h.nat.allocNullBinding(u, Manip.Dst);
    h.nat.allocNullBinding(u, Manip.Src);
    const ru = new Tuple();
    h.ct.tuple(u, Dir.Reply, ru);
    assert.equal(ru.dstPort, 1000);
    assert.equal(h.ct.status(u) & IPS.SRC_NAT, 0);

    conn(h, tuple(4, TCP, A("10.0.0.9"), 53, A("10.0.0.1"), 1000), null);
    const t = h.ct.create(tuple(4, TCP, A("10.0.0.1"), 1000, A("10.0.0.9"), 53), 1);
    h.nat.allocNullBinding(t, Manip.Dst);
    h.nat.allocNullBinding(t, Manip.Src);
    const rt = new Tuple();
    h.ct.tuple(t, Dir.Reply, rt);
    assert.notEqual(rt.dstPort, 1000);
  });

  test("TIME_WAIT eviction in the last attempts (TCP SYN_SENT, sequence advanced)", () => {
    const h = harness(5);
    const r = range(4, A("192.0.2.1"), A("192.0.2.1"), 20000, 20001);
    const olds = [];
    for (let i = 0; i < 2; i++) {
      const c = h.ct.create(tuple(4, TCP, A(`10.0.0.${i + 2}`), 40000, A("198.51.100.7"), 80), 1, 1000);
      h.nat.allocNullBinding(c, Manip.Dst);
      h.nat.setupInfo(c, r, Manip.Src);
      assert.ok(h.ct.confirm(c));
      h.ct.entries[c].tcpState = 7; // TIME_WAIT
      olds.push(c);
    }
    // sequence not advanced: no eviction, the search fails
    const n1 = h.ct.create(tuple(4, TCP, A("10.0.0.9"), 40000, A("198.51.100.7"), 80), 1, 500);
    h.nat.allocNullBinding(n1, Manip.Dst);
    h.nat.setupInfo(n1, r, Manip.Src);
    assert.equal(h.nat.stats.evicted, 0);
    assert.equal(h.ct.confirm(n1), false);
    // advanced: one TIME_WAIT entry is evicted and its port reused
    const n2 = h.ct.create(tuple(4, TCP, A("10.0.0.10"), 40000, A("198.51.100.7"), 80), 1, 5000);
    h.nat.allocNullBinding(n2, Manip.Dst);
    h.nat.setupInfo(n2, r, Manip.Src);
    assert.equal(h.nat.stats.evicted, 1);
    assert.ok(h.ct.confirm(n2));
    assert.equal(olds.filter((c) => h.ct.entries[c].alive).length, 1);
  });

  test("property: a confirmed binding never duplicates a tuple; small ranges fail only when full", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.record({ src: fc.integer({ min: 1, max: 6 }), sport: fc.integer({ min: 1, max: 3 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer(),
        (size, conns, seed) => {
          const h = harness(seed);
          const r = range(4, A("192.0.2.1"), A("192.0.2.1"), 30000, 30000 + size - 1);
          const used = new Set<number>();
          for (const x of conns) {
            const orig = tuple(4, UDP, A(`10.0.0.${x.src}`), 1000 + x.sport, A("198.51.100.7"), 53);
            const before = h.nat.stats.exhausted;
            const k = conn(h, orig, r);
            const port = k.reply.dstPort;
            assert.ok(port >= 30000 && port < 30000 + size);
            if (k.confirmed) {
              assert.ok(!used.has(port), "duplicate port handed out");
              used.add(port);
            } else if (used.size < size) {
              // not full, so the only acceptable failure is the same flow twice (identical original tuple)
              assert.equal(h.nat.stats.exhausted, before);
            }
          }
        },
      ),
      { seed: 77, numRuns: 200 },
    );
  });
});

describe("setupInfo: destination NAT", () => {
  test("DNAT without a port keeps the port, even when the tuple is taken", () => {
    const h = harness();
    const r = range(4, A("10.0.0.9"));
    const a = conn(h, tuple(4, TCP, A("203.0.113.5"), 5555, A("192.0.2.1"), 80), r, null);
    void a;
    const c = h.ct.create(tuple(4, TCP, A("203.0.113.5"), 5555, A("192.0.2.1"), 80), 1);
    h.nat.setupInfo(c, r, Manip.Dst);
    const rep = new Tuple();
    h.ct.tuple(c, Dir.Reply, rep);
    assert.equal(rep.srcPort, 80);
    assert.equal(rep.src[0], A("10.0.0.9"));
  });

  test("DNAT with a port: the port is set; PROTO_OFFSET shifts the port range", () => {
    const h = harness();
    const x = conn(
      h,
      tuple(4, TCP, A("203.0.113.5"), 5555, A("192.0.2.1"), 80),
      null,
      range(4, A("10.0.0.9"), A("10.0.0.9"), 8080),
    );
    assert.equal(x.reply.srcPort, 8080);
    assert.ok(h.ct.status(x.c) & IPS.DST_NAT);
    const off = range(4, A("10.0.0.9"), A("10.0.0.9"), 2000, 2999, NatRangeFlag.PROTO_OFFSET);
    off.baseProto = 1000;
    const y = conn(h, tuple(4, TCP, A("203.0.113.5"), 5556, A("192.0.2.1"), 1005), null, off);
    assert.equal(y.reply.srcPort, 2005);
  });

  test("DST manip searches ports sequentially from the range start (no randomness)", () => {
    const h = harness();
    const rng = h.nat.rng as SeqRandom;
    const r = range(4, A("10.0.0.9"), A("10.0.0.9"), 8000, 8010);
    const a = conn(h, tuple(4, TCP, A("203.0.113.5"), 5555, A("192.0.2.1"), 80), null, r);
    const b = conn(h, tuple(4, TCP, A("203.0.113.5"), 5555, A("192.0.2.2"), 80), null, r);
    assert.equal(a.reply.srcPort, 8000);
    // same client tuple towards the same server: 8000 is in use, 8001 is next
    assert.equal(b.reply.srcPort, 8001);
    assert.equal(rng.calls, 0);
  });
});

describe("find_best_ips_proto", () => {
  test("IPv6 ranges differing in the last word stay inside the range", () => {
    const min = v6("fd77:99::1:0:10");
    const max = v6("fd77:99::1:0:40");
    const r = range(6, min, max);
    for (let i = 1; i < 200; i++) {
      const t = tuple(6, UDP, v6(`fd77:1::${i.toString(16)}`), 1000, v6(`fd77:2::${(i * 7).toString(16)}`), 53);
      findBestIps(t, r, Manip.Src);
      assert.ok(compare(t.src, min) >= 0 && compare(t.src, max) <= 0);
    }
  });

  test("IPv6 ranges spanning words: once a word is below the maximum, later words take any value (as Linux)", () => {
    const min = v6("fd77:99::ffff:fff0");
    const max = v6("fd77:99::1:0:10");
    const r = range(6, min, max);
    let outside = 0;
    for (let i = 1; i < 200; i++) {
      const t = tuple(6, UDP, v6(`fd77:1::${i.toString(16)}`), 1000, v6(`fd77:2::${(i * 7).toString(16)}`), 53);
      findBestIps(t, r, Manip.Src);
      assert.equal(t.src[0], min[0]);
      assert.ok(t.src[2] === 0 || t.src[2] === 1);
      if (compare(t.src, min) < 0 || compare(t.src, max) > 0) outside++;
    }
    assert.ok(outside > 0);
  });
});

function compare(a: Int32Array, b: Int32Array): number {
  for (let i = 0; i < 4; i++) if (a[i] >>> 0 !== b[i] >>> 0) return (a[i] >>> 0) - (b[i] >>> 0);
  return 0;
}

describe("hook: the NAT hook function", () => {
  function skbFor(pkt: Uint8Array, c: number, ctinfo: number, hook: number, outIf = 1): Skb {
    const s = new Skb();
    info(pkt, s.pi);
    s.ct = c;
    s.ctInfo = ctinfo;
    s.hook = hook;
    s.outIf = outIf;
    return s;
  }

  test("DNAT + SNAT on the first packet; later packets both ways rewritten without rules", () => {
    const h = harness();
    const client = A("203.0.113.5");
    const pub = A("192.0.2.1");
    const server = A("10.0.0.9");
    const gwIn = A("10.0.0.1");
    let tableRuns = 0;
    const dnat = range(4, server, server, 8080);
    const snat = range(4, gwIn);
    const runTable = (skb: Skb, hook: number): number => {
      tableRuns++;
      if (hook === Hook.Prerouting) return h.nat.setupInfo(skb.ct, dnat, Manip.Dst);
      if (hook === Hook.Postrouting) return h.nat.setupInfo(skb.ct, snat, Manip.Src);
      return Verdict.Accept;
    };
    const syn = ipPacket(
      { family: 4, src: Int32Array.of(client, 0, 0, 0), dst: Int32Array.of(pub, 0, 0, 0), proto: TCP },
      tcpHeader(5555, 80, 100, 0, 0x02, 5),
    );
    const c = h.ct.create(tuple(4, TCP, client, 5555, pub, 80), 1);
    const s1 = skbFor(syn, c, CtInfo.New, Hook.Prerouting);
    assert.equal(h.nat.hook(s1, Hook.Prerouting, runTable), Verdict.Accept);
    assert.equal(s1.pi.dst[0], server);
    assert.equal(s1.pi.dstPort, 8080);
    assert.equal(h.nat.hook(s1, Hook.Postrouting, runTable), Verdict.Accept);
    assert.equal(s1.pi.src[0], gwIn);
    assert.deepEqual(checksumProblems(syn), []);
    assert.equal(tableRuns, 2);
    assert.ok(h.ct.confirm(c));
    assert.match(h.nat.describe(c), /SNAT to 10\.0\.0\.1:5555, DNAT to 10\.0\.0\.9:8080/);

    // reply: server:8080 -> gwIn:5555 becomes pub:80 -> client:5555
    const synack = ipPacket(
      { family: 4, src: Int32Array.of(server, 0, 0, 0), dst: Int32Array.of(gwIn, 0, 0, 0), proto: TCP },
      tcpHeader(8080, 5555, 900, 101, 0x12),
    );
    const s2 = skbFor(synack, c, CtInfo.EstablishedReply, Hook.Prerouting);
    h.nat.hook(s2, Hook.Prerouting, runTable);
    h.nat.hook(s2, Hook.Postrouting, runTable);
    assert.equal(s2.pi.src[0], pub);
    assert.equal(s2.pi.srcPort, 80);
    assert.equal(s2.pi.dst[0], client);
    assert.equal(s2.pi.dstPort, 5555);
    assert.deepEqual(checksumProblems(synack), []);
    assert.equal(tableRuns, 2);

    // an ICMP error from a router about the server's reply, on its way back to the server
    const quoted = synack.slice(); // as it left towards the client
    const err = ipPacket(
      { family: 4, src: Int32Array.of(A("203.0.113.254"), 0, 0, 0), dst: Int32Array.of(pub, 0, 0, 0), proto: ICMP },
      icmpError(11, 0, quoted, 28),
    );
    const s3 = skbFor(err, c, CtInfo.Related, Hook.Prerouting);
    assert.equal(h.nat.hook(s3, Hook.Prerouting, runTable), Verdict.Accept);
    assert.equal(h.nat.hook(s3, Hook.Postrouting, runTable), Verdict.Accept);
    // the error goes to the server, from the address the server talks to, quoting the server's packet
    assert.equal(s3.pi.src[0], gwIn);
    assert.equal(s3.pi.dst[0], server);
    assert.deepEqual(checksumProblems(err), []);
    const inner = s3.pi.inner!;
    assert.equal(inner.src[0], server);
    assert.equal(inner.srcPort, 8080);
    assert.equal(inner.dst[0], gwIn);
    assert.equal(inner.dstPort, 5555);
  });

  test("no rule: a null binding; the table runs once per manip type", () => {
    const h = harness();
    let runs = 0;
    const run = (): number => {
      runs++;
      return Verdict.Accept;
    };
    const pkt = ipPacket(
      { family: 4, src: Int32Array.of(A("10.0.0.2"), 0, 0, 0), dst: Int32Array.of(A("10.0.0.3"), 0, 0, 0), proto: UDP },
      udpHeader(1, 2),
    );
    const copy = pkt.slice();
    const c = h.ct.create(tuple(4, UDP, A("10.0.0.2"), 1, A("10.0.0.3"), 2));
    const s = skbFor(pkt, c, CtInfo.New, Hook.Prerouting);
    h.nat.hook(s, Hook.Prerouting, run);
    h.nat.hook(s, Hook.Postrouting, run);
    h.nat.hook(s, Hook.Postrouting, run);
    assert.equal(runs, 2);
    assert.deepEqual(pkt, copy);
    assert.equal(h.ct.status(c) & IPS.NAT_DONE_MASK, IPS.NAT_DONE_MASK);
    assert.equal(h.ct.status(c) & IPS.NAT_MASK, 0);
  });

  test("a DROP from the nat table is returned and nothing is bound", () => {
    const h = harness();
    const pkt = ipPacket(
      { family: 4, src: Int32Array.of(A("10.0.0.2"), 0, 0, 0), dst: Int32Array.of(A("10.0.0.3"), 0, 0, 0), proto: UDP },
      udpHeader(1, 2),
    );
    const c = h.ct.create(tuple(4, UDP, A("10.0.0.2"), 1, A("10.0.0.3"), 2));
    const s = skbFor(pkt, c, CtInfo.New, Hook.Prerouting);
    assert.equal(
      h.nat.hook(s, Hook.Prerouting, () => Verdict.Drop),
      Verdict.Drop,
    );
    assert.equal(h.ct.status(c) & IPS.DST_NAT_DONE, 0);
  });

  test("MASQUERADE: a packet of the connection leaving by another interface kills it", () => {
    const h = harness();
    const pkt = ipPacket(
      {
        family: 4,
        src: Int32Array.of(A("10.0.0.2"), 0, 0, 0),
        dst: Int32Array.of(A("198.51.100.7"), 0, 0, 0),
        proto: UDP,
      },
      udpHeader(1, 2),
    );
    const c = h.ct.create(tuple(4, UDP, A("10.0.0.2"), 1, A("198.51.100.7"), 2));
    const run = (skb: Skb, hook: number): number => {
      if (hook !== Hook.Postrouting) return Verdict.Accept;
      h.nat.setMasqIndex(skb.ct, skb.outIf);
      return h.nat.setupInfo(skb.ct, range(4, A("192.0.2.1")), Manip.Src);
    };
    const s = skbFor(pkt, c, CtInfo.New, Hook.Prerouting, 2);
    h.nat.hook(s, Hook.Prerouting, run);
    h.nat.hook(s, Hook.Postrouting, run);
    h.ct.confirm(c);
    const p2 = ipPacket(
      {
        family: 4,
        src: Int32Array.of(A("10.0.0.2"), 0, 0, 0),
        dst: Int32Array.of(A("198.51.100.7"), 0, 0, 0),
        proto: UDP,
      },
      udpHeader(1, 2),
    );
    const s2 = skbFor(p2, c, CtInfo.Established, Hook.Postrouting, 2);
    assert.equal(h.nat.hook(s2, Hook.Postrouting, run), Verdict.Accept);
    const s3 = skbFor(p2, c, CtInfo.Established, Hook.Postrouting, 3);
    assert.equal(h.nat.hook(s3, Hook.Postrouting, run), Verdict.Drop);
    assert.equal(h.ct.entries[c].alive, false);
  });
});

describe("queries", () => {
  test("queryMapping answers without changing the table", () => {
    const h = harness();
    const r = range(4, A("192.0.2.1"));
    conn(h, tuple(4, TCP, A("10.0.0.2"), 5000, A("198.51.100.7"), 80), r);
    const out = new Tuple();
    h.nat.queryMapping(tuple(4, TCP, A("10.0.0.3"), 6000, A("198.51.100.7"), 80), r, Manip.Src, out);
    assert.equal(out.src[0], A("192.0.2.1"));
    assert.equal(out.srcPort, 6000);
    h.nat.queryMapping(tuple(4, TCP, A("10.0.0.3"), 5000, A("198.51.100.7"), 80), r, Manip.Src, out, new SeqRandom(9));
    assert.notEqual(out.srcPort, 5000);
    assert.equal(h.ct.size, 1);
    assert.equal(h.nat.stats.exhausted, 0);
    // the same source reuses its mapping
    h.nat.queryMapping(tuple(4, TCP, A("10.0.0.2"), 5000, A("198.51.100.8"), 80), r, Manip.Src, out);
    assert.equal(out.srcPort, 5000);
  });

  test("bindings explain a connection", () => {
    const h = harness();
    const x = conn(
      h,
      tuple(4, UDP, A("10.0.0.2"), 5000, A("192.0.2.1"), 53),
      range(4, A("192.0.2.1")),
      range(4, A("10.0.0.53"), A("10.0.0.53"), 5353),
    );
    const b = h.nat.bindings(x.c, new NatBinding());
    assert.ok(b.snat && b.dnat);
    assert.equal(b.dnatAddr[0], A("10.0.0.53"));
    assert.equal(b.dnatPort, 5353);
    assert.equal(b.snatAddr[0], A("192.0.2.1"));
    assert.equal(b.snatPort, 5000);
    assert.equal(
      h.nat.describe(x.c),
      "udp 10.0.0.2:5000 -> 192.0.2.1:53: SNAT to 192.0.2.1:5000, DNAT to 10.0.0.53:5353",
    );
  });
});
