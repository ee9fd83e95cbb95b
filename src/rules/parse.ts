/**
 * The loader: `iptables-save` / `ip6tables-save` text (and what iptables-restore accepts of it) into
 * TableDefs. Each line is read as iptables-restore reads it (`*table`, `:CHAIN POLICY [p:b]`, rule lines
 * with optional `[p:b]`, `COMMIT`, `#` comments), each rule's words as iptables' getopt loop reads them:
 * the command (-A, -I, -N, -P), the IP header options, `!` before an option, `-m` matches and their
 * options, the implicit protocol match (`-p tcp --dport 80` loads `tcp`), `-j` / `-g`. Every error is a
 * RulesetError with file, line and column; an extension or option ctnat does not implement is an
 * UnsupportedError naming it.
 */
import { Hook, Verdict } from "../core/netfilter.js";
import { parseAddrMask } from "./addr.js";
import { RulesetError, UnsupportedError } from "./errors.js";
import { type Token, tokenizeLine } from "./lexer.js";
import { createMatch, isKnownUnsupportedMatch } from "./matches/index.js";
import { parseProtocol, protocolName } from "./proto.js";
import {
  ChainDef,
  INV_DSTIP,
  INV_FRAG,
  INV_PROTO,
  INV_SRCIP,
  INV_VIA_IN,
  INV_VIA_OUT,
  Rule,
  TableDef,
  TargetKind,
} from "./rule.js";
import { BUILTIN_HOOKS, TABLE_NAMES, tableIdByName } from "./tables.js";
import { createTarget, isKnownUnsupportedTarget, isTargetName } from "./targets/index.js";
import type { Match, OptDef, ParseCtx, Target } from "./types.js";
import { XtState } from "./xt-state.js";

/** LoadOptions: how to read a ruleset text. */
export interface LoadOptions {
  /** file name for error messages (default "<rules>") */
  file?: string;
  /** 4 for iptables-save text, 6 for ip6tables-save text (default 4) */
  family?: number;
  /** keep the `[p:b]` counters of the text (iptables-restore -c); default true */
  counters?: boolean;
  /**
   * the namespace's shared extension state (IP sets for `-m set` / `-j SET`, recent and hashlimit
   * tables, nfacct objects); give the same one to the IPv4 and IPv6 rulesets of a gateway. Default: a
   * fresh one without IP sets.
   */
  xt?: XtState;
}

/** ParsedRuleset: the tables of a text, by TableId (undefined: not present). */
export interface ParsedRuleset {
  readonly family: number;
  readonly file: string;
  readonly tables: (TableDef | undefined)[];
  readonly xt: XtState;
}

const HOOK_NAMES = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

/** the standard verdict targets */
const STANDARD: Readonly<Record<string, number>> = {
  ACCEPT: Verdict.Accept,
  DROP: Verdict.Drop,
};

interface BuiltinOpt {
  readonly long: string;
  readonly short: string;
  readonly arg: boolean;
}
const BUILTIN_OPTS: readonly BuiltinOpt[] = [
  { long: "append", short: "A", arg: true },
  { long: "insert", short: "I", arg: true },
  { long: "new-chain", short: "N", arg: true },
  { long: "policy", short: "P", arg: true },
  { long: "source", short: "s", arg: true },
  { long: "src", short: "s", arg: true },
  { long: "destination", short: "d", arg: true },
  { long: "dst", short: "d", arg: true },
  { long: "protocol", short: "p", arg: true },
  { long: "in-interface", short: "i", arg: true },
  { long: "out-interface", short: "o", arg: true },
  { long: "fragment", short: "f", arg: false },
  { long: "jump", short: "j", arg: true },
  { long: "goto", short: "g", arg: true },
  { long: "match", short: "m", arg: true },
  { long: "set-counters", short: "c", arg: true },
  { long: "ipv4", short: "4", arg: false },
  { long: "ipv6", short: "6", arg: false },
];
const SHORT_OPTS = "AINPsdpiofjgmc46";
const REJECTED_SHORT: Readonly<Record<string, string>> = {
  t: "the -t option cannot be used in iptables-restore input",
  D: "-D (delete) is not supported by ctnat's loader",
  R: "-R (replace) is not supported by ctnat's loader",
  F: "-F (flush) is not supported by ctnat's loader",
  X: "-X (delete chain) is not supported by ctnat's loader",
  Z: "-Z (zero) is not supported by ctnat's loader",
  E: "-E (rename chain) is not supported by ctnat's loader",
  L: "-L is not a ruleset command",
  S: "-S is not a ruleset command",
};

/** parseRuleset: read an iptables-save text. @throws RulesetError */
export function parseRuleset(text: string, opts: LoadOptions = {}): ParsedRuleset {
  const file = opts.file ?? "<rules>";
  const family = opts.family ?? 4;
  const keepCounters = opts.counters ?? true;
  const xt = opts.xt ?? new XtState();
  const tables: (TableDef | undefined)[] = [];
  const lines = text.split("\n");
  let cur: TableDef | null = null;
  let curLine = 0;
  const err: (reason: string, line: number, col: number) => never = (reason, line, col) => {
    throw new RulesetError(reason, file, line, col);
  };
  for (let ln = 0; ln < lines.length; ln++) {
    let raw = lines[ln]!;
    if (raw.endsWith("\r")) raw = raw.slice(0, -1);
    const lineNo = ln + 1;
    if (raw.trim() === "" || raw[0] === "#") continue;
    if (raw[0] === "*") {
      if (cur !== null) err(`table '${cur.name}' opened at line ${curLine} has no COMMIT`, lineNo, 1);
      const name = raw.slice(1).trim();
      const id = tableIdByName(name);
      if (id < 0) err(`table '${name}' does not exist`, lineNo, 2);
      cur = new TableDef(name, id);
      cur.line = lineNo;
      curLine = lineNo;
      continue;
    }
    if (raw.trim() === "COMMIT") {
      if (cur === null) err("COMMIT outside a table", lineNo, 1);
      // a table with no chain was never created (iptables-nft creates tables with their first chain)
      if (cur.chains.length > 0) tables[cur.id] = cur;
      else tables[cur.id] = undefined;
      cur = null;
      continue;
    }
    if (cur === null) err("rule or chain outside a table (missing '*table' line)", lineNo, 1);
    if (raw[0] === ":") {
      parseChainLine(raw, lineNo, cur, keepCounters, err);
      continue;
    }
    let rest = raw;
    let col = 1;
    let pcnt = 0;
    let bcnt = 0;
    if (raw[0] === "[") {
      const m = /^\[(\d+):(\d+)\]/.exec(raw);
      if (m === null) err("bad counters: expected [packets:bytes]", lineNo, 1);
      pcnt = Number(m[1]);
      bcnt = Number(m[2]);
      rest = raw.slice(m[0].length);
      col = m[0].length + 1;
    }
    const tokens = tokenizeLine(rest, col);
    if (tokens.length === 0) continue;
    new LineParser(
      file,
      family,
      cur,
      lineNo,
      raw,
      tokens,
      keepCounters ? pcnt : 0,
      keepCounters ? bcnt : 0,
      keepCounters,
      xt,
    ).run();
  }
  if (cur !== null) err(`COMMIT expected for table '${cur.name}' opened at line ${curLine}`, lines.length, 1);
  return { family, file, tables, xt };
}

function parseChainLine(
  raw: string,
  lineNo: number,
  t: TableDef,
  keepCounters: boolean,
  err: (reason: string, line: number, col: number) => never,
): void {
  const tokens = tokenizeLine(raw.slice(1), 2);
  if (tokens.length < 2) err("chain line needs a name and a policy (':NAME POLICY [p:b]')", lineNo, 1);
  const name = tokens[0]!.text;
  const pol = tokens[1]!;
  let pcnt = 0;
  let bcnt = 0;
  if (tokens.length >= 3) {
    const m = /^\[(\d+):(\d+)\]$/.exec(tokens[2]!.text);
    if (m === null) err(`bad counters '${tokens[2]!.text}'`, lineNo, tokens[2]!.column);
    pcnt = Number(m[1]);
    bcnt = Number(m[2]);
    if (tokens.length > 3) err(`unexpected '${tokens[3]!.text}'`, lineNo, tokens[3]!.column);
  }
  const hook = HOOK_NAMES.indexOf(name);
  const builtin = hook >= 0 && BUILTIN_HOOKS[t.id]!.includes(hook);
  if (builtin) {
    let policy: number;
    if (pol.text === "ACCEPT") policy = Verdict.Accept;
    else if (pol.text === "DROP") policy = Verdict.Drop;
    else err(`bad policy '${pol.text}' for built-in chain ${name} (ACCEPT or DROP)`, lineNo, pol.column);
    let c = t.byName.get(name);
    if (c === undefined) {
      c = new ChainDef(name, hook, policy);
      addChain(t, c);
    }
    c.policy = policy;
    c.line = lineNo;
    if (keepCounters) {
      c.pcnt = pcnt;
      c.bcnt = bcnt;
    }
    return;
  }
  // iptables-nft ignores a policy given to a user chain, and a repeated declaration
  checkChainName(name, lineNo, tokens[0]!.column, err);
  if (t.byName.has(name)) return;
  const c = new ChainDef(name, -1, -1);
  c.line = lineNo;
  addChain(t, c);
}

function checkChainName(
  name: string,
  lineNo: number,
  col: number,
  err: (reason: string, line: number, col: number) => never,
): void {
  if (name.length > 28) err(`chain name '${name}' is too long (at most 28 characters)`, lineNo, col);
  if (name.startsWith("-") || name === "!") err(`chain name '${name}' is not allowed`, lineNo, col);
  if (HOOK_NAMES.includes(name))
    err(`'${name}' is a built-in chain name, not valid for a user chain here`, lineNo, col);
  if (Object.hasOwn(STANDARD, name) || name === "RETURN" || name === "QUEUE") {
    err(`chain name '${name}' clashes with a target name`, lineNo, col);
  }
}

function addChain(t: TableDef, c: ChainDef): void {
  t.chains.push(c);
  t.byName.set(c.name, c);
}

/** builtinChain: the built-in chain `name` of table t, created with policy ACCEPT if not yet declared. */
function builtinChain(t: TableDef, name: string): ChainDef | null {
  const hook = HOOK_NAMES.indexOf(name);
  if (hook < 0 || !BUILTIN_HOOKS[t.id]!.includes(hook)) return null;
  let c = t.byName.get(name);
  if (c === undefined) {
    c = new ChainDef(name, hook, Verdict.Accept);
    addChain(t, c);
  }
  return c;
}

type ExtEntry = { kind: "match"; ext: Match; col: number } | { kind: "target"; ext: Target; col: number };

/** One rule line, parsed as iptables' option loop does. */
class LineParser implements ParseCtx {
  readonly file: string;
  readonly family: number;
  readonly t: TableDef;
  readonly lineNo: number;
  readonly raw: string;
  readonly tokens: Token[];
  readonly pcnt: number;
  readonly bcnt: number;
  readonly keepCounters: boolean;
  readonly xt: XtState;
  // ParseCtx
  get table(): string {
    return this.t.name;
  }
  chain = "";
  proto = 0;
  protoInv = false;
  /** current option and argument tokens, for error columns */
  optTok: Token | null = null;
  argTok: Token | null = null;

  constructor(
    file: string,
    family: number,
    t: TableDef,
    lineNo: number,
    raw: string,
    tokens: Token[],
    pcnt: number,
    bcnt: number,
    keepCounters: boolean,
    xt: XtState,
  ) {
    this.file = file;
    this.xt = xt;
    this.family = family;
    this.t = t;
    this.lineNo = lineNo;
    this.raw = raw;
    this.tokens = tokens;
    this.pcnt = pcnt;
    this.bcnt = bcnt;
    this.keepCounters = keepCounters;
  }

  fail(reason: string): never {
    throw new RulesetError(reason, this.file, this.lineNo, this.optTok?.column ?? 1);
  }
  failArg(reason: string): never {
    throw new RulesetError(reason, this.file, this.lineNo, (this.argTok ?? this.optTok)?.column ?? 1);
  }
  failAt(tok: Token | null, reason: string): never {
    throw new RulesetError(reason, this.file, this.lineNo, tok?.column ?? 1);
  }
  /** words of the line and the read position, shared with nextArg() */
  private toksPos = 0;
  nextArg(what: string): string {
    const t = this.tokens[this.toksPos];
    if (t === undefined || ((t.text.startsWith("-") || t.text === "!") && !t.quoted)) {
      this.fail(`${what} requires two arguments`);
    }
    this.toksPos++;
    this.argTok = t;
    return t.text;
  }
  unsupported(feature: string, reason: string): never {
    throw new UnsupportedError(feature, reason, this.file, this.lineNo, this.optTok?.column ?? 1);
  }

  /** run: parse the line; adds the rule(s) (or chain / policy) to the table. */
  run(): void {
    // the address lists of -s / -d expand into one rule per pair, as iptables does
    const first = this.parseOnce(0, 0);
    if (first === null) return;
    const { rule, cmd, nsrc, ndst, chain, insertAt } = first;
    const rules: Rule[] = [rule];
    for (let s = 0; s < nsrc; s++) {
      for (let d = 0; d < ndst; d++) {
        if (s === 0 && d === 0) continue;
        const r = this.parseOnce(s, d);
        rules.push(r!.rule);
      }
    }
    if (cmd === "A") {
      for (const r of rules) chain.rules.push(r);
    } else {
      chain.rules.splice(insertAt, 0, ...rules);
    }
  }

  private parseOnce(
    srcIdx: number,
    dstIdx: number,
  ): { rule: Rule; cmd: string; nsrc: number; ndst: number; chain: ChainDef; insertAt: number } | null {
    const toks = this.tokens;
    const rule = new Rule();
    rule.ipf.family = this.family;
    rule.line = this.lineNo;
    rule.source = this.raw;
    if (this.keepCounters) {
      rule.pcnt = this.pcnt;
      rule.bcnt = this.bcnt;
    }
    this.proto = 0;
    this.protoInv = false;
    const exts: ExtEntry[] = [];
    let target: Target | null = null;
    let protoUsed = false;
    let cmd = "";
    let cmdTok: Token | null = null;
    let chain: ChainDef | null = null;
    let insertAt = 0;
    let nsrc = 1;
    let ndst = 1;
    let inv = false;
    let invTok: Token | null = null;
    const seen = new Set<string>();
    this.toksPos = 0;
    const takeArg = (attached: string | null): string => {
      if (attached !== null) {
        this.argTok = this.optTok;
        return attached;
      }
      const a = toks[this.toksPos];
      if (a === undefined) this.fail(`option '${this.optTok!.text}' requires an argument`);
      this.toksPos++;
      // iptables 1.8.9 takes a "!" after an option as its argument ("-i !" names an interface "!";
      // "--dport ! 80": invalid port/service `!'): the old intrapositioned negation is gone
      this.argTok = a;
      return a.text;
    };
    const once = (key: string): void => {
      if (seen.has(key)) this.fail(`multiple ${key} flags not allowed`);
      seen.add(key);
    };
    const noInv = (what: string): void => {
      if (inv) this.failAt(invTok, `cannot have ! before ${what}`);
    };
    while (this.toksPos < toks.length) {
      const t = toks[this.toksPos++]!;
      this.optTok = t;
      this.argTok = null;
      const s = t.text;
      if (s === "!" && !t.quoted) {
        if (inv) this.failAt(t, "multiple '!' flags not allowed");
        inv = true;
        invTok = t;
        continue;
      }
      if (!s.startsWith("-") || s === "-" || t.quoted) this.failAt(t, `bad argument '${s}'`);
      let short = "";
      let attached: string | null = null;
      let ext: ExtEntry | null = null;
      let extOpt: OptDef | null = null;
      if (s.startsWith("--")) {
        let name = s.slice(2);
        const eq = name.indexOf("=");
        if (eq >= 0) {
          attached = name.slice(eq + 1);
          name = name.slice(0, eq);
        }
        const found = this.lookupLong(name, exts, target);
        if (found === null) {
          // iptables loads the protocol's match when an option is unknown (-p tcp --dport 80)
          if (!protoUsed && this.proto !== 0 && !this.protoInv) {
            const pname = protocolName(this.proto);
            if (pname !== null && !exts.some((e) => e.kind === "match" && e.ext.name === pname)) {
              const m = createMatch(pname === "ipv6-icmp" ? "icmp6" : pname, this.family);
              if (m !== null) {
                protoUsed = true;
                exts.push({ kind: "match", ext: m, col: t.column });
                this.toksPos--;
                continue;
              }
            }
          }
          this.unknownOption(name, exts, target);
        }
        if (found.builtin !== null) short = found.builtin.short;
        else {
          ext = found.ext;
          extOpt = found.opt;
        }
      } else {
        short = s[1]!;
        if (s.length > 2) attached = s.slice(2);
        if (!SHORT_OPTS.includes(short)) {
          const why = REJECTED_SHORT[short];
          if (why !== undefined) this.failAt(t, why);
          this.failAt(t, `unknown option '${s}'`);
        }
      }
      if (ext !== null && extOpt !== null) {
        if (inv && !extOpt.inv) this.fail(`${ext.ext.name}: option "--${extOpt.name}" cannot be inverted`);
        const arg = extOpt.arg ? takeArg(attached) : "";
        if (!extOpt.arg && attached !== null) this.fail(`option '--${extOpt.name}' takes no argument`);
        ext.ext.parse(extOpt.name, arg, inv, this);
        inv = false;
        continue;
      }
      switch (short) {
        case "A":
        case "I":
        case "N":
        case "P": {
          noInv("a command");
          if (cmd !== "") this.failAt(t, "only one command per line");
          cmd = short;
          cmdTok = t;
          const name = takeArg(attached);
          if (short === "N") {
            checkChainName(name, this.lineNo, this.argTok!.column, (r, l, c) => {
              throw new RulesetError(r, this.file, l, c);
            });
            if (this.t.byName.has(name)) this.failArg(`chain '${name}' already exists`);
            const c = new ChainDef(name, -1, -1);
            c.line = this.lineNo;
            addChain(this.t, c);
            if (this.toksPos < toks.length)
              this.failAt(toks[this.toksPos]!, `unexpected '${toks[this.toksPos]!.text}' after -N`);
            return null;
          }
          chain = this.t.byName.get(name) ?? builtinChain(this.t, name);
          if (chain === null) this.failArg(`chain '${name}' does not exist`);
          this.chain = name;
          if (short === "P") {
            if (chain.hook < 0) this.failArg(`a policy can only be set on a built-in chain, not on '${name}'`);
            const p = toks[this.toksPos++];
            if (p === undefined || (p.text !== "ACCEPT" && p.text !== "DROP")) {
              this.failAt(p ?? t, "-P needs a policy: ACCEPT or DROP");
            }
            chain.policy = STANDARD[p.text]!;
            // iptables-nft: -P sets the policy with fresh counters
            chain.pcnt = 0;
            chain.bcnt = 0;
            if (this.toksPos < toks.length)
              this.failAt(toks[this.toksPos]!, `unexpected '${toks[this.toksPos]!.text}' after -P`);
            return null;
          }
          if (short === "I") {
            const n = toks[this.toksPos];
            if (n !== undefined && /^[0-9]+$/.test(n.text)) {
              this.toksPos++;
              const num = Number(n.text);
              if (num < 1 || num > chain.rules.length + 1) this.failAt(n, `index of insertion too big (${num})`);
              insertAt = num - 1;
            }
          }
          break;
        }
        case "s":
        case "d": {
          const key = short === "s" ? "-s" : "-d";
          once(key);
          const arg = takeArg(attached);
          const list = arg.split(",");
          if (short === "s") nsrc = list.length;
          else ndst = list.length;
          const one = list[short === "s" ? srcIdx : dstIdx]!;
          const ipf = rule.ipf;
          const e =
            short === "s"
              ? parseAddrMask(this.family, one, ipf.src, ipf.srcMask)
              : parseAddrMask(this.family, one, ipf.dst, ipf.dstMask);
          if (e !== null) this.failArg(e);
          if (inv) ipf.inv |= short === "s" ? INV_SRCIP : INV_DSTIP;
          break;
        }
        case "p": {
          once("-p");
          const arg = takeArg(attached);
          const n = parseProtocol(arg);
          if (n < 0) this.failArg(`unknown protocol '${arg}' specified`);
          if (n === 0 && inv) this.failArg("rule would never match protocol");
          rule.ipf.proto = n;
          this.proto = n;
          if (inv) {
            rule.ipf.inv |= INV_PROTO;
            this.protoInv = true;
          }
          break;
        }
        case "i":
        case "o": {
          once(short === "i" ? "-i" : "-o");
          const arg = takeArg(attached);
          if (arg.length > 15) this.failArg(`interface name '${arg}' must be shorter than 16 characters`);
          if (arg.length === 0) this.failArg("empty interface name");
          const wild = arg.endsWith("+");
          const name = wild ? arg.slice(0, -1) : arg;
          if (short === "i") {
            rule.ipf.inIface = name;
            rule.ipf.inWild = wild;
            if (inv) rule.ipf.inv |= INV_VIA_IN;
          } else {
            rule.ipf.outIface = name;
            rule.ipf.outWild = wild;
            if (inv) rule.ipf.inv |= INV_VIA_OUT;
          }
          break;
        }
        case "f": {
          once("-f");
          if (this.family === 6) this.failAt(t, "-f is not an ip6tables option (use -m frag)");
          rule.ipf.frag = true;
          if (inv) rule.ipf.inv |= INV_FRAG;
          break;
        }
        case "m": {
          noInv("-m");
          const name = takeArg(attached);
          const m = createMatch(name, this.family);
          if (m === null) {
            if (isKnownUnsupportedMatch(name)) {
              throw new UnsupportedError(
                name,
                `match '${name}' is not implemented by ctnat`,
                this.file,
                this.lineNo,
                this.argTok!.column,
              );
            }
            this.failArg(`couldn't load match '${name}': no such match`);
          }
          exts.push({ kind: "match", ext: m, col: this.argTok!.column });
          if (name === protocolName(this.proto)) protoUsed = true;
          break;
        }
        case "j":
        case "g": {
          noInv(short === "j" ? "-j" : "-g");
          if (seen.has("-j") || seen.has("-g")) this.fail("multiple -j / -g flags not allowed");
          seen.add(short === "j" ? "-j" : "-g");
          const name = takeArg(attached);
          rule.targetName = name;
          rule.targetCol = this.argTok!.column;
          if (short === "g") {
            if (Object.hasOwn(STANDARD, name) || name === "RETURN" || isTargetName(name)) {
              this.failArg(`goto '${name}': -g needs a user chain`);
            }
            rule.targetKind = TargetKind.Goto;
            break;
          }
          if (Object.hasOwn(STANDARD, name)) {
            rule.targetKind = TargetKind.Verdict;
            rule.verdict = STANDARD[name]!;
          } else if (name === "RETURN") {
            rule.targetKind = TargetKind.Return;
          } else {
            const tg = createTarget(name, this.family);
            if (tg !== null) {
              target = tg;
              rule.target = tg;
              rule.targetKind = TargetKind.Ext;
              exts.push({ kind: "target", ext: tg, col: this.argTok!.column });
            } else if (name === "QUEUE" || isKnownUnsupportedTarget(name)) {
              throw new UnsupportedError(
                name,
                `target '${name}' is not implemented by ctnat`,
                this.file,
                this.lineNo,
                this.argTok!.column,
              );
            } else {
              rule.targetKind = TargetKind.Jump;
            }
          }
          break;
        }
        case "c": {
          noInv("-c");
          const a = takeArg(attached);
          const b = toks[this.toksPos++];
          if (!/^[0-9]+$/.test(a) || b === undefined || !/^[0-9]+$/.test(b.text)) {
            this.fail("-c needs two numbers: packets and bytes");
          }
          if (this.keepCounters) {
            rule.pcnt = Number(a);
            rule.bcnt = Number(b.text);
          }
          break;
        }
        case "4":
          if (this.family === 6) return null; // an IPv4-only line in ip6tables input is skipped
          break;
        case "6":
          if (this.family === 4) return null;
          break;
      }
      inv = false;
    }
    if (inv) this.failAt(invTok, "'!' at the end of the line has nothing to negate");
    if (cmd === "") this.failAt(toks[0]!, "no command given (expected -A CHAIN)");
    for (const e of exts) {
      this.optTok = { text: "", column: e.col, quoted: false } as Token;
      this.argTok = null;
      e.ext.finalCheck(this);
      if (e.kind === "match") {
        rule.matches.push(e.ext);
        rule.matchCols.push(e.col);
      }
    }
    rule.ipf.finish();
    // userspace checks of interfaces against the built-in chain's hook (iptables "Can't use -i with ...")
    if (chain!.hook >= 0) {
      const h = chain!.hook;
      if ((h === Hook.Output || h === Hook.Postrouting) && rule.ipf.needIn) {
        this.failAt(cmdTok, `can't use -i with ${chain!.name}`);
      }
      if ((h === Hook.Prerouting || h === Hook.Input) && rule.ipf.needOut) {
        this.failAt(cmdTok, `can't use -o with ${chain!.name}`);
      }
    }
    return { rule, cmd, nsrc, ndst, chain: chain!, insertAt };
  }

  private lookupLong(
    name: string,
    exts: ExtEntry[],
    target: Target | null,
  ): { builtin: BuiltinOpt | null; ext: ExtEntry | null; opt: OptDef | null } | null {
    void target;
    // exact names first: the most recently loaded extension wins, as in iptables' merged option table
    for (let k = exts.length - 1; k >= 0; k--) {
      const e = exts[k]!;
      for (const o of e.ext.opts) if (o.name === name) return { builtin: null, ext: e, opt: o };
    }
    for (const b of BUILTIN_OPTS) if (b.long === name) return { builtin: b, ext: null, opt: null };
    // then unambiguous abbreviations (getopt_long)
    const cands: { builtin: BuiltinOpt | null; ext: ExtEntry | null; opt: OptDef | null; key: string }[] = [];
    for (const b of BUILTIN_OPTS) {
      if (b.long.startsWith(name)) cands.push({ builtin: b, ext: null, opt: null, key: `-${b.short}` });
    }
    for (let k = exts.length - 1; k >= 0; k--) {
      const e = exts[k]!;
      for (const o of e.ext.opts) {
        if (o.name.startsWith(name)) cands.push({ builtin: null, ext: e, opt: o, key: `${k}:${o.name}` });
      }
    }
    if (name.length === 0 || cands.length === 0) return null;
    const keys = new Set(cands.map((c) => c.key));
    if (keys.size > 1) this.fail(`option '--${name}' is ambiguous`);
    return cands[0]!;
  }

  private unknownOption(name: string, exts: ExtEntry[], target: Target | null): never {
    void target;
    const loaded = exts.map((e) => e.ext.name);
    const hint =
      this.proto === 0 && /^(dport|sport|dports|sports|tcp-flags|syn|icmp-type|icmpv6-type)$/.test(name)
        ? " (it needs -p with a protocol before it)"
        : loaded.length > 0
          ? ` (not an option of ${loaded.join(", ")})`
          : "";
    this.fail(`unknown option '--${name}'${hint}`);
  }
}

export { HOOK_NAMES, TABLE_NAMES };
