/**
 * Ruleset: a loaded and compiled iptables-save (or ip6tables-save) text: up to five tables, each run at
 * the hooks where it has built-in chains. The public face of the rules engine.
 */
import { Verdict } from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import { ConnlimitMatch } from "./matches/connlimit.js";
import { LimitMatch, StatisticMatch } from "./matches/statistic.js";
import { type ListOptions, listTable, type SaveOptions, saveTable } from "./output.js";
import { type LoadOptions, parseRuleset } from "./parse.js";
import { type CompiledTable, compileTable, type RuleTracer } from "./table.js";
import { SAVE_ORDER, TABLE_NAMES } from "./tables.js";
import type { RuleEnv } from "./types.js";
import { XtState } from "./xt-state.js";

/** RulesetOptions: LoadOptions plus compiler knobs. */
export interface RulesetOptions extends LoadOptions {
  /** build the exact-match dispatch index (default true) */
  index?: boolean;
}

export class Ruleset {
  readonly family: number;
  /** compiled tables by TableId; null when the text has no such table */
  readonly tables: (CompiledTable | null)[];
  /** the shared extension state the rules refer to (IP sets, recent and hashlimit tables, nfacct) */
  readonly xt: XtState;
  constructor(family: number, tables: (CompiledTable | null)[], xt: XtState = new XtState()) {
    this.family = family;
    this.tables = tables;
    this.xt = xt;
  }

  /**
   * run: traverse table `tableId` at `hook` for `skb` (Linux ipt_do_table). Returns a Verdict; Accept when
   * the table is absent or has no chain at that hook. Hot path: no allocation.
   */
  run(tableId: number, hook: number, skb: Skb, env: RuleEnv, tracer: RuleTracer | null = null): number {
    const t = this.tables[tableId];
    if (t == null) return Verdict.Accept;
    return t.run(hook, skb, env, tracer);
  }

  /** hasChain: the table exists and has a built-in chain at `hook`. */
  hasChain(tableId: number, hook: number): boolean {
    const t = this.tables[tableId];
    return t != null && t.hookEntry[hook]! >= 0;
  }

  /** table: a compiled table by name, or null. */
  table(name: string): CompiledTable | null {
    const id = TABLE_NAMES.indexOf(name);
    return id < 0 ? null : (this.tables[id] ?? null);
  }

  /** save: the whole ruleset as `iptables-save -c` prints it (tables in iptables-nft's order). */
  save(opts: SaveOptions = {}): string {
    let out = "";
    for (const id of SAVE_ORDER) {
      const t = this.tables[id];
      if (t != null) out += saveTable(t, opts);
    }
    return out;
  }

  /** list: `iptables -L -v -n -x [--line-numbers] -t <table>` for one table ("" when absent). */
  list(tableName: string, opts: ListOptions = {}): string {
    const t = this.table(tableName);
    return t === null ? "" : listTable(t, opts);
  }

  /** resetCounters: zero every counter (iptables -Z). */
  resetCounters(): void {
    for (const t of this.tables) t?.resetCounters();
  }

  /**
   * resetState: counters to zero and per-rule state (limit buckets, nth counters) as just loaded, and the
   * shared recent / hashlimit tables and nfacct counters emptied (IP sets are left as they are).
   */
  resetState(): void {
    this.resetCounters();
    this.xt.reset();
    for (const t of this.tables) {
      if (t == null) continue;
      for (const ms of t.matches) {
        for (const m of ms) {
          if (m instanceof LimitMatch || m instanceof StatisticMatch || m instanceof ConnlimitMatch) m.resetState();
        }
      }
    }
  }
}

/**
 * loadRuleset: parse, check and compile an iptables-save text. @throws RulesetError (UnsupportedError
 * for features ctnat does not implement), with file, line and column.
 */
export function loadRuleset(text: string, opts: RulesetOptions = {}): Ruleset {
  const parsed = parseRuleset(text, opts);
  const tables: (CompiledTable | null)[] = [null, null, null, null, null];
  for (let id = 0; id < parsed.tables.length; id++) {
    const def = parsed.tables[id];
    if (def === undefined) continue;
    tables[id] = compileTable(def, { file: parsed.file, family: parsed.family, index: opts.index ?? true });
  }
  return new Ruleset(parsed.family, tables, parsed.xt);
}

/** emptyRuleset: no tables (every hook accepts), as the replay uses when no ruleset is given. */
export function emptyRuleset(family: number, xt: XtState = new XtState()): Ruleset {
  return new Ruleset(family, [null, null, null, null, null], xt);
}
