/**
 * Non-NAT extension targets: REJECT, LOG, NFLOG, MARK, CONNMARK, CT (--notrack), NOTRACK, TRACE (Linux
 * ipt_REJECT.c / ip6t_REJECT.c, xt_LOG.c, xt_NFLOG.c, xt_mark.c, xt_connmark.c, xt_CT.c, xt_TRACE.c;
 * iptables libxt_* / libipt_REJECT / libip6t_REJECT).
 */
import { RejectWith } from "../../core/env.js";
import { CtInfo, CtZone, Verdict } from "../../core/netfilter.js";
import type { Skb } from "../../core/skb.js";
import { quoteForSave } from "../lexer.js";
import {
  type CheckCtx,
  HOOK_FWD,
  HOOK_IN,
  HOOK_OUT,
  hookCheck,
  type OptDef,
  opt,
  type ParseCtx,
  type RuleEnv,
  Target,
} from "../types.js";
import { hex, parseMarkMask, parseUint } from "../util.js";

// [name, alias, RejectWith value], in iptables' table order (the first prefix match wins)
const REJECT4: readonly [string, string, number][] = [
  ["icmp-net-unreachable", "net-unreach", RejectWith.IcmpNetUnreachable],
  ["icmp-host-unreachable", "host-unreach", RejectWith.IcmpHostUnreachable],
  ["icmp-proto-unreachable", "proto-unreach", RejectWith.IcmpProtUnreachable],
  ["icmp-port-unreachable", "port-unreach", RejectWith.IcmpPortUnreachable],
  ["icmp-net-prohibited", "net-prohib", RejectWith.IcmpNetProhibited],
  ["icmp-host-prohibited", "host-prohib", RejectWith.IcmpHostProhibited],
  ["tcp-reset", "tcp-rst", RejectWith.TcpReset],
  ["icmp-admin-prohibited", "admin-prohib", RejectWith.IcmpAdminProhibited],
];
const REJECT6: readonly [string, string, number][] = [
  ["icmp6-no-route", "no-route", RejectWith.Icmp6NoRoute],
  ["icmp6-adm-prohibited", "adm-prohibited", RejectWith.Icmp6AdmProhibited],
  ["icmp6-addr-unreachable", "addr-unreach", RejectWith.Icmp6AddrUnreachable],
  ["icmp6-port-unreachable", "port-unreach", RejectWith.Icmp6PortUnreachable],
  ["tcp-reset", "tcp-reset", RejectWith.TcpReset],
  ["icmp6-policy-fail", "policy-fail", RejectWith.Icmp6PolicyFail],
  ["icmp6-reject-route", "reject-route", RejectWith.Icmp6RejectRoute],
];

/** RejectTarget: `-j REJECT [--reject-with type]`: send the reply (TargetEnv.reject), then drop. */
export class RejectTarget extends Target {
  static readonly extName: string = "REJECT";
  readonly name = "REJECT";
  readonly opts: readonly OptDef[] = [opt("reject-with")];
  with: number;
  private tcpOk = false;
  constructor(family: number) {
    super(family);
    this.with = family === 4 ? RejectWith.IcmpPortUnreachable : RejectWith.Icmp6PortUnreachable;
  }
  private table(): readonly [string, string, number][] {
    return this.family === 4 ? REJECT4 : REJECT6;
  }
  parse(_o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    const a = arg.toLowerCase();
    for (const [name, alias, v] of this.table()) {
      if (name.startsWith(a) || alias.startsWith(a)) {
        this.with = v;
        return;
      }
    }
    if ("echo-reply".startsWith(a) || "echoreply".startsWith(a))
      p.failArg("--reject-with echo-reply is no longer supported");
    p.failArg(`unknown reject type "${arg}"`);
  }
  override finalCheck(p: ParseCtx): void {
    this.tcpOk = p.proto === 6 && !p.protoInv;
  }
  override check(c: CheckCtx): string | null {
    if (this.with === RejectWith.TcpReset && !this.tcpOk) return "REJECT: TCP_RESET invalid for non-tcp (use -p tcp)";
    return hookCheck(c, "REJECT target", "filter", HOOK_IN | HOOK_FWD | HOOK_OUT);
  }
  action(skb: Skb, env: RuleEnv): number {
    env.target.reject(skb, this.with);
    return Verdict.Drop;
  }
  typeName(): string {
    return this.table().find(([, , v]) => v === this.with)![0];
  }
  save(): string {
    return ` --reject-with ${this.typeName()}`;
  }
  print(): string {
    return ` reject-with ${this.typeName()}`;
  }
}

const LOG_LEVELS: readonly [string, number][] = [
  ["alert", 1],
  ["crit", 2],
  ["debug", 7],
  ["emerg", 0],
  ["error", 3],
  ["info", 6],
  ["notice", 5],
  ["panic", 0],
  ["warning", 4],
  ["warn", 4],
];
const LOG_TCPSEQ = 0x01;
const LOG_TCPOPT = 0x02;
const LOG_IPOPT = 0x04;
const LOG_UID = 0x08;
const LOG_MACDECODE = 0x20;

/** LogTarget: `-j LOG`: records a log line (TargetEnv.log) and continues. */
export class LogTarget extends Target {
  static readonly extName: string = "LOG";
  readonly name = "LOG";
  readonly opts: readonly OptDef[] = [
    opt("log-level"),
    opt("log-prefix"),
    opt("log-tcp-sequence", false),
    opt("log-tcp-options", false),
    opt("log-ip-options", false),
    opt("log-uid", false),
    opt("log-macdecode", false),
  ];
  level = 4;
  prefix = "";
  logflags = 0;
  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    switch (o) {
      case "log-level": {
        const n = parseUint(arg, 0, 7, false);
        if (n !== null) this.level = n;
        else {
          const e = LOG_LEVELS.find(([name]) => name === arg.toLowerCase());
          if (e === undefined) p.failArg(`log-level '${arg}' unknown`);
          this.level = e[1];
        }
        return;
      }
      case "log-prefix":
        if (arg.length === 0) p.failArg("no prefix specified for --log-prefix");
        // iptables warns and keeps the first 29 characters
        this.prefix = arg.length > 29 ? arg.slice(0, 29) : arg;
        return;
      case "log-tcp-sequence":
        this.logflags |= LOG_TCPSEQ;
        return;
      case "log-tcp-options":
        this.logflags |= LOG_TCPOPT;
        return;
      case "log-ip-options":
        this.logflags |= LOG_IPOPT;
        return;
      case "log-uid":
        this.logflags |= LOG_UID;
        return;
      case "log-macdecode":
        this.logflags |= LOG_MACDECODE;
        return;
    }
  }
  action(skb: Skb, env: RuleEnv): number {
    env.target.log(skb, "LOG", this.prefix);
    return Verdict.Continue;
  }
  save(): string {
    let s = "";
    if (this.prefix !== "") s += ` --log-prefix ${quoteForSave(this.prefix)}`;
    if (this.level !== 4) s += ` --log-level ${this.level}`;
    if (this.logflags & LOG_TCPSEQ) s += " --log-tcp-sequence";
    if (this.logflags & LOG_TCPOPT) s += " --log-tcp-options";
    if (this.logflags & LOG_IPOPT) s += " --log-ip-options";
    if (this.logflags & LOG_UID) s += " --log-uid";
    if (this.logflags & LOG_MACDECODE) s += " --log-macdecode";
    return s;
  }
  print(): string {
    let s = ` LOG flags ${this.logflags} level ${this.level}`;
    if (this.prefix !== "") s += ` prefix "${this.prefix}"`;
    return s;
  }
}

/** NflogTarget: `-j NFLOG`: records a log line (TargetEnv.log) and continues. */
export class NflogTarget extends Target {
  static readonly extName: string = "NFLOG";
  readonly name = "NFLOG";
  readonly opts: readonly OptDef[] = [
    opt("nflog-group"),
    opt("nflog-prefix"),
    opt("nflog-range"),
    opt("nflog-size"),
    opt("nflog-threshold"),
  ];
  group = 0;
  prefix = "";
  size = 0;
  hasSize = false;
  /** 0: not given (iptables prints it whenever it was given, even as 1) */
  threshold = 0;
  private seen = 0;
  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    switch (o) {
      case "nflog-group": {
        const v = parseUint(arg, 0, 0xffff);
        if (v === null) p.failArg(`NFLOG: bad --nflog-group '${arg}'`);
        this.group = v;
        return;
      }
      case "nflog-prefix":
        if (arg.length === 0) p.failArg("NFLOG: --nflog-prefix must not be empty");
        this.prefix = arg.length > 63 ? arg.slice(0, 63) : arg;
        return;
      case "nflog-range":
        // iptables: "--nflog-range has never worked and is no longer supported" (accepted, ignored)
        if (this.seen & 2) p.fail('NFLOG: "--nflog-range" cannot be used with "--nflog-size"');
        if (parseUint(arg) === null) p.failArg(`NFLOG: bad --nflog-range '${arg}'`);
        this.seen |= 1;
        return;
      case "nflog-size": {
        if (this.seen & 1) p.fail('NFLOG: "--nflog-size" cannot be used with "--nflog-range"');
        const v = parseUint(arg);
        if (v === null) p.failArg(`NFLOG: bad --nflog-size '${arg}'`);
        this.size = v;
        this.hasSize = true;
        this.seen |= 2;
        return;
      }
      case "nflog-threshold": {
        const v = parseUint(arg, 0, 0xffff);
        if (v === null) p.failArg(`NFLOG: bad --nflog-threshold '${arg}'`);
        this.threshold = v;
        return;
      }
    }
  }
  action(skb: Skb, env: RuleEnv): number {
    env.target.log(skb, "NFLOG", this.prefix);
    return Verdict.Continue;
  }
  private dump(prefix: string): string {
    let s = "";
    if (this.prefix !== "") s += ` ${prefix}nflog-prefix ${quoteForSave(this.prefix)}`;
    if (this.group !== 0) s += ` ${prefix}nflog-group ${this.group}`;
    if (this.hasSize) s += ` ${prefix}nflog-size ${this.size}`;
    if (this.threshold !== 0) s += ` ${prefix}nflog-threshold ${this.threshold}`;
    return s;
  }
  save(): string {
    return this.dump("--");
  }
  print(): string {
    return this.dump("");
  }
}

/** markText: the -L text of an xmark value/mask pair (libxt_MARK mark_tg_print). */
function xmarkText(label: string, mark: number, mask: number): string {
  const m = mark >>> 0;
  const k = mask >>> 0;
  if (m === 0) return ` ${label} and ${hex(~k)}`;
  if (m === k) return ` ${label} or ${hex(m)}`;
  if (k === 0) return ` ${label} xor ${hex(m)}`;
  if (k === 0xffffffff) return ` ${label} set ${hex(m)}`;
  return ` ${label} xset ${hex(m)}/${hex(k)}`;
}

/** parseOneOf: the MARK/CONNMARK set/and/or/xor family → [value, mask] in xmark form. */
function parseXmark(p: ParseCtx, o: string, arg: string): [number, number] {
  switch (o) {
    case "set-xmark":
      return parseMarkMask(p, arg);
    case "set-mark": {
      const [v, m] = parseMarkMask(p, arg);
      return [v, (m | v) >>> 0];
    }
    case "and-mark": {
      const v = parseUint(arg);
      if (v === null) p.failArg(`bad value '${arg}'`);
      return [0, ~v >>> 0];
    }
    case "or-mark": {
      const v = parseUint(arg);
      if (v === null) p.failArg(`bad value '${arg}'`);
      return [v, v];
    }
    default: {
      const v = parseUint(arg);
      if (v === null) p.failArg(`bad value '${arg}'`);
      return [v, 0];
    }
  }
}

/** MarkTarget: `-j MARK`: skb->mark = (mark & ~mask) ^ value (Linux xt_MARK revision 2). */
export class MarkTarget extends Target {
  static readonly extName: string = "MARK";
  readonly name = "MARK";
  readonly opts: readonly OptDef[] = [
    opt("set-xmark"),
    opt("set-mark"),
    opt("and-mark"),
    opt("or-mark"),
    opt("xor-mark"),
  ];
  mark = 0;
  mask = 0;
  private seen = false;
  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    if (this.seen) p.fail("MARK target: only one action (--set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark)");
    this.seen = true;
    const [v, m] = parseXmark(p, o, arg);
    this.mark = v | 0;
    this.mask = m | 0;
  }
  override finalCheck(p: ParseCtx): void {
    if (!this.seen) p.fail("MARK target: parameter required");
  }
  action(skb: Skb, _env: RuleEnv): number {
    skb.mark = (skb.mark & ~this.mask) ^ this.mark;
    return Verdict.Continue;
  }
  save(): string {
    return ` --set-xmark ${hex(this.mark)}/${hex(this.mask)}`;
  }
  print(): string {
    return xmarkText("MARK", this.mark, this.mask);
  }
}

const CM_SET = 0;
const CM_SAVE = 1;
const CM_RESTORE = 2;

/** ConnmarkTarget: `-j CONNMARK`: set/save/restore the connection mark (Linux xt_CONNMARK). */
export class ConnmarkTarget extends Target {
  static readonly extName: string = "CONNMARK";
  readonly name = "CONNMARK";
  readonly opts: readonly OptDef[] = [
    opt("set-xmark"),
    opt("set-mark"),
    opt("and-mark"),
    opt("or-mark"),
    opt("xor-mark"),
    opt("save-mark", false),
    opt("restore-mark", false),
    opt("ctmask"),
    opt("nfmask"),
    opt("mask"),
  ];
  mode = -1;
  ctmark = 0;
  ctmask = -1;
  nfmask = -1;
  private masks = 0;
  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    const act = (): void => {
      if (this.mode >= 0) p.fail("CONNMARK target: only one action allowed");
    };
    switch (o) {
      case "save-mark":
        act();
        this.mode = CM_SAVE;
        return;
      case "restore-mark":
        act();
        this.mode = CM_RESTORE;
        return;
      case "ctmask":
      case "nfmask":
      case "mask": {
        const v = parseUint(arg);
        if (v === null) p.failArg(`bad mask '${arg}'`);
        if (o === "mask" && this.masks & 3) p.fail('CONNMARK: "--mask" cannot be used with "--ctmask" or "--nfmask"');
        if (o !== "mask" && this.masks & 4) p.fail(`CONNMARK: "--${o}" cannot be used with "--mask"`);
        if (o === "ctmask" || o === "mask") this.ctmask = v | 0;
        if (o === "nfmask" || o === "mask") this.nfmask = v | 0;
        this.masks |= o === "ctmask" ? 1 : o === "nfmask" ? 2 : 4;
        return;
      }
      default: {
        act();
        this.mode = CM_SET;
        const [v, m] = parseXmark(p, o, arg);
        this.ctmark = v | 0;
        this.ctmask = m | 0;
      }
    }
  }
  override finalCheck(p: ParseCtx): void {
    if (this.mode < 0) p.fail("CONNMARK target: no operation specified");
    // with a set operation the masks are taken too, in order (libxt_CONNMARK: --mask and --ctmask
    // replace the ctmask an earlier --set-mark made; --set-mark after them replaces theirs)
  }
  action(skb: Skb, env: RuleEnv): number {
    const ct = skb.ct;
    if (ct < 0) return Verdict.Continue;
    const v = env.ct;
    switch (this.mode) {
      case CM_SET: {
        const nm = (v.mark(ct) & ~this.ctmask) ^ this.ctmark;
        if (nm !== v.mark(ct)) v.setMark(ct, nm);
        break;
      }
      case CM_SAVE: {
        const nm = (v.mark(ct) & ~this.ctmask) ^ (skb.mark & this.nfmask);
        if (nm !== v.mark(ct)) v.setMark(ct, nm);
        break;
      }
      default:
        skb.mark = (skb.mark & ~this.nfmask) ^ (v.mark(ct) & this.ctmask);
    }
    return Verdict.Continue;
  }
  save(): string {
    switch (this.mode) {
      case CM_SET:
        return ` --set-xmark ${hex(this.ctmark)}/${hex(this.ctmask)}`;
      case CM_SAVE:
        return ` --save-mark --nfmask ${hex(this.nfmask)} --ctmask ${hex(this.ctmask)}`;
      default:
        return ` --restore-mark --nfmask ${hex(this.nfmask)} --ctmask ${hex(this.ctmask)}`;
    }
  }
  print(): string {
    const nf = this.nfmask >>> 0;
    const ctm = this.ctmask >>> 0;
    switch (this.mode) {
      case CM_SET:
        return xmarkText("CONNMARK", this.ctmark, this.ctmask);
      case CM_SAVE:
        if (nf === 0xffffffff && ctm === 0xffffffff) return " CONNMARK save";
        if (nf === ctm) return ` CONNMARK save mask ${hex(nf)}`;
        return ` CONNMARK save nfmask ${hex(nf)} ctmask ~${hex(ctm)}`;
      default:
        if (nf === 0xffffffff && ctm === 0xffffffff) return " CONNMARK restore";
        if (nf === ctm) return ` CONNMARK restore mask ${hex(ctm)}`;
        return ` CONNMARK restore ctmask ${hex(ctm)} nfmask ~${hex(nf)}`;
    }
  }
}

const CT_ZONE_ORIG = 1;
const CT_ZONE_REPLY = 2;
const CT_ZONE_MARK = 4;

/**
 * CtTarget: `-j CT` (raw table): attaches a conntrack template to the packet (Linux xt_CT): `--notrack`
 * makes it untracked; `--zone N|mark`, `--zone-orig`, `--zone-reply` put its connection into a conntrack
 * zone (the id from the packet mark with `mark`; a direction-limited zone when only one of -orig and
 * -reply was given); with none of them the template is the default zone's. The first CT or NOTRACK
 * target that reaches a packet wins (Linux: a packet that carries a template or connection already is
 * left alone). --helper, --ctevents, --expevents and --timeout are not implemented.
 */
export class CtTarget extends Target {
  static readonly extName: string = "CT";
  readonly name = "CT";
  readonly opts: readonly OptDef[] = [
    opt("notrack", false),
    opt("helper"),
    opt("ctevents"),
    opt("expevents"),
    opt("zone-orig"),
    opt("zone-reply"),
    opt("zone"),
    opt("timeout"),
  ];
  notrack = false;
  /** zone id (the last one given) and the XT_CT_ZONE_* flags the options set */
  zoneId = 0;
  zoneFlags = 0;
  /** the packed zone (CtZone) the template carries; 0 the default zone */
  zone = 0;
  private seen = 0;
  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    if (o === "notrack") {
      this.notrack = true;
      return;
    }
    if (o !== "zone" && o !== "zone-orig" && o !== "zone-reply") {
      p.unsupported(`CT --${o}`, `CT target option '--${o}' is not implemented by ctnat`);
    }
    const bit = o === "zone" ? 1 : o === "zone-orig" ? 2 : 4;
    if (this.seen & bit) p.fail(`CT: option "--${o}" can only be used once.`);
    this.seen |= bit;
    if (o === "zone-orig") this.zoneFlags |= CT_ZONE_ORIG;
    if (o === "zone-reply") this.zoneFlags |= CT_ZONE_REPLY;
    this.zoneId = 0;
    if (arg.toLowerCase() === "mark") this.zoneFlags |= CT_ZONE_MARK;
    else {
      const v = parseUint(arg, 0, 0xffff);
      if (v === null) p.failArg(`Cannot parse ${arg} as a zone ID`);
      this.zoneId = v;
    }
  }
  override finalCheck(_p: ParseCtx): void {
    // Linux xt_ct_flags_to_dir: one direction flag alone limits the zone to it, else both directions
    const f = this.zoneFlags & (CT_ZONE_ORIG | CT_ZONE_REPLY);
    const dir = f === CT_ZONE_ORIG ? CtZone.DirOrig : f === CT_ZONE_REPLY ? CtZone.DirReply : CtZone.DirBoth;
    if (this.zoneFlags & CT_ZONE_MARK) this.zone = CtZone.FromMark | dir;
    else this.zone = this.zoneId === 0 ? 0 : this.zoneId | dir;
  }
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "CT target", "raw", 0);
  }
  action(skb: Skb, _env: RuleEnv): number {
    // a packet that already has a template or a connection (Linux skb->_nfct) is left alone
    if (skb.ctTemplate || skb.ct >= 0 || skb.ctInfo === CtInfo.Untracked) return Verdict.Continue;
    skb.ctTemplate = true;
    if (this.notrack) skb.notrack = true;
    else skb.ctZone = this.zone;
    return Verdict.Continue;
  }
  private zoneText(prefix: string): string {
    if (this.zoneId === 0 && (this.zoneFlags & CT_ZONE_MARK) === 0) return "";
    const f = this.zoneFlags & (CT_ZONE_ORIG | CT_ZONE_REPLY);
    const name = f === CT_ZONE_ORIG ? "zone-orig" : f === CT_ZONE_REPLY ? "zone-reply" : "zone";
    return ` ${prefix}${name} ${this.zoneFlags & CT_ZONE_MARK ? "mark" : this.zoneId}`;
  }
  save(): string {
    return (this.notrack ? " --notrack" : "") + this.zoneText("--");
  }
  print(): string {
    return ` CT${this.notrack ? " notrack" : ""}${this.zoneText("")}`;
  }
}

/** NotrackTarget: `-j NOTRACK` (raw table), the old name of CT --notrack. */
export class NotrackTarget extends Target {
  static readonly extName: string = "NOTRACK";
  readonly name = "NOTRACK";
  readonly opts: readonly OptDef[] = [];
  override get listName(): string {
    return "CT";
  }
  parse(): void {}
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "NOTRACK target", "raw", 0);
  }
  action(skb: Skb, _env: RuleEnv): number {
    // as CT: the first template attached wins
    if (skb.ctTemplate || skb.ct >= 0 || skb.ctInfo === CtInfo.Untracked) return Verdict.Continue;
    skb.ctTemplate = true;
    skb.notrack = true;
    return Verdict.Continue;
  }
  save(): string {
    return "";
  }
  print(): string {
    return " NOTRACK";
  }
}

/** TraceTarget: `-j TRACE` (raw table): marks the packet for tracing (skb.nfTrace). */
export class TraceTarget extends Target {
  static readonly extName: string = "TRACE";
  readonly name = "TRACE";
  readonly opts: readonly OptDef[] = [];
  parse(): void {}
  override check(c: CheckCtx): string | null {
    return hookCheck(c, "TRACE target", "raw", 0);
  }
  action(skb: Skb, _env: RuleEnv): number {
    skb.nfTrace = true;
    return Verdict.Continue;
  }
  save(): string {
    return "";
  }
  print(): string {
    return "";
  }
}
