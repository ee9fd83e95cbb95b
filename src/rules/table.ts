/**
 * CompiledTable: one table of a loaded ruleset in the flat form that runs packets (Linux ipt_do_table /
 * ip6t_do_table over the table blob; gVisor's Table with BuiltinChains/Underflows), and its compiler.
 *
 * Layout. Every chain is a run of *slots* in one array: its rules, then a sentinel: the policy of a
 * built-in chain (whose counters are the policy counters) or the implicit RETURN at the end of a user
 * chain. Jumps and gotos hold slot indexes. Per-slot data sits in parallel arrays: kind, target kind,
 * argument (verdict or jump slot), the next slot, the IP header filter, the extension matches and target,
 * and the packet and byte counters (Float64Array: exact to 2^53).
 *
 * Index. Runs of consecutive rules that all test an exact destination address (`-d a/32`, `/128`, not
 * negated), or all an exact protocol and destination port (`-p tcp -m tcp --dport N` with only pure
 * matches before the port test), get a dispatch slot in front of them: a hash of the packet's key gives
 * the first rule of the run that can match at all, and each rule's `next` is the next rule of the run
 * with the same key. Rules of the run with another key cannot match (their IP filter or port test fails
 * without side effects), so first-match order, counters and hotdrops are exactly those of a linear walk.
 * Packets whose port cannot be read (fragments, truncated headers) walk the run linearly.
 *
 * Hot path (`run`): no allocation, no exceptions, no string keys.
 */
import type { IfaceView } from "../core/env.js";
import { Verdict } from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import { RulesetError } from "./errors.js";
import { ChainDef, INV_DSTIP, IpFilter, type Rule, type TableDef, TargetKind } from "./rule.js";
import { BUILTIN_HOOKS } from "./tables.js";

const HOOK_NAMES = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

import { TcpMatch, UdpMatch } from "./matches/tcp.js";
import type { Match, RuleEnv, Target } from "./types.js";

/** MAX_JUMP_DEPTH: nested jumps allowed (Linux nf_tables NFT_JUMP_STACK_SIZE, which iptables-nft obeys). */
export const MAX_JUMP_DEPTH = 16;

/** Slot kinds. */
export const SlotKind = { Rule: 0, Policy: 1, FallOff: 2, Dispatch: 3 } as const;

/** RuleTracer: optional observer of a table run (null when tracing is off: then it costs nothing). */
export interface RuleTracer {
  /** a rule was evaluated; `matched`: all its matches matched (its counters were incremented, its target runs next) */
  rule(table: CompiledTable, slot: number, matched: boolean): void;
  /** the policy of built-in chain `chain` decided (fell off its end, or RETURN from it) */
  policy(table: CompiledTable, chain: number, verdict: number): void;
  /** user chain `chain` ended without a verdict (implicit RETURN) */
  fallOff(table: CompiledTable, chain: number): void;
  /** the run is over: its verdict; `hotdrop` when a match dropped a packet it could not examine */
  done(table: CompiledTable, hook: number, verdict: number, hotdrop: boolean): void;
}

/** ChainInfo: a chain of a compiled table. */
export class ChainInfo {
  readonly name: string;
  /** hook of a built-in chain, -1 for user chains */
  readonly hook: number;
  /** first slot, and the slot of its sentinel (policy / implicit return) */
  start = 0;
  end = 0;
  /** number of rules (the sentinel and dispatch slots not counted) */
  ruleCount = 0;
  /** hooks from which it can be reached (1 << Hook bits) */
  hookMask = 0;
  /** number of rules that jump or go to it (iptables -L "references") */
  references = 0;
  readonly def: ChainDef;
  constructor(name: string, hook: number, def: ChainDef) {
    this.name = name;
    this.hook = hook;
    this.def = def;
  }
}

const KEY_ADDR = 0;
const KEY_PORT = 1;
const HOTDROP = -2;
const MIN_RUN = 4;

/** RunIndex: the hash of one indexed run of rules. */
class RunIndex {
  readonly keyKind: number;
  /** words per key: 1 (IPv4 address, or proto<<16|port) or 4 (IPv6 address) */
  readonly words: number;
  /** first rule slot of the run, and the slot just after it */
  readonly start: number;
  readonly end: number;
  readonly mask: number;
  readonly keys: Int32Array;
  readonly heads: Int32Array;
  constructor(keyKind: number, words: number, start: number, end: number, capacity: number) {
    this.keyKind = keyKind;
    this.words = words;
    this.start = start;
    this.end = end;
    this.mask = capacity - 1;
    this.keys = new Int32Array(capacity * words);
    this.heads = new Int32Array(capacity).fill(-1);
  }
}

function hashWords(a: ArrayLike<number>, off: number, words: number): number {
  let h = Math.imul(a[off]! ^ 0x5bd1e995, 0x9e3779b1);
  for (let i = 1; i < words; i++) h = Math.imul(h ^ a[off + i]!, 0x85ebca6b) ^ (h >>> 13);
  h ^= h >>> 16;
  return h;
}

const TRIVIAL_IPF = new IpFilter();
TRIVIAL_IPF.finish();
const NO_MATCHES: Match[] = [];
const keyScratch = new Int32Array(4);

/** CompiledTable: see the module comment. */
export class CompiledTable {
  readonly name: string;
  readonly id: number;
  readonly family: number;
  readonly chains: ChainInfo[] = [];
  /** slot of the first rule of the built-in chain at each hook, -1 when the table has none there */
  readonly hookEntry: Int32Array = new Int32Array(5).fill(-1);
  /** slot of the policy sentinel of the built-in chain at each hook */
  readonly underflow: Int32Array = new Int32Array(5).fill(-1);
  // per slot
  kind: Uint8Array = new Uint8Array(0);
  tkind: Uint8Array = new Uint8Array(0);
  arg: Int32Array = new Int32Array(0);
  next: Int32Array = new Int32Array(0);
  chainOf: Int32Array = new Int32Array(0);
  ruleNum: Int32Array = new Int32Array(0);
  ipfTrivial: Uint8Array = new Uint8Array(0);
  ipf: IpFilter[] = [];
  matches: Match[][] = [];
  targets: (Target | null)[] = [];
  rules: (Rule | null)[] = [];
  /** run index of a dispatch slot, -1 otherwise */
  runOf: Int32Array = new Int32Array(0);
  readonly runs: RunIndex[] = [];
  /**
   * counters per slot (rules and policies), interleaved: [2*slot] packets, [2*slot+1] bytes (one cache
   * line per rule). Read them with pcnt()/bcnt().
   */
  counters: Float64Array = new Float64Array(0);
  /**
   * hot per-slot data packed for the run loop: [3*slot] = kind | targetKind << 4 | trivialIpFilter << 8,
   * [3*slot+1] = arg (verdict or jump slot), [3*slot+2] = next slot
   */
  meta: Int32Array = new Int32Array(0);
  /** the matches run at packet time (a rule's matches without those that always match, like comment) */
  evalMatches: Match[][] = [];
  private readonly stacks: Int32Array[] = [new Int32Array(MAX_JUMP_DEPTH + 1)];
  private level = 0;

  constructor(name: string, id: number, family: number) {
    this.name = name;
    this.id = id;
    this.family = family;
  }

  /** slotCount: number of slots. */
  get slotCount(): number {
    return this.kind.length;
  }

  /**
   * run: traverse the table from the built-in chain of `hook` (Linux ipt_do_table). Returns a Verdict
   * (Accept, Drop, or what a target returned). Accept when the table has no chain at this hook.
   * Hot path: must not allocate.
   */
  run(hook: number, skb: Skb, env: RuleEnv, tracer: RuleTracer | null = null): number {
    let i = this.hookEntry[hook]!;
    if (i < 0) return Verdict.Accept;
    env.hotdrop = false;
    const level = this.level++;
    let stack = this.stacks[level];
    if (stack === undefined) {
      // a target re-entered the rules (a packet sent from inside a run): cold path
      stack = new Int32Array(MAX_JUMP_DEPTH + 1);
      this.stacks[level] = stack;
    }
    const meta = this.meta;
    const ipf = this.ipf;
    const matches = this.evalMatches;
    const cnt = this.counters;
    const ifaces: IfaceView = env.ifaces;
    const len = skb.pi.len;
    let sp = 0;
    let verdict: number = Verdict.Drop;
    let hot = false;
    for (;;) {
      const m3 = 3 * i;
      const w = meta[m3]!;
      const k = w & 15;
      if (k === SlotKind.Rule) {
        if ((w & 0x100) === 0 && !ipf[i]!.match(skb, ifaces)) {
          if (tracer !== null) tracer.rule(this, i, false);
          i = meta[m3 + 2]!;
          continue;
        }
        const ms = matches[i]!;
        let ok = true;
        for (let m = 0; m < ms.length; m++) {
          if (!ms[m]!.match(skb, env)) {
            ok = false;
            break;
          }
        }
        if (!ok) {
          if (tracer !== null) tracer.rule(this, i, false);
          if (env.hotdrop) {
            hot = true;
            verdict = Verdict.Drop;
            break;
          }
          i = meta[m3 + 2]!;
          continue;
        }
        cnt[2 * i]! += 1;
        cnt[2 * i + 1]! += len;
        if (tracer !== null) tracer.rule(this, i, true);
        const t = (w >> 4) & 15;
        if (t === TargetKind.Verdict) {
          verdict = meta[m3 + 1]!;
          break;
        }
        if (t === TargetKind.Jump) {
          if (sp >= MAX_JUMP_DEPTH) {
            // cannot happen for a loaded ruleset (depth is checked at load); drop for safety
            verdict = Verdict.Drop;
            break;
          }
          stack[sp++] = meta[m3 + 2]!;
          i = meta[m3 + 1]!;
          continue;
        }
        if (t === TargetKind.Ext) {
          const v = this.targets[i]!.action(skb, env);
          if (v === Verdict.Continue) {
            i = meta[m3 + 2]!;
            continue;
          }
          verdict = v;
          break;
        }
        if (t === TargetKind.Goto) {
          i = meta[m3 + 1]!;
          continue;
        }
        if (t === TargetKind.None) {
          i = meta[m3 + 2]!;
          continue;
        }
        // TargetKind.Return: fall through to the return below
      } else if (k === SlotKind.Dispatch) {
        const r = this.dispatch(this.runOf[i]!, skb, env, tracer);
        if (r === HOTDROP) {
          hot = true;
          verdict = Verdict.Drop;
          break;
        }
        i = r;
        continue;
      } else if (k === SlotKind.Policy) {
        cnt[2 * i]! += 1;
        cnt[2 * i + 1]! += len;
        verdict = meta[m3 + 1]!;
        if (tracer !== null) tracer.policy(this, this.chainOf[i]!, verdict);
        break;
      } else if (tracer !== null) {
        tracer.fallOff(this, this.chainOf[i]!);
      }
      // RETURN (explicit, or the end of a user chain): back to the caller, or to the policy
      if (sp > 0) i = stack[--sp]!;
      else i = this.underflow[hook]!;
    }
    this.level = level;
    if (tracer !== null) tracer.done(this, hook, verdict, hot);
    return verdict;
  }

  /** dispatch: the first slot of run `r` that can match this packet (or the run's end), or HOTDROP. */
  private dispatch(r: number, skb: Skb, env: RuleEnv, tracer: RuleTracer | null): number {
    const run = this.runs[r]!;
    const pi = skb.pi;
    let key: ArrayLike<number>;
    if (run.keyKind === KEY_ADDR) {
      key = pi.dst;
    } else {
      const proto = pi.proto;
      const need = proto === 6 ? 20 : proto === 17 ? 8 : 0;
      if (need === 0) return run.end; // no rule of the run can pass its -p test
      const o = pi.l4Off;
      if (pi.fragOff !== 0 || pi.status !== 0 || o <= 0 || o + need > pi.off + pi.len || o + need > pi.buf.length) {
        return this.walkRun(run, skb, env, tracer);
      }
      keyScratch[0] = (proto << 16) | (pi.buf[o + 2]! << 8) | pi.buf[o + 3]!;
      key = keyScratch;
    }
    const w = run.words;
    const keys = run.keys;
    const mask = run.mask;
    let h = hashWords(key, 0, w) & mask;
    for (;;) {
      const head = run.heads[h]!;
      if (head < 0) return run.end;
      const o = h * w;
      if (
        keys[o] === key[0] &&
        (w === 1 || (keys[o + 1] === key[1] && keys[o + 2] === key[2] && keys[o + 3] === key[3]))
      ) {
        return head;
      }
      h = (h + 1) & mask;
    }
  }

  /**
   * walkRun: a port-keyed run for a packet whose port cannot be read. None of its rules can match (each
   * has a tcp/udp port test, which fails on such packets); the walk only finds out whether one of them
   * hotdrops the packet first, as a linear walk would.
   */
  private walkRun(run: RunIndex, skb: Skb, env: RuleEnv, tracer: RuleTracer | null): number {
    for (let i = run.start; i < run.end; i++) {
      if (this.ipfTrivial[i] === 0 && !this.ipf[i]!.match(skb, env.ifaces)) continue;
      const ms = this.evalMatches[i]!;
      let ok = true;
      for (let m = 0; m < ms.length; m++) {
        if (!ms[m]!.match(skb, env)) {
          ok = false;
          break;
        }
      }
      if (tracer !== null) tracer.rule(this, i, ok);
      if (env.hotdrop) return HOTDROP;
      if (ok) return i; // unreachable: the port test cannot pass here
    }
    return run.end;
  }

  /** chainIndex: index of chain `name`, -1 when absent. */
  chainIndex(name: string): number {
    for (let c = 0; c < this.chains.length; c++) if (this.chains[c]!.name === name) return c;
    return -1;
  }

  /** ruleSlot: the slot of rule `num` (1-based) of chain `chain`, -1 when out of range. */
  ruleSlot(chain: number, num: number): number {
    const c = this.chains[chain]!;
    for (let s = c.start; s < c.end; s++) if (this.kind[s] === SlotKind.Rule && this.ruleNum[s] === num) return s;
    return -1;
  }

  /** pcnt: the packet counter of a rule or policy slot. */
  pcnt(slot: number): number {
    return this.counters[2 * slot]!;
  }

  /** bcnt: the byte counter of a rule or policy slot (IP packet lengths). */
  bcnt(slot: number): number {
    return this.counters[2 * slot + 1]!;
  }

  /** resetCounters: every rule and policy counter back to 0 (iptables -Z). */
  resetCounters(): void {
    this.counters.fill(0);
  }
}

/** CompileOptions: knobs of the compiler. */
export interface CompileOptions {
  file: string;
  family: number;
  /** build the dispatch index (default true; false gives a plain linear table, for tests) */
  index?: boolean;
}

/**
 * compileTable: check a parsed table as the kernel checks it (jump targets exist, no loops, nesting at
 * most MAX_JUMP_DEPTH, each match and target allowed in its table and at the hooks that reach it) and
 * lay it out. @throws RulesetError
 */
export function compileTable(def: TableDef, opts: CompileOptions): CompiledTable {
  const t = new CompiledTable(def.name, def.id, opts.family);
  const fail: (reason: string, line: number, col: number) => never = (reason, line, col) => {
    throw new RulesetError(reason, opts.file, line, col);
  };
  // chain order: built-in chains in hook order, then user chains by name (as iptables-save lists them);
  // iptables-nft lists every built-in chain of a table that exists, declared or not
  const ordered = def.chains.slice();
  for (const h of BUILTIN_HOOKS[def.id]!) {
    if (!ordered.some((c) => c.hook === h)) ordered.push(new ChainDef(HOOK_NAMES[h]!, h, Verdict.Accept));
  }
  ordered.sort((a, b) => {
    if (a.hook >= 0 || b.hook >= 0) {
      if (a.hook < 0) return 1;
      if (b.hook < 0) return -1;
      return a.hook - b.hook;
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  const index = new Map<string, number>();
  for (const c of ordered) {
    index.set(c.name, t.chains.length);
    t.chains.push(new ChainInfo(c.name, c.hook, c));
  }
  // resolve jumps
  const edges: { to: number; rule: Rule }[][] = t.chains.map(() => []);
  for (let ci = 0; ci < t.chains.length; ci++) {
    for (const r of t.chains[ci]!.def.rules) {
      if (r.targetKind === TargetKind.Jump || r.targetKind === TargetKind.Goto) {
        const to = index.get(r.targetName);
        if (to === undefined) fail(`chain '${r.targetName}' does not exist`, r.line, r.targetCol);
        if (t.chains[to]!.hook >= 0) fail(`cannot jump to built-in chain '${r.targetName}'`, r.line, r.targetCol);
        edges[ci]!.push({ to, rule: r });
        t.chains[to]!.references++;
      }
    }
  }
  // loops: nf_tables refuses jumps that form a loop among chains reached from a built-in chain
  // (chains no built-in chain reaches are not validated, loops among them included)
  const reached = new Uint8Array(t.chains.length);
  const mark = (c: number): void => {
    if (reached[c]) return;
    reached[c] = 1;
    for (const e of edges[c]!) mark(e.to);
  };
  for (let c = 0; c < t.chains.length; c++) if (t.chains[c]!.hook >= 0) mark(c);
  const color = new Uint8Array(t.chains.length);
  const visit = (c: number): void => {
    color[c] = 1;
    for (const e of edges[c]!) {
      if (color[e.to] === 1) {
        fail(
          `jump to '${t.chains[e.to]!.name}' makes a loop (chain loops are not allowed)`,
          e.rule.line,
          e.rule.targetCol,
        );
      }
      if (color[e.to] === 0) visit(e.to);
    }
    color[c] = 2;
  };
  for (let c = 0; c < t.chains.length; c++) if (color[c] === 0 && reached[c]) visit(c);
  // reachability and nesting depth from each built-in chain
  const depthSeen = new Int32Array(t.chains.length).fill(-1);
  for (let c = 0; c < t.chains.length; c++) {
    const ch = t.chains[c]!;
    if (ch.hook < 0) continue;
    const bit = 1 << ch.hook;
    depthSeen.fill(-1);
    const walk = (x: number, depth: number, via: Rule | null): void => {
      if (depth >= MAX_JUMP_DEPTH && via !== null) {
        fail(`jumps nest deeper than ${MAX_JUMP_DEPTH} chains from ${ch.name}`, via.line, via.targetCol);
      }
      t.chains[x]!.hookMask |= bit;
      if (depthSeen[x]! >= depth) return;
      depthSeen[x] = depth;
      for (const e of edges[x]!) walk(e.to, depth + 1, e.rule);
    };
    walk(c, 0, null);
  }
  // extension checks against the table and the hooks that reach each chain
  for (const ch of t.chains) {
    for (const r of ch.def.rules) {
      const ctx = { family: opts.family, table: def.name, hookMask: ch.hookMask };
      for (let m = 0; m < r.matches.length; m++) {
        const e = r.matches[m]!.check(ctx);
        if (e !== null) fail(e, r.line, r.matchCols[m]!);
      }
      if (r.target !== null) {
        const e = r.target.check(ctx);
        if (e !== null) fail(e, r.line, r.targetCol);
      }
    }
  }
  layout(t, opts.index ?? true);
  return t;
}

interface RunPlan {
  keyKind: number;
  from: number;
  to: number;
}

/** keyKindOf: how a rule can be indexed: KEY_ADDR, KEY_PORT or -1. */
function keyKindOf(r: Rule): number {
  const f = r.ipf;
  const full = f.family === 4 ? 1 : 4;
  if (f.needDst && (f.inv & INV_DSTIP) === 0) {
    let all = true;
    for (let i = 0; i < full; i++) if (f.dstMask[i] !== -1) all = false;
    if (all) return KEY_ADDR;
  }
  if ((f.proto === 6 || f.proto === 17) && !(f.inv & 0x40)) {
    for (const m of r.matches) {
      if ((m instanceof TcpMatch || m instanceof UdpMatch) && m.protoNum === f.proto) {
        return m.exactDport >= 0 ? KEY_PORT : -1;
      }
      if (!m.pure) return -1;
    }
  }
  return -1;
}

function portKey(r: Rule): number {
  for (const m of r.matches) {
    if (m instanceof TcpMatch || m instanceof UdpMatch) return (r.ipf.proto << 16) | m.exactDport;
  }
  return -1;
}

function layout(t: CompiledTable, withIndex: boolean): void {
  // count slots: per chain, its rules, one dispatch slot per run, one sentinel
  const plans: RunPlan[][] = [];
  let total = 0;
  for (const ch of t.chains) {
    const rules = ch.def.rules;
    const runs: RunPlan[] = [];
    if (withIndex) {
      let i = 0;
      while (i < rules.length) {
        const k = keyKindOf(rules[i]!);
        let j = i + 1;
        if (k >= 0) while (j < rules.length && keyKindOf(rules[j]!) === k) j++;
        if (k >= 0 && j - i >= MIN_RUN) runs.push({ keyKind: k, from: i, to: j });
        i = j;
      }
    }
    plans.push(runs);
    total += rules.length + runs.length + 1;
  }
  t.kind = new Uint8Array(total);
  t.tkind = new Uint8Array(total);
  t.arg = new Int32Array(total);
  t.next = new Int32Array(total);
  t.chainOf = new Int32Array(total);
  t.ruleNum = new Int32Array(total);
  t.ipfTrivial = new Uint8Array(total);
  t.runOf = new Int32Array(total).fill(-1);
  t.counters = new Float64Array(2 * total);
  t.meta = new Int32Array(3 * total);
  t.evalMatches = new Array<Match[]>(total);
  t.ipf = new Array<IpFilter>(total);
  t.matches = new Array<Match[]>(total);
  t.targets = new Array<Target | null>(total);
  t.rules = new Array<Rule | null>(total);
  // first pass: slot numbers
  const ruleSlot: number[][] = [];
  let s = 0;
  for (let c = 0; c < t.chains.length; c++) {
    const ch = t.chains[c]!;
    const runs = plans[c]!;
    ch.start = s;
    const slots: number[] = [];
    let ri = 0;
    for (let i = 0; i < ch.def.rules.length; i++) {
      if (ri < runs.length && runs[ri]!.from === i) {
        s++; // dispatch slot
        ri++;
      }
      slots.push(s++);
    }
    ch.end = s++;
    ch.ruleCount = ch.def.rules.length;
    ruleSlot.push(slots);
  }
  // second pass: fill
  for (let c = 0; c < t.chains.length; c++) {
    const ch = t.chains[c]!;
    const slots = ruleSlot[c]!;
    for (let x = ch.start; x <= ch.end; x++) {
      t.chainOf[x] = c;
      t.ipf[x] = TRIVIAL_IPF;
      t.ipfTrivial[x] = 1;
      t.matches[x] = NO_MATCHES;
      t.evalMatches[x] = NO_MATCHES;
      t.targets[x] = null;
      t.rules[x] = null;
      t.next[x] = x + 1;
    }
    for (let i = 0; i < ch.def.rules.length; i++) {
      const r = ch.def.rules[i]!;
      const x = slots[i]!;
      t.kind[x] = SlotKind.Rule;
      t.ruleNum[x] = i + 1;
      t.ipf[x] = r.ipf;
      t.ipfTrivial[x] = r.ipf.trivial ? 1 : 0;
      t.matches[x] = r.matches.length === 0 ? NO_MATCHES : r.matches;
      // matches that always match (comment) need no call at packet time
      const live = r.matches.filter((m) => !m.alwaysMatches);
      t.evalMatches[x] = live.length === 0 ? NO_MATCHES : live;
      t.targets[x] = r.target;
      t.rules[x] = r;
      t.tkind[x] = r.targetKind;
      t.counters[2 * x] = r.pcnt;
      t.counters[2 * x + 1] = r.bcnt;
      if (r.targetKind === TargetKind.Verdict) t.arg[x] = r.verdict;
      else if (r.targetKind === TargetKind.Jump || r.targetKind === TargetKind.Goto) {
        t.arg[x] = t.chains[t.chainIndex(r.targetName)]!.start;
      }
    }
    // sentinel
    const e = ch.end;
    if (ch.hook >= 0) {
      t.kind[e] = SlotKind.Policy;
      t.arg[e] = ch.def.policy;
      t.counters[2 * e] = ch.def.pcnt;
      t.counters[2 * e + 1] = ch.def.bcnt;
      t.hookEntry[ch.hook] = ch.start;
      t.underflow[ch.hook] = e;
    } else {
      t.kind[e] = SlotKind.FallOff;
    }
    // runs
    for (const plan of plans[c]!) {
      const first = slots[plan.from]!;
      const disp = first - 1;
      // the slot after the run's last rule: the next rule, the next run's dispatch slot, or the sentinel
      const end = slots[plan.to - 1]! + 1;
      const words = plan.keyKind === KEY_ADDR && t.family === 6 ? 4 : 1;
      const keysOf = (r: Rule): number[] =>
        plan.keyKind === KEY_ADDR ? Array.from(r.ipf.dst.subarray(0, words)) : [portKey(r)];
      const distinct = new Map<string, number[]>();
      for (let i = plan.from; i < plan.to; i++) {
        const k = keysOf(ch.def.rules[i]!);
        const ks = k.join(",");
        let list = distinct.get(ks);
        if (list === undefined) {
          list = [];
          distinct.set(ks, list);
        }
        list.push(slots[i]!);
      }
      let cap = 8;
      while (cap < distinct.size * 2) cap *= 2;
      const run = new RunIndex(plan.keyKind, words, first, end, cap);
      for (const [ks, list] of distinct) {
        const k = ks.split(",").map(Number);
        let h = hashWords(k, 0, words) & run.mask;
        while (run.heads[h]! >= 0) h = (h + 1) & run.mask;
        for (let w = 0; w < words; w++) run.keys[h * words + w] = k[w]!;
        run.heads[h] = list[0]!;
        for (let q = 0; q < list.length; q++) t.next[list[q]!] = q + 1 < list.length ? list[q + 1]! : end;
      }
      t.kind[disp] = SlotKind.Dispatch;
      t.runOf[disp] = t.runs.length;
      t.runs.push(run);
    }
  }
  // the packed hot copy of kind, target kind, trivial filter, arg and next
  for (let x = 0; x < total; x++) {
    t.meta[3 * x] = t.kind[x]! | (t.tkind[x]! << 4) | (t.ipfTrivial[x]! << 8);
    t.meta[3 * x + 1] = t.arg[x]!;
    t.meta[3 * x + 2] = t.next[x]!;
  }
}
