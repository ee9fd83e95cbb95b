/**
 * The limit match against the kernel: test/fixtures/rulesets/limit/*.json record which of a series of
 * packets, sent at measured times, the real `-m limit` (iptables 1.8.9, so nf_tables' limit
 * expression) let through (record.py there). ctnat must let the same ones through at the same times.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Hook, Verdict } from "../core/netfilter.js";
import { loadRuleset, TableId } from "./index.js";
import { makeEnv, makeSkb } from "./testdata/fakes.js";

const DIR = fileURLToPath(new URL("../../test/fixtures/rulesets/limit/", import.meta.url));

for (const f of readdirSync(DIR).filter((x) => x.endsWith(".json"))) {
  test(`limit like the kernel: ${f}`, () => {
    const rec = JSON.parse(readFileSync(DIR + f, "utf8")) as { rule: string; sent: number[]; passed: number[] };
    const rs = loadRuleset(
      `*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -p udp --dport 9999 ${rec.rule} -j ACCEPT\n-A INPUT -i lo -p udp --dport 9999 -j DROP\nCOMMIT\n`,
    );
    const e = makeEnv();
    const passed: number[] = [];
    rec.sent.forEach((t, i) => {
      const skb = makeSkb(
        { src: "127.0.0.1", dst: "127.0.0.1", udp: { sport: 40000, dport: 9999 } },
        { inIf: 0, now: 1000 + t },
      );
      if (rs.run(TableId.Filter, Hook.Input, skb, e.env) === Verdict.Accept) passed.push(i);
    });
    assert.deepEqual(passed, rec.passed);
  });
}
