/**
 * Conntrack zones over the real connection table and NAT: the zone is part of a connection's identity
 * (one 5-tuple tracked once per zone), each direction looks its tuple up in its own zone (a
 * --zone-orig zone leaves the replies in the default zone), NAT's unique-tuple search and its
 * by-source reuse are per zone, and `conntrack -L` prints the zone where conntrack-tools 1.4.7 does.
 * End to end: the kernel scenarios rules-ct-zone and rules-ct-zones.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatEntry, listEntries } from "../conntrack/format.js";
import { Conntrack } from "../conntrack/index.js";
import { CtZone, Hook, IPPROTO, Manip, NatRange, NatRangeFlag, Verdict } from "../core/netfilter.js";
import { Skb } from "../core/skb.js";
import { parsePacket } from "../wire/parse.js";
import { Nat } from "./nat.js";
import { SeqRandom } from "./testdata/fake-conntrack.js";
import { ipPacket, udpHeader, v4 } from "./testdata/packets.js";

function setup() {
  const ct = new Conntrack({ initialCapacity: 8 });
  const nat = new Nat(ct, new SeqRandom(11), { capacity: 8 });
  ct.setDestroyHook((c) => nat.onDestroy(c));
  ct.setCapacityHook((f, c) => nat.onCapacity(f, c));
  return { ct, nat };
}

const a4 = (s: string): Int32Array => Int32Array.of(v4(s), 0, 0, 0);
const PUB = a4("192.0.2.1");

function masq(): NatRange {
  const r = new NatRange();
  r.flags = NatRangeFlag.MAP_IPS;
  r.minAddr.set(PUB);
  r.maxAddr.set(PUB);
  return r;
}

/** one UDP packet through conntrack in `zone` (packed CtZone, as CT --zone leaves it), NAT, confirm */
function udp(
  h: ReturnType<typeof setup>,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  zone: number,
  now: number,
  snat: NatRange | null,
): Skb {
  const pkt = ipPacket({ family: 4, src: a4(src), dst: a4(dst), proto: IPPROTO.UDP }, udpHeader(sport, dport, 4));
  const skb = new Skb();
  skb.reset(now, 1);
  skb.outIf = 2;
  skb.ctZone = zone;
  skb.ctTemplate = zone !== 0;
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
  assert.equal(v, Verdict.Accept);
  assert.equal(h.ct.confirm(skb), Verdict.Accept);
  return skb;
}

test("one 5-tuple is tracked once per zone; each zone's reply finds its own entry", () => {
  const h = setup();
  const z5 = CtZone.DirBoth | 5;
  const a = udp(h, "10.0.0.2", "198.51.100.7", 5000, 53, 0, 1, null);
  const b = udp(h, "10.0.0.2", "198.51.100.7", 5000, 53, z5, 1, null);
  assert.notEqual(a.ct, b.ct);
  assert.equal(h.ct.zone(b.ct), z5);
  assert.equal(listEntries(h.ct, 2).length, 2);
  // the replies, in their zones
  const ra = udp(h, "198.51.100.7", "10.0.0.2", 53, 5000, 0, 2, null);
  const rb = udp(h, "198.51.100.7", "10.0.0.2", 53, 5000, z5, 2, null);
  assert.equal(ra.ct, a.ct);
  assert.equal(rb.ct, b.ct);
  // a packet of the same flow in a third zone is a new connection again
  const c = udp(h, "10.0.0.2", "198.51.100.7", 5000, 53, CtZone.DirBoth | 6, 3, null);
  assert.notEqual(c.ct, a.ct);
  assert.notEqual(c.ct, b.ct);
  assert.match(formatEntry(h.ct, b.ct, 3), / mark=0 zone=5 use=1$/);
  assert.doesNotMatch(formatEntry(h.ct, a.ct, 3), /zone/);
});

test("MASQUERADE: entries whose replies share a zone get distinct ports; both-direction zones may share one", () => {
  const h = setup();
  const sport = (s: Skb) => s.pi.srcPort;
  const plain = udp(h, "10.0.0.2", "198.51.100.7", 5000, 53, 0, 1, masq());
  // --zone-orig 1 and 2: the original direction is in zones 1 and 2, the replies all in zone 0
  const o1 = udp(h, "10.0.0.2", "198.51.100.7", 5000, 53, CtZone.DirOrig | 1, 1, masq());
  const o2 = udp(h, "10.0.0.2", "198.51.100.7", 5000, 53, CtZone.DirOrig | 2, 1, masq());
  const ports = [sport(plain), sport(o1), sport(o2)];
  assert.equal(ports[0], 5000);
  assert.equal(new Set(ports).size, 3);
  // --zone 3 (both directions): its reply tuple lives in zone 3, so the source port can stay
  const z3 = udp(h, "10.0.0.2", "198.51.100.7", 5000, 53, CtZone.DirBoth | 3, 1, masq());
  assert.equal(sport(z3), 5000);
  // each reply finds its entry: the --zone-orig ones in the default zone, by their NAT port
  for (const [orig, port] of [
    [o1, ports[1]],
    [o2, ports[2]],
  ] as const) {
    const r = udp(h, "198.51.100.7", "192.0.2.1", 53, port!, 0, 2, null);
    assert.equal(r.ct, orig.ct);
    assert.equal(r.pi.dstPort, 5000);
  }
  const r3 = udp(h, "198.51.100.7", "192.0.2.1", 53, 5000, CtZone.DirBoth | 3, 2, null);
  assert.equal(r3.ct, z3.ct);
  // conntrack -L: zone-orig after the original tuple, zone after mark
  assert.match(
    formatEntry(h.ct, o1.ct, 2),
    /^udp {6}17 \d+ src=10\.0\.0\.2 dst=198\.51\.100\.7 sport=5000 dport=53 zone-orig=1 src=198\.51\.100\.7/,
  );
  assert.match(formatEntry(h.ct, z3.ct, 2), / mark=0 zone=3 use=1$/);
});

test("a zone-reply entry: the reply direction is looked up in the zone, printed after the reply tuple", () => {
  const h = setup();
  const zr = CtZone.DirReply | 9;
  const e = udp(h, "10.0.0.2", "198.51.100.7", 6000, 53, zr, 1, null);
  // the reply outside zone 9 is a new connection; inside it, the entry's reply
  const wrong = udp(h, "198.51.100.7", "10.0.0.2", 53, 6000, 0, 2, null);
  assert.notEqual(wrong.ct, e.ct);
  assert.match(formatEntry(h.ct, e.ct, 2), /sport=53 dport=6000 zone-reply=9 /);
});
