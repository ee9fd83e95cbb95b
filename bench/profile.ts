/**
 * Profile one benchmark case:
 *
 *   node --import tsx bench/profile.ts CASE [SIZE] [options]
 *
 *   (default)   V8 CPU profiler (node:inspector) around the timed runs only, 100 µs sampling: the
 *               functions ranked by self time, with total time and their hottest lines, mapped to the
 *               TypeScript sources. Writes .bench-cache/profiles/CASE-SIZE.cpuprofile (open it in
 *               Chrome DevTools > Performance, or speedscope) and the ranking next to it (.txt).
 *   --dist      run the tsc-compiled code (built into .bench-cache/build) instead of tsx's: tsx emits
 *               each module on one line, so only the compiled build gives per-line ticks
 *   --whole     node --cpu-prof over the whole process (setup included)
 *   --prof      node --prof (V8's tick profiler, whole process) and --prof-process: shows time in
 *               GC, C++ and builtins that the CPU profile folds into its callers
 *   --top N     rows of the ranking (default 30);  --runs N  timed runs (default 3)
 *
 * SIZE defaults to the case's first size. The loop profile -> change -> bench is in bench/README.md.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CASES, findCase } from "./cases/index.js";
import { type CpuProfile, formatSummary, summarize } from "./lib/cpuprofile.js";
import { repoRoot } from "./lib/paths.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function run(args: string[], cwd: string): void {
  const r = spawnSync(process.execPath, args, { cwd, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`profiled worker exited ${r.status ?? r.signal}`);
}

function main(): void {
  const pos = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith("--") && !["--top", "--runs"].includes(all[i - 1] ?? ""));
  const [name, sizeArg] = pos;
  if (!name) {
    console.error(
      `usage: bench/profile.ts CASE [SIZE] [--dist|--whole|--prof] [--top N] [--runs N]\ncases: ${CASES.map((c) => `${c.name} (${c.sizes(false).join(", ")})`).join("; ")}`,
    );
    process.exit(2);
  }
  const c = findCase(name);
  const size = sizeArg ?? c.sizes(false)[0];
  const root = repoRoot();
  const dir = join(root, ".bench-cache", "profiles");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${name}-${size}`);
  const top = arg("--top") ?? "30";
  const runs = arg("--runs") ?? "3";
  const common = [name, size, "--runs", runs];

  if (process.argv.includes("--prof")) {
    const log = `${base}.v8.log`;
    run(
      [
        "--expose-gc",
        "--max-old-space-size=8192",
        "--prof",
        `--logfile=${log}`,
        "--no-logfile-per-isolate",
        "--import",
        "tsx",
        "bench/worker.ts",
        ...common,
      ],
      root,
    );
    const r = spawnSync(process.execPath, ["--prof-process", log], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 256 << 20,
    });
    const text = r.stdout;
    // the summary and the first rows of each section
    const keep: string[] = [];
    for (const section of text.split(/\n(?= \[)/)) {
      const lines = section.split("\n");
      keep.push(...lines.slice(0, section.startsWith(" [Summary]") ? 12 : Number(top) + 4));
    }
    console.log(keep.join("\n"));
    return;
  }
  if (process.argv.includes("--whole")) {
    const pdir = `${base}.whole`;
    rmSync(pdir, { recursive: true, force: true });
    run(
      [
        "--expose-gc",
        "--max-old-space-size=8192",
        "--cpu-prof",
        `--cpu-prof-dir=${pdir}`,
        "--cpu-prof-interval=100",
        "--import",
        "tsx",
        "bench/worker.ts",
        ...common,
      ],
      root,
    );
    const files = readdirSync(pdir).filter((f) => f.endsWith(".cpuprofile"));
    const profiles = files.map((f) => JSON.parse(readFileSync(join(pdir, f), "utf8")) as CpuProfile);
    // this process loaded the same modules through tsx, so their source maps resolve positions
    console.log(formatSummary(summarize(profiles, Number(top)), `${name} ${size} (whole process)`));
    console.log(`profile: ${join(pdir, files[0] ?? "")}`);
    return;
  }
  if (process.argv.includes("--dist")) {
    const out = join(root, ".bench-cache", "build");
    const tsc = spawnSync(
      process.execPath,
      [
        join(root, "node_modules/typescript/bin/tsc"),
        "-p",
        "tsconfig.json",
        "--noEmit",
        "false",
        "--outDir",
        out,
        "--declaration",
        "false",
        "--incremental",
        "false",
      ],
      { cwd: root, encoding: "utf8" },
    );
    if (tsc.status !== 0)
      console.error(`tsc reported errors (output emitted anyway):\n${tsc.stdout.split("\n").slice(0, 10).join("\n")}`);
    run(
      [
        "--expose-gc",
        "--max-old-space-size=8192",
        "--enable-source-maps",
        join(out, "bench/worker.js"),
        ...common,
        "--cpu-profile",
        `${base}.cpuprofile`,
        "--top",
        top,
      ],
      root,
    );
    return;
  }
  run(
    [
      "--expose-gc",
      "--max-old-space-size=8192",
      "--import",
      "tsx",
      "bench/worker.ts",
      ...common,
      "--cpu-profile",
      `${base}.cpuprofile`,
      "--top",
      top,
    ],
    root,
  );
}

main();
