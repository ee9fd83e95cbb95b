/**
 * NAT against recordings of the Linux kernel (src/nat/testdata/kernel/*, recorded with tools/oracle from
 * the scenarios in src/nat/testdata/scenarios): every packet the kernel received is run through ctnat's
 * NAT hooks (with a fake connection table), decremented as the forwarding path does, and must equal the
 * packet the kernel sent, byte for byte.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type CapturedPacket, readCaptureBytes } from "../../test/support/capture.js";
import { compareSequence, natChosenValues, parseConntrack, Renamer } from "../../test/support/oracle.js";
import { isNeighbourNoise } from "../../test/support/packet.js";
import { Conntrack } from "../conntrack/index.js";
import { CtInfo, Dir, Hook, IPPROTO, Manip, NatRange, NatRangeFlag, Verdict } from "../core/netfilter.js";
import { Skb } from "../core/skb.js";
import { Tuple } from "../core/tuple.js";
import { parsePacket } from "../wire/parse.js";
import { NatInterfaces, parseIpv4, parseIpv6 } from "./iface.js";
import { Nat } from "./nat.js";
import { masquerade, netmap, redirect } from "./targets.js";
import { FakeConntrack, SeqRandom } from "./testdata/fake-conntrack.js";
import { MiniGw, type NatTable, steerNat } from "./testdata/mini-gw.js";
import { checksumProblems, forwardDecrement, hex, info } from "./testdata/packets.js";
import { readPcapIp } from "./testdata/pcap.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const KDIR = join(HERE, "testdata", "kernel");

function pcap(fixture: string, file: string) {
  return readPcapIp(new Uint8Array(readFileSync(join(KDIR, fixture, file))));
}

function v4range(min: string, max = min, flags = 0): NatRange {
  const r = new NatRange();
  r.flags = NatRangeFlag.MAP_IPS | flags;
  r.minAddr[0] = parseIpv4(min);
  r.maxAddr[0] = parseIpv4(max);
  return r;
}

function v6range(min: string, max = min, flags = 0): NatRange {
  const r = new NatRange();
  r.flags = NatRangeFlag.MAP_IPS | flags;
  r.minAddr.set(parseIpv6(min));
  r.maxAddr.set(parseIpv6(max));
  return r;
}

/** the original tuple of a packet (TCP/UDP ports, ICMP echo id) */
function tupleOf(b: Uint8Array): Tuple {
  const pi = info(b);
  const t = new Tuple();
  t.family = pi.family;
  t.proto = pi.proto;
  t.src.set(pi.src);
  t.dst.set(pi.dst);
  if (pi.proto === IPPROTO.ICMP || pi.proto === IPPROTO.ICMPV6) {
    t.srcPort = pi.icmpId;
    t.dstPort = pi.icmpType << 8;
  } else {
    t.srcPort = pi.srcPort;
    t.dstPort = pi.dstPort;
  }
  return t;
}

describe("kernel: nat-addr-choice (SNAT ranges, --persistent, IPv6 ranges, NETMAP)", () => {
  const inp = pcap("nat-addr-choice", "in/lan0.pcap");
  const out = pcap("nat-addr-choice", "out/wan0.pcap");

  const snat4 = new Map<number, NatRange>([
    [5001, v4range("10.77.2.101", "10.77.2.104")],
    [5002, v4range("10.77.2.101", "10.77.2.104", NatRangeFlag.PERSISTENT)],
    [5003, v4range("10.77.200.0", "10.77.203.255")],
    [5005, v4range("10.77.9.0", "10.77.9.255", NatRangeFlag.NETMAP)],
  ]);
  const snat6 = new Map<number, NatRange>([
    [5001, v6range("fd77:2::101", "fd77:2::104")],
    [5002, v6range("fd77:2::101", "fd77:2::104", NatRangeFlag.PERSISTENT)],
    [5003, v6range("fd77:2::ffff:fff0", "fd77:2::1:0:10")],
    [5005, v6range("fd77:9::", "fd77:9::ffff:ffff:ffff:ffff", NatRangeFlag.NETMAP)],
  ]);
  const dmap4 = v4range("10.77.2.0", "10.77.2.255", NatRangeFlag.NETMAP);
  const dmap6 = v6range("fd77:2::", "fd77:2::ffff:ffff:ffff:ffff", NatRangeFlag.NETMAP);
  const net3v4 = parseIpv4("10.77.3.0");
  const net3v6 = parseIpv6("fd77:3::");

  test("every forwarded datagram equals the kernel's", () => {
    assert.equal(inp.length, out.length);
    assert.ok(inp.length >= 190);
    const ct = new FakeConntrack();
    const nat = new Nat(ct, new SeqRandom(1));
    ct.onDestroy = (c) => nat.onDestroy(c);
    const run = (skb: Skb, hook: number): number => {
      const pi = skb.pi;
      if (hook === Hook.Prerouting) {
        const in3 =
          pi.family === 4 ? (pi.dst[0] & 0xffffff00) === net3v4 : pi.dst[0] === net3v6[0] && pi.dst[1] === net3v6[1];
        return in3 ? netmap(nat, skb, pi.family === 4 ? dmap4 : dmap6) : Verdict.Accept;
      }
      const r = (pi.family === 4 ? snat4 : snat6).get(pi.dstPort);
      if (r === undefined) return Verdict.Accept;
      return nat.natSetup(skb, r, Manip.Src);
    };
    let mismatches = 0;
    for (let i = 0; i < inp.length; i++) {
      const b = inp[i].ip.slice();
      const c = ct.create(tupleOf(b));
      const skb = new Skb();
      info(b, skb.pi);
      skb.ct = c;
      skb.ctInfo = CtInfo.New;
      for (const hook of [Hook.Prerouting, Hook.Postrouting]) {
        skb.hook = hook;
        assert.equal(nat.hook(skb, hook, run), Verdict.Accept);
      }
      assert.ok(ct.confirm(c));
      forwardDecrement(b);
      assert.deepEqual(checksumProblems(b), []);
      if (hex(b) !== hex(out[i].ip)) {
        mismatches++;
        const reply = new Tuple();
        ct.tuple(c, Dir.Reply, reply);
        assert.fail(`packet ${i}: ours ${hex(b)}\nkernel ${hex(out[i].ip)}`);
      }
    }
    assert.equal(mismatches, 0);
  });
});

// ---- whole recordings through a two-interface mini gateway ------------------------------------

const REPO = join(HERE, "..", "..");

interface Fixture {
  dir: string;
  table: NatTable;
  /** fixtures recorded by the project's oracle (test/fixtures/kernel) rather than NAT's own */
  shared?: boolean;
  /** renaming allowed when comparing (default none: the steered choices must be the kernel's) */
  rename?: "none" | "nat";
  /** drop packets that match no connection (a filter rule `--ctstate INVALID -j DROP`) */
  dropInvalid?: boolean;
  /** leave kernel packets out of the comparison (what the gateway's own stack sent, which MiniGw lacks) */
  skipKernel?: (ip: Uint8Array) => boolean;
}

/** run a recording's input through MiniGw; compare each interface's output with the kernel's */
function replayFixture(fx: Fixture): string[] {
  const dir = fx.shared === true ? join(REPO, "test", "fixtures", "kernel", fx.dir) : join(KDIR, fx.dir);
  const ifaces = NatInterfaces.fromIpJson(JSON.parse(readFileSync(join(dir, "addr.json"), "utf8")));
  const gw = new MiniGw(ifaces, fx.table, 7);
  gw.dropInvalid = fx.dropInvalid === true;
  for (const [fam, file] of [
    [4, "route.json"],
    [6, "route6.json"],
  ] as const) {
    if (existsSync(join(dir, file))) gw.addRoutes(fam, JSON.parse(readFileSync(join(dir, file), "utf8")));
  }
  const ctText = existsSync(join(dir, "conntrack.txt")) ? readFileSync(join(dir, "conntrack.txt"), "utf8") : "";
  gw.steer(ctText);
  const names = ["lan0", "wan0"];
  const input: { ifindex: number; ts: number; ip: Uint8Array; seq: number }[] = [];
  let seq = 0;
  for (const n of names) {
    const f = join(dir, "in", `${n}.pcap`);
    if (!existsSync(f)) continue;
    for (const p of readPcapIp(new Uint8Array(readFileSync(f))))
      input.push({ ifindex: gw.ifindex(n), ts: p.ts, ip: p.ip, seq: seq++ });
  }
  input.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  const outputs = new Map<number, CapturedPacket[]>();
  for (const p of input) {
    const r = gw.process(p.ip, p.ifindex, p.ts);
    if (r === null) continue;
    const list = outputs.get(r.outIf) ?? [];
    list.push({
      index: list.length,
      time: r.time,
      linkType: 101,
      l3: r.ip,
      nonIp: false,
      etherType: 0,
    } as CapturedPacket);
    outputs.set(r.outIf, list);
  }
  // steered by the kernel's table, ctnat makes the same choices: no renaming needed
  const renamer = new Renamer(fx.rename ?? "none", natChosenValues(parseConntrack(ctText)));
  const problems: string[] = [];
  for (const n of names) {
    const f = join(dir, "out", `${n}.pcap`);
    if (!existsSync(f)) continue;
    const kernel = readCaptureBytes(new Uint8Array(readFileSync(f))).filter(
      (p) => !p.nonIp && !isNeighbourNoise(p.l3) && !(fx.skipKernel?.(p.l3) ?? false),
    );
    const ours = outputs.get(gw.ifindex(n)) ?? [];
    const rep = compareSequence(n, kernel, ours, renamer);
    if (!rep.equal) {
      problems.push(
        `${n}: kernel ${rep.kernelCount} packets, ctnat ${rep.ctnatCount}; first difference at #${rep.first?.index}: ${rep.first?.reason}\n  kernel ${rep.first?.kernel?.line}\n  ctnat  ${rep.first?.ctnat?.line}`,
      );
    }
  }
  return problems;
}

const noRange = new NatRange();

function masqueradeOnWan(gw: MiniGw, skb: Skb, hook: number): number {
  if (hook === Hook.Postrouting && skb.outIf === gw.ifindex("wan0")) return masquerade(gw.nat, gw.ifaces, skb, noRange);
  return Verdict.Accept;
}

describe("kernel: whole recordings through the NAT hooks", () => {
  test("nat-icmp-xlat: ICMP/ICMPv6 errors of NATed flows, inside and out, and the dropped redirect", () => {
    const dnat = v4range("10.77.1.2");
    dnat.flags |= NatRangeFlag.PROTO_SPECIFIED;
    dnat.minProto = 80;
    dnat.maxProto = 80;
    const gwWan = parseIpv4("10.77.2.1");
    const problems = replayFixture({
      dir: "nat-icmp-xlat",
      table: (gw, skb, hook) => {
        const pi = skb.pi;
        if (
          hook === Hook.Prerouting &&
          skb.inIf === gw.ifindex("wan0") &&
          pi.family === 4 &&
          pi.dst[0] === gwWan &&
          pi.proto === IPPROTO.TCP &&
          pi.dstPort === 8080
        ) {
          return gw.nat.natSetup(skb, dnat, Manip.Dst);
        }
        return masqueradeOnWan(gw, skb, hook);
      },
    });
    assert.deepEqual(problems, []);
  });

  test("nat-masq-addr: MASQUERADE's address per next hop / subnet (IPv4) and by RFC 6724 rules (IPv6)", () => {
    assert.deepEqual(replayFixture({ dir: "nat-masq-addr", table: masqueradeOnWan }), []);
  });

  test("nat-masq-clash (project fixture): clashing ports and ids move within Linux's bands", () => {
    assert.deepEqual(replayFixture({ dir: "nat-masq-clash", shared: true, table: masqueradeOnWan }), []);
  });

  test("nat-snat-port-range-exhaustion (project fixture): a full range drops new flows at confirm", () => {
    const udp = v4range("10.77.2.1");
    udp.flags |= NatRangeFlag.PROTO_SPECIFIED;
    udp.minProto = 20000;
    udp.maxProto = 20002;
    const tcp = v4range("10.77.2.1");
    tcp.flags |= NatRangeFlag.PROTO_SPECIFIED;
    tcp.minProto = 20010;
    tcp.maxProto = 20011;
    const problems = replayFixture({
      dir: "nat-snat-port-range-exhaustion",
      shared: true,
      table: (gw, skb, hook) => {
        if (hook !== Hook.Postrouting || skb.outIf !== gw.ifindex("wan0")) return Verdict.Accept;
        if (skb.pi.proto === IPPROTO.UDP) return gw.nat.natSetup(skb, udp, Manip.Src);
        if (skb.pi.proto === IPPROTO.TCP) return gw.nat.natSetup(skb, tcp, Manip.Src);
        return Verdict.Accept;
      },
    });
    assert.deepEqual(problems, []);
  });
});

describe("kernel: project recordings with NAT", () => {
  test("masq-tcp", () => {
    assert.deepEqual(replayFixture({ dir: "masq-tcp", shared: true, table: masqueradeOnWan }), []);
  });
  test("masq-udp-icmp", () => {
    assert.deepEqual(replayFixture({ dir: "masq-udp-icmp", shared: true, table: masqueradeOnWan }), []);
  });
  test("ct-icmp-errors: errors through MASQUERADE; the unrelated one dropped as INVALID", () => {
    assert.deepEqual(
      replayFixture({ dir: "ct-icmp-errors", shared: true, table: masqueradeOnWan, dropInvalid: true }),
      [],
    );
  });
  test("nat-dnat-redirect: DNAT port forwards (IPv4, IPv6) and REDIRECT to the gateway", () => {
    const gwWan4 = parseIpv4("10.77.2.1");
    const gwWan6 = parseIpv6("fd77:2::1");
    const d53 = v4range("10.77.1.2");
    d53.flags |= NatRangeFlag.PROTO_SPECIFIED;
    d53.minProto = d53.maxProto = 53;
    const d80 = v4range("10.77.1.2");
    d80.flags |= NatRangeFlag.PROTO_SPECIFIED;
    d80.minProto = d80.maxProto = 80;
    const d80v6 = v6range("fd77:1::2");
    d80v6.flags |= NatRangeFlag.PROTO_SPECIFIED;
    d80v6.minProto = d80v6.maxProto = 80;
    const r22 = new NatRange();
    r22.flags = NatRangeFlag.PROTO_SPECIFIED;
    r22.minProto = r22.maxProto = 22;
    const r23 = new NatRange();
    r23.flags = NatRangeFlag.PROTO_SPECIFIED;
    r23.minProto = r23.maxProto = 23;
    const problems = replayFixture({
      dir: "nat-dnat-redirect",
      shared: true,
      // the gateway's own answers to the redirected flows (RST, port unreachable) come from its stack,
      // which MiniGw does not have: they are the packets with an undecremented TTL / hop limit
      skipKernel: (ip) => (ip[0] >> 4 === 4 ? ip[8] : ip[7]) === 64,
      table: (gw, skb, hook) => {
        const pi = skb.pi;
        if (hook === Hook.Prerouting) {
          const wan = skb.inIf === gw.ifindex("wan0");
          if (wan && pi.family === 4 && pi.dst[0] === gwWan4) {
            if (pi.proto === IPPROTO.UDP && pi.dstPort === 5353) return gw.nat.natSetup(skb, d53, Manip.Dst);
            if (pi.proto === IPPROTO.TCP && pi.dstPort === 8080) return gw.nat.natSetup(skb, d80, Manip.Dst);
          }
          if (
            wan &&
            pi.family === 6 &&
            pi.dst.every((w, i) => w === gwWan6[i]) &&
            pi.proto === IPPROTO.TCP &&
            pi.dstPort === 8080
          ) {
            return gw.nat.natSetup(skb, d80v6, Manip.Dst);
          }
          if (skb.inIf === gw.ifindex("lan0") && pi.family === 4) {
            if (pi.proto === IPPROTO.TCP && pi.dstPort === 2222) return redirect(gw.nat, gw.ifaces, skb, r22);
            if (pi.proto === IPPROTO.UDP && pi.dstPort === 2223) return redirect(gw.nat, gw.ifaces, skb, r23);
          }
          return Verdict.Accept;
        }
        return pi.family === 4 ? masqueradeOnWan(gw, skb, hook) : Verdict.Accept;
      },
    });
    assert.deepEqual(problems, []);
  });
});

// ---- the same recordings over ctnat's real connection table and parser ------------------------

/**
 * replayWithConntrack: as replayFixture, but connections are tracked by ctnat's Conntrack (TCP states,
 * timeouts, ICMP error relation, confirm with clash handling) on packets parsed by the wire parser; the
 * routing is MiniGw's. Only what the recording forwarded is compared.
 */
function replayWithConntrack(fx: Fixture): string[] {
  const dir = fx.shared === true ? join(REPO, "test", "fixtures", "kernel", fx.dir) : join(KDIR, fx.dir);
  const ifaces = NatInterfaces.fromIpJson(JSON.parse(readFileSync(join(dir, "addr.json"), "utf8")));
  const gw = new MiniGw(ifaces, fx.table, 7);
  for (const [fam, file] of [
    [4, "route.json"],
    [6, "route6.json"],
  ] as const) {
    if (existsSync(join(dir, file))) gw.addRoutes(fam, JSON.parse(readFileSync(join(dir, file), "utf8")));
  }
  const ct = new Conntrack({ initialCapacity: 8 });
  const nat = new Nat(ct, new SeqRandom(3));
  ct.setDestroyHook((c) => nat.onDestroy(c));
  ct.setCapacityHook((f, c) => nat.onCapacity(f, c));
  // the table functions call gw.nat: point them at this Nat
  gw.nat = nat;
  const ctText = existsSync(join(dir, "conntrack.txt")) ? readFileSync(join(dir, "conntrack.txt"), "utf8") : "";
  steerNat(nat, ct, ctText);
  const names = ["lan0", "wan0"];
  const input: { ifindex: number; ts: number; ip: Uint8Array; seq: number }[] = [];
  let seq = 0;
  for (const n of names) {
    const f = join(dir, "in", `${n}.pcap`);
    if (!existsSync(f)) continue;
    for (const p of readPcapIp(new Uint8Array(readFileSync(f))))
      input.push({ ifindex: gw.ifindex(n), ts: p.ts, ip: p.ip, seq: seq++ });
  }
  input.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  const outputs = new Map<number, CapturedPacket[]>();
  const run = (s: Skb, hook: number): number => fx.table(gw, s, hook);
  for (const p of input) {
    const b = p.ip.slice();
    const skb = new Skb();
    skb.reset(p.ts, p.ifindex);
    parsePacket(skb.pi, b, 0, b.length);
    if (ct.in(skb, Hook.Prerouting) !== Verdict.Accept) continue;
    if (skb.ct < 0 && fx.dropInvalid === true) continue;
    skb.hook = Hook.Prerouting;
    if (nat.hook(skb, Hook.Prerouting, run) !== Verdict.Accept) {
      ct.release(skb);
      continue;
    }
    const outIf = gw.route(skb.pi.family, skb.pi.dst);
    if (outIf < 0) {
      ct.release(skb);
      continue;
    }
    skb.outIf = outIf;
    skb.hook = Hook.Postrouting;
    if (nat.hook(skb, Hook.Postrouting, run) !== Verdict.Accept) {
      ct.release(skb);
      continue;
    }
    if (ct.confirm(skb) !== Verdict.Accept) continue;
    forwardDecrement(b);
    const list = outputs.get(outIf) ?? [];
    list.push({ index: list.length, time: p.ts, linkType: 101, l3: b, nonIp: false, etherType: 0 } as CapturedPacket);
    outputs.set(outIf, list);
  }
  const renamer = new Renamer(fx.rename ?? "none", natChosenValues(parseConntrack(ctText)));
  const problems: string[] = [];
  for (const n of names) {
    const f = join(dir, "out", `${n}.pcap`);
    if (!existsSync(f)) continue;
    const kernel = readCaptureBytes(new Uint8Array(readFileSync(f))).filter(
      (q) => !q.nonIp && !isNeighbourNoise(q.l3) && !(fx.skipKernel?.(q.l3) ?? false),
    );
    const rep = compareSequence(n, kernel, outputs.get(gw.ifindex(n)) ?? [], renamer);
    if (!rep.equal) {
      problems.push(
        `${n}: kernel ${rep.kernelCount} packets, ctnat ${rep.ctnatCount}; first difference at #${rep.first?.index}: ${rep.first?.reason}\n  kernel ${rep.first?.kernel?.line}\n  ctnat  ${rep.first?.ctnat?.line}`,
      );
    }
  }
  return problems;
}

describe("kernel: recordings over the real conntrack", () => {
  const tcpRange = v4range("10.77.2.1");
  tcpRange.flags |= NatRangeFlag.PROTO_SPECIFIED;
  tcpRange.minProto = 20000;
  tcpRange.maxProto = 20001;

  test("nat-tw-evict: TIME_WAIT entries evicted in the last attempts when the sequence advanced", () => {
    const problems = replayWithConntrack({
      dir: "nat-tw-evict",
      table: (gw, skb, hook) =>
        hook === Hook.Postrouting && skb.outIf === gw.ifindex("wan0") && skb.pi.proto === IPPROTO.TCP
          ? gw.nat.natSetup(skb, tcpRange, Manip.Src)
          : Verdict.Accept,
    });
    assert.deepEqual(problems, []);
  });

  test("nat-icmp-xlat over the real conntrack", () => {
    const dnat = v4range("10.77.1.2");
    dnat.flags |= NatRangeFlag.PROTO_SPECIFIED;
    dnat.minProto = 80;
    dnat.maxProto = 80;
    const gwWan = parseIpv4("10.77.2.1");
    const problems = replayWithConntrack({
      dir: "nat-icmp-xlat",
      table: (gw, skb, hook) => {
        const pi = skb.pi;
        if (
          hook === Hook.Prerouting &&
          skb.inIf === gw.ifindex("wan0") &&
          pi.family === 4 &&
          pi.dst[0] === gwWan &&
          pi.proto === IPPROTO.TCP &&
          pi.dstPort === 8080
        ) {
          return gw.nat.natSetup(skb, dnat, Manip.Dst);
        }
        return masqueradeOnWan(gw, skb, hook);
      },
    });
    assert.deepEqual(problems, []);
  });

  test("nat-masq-clash and nat-snat-port-range-exhaustion (project fixtures) over the real conntrack", () => {
    assert.deepEqual(replayWithConntrack({ dir: "nat-masq-clash", shared: true, table: masqueradeOnWan }), []);
    const udp = v4range("10.77.2.1");
    udp.flags |= NatRangeFlag.PROTO_SPECIFIED;
    udp.minProto = 20000;
    udp.maxProto = 20002;
    const tcp = v4range("10.77.2.1");
    tcp.flags |= NatRangeFlag.PROTO_SPECIFIED;
    tcp.minProto = 20010;
    tcp.maxProto = 20011;
    const problems = replayWithConntrack({
      dir: "nat-snat-port-range-exhaustion",
      shared: true,
      table: (gw, skb, hook) => {
        if (hook !== Hook.Postrouting || skb.outIf !== gw.ifindex("wan0")) return Verdict.Accept;
        if (skb.pi.proto === IPPROTO.UDP) return gw.nat.natSetup(skb, udp, Manip.Src);
        if (skb.pi.proto === IPPROTO.TCP) return gw.nat.natSetup(skb, tcp, Manip.Src);
        return Verdict.Accept;
      },
    });
    assert.deepEqual(problems, []);
  });
});

describe("kernel: hairpin NAT", () => {
  const gwWan4 = parseIpv4("10.77.2.1");
  const gwWan6 = parseIpv6("fd77:2::1");
  const lanNet4 = parseIpv4("10.77.1.0");
  const lanNet6 = parseIpv6("fd77:1::");
  const withPort = (r: NatRange, p: number): NatRange => {
    r.flags |= NatRangeFlag.PROTO_SPECIFIED;
    r.minProto = p;
    r.maxProto = p;
    return r;
  };
  const tcp80 = withPort(v4range("10.77.1.3"), 80);
  const udp53 = withPort(v4range("10.77.1.3"), 53);
  const tcp80v6 = withPort(v6range("fd77:1::3"), 80);
  const inLan = (family: number, a: Int32Array): boolean =>
    family === 4 ? (a[0] & 0xffffff00) === lanNet4 : a[0] === lanNet6[0] && a[1] === lanNet6[1];
  const table: NatTable = (gw, skb, hook) => {
    const pi = skb.pi;
    if (hook === Hook.Prerouting) {
      if (pi.family === 4 && pi.dst[0] === gwWan4) {
        if (pi.proto === IPPROTO.TCP && pi.dstPort === 8080) return gw.nat.natSetup(skb, tcp80, Manip.Dst);
        if (pi.proto === IPPROTO.UDP && pi.dstPort === 5353) return gw.nat.natSetup(skb, udp53, Manip.Dst);
      }
      if (
        pi.family === 6 &&
        pi.dst.every((w, i) => w === gwWan6[i]) &&
        pi.proto === IPPROTO.TCP &&
        pi.dstPort === 8080
      ) {
        return gw.nat.natSetup(skb, tcp80v6, Manip.Dst);
      }
      return Verdict.Accept;
    }
    if (skb.outIf === gw.ifindex("lan0") && inLan(pi.family, pi.src) && inLan(pi.family, pi.dst)) {
      return masquerade(gw.nat, gw.ifaces, skb, noRange);
    }
    return masqueradeOnWan(gw, skb, hook);
  };
  // the gateway's own IPv6 redirects (link-local source) are already left out by the comparator

  test("nat-hairpin: DNAT and MASQUERADE back into lan0, IPv4 and IPv6", () => {
    assert.deepEqual(replayFixture({ dir: "nat-hairpin", table }), []);
  });

  test("nat-hairpin over the real conntrack", () => {
    assert.deepEqual(replayWithConntrack({ dir: "nat-hairpin", table }), []);
  });
});
