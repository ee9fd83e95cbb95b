/**
 * `ctnat example [name]`: replay a bundled example (examples/NAME: a capture recorded from a real
 * Linux gateway with its ruleset and description) and print the summary. This is what `npm start` runs.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "../core/errors.js";
import { type ReplayOptions, replayFiles } from "./replay.js";
import { formatSummary } from "./summary.js";

/** the repository's examples/ directory (dist/cli/ or src/cli/ -> ../../examples) */
export function examplesDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples");
}

/** replayOptionsFor: the replay options that replay a recorded scenario directory (oracle layout). */
export function replayOptionsFor(dir: string, out: string): ReplayOptions {
  const f = (name: string): string | undefined => (existsSync(join(dir, name)) ? join(dir, name) : undefined);
  const inDir = join(dir, "in");
  const ins = existsSync(inDir)
    ? readdirSync(inDir)
        .filter((n) => n.endsWith(".pcap") || n.endsWith(".pcapng"))
        .sort()
        .map((n) => `${n.replace(/\.pcapn?g?$/, "")}=${join(inDir, n)}`)
    : [];
  return {
    rules: f("rules.v4"),
    rules6: f("rules.v6"),
    ipsets: f("ipsets.txt"),
    addr: f("addr.json"),
    route: f("route.json"),
    route6: f("route6.json"),
    sysctl: f("sysctl.txt"),
    in: ins,
    out,
    at: existsSync(join(dir, "at.txt")) ? readFileSync(join(dir, "at.txt"), "utf8").trim() : undefined,
    quiet: true,
  };
}

export async function runExample(name: string, opts: { out?: string }): Promise<void> {
  const dir = join(examplesDir(), name);
  if (!existsSync(dir)) {
    const have = existsSync(examplesDir()) ? readdirSync(examplesDir()).filter((n) => !n.includes(".")) : [];
    throw new InputError(`no example named ${JSON.stringify(name)} (examples: ${have.join(", ") || "none"})`);
  }
  const out = opts.out ?? mkdtempSync(join(tmpdir(), `ctnat-${name}-`));
  const ro = replayOptionsFor(dir, out);
  const result = replayFiles(ro, false);
  const rel = (p: string): string => relative(process.cwd(), p) || ".";
  process.stdout.write(
    `ctnat example ${name}: replayed ${result.counters.packets} packets through the gateway of ${rel(dir)}\n`,
  );
  process.stdout.write(
    `the same, by hand:\n  bin/ctnat replay ${[
      ro.rules ? `--rules ${rel(ro.rules)}` : "",
      ro.rules6 ? `--rules6 ${rel(ro.rules6)}` : "",
      ro.ipsets ? `--ipsets ${rel(ro.ipsets)}` : "",
      ro.addr ? `--addr ${rel(ro.addr)}` : "",
      ro.route ? `--route ${rel(ro.route)}` : "",
      ro.route6 ? `--route6 ${rel(ro.route6)}` : "",
      ro.sysctl ? `--sysctl ${rel(ro.sysctl)}` : "",
      ...ro.in.map((s) => `--in ${s.slice(0, s.indexOf("="))}=${rel(s.slice(s.indexOf("=") + 1))}`),
      `--out ${out}`,
    ]
      .filter((s) => s !== "")
      .join(" \\\n    ")}\n\n`,
  );
  process.stdout.write(formatSummary(result));
  process.stdout.write(`Outputs (captures per interface, conntrack.txt, counters.v4/v6) are in ${out}\n`);
}
