/**
 * memory: (1) bytes per tracked connection with 1M connections in the table (the small-office gateway
 * of the established case; heap and typed arrays together: process.memoryUsage() heapUsed +
 * arrayBuffers after full collections, the empty gateway subtracted); (2) heap growth and garbage
 * collections over ten million established packets in steady state (100k connections).
 */
import { type BenchCase, type CaseOptions, GcWatch, gc, type Measure, parseCount } from "../lib/harness.js";
import { MasqWorld } from "./masq-world.js";

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export const memory: BenchCase = {
  name: "memory",
  title: "bytes per tracked connection; heap growth over 10M established packets",
  sizes: (smoke) => (smoke ? ["10k", "200k-packets"] : ["1M", "10M-packets"]),
  async run(size: string, opts: CaseOptions): Promise<Measure[]> {
    if (size.endsWith("-packets")) return steady(parseCount(size.slice(0, -8)), opts);
    const n = parseCount(size);
    const w = new MasqWorld(n);
    gc();
    const before = used();
    const heapBefore = process.memoryUsage().heapUsed;
    w.establish();
    gc();
    const after = used();
    const heapAfter = process.memoryUsage().heapUsed;
    const per = (after - before) / n;
    const ct = w.inst.conntrack;
    return [
      {
        case: "memory",
        size: `${size} conns`,
        unit: "bytes/conn",
        value: per,
        runs: [per],
        target: 128,
        pass: per <= 128,
        extra: {
          heapBytesPerConn: (heapAfter - heapBefore) / n,
          conntrackTypedBytesPerConn: ct.bytesUsed() / n,
          conntrackCapacity: ct.capacity(4),
          entries: ct.count(),
        },
      },
    ];
  },
};

/** steady: heap growth over `total` established packets (after a warm-up), and GCs while sending */
async function steady(total: number, opts: CaseOptions): Promise<Measure[]> {
  const n = opts.smoke ? 10_000 : 100_000;
  const w = new MasqWorld(n);
  w.establish();
  const chunk = Math.min(total, 1_000_000);
  // warm-up: JIT, and every lazily grown structure reaches its size
  for (let i = 0; i < 2; i++) {
    w.fill(chunk);
    w.send();
  }
  const watch = new GcWatch();
  gc();
  const before = used();
  const heapBefore = process.memoryUsage().heapUsed;
  let sent = 0;
  while (sent < total) {
    const m = Math.min(chunk, total - sent);
    w.fill(m);
    w.mark();
    watch.begin();
    sent += w.send();
    watch.end();
    w.verify(m, "steady state");
  }
  await watch.collect();
  gc();
  const growth = used() - before;
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  const ok = Math.abs(growth) < 1024 * 1024 && watch.minor + watch.major === 0;
  return [
    {
      case: "memory",
      size: `${total / 1e6}M packets, ${n / 1000}k conns`,
      unit: "bytes growth",
      value: growth,
      runs: [growth],
      targetText: "~0, no GC",
      pass: ok,
      notes: [
        `heap growth over ${total} packets: ${growth} bytes (heapUsed ${heapGrowth}); collections while sending: ${watch.minor} scavenges, ${watch.major} mark-compacts, ${watch.other} other (${watch.pauseMs.toFixed(1)} ms)`,
      ],
      extra: {
        scavenges: watch.minor,
        markCompacts: watch.major,
        otherGcs: watch.other,
        gcPauseMs: watch.pauseMs,
        heapUsedGrowth: heapGrowth,
      },
    },
  ];
}
