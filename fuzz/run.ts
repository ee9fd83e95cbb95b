/**
 * ctnat fuzz runner.
 *
 *   npm run fuzz -- --minutes 30                      all targets, time shared between them
 *   npm run fuzz -- --minutes 10 --target packets     one target
 *   npm run fuzz -- --seed 1234 --runs 500            reproduce: the same seed gives the same cases
 *   npm run fuzz -- --replay fuzz/crashes/rules-1234.rules
 *
 * Targets (see fuzz/targets/*.ts for each contract): packets (hostile traffic through the whole gateway,
 * then the instance-survives check), rules (random and mutated iptables-save texts), captures (corrupt,
 * truncated and lying pcap / pcapng).
 *
 * Each batch runs `--runs` cases (default 500) from one seed; the next batch takes the next seed. A
 * failure is shrunk by fast-check to a minimal case, printed with its seed, and written to fuzz/crashes/
 * (`<target>-<seed>.*`). Exit status: 0 when nothing failed, 1 otherwise, 2 for bad arguments.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeError, type FuzzTarget, type RunResult, runTarget } from "./lib/target.js";
import { capturesTarget, checkCapture } from "./targets/captures.js";
import { checkPackets, packetsFromRepro, packetsTarget } from "./targets/packets.js";
import { checkRuleset, rulesTarget } from "./targets/rules.js";

const here = dirname(fileURLToPath(import.meta.url));
const CRASHES = join(here, "crashes");

// biome-ignore lint/suspicious/noExplicitAny: the targets have different case types
const TARGETS: Record<string, FuzzTarget<any>> = {
  packets: packetsTarget,
  rules: rulesTarget,
  captures: capturesTarget,
};

interface Args {
  minutes: number;
  targets: string[];
  seed: number;
  runs: number;
  replay: string | null;
}

function usage(msg: string): never {
  process.stderr.write(
    `fuzz: ${msg}\nusage: npm run fuzz -- [--minutes N] [--target packets|rules|captures] [--seed S] [--runs N] [--replay FILE]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { minutes: 0, targets: [], seed: Date.now() % 1_000_000, runs: 500, replay: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1];
    const num = (what: string): number => {
      if (v === undefined || !/^\d+(\.\d+)?$/.test(v)) usage(`${k}: expected ${what}, found ${JSON.stringify(v)}`);
      i++;
      return Number(v);
    };
    switch (k) {
      case "--minutes":
        a.minutes = num("a number of minutes");
        break;
      case "--seed":
        a.seed = Math.floor(num("a non-negative integer"));
        break;
      case "--runs":
        a.runs = Math.max(1, Math.floor(num("a number of cases per seed")));
        break;
      case "--target":
        if (v === undefined || !(v in TARGETS)) usage(`--target: expected one of ${Object.keys(TARGETS).join(", ")}`);
        a.targets.push(v);
        i++;
        break;
      case "--replay":
        if (v === undefined) usage("--replay: expected a file");
        a.replay = v;
        i++;
        break;
      default:
        usage(`unknown argument ${JSON.stringify(k)}`);
    }
  }
  if (a.targets.length === 0) a.targets = Object.keys(TARGETS);
  return a;
}

/** replay: run a reproduction file through its target's check */
function replay(file: string): number {
  let result: string | null;
  try {
    if (file.endsWith(".json"))
      result = (() => {
        const r = packetsFromRepro(file);
        return checkPackets(r.packets, r.profile);
      })();
    else if (file.endsWith(".rules")) result = checkRuleset(readFileSync(file, "utf8"), 4);
    else if (file.endsWith(".rules6")) result = checkRuleset(readFileSync(file, "utf8"), 6);
    else if (file.endsWith(".pcap") || file.endsWith(".pcapng")) {
      const b = new Uint8Array(readFileSync(file));
      result = checkCapture(b, 1);
    } else usage(`--replay: ${file}: expected .json (packets), .rules / .rules6 or .pcap / .pcapng`);
  } catch (e) {
    result = `exception escaped: ${describeError(e)}`;
  }
  process.stdout.write(result === null ? `${file}: holds\n` : `${file}: FAILS\n${result}\n`);
  return result === null ? 0 : 1;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  if (args.replay !== null) return replay(args.replay);
  const totalMs = args.minutes * 60_000;
  const stats = new Map<string, { cases: number; batches: number; failures: RunResult["failures"] }>();
  for (const t of args.targets) stats.set(t, { cases: 0, batches: 0, failures: [] });
  const start = Date.now();
  const report = (): void => {
    const secs = ((Date.now() - start) / 1000).toFixed(0);
    const parts = [...stats].map(
      ([t, s]) => `${t} ${s.cases} cases${s.failures.length ? `, ${s.failures.length} FAILED` : ""}`,
    );
    process.stdout.write(`[${secs}s] ${parts.join(" | ")}\n`);
  };
  process.stdout.write(
    `fuzz: targets ${args.targets.join(", ")}; first seed ${args.seed}; ${args.runs} cases per seed; ${
      totalMs > 0 ? `${args.minutes} minute(s)` : "one batch per target"
    }\n`,
  );
  let seed = args.seed;
  let lastReport = Date.now();
  do {
    for (const name of args.targets) {
      const left = totalMs > 0 ? totalMs - (Date.now() - start) : Number.POSITIVE_INFINITY;
      if (left <= 0) break;
      const s = stats.get(name)!;
      const r = runTarget(TARGETS[name]!, {
        seed,
        numRuns: args.runs,
        timeLimitMs: Number.isFinite(left) ? left : undefined,
        reproDir: CRASHES,
      });
      s.cases += r.cases;
      s.batches++;
      for (const f of r.failures) {
        s.failures.push(f);
        process.stdout.write(
          `\nFAILURE in ${f.target} (seed ${f.seed}, reproduce with: npm run fuzz -- --target ${f.target} --seed ${f.seed} --runs ${args.runs})\n${f.message}\nwritten: ${f.files.join(", ")}\n\n`,
        );
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        report();
      }
    }
    seed++;
  } while (totalMs > 0 && Date.now() - start < totalMs);
  report();
  let failed = 0;
  for (const s of stats.values()) failed += s.failures.length;
  process.stdout.write(failed === 0 ? "no failures\n" : `${failed} failure(s); reproductions in ${CRASHES}\n`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
