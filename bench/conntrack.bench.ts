/**
 * Conntrack micro-benchmarks (tinybench): established-packet lookup + window update at 100k and 1M
 * connections, new-connection setup, and bytes per connection.
 *
 *   node --import tsx bench/conntrack.bench.ts [--quick] [--json]
 *
 * Packets are prepared once: one Skb whose PacketInfo was filled by parsing a template TCP segment;
 * per packet the benchmark writes the connection's addresses, ports, sequence numbers and flags into
 * it (what a parse would produce), so the figures are conntrack's own cost (`in` at PREROUTING +
 * `confirm` at POSTROUTING), not parsing. Checksum verification is off (nf_conntrack_checksum=0, as
 * with hardware-verified checksums). Connections are visited in a seeded random order; each visit
 * sends a 100-byte data segment from the client and the ACK of the server, so sequence numbers advance
 * and window tracking does real work. Times are per packet: the median of the samples of a batch of
 * 4096 packets, divided by 4096.
 */
import { Bench } from "tinybench";
import { Hook } from "../src/core/netfilter.js";
import { Skb } from "../src/core/skb.js";
import { Conntrack } from "../src/conntrack/conntrack.js";
import { defaultCtConfig } from "../src/conntrack/config.js";
import { buildPacket } from "../src/wire/build.js";
import { parsePacket } from "../src/wire/parse.js";

const OPS = 4096;
const quick = process.argv.includes("--quick");
const asJson = process.argv.includes("--json");

/** xorshift32, seeded */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const SERVER = (192 << 24) | (168 << 16) | 1;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;

/** A forwarding gateway's conntrack with n established TCP connections. */
class World {
  readonly ct: Conntrack;
  readonly skb = new Skb();
  readonly n: number;
  readonly seqC: Int32Array;
  readonly seqS: Int32Array;
  private readonly b: Uint8Array;
  private readonly l4: number;

  constructor(n: number, max: number) {
    const cfg = defaultCtConfig();
    cfg.checksum = false;
    cfg.max = max;
    this.ct = new Conntrack({ config: cfg, seed: 0x1234567, initialCapacity: 1024 });
    this.n = n;
    this.seqC = new Int32Array(n);
    this.seqS = new Int32Array(n);
    const tpl = buildPacket({
      src: "10.0.0.1",
      dst: "192.168.0.1",
      tcp: { sport: 1024, dport: 80, flags: "S", payload: new Uint8Array(100) },
    });
    parsePacket(this.skb.pi, tpl, 0, tpl.length);
    this.b = this.skb.pi.buf;
    this.l4 = this.skb.pi.l4Off;
  }

  clientAddr(i: number): number {
    return (10 << 24) | ((i / 60000) | 0);
  }

  /** put connection i's segment into the skb: dir 0 client->server, 1 server->client */
  set(i: number, dir: number, flags: number, seq: number, ack: number, payload: number): void {
    const skb = this.skb;
    const pi = skb.pi;
    const c = this.clientAddr(i);
    const cport = 1024 + (i % 60000);
    const b = this.b;
    const o = this.l4;
    if (dir === 0) {
      pi.src[0] = c;
      pi.dst[0] = SERVER;
      b[o] = cport >>> 8;
      b[o + 1] = cport & 0xff;
      b[o + 2] = 0;
      b[o + 3] = 80;
    } else {
      pi.src[0] = SERVER;
      pi.dst[0] = c;
      b[o] = 0;
      b[o + 1] = 80;
      b[o + 2] = cport >>> 8;
      b[o + 3] = cport & 0xff;
    }
    pi.tcpFlags = flags;
    pi.tcpSeq = seq;
    pi.tcpAck = ack;
    pi.tcpWindow = 502;
    pi.l4Len = 20 + payload;
    pi.len = pi.l4Off - pi.off + pi.l4Len;
    skb.ct = -1;
    skb.ctInfo = 255;
  }

  pass(now: number): void {
    const skb = this.skb;
    skb.now = now;
    this.ct.in(skb, Hook.Prerouting);
    if (skb.ct >= 0) this.ct.confirm(skb);
  }

  /** three-way handshakes for every connection */
  establish(now: number): void {
    for (let i = 0; i < this.n; i++) {
      const ic = (i * 7919) | 0;
      const is = (i * 104729) | 0;
      this.set(i, 0, SYN, ic, 0, 0);
      this.pass(now);
      this.set(i, 1, SYN | ACK, is, (ic + 1) | 0, 0);
      this.pass(now);
      this.set(i, 0, ACK, (ic + 1) | 0, (is + 1) | 0, 0);
      this.pass(now);
      this.seqC[i] = (ic + 1) | 0;
      this.seqS[i] = (is + 1) | 0;
    }
  }
}

interface Row {
  name: string;
  nsPerOp: number;
  rme: number;
  samples: number;
}

async function established(n: number, timeMs: number): Promise<Row> {
  const w = new World(n, Math.max(262144, n));
  const now = 1000;
  w.establish(now);
  if (w.ct.count() !== n) throw new Error(`expected ${n} entries, got ${w.ct.count()}`);
  const rand = rng(42);
  const orderLen = 1 << 20;
  const order = new Uint32Array(orderLen);
  for (let i = 0; i < orderLen; i++) order[i] = rand() % n;
  let pos = 0;
  let t = now;
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 2) });
  bench.add(`conntrack/established ${n}`, () => {
    for (let k = 0; k < OPS; k += 2) {
      const i = order[pos];
      pos = (pos + 1) & (orderLen - 1);
      w.set(i, 0, ACK | PSH, w.seqC[i], w.seqS[i], 100);
      w.pass(t);
      w.seqC[i] = (w.seqC[i] + 100) | 0;
      w.set(i, 1, ACK, w.seqS[i], w.seqC[i], 0);
      w.pass(t);
    }
    t += 0.001;
  });
  await bench.run();
  const ok = w.ct.stats.invalid === 0;
  if (!ok) throw new Error(`invalid packets in the established benchmark: ${w.ct.stats.invalid}`);
  return row(bench);
}

async function newConnections(timeMs: number): Promise<Row> {
  const n = 1 << 22;
  const w = new World(n, 0);
  let next = 0;
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 2) });
  bench.add("conntrack/new-connection (SYN, SYN/ACK, ACK; per connection)", () => {
    for (let k = 0; k < OPS; k++) {
      const i = next;
      next = (next + 1) % n;
      if (i === 0) w.ct.flush();
      w.set(i, 0, SYN, 1000, 0, 0);
      w.pass(1000);
      w.set(i, 1, SYN | ACK, 5000, 1001, 0);
      w.pass(1000);
      w.set(i, 0, ACK, 1001, 5001, 0);
      w.pass(1000);
    }
  });
  await bench.run();
  return row(bench);
}

function row(bench: Bench): Row {
  const task = bench.tasks[0];
  const res = task.result as unknown as { latency: { p50: number; rme: number }; latency_samples?: number[] };
  const lat = res.latency;
  return {
    name: task.name,
    nsPerOp: (lat.p50 * 1e6) / OPS,
    rme: lat.rme,
    samples: (task.result as unknown as { latency: { samplesCount?: number } }).latency.samplesCount ?? 0,
  };
}

function memory(n: number): { name: string; typedBytesPerConn: number; heapBytesPerConn: number } {
  const g = globalThis as unknown as { gc?: () => void };
  g.gc?.();
  const before = process.memoryUsage();
  const w = new World(n, n);
  w.establish(1000);
  g.gc?.();
  const after = process.memoryUsage();
  const typed = w.ct.bytesUsed();
  const total = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  return {
    name: `conntrack/memory ${n}`,
    typedBytesPerConn: typed / n,
    heapBytesPerConn: total / n,
  };
}

async function main(): Promise<void> {
  const t = quick ? 300 : 2000;
  const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
  const rows: Row[] = [];
  if (only === "1k") rows.push(await established(1_000, t));
  if (only === "10k") rows.push(await established(10_000, t));
  if (only === undefined || only === "100k") rows.push(await established(100_000, t));
  if ((!quick && only === undefined) || only === "1m") rows.push(await established(1_000_000, t));
  if (only === undefined || only === "new") rows.push(await newConnections(t));
  if (only !== undefined) {
    for (const r of rows) console.log(`${r.name} ${r.nsPerOp.toFixed(1)} ns`);
    return;
  }
  const mem = memory(quick ? 100_000 : 1 << 20);
  if (asJson) {
    console.log(JSON.stringify({ node: process.version, rows, memory: mem }, null, 2));
    return;
  }
  console.log(`node ${process.version}, ${process.arch}`);
  for (const r of rows) console.log(`${r.name.padEnd(60)} ${r.nsPerOp.toFixed(1).padStart(8)} ns  ±${r.rme.toFixed(1)}%`);
  console.log(
    `${mem.name.padEnd(60)} ${mem.typedBytesPerConn.toFixed(1).padStart(8)} bytes/conn (typed arrays), ${mem.heapBytesPerConn.toFixed(1)} bytes/conn (heap + buffers)`,
  );
}

await main();
