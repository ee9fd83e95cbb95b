/**
 * What every benchmark case shares: result records, the timing loop (median of several runs, each
 * prepared untimed), the optional profiler hook around the timed part, machine information, and GC
 * observation.
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { PerformanceObserver, performance } from "node:perf_hooks";

/** Measure: one figure of one case at one size. */
export interface Measure {
  /** case name, e.g. "established" */
  case: string;
  /** size label, e.g. "100k" (connections) or "1000 services" */
  size: string;
  /** what is measured, e.g. "ns/packet" */
  unit: string;
  /** the figure (median of `runs`) */
  value: number;
  /** every run's figure, in order */
  runs: number[];
  /** the target, in `unit`, if the issue sets one (smaller is better) */
  target?: number;
  /** human-readable target, when it is not a plain bound */
  targetText?: string;
  /** whether the target is met (undefined: no target) */
  pass?: boolean;
  /** notes printed under the table */
  notes?: string[];
  /** other figures (JSON only) */
  extra?: Record<string, number | string | boolean>;
}

/** Profiler hook: started right before and stopped right after every timed section. */
export interface TimedHook {
  start(): void;
  stop(): void;
}

/** Options a case runs with. */
export interface CaseOptions {
  /** the CI smoke version: smallest sizes, few runs, timings not judged */
  smoke: boolean;
  /** timed runs (the figure is their median) */
  runs: number;
  /** profiler around the timed sections, or null */
  hook: TimedHook | null;
  /** print progress to stderr */
  verbose: boolean;
}

/** BenchCase: a named case with sizes. */
export interface BenchCase {
  name: string;
  /** what the case measures, one line */
  title: string;
  /** run only when named by a filter (analysis cases) */
  optional?: boolean;
  /** size labels, all or the smoke ones */
  sizes(smoke: boolean): string[];
  run(size: string, opts: CaseOptions): Promise<Measure[]>;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** nowNs: a monotonic clock in nanoseconds (as a double; exact to well below a microsecond) */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** what timeRuns saw of the machine: runs discarded because other processes took the CPU */
export const disturbance = { discarded: 0, minShare: 1 };

/** garbage collections during the timed runs (allocation on the measured path shows up here) */
let timedGc: GcWatch | null = null;
export function timedGcWatch(): GcWatch {
  if (timedGc === null) timedGc = new GcWatch();
  return timedGc;
}

/** a timed run whose process got less than this share of a CPU was disturbed, and is repeated */
const MIN_CPU_SHARE = 0.85;

/**
 * timeRuns: `warmup` untimed runs, then `runs` timed ones. Before every run, `prepare(i)` builds its
 * input (untimed); `body(i)` is timed and returns how many operations it did; `check(i)` (untimed)
 * verifies the run did what it should. Returns nanoseconds per operation for each timed run.
 *
 * The benchmark is single-threaded: a timed run during which this process got less than 85% of a CPU
 * (process.cpuUsage against the wall clock) ran while something else was running, and is repeated,
 * up to `runs` extra times; `disturbance` counts them.
 */
export function timeRuns(
  opts: CaseOptions,
  warmup: number,
  prepare: (i: number) => void,
  body: (i: number) => number,
  check: (i: number) => void,
): number[] {
  const out: number[] = [];
  let retries = 0;
  for (let i = 0; out.length < opts.runs; i++) {
    prepare(i);
    const timed = i >= warmup;
    if (timed && opts.hook !== null) opts.hook.start();
    const gcw = timed ? timedGcWatch() : null;
    if (gcw !== null) gcw.begin();
    const c0 = process.cpuUsage();
    const t0 = nowNs();
    const ops = body(i);
    const t1 = nowNs();
    const c1 = process.cpuUsage(c0);
    if (gcw !== null) gcw.end();
    if (timed && opts.hook !== null) opts.hook.stop();
    check(i);
    const share = ((c1.user + c1.system) * 1000) / (t1 - t0);
    const disturbed = share < MIN_CPU_SHARE && t1 - t0 > 20e6;
    if (timed) {
      disturbance.minShare = Math.min(disturbance.minShare, share);
      if (disturbed && retries < opts.runs) {
        retries++;
        disturbance.discarded++;
      } else out.push((t1 - t0) / ops);
    }
    if (opts.verbose) {
      const what = timed ? (disturbed ? ` (disturbed: ${(100 * share).toFixed(0)}% CPU)` : "") : " (warm-up)";
      process.stderr.write(`  run ${i + 1}: ${((t1 - t0) / ops).toFixed(1)} ns/op${what}\n`);
    }
  }
  return out;
}

/** Machine: what the figures were measured on. */
export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  v8: string;
  os: string;
  /** 1-minute load average when the suite started (other work on the machine skews figures) */
  load1: number;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu,
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    os: `${process.platform} ${process.arch}`,
    load1: Number(loadavg()[0].toFixed(2)),
  };
}

/** gc: a full collection (the worker runs with --expose-gc), twice to settle weak references */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error("run with --expose-gc (bench/run.ts does)");
  g();
  g();
}

/**
 * GcWatch: counts garbage collections (minor = scavenge, major = mark-compact) that start inside the
 * windows opened with `begin()` / `end()`, from perf_hooks "gc" entries. Entries arrive
 * asynchronously: `await collect()` before reading the counts.
 */
export class GcWatch {
  minor = 0;
  major = 0;
  other = 0;
  pauseMs = 0;
  private readonly windows: number[] = [];
  private readonly entries: { start: number; kind: number; duration: number }[] = [];
  private readonly obs: PerformanceObserver;
  constructor() {
    this.obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
        this.entries.push({ start: e.startTime, kind, duration: e.duration });
      }
    });
    this.obs.observe({ entryTypes: ["gc"] });
  }
  begin(): void {
    this.windows.push(performance.now());
  }
  end(): void {
    this.windows.push(performance.now());
  }
  /** collect: count the entries inside the windows; stops observing */
  async collect(): Promise<void> {
    await settle();
    this.obs.disconnect();
    const w = this.windows;
    for (const e of this.entries) {
      let inside = false;
      for (let i = 0; i + 1 < w.length; i += 2) if (e.start >= w[i] && e.start <= w[i + 1]) inside = true;
      if (!inside) continue;
      // perf_hooks constants: NODE_PERFORMANCE_GC_MINOR = 1, MAJOR = 4, INCREMENTAL = 8, WEAKCB = 16
      if (e.kind === 1) this.minor++;
      else if (e.kind === 4) this.major++;
      else this.other++;
      this.pauseMs += e.duration;
    }
  }
}

/** settle: let queued performance entries and callbacks be delivered */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 50));
}

/** fmtSize: 10000 -> "10k", 1000000 -> "1M" */
export function fmtCount(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** parseCount: "10k" -> 10000, "1M" -> 1000000, "2500" -> 2500 */
export function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  const mult = m[2] === "" ? 1 : m[2].toLowerCase() === "k" ? 1e3 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

/** fail: a benchmark invariant broke (packets dropped, invalid...): the figure would be meaningless */
export function fail(msg: string): never {
  throw new Error(`benchmark invariant failed: ${msg}`);
}
