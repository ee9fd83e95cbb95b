/**
 * established: TCP segments of established connections, in random order, through the whole gateway
 * (Gateway.receive: parse, IPv4 header checksum, conntrack lookup + TCP checksum + window tracking,
 * nat PREROUTING / POSTROUTING rewrite, routing, TTL, the FORWARD filter's ctstate rule, counters) to a
 * sink that does nothing. See MasqWorld for the traffic. Measured twice on the same table: one packet
 * per Gateway.receive call, and 64 packets per Gateway.receiveBatch call.
 */
import { type BenchCase, type CaseOptions, type Measure, median, parseCount, timeRuns } from "../lib/harness.js";
import { MasqWorld } from "./masq-world.js";

const TARGETS: Record<string, number> = { "100k": 150, "1M": 300 };

export const established: BenchCase = {
  name: "established",
  title: "established TCP segment through MASQUERADE + stateful FORWARD (ns/packet)",
  sizes: (smoke) => (smoke ? ["10k"] : ["10k", "100k", "1M"]),
  async run(size: string, opts: CaseOptions): Promise<Measure[]> {
    const n = parseCount(size);
    const w = new MasqWorld(n);
    const t0 = Date.now();
    w.establish();
    const setupMs = Date.now() - t0;
    // packets per run: every connection about once at 1M, many times at 10k (a run lasts 0.1-0.3 s)
    const m = opts.smoke ? 20_000 : Math.max(n, 500_000);
    const measure = (batched: boolean): Measure => {
      const runs = timeRuns(
        opts,
        opts.smoke ? 1 : 2,
        () => {
          w.fill(m);
          w.mark();
        },
        () => (batched ? w.sendBatch() : w.send()),
        (i) => w.verify(m, `run ${i}`),
      );
      const v = median(runs);
      const target = TARGETS[size];
      return {
        case: "established",
        size: batched ? `${size} conns, receiveBatch` : `${size} conns`,
        unit: "ns/packet",
        value: v,
        runs,
        target,
        pass: target === undefined ? undefined : v <= target,
        extra: {
          packetsPerRun: m,
          setupMs,
          packetBytes: 152,
          conntrackEntries: w.inst.conntrack.count(),
          api: batched ? "Gateway.receiveBatch, 64 packets per call" : "Gateway.receive, one packet per call",
        },
      };
    };
    // one packet per call, then the same traffic in batches of 64 (the same table, still established)
    return [measure(false), measure(true)];
  },
};
