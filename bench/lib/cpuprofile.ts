/**
 * Summarise V8 CPU profiles (the `.cpuprofile` JSON of `node --cpu-prof` or of the inspector's
 * Profiler.stop): self and total time per function, with the hottest source lines of each, positions
 * mapped back to the TypeScript sources through the source maps of the modules this process loaded
 * (tsx registers them; compiled output needs --enable-source-maps).
 *
 * Hot lines are V8's position ticks. tsx emits each module on one line, so they are only useful with
 * compiled code (bench/profile.ts --dist). Ticks in code inlined from another module are reported by V8
 * against that module's lines without naming it: those above the function's own first line are shown as
 * "(inlined)"; the others may still be misplaced when a callee was inlined.
 */
import { readFileSync } from "node:fs";
import { findSourceMap } from "node:module";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { repoRoot } from "./paths.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  startTime: number;
  endTime: number;
}

export interface FnRow {
  name: string;
  where: string;
  self: number;
  total: number;
  /** hottest lines: "file:line" -> samples */
  lines: [string, number][];
}

export interface Summary {
  samples: number;
  durationMs: number;
  rows: FnRow[];
}

const ROOT = repoRoot();

const generated = new Map<string, string[]>();

/** firstColumn: the column of the first non-blank character of a generated line (0 if unknown) */
function firstColumn(url: string, line0: number): number {
  let lines = generated.get(url);
  if (lines === undefined) {
    try {
      lines = url.startsWith("file:") ? readFileSync(fileURLToPath(url), "utf8").split("\n") : [];
    } catch {
      lines = [];
    }
    generated.set(url, lines);
  }
  const l = lines[line0] ?? "";
  const m = /\S/.exec(l);
  return m ? m.index : 0;
}

function place(url: string, line0: number, col0: number): { file: string; line: number } {
  if (url === "") return { file: "", line: 0 };
  if (col0 < 0) col0 = firstColumn(url, line0);
  try {
    const sm = findSourceMap(url);
    if (sm !== undefined) {
      const e = sm.findEntry(line0, col0) as { originalSource?: string; originalLine?: number };
      if (e && e.originalSource !== undefined && e.originalLine !== undefined) {
        const src = e.originalSource.startsWith("file:") ? fileURLToPath(e.originalSource) : e.originalSource;
        return { file: relative(ROOT, src), line: e.originalLine + 1 };
      }
    }
  } catch {
    // no map: fall back to the generated position
  }
  const file = url.startsWith("file:") ? relative(ROOT, fileURLToPath(url)) : url;
  return { file, line: line0 + 1 };
}

/** summarize: merge profiles and rank functions by self samples */
export function summarize(profiles: readonly CpuProfile[], top = 25): Summary {
  const byFn = new Map<
    string,
    { name: string; where: string; self: number; total: number; lines: Map<string, number> }
  >();
  let samples = 0;
  let durationMs = 0;
  for (const p of profiles) {
    durationMs += (p.endTime - p.startTime) / 1000;
    const nodes = new Map<number, ProfileNode>();
    for (const n of p.nodes) nodes.set(n.id, n);
    const keyOf = new Map<number, string>();
    for (const n of p.nodes) {
      const cf = n.callFrame;
      const pos = place(cf.url, cf.lineNumber, cf.columnNumber);
      const where = pos.file === "" ? "" : `${pos.file}:${pos.line}`;
      const name = cf.functionName || (cf.url === "" ? "(native)" : "(anonymous)");
      const key = `${name}@${where}`;
      keyOf.set(n.id, key);
      let r = byFn.get(key);
      if (r === undefined) {
        r = { name, where, self: 0, total: 0, lines: new Map() };
        byFn.set(key, r);
      }
      const hits = n.hitCount ?? 0;
      r.self += hits;
      samples += hits;
      for (const t of n.positionTicks ?? []) {
        // a tick above the function's first line belongs to code inlined from elsewhere (V8 reports
        // its line in the inlined function's own script, which the profile does not name)
        const inlined = t.line - 1 < cf.lineNumber;
        const lp = inlined ? { file: "", line: 0 } : place(cf.url, t.line - 1, -1);
        const lk = inlined ? "(inlined)" : `${lp.file}:${lp.line}`;
        r.lines.set(lk, (r.lines.get(lk) ?? 0) + t.ticks);
      }
    }
    // total: self of the subtree, each function counted once per path (recursion-safe)
    const walk = (id: number, onPath: Map<string, number>): number => {
      const n = nodes.get(id)!;
      let sum = n.hitCount ?? 0;
      const key = keyOf.get(id)!;
      const depth = onPath.get(key) ?? 0;
      onPath.set(key, depth + 1);
      for (const c of n.children ?? []) sum += walk(c, onPath);
      onPath.set(key, depth);
      if (depth === 0) byFn.get(key)!.total += sum;
      return sum;
    };
    const childIds = new Set<number>();
    for (const n of p.nodes) for (const c of n.children ?? []) childIds.add(c);
    for (const n of p.nodes) if (!childIds.has(n.id)) walk(n.id, new Map());
  }
  const rows = [...byFn.values()]
    .filter((r) => r.self > 0 || r.total > 0)
    .sort((a, b) => b.self - a.self)
    .slice(0, top)
    .map((r) => ({
      name: r.name,
      where: r.where,
      self: r.self,
      total: r.total,
      lines: [...r.lines.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3),
    }));
  return { samples, durationMs, rows };
}

/** formatSummary: the ranking as text */
export function formatSummary(s: Summary, title: string): string {
  const pct = (x: number) => `${((100 * x) / Math.max(1, s.samples)).toFixed(1).padStart(5)}%`;
  const out = [
    `${title}: ${s.samples} samples over ${s.durationMs.toFixed(0)} ms (self %, total %, function, place; hottest lines)`,
  ];
  for (const r of s.rows) {
    const own = r.where.replace(/:\d+$/, "");
    const lines = r.lines
      .map(([l, t]) => `${l.startsWith(`${own}:`) ? l.slice(own.length) : l.replace(/^.*\//, "")}=${pct(t).trim()}`)
      .join(" ");
    out.push(`${pct(r.self)} ${pct(r.total)}  ${r.name.padEnd(34)} ${r.where}${lines ? `   [${lines}]` : ""}`);
  }
  return out.join("\n");
}
