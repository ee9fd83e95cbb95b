/**
 * NAT targets: DNAT, SNAT, MASQUERADE, REDIRECT, NETMAP (Linux xt_nat.c, xt_MASQUERADE.c,
 * xt_REDIRECT.c, xt_NETMAP.c; iptables libipt_DNAT/SNAT/MASQUERADE/REDIRECT/NETMAP and the IPv6 twins).
 * Each builds its NatRange once at load; at packet time it calls TargetEnv, whose result is the verdict.
 */
import { Manip, NatRange, NatRangeFlag } from "../../core/netfilter.js";
import type { Skb } from "../../core/skb.js";
import { formatAddr, maskPrefixLen, parseAddr, prefixMask } from "../addr.js";
import {
  type CheckCtx,
  HOOK_IN,
  HOOK_OUT,
  HOOK_POST,
  HOOK_PRE,
  hookCheck,
  type OptDef,
  opt,
  type ParseCtx,
  type RuleEnv,
  Target,
} from "../types.js";
import { parseUint } from "../util.js";

/** protocols iptables lets a NAT target map ports (or ICMP ids) for: TCP, UDP, SCTP, DCCP and ICMP / ICMPv6 */
const PORT_PROTOS = [6, 17, 132, 33];

function portsAllowed(p: ParseCtx): boolean {
  return (PORT_PROTOS.includes(p.proto) || p.proto === (p.family === 6 ? 58 : 1)) && !p.protoInv;
}

/** parsePorts: `a[-b][/base]` into the range (PROTO_SPECIFIED, and PROTO_OFFSET with a base). */
function parseNatPorts(p: ParseCtx, s: string, r: NatRange): void {
  if (!portsAllowed(p)) p.failArg("need TCP, UDP, SCTP or DCCP with port specification (-p before the target)");
  const m = /^([0-9]+)(?:-([0-9]+))?(?:\/([0-9]+))?$/.exec(s);
  if (m === null) p.failArg(`port "${s}" not valid`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > 65535 || hi > 65535 || (m[3] !== undefined && Number(m[3]) > 65535)) p.failArg(`port "${s}" not valid`);
  if (hi < lo) p.failArg(`port range "${s}" not valid`);
  if (lo === 0 && m[2] === undefined) p.failArg(`port "${s}" not valid`);
  r.flags |= NatRangeFlag.PROTO_SPECIFIED;
  r.minProto = lo;
  r.maxProto = hi;
  if (m[3] !== undefined) {
    r.flags |= NatRangeFlag.PROTO_OFFSET;
    r.baseProto = Number(m[3]);
  }
}

/** parseTo: `[addr[-addr]][:ports]`, IPv6 addresses in brackets when ports follow (libxt_NAT parse_to). */
function parseTo(p: ParseCtx, family: number, arg: string, r: NatRange): void {
  let addrPart = arg;
  let portPart: string | null = null;
  if (arg.startsWith("[")) {
    const end = arg.indexOf("]");
    if (end < 0 || family === 4) p.failArg("invalid address format");
    addrPart = arg.slice(1, end);
    const rest = arg.slice(end + 1);
    if (rest.startsWith(":")) portPart = rest.slice(1);
    else if (rest !== "") p.failArg("invalid address format");
  } else {
    const c = arg.indexOf(":");
    // one colon is a port; more than one is an IPv6 address
    if (c >= 0 && arg.indexOf(":", c + 1) < 0) {
      addrPart = arg.slice(0, c);
      portPart = arg.slice(c + 1);
    }
  }
  if (portPart !== null) parseNatPorts(p, portPart, r);
  if (addrPart === "") return;
  r.flags |= NatRangeFlag.MAP_IPS;
  const dash = addrPart.indexOf("-");
  const a = dash < 0 ? addrPart : addrPart.slice(0, dash);
  if (!parseAddr(family, a, r.minAddr)) p.failArg(`bad IP address "${a}"`);
  if (dash < 0) r.maxAddr.set(r.minAddr);
  else if (!parseAddr(family, addrPart.slice(dash + 1), r.maxAddr)) {
    p.failArg(`bad IP address "${addrPart.slice(dash + 1)}"`);
  }
}

/** rangeText: the range as iptables prints it (print_range / sprint_range). */
function rangeText(family: number, r: NatRange): string {
  let s = "";
  const ports = (r.flags & NatRangeFlag.PROTO_SPECIFIED) !== 0;
  if (r.flags & NatRangeFlag.MAP_IPS) {
    let a = formatAddr(family, r.minAddr);
    const same =
      r.minAddr[0] === r.maxAddr[0] &&
      r.minAddr[1] === r.maxAddr[1] &&
      r.minAddr[2] === r.maxAddr[2] &&
      r.minAddr[3] === r.maxAddr[3];
    if (!same) a += `-${formatAddr(family, r.maxAddr)}`;
    s += family === 6 && ports ? `[${a}]` : a;
  }
  if (ports) {
    s += `:${r.minProto}`;
    if (r.maxProto !== r.minProto) s += `-${r.maxProto}`;
    if (r.flags & NatRangeFlag.PROTO_OFFSET) s += `/${r.baseProto}`;
  }
  return s;
}

function flagsText(r: NatRange, pfx: string): string {
  let s = "";
  if (r.flags & NatRangeFlag.PROTO_RANDOM) s += ` ${pfx}random`;
  if (r.flags & NatRangeFlag.PROTO_RANDOM_FULLY) s += ` ${pfx}random-fully`;
  if (r.flags & NatRangeFlag.PERSISTENT) s += ` ${pfx}persistent`;
  return s;
}

/** the NatRange AddrNatTarget.action hands to natSetup (which reads it and keeps no reference) */
const SCRATCH_RANGE = new NatRange();

/** DnatTarget / SnatTarget share the parsing of --to-*, --random, --random-fully, --persistent. */
abstract class AddrNatTarget extends Target {
  readonly range: NatRange = new NatRange();
  protected seenTo = false;
  abstract readonly toOpt: string;
  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    switch (o) {
      case "random":
        this.range.flags |= NatRangeFlag.PROTO_RANDOM;
        return;
      case "random-fully":
        this.range.flags |= NatRangeFlag.PROTO_RANDOM_FULLY;
        return;
      case "persistent":
        this.range.flags |= NatRangeFlag.PERSISTENT;
        return;
      default:
        if (this.seenTo) p.fail(`${this.name}: multiple --${this.toOpt} not supported`);
        this.seenTo = true;
        parseTo(p, this.family, arg, this.range);
    }
  }
  // The range again as plain fields of this object, for action(): in a large ruleset the target is
  // met cold, and reading the range through its NatRange and that object's two Int32Arrays costs up to
  // three more cache misses than reading these fields next to the target's header.
  private hFlags = 0;
  private hMin0 = 0;
  private hMin1 = 0;
  private hMin2 = 0;
  private hMin3 = 0;
  private hMax0 = 0;
  private hMax1 = 0;
  private hMax2 = 0;
  private hMax3 = 0;
  private hMinProto = 0;
  private hMaxProto = 0;
  private hBaseProto = 0;
  override finalCheck(p: ParseCtx): void {
    if (!this.seenTo) p.fail(`${this.name}: option "--${this.toOpt}" must be specified`);
    const r = this.range;
    this.hFlags = r.flags;
    this.hMin0 = r.minAddr[0]!;
    this.hMin1 = r.minAddr[1]!;
    this.hMin2 = r.minAddr[2]!;
    this.hMin3 = r.minAddr[3]!;
    this.hMax0 = r.maxAddr[0]!;
    this.hMax1 = r.maxAddr[1]!;
    this.hMax2 = r.maxAddr[2]!;
    this.hMax3 = r.maxAddr[3]!;
    this.hMinProto = r.minProto;
    this.hMaxProto = r.maxProto;
    this.hBaseProto = r.baseProto;
  }
  /** the range, from this object's own fields, in a NatRange shared by every NAT target (hot in cache) */
  protected hotRange(): NatRange {
    const r = SCRATCH_RANGE;
    r.flags = this.hFlags;
    const a = r.minAddr;
    a[0] = this.hMin0;
    a[1] = this.hMin1;
    a[2] = this.hMin2;
    a[3] = this.hMin3;
    const b = r.maxAddr;
    b[0] = this.hMax0;
    b[1] = this.hMax1;
    b[2] = this.hMax2;
    b[3] = this.hMax3;
    r.minProto = this.hMinProto;
    r.maxProto = this.hMaxProto;
    r.baseProto = this.hBaseProto;
    return r;
  }
  save(): string {
    return ` --${this.toOpt} ${rangeText(this.family, this.range)}${flagsText(this.range, "--")}`;
  }
  print(): string {
    return ` to:${rangeText(this.family, this.range)}${flagsText(this.range, "")}`;
  }
}

/** DnatTarget: `-j DNAT --to-destination` (nat PREROUTING, OUTPUT). */
export class DnatTarget extends AddrNatTarget {
  static readonly extName: string = "DNAT";
  readonly name = "DNAT";
  readonly toOpt = "to-destination";
  readonly opts: readonly OptDef[] = [opt("to-destination"), opt("random", false), opt("persistent", false)];
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "DNAT target", "nat", HOOK_PRE | HOOK_OUT);
  }
  action(skb: Skb, env: RuleEnv): number {
    return env.target.natSetup(skb, this.hotRange(), Manip.Dst);
  }
}

/** SnatTarget: `-j SNAT --to-source` (nat POSTROUTING, INPUT). */
export class SnatTarget extends AddrNatTarget {
  static readonly extName: string = "SNAT";
  readonly name = "SNAT";
  readonly toOpt = "to-source";
  readonly opts: readonly OptDef[] = [
    opt("to-source"),
    opt("random", false),
    opt("random-fully", false),
    opt("persistent", false),
  ];
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "SNAT target", "nat", HOOK_POST | HOOK_IN);
  }
  action(skb: Skb, env: RuleEnv): number {
    return env.target.natSetup(skb, this.hotRange(), Manip.Src);
  }
}

/** PortsNatTarget: MASQUERADE and REDIRECT: --to-ports and random flags. */
abstract class PortsNatTarget extends Target {
  readonly range: NatRange = new NatRange();
  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    switch (o) {
      case "random":
        this.range.flags |= NatRangeFlag.PROTO_RANDOM;
        return;
      case "random-fully":
        this.range.flags |= NatRangeFlag.PROTO_RANDOM_FULLY;
        return;
      default: {
        if (!portsAllowed(p)) p.failArg("need TCP, UDP, SCTP or DCCP with port specification (-p before the target)");
        const m = /^([0-9]+)(?:[-:]([0-9]+))?$/.exec(arg);
        if (m === null || Number(m[1]) > 65535 || (m[2] !== undefined && Number(m[2]) > 65535)) {
          p.failArg(`port "${arg}" not valid`);
        }
        const lo = Number(m[1]);
        const hi = m[2] === undefined ? lo : Number(m[2]);
        if (hi < lo) p.failArg(`port range "${arg}" not valid`);
        this.range.flags |= NatRangeFlag.PROTO_SPECIFIED;
        this.range.minProto = lo;
        this.range.maxProto = hi;
      }
    }
  }
  protected portsText(): string {
    const r = this.range;
    return r.maxProto === r.minProto ? `${r.minProto}` : `${r.minProto}-${r.maxProto}`;
  }
}

/** MasqueradeTarget: `-j MASQUERADE` (nat POSTROUTING). */
export class MasqueradeTarget extends PortsNatTarget {
  static readonly extName: string = "MASQUERADE";
  readonly name = "MASQUERADE";
  readonly opts: readonly OptDef[] = [opt("to-ports"), opt("random", false), opt("random-fully", false)];
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "MASQUERADE target", "nat", HOOK_POST);
  }
  action(skb: Skb, env: RuleEnv): number {
    return env.target.masquerade(skb, this.range);
  }
  save(): string {
    let s = "";
    if (this.range.flags & NatRangeFlag.PROTO_SPECIFIED) s += ` --to-ports ${this.portsText()}`;
    return s + flagsText(this.range, "--");
  }
  print(): string {
    let s = "";
    if (this.range.flags & NatRangeFlag.PROTO_SPECIFIED) s += ` masq ports: ${this.portsText()}`;
    return s + flagsText(this.range, "");
  }
}

/** RedirectTarget: `-j REDIRECT` (nat PREROUTING, OUTPUT). */
export class RedirectTarget extends PortsNatTarget {
  static readonly extName: string = "REDIRECT";
  readonly name = "REDIRECT";
  readonly opts: readonly OptDef[] = [opt("to-ports"), opt("random", false)];
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "REDIRECT target", "nat", HOOK_PRE | HOOK_OUT);
  }
  action(skb: Skb, env: RuleEnv): number {
    return env.target.redirect(skb, this.range);
  }
  save(): string {
    let s = "";
    if (this.range.flags & NatRangeFlag.PROTO_SPECIFIED) s += ` --to-ports ${this.portsText()}`;
    return s + flagsText(this.range, "--");
  }
  print(): string {
    let s = "";
    if (this.range.flags & NatRangeFlag.PROTO_SPECIFIED) s += ` redir ports ${this.portsText()}`;
    return s + flagsText(this.range, "");
  }
}

/**
 * NetmapTarget: `-j NETMAP --to prefix`: maps the destination (PREROUTING, OUTPUT) or source
 * (POSTROUTING, INPUT) address into the prefix, keeping the host bits. The gateway applies
 * `new = (addr & ~mask) | (min & mask)` through natSetup with a one-address range it computes; here the
 * range carries min/max of the prefix and the NETMAP flag, and the manip follows the hook.
 */
export class NetmapTarget extends Target {
  static readonly extName: string = "NETMAP";
  readonly name = "NETMAP";
  readonly opts: readonly OptDef[] = [opt("to")];
  readonly range: NatRange = new NatRange();
  readonly mask: Int32Array = new Int32Array(4);
  private seen = false;
  parse(_o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    this.seen = true;
    const slash = arg.indexOf("/");
    const a = slash < 0 ? arg : arg.slice(0, slash);
    const m = slash < 0 ? null : arg.slice(slash + 1);
    const r = this.range;
    if (!parseAddr(this.family, a, r.minAddr)) p.failArg(`bad IP address "${a}"`);
    const max = this.family === 4 ? 32 : 128;
    if (m === null) prefixMask(this.family, max, this.mask);
    else {
      const n = parseUint(m, 0, max, false);
      if (n !== null) prefixMask(this.family, n, this.mask);
      else if (!parseAddr(this.family, m, this.mask)) p.failArg(`bad netmask "${m}"`);
    }
    for (let i = 0; i < 4; i++) {
      r.minAddr[i] = r.minAddr[i]! & this.mask[i]!;
      r.maxAddr[i] = r.minAddr[i]! | ~this.mask[i]!;
    }
    if (this.family === 4) {
      r.maxAddr[1] = r.maxAddr[2] = r.maxAddr[3] = 0;
    }
    r.flags = NatRangeFlag.MAP_IPS | NatRangeFlag.NETMAP;
  }
  override finalCheck(p: ParseCtx): void {
    if (!this.seen) p.fail('NETMAP: option "--to" must be specified');
  }
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "NETMAP target", "nat", HOOK_PRE | HOOK_POST | HOOK_OUT | HOOK_IN);
  }
  action(skb: Skb, env: RuleEnv): number {
    const h = skb.hook;
    // PREROUTING / OUTPUT map the destination, POSTROUTING / INPUT the source
    const manip = h === 0 || h === 3 ? Manip.Dst : Manip.Src;
    return env.target.natSetup(skb, this.range, manip);
  }
  private text(): string {
    const len = maskPrefixLen(this.family, this.mask);
    return `${formatAddr(this.family, this.range.minAddr)}/${len >= 0 ? len : formatAddr(this.family, this.mask)}`;
  }
  save(): string {
    return ` --to ${this.text()}`;
  }
  print(): string {
    return ` to:${this.text()}`;
  }
}
