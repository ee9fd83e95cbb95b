/**
 * `ctnat rules check|save|list`: load an iptables-save / ip6tables-save ruleset as iptables-restore would
 * (every check iptables makes at load, with file, line and column), then print it back: `save` exactly
 * as `iptables-save` prints it, `list` as `iptables -L -v -n -x`. For firewall generators: check the
 * rules you generate in CI without root.
 */
import { readFileSync } from "node:fs";
import { InputError } from "../core/errors.js";
import { parseIpsets } from "../rules/ipset/parse.js";
import { loadRuleset, type Ruleset } from "../rules/ruleset.js";
import { TABLE_NAMES } from "../rules/tables.js";
import { XtState } from "../rules/xt-state.js";

export interface RulesCliOptions {
  rules?: string;
  rules6?: string;
  ipsets?: string;
  table?: string;
  lineNumbers?: boolean;
  counters?: boolean;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
}

function load(o: RulesCliOptions): { family: 4 | 6; file: string; rs: Ruleset }[] {
  if (!o.rules && !o.rules6) throw new InputError("rules: give --rules FILE and/or --rules6 FILE");
  const xt = new XtState(o.ipsets ? parseIpsets(readText(o.ipsets, "IP sets"), o.ipsets) : undefined);
  const out: { family: 4 | 6; file: string; rs: Ruleset }[] = [];
  if (o.rules)
    out.push({
      family: 4,
      file: o.rules,
      rs: loadRuleset(readText(o.rules, "IPv4 ruleset"), { file: o.rules, family: 4, xt }),
    });
  if (o.rules6) {
    out.push({
      family: 6,
      file: o.rules6,
      rs: loadRuleset(readText(o.rules6, "IPv6 ruleset"), { file: o.rules6, family: 6, xt }),
    });
  }
  return out;
}

/** check: load and report what was loaded (one line per ruleset). */
export function rulesCheck(o: RulesCliOptions): string {
  let text = "";
  for (const { file, rs } of load(o)) {
    const parts: string[] = [];
    let rules = 0;
    for (const t of rs.tables) {
      if (t == null) continue;
      let n = 0;
      for (const c of t.chains) n += c.ruleCount;
      rules += n;
      parts.push(`${t.name} ${t.chains.length} chains ${n} rules`);
    }
    text += `${file}: ok (${rules} rules: ${parts.join(", ") || "no tables"})\n`;
  }
  return text;
}

/** save: the rulesets as iptables-save / ip6tables-save print them (with counters when asked). */
export function rulesSave(o: RulesCliOptions): string {
  return load(o)
    .map(({ rs }) => rs.save({ counters: o.counters ?? false }))
    .join("");
}

/** list: `iptables -L -v -n -x [--line-numbers]` of one table (default filter). */
export function rulesList(o: RulesCliOptions): string {
  const table = o.table ?? "filter";
  if (!TABLE_NAMES.includes(table))
    throw new InputError(`-t: no table ${JSON.stringify(table)} (${TABLE_NAMES.join(", ")})`);
  return load(o)
    .map(({ rs, file }) => {
      const l = rs.list(table, { lineNumbers: o.lineNumbers ?? false });
      return l === "" ? `# ${file}: no ${table} table\n` : l;
    })
    .join("\n");
}
