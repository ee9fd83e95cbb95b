/**
 * Names that are also properties of every JavaScript object ("constructor", "toString", "__proto__",
 * ...) are ordinary names to iptables: user chains may have them, and they are not services or
 * verdicts. Checked against iptables-restore 1.8.9 (nf_tables), which loads the first ruleset below and
 * refuses `--dport constructor` with "invalid port/service `constructor' specified".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadRuleset } from "../../src/rules/ruleset.js";

const NAMES = ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"];

test("user chains named like Object.prototype properties load, jump and goto", () => {
  let text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
  for (const n of NAMES) text += `:${n} - [0:0]\n`;
  for (const n of NAMES) text += `-A INPUT -j ${n}\n-A FORWARD -g ${n}\n-A ${n} -j RETURN\n`;
  text += "COMMIT\n";
  const rs = loadRuleset(text, { file: "names.rules", family: 4 });
  const saved = rs.save();
  for (const n of NAMES) {
    assert.match(saved, new RegExp(`^:${n} - \\[0:0\\]$`, "m"));
    assert.match(saved, new RegExp(`-A INPUT -j ${n}$`, "m"));
    assert.match(saved, new RegExp(`-A FORWARD -g ${n}$`, "m"));
  }
});

test("a port named like an Object.prototype property is not a service", () => {
  for (const n of NAMES) {
    const text = `*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport ${n} -j ACCEPT\nCOMMIT\n`;
    assert.throws(
      () => loadRuleset(text, { file: "port.rules", family: 4 }),
      new RegExp(`^RulesetError: port\\.rules:3:\\d+: invalid port/service \`${n}' specified$`),
    );
  }
});
