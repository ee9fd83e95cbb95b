/**
 * NAT over ctnat's real connection table and packet parser: Conntrack satisfies NatConntrack as it is,
 * its destroy and capacity hooks keep NAT's side arrays right, and packets flow through
 * conntrack -> NAT -> confirm in both directions, IPv4 and IPv6.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Conntrack } from "../conntrack/index.js";
import { CtInfo, Hook, IPPROTO, IPS, Manip, NatRange, NatRangeFlag, Verdict } from "../core/netfilter.js";
import { Skb } from "../core/skb.js";
import { parsePacket } from "../wire/parse.js";
import { Nat } from "./nat.js";
import { SeqRandom } from "./testdata/fake-conntrack.js";
import { checksumProblems, ipPacket, tcpHeader, udpHeader, v4, v6 } from "./testdata/packets.js";
import type { NatConntrack } from "./types.js";

function setup() {
  const ct = new Conntrack({ initialCapacity: 4 });
  const asNat: NatConntrack = ct; // structural check: no adapter needed
  const nat = new Nat(asNat, new SeqRandom(11), { capacity: 4 });
  ct.setDestroyHook((c) => nat.onDestroy(c));
  ct.setCapacityHook((f, c) => nat.onCapacity(f, c));
  return { ct, nat };
}

function a4(s: string): Int32Array {
  return Int32Array.of(v4(s), 0, 0, 0);
}

/** one packet through PREROUTING (conntrack + DNAT hook) and POSTROUTING (SNAT hook + confirm) */
function forward(
  h: ReturnType<typeof setup>,
  pkt: Uint8Array,
  now: number,
  snat: NatRange | null,
): { verdict: number; skb: Skb } {
  const skb = new Skb();
  skb.reset(now, 1);
  skb.outIf = 2;
  parsePacket(skb.pi, pkt, 0, pkt.length);
  assert.equal(h.ct.in(skb, Hook.Prerouting), Verdict.Accept);
  const run = (s: Skb, hook: number): number =>
    hook === Hook.Postrouting && snat !== null ? h.nat.natSetup(s, snat, Manip.Src) : Verdict.Accept;
  skb.hook = Hook.Prerouting;
  let v = h.nat.hook(skb, Hook.Prerouting, run);
  if (v === Verdict.Accept) {
    skb.hook = Hook.Postrouting;
    v = h.nat.hook(skb, Hook.Postrouting, run);
  }
  if (v === Verdict.Accept) v = h.ct.confirm(skb);
  else h.ct.release(skb);
  return { verdict: v, skb };
}

function snatTo(family: 4 | 6, addr: Int32Array, pmin = 0, pmax = 0): NatRange {
  const r = new NatRange();
  r.flags = NatRangeFlag.MAP_IPS | (pmin ? NatRangeFlag.PROTO_SPECIFIED : 0);
  r.minAddr.set(addr);
  r.maxAddr.set(addr);
  r.minProto = pmin;
  r.maxProto = pmax;
  void family;
  return r;
}

describe("NAT with the real conntrack", () => {
  test("IPv4 TCP: SNAT on the SYN, reply un-NATed, status bits set; clash moves the port", () => {
    const h = setup();
    const pub = a4("192.0.2.1");
    const r = snatTo(4, pub);
    const syn = ipPacket(
      { family: 4, src: a4("10.0.0.2"), dst: a4("198.51.100.7"), proto: IPPROTO.TCP },
      tcpHeader(40000, 80, 1000, 0, 0x02),
    );
    const f = forward(h, syn, 1, r);
    assert.equal(f.verdict, Verdict.Accept);
    assert.equal(f.skb.pi.src[0], pub[0]);
    assert.deepEqual(checksumProblems(syn), []);
    const st = h.ct.status(f.skb.ct);
    assert.ok(st & IPS.SRC_NAT && st & IPS.CONFIRMED);

    const synack = ipPacket(
      { family: 4, src: a4("198.51.100.7"), dst: pub, proto: IPPROTO.TCP },
      tcpHeader(80, 40000, 5000, 1001, 0x12),
    );
    const g = forward(h, synack, 1.1, r);
    assert.equal(g.verdict, Verdict.Accept);
    assert.equal(g.skb.ctInfo, CtInfo.EstablishedReply);
    assert.equal(g.skb.pi.dst[0], v4("10.0.0.2"));
    assert.equal(g.skb.pi.dstPort, 40000);
    assert.deepEqual(checksumProblems(synack), []);

    // another host with the same source port: a different port in 1024-65535
    const syn2 = ipPacket(
      { family: 4, src: a4("10.0.0.3"), dst: a4("198.51.100.7"), proto: IPPROTO.TCP },
      tcpHeader(40000, 80, 7000, 0, 0x02),
    );
    const k = forward(h, syn2, 1.2, r);
    assert.equal(k.verdict, Verdict.Accept);
    assert.notEqual(k.skb.pi.srcPort, 40000);
    assert.ok(k.skb.pi.srcPort >= 1024);
    assert.match(h.nat.describe(k.skb.ct), /^tcp 10\.0\.0\.3:40000 -> 198\.51\.100\.7:80: SNAT to 192\.0\.2\.1:\d+$/);
  });

  test("IPv4 UDP: a full 2-port range drops the third flow at confirm; a released entry leaves bysource", () => {
    const h = setup();
    const r = snatTo(4, a4("192.0.2.1"), 20000, 20001);
    const verdicts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const p = ipPacket(
        { family: 4, src: a4(`10.0.0.${i + 2}`), dst: a4("198.51.100.7"), proto: IPPROTO.UDP },
        udpHeader(5000, 53),
      );
      verdicts.push(forward(h, p, 1 + i / 10, r).verdict);
    }
    assert.deepEqual(verdicts, [Verdict.Accept, Verdict.Accept, Verdict.Drop]);
    assert.equal(h.nat.bysource.count, 2);
  });

  test("IPv6 UDP and growth of the table beyond its initial capacity", () => {
    const h = setup();
    const pub = v6("2001:db8::1");
    const r = snatTo(6, pub);
    for (let i = 0; i < 40; i++) {
      const p = ipPacket(
        { family: 6, src: v6(`fd00::${i + 2}`), dst: v6("2001:db8:1::7"), proto: IPPROTO.UDP },
        udpHeader(7000, 53),
      );
      const f = forward(h, p, 1 + i / 100, r);
      assert.equal(f.verdict, Verdict.Accept);
      assert.deepEqual(Array.from(f.skb.pi.src), Array.from(pub));
      assert.deepEqual(checksumProblems(p), []);
    }
    assert.equal(h.nat.bysource.count, 40);
    // all 40 flows share the source port 7000, so 39 of them moved
    assert.equal(h.nat.stats.mangled, 40);
  });
});

describe("fast tuple reads (Conntrack.storeOf) equal the Tuple path", () => {
  test("the same flows through both give the same bytes (TCP, UDP, ICMP echo; IPv4 and IPv6; both directions)", () => {
    const run = (hideStore: boolean): string[] => {
      const ct = new Conntrack({ initialCapacity: 16 });
      const ops: NatConntrack = hideStore
        ? {
            tuple: (c, d, o) => ct.tuple(c, d, o),
            status: (c) => ct.status(c),
            setStatus: (c, b) => ct.setStatus(c, b),
            setTuple: (c, d, t) => ct.setTuple(c, d, t),
            tupleTaken: (t, i) => ct.tupleTaken(t, i),
            findTuple: (t) => ct.findTuple(t),
            get foundDir() {
              return ct.foundDir;
            },
            tcpState: (c) => ct.tcpState(c),
            tcpSeenEnd: (c, d) => ct.tcpSeenEnd(c, d),
            kill: (c) => ct.kill(c),
          }
        : ct;
      const nat = new Nat(ops, new SeqRandom(5));
      ct.setDestroyHook((c) => nat.onDestroy(c));
      const h = { ct, nat };
      const out: string[] = [];
      const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      for (const family of [4, 6] as const) {
        const A = family === 4 ? a4("10.0.0.2") : v6("fd00::2");
        const B = family === 4 ? a4("10.0.0.3") : v6("fd00::3");
        const S = family === 4 ? a4("198.51.100.7") : v6("2001:db8:1::7");
        const P = family === 4 ? a4("192.0.2.1") : v6("2001:db8::1");
        const r = snatTo(family, P);
        const icmp = family === 4 ? IPPROTO.ICMP : IPPROTO.ICMPV6;
        const echo = (t: number, id: number) => {
          const e = new Uint8Array(12);
          e[0] = t;
          e[4] = id >> 8;
          e[5] = id & 255;
          return e;
        };
        const flows: [Int32Array, Int32Array, number, Uint8Array][] = [
          [A, S, IPPROTO.UDP, udpHeader(5000, 53)],
          [B, S, IPPROTO.UDP, udpHeader(5000, 53)],
          [A, S, IPPROTO.TCP, tcpHeader(6000, 80, 1000, 0, 0x02)],
          [B, S, icmp, echo(family === 4 ? 8 : 128, 77)],
          [A, S, icmp, echo(family === 4 ? 8 : 128, 77)],
        ];
        let now = 1;
        for (const [src, dst, proto, l4] of flows) {
          const p = ipPacket({ family, src, dst, proto }, l4.slice());
          const f = forward(h, p, (now += 0.01), r);
          out.push(`${f.verdict} ${hexOf(p)}`);
          // the reply, addressed to what NAT chose
          const back = ipPacket(
            { family, src: dst, dst: P, proto },
            proto === IPPROTO.TCP
              ? tcpHeader(80, f.skb.pi.srcPort, 5000, 1001, 0x12)
              : proto === IPPROTO.UDP
                ? udpHeader(53, f.skb.pi.srcPort)
                : echo(family === 4 ? 0 : 129, f.skb.pi.icmpId),
          );
          const g = forward(h, back, (now += 0.01), r);
          out.push(`${g.verdict} ${g.skb.ctInfo} ${hexOf(back)}`);
          assert.deepEqual(checksumProblems(back), []);
          assert.equal(g.skb.ctInfo, CtInfo.EstablishedReply);
          assert.deepEqual(Array.from(g.skb.pi.dst), Array.from(src));
        }
      }
      return out;
    };
    assert.deepEqual(run(false), run(true));
  });
});
