/**
 * new-connections: TCP connection setup (SYN, SYN/ACK, ACK) through an OpenWrt home router (fw3
 * ruleset: zones, syn-flood chain on INPUT, ctstate rules, MASQUERADE on the wan zone) that already
 * tracks N established connections. Per connection: the three packets, each through Gateway.receive:
 * a new conntrack entry, the nat table (MASQUERADE source NAT setup, DNAT null binding), the FORWARD
 * chains for a NEW packet, confirmation; then the reply and the ACK that make it ESTABLISHED.
 *
 * Each run sets up K connections (K = min(N, 100k)) from client ports that are not in the table, and
 * after the run (untimed) deletes them again, so every run starts from the same N entries. Packets
 * follow each other connection by connection (SYN, SYN/ACK, ACK, next connection).
 */
import { Tuple } from "../../src/core/tuple.js";
import type { GatewayInstance } from "../../src/engine/build.js";
import { Fate } from "../../src/engine/stats.js";
import { Flows, newUsedMap } from "../fixtures/flows.js";
import { homeRouter } from "../fixtures/rulesets.js";
import { buildFor, HOME, RecordingSink } from "../fixtures/topology.js";
import { type BenchCase, type CaseOptions, fail, type Measure, median, parseCount, timeRuns } from "../lib/harness.js";
import { ip4, OPT, TCP_ACK, TCP_SYN, writeTcp4 } from "../lib/packets.js";

const STRIDE = 64;
const T0 = 1_700_000_000;

class HomeWorld {
  readonly inst: GatewayInstance;
  readonly sink = new RecordingSink();
  readonly lan = HOME.ifindex("br-lan");
  readonly wan = HOME.ifindex("eth1");
  readonly pub = ip4("203.0.113.7");
  clock = T0;
  private ipId = 1;

  constructor(maxConns: number) {
    this.inst = buildFor(HOME, homeRouter(), maxConns, this.sink);
  }

  /** write the handshake of flow i into a[off..]: three packets at off, off+STRIDE, off+2*STRIDE */
  handshake(f: Flows, i: number, a: Uint8Array, off: number, lens: Uint16Array, k: number): void {
    const isnC = f.seqC[i];
    const isnS = f.seqS[i];
    lens[k] = writeTcp4(
      a,
      off,
      f.cAddr[i],
      f.sAddr[i],
      f.cPort[i],
      f.sPort[i],
      isnC,
      0,
      TCP_SYN,
      64240,
      OPT.syn,
      1,
      0,
      0,
      64,
      this.ipId++,
    );
    // port preserved by MASQUERADE (the flows' NAT tuples are unique): the reply goes to pub:client port
    lens[k + 1] = writeTcp4(
      a,
      off + STRIDE,
      f.sAddr[i],
      this.pub,
      f.sPort[i],
      f.cPort[i],
      isnS,
      (isnC + 1) | 0,
      TCP_SYN | TCP_ACK,
      65160,
      OPT.syn,
      1,
      1,
      0,
      56,
      this.ipId++,
    );
    lens[k + 2] = writeTcp4(
      a,
      off + 2 * STRIDE,
      f.cAddr[i],
      f.sAddr[i],
      f.cPort[i],
      f.sPort[i],
      (isnC + 1) | 0,
      (isnS + 1) | 0,
      TCP_ACK,
      502,
      OPT.ts,
      2,
      1,
      0,
      64,
      this.ipId++,
    );
  }

  /** send n handshakes prebuilt in a (packets 3i, 3i+1, 3i+2) */
  send(a: Uint8Array, lens: Uint16Array, n: number): number {
    const gw = this.inst.gateway;
    const lan = this.lan;
    const wan = this.wan;
    let t = this.clock;
    for (let i = 0; i < n; i++) {
      const o = 3 * i * STRIDE;
      gw.receive(lan, a, o, lens[3 * i], t);
      gw.receive(wan, a, o + STRIDE, lens[3 * i + 1], t + 0.00001);
      gw.receive(lan, a, o + 2 * STRIDE, lens[3 * i + 2], t + 0.00002);
      t += 0.00003;
    }
    this.clock = t;
    return n;
  }

  forwarded(): number {
    return this.inst.gateway.stats.fate[Fate.Forwarded];
  }
}

export const newConnections: BenchCase = {
  name: "new-connections",
  title: "TCP connection setup (SYN, SYN/ACK, ACK) through an OpenWrt fw3 home router (ns/connection)",
  sizes: (smoke) => (smoke ? ["10k"] : ["10k", "100k", "1M"]),
  async run(size: string, opts: CaseOptions): Promise<Measure[]> {
    const n = parseCount(size);
    const k = opts.smoke ? 5_000 : Math.min(n, 100_000);
    const w = new HomeWorld(2 * (n + k));
    const used = newUsedMap();
    // the N standing connections: 198 hosts 192.168.1.2-199; the run's: 51 hosts .200-.250
    const standing = new Flows(n);
    standing.generate(11, (i) => ip4("192.168.1.2") + (i % 198), used);
    const fresh = new Flows(k);
    fresh.generate(12, (i) => ip4("192.168.1.200") + (i % 51), used);

    // set up the standing connections (untimed), in chunks
    const t0 = Date.now();
    const chunk = 65536;
    const a = new Uint8Array(3 * Math.max(chunk, k) * STRIDE);
    const lens = new Uint16Array(3 * Math.max(chunk, k));
    for (let s = 0; s < n; s += chunk) {
      const c = Math.min(chunk, n - s);
      for (let i = 0; i < c; i++) w.handshake(standing, s + i, a, 3 * i * STRIDE, lens, 3 * i);
      const f0 = w.forwarded();
      w.send(a, lens, c);
      if (w.forwarded() - f0 !== 3 * c) fail(`standing connections: ${w.forwarded() - f0} of ${3 * c} forwarded`);
    }
    const ct = w.inst.conntrack;
    if (ct.count() !== n) fail(`${ct.count()} entries after setup, expected ${n}`);
    const setupMs = Date.now() - t0;

    // the run's handshakes, prebuilt once; each run sends a fresh copy (NAT rewrites in place)
    const pristine = new Uint8Array(3 * k * STRIDE);
    for (let i = 0; i < k; i++) w.handshake(fresh, i, pristine, 3 * i * STRIDE, lens, 3 * i);
    const arena = new Uint8Array(pristine.length);
    const tuple = new Tuple();
    let f0 = 0;
    let inv0 = 0;
    const runs = timeRuns(
      opts,
      1,
      () => {
        arena.set(pristine);
        f0 = w.forwarded();
        inv0 = ct.stats.invalid;
      },
      () => w.send(arena, lens, k),
      (r) => {
        const fwd = w.forwarded() - f0;
        if (fwd !== 3 * k || ct.stats.invalid !== inv0)
          fail(`run ${r}: forwarded ${fwd} of ${3 * k}, invalid ${ct.stats.invalid - inv0}`);
        if (ct.count() !== n + k) fail(`run ${r}: ${ct.count()} entries, expected ${n + k}`);
        // delete the run's connections (as if they had closed and expired)
        tuple.family = 4;
        tuple.proto = 6;
        for (let i = 0; i < k; i++) {
          tuple.src[0] = fresh.cAddr[i];
          tuple.dst[0] = fresh.sAddr[i];
          tuple.srcPort = fresh.cPort[i];
          tuple.dstPort = fresh.sPort[i];
          const id = ct.findTuple(tuple);
          if (id < 0 || !ct.kill(id)) fail(`run ${r}: connection ${i} not found`);
        }
        if (ct.count() !== n) fail(`run ${r}: ${ct.count()} entries after deleting, expected ${n}`);
      },
    );
    const v = median(runs);
    return [
      {
        case: "new-connections",
        size: `${size} conns`,
        unit: "ns/connection",
        value: v,
        runs,
        target: 1000,
        pass: v <= 1000,
        extra: { connectionsPerRun: k, setupMs, nsPerPacket: v / 3 },
      },
    ];
  },
};
