/**
 * The loaded form of a ruleset: tables, chains and rules as iptables-restore reads them, before they are
 * compiled into the flat per-table arrays that run packets (compile.ts). Also the inline IP header
 * filter (Linux `struct ipt_ip` / `ip6t_ip6` and ip_packet_match / ip6_packet_match).
 */
import type { IfaceView } from "../core/env.js";
import type { Skb } from "../core/skb.js";
import type { Match, Target } from "./types.js";

/** Inversion bits of the IP header filter (Linux IPT_INV_*). */
export const INV_VIA_IN = 0x01;
export const INV_VIA_OUT = 0x02;
export const INV_SRCIP = 0x08;
export const INV_DSTIP = 0x10;
export const INV_FRAG = 0x20;
export const INV_PROTO = 0x40;

/**
 * IpFilter: the part of a rule matched before any extension (-s, -d, -i, -o, -p, -f), with invert bits.
 * Addresses are four int32 words, already masked. An empty interface name means any interface.
 */
export class IpFilter {
  family = 4;
  readonly src: Int32Array = new Int32Array(4);
  readonly srcMask: Int32Array = new Int32Array(4);
  readonly dst: Int32Array = new Int32Array(4);
  readonly dstMask: Int32Array = new Int32Array(4);
  inIface = "";
  /** iface name ended in `+`: a prefix match on inIface (which holds the name without the `+`) */
  inWild = false;
  outIface = "";
  outWild = false;
  proto = 0;
  /** -f: match only second and further fragments (IPv4) */
  frag = false;
  inv = 0;
  /** summary bits computed by finish(): which tests are needed at all */
  needSrc = false;
  needDst = false;
  needIn = false;
  needOut = false;
  needProto = false;
  needFrag = false;
  /** nothing to test: the filter always matches */
  trivial = true;
  /** IPv4 copies of word 0 of the addresses and masks, read by the hot path without typed-array loads */
  private s0 = 0;
  private sm0 = 0;
  private d0 = 0;
  private dm0 = 0;

  /** finish: compute the summary bits after parsing. */
  finish(): void {
    const sm = this.srcMask;
    const dm = this.dstMask;
    this.needSrc = (sm[0]! | sm[1]! | sm[2]! | sm[3]!) !== 0 || (this.inv & INV_SRCIP) !== 0;
    this.needDst = (dm[0]! | dm[1]! | dm[2]! | dm[3]!) !== 0 || (this.inv & INV_DSTIP) !== 0;
    this.needIn = this.inIface !== "" || this.inWild || (this.inv & INV_VIA_IN) !== 0;
    this.needOut = this.outIface !== "" || this.outWild || (this.inv & INV_VIA_OUT) !== 0;
    this.needProto = this.proto !== 0;
    this.needFrag = this.frag;
    this.trivial = !(this.needSrc || this.needDst || this.needIn || this.needOut || this.needProto || this.needFrag);
    this.s0 = this.src[0]!;
    this.sm0 = sm[0]!;
    this.d0 = this.dst[0]!;
    this.dm0 = dm[0]!;
  }

  /** match: Linux ip_packet_match / ip6_packet_match. Hot path: must not allocate. */
  match(skb: Skb, ifaces: IfaceView): boolean {
    const pi = skb.pi;
    const inv = this.inv;
    if (this.needSrc) {
      const a = pi.src;
      const m = this.srcMask;
      const v = this.src;
      let eq = ((a[0]! & this.sm0) ^ this.s0) === 0;
      if (eq && this.family === 6) {
        eq = ((a[1]! & m[1]!) ^ v[1]!) === 0 && ((a[2]! & m[2]!) ^ v[2]!) === 0 && ((a[3]! & m[3]!) ^ v[3]!) === 0;
      }
      if (eq === ((inv & INV_SRCIP) !== 0)) return false;
    }
    if (this.needDst) {
      const a = pi.dst;
      const m = this.dstMask;
      const v = this.dst;
      let eq = ((a[0]! & this.dm0) ^ this.d0) === 0;
      if (eq && this.family === 6) {
        eq = ((a[1]! & m[1]!) ^ v[1]!) === 0 && ((a[2]! & m[2]!) ^ v[2]!) === 0 && ((a[3]! & m[3]!) ^ v[3]!) === 0;
      }
      if (eq === ((inv & INV_DSTIP) !== 0)) return false;
    }
    if (this.needIn) {
      const eq = ifaceMatch(ifaces.name(skb.inIf), this.inIface, this.inWild);
      if (eq === ((inv & INV_VIA_IN) !== 0)) return false;
    }
    if (this.needOut) {
      const eq = ifaceMatch(ifaces.name(skb.outIf), this.outIface, this.outWild);
      if (eq === ((inv & INV_VIA_OUT) !== 0)) return false;
    }
    if (this.needProto) {
      if ((pi.proto === this.proto) === ((inv & INV_PROTO) !== 0)) return false;
    }
    if (this.needFrag) {
      // -f matches second and further fragments only (a non-zero fragment offset)
      if ((pi.fragOff !== 0) === ((inv & INV_FRAG) !== 0)) return false;
    }
    return true;
  }
}

/** ifaceMatch: interface name against an iptables pattern (exact, or prefix when it ended in `+`). */
export function ifaceMatch(name: string, pattern: string, wild: boolean): boolean {
  if (wild) return name.startsWith(pattern);
  return name === pattern;
}

/** Kinds of rule targets. */
export const TargetKind = {
  /** no -j: the rule only counts */
  None: 0,
  /** ACCEPT, DROP (and the other standard verdicts) */
  Verdict: 1,
  Return: 2,
  Jump: 3,
  Goto: 4,
  /** an extension target (Target object) */
  Ext: 5,
} as const;

/** Rule: one `-A` line as loaded. */
export class Rule {
  readonly ipf: IpFilter = new IpFilter();
  readonly matches: Match[] = [];
  targetKind: number = TargetKind.None;
  /** Verdict for TargetKind.Verdict */
  verdict = 0;
  /** the standard target's name as written (ACCEPT, DROP, RETURN) or the chain jumped to */
  targetName = "";
  target: Target | null = null;
  /** counters from `[p:b]` or `-c p b` (loaded only when asked to) */
  pcnt = 0;
  bcnt = 0;
  /** where the rule was read: line, and columns of the target name and of each `-m` name */
  line = 0;
  targetCol = 0;
  readonly matchCols: number[] = [];
  /** the text of the rule line as written (without counters) */
  source = "";
}

/** ChainDef: a built-in chain (hook >= 0, with a policy) or a user chain (hook -1). */
export class ChainDef {
  readonly name: string;
  readonly hook: number;
  /** Verdict of the policy (built-in chains), -1 for user chains */
  policy: number;
  pcnt = 0;
  bcnt = 0;
  readonly rules: Rule[] = [];
  /** line of the `:` declaration (0 when created implicitly) */
  line = 0;
  constructor(name: string, hook: number, policy: number) {
    this.name = name;
    this.hook = hook;
    this.policy = policy;
  }
}

/** TableDef: one `*table` section. */
export class TableDef {
  readonly name: string;
  readonly id: number;
  readonly chains: ChainDef[] = [];
  readonly byName: Map<string, ChainDef> = new Map();
  line = 0;
  constructor(name: string, id: number) {
    this.name = name;
    this.id = id;
  }
}
