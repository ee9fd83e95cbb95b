/**
 * flood: the long runs of the flood tests (test/hardening/flood.test.ts) with CTNAT_FLOOD_SCALE=10:
 * two million SYNs from random sources against a port forward with nf_conntrack_max 65536, 500,000
 * fragments against the reassembly memory limits, and SNAT port exhaustion, each interleaved with
 * established connections that must pass byte for byte as through a gateway that saw no flood (the
 * tests' assertions). Reported: peak memory and the drop counts, from the tests' diagnostics. The test
 * file runs in its own process (node --test), so its peak RSS is its own.
 */
import { spawnSync } from "node:child_process";
import { type BenchCase, type CaseOptions, fail, type Measure } from "../lib/harness.js";
import { repoRoot } from "../lib/paths.js";

function num(text: string, re: RegExp, what: string): number {
  const m = re.exec(text);
  if (m === null) fail(`flood: no ${what} in the test output:\n${text}`);
  return Number(m[1]);
}

export const flood: BenchCase = {
  name: "flood",
  title: "floods (SYN, fragments, SNAT exhaustion) with established connections interleaved: peak memory, drops",
  sizes: () => ["scale"],
  async run(_size: string, opts: CaseOptions): Promise<Measure[]> {
    const scale = opts.smoke ? 1 : 10;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "test/hardening/flood.test.ts"], {
      cwd: repoRoot(),
      encoding: "utf8",
      env: { ...process.env, CTNAT_FLOOD_SCALE: String(scale) },
      maxBuffer: 64 << 20,
    });
    const ms = Date.now() - t0;
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0 || !/^# fail 0$/m.test(out)) fail(`flood: the flood tests failed:\n${out}`);
    const syns = num(out, /^# (\d+) SYNs: table/m, "SYN count");
    const table = num(out, /table (\d+)\/\d+, early_drop/, "table size");
    const max = num(out, /table \d+\/(\d+), early_drop/, "nf_conntrack_max");
    const earlyDrop = num(out, /early_drop (\d+), drop/, "early_drop");
    const drop = num(out, /early_drop \d+, drop (\d+)/, "drop");
    const synRss = num(out, /conntrack tables [\d.]+ MiB; peak rss ([\d.]+) MiB/, "SYN flood peak rss");
    const frags = num(out, /^# (\d+) fragments: queues/m, "fragment count");
    const charged = Math.max(
      num(out, /charged v4 (\d+)/, "v4 reassembly memory"),
      num(out, /charged v4 \d+ v6 (\d+)/, "v6 reassembly memory"),
    );
    const memDrops = num(out, /memDrops (\d+)/, "memDrops");
    const fragRss = num(out, /reasm-failed \d+\n# peak rss ([\d.]+) MiB/, "fragment flood peak rss");
    const snat = /^# (TCP: \d+ of \d+ SYNs mapped.*)$/m.exec(out)?.[1] ?? "";
    const common = "established flows byte for byte as without the flood";
    return [
      {
        case: "flood",
        size: `${(syns / 1e6).toFixed(1)}M SYNs, max ${max}`,
        unit: "MiB peak rss",
        value: synRss,
        runs: [synRss],
        targetText: "bounded",
        pass: table <= max,
        notes: [
          `SYN flood: ${syns} SYNs, table held at ${table}/${max}, early_drop ${earlyDrop}, drop ${drop} (${((100 * drop) / Math.max(1, syns - max)).toFixed(2)}% of the SYNs after the table filled; Linux 6.18 in the same setup: about 1.3%); ${common}`,
          `fragment flood: ${frags} fragments, reassembly memory charged at most ${charged} bytes per family (ipfrag_high_thresh 4 MiB), ${memDrops} dropped for memory; peak rss ${fragRss} MiB; ${common}`,
          `SNAT port exhaustion: ${snat}`,
          `the flood tests took ${(ms / 1000).toFixed(1)} s at CTNAT_FLOOD_SCALE=${scale}`,
        ],
        extra: { syns, table, max, earlyDrop, drop, frags, charged, memDrops, fragRss, scale, ms },
      },
      {
        case: "flood",
        size: `${(frags / 1000).toFixed(0)}k fragments`,
        unit: "MiB peak rss",
        value: fragRss,
        runs: [fragRss],
        targetText: "bounded",
        pass: charged <= 4 * 1024 * 1024 + 2600,
      },
    ];
  },
};
