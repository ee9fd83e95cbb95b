/**
 * Replays packets recorded on Linux 6.18 (src/conntrack/testdata/record.py) through ctnat's conntrack
 * as a forwarding gateway (in at PREROUTING, confirm at POSTROUTING) and compares what the kernel
 * showed: `conntrack -L` at the recorded times (timeouts within one second), the statistics deltas of
 * `conntrack -S`, and the `conntrack -E` events.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ctConfigFromSysctl } from "./config.js";
import type { CtStats } from "./conntrack.js";
import { Gateway } from "./testing.js";

interface Recorded {
  name: string;
  sysctl: Record<string, string>;
  packets: { t: number; side: string; hex: string }[];
  lists: { t: number; lines: string[] }[];
  events: { t: number; line: string }[];
  stats: Record<string, number>;
}

const here = dirname(fileURLToPath(import.meta.url));

function load(file: string): Recorded[] {
  return JSON.parse(readFileSync(join(here, "testdata", file), "utf8")).scenarios as Recorded[];
}

function hex(s: string): Uint8Array {
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = Number.parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return b;
}

/** split a conntrack line into its timeout (or -1) and the rest */
function splitTimeout(line: string): [number, string] {
  const m = /^(\s*(?:\[\w+\]\s+)?\S+\s+\d+ )(\d+) (.*)$/.exec(line.trim());
  if (m === null) return [-1, line.trim()];
  return [Number(m[2]), `${m[1]}${m[3]}`];
}

/** lines equal, timeouts within `slack` seconds */
function sameLines(actual: string[], expected: string[], slack: number): boolean {
  if (actual.length !== expected.length) return false;
  const a = [...actual].map(splitTimeout).sort((x, y) => x[1].localeCompare(y[1]));
  const e = [...expected].map(splitTimeout).sort((x, y) => x[1].localeCompare(y[1]));
  for (let i = 0; i < a.length; i++) {
    if (a[i][1] !== e[i][1]) return false;
    if (Math.abs(a[i][0] - e[i][0]) > slack) return false;
  }
  return true;
}

const STAT_KEYS: [string, keyof CtStats][] = [
  ["found", "found"],
  ["invalid", "invalid"],
  ["insert_failed", "insertFailed"],
  ["drop", "drop"],
  ["early_drop", "earlyDrop"],
  ["error", "error"],
  ["clash_resolve", "clashResolve"],
  ["chaintoolong", "chaintoolong"],
];

/** events that do not depend on the kernel's garbage-collector timing */
function deterministicEvents(lines: string[]): string[] {
  return lines.map((l) => l.trim()).filter((l) => !(l.startsWith("[DESTROY]") && splitTimeout(l)[0] < 0));
}

export function replayRecorded(sc: Recorded): void {
  const sysctl = new Map<string, string>();
  for (const [k, v] of Object.entries(sc.sysctl)) sysctl.set(`net.netfilter.${k}`, v);
  const base = 1000;
  const gw = new Gateway({ config: ctConfigFromSysctl(sysctl), seed: 1 }, base, true);
  const steps: { t: number; kind: "packet" | "list"; i: number }[] = [];
  for (let i = 0; i < sc.packets.length; i++) steps.push({ t: sc.packets[i].t, kind: "packet", i });
  for (let i = 0; i < sc.lists.length; i++) steps.push({ t: sc.lists[i].t, kind: "list", i });
  steps.sort((a, b) => a.t - b.t || (a.kind === "packet" ? -1 : 1));
  for (const s of steps) {
    gw.now = base + s.t;
    if (s.kind === "packet") {
      gw.send(hex(sc.packets[s.i].hex));
    } else {
      const exp = sc.lists[s.i].lines;
      const got = gw.list();
      assert.ok(
        sameLines(got, exp, 1),
        `${sc.name}: listing at +${s.t.toFixed(3)}s\n  kernel:\n    ${exp.join("\n    ")}\n  ctnat:\n    ${got.join("\n    ")}`,
      );
    }
  }
  for (const [k, field] of STAT_KEYS) {
    assert.equal(gw.ct.stats[field], sc.stats[k] ?? 0, `${sc.name}: stat ${k}`);
  }
  const expEv = deterministicEvents(sc.events.map((e) => e.line));
  const gotEv = deterministicEvents(gw.events);
  assert.ok(
    expEv.length === gotEv.length && expEv.every((l, i) => sameLines([gotEv[i]], [l], 1)),
    `${sc.name}: events\n  kernel:\n    ${expEv.join("\n    ")}\n  ctnat:\n    ${gotEv.join("\n    ")}`,
  );
}

describe("kernel TCP matrix: every state x flag class x direction (Linux 6.18 recording)", () => {
  for (const sc of load("kernel-tcp-matrix.json")) {
    test(sc.name, () => replayRecorded(sc));
  }
});

describe("kernel scenarios (Linux 6.18 recordings)", () => {
  for (const sc of load("kernel-scenarios.json")) {
    test(sc.name, () => replayRecorded(sc));
  }
});
