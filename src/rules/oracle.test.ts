/**
 * The loader and printers against the real iptables: every case under
 * test/fixtures/rulesets/oracle/cases was loaded with `iptables-restore -c` on the reference machine
 * (iptables 1.8.9, nf_tables backend) and its `iptables-save -c` and `iptables -L -v -n -x
 * --line-numbers` output recorded (record.sh there). ctnat must print the same, and must refuse every
 * input under bad/ that iptables refused.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { isRulesetError, loadRuleset } from "./index.js";
import { parseIpsets } from "./ipset/parse.js";
import { XtState } from "./xt-state.js";

const DIR = fileURLToPath(new URL("../../test/fixtures/rulesets/oracle/", import.meta.url));

function cases(sub: string): string[] {
  return readdirSync(DIR + sub)
    .filter((f) => f.endsWith(".rules") || f.endsWith(".rules6"))
    .sort();
}

const family = (f: string): number => (f.endsWith(".rules6") ? 6 : 4);
const base = (f: string): string => f.replace(/\.rules6?$/, "");
/** the case's IP sets (NAME.ipset beside it, restored with ipset before the rules were) */
function xtFor(sub: string, f: string): XtState {
  const p = `${DIR}${sub}/${base(f)}.ipset`;
  return new XtState(existsSync(p) ? parseIpsets(readFileSync(p, "utf8"), `${base(f)}.ipset`) : undefined);
}

for (const f of cases("cases")) {
  const text = readFileSync(`${DIR}cases/${f}`, "utf8");
  const save = readFileSync(`${DIR}cases/${base(f)}.save`, "utf8");
  const list = readFileSync(`${DIR}cases/${base(f)}.list`, "utf8");

  test(`oracle ${f}: iptables-save -c`, () => {
    const rs = loadRuleset(text, { file: f, family: family(f), counters: true, xt: xtFor("cases", f) });
    assert.equal(rs.save(), save);
  });

  test(`oracle ${f}: iptables -L -v -n -x --line-numbers`, () => {
    const rs = loadRuleset(text, { file: f, family: family(f), counters: true, xt: xtFor("cases", f) });
    let out = "";
    for (const line of save.split("\n")) if (line.startsWith("*")) out += rs.list(line.slice(1), { lineNumbers: true });
    assert.equal(out, list);
  });

  test(`oracle ${f}: the saved text loads back to itself`, () => {
    const rs = loadRuleset(save, { file: `${base(f)}.save`, family: family(f), counters: true, xt: xtFor("cases", f) });
    assert.equal(rs.save(), save);
    // and without the index, the same text
    assert.equal(loadRuleset(save, { family: family(f), index: false, xt: xtFor("cases", f) }).save(), save);
  });
}

for (const f of cases("bad")) {
  test(`oracle bad/${f}: refused as iptables-restore refused it`, () => {
    const text = readFileSync(`${DIR}bad/${f}`, "utf8");
    assert.throws(
      () => loadRuleset(text, { file: f, family: family(f), xt: xtFor("bad", f) }),
      (e: unknown) => {
        assert.ok(isRulesetError(e), String(e));
        assert.match(e.message, new RegExp(`^${f.replace(/\./g, "\\.")}:\\d+:\\d+: `));
        assert.ok(!e.message.includes("\n"));
        return true;
      },
    );
  });
}
