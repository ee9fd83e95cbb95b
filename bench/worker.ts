/**
 * One benchmark case at one size, in its own process (run.ts and profile.ts start these, so that the
 * cases do not share a heap, JIT feedback or a 1M-entry table):
 *
 *   node --expose-gc --import tsx bench/worker.ts CASE SIZE [--smoke] [--runs N] [--verbose]
 *        [--cpu-profile FILE [--top N]]   profile only the timed sections (node:inspector): the last
 *        run's profile into FILE, the ranking of all runs into FILE.txt and stderr
 *
 * Prints one line `RESULT <json array of Measure>` on stdout.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { findCase } from "./cases/index.js";
import { type CpuProfile, formatSummary, summarize } from "./lib/cpuprofile.js";
import { disturbance, type TimedHook, timedGcWatch } from "./lib/harness.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** InspectorProfiler: the V8 CPU profiler, running only while a timed section runs. */
class InspectorProfiler implements TimedHook {
  private readonly s = new Session();
  constructor() {
    this.s.connect();
    this.post("Profiler.enable");
    // 100 µs sampling: fine enough for functions of a few hundred nanoseconds over 10^6 packets
    this.post("Profiler.setSamplingInterval", { interval: 100 });
  }
  private post(method: string, params?: object): unknown {
    let out: unknown;
    let err: Error | null = null;
    // Session.post runs synchronously for Profiler methods when called from the main thread
    this.s.post(method, params ?? {}, (e, r) => {
      err = e;
      out = r;
    });
    if (err) throw err;
    return out;
  }
  /** one profile per timed section */
  readonly profiles: CpuProfile[] = [];
  start(): void {
    this.post("Profiler.start");
  }
  stop(): void {
    const r = this.post("Profiler.stop") as { profile: CpuProfile };
    this.profiles.push(r.profile);
  }
}

async function main(): Promise<void> {
  const [name, size] = process.argv.slice(2);
  if (!name || !size) throw new Error("usage: worker.ts CASE SIZE [--smoke] [--runs N]");
  const smoke = process.argv.includes("--smoke");
  const runs = Number(arg("--runs") ?? (smoke ? 2 : 7));
  const profFile = arg("--cpu-profile");
  const prof = profFile ? new InspectorProfiler() : null;
  const c = findCase(name);
  const res = await c.run(size, { smoke, runs, hook: prof, verbose: process.argv.includes("--verbose") });
  if (prof !== null && profFile && prof.profiles.length > 0) {
    // the last timed run as a .cpuprofile (Chrome DevTools / speedscope), the ranking over all of them
    writeFileSync(profFile, JSON.stringify(prof.profiles[prof.profiles.length - 1]));
    const text = formatSummary(summarize(prof.profiles, Number(arg("--top") ?? 30)), `${name} ${size}`);
    writeFileSync(`${profFile}.txt`, `${text}\n`);
    process.stderr.write(`${text}\n`);
  }
  if (disturbance.discarded > 0) {
    const r = res[0];
    r.notes = [
      ...(r.notes ?? []),
      `${r.case} ${r.size}: ${disturbance.discarded} run(s) repeated: other processes had the CPU (down to ${(100 * disturbance.minShare).toFixed(0)}%)`,
    ];
  }
  const gcw = timedGcWatch();
  await gcw.collect();
  for (const r of res) {
    r.extra = {
      ...r.extra,
      minCpuShare: Number(disturbance.minShare.toFixed(3)),
      timedScavenges: gcw.minor,
      timedMarkCompacts: gcw.major,
    };
  }
  process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
}

await main();
