/**
 * The extension contract of the rules engine: every match (`-m name`) and target (`-j NAME`) is a class
 * with load-time parsing and checking, a packet-time `match()` / `action()`, and printers that give back
 * exactly what iptables-save and `iptables -L -n` print (corresponds to Linux xt_match / xt_target with
 * their checkentry functions, and to the libxt_* extensions of iptables).
 *
 * One instance per rule: an extension keeps its per-rule state (limit's token bucket, statistic's nth
 * counter) in its own fields, as Linux keeps it behind the match's `master` pointer.
 */
import type { CtView, IfaceView, TargetEnv } from "../core/env.js";
import type { Skb } from "../core/skb.js";
import { Tuple } from "../core/tuple.js";
import type { AddrTypeView } from "./env.js";
import type { XtState } from "./xt-state.js";

/** OptDef: one long option of an extension: `--name`, whether it takes an argument, may be negated. */
export interface OptDef {
  readonly name: string;
  readonly arg: boolean;
  readonly inv: boolean;
}

/** opt: shorthand to declare an OptDef. */
export function opt(name: string, arg = true, inv = false): OptDef {
  return { name, arg, inv };
}

/** ParseCtx: what an extension sees of the rule being loaded, and how it reports errors. */
export interface ParseCtx {
  /** 4 (iptables) or 6 (ip6tables) */
  readonly family: number;
  /** table name (raw, mangle, nat, filter, security) */
  readonly table: string;
  readonly chain: string;
  /** -p protocol of the rule (0 = any) and whether it is negated */
  readonly proto: number;
  readonly protoInv: boolean;
  /** throw a RulesetError at the current option */
  fail(reason: string): never;
  /** throw a RulesetError at the current option's argument */
  failArg(reason: string): never;
  /** throw an UnsupportedError at the current option */
  unsupported(feature: string, reason: string): never;
  /** take the next word of the line as a further argument (like --tcp-flags' second one) */
  nextArg(what: string): string;
  /** the namespace's shared extension state: IP sets, recent and hashlimit tables, nfacct objects */
  readonly xt: XtState;
}

/** HookMask bits: 1 << Hook. */
export const HOOK_PRE = 1 << 0;
export const HOOK_IN = 1 << 1;
export const HOOK_FWD = 1 << 2;
export const HOOK_OUT = 1 << 3;
export const HOOK_POST = 1 << 4;
export const HOOK_ALL = 31;

/**
 * RuleEnv: the packet-time services a table run gives to matches and targets, plus the hotdrop flag
 * (Linux xt_action_param.hotdrop). One per gateway; reused for every packet.
 */
export class RuleEnv {
  ct: CtView;
  ifaces: IfaceView;
  addrType: AddrTypeView;
  target: TargetEnv;
  /** set by a match that needs a header the packet lacks: the packet is dropped (Linux hotdrop) */
  hotdrop = false;
  /** kernel tick rate for the limit match (Linux CONFIG_HZ; 250 on the reference machine) */
  hz = 250;
  /** scratch tuple for matches that read conntrack tuples (never kept) */
  readonly tuple: Tuple = new Tuple();
  /**
   * a buffer of the rules engine's for a packet that must grow (TCPMSS adding an option): the packet is
   * copied here and its PacketInfo re-pointed; allocated the first time it is needed
   */
  growBuf: Uint8Array = new Uint8Array(0);
  constructor(ct: CtView, ifaces: IfaceView, addrType: AddrTypeView, target: TargetEnv) {
    this.ct = ct;
    this.ifaces = ifaces;
    this.addrType = addrType;
    this.target = target;
  }

  /** scratchFor: growBuf, at least `len` bytes long (cold path: allocates once). */
  scratchFor(len: number): Uint8Array {
    if (this.growBuf.length < len) this.growBuf = new Uint8Array(Math.max(len, 65535 + 64));
    return this.growBuf;
  }
}

/** CheckCtx: what the kernel-side checks of an extension see: where the rule sits. */
export interface CheckCtx {
  readonly family: number;
  readonly table: string;
  /** hooks from which the rule's chain can be reached (1 << Hook bits) */
  readonly hookMask: number;
}

/** Match: one `-m name` of a rule. */
export abstract class Match {
  /** extension name as printed after `-m` */
  abstract readonly name: string;
  /** its long options (without the leading `--`) */
  abstract readonly opts: readonly OptDef[];
  readonly family: number;
  /**
   * the match has no side effect and never hotdrops, so skipping it cannot change anything (the
   * rule index relies on this for matches placed before a keyed port match)
   */
  pure = true;
  /** the match holds for every packet (comment): the run loop need not call it */
  alwaysMatches = false;
  constructor(family: number) {
    this.family = family;
  }
  /** parse one option; `arg` is "" for options without argument */
  abstract parse(opt: string, arg: string, inv: boolean, p: ParseCtx): void;
  /** after the last option of the rule (iptables final_check): mandatory options, combinations */
  finalCheck(_p: ParseCtx): void {}
  /** kernel checkentry: table and hooks; return an error reason or null */
  check(_c: CheckCtx): string | null {
    return null;
  }
  /** packet time: does the packet match? May set env.hotdrop. Must not allocate. */
  abstract match(skb: Skb, env: RuleEnv): boolean;
  /** the text iptables-save prints after `-m name` (leading space included, "" when nothing) */
  abstract save(): string;
  /** the text `iptables -L -n` prints for it (leading space included) */
  abstract print(): string;
}

/** Target: a `-j NAME` extension target (the standard verdicts and jumps are not Targets). */
export abstract class Target {
  abstract readonly name: string;
  abstract readonly opts: readonly OptDef[];
  readonly family: number;
  constructor(family: number) {
    this.family = family;
  }
  /** the name `iptables -L` shows in the target column (the kernel's name; NOTRACK is CT) */
  get listName(): string {
    return this.name;
  }
  abstract parse(opt: string, arg: string, inv: boolean, p: ParseCtx): void;
  finalCheck(_p: ParseCtx): void {}
  /** kernel checkentry: table and hooks; return an error reason or null */
  check(_c: CheckCtx): string | null {
    return null;
  }
  /** packet time: act and return a Verdict (Verdict.Continue to go on with the next rule) */
  abstract action(skb: Skb, env: RuleEnv): number;
  /** the text iptables-save prints after `-j NAME` (leading space included) */
  abstract save(): string;
  /** the text `iptables -L -n` prints for it */
  abstract print(): string;
}

/** hookCheck: the common checkentry: a table name and allowed hooks; null when fine. */
export function hookCheck(c: CheckCtx, what: string, table: string | null, hooks: number): string | null {
  if (table !== null && c.table !== table) return `${what}: only valid in the ${table} table`;
  if (hooks !== 0 && (c.hookMask & ~hooks) !== 0) {
    const names: string[] = [];
    const all = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];
    for (let h = 0; h < 5; h++) if (hooks & (1 << h)) names.push(all[h]!);
    const bad: string[] = [];
    for (let h = 0; h < 5; h++) if (c.hookMask & ~hooks & (1 << h)) bad.push(all[h]!);
    return `${what}: only valid in ${names.join("/")}, but reached from ${bad.join("/")}`;
  }
  return null;
}
