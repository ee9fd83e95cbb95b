/**
 * Floods at moderate sizes (the long runs belong to the benchmark suite): SYNs from random sources
 * against a port forward with nf_conntrack_max set low, a table full of ASSURED connections, fragment
 * floods against the reassembly memory limits, SNAT port exhaustion. In each, memory stays bounded, the
 * excess is dropped and counted where Linux counts it, and established connections interleaved with the
 * flood pass byte for byte as they do through a gateway that saw no flood.
 *
 * Figures (peak memory, drop counts) are printed as test diagnostics. CTNAT_FLOOD_SCALE=N multiplies
 * the flood sizes (e.g. 10 for two million SYNs).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildFuzzGateway, IF_LAN, IF_WAN, RecordingSink } from "../../fuzz/lib/gateway.js";
import type { Reassembler } from "../../src/defrag/reassembler.js";
import type { GatewayInstance } from "../../src/engine/build.js";
import { Fate } from "../../src/engine/stats.js";
import { buildPacket, fragment } from "../../src/wire/build.js";

const SCALE = Number(process.env.CTNAT_FLOOD_SCALE ?? "1") || 1;
const T0 = 1_700_000_000;

function sysctls(extra: Record<string, string>): Map<string, string> {
  return new Map(Object.entries({ "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1", ...extra }));
}

/** the IPv4 header and TCP / UDP checksums of a packet, recomputed in place */
function fixSums(b: Uint8Array): void {
  const hl = (b[0] & 15) << 2;
  b[10] = 0;
  b[11] = 0;
  let s = 0;
  for (let k = 0; k < hl; k += 2) s += (b[k] << 8) | b[k + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  s = ~s & 0xffff;
  b[10] = s >> 8;
  b[11] = s & 255;
  const proto = b[9];
  const total = (b[2] << 8) | b[3];
  if ((proto !== 6 && proto !== 17) || ((b[6] & 0x3f) | b[7]) !== 0) return;
  const co = hl + (proto === 6 ? 16 : 6);
  b[co] = 0;
  b[co + 1] = 0;
  let y = proto + total - hl;
  for (let k = 12; k < 20; k += 2) y += (b[k] << 8) | b[k + 1];
  for (let k = hl; k < total; k += 2) y += (b[k] << 8) | (k + 1 < total ? b[k + 1] : 0);
  while (y > 0xffff) y = (y & 0xffff) + (y >>> 16);
  y = ~y & 0xffff;
  if (y === 0 && proto === 17) y = 0xffff;
  b[co] = y >> 8;
  b[co + 1] = y & 255;
}

/** xorshift32 */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** peak memory sampler */
class Peak {
  rss = 0;
  heap = 0;
  buffers = 0;
  sample(): void {
    const m = process.memoryUsage();
    this.rss = Math.max(this.rss, m.rss);
    this.heap = Math.max(this.heap, m.heapUsed);
    this.buffers = Math.max(this.buffers, m.arrayBuffers);
  }
  text(): string {
    const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
    return `peak rss ${mb(this.rss)}, heap ${mb(this.heap)}, array buffers ${mb(this.buffers)}`;
  }
}

/** A sink keeping only the packets of the established flows (by their hosts 10.77.1.100-199 / 10.77.2.200). */
class FlowSink extends RecordingSink {
  override transmit(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void {
    if (isFlowPacket(buf, off)) super.transmit(ifindex, buf, off, len, now);
    else this.count++;
  }
  override deliver(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void {
    if (isFlowPacket(buf, off)) super.deliver(ifindex, buf, off, len, now);
    else this.count++;
  }
}

function isFlowPacket(b: Uint8Array, o: number): boolean {
  if (b[o] >> 4 !== 4) return false;
  const host = (x: number): boolean =>
    b[x] === 10 &&
    b[x + 1] === 77 &&
    ((b[x + 2] === 1 && b[x + 3] >= 100 && b[x + 3] < 200) || (b[x + 2] === 2 && b[x + 3] === 200));
  return host(o + 12) || host(o + 16);
}

/**
 * Established flows: `n` TCP connections from 10.77.1.(100 + i % 100) to 10.77.2.200:443 through
 * MASQUERADE, handshake done (ASSURED), then data both ways on demand.
 */
class Flows {
  readonly n: number;
  readonly seq: Uint32Array;
  readonly ack: Uint32Array;
  constructor(n: number) {
    this.n = n;
    this.seq = new Uint32Array(n).fill(1000);
    this.ack = new Uint32Array(n).fill(900000);
  }
  lan(i: number): string {
    return `10.77.1.${100 + (i % 100)}`;
  }
  port(i: number): number {
    return 30000 + i;
  }
  handshake(gw: GatewayInstance, t: number): void {
    for (let i = 0; i < this.n; i++) {
      const send = (ifi: number, b: Uint8Array): void => gw.gateway.receive(ifi, b, 0, b.length, t);
      const p = this.port(i);
      send(
        IF_LAN,
        buildPacket({
          src: this.lan(i),
          dst: "10.77.2.200",
          tcp: { sport: p, dport: 443, seq: 999, flags: "S", win: 65535 },
        }),
      );
      send(
        IF_WAN,
        buildPacket({
          src: "10.77.2.200",
          dst: "10.77.2.1",
          tcp: { sport: 443, dport: p, seq: 899999, ack: 1000, flags: "SA", win: 65535 },
        }),
      );
      send(
        IF_LAN,
        buildPacket({
          src: this.lan(i),
          dst: "10.77.2.200",
          tcp: { sport: p, dport: 443, seq: 1000, ack: 900000, flags: ".", win: 65535 },
        }),
      );
    }
  }
  /** one data segment from the client of flow i and its acknowledgement from the server */
  exchange(gw: GatewayInstance, i: number, t: number): void {
    const p = this.port(i);
    const d = buildPacket({
      src: this.lan(i),
      dst: "10.77.2.200",
      tcp: { sport: p, dport: 443, seq: this.seq[i], ack: this.ack[i], flags: "PA", win: 65535, payload: "0123456789" },
    });
    gw.gateway.receive(IF_LAN, d, 0, d.length, t);
    this.seq[i] += 10;
    const a = buildPacket({
      src: "10.77.2.200",
      dst: "10.77.2.1",
      tcp: { sport: 443, dport: p, seq: this.ack[i], ack: this.seq[i], flags: "PA", win: 65535, payload: "ok" },
    });
    gw.gateway.receive(IF_WAN, a, 0, a.length, t);
    this.ack[i] += 2;
  }
}

function flowOutputs(sink: RecordingSink): string[] {
  return sink.out.map((o) => `${o.kind} ${o.ifindex} ${o.now.toFixed(6)} ${Buffer.from(o.bytes).toString("hex")}`);
}

function withSink(extra: Record<string, string>, rules4?: string): { gw: GatewayInstance; sink: FlowSink } {
  const built = buildFuzzGateway({ sysctl: sysctls(extra), rules4 });
  // swap in the filtering sink: the gateway holds the sink object built with it, so copy into it
  const sink = built.sink as FlowSink;
  Object.setPrototypeOf(sink, FlowSink.prototype);
  return { gw: built.gw, sink };
}

test("SYN flood from random sources against a port forward, nf_conntrack_max 65536", (t) => {
  const flood = 200_000 * SCALE;
  const max = 65536;
  const peak = new Peak();
  const run = (withFlood: boolean): { out: string[]; gw: GatewayInstance } => {
    const { gw, sink } = withSink({ "net.netfilter.nf_conntrack_max": String(max) });
    const flows = new Flows(300);
    flows.handshake(gw, T0);
    const syn = buildPacket({
      src: "198.18.0.1",
      dst: "10.77.2.1",
      tcp: { sport: 1, dport: 8080, seq: 1, flags: "S", win: 1000 },
    });
    const b = syn.slice();
    const r = rng(42);
    let next = 0;
    for (let i = 0; i < flood; i++) {
      const now = T0 + 1 + i * 2e-6;
      if (withFlood) {
        b.set(syn);
        const a = r();
        // sources in 100.0.0.0 - 115.255.255.255 (never the gateway's or the flows' hosts), random ports
        b[12] = 100 + (a & 15);
        b[13] = a >>> 8;
        b[14] = a >>> 16;
        b[15] = 1 + ((a >>> 24) % 254);
        const p = r();
        b[20] = p >>> 8;
        b[21] = p;
        fixSums(b);
        gw.gateway.receive(IF_WAN, b, 0, b.length, now);
      }
      if (i % 500 === 0) {
        flows.exchange(gw, next, now);
        next = (next + 1) % flows.n;
      }
      if (i % 20000 === 0) peak.sample();
    }
    return { out: flowOutputs(sink), gw };
  };
  const quiet = run(false);
  const flooded = run(true);
  peak.sample();
  const ct = flooded.gw.conntrack;
  const st = ct.stats;
  const fate = flooded.gw.gateway.stats.fate;
  t.diagnostic(
    `${flood} SYNs: table ${ct.count()}/${max}, early_drop ${st.earlyDrop}, drop ${st.drop}, conntrack-drop fate ${fate[Fate.ConntrackDrop]}, forwarded ${fate[Fate.Forwarded]}`,
  );
  t.diagnostic(`conntrack tables ${(ct.bytesUsed() / 1048576).toFixed(1)} MiB; ${peak.text()}`);
  // the table never passes its limit, and its memory is what that limit costs
  assert.ok(ct.count() <= max);
  assert.ok(ct.bytesUsed() < 64 * 1024 * 1024, `conntrack holds ${ct.bytesUsed()} bytes`);
  // the flood was admitted by evicting unreplied entries (early_drop; the collector evicts some more once
  // the table was found full, uncounted as in Linux); what could not be was dropped and counted
  assert.ok(st.earlyDrop > 0.9 * (flood - max), `early_drop ${st.earlyDrop}`);
  assert.equal(fate[Fate.ConntrackDrop], st.drop);
  assert.equal(st.drop + fate[Fate.Forwarded] - quiet.gw.gateway.stats.fate[Fate.Forwarded], flood);
  // every established connection survived and behaved exactly as without the flood
  assert.equal(flooded.out.length, quiet.out.length);
  assert.deepEqual(flooded.out, quiet.out);
  const listing = flooded.gw.conntrackList(T0 + 10);
  assert.equal((listing.match(/ESTABLISHED src=10\.77\.1\.1\d\d dst=10\.77\.2\.200 .*\[ASSURED\]/g) ?? []).length, 300);
});

test("a table full of ASSURED connections: new connections are dropped and counted, none evicted", (t) => {
  const max = 1024;
  const { gw, sink } = withSink({ "net.netfilter.nf_conntrack_max": String(max) });
  const flows = new Flows(max);
  flows.handshake(gw, T0);
  const ct = gw.conntrack;
  assert.equal(ct.count(), max);
  const fate = gw.gateway.stats.fate;
  const dropsBefore = fate[Fate.ConntrackDrop];
  const r = rng(7);
  const n = 5000 * SCALE;
  for (let i = 0; i < n; i++) {
    const a = r();
    const syn = buildPacket({
      src: `198.${18 + (a & 1)}.${(a >>> 8) & 255}.${1 + ((a >>> 16) % 254)}`,
      dst: "10.77.2.1",
      tcp: { sport: 1024 + ((a >>> 20) & 0x7fff), dport: 8080, seq: 1, flags: "S", win: 1000 },
    });
    gw.gateway.receive(IF_WAN, syn, 0, syn.length, T0 + 1 + i * 1e-4);
    if (i % 10 === 0) flows.exchange(gw, (i / 10) % max, T0 + 1 + i * 1e-4);
  }
  t.diagnostic(`${n} SYNs against ${max} ASSURED entries: drop ${ct.stats.drop}, early_drop ${ct.stats.earlyDrop}`);
  assert.equal(ct.stats.earlyDrop, 0, "no ASSURED entry is early-dropped");
  assert.equal(ct.stats.drop, n);
  assert.equal(fate[Fate.ConntrackDrop] - dropsBefore, n);
  assert.equal(ct.count(), max);
  // the established ones kept flowing: every exchange went out (data to wan, answer to lan)
  assert.equal(sink.out.filter((o) => o.kind === "tx").length, max * 3 + (n / 10) * 2);
  // closing connections (ASSURED but closing) are what the collector evicts once the table was found
  // full (gc_worker_can_early_drop): close 200, keep the flood coming, and room appears
  for (let i = 0; i < 200; i++) {
    const p = flows.port(i);
    const at = T0 + 2;
    const fin = buildPacket({
      src: flows.lan(i),
      dst: "10.77.2.200",
      tcp: { sport: p, dport: 443, seq: flows.seq[i], ack: flows.ack[i], flags: "FA", win: 65535 },
    });
    gw.gateway.receive(IF_LAN, fin, 0, fin.length, at);
    const fin2 = buildPacket({
      src: "10.77.2.200",
      dst: "10.77.2.1",
      tcp: { sport: 443, dport: p, seq: flows.ack[i], ack: flows.seq[i] + 1, flags: "FA", win: 65535 },
    });
    gw.gateway.receive(IF_WAN, fin2, 0, fin2.length, at);
  }
  const before = ct.stats.drop;
  let admitted = 0;
  for (let i = 0; i < 3000; i++) {
    const syn = buildPacket({
      src: `198.20.${i >> 8}.${1 + (i & 127)}`,
      dst: "10.77.2.1",
      tcp: { sport: 2000 + i, dport: 8080, seq: 1, flags: "S" },
    });
    const d = ct.stats.drop;
    gw.gateway.receive(IF_WAN, syn, 0, syn.length, T0 + 3 + i * 0.01);
    if (ct.stats.drop === d) admitted++;
  }
  const listing = gw.conntrackList(T0 + 33);
  const established = (listing.match(/ESTABLISHED src=10\.77\.1\.1\d\d /g) ?? []).length;
  t.diagnostic(
    `after closing 200: ${admitted} of 3000 new SYNs admitted, ${ct.stats.drop - before} dropped; ${established} established left`,
  );
  assert.ok(admitted > 0, "evicting closing entries made room");
  assert.equal(established, max - 200, "no established (non-closing) ASSURED entry was evicted");
});

function reassembler(gw: GatewayInstance): Reassembler {
  // the gateway's nf_defrag (a private part of Gateway; read for its counters)
  return (gw.gateway as unknown as { reasm: Reassembler }).reasm;
}

test("fragment flood: reassembly memory stays within ipfrag_high_thresh, the excess is dropped and counted", (t) => {
  const peak = new Peak();
  const n = 50_000 * SCALE;
  const run = (withFlood: boolean): { out: string[]; gw: GatewayInstance } => {
    const { gw, sink } = withSink({});
    const flows = new Flows(100);
    flows.handshake(gw, T0);
    const r = rng(99);
    for (let i = 0; i < n; i++) {
      const now = T0 + 1 + i * 1e-4;
      if (withFlood) {
        const a = r();
        // a never-completed datagram per fragment, from random sources, some far in the datagram
        const v6 = (a & 7) === 0;
        const f = v6
          ? buildPacket({
              src: `2001:db8:${((a >>> 8) & 0xffff).toString(16)}::${((a >>> 24) + 1).toString(16)}`,
              dst: "fd77:1::10",
              ext: [{ type: "fragment", offset: (a >>> 4) & 0xfff8, more: true, id: a }],
              proto: 17,
              payload: new Uint8Array(8 + ((a >>> 3) & 0x1f8)),
            })
          : buildPacket({
              src: `198.18.${(a >>> 8) & 255}.${1 + ((a >>> 16) % 254)}`,
              dst: "10.77.2.1",
              id: a >>> 16,
              mf: true,
              fragOff: (a >>> 4) & 0xfff8,
              proto: 17,
              payload: new Uint8Array(8 + ((a >>> 3) & 0x1f8)),
            });
        gw.gateway.receive(IF_WAN, f, 0, f.length, now);
      }
      if (i % 100 === 0) flows.exchange(gw, (i / 100) % flows.n, now);
      if (i % 5000 === 0) peak.sample();
    }
    return { out: flowOutputs(sink), gw };
  };
  const quiet = run(false);
  const flooded = run(true);
  const ra = reassembler(flooded.gw);
  const fate = flooded.gw.gateway.stats.fate;
  t.diagnostic(
    `${n} fragments: queues ${ra.queueCount}, charged v4 ${ra.memV4} v6 ${ra.memV6} bytes, held ${ra.bytesUsed()} bytes; memDrops ${ra.stats.memDrops}, reasm fails ${ra.stats.reasmFails}; fates reassembling ${fate[Fate.Reassembling]} reasm-failed ${fate[Fate.ReasmFailed]}`,
  );
  t.diagnostic(peak.text());
  const limit = 4 * 1024 * 1024;
  assert.ok(ra.memV4 <= limit + 2600 && ra.memV6 <= limit + 2600, `charged ${ra.memV4} / ${ra.memV6}`);
  assert.ok(ra.stats.memDrops > 0, "the limit was reached");
  assert.ok(fate[Fate.ReasmFailed] >= ra.stats.memDrops, "fragments dropped for memory are counted as reasm-failed");
  assert.equal(fate[Fate.BadHeader], quiet.gw.gateway.stats.fate[Fate.BadHeader], "and not as bad headers");
  assert.ok(ra.bytesUsed() < 2 * (ra.memV4 + ra.memV6) + 1024 * 1024, `held ${ra.bytesUsed()}`);
  // every fragment was queued or dropped, and counted
  assert.equal(
    fate[Fate.Reassembling] +
      fate[Fate.ReasmFailed] -
      quiet.gw.gateway.stats.fate[Fate.Reassembling] -
      quiet.gw.gateway.stats.fate[Fate.ReasmFailed],
    n,
  );
  assert.deepEqual(flooded.out, quiet.out, "established flows pass exactly as without the flood");
  // once the queues time out (30 s IPv4, 60 s IPv6), fragmented traffic is reassembled again
  const later = T0 + 1 + n * 1e-4 + 61;
  const dgram = buildPacket({
    src: "10.77.1.150",
    dst: "10.77.2.200",
    id: 77,
    udp: { sport: 5000, dport: 5001, payload: new Uint8Array(3000) },
  });
  for (const f of fragment(dgram, 1500)) flooded.gw.gateway.receive(IF_LAN, f, 0, f.length, later);
  assert.equal(ra.stats.reasmOks, 1);
  assert.equal(ra.queueCount, 0);
});

test("SNAT port exhaustion: one address, 64 ports, 1,000 flows: 64 mapped, the rest dropped at confirm and counted", (t) => {
  const rules = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o wan0 -p tcp -j SNAT --to-source 10.77.2.1:20000-20063
-A POSTROUTING -o wan0 -p udp -j SNAT --to-source 10.77.2.1:21000-21063
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
`;
  const { gw, sink } = buildFuzzGateway({ sysctl: sysctls({}), rules4: rules });
  const ct = gw.conntrack;
  const fate = gw.gateway.stats.fate;
  const flows = 1000;
  const send = (proto: "tcp" | "udp", i: number, dst: string, at: number): void => {
    const spec =
      proto === "tcp"
        ? { tcp: { sport: 40000 + i, dport: 80, seq: 1, flags: "S", win: 1000 } }
        : { udp: { sport: 40000 + i, dport: 53, payload: "q" } };
    const p = buildPacket({ src: `10.77.1.${2 + (i % 90)}`, dst, ...spec });
    gw.gateway.receive(IF_LAN, p, 0, p.length, at);
  };
  const ports = new Set<number>();
  const count = (): number => {
    let n = 0;
    for (const o of sink.out) {
      if (o.kind !== "tx" || o.ifindex !== IF_WAN) continue;
      const sport = (o.bytes[20] << 8) | o.bytes[21];
      ports.add(sport);
      n++;
    }
    sink.out.length = 0;
    return n;
  };
  for (let i = 0; i < flows; i++) send("tcp", i, "10.77.2.2", T0 + i * 1e-3);
  const tcpOut = count();
  const tcpDrops = fate[Fate.ConntrackDrop];
  const st1 = { drop: ct.stats.drop, insertFailed: ct.stats.insertFailed };
  for (let i = 0; i < flows; i++) send("udp", i, "10.77.2.2", T0 + 2 + i * 1e-3);
  const udpOut = count();
  // another server: the same 64 ports again (tuples differ by destination)
  for (let i = 0; i < flows; i++) send("tcp", i, "10.77.2.3", T0 + 4 + i * 1e-3);
  const tcp2Out = count();
  t.diagnostic(
    `TCP: ${tcpOut} of ${flows} SYNs mapped, ${tcpDrops} dropped; UDP: ${udpOut} mapped; second server: ${tcp2Out}; conntrack drop ${ct.stats.drop}, insert_failed ${ct.stats.insertFailed}; ${ct.count()} entries`,
  );
  assert.equal(tcpOut, 64);
  assert.equal(tcpDrops, flows - 64);
  // Linux nf_ct_resolve_clash: a TCP clash counts drop and insert_failed
  assert.deepEqual(st1, { drop: flows - 64, insertFailed: flows - 64 });
  assert.equal(udpOut, 64);
  assert.equal(tcp2Out, 64);
  assert.equal(fate[Fate.ConntrackDrop], 3 * (flows - 64));
  assert.equal(ct.stats.insertFailed, 3 * (flows - 64));
  assert.equal(ct.count(), 3 * 64);
  for (const p of ports) assert.ok((p >= 20000 && p <= 20063) || (p >= 21000 && p <= 21063), `port ${p} in range`);
  // when the UDP entries expire (30 s), their ports are free again
  for (let i = 0; i < 64; i++) send("udp", 5000 + i, "10.77.2.2", T0 + 40 + i * 1e-3);
  assert.equal(count(), 64);
});
