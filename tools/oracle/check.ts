/**
 * check.ts: replay recorded kernel scenarios through `bin/ctnat replay` and compare the results with
 * the kernel's recordings.
 *
 *   node --import tsx tools/oracle/check.ts [--keep] [--verbose] [FIXTURE_DIR...]
 *
 * Without arguments: every fixture under test/fixtures/kernel plus examples/home-router. For each it
 * builds the replay command from the fixture's files (rules.v4, rules.v6, addr.json, route.json,
 * route6.json, sysctl.txt, in/IFACE.pcap, at.txt), runs it into a temporary directory, and prints one
 * line per fixture (or the whole readable diff with --verbose). Exit 0 when every fixture matches.
 *
 * Where the kernel's NAT chose random ports or ids, the recorded replies answer the kernel's choice, not
 * ctnat's: after a replay whose comparison found such renamings, the inputs are rewritten with them
 * (test/support/rename-inputs.ts) and the replay runs again, up to three times; the line then says
 * "inputs renamed".
 * Needs a built ctnat (`npm run build`); no root.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatReport } from "../../test/support/oracle.js";
import { runScenario, type ScenarioRun } from "../../test/support/scenario.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The `ctnat replay` arguments for a fixture, writing into `out`. */
function replayArgs(fixture: string, out: string, inputs = join(fixture, "in")): string[] {
  const f = (name: string) => join(fixture, name);
  const args = ["replay", "--rules", f("rules.v4")];
  if (existsSync(f("rules.v6"))) args.push("--rules6", f("rules.v6"));
  if (existsSync(f("ipsets.txt"))) args.push("--ipsets", f("ipsets.txt"));
  args.push("--addr", f("addr.json"), "--route", f("route.json"), "--route6", f("route6.json"));
  args.push("--sysctl", f("sysctl.txt"));
  for (const p of readdirSync(f("in")).sort()) {
    if (p.endsWith(".pcap")) args.push("--in", `${p.slice(0, -5)}=${join(inputs, p)}`);
  }
  args.push("--at", readFileSync(f("at.txt"), "utf8").trim(), "--out", out);
  return args;
}

function main(argv: string[]): number {
  const keep = argv.includes("--keep");
  const verbose = argv.includes("--verbose");
  let fixtures = argv.filter((a) => !a.startsWith("--")).map((a) => resolve(a));
  if (fixtures.length === 0) {
    const base = join(REPO, "test/fixtures/kernel");
    fixtures = [...readdirSync(base).map((n) => join(base, n)), join(REPO, "examples/home-router")];
  }
  let failed = 0;
  for (const fx of fixtures) {
    const name = relative(REPO, fx);
    const work = mkdtempSync(join(tmpdir(), "ctnat-check-"));
    let error = "";
    let run: ScenarioRun | undefined;
    try {
      run = runScenario(fx, work, (inputs, out) => {
        const r = spawnSync(join(REPO, "bin/ctnat"), replayArgs(fx, out, inputs), { encoding: "utf8" });
        if (r.status !== 0) throw new Error(`ctnat replay exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
      });
    } catch (e) {
      error = (e as Error).message;
    }
    const rep = run?.report;
    const out = run?.out ?? work;
    const renames = run?.renames ?? [];
    if (error || !rep) {
      failed++;
      process.stdout.write(`FAIL ${name}: ${error}\n`);
    } else {
      if (!rep.equal) failed++;
      const seq = rep.sequences.map(
        (s) =>
          `${s.name} ${s.matched}/${s.kernelCount}${s.ctnatCount !== s.kernelCount ? ` (ctnat ${s.ctnatCount})` : ""}`,
      );
      const renamed = renames.length ? " (inputs renamed)" : "";
      process.stdout.write(
        `${rep.equal ? "ok  " : "FAIL"} ${name}${renamed}: ${seq.join(", ")}; conntrack ${rep.conntrack.diffs.length} diffs; counters ${rep.counters.diffs.length} diffs\n`,
      );
      if (verbose && !rep.equal) process.stdout.write(`${formatReport(rep)}\n`);
    }
    if (keep) process.stdout.write(`     output kept in ${out}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`${fixtures.length - failed} of ${fixtures.length} fixtures match the kernel\n`);
  return failed ? 1 : 0;
}

process.exit(main(process.argv.slice(2)));
