/**
 * The fuzz targets (fuzz/targets/*.ts), a brief seeded run of each, as part of `npm test`; the long runs
 * are `npm run fuzz -- --minutes N`. Also replays every saved case of fuzz/corpus/ (regressions and
 * seeds) through its target's contract.
 *
 * A failure names the seed and writes a minimized reproduction to fuzz/crashes/; replay it with
 * `npm run fuzz -- --replay FILE`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { type FuzzTarget, runTarget } from "../../fuzz/lib/target.js";
import { capturesTarget, checkCapture } from "../../fuzz/targets/captures.js";
import { checkPackets, packetsFromRepro, packetsTarget } from "../../fuzz/targets/packets.js";
import { checkRuleset, rulesTarget } from "../../fuzz/targets/rules.js";

const here = dirname(fileURLToPath(import.meta.url));
const FUZZ = join(here, "../../fuzz");

function brief<T>(target: FuzzTarget<T>, seed: number, numRuns: number): void {
  const r = runTarget(target, { seed, numRuns, reproDir: join(FUZZ, "crashes") });
  const f = r.failures[0];
  assert.equal(
    f,
    undefined,
    f === undefined
      ? ""
      : `${target.name} failed (seed ${f.seed}; npm run fuzz -- --target ${target.name} --seed ${f.seed} --runs ${numRuns}):\n${f.message}\nreproduction: ${f.files.join(", ")}`,
  );
  assert.equal(r.cases, numRuns);
}

test("fuzz packets: hostile traffic through the gateway, which then treats the good flow as a fresh one does", () => {
  brief(packetsTarget, 20251125, 400);
});

test("fuzz rules: mutated and random rulesets load or fail with file:line:column, and what loads runs", () => {
  brief(rulesTarget, 20251125, 1500);
});

test("fuzz captures: corrupt, truncated and lying pcap / pcapng read or fail with a byte offset, in bounded memory", () => {
  brief(capturesTarget, 20251125, 1000);
});

test("fuzz/corpus: every saved case holds its target's contract", () => {
  const dir = join(FUZZ, "corpus");
  const files = readdirSync(dir).filter((f) => !f.endsWith(".md") && !f.endsWith(".txt"));
  assert.ok(files.length > 0);
  for (const f of files) {
    const p = join(dir, f);
    let r: string | null;
    if (f.endsWith(".json"))
      r = (() => {
        const r = packetsFromRepro(p);
        return checkPackets(r.packets, r.profile);
      })();
    else if (f.endsWith(".rules")) r = checkRuleset(readFileSync(p, "utf8"), 4);
    else if (f.endsWith(".rules6")) r = checkRuleset(readFileSync(p, "utf8"), 6);
    else if (f.endsWith(".pcap") || f.endsWith(".pcapng")) r = checkCapture(new Uint8Array(readFileSync(p)), 1);
    else throw new Error(`fuzz/corpus/${f}: unknown kind`);
    assert.equal(r, null, `fuzz/corpus/${f}: ${r}`);
  }
});
