/**
 * ctnat's benchmark suite.
 *
 *   npm run bench                      every case at every size, table on stdout
 *   npm run bench -- established kube  only cases / sizes whose "case/size" contains a filter
 *   npm run bench -- established/1M    (filters are case-insensitive substrings, or /regex/)
 *   npm run bench -- --json            machine-readable results
 *   npm run bench -- --runs 11         timed runs per figure (median; default 7)
 *   npm run bench -- --verbose         per-run figures on stderr
 *   npm run bench -- --list            the cases and sizes
 *   npm run bench -- --wait-idle[=S]   before each case, wait (up to S seconds, default 600) until the
 *                                      other processes leave the CPUs idle (shared machines)
 *   npm run bench:smoke                every case at its smallest size, 2 runs (CI: must pass, timings not judged)
 *
 * Each case/size runs in its own Node process (bench/worker.ts, with --expose-gc), so cases share no
 * heap, JIT feedback or tables. Methodology: bench/README.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CASES } from "./cases/index.js";
import { type Machine, type Measure, machine } from "./lib/harness.js";
import { repoRoot } from "./lib/paths.js";

interface Args {
  filters: string[];
  json: boolean;
  smoke: boolean;
  runs: number | null;
  verbose: boolean;
  list: boolean;
  waitIdle: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { filters: [], json: false, smoke: false, runs: null, verbose: false, list: false, waitIdle: 0 };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === "--json") a.json = true;
    else if (x === "--smoke") a.smoke = true;
    else if (x === "--verbose" || x === "-v") a.verbose = true;
    else if (x === "--list") a.list = true;
    else if (x === "--wait-idle") a.waitIdle = 600;
    else if (x.startsWith("--wait-idle=")) a.waitIdle = Number(x.slice(12));
    else if (x === "--runs") a.runs = Number(argv[++i]);
    else if (x.startsWith("--runs=")) a.runs = Number(x.slice(7));
    else if (x.startsWith("-")) throw new Error(`unknown option ${x} (see the header of bench/run.ts)`);
    else a.filters.push(x);
  }
  if (a.runs !== null && !(a.runs >= 1)) throw new Error("--runs: expected a positive number");
  return a;
}

function selected(filters: string[], key: string): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) =>
    f.length > 2 && f.startsWith("/") && f.endsWith("/")
      ? new RegExp(f.slice(1, -1), "i").test(key)
      : key.toLowerCase().includes(f.toLowerCase()),
  );
}

function git(args: string[]): string {
  const r = spawnSync("git", args, { cwd: repoRoot(), encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
}

/** cpuBusy: the share of all CPUs busy over `ms` milliseconds (/proc/stat; 0 where unavailable) */
function cpuBusy(ms: number): number {
  const read = (): number[] => {
    try {
      return readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    } catch {
      return [];
    }
  };
  const a = read();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const b = read();
  if (a.length < 5 || b.length < 5) return 0;
  const d = b.map((x, i) => x - a[i]);
  const total = d.reduce((x, y) => x + y, 0);
  const idle = d[3] + d[4]; // idle + iowait
  return total > 0 ? 1 - idle / total : 0;
}

/** waitIdle: wait until the machine is idle (other processes use < 5% of the CPUs), at most `s` seconds */
function waitIdle(s: number): void {
  const until = Date.now() + s * 1000;
  let said = false;
  while (Date.now() < until) {
    const busy = cpuBusy(2000);
    if (busy < 0.05) return;
    if (!said) process.stderr.write(`bench: waiting for an idle machine (CPUs ${(100 * busy).toFixed(0)}% busy)\n`);
    said = true;
  }
  process.stderr.write("bench: the machine did not become idle; measuring anyway\n");
}

function runWorker(name: string, size: string, a: Args): Measure[] {
  const worker = fileURLToPath(new URL("./worker.ts", import.meta.url));
  const args = ["--expose-gc", "--max-old-space-size=8192", "--import", "tsx", worker, name, size];
  if (a.smoke) args.push("--smoke");
  if (a.runs !== null) args.push("--runs", String(a.runs));
  if (a.verbose) args.push("--verbose");
  const r = spawnSync(process.execPath, args, {
    cwd: repoRoot(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (r.status !== 0 || line === undefined)
    throw new Error(`${name} ${size}: worker exited ${r.status ?? r.signal}\n${r.stdout}`);
  return JSON.parse(line.slice(7)) as Measure[];
}

function fmt(v: number, unit: string): string {
  if (unit === "bytes growth") return `${v >= 0 ? "+" : ""}${Math.round(v)}`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toFixed(1);
}

function table(m: Machine, results: Measure[], header: string, smoke: boolean): string {
  const rows: string[][] = [["case", "size", "median", "unit", "target", "met", "spread (min-max)"]];
  for (const r of results) {
    const lo = Math.min(...r.runs);
    const hi = Math.max(...r.runs);
    rows.push([
      r.case,
      r.size,
      fmt(r.value, r.unit),
      r.unit,
      r.targetText ?? (r.target !== undefined ? `<= ${r.target}` : ""),
      r.pass === undefined || smoke ? "" : r.pass ? "yes" : "NO",
      r.runs.length > 1 ? `${fmt(lo, r.unit)}-${fmt(hi, r.unit)} (${r.runs.length} runs)` : "",
    ]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((x, c) => (c === 2 ? x.padStart(w[c]) : x.padEnd(w[c])))
      .join("  ")
      .trimEnd();
  const out = [
    header,
    `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB; Node ${m.node} (V8 ${m.v8}), ${m.os}; load ${m.load1} at start`,
    "",
  ];
  out.push(line(rows[0]), line(rows[0].map((_, c) => "-".repeat(w[c]))));
  for (const r of rows.slice(1)) out.push(line(r));
  const notes = results.flatMap((r) => r.notes ?? []);
  if (notes.length > 0) out.push("", ...notes.map((n) => `note: ${n}`));
  return out.join("\n");
}

/** derived: the kube-proxy 10,000 / 100 services ratio (target <= 2) */
function derived(results: Measure[]): Measure[] {
  const k100 = results.find((r) => r.case === "kube-proxy" && r.size === "100 services");
  const k10k = results.find((r) => r.case === "kube-proxy" && r.size === "10000 services");
  if (!k100 || !k10k) return [];
  const ratio = k10k.value / k100.value;
  return [
    {
      case: "kube-proxy",
      size: "10000 / 100 services",
      unit: "ratio",
      value: ratio,
      runs: [ratio],
      target: 2,
      pass: ratio <= 2,
    },
  ];
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const jobs: [string, string][] = [];
  for (const c of CASES) {
    // analysis cases run only when a filter names them
    if (c.optional && !a.filters.some((f) => f.toLowerCase().startsWith(c.name))) continue;
    for (const s of c.sizes(a.smoke)) if (selected(a.filters, `${c.name}/${s}`)) jobs.push([c.name, s]);
  }
  if (a.list) {
    for (const c of CASES)
      console.log(
        `${c.name.padEnd(18)} ${c.sizes(false).join(", ").padEnd(24)} ${c.title}${c.optional ? " (run by name)" : ""}`,
      );
    return;
  }
  if (jobs.length === 0) throw new Error(`no case matches ${a.filters.join(" ")} (try --list)`);
  const m = machine();
  const results: Measure[] = [];
  const t0 = Date.now();
  for (const [name, size] of jobs) {
    if (a.waitIdle > 0) waitIdle(a.waitIdle);
    if (!a.json || a.verbose) process.stderr.write(`bench: ${name} ${size}\n`);
    results.push(...runWorker(name, size, a));
  }
  results.push(...derived(results));
  const commit = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]) !== "";
  if (a.json) {
    console.log(
      JSON.stringify(
        {
          machine: m,
          commit,
          dirty,
          smoke: a.smoke,
          date: new Date().toISOString(),
          seconds: (Date.now() - t0) / 1000,
          results,
        },
        null,
        2,
      ),
    );
    return;
  }
  const header = `ctnat bench${a.smoke ? " (smoke: smallest sizes, few runs; timings not judged)" : ""}: commit ${commit}${dirty ? " (modified)" : ""}, ${new Date().toISOString().slice(0, 10)}, ${((Date.now() - t0) / 1000).toFixed(0)} s`;
  console.log(table(m, results, header, a.smoke));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exit(1);
});
