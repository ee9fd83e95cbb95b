/**
 * The kernel differential suite: every scenario recorded from a real Linux gateway (test/fixtures/kernel,
 * examples/*; see tools/oracle) is replayed through ctnat and compared with what the kernel did:
 * packets per interface (layer 3, byte for byte, NAT-chosen ports through a consistent renaming),
 * local deliveries, the conntrack table and the rule counters.
 *
 * A scenario that exercises a capability not finished yet is listed in PENDING with the reason; it runs
 * as a `todo` test (reported, not failing). A pending scenario that starts to match is reported too, so
 * the list cannot go stale silently.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { replayOptionsFor } from "../../src/cli/example.js";
import { replayFiles } from "../../src/cli/replay.js";
import { formatReport } from "../support/oracle.js";
import { runScenario } from "../support/scenario.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** scenario -> why it does not match the kernel yet (issue numbers name where the work is tracked) */
const PENDING: Record<string, string> = {};

function scenarios(): string[] {
  const out: string[] = [];
  const kdir = join(REPO, "test/fixtures/kernel");
  if (existsSync(kdir)) {
    for (const n of readdirSync(kdir).sort()) {
      const d = join(kdir, n);
      if (existsSync(join(d, "in")) && existsSync(join(d, "at.txt"))) out.push(d);
    }
  }
  const ex = join(REPO, "examples");
  if (existsSync(ex)) {
    for (const n of readdirSync(ex).sort()) {
      const d = join(ex, n);
      if (existsSync(join(d, "in")) && existsSync(join(d, "at.txt"))) out.push(d);
    }
  }
  return out;
}

for (const dir of scenarios()) {
  const name = dir.slice(REPO.length + 1);
  const base = name.split("/").pop()!;
  const pending = PENDING[base];
  test(`kernel scenario ${name}`, pending ? { todo: pending } : {}, () => {
    const work = mkdtempSync(join(tmpdir(), `ctnat-kernel-${base}-`));
    try {
      const { report } = runScenario(dir, work, (inputs, out) => {
        const opts = replayOptionsFor(dir, out);
        opts.in = opts.in.map((s) => {
          const eq = s.indexOf("=");
          return `${s.slice(0, eq)}=${join(inputs, s.slice(s.lastIndexOf("/") + 1))}`;
        });
        replayFiles(opts, false);
      });
      if (pending && report.equal) {
        assert.fail(`${base} now matches the kernel: remove it from PENDING`);
      }
      assert.ok(report.equal, formatReport(report));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
