/**
 * NAT micro-benchmarks (tinybench), over ctnat's real connection table:
 *
 *   node --import tsx bench/nat.bench.ts [--quick] [--json]
 *
 * - nat/rewrite/established-snat-tcp: the NAT hook for an established, source-NATed TCP segment
 *   (POSTROUTING, original direction: source address and port rewritten, IPv4 and TCP checksums
 *   adjusted) and its reply (PREROUTING, destination un-NATed). 1024 connections, visited in turn; the
 *   packets are parsed once and rewritten in place again and again (the work per packet is the same).
 * - nat/setup/*: a new connection's first packet: parse, conntrack `in` (unconfirmed entry), the NAT
 *   hooks at PREROUTING (null binding) and POSTROUTING (SNAT to one address, setupInfo), then `release`
 *   (so the table does not grow). "baseline" is the same without the NAT hooks; the difference is NAT's
 *   share (two setups: the DST null binding and the SNAT). "clash":
 *   another host's confirmed connection already holds the mapped tuple, so the port search runs.
 *   "dense range": SNAT to a 1024-port range of which 900 ports are in use towards that server.
 *
 * Times are per packet: the median of the samples of a batch of 4096, divided by 4096. The hot paths
 * must not allocate: the heap is compared before and after the rewrite runs.
 */
import { Bench } from "tinybench";
import { defaultCtConfig } from "../src/conntrack/config.js";
import { Conntrack } from "../src/conntrack/conntrack.js";
import { CtInfo, Hook, Manip, NatRange, NatRangeFlag, Verdict } from "../src/core/netfilter.js";
import { Skb } from "../src/core/skb.js";
import { Nat } from "../src/nat/nat.js";
import type { NatRandom } from "../src/nat/types.js";
import { buildPacket } from "../src/wire/build.js";
import { parsePacket } from "../src/wire/parse.js";

const OPS = 4096;
const quick = process.argv.includes("--quick");
const asJson = process.argv.includes("--json");
const TIME = quick ? 150 : 800;

class XorShift implements NatRandom {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0 || 1;
  }
  randomU32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
}

const PUB = (192 << 24) | (0 << 16) | (2 << 8) | 1; // 192.0.2.1
const SERVER = (198 << 24) | (51 << 16) | (100 << 8) | 7;

function world() {
  const cfg = defaultCtConfig();
  cfg.checksum = false;
  cfg.max = 0;
  const ct = new Conntrack({ config: cfg, seed: 7, initialCapacity: 4096 });
  const nat = new Nat(ct, new XorShift(99), { capacity: 8192 });
  ct.setDestroyHook((c) => nat.onDestroy(c));
  ct.setCapacityHook((f, c) => nat.onCapacity(f, c));
  return { ct, nat };
}

function snatRange(pmin = 0, pmax = 0): NatRange {
  const r = new NatRange();
  r.flags = NatRangeFlag.MAP_IPS | (pmin !== 0 ? NatRangeFlag.PROTO_SPECIFIED : 0);
  r.minAddr[0] = PUB;
  r.maxAddr[0] = PUB;
  r.minProto = pmin;
  r.maxProto = pmax;
  return r;
}

function ip4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
}

function tcpSkb(
  src: number,
  sport: number,
  dst: number,
  dport: number,
  flags: string,
  payload: number,
  seq = 1000,
  ack = 0,
): Skb {
  const b = buildPacket({
    src: ip4(src),
    dst: ip4(dst),
    tcp: { sport, dport, flags, seq, ack, payload: new Uint8Array(payload) },
  });
  const skb = new Skb();
  skb.reset(1, 1);
  skb.outIf = 2;
  parsePacket(skb.pi, b, 0, b.length);
  return skb;
}

interface Row {
  name: string;
  nsPerOp: number;
  rme: number;
}

function row(bench: Bench, i = 0): Row {
  const task = bench.tasks[i];
  const lat = (task.result as unknown as { latency: { p50: number; rme: number } }).latency;
  return { name: task.name, nsPerOp: (lat.p50 * 1e6) / OPS, rme: lat.rme };
}

/** one packet through PREROUTING and POSTROUTING with conntrack, NAT and confirm */
function through(ct: Conntrack, nat: Nat, skb: Skb, run: (s: Skb, h: number) => number): number {
  ct.in(skb, Hook.Prerouting);
  skb.hook = Hook.Prerouting;
  let v = nat.hook(skb, Hook.Prerouting, run);
  if (v === Verdict.Accept) {
    skb.hook = Hook.Postrouting;
    v = nat.hook(skb, Hook.Postrouting, run);
  }
  return v === Verdict.Accept ? ct.confirm(skb) : v;
}

async function rewrite(): Promise<Row[]> {
  const { ct, nat } = world();
  const r = snatRange();
  const run = (s: Skb, h: number): number =>
    h === Hook.Postrouting ? nat.setupInfo(s.ct, r, Manip.Src) : Verdict.Accept;
  const N = 1024;
  const orig: Skb[] = [];
  const reply: Skb[] = [];
  for (let i = 0; i < N; i++) {
    const client = (10 << 24) | i;
    // handshake so the entries are ESTABLISHED
    const port = 10000 + i;
    through(ct, nat, tcpSkb(client, port, SERVER, 80, "S", 0, 1000), run);
    through(ct, nat, tcpSkb(SERVER, 80, PUB, port, "SA", 0, 5000, 1001), run);
    const o = tcpSkb(client, port, SERVER, 80, "A", 100, 1001, 5001);
    through(ct, nat, o, run);
    const rp = tcpSkb(SERVER, 80, PUB, port, "A", 100, 5001, 1101);
    through(ct, nat, rp, run);
    if (o.ctInfo !== CtInfo.Established || rp.ctInfo !== CtInfo.EstablishedReply || o.pi.src[0] !== PUB) {
      throw new Error(`connection ${i} not established through NAT`);
    }
    orig.push(o);
    reply.push(rp);
  }
  if (nat.stats.mangled !== N) throw new Error(`expected ${N} SNATed connections, got ${nat.stats.mangled}`);
  let pos = 0;
  const bench = new Bench({ time: TIME, warmupTime: Math.min(200, TIME / 2) });
  bench.add("nat/rewrite/established-snat-tcp (original, POSTROUTING)", () => {
    for (let k = 0; k < OPS; k++) {
      const s = orig[pos];
      pos = (pos + 1) & (N - 1);
      nat.hook(s, Hook.Postrouting, run);
    }
  });
  bench.add("nat/rewrite/established-snat-tcp (reply, PREROUTING)", () => {
    for (let k = 0; k < OPS; k++) {
      const s = reply[pos];
      pos = (pos + 1) & (N - 1);
      nat.hook(s, Hook.Prerouting, run);
    }
  });
  await bench.run();
  // allocation check: a million rewrites must not grow the heap
  const g = (globalThis as { gc?: () => void }).gc;
  g?.();
  const before = process.memoryUsage().heapUsed;
  for (let k = 0; k < 1_000_000; k++) nat.hook(orig[k & (N - 1)], Hook.Postrouting, run);
  g?.();
  const grown = process.memoryUsage().heapUsed - before;
  if (g !== undefined && grown > 256 * 1024) throw new Error(`rewrite allocated: heap grew by ${grown} bytes`);
  return [row(bench, 0), row(bench, 1)];
}

async function setup(): Promise<Row[]> {
  const out: Row[] = [];
  for (const mode of ["baseline", "no clash", "clash", "dense range"] as const) {
    const { ct, nat } = world();
    const r = mode === "dense range" ? snatRange(20000, 21023) : snatRange();
    const run = (s: Skb, h: number): number =>
      mode !== "baseline" && h === Hook.Postrouting ? nat.setupInfo(s.ct, r, Manip.Src) : Verdict.Accept;
    const nullRun = (): number => Verdict.Accept;
    // occupants: another client's confirmed connections holding the mapped tuples
    if (mode === "clash") {
      for (let p = 0; p < 4096; p++) through(ct, nat, tcpSkb((10 << 24) | 0xffff, 1024 + p, SERVER, 80, "S", 0), run);
    } else if (mode === "dense range") {
      for (let p = 0; p < 900; p++) through(ct, nat, tcpSkb((10 << 24) | 0xfffe, 1024 + p, SERVER, 80, "S", 0), run);
    }
    // the packets measured: clients 10.1.x.y with ports 1024.. (the clash occupant uses the same ports)
    const M = 4096;
    const pkts: Skb[] = [];
    for (let i = 0; i < M; i++) pkts.push(tcpSkb((10 << 24) | (1 << 16) | i, 1024 + i, SERVER, 80, "S", 0));
    const saved = pkts.map((s) => s.pi.buf.slice());
    let pos = 0;
    const bench = new Bench({ time: TIME, warmupTime: Math.min(200, TIME / 2) });
    const what = mode === "baseline" ? "parse + conntrack in + release" : "... + NAT hooks (null DNAT, SNAT)";
    bench.add(`nat/setup/${mode} (${what})`, () => {
      for (let k = 0; k < OPS; k++) {
        const s = pkts[pos];
        const b = saved[pos];
        pos = (pos + 1) & (M - 1);
        s.pi.buf.set(b);
        parsePacket(s.pi, s.pi.buf, 0, b.length);
        s.ct = -1;
        s.ctInfo = CtInfo.None;
        ct.in(s, Hook.Prerouting);
        if (mode !== "baseline") {
          s.hook = Hook.Prerouting;
          nat.hook(s, Hook.Prerouting, nullRun);
          s.hook = Hook.Postrouting;
          nat.hook(s, Hook.Postrouting, run);
        }
        ct.release(s);
      }
    });
    await bench.run();
    out.push(row(bench));
  }
  return out;
}

const rows = [...(await rewrite()), ...(await setup())];
if (asJson) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  const base = rows.find((r) => r.name.startsWith("nat/setup/baseline"))?.nsPerOp ?? 0;
  for (const r of rows) {
    const extra =
      r.name.startsWith("nat/setup/") && !r.name.startsWith("nat/setup/baseline")
        ? ` (NAT: ~${(r.nsPerOp - base).toFixed(0)} ns)`
        : "";
    process.stdout.write(
      `${r.name.padEnd(66)} ${r.nsPerOp.toFixed(1).padStart(8)} ns/op  ±${r.rme.toFixed(1)}%${extra}\n`,
    );
  }
}
