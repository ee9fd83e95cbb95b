/**
 * replay: `bin/ctnat replay` end to end (process start, loading, reading both captures, the gateway,
 * writing lan0.pcap / wan0.pcap / local.pcap / conntrack.txt / counters) on a generated capture of 2M
 * packets (fixtures/capture.ts), next to `tcpdump -r FILE -w COPY` of the same files, the floor for
 * reading and writing them. Wall-clock time of each, median of the runs.
 *
 * The capture is generated once into .bench-cache/ (ignored by git) and reused while the generator
 * version and size are unchanged. bin/ctnat runs the compiled dist/: it is rebuilt first when any
 * src/ file is newer.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateCapture } from "../fixtures/capture.js";
import { MASQ_STATEFUL } from "../fixtures/rulesets.js";
import { MASQ, sysctlText } from "../fixtures/topology.js";
import { type BenchCase, type CaseOptions, fail, type Measure, median, nowNs, parseCount } from "../lib/harness.js";
import { repoRoot } from "../lib/paths.js";

/** bump when the capture generator changes, so cached captures are regenerated */
const CAPTURE_VERSION = 1;

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestMtime(p));
    else if (e.name.endsWith(".ts")) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** ensureBuilt: dist/ as fresh as src/ (npm run build otherwise); a note when it was rebuilt */
function ensureBuilt(root: string): string | null {
  const main = join(root, "dist/cli/main.js");
  if (existsSync(main) && statSync(main).mtimeMs >= newestMtime(join(root, "src"))) return null;
  const r = spawnSync("npm", ["run", "-s", "build"], { cwd: root, encoding: "utf8" });
  if (!existsSync(main)) fail(`npm run build did not produce dist/cli/main.js: ${r.stdout}${r.stderr}`);
  return r.status === 0
    ? "dist/ was older than src/: rebuilt with npm run build"
    : "npm run build reported type errors (dist/ emitted anyway)";
}

/** pcapRecords: number of records of a pcap file */
function pcapRecords(file: string): number {
  const b = readFileSync(file);
  let n = 0;
  for (let o = 24; o + 16 <= b.length; o += 16 + b.readUInt32LE(o + 8)) n++;
  return n;
}

function timeCmd(cmd: string, args: string[], cwd: string): number {
  const t0 = nowNs();
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  const t1 = nowNs();
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return (t1 - t0) / 1e6;
}

function hasTcpdump(): boolean {
  return spawnSync("tcpdump", ["--version"], { encoding: "utf8" }).status === 0;
}

export const replay: BenchCase = {
  name: "replay",
  title: "bin/ctnat replay end to end vs tcpdump -r/-w of the same capture",
  sizes: (smoke) => (smoke ? ["20k"] : ["2M"]),
  async run(size: string, opts: CaseOptions): Promise<Measure[]> {
    const packets = parseCount(size);
    const root = repoRoot();
    const notes: string[] = [];
    const built = ensureBuilt(root);
    if (built) notes.push(built);
    const dir = join(root, ".bench-cache", `replay-v${CAPTURE_VERSION}-${size}`);
    const meta = join(dir, "meta.json");
    if (!existsSync(meta)) {
      if (opts.verbose) process.stderr.write(`  generating ${size}-packet capture into ${dir}\n`);
      const info = generateCapture(dir, packets);
      writeFileSync(join(dir, "addr.json"), MASQ.addr);
      writeFileSync(join(dir, "route.json"), MASQ.route);
      writeFileSync(join(dir, "rules.v4"), MASQ_STATEFUL);
      writeFileSync(join(dir, "sysctl.txt"), sysctlText(262144));
      writeFileSync(meta, JSON.stringify(info));
    }
    const info = JSON.parse(readFileSync(meta, "utf8")) as { packets: number; bytes: number; sessions: number };
    const out = join(dir, "out");
    const args = [
      join(root, "bin/ctnat"),
      "replay",
      "--rules",
      join(dir, "rules.v4"),
      "--addr",
      join(dir, "addr.json"),
      "--route",
      join(dir, "route.json"),
      "--sysctl",
      join(dir, "sysctl.txt"),
      "--in",
      `lan0=${join(dir, "lan0.pcap")}`,
      "--in",
      `wan0=${join(dir, "wan0.pcap")}`,
      "--out",
      out,
      "--quiet",
    ];
    const runs = opts.smoke ? 1 : Math.min(opts.runs, 3);
    const ctnat: number[] = [];
    for (let i = 0; i < runs; i++) {
      rmSync(out, { recursive: true, force: true });
      ctnat.push(timeCmd(process.execPath, args, root));
      if (opts.verbose) process.stderr.write(`  ctnat replay run ${i + 1}: ${ctnat[i].toFixed(0)} ms\n`);
      if (i === 0) {
        const sent = pcapRecords(join(out, "lan0.pcap")) + pcapRecords(join(out, "wan0.pcap"));
        if (sent !== info.packets) fail(`replay forwarded ${sent} of ${info.packets} packets`);
      }
    }
    rmSync(out, { recursive: true, force: true }); // as large as the capture: do not keep it
    const ms = median(ctnat);
    const pps = info.packets / (ms / 1000);
    const res: Measure[] = [
      {
        case: "replay",
        size: `${size} packets`,
        unit: "ms",
        value: ms,
        runs: ctnat,
        notes,
        extra: { packetsPerSecond: Math.round(pps), captureBytes: info.bytes, sessions: info.sessions },
      },
    ];
    if (!hasTcpdump()) {
      notes.push("tcpdump is not installed: no floor to compare with");
      return res;
    }
    const copy = join(dir, "copy.pcap");
    const tcpdump: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      // the first round warms the page cache as the ctnat runs did
      const t =
        timeCmd("tcpdump", ["-r", join(dir, "lan0.pcap"), "-w", copy], dir) +
        timeCmd("tcpdump", ["-r", join(dir, "wan0.pcap"), "-w", copy], dir);
      if (i > 0) tcpdump.push(t);
    }
    rmSync(copy, { force: true });
    const floor = median(tcpdump);
    const ratio = ms / floor;
    res[0].extra!.tcpdumpMs = floor;
    res[0].extra!.ratio = ratio;
    res[0].targetText = "<= 2x tcpdump";
    res[0].pass = ratio <= 2;
    notes.push(
      `replay ${size}: ctnat ${ms.toFixed(0)} ms (${(pps / 1e6).toFixed(2)} Mpps), tcpdump -r/-w copy ${floor.toFixed(0)} ms: ${ratio.toFixed(2)}x`,
    );
    res.push({
      case: "replay",
      size: `${size} packets (tcpdump copy)`,
      unit: "ms",
      value: floor,
      runs: tcpdump,
    });
    return res;
  },
};
