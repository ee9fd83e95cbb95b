/**
 * Small matches: comment, mark, connmark, length, ttl, hl, pkttype, mac, iprange, owner (Linux xt_*.c
 * and iptables libxt_*.c of the same names). Each keeps Linux's packet-time test and iptables' save and
 * list printers.
 */
import { PacketType, type Skb } from "../../core/skb.js";
import { formatAddr, parseAddr } from "../addr.js";
import { quoteForSave } from "../lexer.js";
import {
  type CheckCtx,
  HOOK_OUT,
  HOOK_POST,
  hookCheck,
  Match,
  type OptDef,
  opt,
  type ParseCtx,
  type RuleEnv,
} from "../types.js";
import { hex, parseMarkMask, parseUint } from "../util.js";

/** printMarkMask: ` 0x10` or ` 0x10/0xff` (libxtables xtables_print_mark_mask). */
function markMask(mark: number, mask: number): string {
  return mask >>> 0 === 0xffffffff ? ` ${hex(mark)}` : ` ${hex(mark)}/${hex(mask)}`;
}

/** CommentMatch: `-m comment --comment TEXT` (always matches). */
export class CommentMatch extends Match {
  static readonly extName: string = "comment";
  readonly name = "comment";
  readonly opts: readonly OptDef[] = [opt("comment")];
  comment = "";
  private seen = false;
  override alwaysMatches = true;
  parse(_o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    if (this.seen) p.fail('comment: option "--comment" can only be used once');
    this.seen = true;
    // iptables keeps at most 255 characters (XT_MAX_COMMENT_LEN - 1) and silently drops the rest
    this.comment = arg.length > 255 ? arg.slice(0, 255) : arg;
  }
  override finalCheck(p: ParseCtx): void {
    if (!this.seen) p.fail('comment: option "--comment" must be specified');
  }
  match(_skb: Skb, _env: RuleEnv): boolean {
    return true;
  }
  save(): string {
    return ` --comment ${quoteForSave(this.comment)}`;
  }
  print(): string {
    return ` /* ${this.comment} */`;
  }
}

/** `--mark value[/mask]`, once and required: what the mark and connmark matches share */
abstract class MarkValueMatch extends Match {
  readonly opts: readonly OptDef[] = [opt("mark", true, true)];
  mark = 0;
  mask = -1;
  inv = false;
  private seen = false;
  parse(_o: string, arg: string, inv: boolean, p: ParseCtx): void {
    if (this.seen) p.fail(`${this.name}: option "--mark" can only be used once`);
    this.seen = true;
    const [v, m] = parseMarkMask(p, arg);
    this.mark = v | 0;
    this.mask = m | 0;
    this.inv = inv;
  }
  override finalCheck(p: ParseCtx): void {
    if (!this.seen) p.fail(`${this.name}: option "--mark" must be specified`);
  }
  save(): string {
    return `${this.inv ? " !" : ""} --mark${markMask(this.mark, this.mask)}`;
  }
}

/** MarkMatch: `-m mark [!] --mark value[/mask]` (Linux mark_mt: (skb->mark & mask) == mark). */
export class MarkMatch extends MarkValueMatch {
  static readonly extName: string = "mark";
  readonly name = "mark";
  match(skb: Skb, _env: RuleEnv): boolean {
    return ((skb.mark & this.mask) === this.mark) !== this.inv;
  }
  print(): string {
    return ` mark match${this.inv ? " !" : ""}${markMask(this.mark, this.mask)}`;
  }
}

/** ConnmarkMatch: `-m connmark [!] --mark value[/mask]` (no conntrack entry: no match). */
export class ConnmarkMatch extends MarkValueMatch {
  static readonly extName: string = "connmark";
  readonly name = "connmark";
  match(skb: Skb, env: RuleEnv): boolean {
    if (skb.ct < 0) return false;
    return ((env.ct.mark(skb.ct) & this.mask) === this.mark) !== this.inv;
  }
  print(): string {
    return ` connmark match ${this.inv ? "!" : ""}${markMask(this.mark, this.mask)}`;
  }
}

/** LengthMatch: `-m length [!] --length min[:max]` on the IP packet length (IPv6: payload + 40). */
export class LengthMatch extends Match {
  static readonly extName: string = "length";
  readonly name = "length";
  readonly opts: readonly OptDef[] = [opt("length", true, true)];
  min = 0;
  max = 0xffff;
  inv = false;
  private seen = false;
  parse(_o: string, arg: string, inv: boolean, p: ParseCtx): void {
    this.seen = true;
    const c = arg.indexOf(":");
    const a = c < 0 ? arg : arg.slice(0, c);
    const b = c < 0 ? arg : arg.slice(c + 1);
    const lo = a === "" ? 0 : parseUint(a, 0, 0xffff, false);
    const hi = b === "" ? 0xffff : parseUint(b, 0, 0xffff, false);
    if (lo === null || hi === null) p.failArg(`length: bad value '${arg}'`);
    // a reversed range is taken (and printed back) by iptables 1.8.9; it never matches
    this.min = lo;
    this.max = hi;
    this.inv = inv;
  }
  override finalCheck(p: ParseCtx): void {
    if (!this.seen) p.fail('length: option "--length" must be specified');
  }
  match(skb: Skb, _env: RuleEnv): boolean {
    const len = skb.pi.len;
    return (len >= this.min && len <= this.max) !== this.inv;
  }
  private range(): string {
    return this.min === this.max ? `${this.min}` : `${this.min}:${this.max}`;
  }
  save(): string {
    return `${this.inv ? " !" : ""} --length ${this.range()}`;
  }
  print(): string {
    return ` length ${this.inv ? "!" : ""}${this.range()}`;
  }
}

const TTL_EQ = 0;
const TTL_NE = 1;
const TTL_LT = 2;
const TTL_GT = 3;

/** TtlMatch: `-m ttl --ttl-eq/--ttl-lt/--ttl-gt N` (IPv4); HlMatch the IPv6 hop limit twin. */
export class TtlMatch extends Match {
  static readonly extName: string = "ttl";
  readonly name: string = "ttl";
  readonly opts: readonly OptDef[] = [opt("ttl-eq", true, true), opt("ttl-lt"), opt("ttl-gt")];
  protected readonly prefix: string = "ttl";
  mode = TTL_EQ;
  value = 0;
  private seen = false;
  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    if (this.seen)
      p.fail(`${this.name}: only one of --${this.prefix}-eq, --${this.prefix}-lt, --${this.prefix}-gt allowed`);
    this.seen = true;
    const v = parseUint(arg, 0, 255, false);
    if (v === null) p.failArg(`${this.name}: invalid value '${arg}'`);
    this.value = v;
    const kind = o.slice(this.prefix.length + 1);
    this.mode = kind === "eq" ? (inv ? TTL_NE : TTL_EQ) : kind === "lt" ? TTL_LT : TTL_GT;
  }
  override finalCheck(p: ParseCtx): void {
    if (!this.seen)
      p.fail(`${this.name}: one of --${this.prefix}-eq, --${this.prefix}-lt, --${this.prefix}-gt is required`);
  }
  match(skb: Skb, _env: RuleEnv): boolean {
    const t = skb.pi.ttl;
    switch (this.mode) {
      case TTL_EQ:
        return t === this.value;
      case TTL_NE:
        return t !== this.value;
      case TTL_LT:
        return t < this.value;
      default:
        return t > this.value;
    }
  }
  save(): string {
    const p = this.prefix;
    switch (this.mode) {
      case TTL_EQ:
        return ` --${p}-eq ${this.value}`;
      case TTL_NE:
        return ` ! --${p}-eq ${this.value}`;
      case TTL_LT:
        return ` --${p}-lt ${this.value}`;
      default:
        return ` --${p}-gt ${this.value}`;
    }
  }
  print(): string {
    const p = this.name === "ttl" ? "TTL" : "HL";
    const op = ["==", "!=", "<", ">"][this.mode]!;
    return ` ${p} match ${p} ${op} ${this.value}`;
  }
}

export class HlMatch extends TtlMatch {
  static override readonly extName: string = "hl";
  override readonly name = "hl";
  override readonly opts: readonly OptDef[] = [opt("hl-eq", true, true), opt("hl-lt"), opt("hl-gt")];
  protected override readonly prefix = "hl";
}

const PKTTYPES: readonly [string, number][] = [
  ["unicast", PacketType.Host],
  ["broadcast", PacketType.Broadcast],
  ["multicast", PacketType.Multicast],
  ["otherhost", PacketType.OtherHost],
  ["bcast", PacketType.Broadcast],
  ["mcast", PacketType.Multicast],
  ["host", PacketType.Host],
];

/** PkttypeMatch: `-m pkttype --pkt-type unicast|broadcast|multicast|otherhost`. */
export class PkttypeMatch extends Match {
  static readonly extName: string = "pkttype";
  readonly name = "pkttype";
  readonly opts: readonly OptDef[] = [opt("pkt-type", true, true)];
  type = 0;
  inv = false;
  private seen = false;
  parse(_o: string, arg: string, inv: boolean, p: ParseCtx): void {
    this.seen = true;
    const e = PKTTYPES.find(([n]) => n === arg.toLowerCase());
    if (e === undefined) p.failArg(`bad packet type '${arg}'`);
    this.type = e[1];
    this.inv = inv;
  }
  override finalCheck(p: ParseCtx): void {
    if (!this.seen) p.fail('pkttype: option "--pkt-type" must be specified');
  }
  match(skb: Skb, _env: RuleEnv): boolean {
    return (skb.pktType === this.type) !== this.inv;
  }
  private typeName(): string {
    return PKTTYPES.find(([, v]) => v === this.type)![0];
  }
  save(): string {
    return `${this.inv ? " !" : ""} --pkt-type ${this.typeName()}`;
  }
  print(): string {
    return ` PKTTYPE ${this.inv ? "!" : ""}= ${this.typeName()}`;
  }
}

/** MacMatch: `-m mac --mac-source XX:..` (PREROUTING, INPUT, FORWARD; needs an Ethernet header). */
export class MacMatch extends Match {
  static readonly extName: string = "mac";
  readonly name = "mac";
  readonly opts: readonly OptDef[] = [opt("mac-source", true, true)];
  readonly mac: Uint8Array = new Uint8Array(6);
  inv = false;
  private seen = false;
  parse(_o: string, arg: string, inv: boolean, p: ParseCtx): void {
    this.seen = true;
    const parts = arg.split(":");
    if (parts.length !== 6 || parts.some((x) => !/^[0-9a-fA-F]{1,2}$/.test(x))) p.failArg(`bad mac address '${arg}'`);
    for (let i = 0; i < 6; i++) this.mac[i] = Number.parseInt(parts[i]!, 16);
    this.inv = inv;
  }
  override finalCheck(p: ParseCtx): void {
    if (!this.seen) p.fail('mac: option "--mac-source" must be specified');
  }
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "mac match", null, 0b00111);
  }
  match(skb: Skb, _env: RuleEnv): boolean {
    // Linux: no Ethernet header (or not enough of it) → no match, whatever the inversion
    const o = skb.macOff;
    if (o < 0 || o + 14 > skb.l2.length) return false;
    const b = skb.l2;
    const m = this.mac;
    const eq =
      b[o + 6] === m[0] &&
      b[o + 7] === m[1] &&
      b[o + 8] === m[2] &&
      b[o + 9] === m[3] &&
      b[o + 10] === m[4] &&
      b[o + 11] === m[5];
    return eq !== this.inv;
  }
  private text(): string {
    return Array.from(this.mac, (x) => x.toString(16).padStart(2, "0")).join(":");
  }
  save(): string {
    return `${this.inv ? " !" : ""} --mac-source ${this.text()}`;
  }
  print(): string {
    return ` MAC ${this.inv ? "! " : ""}${this.text()}`;
  }
}

const IPRANGE_SRC = 1;
const IPRANGE_DST = 2;
const IPRANGE_SRC_INV = 0x10;
const IPRANGE_DST_INV = 0x20;

/** IprangeMatch: `-m iprange --src-range a-b --dst-range a-b` (inclusive, compared as unsigned numbers). */
export class IprangeMatch extends Match {
  static readonly extName: string = "iprange";
  readonly name = "iprange";
  readonly opts: readonly OptDef[] = [opt("src-range", true, true), opt("dst-range", true, true)];
  flags = 0;
  readonly srcMin: Int32Array = new Int32Array(4);
  readonly srcMax: Int32Array = new Int32Array(4);
  readonly dstMin: Int32Array = new Int32Array(4);
  readonly dstMax: Int32Array = new Int32Array(4);
  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    const src = o === "src-range";
    const bit = src ? IPRANGE_SRC : IPRANGE_DST;
    if (this.flags & bit) p.fail(`iprange: option "--${o}" can only be used once`);
    this.flags |= bit;
    if (inv) this.flags |= src ? IPRANGE_SRC_INV : IPRANGE_DST_INV;
    const dash = arg.indexOf("-");
    const a = dash < 0 ? arg : arg.slice(0, dash);
    const b = dash < 0 ? arg : arg.slice(dash + 1);
    const lo = src ? this.srcMin : this.dstMin;
    const hi = src ? this.srcMax : this.dstMax;
    if (!parseAddr(this.family, a, lo) || !parseAddr(this.family, b, hi)) p.failArg(`iprange: bad range '${arg}'`);
  }
  override finalCheck(p: ParseCtx): void {
    if ((this.flags & (IPRANGE_SRC | IPRANGE_DST)) === 0)
      p.fail("iprange match: you must specify --src-range or --dst-range");
  }
  match(skb: Skb, _env: RuleEnv): boolean {
    const pi = skb.pi;
    const f = this.flags;
    if (f & IPRANGE_SRC) {
      const inRange = cmpAddr(pi.src, this.srcMin, this.family) >= 0 && cmpAddr(pi.src, this.srcMax, this.family) <= 0;
      if (inRange === ((f & IPRANGE_SRC_INV) !== 0)) return false;
    }
    if (f & IPRANGE_DST) {
      const inRange = cmpAddr(pi.dst, this.dstMin, this.family) >= 0 && cmpAddr(pi.dst, this.dstMax, this.family) <= 0;
      if (inRange === ((f & IPRANGE_DST_INV) !== 0)) return false;
    }
    return true;
  }
  private text(prefix: string): string {
    let s = "";
    const f = this.flags;
    const fam = this.family;
    if (f & IPRANGE_SRC) {
      s += `${f & IPRANGE_SRC_INV ? " !" : ""} ${prefix}src-range ${formatAddr(fam, this.srcMin)}-${formatAddr(fam, this.srcMax)}`;
    }
    if (f & IPRANGE_DST) {
      s += `${f & IPRANGE_DST_INV ? " !" : ""} ${prefix}dst-range ${formatAddr(fam, this.dstMin)}-${formatAddr(fam, this.dstMax)}`;
    }
    return s;
  }
  save(): string {
    return this.text("--");
  }
  print(): string {
    let s = "";
    const f = this.flags;
    const fam = this.family;
    if (f & IPRANGE_SRC) {
      s += ` source IP range ${f & IPRANGE_SRC_INV ? "! " : ""}${formatAddr(fam, this.srcMin)}-${formatAddr(fam, this.srcMax)}`;
    }
    if (f & IPRANGE_DST) {
      s += ` destination IP range ${f & IPRANGE_DST_INV ? "! " : ""}${formatAddr(fam, this.dstMin)}-${formatAddr(fam, this.dstMax)}`;
    }
    return s;
  }
}

/** cmpAddr: unsigned comparison of two addresses (words in network order). */
function cmpAddr(a: Int32Array, b: Int32Array, family: number): number {
  const n = family === 4 ? 1 : 4;
  for (let i = 0; i < n; i++) {
    const x = a[i]! >>> 0;
    const y = b[i]! >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * OwnerMatch: `-m owner --uid-owner/--gid-owner/--socket-exists` (OUTPUT and POSTROUTING). ctnat's
 * gateway has no local sockets: every packet it sees there is socketless, for which Linux matches only
 * when every given test is negated.
 */
export class OwnerMatch extends Match {
  static readonly extName: string = "owner";
  readonly name = "owner";
  readonly opts: readonly OptDef[] = [
    opt("uid-owner", true, true),
    opt("gid-owner", true, true),
    opt("socket-exists", false, true),
    opt("suppl-groups", false, false),
  ];
  /** [option, text, inverted] in the order given */
  private readonly items: { o: string; arg: string; inv: boolean }[] = [];
  match_ = 0;
  invert = 0;
  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    const bit = o === "uid-owner" ? 1 : o === "gid-owner" ? 2 : o === "socket-exists" ? 4 : 8;
    if (this.match_ & bit) p.fail(`owner: option "--${o}" can only be used once`);
    if (o === "uid-owner" || o === "gid-owner") {
      if (!/^[0-9]+(-[0-9]+)?$/.test(arg)) p.failArg(`owner: numeric ids only ('${arg}'); ctnat has no user database`);
    }
    this.match_ |= bit;
    if (inv) this.invert |= bit;
    this.items.push({ o, arg, inv });
  }
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "owner match", null, HOOK_OUT | HOOK_POST);
  }
  match(_skb: Skb, _env: RuleEnv): boolean {
    // no socket: Linux returns (match ^ invert) == 0 (suppl-groups is a modifier, not a test)
    return ((this.match_ & 7) ^ (this.invert & 7)) === 0;
  }
  save(): string {
    let s = "";
    for (const it of this.items) {
      if (it.o === "suppl-groups") continue;
      s += `${it.inv ? " !" : ""} --${it.o}${it.arg === "" ? "" : ` ${it.arg}`}`;
    }
    if (this.match_ & 8) s += " --suppl-groups";
    return s;
  }
  print(): string {
    let s = "";
    for (const it of this.items) {
      if (it.o === "suppl-groups") continue;
      const label =
        it.o === "uid-owner" ? "owner UID match" : it.o === "gid-owner" ? "owner GID match" : "owner socket exists";
      s += `${it.inv ? " !" : ""} ${label}${it.arg === "" ? "" : ` ${it.arg}`}`;
    }
    return s;
  }
}
