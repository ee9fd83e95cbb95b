/**
 * Rulesets whose chains form long, deep, looping or wide jump graphs: refused at load as the kernel
 * refuses them (loops, nesting deeper than 16), with the line and column of the offending jump, and never
 * with a JavaScript error, however many chains there are.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RulesetError } from "../../src/rules/errors.js";
import { loadRuleset } from "../../src/rules/ruleset.js";

function chainOfChains(n: number, loopBack: boolean): string {
  let t = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
  for (let i = 0; i < n; i++) t += `:C${i} - [0:0]\n`;
  t += "-A FORWARD -j C0\n";
  for (let i = 0; i + 1 < n; i++) t += `-A C${i} -j C${i + 1}\n`;
  if (loopBack) t += `-A C${n - 1} -j C0\n`;
  return `${t}COMMIT\n`;
}

test("20,000 chains jumping one into the next: refused for depth, not a stack overflow", () => {
  const n = 20000;
  assert.throws(
    () => loadRuleset(chainOfChains(n, false), { file: "deep.rules", family: 4 }),
    (e: unknown) => {
      assert.ok(e instanceof RulesetError, String(e));
      assert.equal(e.message, `deep.rules:${n + 20}:11: jumps nest deeper than 16 chains from FORWARD`);
      return true;
    },
  );
});

test("20,000 chains in one loop: refused for the loop, at the jump that closes it", () => {
  const n = 20000;
  assert.throws(
    () => loadRuleset(chainOfChains(n, true), { file: "loop.rules", family: 4 }),
    (e: unknown) => {
      assert.ok(e instanceof RulesetError, String(e));
      assert.equal(e.message, `loop.rules:${2 * n + 5}:14: jump to 'C0' makes a loop (chain loops are not allowed)`);
      return true;
    },
  );
});

test("unreachable long chains are not judged (as nf_tables), reachable ones of depth 16 load", () => {
  // 5,000 chains nobody jumps into, chained among themselves: loaded (iptables-nft validates from the
  // base chains only)
  let t = "*filter\n:INPUT ACCEPT [0:0]\n";
  for (let i = 0; i < 5000; i++) t += `:U${i} - [0:0]\n`;
  for (let i = 0; i + 1 < 5000; i++) t += `-A U${i} -j U${i + 1}\n`;
  t += "COMMIT\n";
  assert.doesNotThrow(() => loadRuleset(t, { file: "unreached.rules", family: 4 }));
  // a fan-out: every chain jumps to every later one among 40 (a dense DAG, nesting 40 deep): refused fast
  let d = "*filter\n:INPUT ACCEPT [0:0]\n";
  for (let i = 0; i < 40; i++) d += `:D${i} - [0:0]\n`;
  d += "-A INPUT -j D0\n";
  for (let i = 0; i < 40; i++) for (let j = i + 1; j < 40; j++) d += `-A D${i} -j D${j}\n`;
  d += "COMMIT\n";
  const t0 = performance.now();
  assert.throws(() => loadRuleset(d, { file: "dense.rules", family: 4 }), /jumps nest deeper than 16 chains/);
  assert.ok(performance.now() - t0 < 2000, "the depth check does not explode on dense graphs");
});
