/**
 * conntrack and state matches (Linux xt_conntrack.c revision 3; iptables libxt_conntrack.c, where
 * `-m state --state` is an alias of conntrack). ctstate bits: INVALID when the packet has no conntrack
 * entry, UNTRACKED for NOTRACK'ed packets, else ESTABLISHED/RELATED/NEW from ctinfo, plus SNAT/DNAT from
 * the entry's status. When the packet has no entry, only --ctstate is tested; any other option then
 * fails the match unless --ctstate was given (Linux returns `match_flags & STATE`).
 */
import { CtInfo, CtState, Dir, IPS } from "../../core/netfilter.js";
import type { Skb } from "../../core/skb.js";
import { formatAddr, formatMaskSuffix, maskPrefixLen, parseAddr, prefixMask } from "../addr.js";
import { parseProtocol } from "../proto.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";
import { portOrFail } from "../util.js";

const F_STATE = 1 << 0;
const F_PROTO = 1 << 1;
const F_ORIGSRC = 1 << 2;
const F_ORIGDST = 1 << 3;
const F_REPLSRC = 1 << 4;
const F_REPLDST = 1 << 5;
const F_STATUS = 1 << 6;
const F_EXPIRES = 1 << 7;
const F_ORIGSRC_PORT = 1 << 8;
const F_ORIGDST_PORT = 1 << 9;
const F_REPLSRC_PORT = 1 << 10;
const F_REPLDST_PORT = 1 << 11;
const F_DIRECTION = 1 << 12;

const STATE_NAMES: readonly [string, number][] = [
  ["INVALID", CtState.INVALID],
  ["NEW", CtState.NEW],
  ["RELATED", CtState.RELATED],
  ["ESTABLISHED", CtState.ESTABLISHED],
  ["UNTRACKED", CtState.UNTRACKED],
  ["SNAT", CtState.SNAT],
  ["DNAT", CtState.DNAT],
];
const STATUS_NAMES: readonly [string, number][] = [
  ["EXPECTED", IPS.EXPECTED],
  ["SEEN_REPLY", IPS.SEEN_REPLY],
  ["ASSURED", IPS.ASSURED],
  ["CONFIRMED", IPS.CONFIRMED],
];

const CONNTRACK_OPTS: readonly OptDef[] = [
  opt("ctstate", true, true),
  opt("ctproto", true, true),
  opt("ctorigsrc", true, true),
  opt("ctorigdst", true, true),
  opt("ctreplsrc", true, true),
  opt("ctrepldst", true, true),
  opt("ctstatus", true, true),
  opt("ctexpire", true, true),
  opt("ctorigsrcport", true, true),
  opt("ctorigdstport", true, true),
  opt("ctreplsrcport", true, true),
  opt("ctrepldstport", true, true),
  opt("ctdir", true, false),
];
const STATE_OPTS: readonly OptDef[] = [opt("state", true, true)];

function parseList(
  p: ParseCtx,
  s: string,
  names: readonly [string, number][],
  what: string,
  allowNone: boolean,
): number {
  let v = 0;
  for (const part of s.split(",")) {
    if (allowNone && part.toUpperCase() === "NONE") continue;
    const e = names.find(([n]) => n === part.toUpperCase());
    if (e === undefined) p.failArg(`bad ${what} '${part}'`);
    v |= e[1];
  }
  return v;
}

function listText(v: number, names: readonly [string, number][], noneIfZero: boolean): string {
  const out: string[] = [];
  for (const [n, b] of names) if (v & b) out.push(n);
  if (out.length === 0 && noneIfZero) return "NONE";
  return out.join(",");
}

class AddrSpec {
  readonly addr: Int32Array = new Int32Array(4);
  readonly mask: Int32Array = new Int32Array(4);
}

/** ConntrackMatch: `-m conntrack` (and `-m state`, its alias). */
export class ConntrackMatch extends Match {
  static readonly extName: string = "conntrack";
  readonly name: string = "conntrack";
  readonly opts: readonly OptDef[] = CONNTRACK_OPTS;
  /** printed as `-m state --state` */
  readonly stateAlias: boolean = false;
  flags = 0;
  inv = 0;
  stateMask = 0;
  statusMask = 0;
  l4proto = 0;
  readonly origSrc = new AddrSpec();
  readonly origDst = new AddrSpec();
  readonly replSrc = new AddrSpec();
  readonly replDst = new AddrSpec();
  /** ports [low, high] for origsrc, origdst, replsrc, repldst */
  readonly ports: Int32Array = new Int32Array(8);
  expMin = 0;
  expMax = 0;

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    const set = (f: number): void => {
      if (this.flags & f) p.fail(`conntrack: option "--${o}" given twice`);
      this.flags |= f;
      if (inv) this.inv |= f;
    };
    switch (o) {
      case "state":
      case "ctstate":
        set(F_STATE);
        this.stateMask = parseList(p, arg, STATE_NAMES, "ctstate", false);
        return;
      case "ctproto": {
        set(F_PROTO);
        const n = parseProtocol(arg);
        if (n < 0) p.failArg(`unknown protocol '${arg}' specified`);
        // iptables 1.8.9 takes `! --ctproto 0` (it matches every entry) and prints it back
        this.l4proto = n;
        return;
      }
      case "ctorigsrc":
        set(F_ORIGSRC);
        this.parseAddr(p, arg, this.origSrc);
        return;
      case "ctorigdst":
        set(F_ORIGDST);
        this.parseAddr(p, arg, this.origDst);
        return;
      case "ctreplsrc":
        set(F_REPLSRC);
        this.parseAddr(p, arg, this.replSrc);
        return;
      case "ctrepldst":
        set(F_REPLDST);
        this.parseAddr(p, arg, this.replDst);
        return;
      case "ctstatus":
        set(F_STATUS);
        this.statusMask = parseList(p, arg, STATUS_NAMES, "ctstatus", true);
        return;
      case "ctexpire": {
        set(F_EXPIRES);
        const m = /^([0-9]+)(?::([0-9]+))?$/.exec(arg);
        if (m === null) p.failArg(`bad --ctexpire '${arg}'`);
        this.expMin = Number(m[1]);
        this.expMax = m[2] === undefined ? this.expMin : Number(m[2]);
        if (this.expMin > 0xffffffff || this.expMax > 0xffffffff) p.failArg(`bad --ctexpire '${arg}'`);
        // a reversed range is taken (and printed back) by iptables 1.8.9; it never matches
        return;
      }
      case "ctorigsrcport":
        set(F_ORIGSRC_PORT);
        this.parsePorts(p, arg, 0);
        return;
      case "ctorigdstport":
        set(F_ORIGDST_PORT);
        this.parsePorts(p, arg, 2);
        return;
      case "ctreplsrcport":
        set(F_REPLSRC_PORT);
        this.parsePorts(p, arg, 4);
        return;
      case "ctrepldstport":
        set(F_REPLDST_PORT);
        this.parsePorts(p, arg, 6);
        return;
      case "ctdir":
        set(F_DIRECTION);
        if (arg.toUpperCase() === "ORIGINAL") this.inv &= ~F_DIRECTION;
        else if (arg.toUpperCase() === "REPLY") this.inv |= F_DIRECTION;
        else p.failArg(`bad --ctdir '${arg}' (ORIGINAL or REPLY)`);
        return;
    }
  }

  private parseAddr(p: ParseCtx, s: string, into: AddrSpec): void {
    const slash = s.indexOf("/");
    const a = slash < 0 ? s : s.slice(0, slash);
    const m = slash < 0 ? null : s.slice(slash + 1);
    if (!parseAddr(this.family, a, into.addr)) p.failArg(`host/network '${a}' not found (numeric addresses only)`);
    const max = this.family === 4 ? 32 : 128;
    if (m === null) prefixMask(this.family, max, into.mask);
    else if (/^[0-9]+$/.test(m) && Number(m) <= max) prefixMask(this.family, Number(m), into.mask);
    else if (!parseAddr(this.family, m, into.mask)) p.failArg(`invalid mask '${m}' specified`);
  }

  private parsePorts(p: ParseCtx, s: string, at: number): void {
    const c = s.indexOf(":");
    const lo = portOrFail(p, c < 0 ? s : s.slice(0, c));
    const hi = c < 0 ? lo : portOrFail(p, s.slice(c + 1));
    // a reversed range is taken (and printed back) by iptables 1.8.9; it never matches
    this.ports[at] = lo;
    this.ports[at + 1] = hi;
  }

  override finalCheck(p: ParseCtx): void {
    if (this.flags === 0) p.fail(`${this.name}: at least one option is required`);
  }

  /**
   * plainStateTest: for a match that only tests `[!] --ctstate` bits derived from ctinfo (no SNAT /
   * DNAT, no other option), the state mask, with bit 15 set when negated; -1 otherwise. The compiled
   * table runs such a match inline (table.ts) with the same result as match().
   */
  plainStateTest(): number {
    if (this.flags !== F_STATE || (this.stateMask & (CtState.SNAT | CtState.DNAT)) !== 0) return -1;
    return this.stateMask | ((this.inv & F_STATE) !== 0 ? 1 << 15 : 0);
  }

  match(skb: Skb, env: RuleEnv): boolean {
    const ctx = skb.ct;
    const flags = this.flags;
    const inv = this.inv;
    let statebit: number;
    if (ctx >= 0) {
      const ci = skb.ctInfo;
      statebit = ci === CtInfo.Untracked ? CtState.UNTRACKED : 1 << ((ci % 3) + 1);
    } else statebit = skb.ctInfo === CtInfo.Untracked ? CtState.UNTRACKED : CtState.INVALID;
    const ct = env.ct;
    if (flags & F_STATE) {
      // the SNAT / DNAT bits come from the entry's status: read it only when the mask tests them
      if (ctx >= 0 && (this.stateMask & (CtState.SNAT | CtState.DNAT)) !== 0) {
        const st = ct.status(ctx);
        if (st & IPS.SRC_NAT) statebit |= CtState.SNAT;
        if (st & IPS.DST_NAT) statebit |= CtState.DNAT;
      }
      if (((this.stateMask & statebit) !== 0) === ((inv & F_STATE) !== 0)) return false;
    }
    if (ctx < 0) return (flags & F_STATE) !== 0;
    if (flags & F_DIRECTION) {
      const original = skb.ctInfo < 3;
      if (original === ((inv & F_DIRECTION) !== 0)) return false;
    }
    const t = env.tuple;
    if (flags & (F_ORIGSRC | F_ORIGDST | F_ORIGSRC_PORT | F_ORIGDST_PORT)) {
      ct.tuple(ctx, Dir.Original, t);
      if (flags & F_ORIGSRC && addrEq(t.src, this.origSrc, this.family) === ((inv & F_ORIGSRC) !== 0)) return false;
      if (flags & F_ORIGDST && addrEq(t.dst, this.origDst, this.family) === ((inv & F_ORIGDST) !== 0)) return false;
    }
    if (flags & (F_REPLSRC | F_REPLDST)) {
      ct.tuple(ctx, Dir.Reply, t);
      if (flags & F_REPLSRC && addrEq(t.src, this.replSrc, this.family) === ((inv & F_REPLSRC) !== 0)) return false;
      if (flags & F_REPLDST && addrEq(t.dst, this.replDst, this.family) === ((inv & F_REPLDST) !== 0)) return false;
    }
    if (flags & F_PROTO && (ct.l4proto(ctx) === this.l4proto) === ((inv & F_PROTO) !== 0)) return false;
    const pr = this.ports;
    if (flags & (F_ORIGSRC_PORT | F_ORIGDST_PORT)) {
      ct.tuple(ctx, Dir.Original, t);
      if (flags & F_ORIGSRC_PORT && (t.srcPort >= pr[0]! && t.srcPort <= pr[1]!) === ((inv & F_ORIGSRC_PORT) !== 0)) {
        return false;
      }
      if (flags & F_ORIGDST_PORT && (t.dstPort >= pr[2]! && t.dstPort <= pr[3]!) === ((inv & F_ORIGDST_PORT) !== 0)) {
        return false;
      }
    }
    if (flags & (F_REPLSRC_PORT | F_REPLDST_PORT)) {
      ct.tuple(ctx, Dir.Reply, t);
      if (flags & F_REPLSRC_PORT && (t.srcPort >= pr[4]! && t.srcPort <= pr[5]!) === ((inv & F_REPLSRC_PORT) !== 0)) {
        return false;
      }
      if (flags & F_REPLDST_PORT && (t.dstPort >= pr[6]! && t.dstPort <= pr[7]!) === ((inv & F_REPLDST_PORT) !== 0)) {
        return false;
      }
    }
    if (flags & F_STATUS && ((this.statusMask & ct.status(ctx)) !== 0) === ((inv & F_STATUS) !== 0)) return false;
    if (flags & F_EXPIRES) {
      const e = ct.expiresIn(ctx, skb.now);
      if ((e >= this.expMin && e <= this.expMax) === ((inv & F_EXPIRES) !== 0)) return false;
    }
    return true;
  }

  private dump(prefix: string): string {
    const f = this.flags;
    const inv = this.inv;
    const neg = (b: number): string => (inv & b ? " !" : "");
    const addr = (a: AddrSpec): string => {
      const len = maskPrefixLen(this.family, a.mask);
      const full = this.family === 4 ? 32 : 128;
      // iptables 1.8.9 prints no mask at all for a non-contiguous one (observed on the reference machine)
      return ` ${formatAddr(this.family, a.addr)}${len === full || len < 0 ? "" : formatMaskSuffix(this.family, a.mask)}`;
    };
    const ports = (name: string, at: number): string => {
      const lo = this.ports[at]!;
      const hi = this.ports[at + 1]!;
      return hi === 0 || lo === hi ? ` ${prefix}${name} ${lo}` : ` ${prefix}${name} ${lo}:${hi}`;
    };
    let s = "";
    if (f & F_STATE) {
      s += `${neg(F_STATE)} ${prefix}${this.stateAlias ? "state" : "ctstate"} ${listText(this.stateMask, STATE_NAMES, false)}`;
    }
    if (f & F_PROTO) s += `${neg(F_PROTO)} ${prefix}ctproto ${this.l4proto}`;
    if (f & F_ORIGSRC) s += `${neg(F_ORIGSRC)} ${prefix}ctorigsrc${addr(this.origSrc)}`;
    if (f & F_ORIGDST) s += `${neg(F_ORIGDST)} ${prefix}ctorigdst${addr(this.origDst)}`;
    if (f & F_REPLSRC) s += `${neg(F_REPLSRC)} ${prefix}ctreplsrc${addr(this.replSrc)}`;
    if (f & F_REPLDST) s += `${neg(F_REPLDST)} ${prefix}ctrepldst${addr(this.replDst)}`;
    if (f & F_ORIGSRC_PORT) s += neg(F_ORIGSRC_PORT) + ports("ctorigsrcport", 0);
    if (f & F_ORIGDST_PORT) s += neg(F_ORIGDST_PORT) + ports("ctorigdstport", 2);
    if (f & F_REPLSRC_PORT) s += neg(F_REPLSRC_PORT) + ports("ctreplsrcport", 4);
    if (f & F_REPLDST_PORT) s += neg(F_REPLDST_PORT) + ports("ctrepldstport", 6);
    if (f & F_STATUS) s += `${neg(F_STATUS)} ${prefix}ctstatus ${listText(this.statusMask, STATUS_NAMES, true)}`;
    if (f & F_EXPIRES) {
      s += `${neg(F_EXPIRES)} ${prefix}ctexpire ${this.expMin === this.expMax ? this.expMin : `${this.expMin}:${this.expMax}`}`;
    }
    if (f & F_DIRECTION) s += ` ${prefix}ctdir ${inv & F_DIRECTION ? "REPLY" : "ORIGINAL"}`;
    return s;
  }

  save(): string {
    return this.dump("--");
  }

  print(): string {
    return this.dump("");
  }
}

function addrEq(k: Int32Array, a: AddrSpec, family: number): boolean {
  const u = a.addr;
  const m = a.mask;
  if (((k[0]! ^ u[0]!) & m[0]!) !== 0) return false;
  if (family === 4) return true;
  return ((k[1]! ^ u[1]!) & m[1]!) === 0 && ((k[2]! ^ u[2]!) & m[2]!) === 0 && ((k[3]! ^ u[3]!) & m[3]!) === 0;
}

/** StateMatch: `-m state --state` (iptables' alias of conntrack --ctstate). */
export class StateMatch extends ConntrackMatch {
  static override readonly extName: string = "state";
  override readonly name = "state";
  override readonly opts = STATE_OPTS;
  override readonly stateAlias = true;
  override finalCheck(p: ParseCtx): void {
    if (this.flags === 0) p.fail('state: option "--state" must be specified');
  }
}
