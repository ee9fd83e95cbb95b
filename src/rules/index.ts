/**
 * ctnat rules engine: load iptables-save / ip6tables-save text, run packets through its tables at the
 * netfilter hooks with Linux's semantics and counters, and print it back as iptables-save -c and
 * iptables -L -v -n -x do.
 *
 *   const rs = loadRuleset(text, { file: "rules.v4", family: 4 });
 *   const env = new RuleEnv(ctView, ifaceView, addrTypeView, targetEnv);
 *   const verdict = rs.run(TableId.Filter, Hook.Forward, skb, env);
 *   rs.save();                    // iptables-save -c
 *   rs.list("filter", { lineNumbers: true });   // iptables -L -v -n -x --line-numbers
 */

export type { AddrTypeView } from "./env.js";
export { ADDRTYPE, ADDRTYPE_NAMES } from "./env.js";
// errors
export { isRulesetError, isUnsupportedError, RulesetError, UnsupportedError } from "./errors.js";
// printing
export type { ListOptions, SaveOptions } from "./output.js";
export { listTable, ruleSaveText, saveTable } from "./output.js";
export type { LoadOptions } from "./parse.js";
// loaded model (for tracing and tools)
export { ChainDef, IpFilter, Rule, TableDef, TargetKind } from "./rule.js";
// loading and running
export type { RulesetOptions } from "./ruleset.js";
export { emptyRuleset, loadRuleset, Ruleset } from "./ruleset.js";
export type { RuleTracer } from "./table.js";
export { ChainInfo, CompiledTable, MAX_JUMP_DEPTH, SlotKind } from "./table.js";
export { TABLE_NAMES, TableId } from "./tables.js";
export type { CheckCtx, OptDef, ParseCtx } from "./types.js";
// the packet-time services extensions use
export { Match, RuleEnv, Target } from "./types.js";
