/**
 * CompiledTable: one table of a loaded ruleset in the flat form that runs packets (Linux ipt_do_table /
 * ip6t_do_table over the table blob; gVisor's Table with BuiltinChains/Underflows), and its compiler.
 *
 * Layout. Every chain is a run of *slots* in one array: its rules, then a sentinel: the policy of a
 * built-in chain (whose counters are the policy counters) or the implicit RETURN at the end of a user
 * chain. Jumps and gotos hold slot indexes. Per-slot data sits in parallel arrays: kind, target kind,
 * argument (verdict or jump slot), the next slot, the IP header filter, the extension matches and target,
 * and the packet and byte counters (pairs of unsigned 32-bit words, low then high: exact to 2^64).
 *
 * Index. Runs of consecutive rules that all test an exact destination address (`-d a/32`, `/128`, not
 * negated), or all an exact protocol and destination port (`-p tcp -m tcp --dport N` with only pure
 * matches before the port test), get a dispatch slot in front of them: a hash of the packet's key gives
 * the first rule of the run that can match at all, and each rule's `next` is the next rule of the run
 * with the same key. Rules of the run with another key cannot match (their IP filter or port test fails
 * without side effects), so first-match order, counters and hotdrops are exactly those of a linear walk.
 * Port runs hold only native port tests (see matches/tcp.ts), which no packet without a readable port
 * (fragments, truncated headers) passes, and which drop nothing: such packets skip the whole run.
 *
 * Hot path (`run`): no allocation, no exceptions, no string keys.
 */
import type { IfaceView } from "../core/env.js";
import { CtInfo, CtState, Verdict } from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import { RulesetError } from "./errors.js";
import {
  ChainDef,
  INV_DSTIP,
  INV_FRAG,
  INV_PROTO,
  INV_SRCIP,
  IpFilter,
  type Rule,
  type TableDef,
  TargetKind,
} from "./rule.js";
import { BUILTIN_HOOKS } from "./tables.js";

const HOOK_NAMES = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

import { ConntrackMatch } from "./matches/conntrack.js";
import { StatisticMatch } from "./matches/statistic.js";
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

/** words per slot in CompiledTable.meta */
export const META_STRIDE = 16;
// meta word offsets
const M_W = 0;
/** meta word 0: the rule has match objects to call (evalMatches is not empty) */
const W_MATCHES = 1 << 8;
const M_ARG = 1;
const M_NEXT = 2;
const M_IPF = 3;
const M_PORTS = 8;
const M_SPT = 9;
const M_DPT = 10;
const M_PKTS = 12;
const M_BYTES = 14;
// inline port test flags (meta word 8)
const P_SPT = 1;
const P_DPT = 2;
const P_SPT_INV = 4;
const P_DPT_INV = 8;
/** a bare `-m tcp`/`-m udp` run through x_tables: checks only that the header is there */
const P_XT = 16;
const P_TCP = 32;
/** an inline `statistic --mode random` test follows the port test (meta word 11 = threshold) */
const P_RANDOM = 64;
const P_RANDOM_INV = 128;
const M_RANDOM = 11;
/**
 * an inline `-m conntrack --ctstate` / `-m state --state` test (only ctinfo-derived bits) follows the
 * port test, before the random one; the state mask sits in bits 16-26 of meta word 8
 */
const P_CTSTATE = 256;
const P_CTSTATE_INV = 512;
// inline filter flags (meta word 3)
const F_SRC = 1;
const F_DST = 2;
const F_PROTO = 4;
const F_FRAG = 8;
/** the filter needs the IpFilter object (interfaces, IPv6) */
const F_OBJ = 16;

const KEY_ADDR = 0;
const KEY_PORT = 1;
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
  /** per bucket: the first rule slot with the key (-1: empty bucket), then the key words */
  readonly table: Int32Array;
  constructor(keyKind: number, words: number, start: number, end: number, capacity: number) {
    this.keyKind = keyKind;
    this.words = words;
    this.start = start;
    this.end = end;
    this.mask = capacity - 1;
    this.table = new Int32Array(capacity * (words + 1));
    for (let b = 0; b < capacity; b++) this.table[b * (words + 1)] = -1;
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
   * everything the run loop reads of a slot, META_STRIDE (16) int32 words, one cache line: [0] kind |
   * targetKind << 4 | W_MATCHES, [1] arg (verdict or jump slot), [2] next slot, [3..7] the inline IPv4
   * header filter (flags F_* | IPT_INV_* << 8 | protocol << 16, source, source mask, destination,
   * destination mask), [8..10] inline tests: port (flags P_* | ctstate mask << 16, source range lo |
   * hi << 16, destination range), [11] the statistic threshold, [12..13] packet counter and [14..15] byte counter (unsigned 32-bit low and high words). Read the
   * counters with pcnt()/bcnt().
   */
  meta: Int32Array = new Int32Array(0);
  /** the matches run at packet time (a rule's matches without those that always match, like comment) */
  evalMatches: Match[][] = [];
  /** the first of evalMatches, or null: most rules have at most one, read without the array hop */
  firstMatch: (Match | null)[] = [];
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
    const ifaces: IfaceView = env.ifaces;
    let sp = 0;
    let verdict: number = Verdict.Drop;
    let hot = false;
    const first = this.firstMatch;
    const pi = skb.pi;
    for (;;) {
      const m3 = META_STRIDE * i;
      const w = meta[m3]!;
      const k = w & 15;
      if (k === SlotKind.Rule) {
        const f = meta[m3 + 3]!;
        if (f !== 0) {
          let pass: boolean;
          if ((f & F_OBJ) !== 0) pass = ipf[i]!.match(skb, ifaces);
          else {
            // IPv4 header filter, inline (Linux ip_packet_match)
            pass = true;
            if (
              (f & F_SRC) !== 0 &&
              ((pi.src[0]! & meta[m3 + 5]!) === meta[m3 + 4]!) === ((f & (INV_SRCIP << 8)) !== 0)
            ) {
              pass = false;
            } else if (
              (f & F_DST) !== 0 &&
              ((pi.dst[0]! & meta[m3 + 7]!) === meta[m3 + 6]!) === ((f & (INV_DSTIP << 8)) !== 0)
            ) {
              pass = false;
            } else if ((f & F_PROTO) !== 0 && (pi.proto === f >>> 16) === ((f & (INV_PROTO << 8)) !== 0)) {
              pass = false;
            } else if ((f & F_FRAG) !== 0 && (pi.fragOff !== 0) === ((f & (INV_FRAG << 8)) !== 0)) {
              pass = false;
            }
          }
          if (!pass) {
            if (tracer !== null) tracer.rule(this, i, false);
            i = meta[m3 + 2]!;
            continue;
          }
        }
        const pf = meta[m3 + M_PORTS]!;
        let ok = pf === 0 || portsMatch(pf, meta, m3, skb, env);
        if (ok && (w & W_MATCHES) !== 0) {
          // the rule's match objects (their array is read only for rules that have some)
          const m1 = first[i]!;
          if (!m1.match(skb, env)) ok = false;
          else {
            const ms = matches[i]!;
            for (let m = 1; m < ms.length; m++) {
              if (!ms[m]!.match(skb, env)) {
                ok = false;
                break;
              }
            }
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
        count(meta, m3, pi.len);
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
        const r = this.dispatch(this.runOf[i]!, skb);
        i = r;
        continue;
      } else if (k === SlotKind.Policy) {
        count(meta, m3, pi.len);
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

  /** dispatch: the first slot of run `r` that can match this packet, or the run's end. */
  private dispatch(r: number, skb: Skb): number {
    const run = this.runs[r]!;
    const pi = skb.pi;
    let key: ArrayLike<number>;
    if (run.keyKind === KEY_ADDR) {
      key = pi.dst;
    } else {
      const proto = pi.proto;
      if (proto !== 6 && proto !== 17) return run.end; // no rule of the run can pass its -p test
      const o = pi.l4Off;
      // the runs' port tests are nftables payload loads: a fragment, or fewer than 4 bytes of
      // transport header, match none of them (and drop nothing)
      if (pi.fragOff !== 0 || pi.status !== 0 || o <= 0 || o + 4 > pi.off + pi.len || o + 4 > pi.buf.length) {
        return run.end;
      }
      keyScratch[0] = (proto << 16) | (pi.buf[o + 2]! << 8) | pi.buf[o + 3]!;
      key = keyScratch;
    }
    const w = run.words;
    const tab = run.table;
    const mask = run.mask;
    let h = hashWords(key, 0, w) & mask;
    for (;;) {
      const o = h * (w + 1);
      const head = tab[o]!;
      if (head < 0) return run.end;
      if (
        tab[o + 1] === key[0] &&
        (w === 1 || (tab[o + 2] === key[1] && tab[o + 3] === key[2] && tab[o + 4] === key[3]))
      ) {
        return head;
      }
      h = (h + 1) & mask;
    }
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
    const o = META_STRIDE * slot + M_PKTS;
    return this.meta[o + 1]! * 4294967296 + (this.meta[o]! >>> 0);
  }

  /** bcnt: the byte counter of a rule or policy slot (IP packet lengths). */
  bcnt(slot: number): number {
    const o = META_STRIDE * slot + M_BYTES;
    return this.meta[o + 1]! * 4294967296 + (this.meta[o]! >>> 0);
  }

  /** setCounters: set a slot's counters (iptables -c / restore -c). */
  setCounters(slot: number, packets: number, bytes: number): void {
    const o = META_STRIDE * slot;
    this.meta[o + M_PKTS] = packets % 4294967296;
    this.meta[o + M_PKTS + 1] = Math.floor(packets / 4294967296);
    this.meta[o + M_BYTES] = bytes % 4294967296;
    this.meta[o + M_BYTES + 1] = Math.floor(bytes / 4294967296);
  }

  /** resetCounters: every rule and policy counter back to 0 (iptables -Z). */
  resetCounters(): void {
    for (let o = 0; o < this.meta.length; o += META_STRIDE) this.meta.fill(0, o + M_PKTS, o + M_PKTS + 4);
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
  // (both walks keep their own stacks: a ruleset may chain thousands of user chains, deeper than the
  // JavaScript call stack goes)
  const reached = new Uint8Array(t.chains.length);
  const todo: number[] = [];
  for (let c = 0; c < t.chains.length; c++) {
    if (t.chains[c]!.hook < 0 || reached[c]) continue;
    reached[c] = 1;
    todo.push(c);
    while (todo.length > 0) {
      for (const e of edges[todo.pop()!]!) {
        if (reached[e.to]) continue;
        reached[e.to] = 1;
        todo.push(e.to);
      }
    }
  }
  // depth-first search for a back edge: color 1 = on the current path, 2 = done
  const color = new Uint8Array(t.chains.length);
  const pathChain: number[] = [];
  const pathEdge: number[] = [];
  for (let c = 0; c < t.chains.length; c++) {
    if (color[c] !== 0 || !reached[c]) continue;
    color[c] = 1;
    pathChain.push(c);
    pathEdge.push(0);
    while (pathChain.length > 0) {
      const top = pathChain.length - 1;
      const x = pathChain[top]!;
      const out = edges[x]!;
      const i = pathEdge[top]!;
      if (i === out.length) {
        color[x] = 2;
        pathChain.pop();
        pathEdge.pop();
        continue;
      }
      pathEdge[top] = i + 1;
      const e = out[i]!;
      if (color[e.to] === 1) {
        fail(
          `jump to '${t.chains[e.to]!.name}' makes a loop (chain loops are not allowed)`,
          e.rule.line,
          e.rule.targetCol,
        );
      }
      if (color[e.to] === 0) {
        color[e.to] = 1;
        pathChain.push(e.to);
        pathEdge.push(0);
      }
    }
  }
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
        // only native (payload) port tests: they cannot drop a packet whose port is unreadable
        return m.exactDport >= 0 && m.pure ? KEY_PORT : -1;
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

/**
 * placementOrder: the order in which chains get their slots: depth first from the built-in chains (in
 * hook order), each chain followed by the chains its rules jump to, in rule order, that are not placed
 * yet; then the chains no built-in chain reaches. A packet's walk through a large ruleset (kube-proxy:
 * a KUBE-SVC chain, then one of its KUBE-SEP chains) then touches neighbouring slots instead of chains
 * that the name order (iptables-save's) puts thousands of slots apart. Only slot numbers depend on it:
 * listing and saving go chain by chain in t.chains order.
 */
function placementOrder(t: CompiledTable): number[] {
  const n = t.chains.length;
  const at = new Map<string, number>();
  for (let c = 0; c < n; c++) at.set(t.chains[c]!.name, c);
  const placed = new Uint8Array(n);
  const order: number[] = [];
  const stack: number[] = [];
  const visit = (root: number): void => {
    stack.push(root);
    while (stack.length > 0) {
      const c = stack.pop()!;
      if (placed[c]) continue;
      placed[c] = 1;
      order.push(c);
      const rules = t.chains[c]!.def.rules;
      // pushed last to first, so that the first jump target is placed next
      for (let i = rules.length - 1; i >= 0; i--) {
        const r = rules[i]!;
        if (r.targetKind !== TargetKind.Jump && r.targetKind !== TargetKind.Goto) continue;
        const to = at.get(r.targetName);
        if (to !== undefined && !placed[to]) stack.push(to);
      }
    }
  };
  for (let c = 0; c < n; c++) if (t.chains[c]!.hook >= 0) visit(c);
  for (let c = 0; c < n; c++) visit(c);
  return order;
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
  t.meta = new Int32Array(META_STRIDE * total);
  t.evalMatches = new Array<Match[]>(total);
  t.firstMatch = new Array<Match | null>(total);
  t.ipf = new Array<IpFilter>(total);
  t.matches = new Array<Match[]>(total);
  t.targets = new Array<Target | null>(total);
  t.rules = new Array<Rule | null>(total);
  // first pass: slot numbers, chain after chain in placement order (see placementOrder)
  const ruleSlot: number[][] = new Array<number[]>(t.chains.length);
  let s = 0;
  for (const c of placementOrder(t)) {
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
    ruleSlot[c] = slots;
  }
  const chainAt = new Map<string, number>();
  for (let c = 0; c < t.chains.length; c++) chainAt.set(t.chains[c]!.name, c);
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
      t.firstMatch[x] = null;
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
      t.firstMatch[x] = live.length === 0 ? null : live[0]!;
      t.targets[x] = r.target;
      t.rules[x] = r;
      t.tkind[x] = r.targetKind;

      if (r.targetKind === TargetKind.Verdict) t.arg[x] = r.verdict;
      else if (r.targetKind === TargetKind.Jump || r.targetKind === TargetKind.Goto) {
        t.arg[x] = t.chains[chainAt.get(r.targetName)!]!.start;
      }
    }
    // sentinel
    const e = ch.end;
    if (ch.hook >= 0) {
      t.kind[e] = SlotKind.Policy;
      t.arg[e] = ch.def.policy;

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
        while (run.table[h * (words + 1)]! >= 0) h = (h + 1) & run.mask;
        for (let w = 0; w < words; w++) run.table[h * (words + 1) + 1 + w] = k[w]!;
        run.table[h * (words + 1)] = list[0]!;
        for (let q = 0; q < list.length; q++) t.next[list[q]!] = q + 1 < list.length ? list[q + 1]! : end;
      }
      t.kind[disp] = SlotKind.Dispatch;
      t.runOf[disp] = t.runs.length;
      t.runs.push(run);
    }
  }
  // the packed hot copy of kind, target kind, arg, next, the IPv4 header filter, an inline port test
  // and the counters
  for (let x = 0; x < total; x++) {
    const o = META_STRIDE * x;
    t.meta[o + M_W] = t.kind[x]! | (t.tkind[x]! << 4);
    t.meta[o + M_ARG] = t.arg[x]!;
    t.meta[o + M_NEXT] = t.next[x]!;
    const r = t.rules[x];
    if (r != null) t.setCounters(x, r.pcnt, r.bcnt);
    else if (t.kind[x] === SlotKind.Policy) {
      const d = t.chains[t.chainOf[x]!]!.def;
      t.setCounters(x, d.pcnt, d.bcnt);
    }
    inlinePorts(t, x, o);
    inlineCtState(t, x, o);
    inlineRandom(t, x, o);
    if (t.firstMatch[x] !== null) t.meta[o + M_W] = t.meta[o + M_W]! | W_MATCHES;
    const f = t.ipf[x]!;
    if (f.trivial) continue;
    if (f.family !== 4 || f.needIn || f.needOut) {
      t.meta[o + M_IPF] = F_OBJ;
      continue;
    }
    t.meta[o + M_IPF] =
      (f.needSrc ? F_SRC : 0) |
      (f.needDst ? F_DST : 0) |
      (f.needProto ? F_PROTO : 0) |
      (f.needFrag ? F_FRAG : 0) |
      (f.inv << 8) |
      (f.proto << 16);
    t.meta[o + 4] = f.src[0]!;
    t.meta[o + 5] = f.srcMask[0]!;
    t.meta[o + 6] = f.dst[0]!;
    t.meta[o + 7] = f.dstMask[0]!;
  }
}

/**
 * inlinePorts: when a rule's first live match is a tcp/udp match the loop can run from the meta words
 * (ports only, natively; or a bare x_tables `-m tcp`), move it there and out of evalMatches.
 */
function inlinePorts(t: CompiledTable, x: number, o: number): void {
  const ms = t.evalMatches[x]!;
  if (ms.length === 0) return;
  const m = ms[0]!;
  if (!(m instanceof TcpMatch || m instanceof UdpMatch)) return;
  const tcp = m instanceof TcpMatch ? m : null;
  if (tcp !== null && (tcp.flgMask !== 0 || tcp.flgCmp !== 0 || tcp.flgInv || tcp.option !== 0 || tcp.optionInv))
    return;
  let pf = m instanceof TcpMatch ? P_TCP : 0;
  if (!m.pure)
    pf |= P_XT; // bare: x_tables semantics (checks the header is there)
  else {
    if (!(m.sptMin === 0 && m.sptMax === 65535 && !m.sptInv)) pf |= P_SPT | (m.sptInv ? P_SPT_INV : 0);
    if (!(m.dptMin === 0 && m.dptMax === 65535 && !m.dptInv)) pf |= P_DPT | (m.dptInv ? P_DPT_INV : 0);
    if ((pf & (P_SPT | P_DPT)) === 0) return;
  }
  t.meta[o + M_PORTS] = pf;
  t.meta[o + M_SPT] = m.sptMin | (m.sptMax << 16);
  t.meta[o + M_DPT] = m.dptMin | (m.dptMax << 16);
  const rest = ms.slice(1);
  t.evalMatches[x] = rest.length === 0 ? NO_MATCHES : rest;
  t.firstMatch[x] = rest.length === 0 ? null : rest[0]!;
}

/**
 * inlineCtState: a first live conntrack / state match that tests only ctinfo-derived --ctstate bits
 * runs from meta word 8 (after the inline port test, before an inline random test: the rule's order).
 */
function inlineCtState(t: CompiledTable, x: number, o: number): void {
  const ms = t.evalMatches[x]!;
  if (ms.length === 0) return;
  const m = ms[0]!;
  if (!(m instanceof ConntrackMatch)) return;
  const st = m.plainStateTest();
  if (st < 0) return;
  t.meta[o + M_PORTS] =
    t.meta[o + M_PORTS]! | P_CTSTATE | ((st & (1 << 15)) !== 0 ? P_CTSTATE_INV : 0) | ((st & 0x7ff) << 16);
  const rest = ms.slice(1);
  t.evalMatches[x] = rest.length === 0 ? NO_MATCHES : rest;
  t.firstMatch[x] = rest.length === 0 ? null : rest[0]!;
}

/** inlineRandom: a first live `statistic --mode random` match runs from meta word 11 (kube-proxy's endpoint choice). */
function inlineRandom(t: CompiledTable, x: number, o: number): void {
  const ms = t.evalMatches[x]!;
  if (ms.length === 0) return;
  const m = ms[0]!;
  if (!(m instanceof StatisticMatch) || !m.isRandom) return;
  t.meta[o + M_PORTS] = t.meta[o + M_PORTS]! | P_RANDOM | (m.inv ? P_RANDOM_INV : 0);
  t.meta[o + M_RANDOM] = m.probability | 0;
  const rest = ms.slice(1);
  t.evalMatches[x] = rest.length === 0 ? NO_MATCHES : rest;
  t.firstMatch[x] = rest.length === 0 ? null : rest[0]!;
}

/**
 * portsMatch: the inline tcp/udp test of a slot. Native (nftables payload) port tests need 4 bytes of
 * transport header and no fragment offset, and never drop; the bare x_tables match hotdrops a packet
 * whose header is missing and the TCP fragment at offset 8. Hot path.
 */
function portsMatch(pf: number, meta: Int32Array, o: number, skb: Skb, env: RuleEnv): boolean {
  if ((pf & (P_SPT | P_DPT | P_XT)) !== 0 && !portsTest(pf, meta, o, skb.pi, env)) return false;
  if ((pf & P_CTSTATE) !== 0) {
    // xt_conntrack's state bit: UNTRACKED, INVALID without an entry, else from ctinfo
    const ci = skb.ctInfo;
    const bit = ci === CtInfo.Untracked ? CtState.UNTRACKED : skb.ct >= 0 ? 1 << ((ci % 3) + 1) : CtState.INVALID;
    if ((((pf >>> 16) & bit) !== 0) === ((pf & P_CTSTATE_INV) !== 0)) return false;
  }
  if ((pf & P_RANDOM) !== 0) {
    // Linux statistic_mt: (random & 0x7fffffff) < probability, inverted by `!`
    const hit = (env.target.randomU32() & 0x7fffffff) >>> 0 < meta[o + M_RANDOM]! >>> 0;
    return hit !== ((pf & P_RANDOM_INV) !== 0);
  }
  return true;
}

function portsTest(
  pf: number,
  meta: Int32Array,
  o: number,
  pi: import("../wire/packet-info.js").PacketInfo,
  env: RuleEnv,
): boolean {
  const l4 = pi.l4Off;
  const end = pi.off + pi.len;
  if ((pf & P_XT) !== 0) {
    if (pi.fragOff !== 0) {
      if (pi.fragOff === 8 && (pf & P_TCP) !== 0) env.hotdrop = true;
      return false;
    }
    const need = (pf & P_TCP) !== 0 ? 20 : 8;
    if (pi.status !== 0 || l4 <= 0 || l4 + need > end || l4 + need > pi.buf.length) {
      env.hotdrop = true;
      return false;
    }
    return true;
  }
  if (pi.fragOff !== 0 || pi.status !== 0 || l4 <= 0 || l4 + 4 > end || l4 + 4 > pi.buf.length) return false;
  const b = pi.buf;
  if ((pf & P_SPT) !== 0) {
    const r = meta[o + M_SPT]!;
    const p = (b[l4]! << 8) | b[l4 + 1]!;
    if ((p >= (r & 0xffff) && p <= r >>> 16) === ((pf & P_SPT_INV) !== 0)) return false;
  }
  if ((pf & P_DPT) !== 0) {
    const r = meta[o + M_DPT]!;
    const p = (b[l4 + 2]! << 8) | b[l4 + 3]!;
    if ((p >= (r & 0xffff) && p <= r >>> 16) === ((pf & P_DPT_INV) !== 0)) return false;
  }
  return true;
}

/** count: one packet of `len` bytes on the counters at meta offset `o` (u32 pairs with carry). Hot path. */
function count(meta: Int32Array, o: number, len: number): void {
  const p = (meta[o + M_PKTS]! >>> 0) + 1;
  if (p === 4294967296) {
    meta[o + M_PKTS] = 0;
    meta[o + M_PKTS + 1]! += 1;
  } else meta[o + M_PKTS] = p;
  const b = (meta[o + M_BYTES]! >>> 0) + len;
  if (b >= 4294967296) {
    meta[o + M_BYTES] = b - 4294967296;
    meta[o + M_BYTES + 1]! += 1;
  } else meta[o + M_BYTES] = b;
}
