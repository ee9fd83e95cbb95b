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
import { defaultCtConfig } from "../src/conntrack/config.js";
import { Conntrack } from "../src/conntrack/conntrack.js";
import { Hook } from "../src/core/netfilter.js";
import { Skb } from "../src/core/skb.js";
import { buildPacket } from "../src/wire/build.js";
import type { PacketInfo } from "../src/wire/packet-info.js";
import { parsePacket } from "../src/wire/parse.js";

const OPS = 4096;
/** packets per batch in the batched (prefetching) mode */
const BATCH = 16;
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

/** initial sequence numbers of connection i (computed, so the benchmark keeps no per-connection state) */
function clientIsn(i: number): number {
  return Math.imul(i, 7919);
}
function serverIsn(i: number): number {
  return Math.imul(i, 104729);
}

/** A forwarding gateway's conntrack with n established TCP connections. */
class World {
  readonly ct: Conntrack;
  /** BATCH packets in flight (one Skb each, its own bytes) */
  readonly skbs: Skb[] = [];
  skb: Skb;
  readonly n: number;
  private b: Uint8Array;
  private readonly l4: number;

  constructor(n: number, max: number) {
    const cfg = defaultCtConfig();
    cfg.checksum = false;
    cfg.max = max;
    this.ct = new Conntrack({ config: cfg, seed: 0x1234567, initialCapacity: 1024 });
    this.n = n;
    const tpl = buildPacket({
      src: "10.0.0.1",
      dst: "192.168.0.1",
      tcp: { sport: 1024, dport: 80, flags: "S", payload: new Uint8Array(100) },
    });
    for (let k = 0; k < BATCH; k++) {
      const skb = new Skb();
      const bytes = tpl.slice();
      parsePacket(skb.pi, bytes, 0, bytes.length);
      this.skbs.push(skb);
    }
    this.skb = this.skbs[0];
    this.b = this.skb.pi.buf;
    this.l4 = this.skb.pi.l4Off;
  }

  get pis(): PacketInfo[] {
    return this.skbs.map((s) => s.pi);
  }

  /** select the Skb that `set` and `pass` work on */
  use(k: number): void {
    this.skb = this.skbs[k];
    this.b = this.skb.pi.buf;
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
      const ic = clientIsn(i);
      const is = serverIsn(i);
      this.set(i, 0, SYN, ic, 0, 0);
      this.pass(now);
      this.set(i, 1, SYN | ACK, is, (ic + 1) | 0, 0);
      this.pass(now);
      this.set(i, 0, ACK, (ic + 1) | 0, (is + 1) | 0, 0);
      this.pass(now);
    }
  }
}

interface Row {
  name: string;
  nsPerOp: number;
  rme: number;
  samples: number;
}

async function established(n: number, timeMs: number, batched: boolean): Promise<Row> {
  const w = new World(n, Math.max(262144, n));
  const now = 1000;
  w.establish(now);
  if (w.ct.count() !== n) throw new Error(`expected ${n} entries, got ${w.ct.count()}`);
  // Visits go round by round; each round is the same seeded random permutation of the connections,
  // so a connection's sequence numbers follow from the round number (no per-connection state in the
  // benchmark itself, whose memory traffic would otherwise be measured too).
  const rand = rng(42);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rand() % (i + 1);
    const x = perm[i];
    perm[i] = perm[j];
    perm[j] = x;
  }
  let pos = 0;
  let round = 0;
  let t = now;
  let sink = 0;
  const next = (): number => {
    const i = perm[pos];
    if (++pos === n) {
      pos = 0;
      round++;
    }
    return i;
  };
  const conn = new Int32Array(BATCH);
  const pis = w.pis;
  const name = `conntrack/established ${n}${batched ? ` (batches of ${BATCH}, prefetch)` : ""}`;
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 2) });
  bench.add(name, () => {
    if (!batched) {
      for (let k = 0; k < OPS; k += 2) {
        const i = next();
        const c = (clientIsn(i) + 1 + round * 100) | 0;
        const sv = (serverIsn(i) + 1) | 0;
        w.set(i, 0, ACK | PSH, c, sv, 100);
        w.pass(t);
        w.set(i, 1, ACK, sv, (c + 100) | 0, 0);
        w.pass(t);
      }
    } else {
      // BATCH/2 connections per batch, a data segment and its ACK each
      for (let k = 0; k < OPS; k += BATCH) {
        for (let j = 0; j < BATCH; j += 2) {
          const i = next();
          conn[j] = i;
          const c = (clientIsn(i) + 1 + round * 100) | 0;
          const sv = (serverIsn(i) + 1) | 0;
          w.use(j);
          w.set(i, 0, ACK | PSH, c, sv, 100);
          w.use(j + 1);
          w.set(i, 1, ACK, sv, (c + 100) | 0, 0);
        }
        sink ^= w.ct.prefetchBatch(pis, BATCH);
        for (let j = 0; j < BATCH; j++) {
          w.use(j);
          w.pass(t);
        }
      }
    }
    t += 0.001;
  });
  await bench.run();
  const ok = w.ct.stats.invalid === 0;
  if (!ok) throw new Error(`invalid packets in the established benchmark: ${w.ct.stats.invalid}`);
  if (sink === 0.5) console.log();
  return row(bench);
}

async function newConnections(timeMs: number): Promise<Row> {
  // Steady state: 100k connections live; each new connection (SYN, SYN/ACK, ACK) replaces the one
  // made 100k connections earlier, which is deleted (as its close or expiry would).
  const live = 100_000;
  const n = 1 << 22;
  const w = new World(n, 0);
  const ids = new Int32Array(live).fill(-1);
  let next = 0;
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 2) });
  bench.add(`conntrack/new-connection (SYN, SYN/ACK, ACK; ${live / 1000}k live; per connection)`, () => {
    for (let k = 0; k < OPS; k++) {
      const i = next;
      next = (next + 1) % n;
      const slot = i % live;
      if (ids[slot] >= 0) w.ct.kill(ids[slot]);
      w.set(i, 0, SYN, 1000, 0, 0);
      w.pass(1000);
      ids[slot] = w.skb.ct;
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
  // memory first, while the heap holds nothing else
  const mem = only === undefined ? memory(quick ? 100_000 : 1 << 20) : null;
  const rows: Row[] = [];
  if (only === "1k") rows.push(await established(1_000, t, false));
  if (only === "1k") rows.push(await established(1_000, t, true));
  if (only === "10k") rows.push(await established(10_000, t, false));
  if (only === undefined || only === "100k") rows.push(await established(100_000, t, false));
  if (only === undefined || only === "100k") rows.push(await established(100_000, t, true));
  if ((!quick && only === undefined) || only === "1m") rows.push(await established(1_000_000, t, false));
  if ((!quick && only === undefined) || only === "1m") rows.push(await established(1_000_000, t, true));
  if (only === undefined || only === "new") rows.push(await newConnections(t));
  if (only !== undefined) {
    for (const r of rows) console.log(`${r.name} ${r.nsPerOp.toFixed(1)} ns`);
    return;
  }
  if (mem === null) return;
  if (asJson) {
    console.log(JSON.stringify({ node: process.version, rows, memory: mem }, null, 2));
    return;
  }
  console.log(`node ${process.version}, ${process.arch}`);
  for (const r of rows)
    console.log(`${r.name.padEnd(60)} ${r.nsPerOp.toFixed(1).padStart(8)} ns  ±${r.rme.toFixed(1)}%`);
  console.log(
    `${mem.name.padEnd(60)} ${mem.typedBytesPerConn.toFixed(1).padStart(8)} bytes/conn (typed arrays), ${mem.heapBytesPerConn.toFixed(1)} bytes/conn (heap + buffers)`,
  );
}

await main();
