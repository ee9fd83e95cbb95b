/**
 * icmp (IPv4) and icmp6 (IPv6) matches (Linux ip_tables.c icmp_match, ip6_tables.c icmp6_match;
 * iptables libipt_icmp.c / libip6t_icmp6.c): a type and a code range, by number or by name (names may be
 * abbreviated when unambiguous, as iptables allows). Non-first fragments never match; a missing ICMP
 * header hotdrops the packet.
 */
import type { Skb } from "../../core/skb.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";
import { l4Header } from "./l4.js";

type IcmpName = readonly [string, number, number, number];

const ICMP_NAMES: readonly IcmpName[] = [
  ["any", 0xff, 0, 0xff],
  ["echo-reply", 0, 0, 0xff],
  ["destination-unreachable", 3, 0, 0xff],
  ["network-unreachable", 3, 0, 0],
  ["host-unreachable", 3, 1, 1],
  ["protocol-unreachable", 3, 2, 2],
  ["port-unreachable", 3, 3, 3],
  ["fragmentation-needed", 3, 4, 4],
  ["source-route-failed", 3, 5, 5],
  ["network-unknown", 3, 6, 6],
  ["host-unknown", 3, 7, 7],
  ["network-prohibited", 3, 9, 9],
  ["host-prohibited", 3, 10, 10],
  ["TOS-network-unreachable", 3, 11, 11],
  ["TOS-host-unreachable", 3, 12, 12],
  ["communication-prohibited", 3, 13, 13],
  ["host-precedence-violation", 3, 14, 14],
  ["precedence-cutoff", 3, 15, 15],
  ["source-quench", 4, 0, 0xff],
  ["redirect", 5, 0, 0xff],
  ["network-redirect", 5, 0, 0],
  ["host-redirect", 5, 1, 1],
  ["TOS-network-redirect", 5, 2, 2],
  ["TOS-host-redirect", 5, 3, 3],
  ["echo-request", 8, 0, 0xff],
  ["router-advertisement", 9, 0, 0xff],
  ["router-solicitation", 10, 0, 0xff],
  ["time-exceeded", 11, 0, 0xff],
  ["ttl-zero-during-transit", 11, 0, 0],
  ["ttl-zero-during-reassembly", 11, 1, 1],
  ["parameter-problem", 12, 0, 0xff],
  ["ip-header-bad", 12, 0, 0],
  ["required-option-missing", 12, 1, 1],
  ["timestamp-request", 13, 0, 0xff],
  ["timestamp-reply", 14, 0, 0xff],
  ["address-mask-request", 17, 0, 0xff],
  ["address-mask-reply", 18, 0, 0xff],
  ["pong", 0, 0, 0xff],
  ["ping", 8, 0, 0xff],
  ["ttl-exceeded", 11, 0, 0xff],
];

const ICMP6_NAMES: readonly IcmpName[] = [
  ["destination-unreachable", 1, 0, 0xff],
  ["no-route", 1, 0, 0],
  ["communication-prohibited", 1, 1, 1],
  ["beyond-scope", 1, 2, 2],
  ["address-unreachable", 1, 3, 3],
  ["port-unreachable", 1, 4, 4],
  ["failed-policy", 1, 5, 5],
  ["reject-route", 1, 6, 6],
  ["packet-too-big", 2, 0, 0xff],
  ["time-exceeded", 3, 0, 0xff],
  ["ttl-zero-during-transit", 3, 0, 0],
  ["ttl-zero-during-reassembly", 3, 1, 1],
  ["parameter-problem", 4, 0, 0xff],
  ["bad-header", 4, 0, 0],
  ["unknown-header-type", 4, 1, 1],
  ["unknown-option", 4, 2, 2],
  ["echo-request", 128, 0, 0xff],
  ["echo-reply", 129, 0, 0xff],
  ["mld-listener-query", 130, 0, 0xff],
  ["mld-listener-report", 131, 0, 0xff],
  ["mld-listener-done", 132, 0, 0xff],
  ["router-solicitation", 133, 0, 0xff],
  ["router-advertisement", 134, 0, 0xff],
  ["neighbour-solicitation", 135, 0, 0xff],
  ["neighbour-advertisement", 136, 0, 0xff],
  ["redirect", 137, 0, 0xff],
  ["ping", 128, 0, 0xff],
  ["pong", 129, 0, 0xff],
  ["ttl-exceeded", 3, 0, 0xff],
  ["mld-listener-reduction", 132, 0, 0xff],
  ["neighbor-solicitation", 135, 0, 0xff],
  ["neighbor-advertisement", 136, 0, 0xff],
];

/** parseIcmpType: `name` (unambiguous prefix, any case) or `type[/code]` into [type, codeMin, codeMax]. */
function parseIcmpType(p: ParseCtx, s: string, names: readonly IcmpName[], v6: boolean): [number, number, number] {
  let found: IcmpName | null = null;
  for (const n of names) {
    if (n[0].length >= s.length && n[0].slice(0, s.length).toLowerCase() === s.toLowerCase()) {
      if (n[0].length === s.length) {
        found = n;
        break;
      }
      if (found !== null && (found[1] !== n[1] || found[2] !== n[2] || found[3] !== n[3])) {
        p.failArg(`ambiguous ICMP${v6 ? "v6" : ""} type '${s}': '${found[0]}' or '${n[0]}'?`);
      }
      found ??= n;
    }
  }
  if (found !== null && s.length > 0) return [found[1], found[2], found[3]];
  const m = /^([0-9]+)(?:\/([0-9]+))?$/.exec(s);
  if (m === null) p.failArg(`invalid ICMP${v6 ? "v6" : ""} type '${s}'`);
  const t = Number(m[1]);
  if (t > 255) p.failArg(`invalid ICMP${v6 ? "v6" : ""} type '${s}'`);
  if (m[2] === undefined) return [t, 0, 0xff];
  const c = Number(m[2]);
  if (c > 255) p.failArg(`invalid ICMP${v6 ? "v6" : ""} code '${m[2]}'`);
  return [t, c, c];
}

const ICMP_OPTS: readonly OptDef[] = [opt("icmp-type", true, true)];
const ICMP6_OPTS: readonly OptDef[] = [opt("icmpv6-type", true, true)];

/** IcmpMatch: `-m icmp --icmp-type` (IPv4). */
export class IcmpMatch extends Match {
  static readonly extName: string = "icmp";
  readonly name: string = "icmp";
  readonly opts: readonly OptDef[] = ICMP_OPTS;
  type = 0xff;
  codeMin = 0;
  codeMax = 0xff;
  inv = false;
  protected readonly v6: boolean = false;
  protected readonly protoNum: number = 1;

  constructor(family: number) {
    super(family);
    // a truncated header hotdrops the packet
    this.pure = false;
  }

  parse(_o: string, arg: string, inv: boolean, p: ParseCtx): void {
    const [t, a, b] = parseIcmpType(p, arg, this.v6 ? ICMP6_NAMES : ICMP_NAMES, this.v6);
    this.type = t;
    this.codeMin = a;
    this.codeMax = b;
    this.inv = inv;
  }

  override finalCheck(p: ParseCtx): void {
    if (p.proto !== this.protoNum || p.protoInv) {
      p.fail(`${this.name} match: only valid for protocol ${this.protoNum}`);
    }
  }

  match(skb: Skb, env: RuleEnv): boolean {
    const pi = skb.pi;
    if (pi.fragOff !== 0) return false;
    const o = l4Header(pi, 8);
    if (o < 0) {
      env.hotdrop = true;
      return false;
    }
    const type = pi.buf[o]!;
    const code = pi.buf[o + 1]!;
    const hit =
      (!this.v6 && this.type === 0xff) || (type === this.type && code >= this.codeMin && code <= this.codeMax);
    return hit !== this.inv;
  }

  save(): string {
    const inv = this.inv ? " !" : "";
    if (!this.v6 && this.type === 0xff) return `${inv} --icmp-type any`;
    let s = `${inv} --${this.v6 ? "icmpv6-type" : "icmp-type"} ${this.type}`;
    if (this.codeMin !== 0 || this.codeMax !== 0xff) s += `/${this.codeMin}`;
    return s;
  }

  print(): string {
    let s = ` ${this.v6 ? "ipv6-icmp" : "icmp"}${this.inv ? " !" : ""}type ${this.type}`;
    if (this.codeMin === this.codeMax) s += ` code ${this.codeMin}`;
    else if (this.codeMin !== 0 || this.codeMax !== 0xff) s += ` codes ${this.codeMin}-${this.codeMax}`;
    return s;
  }
}

/** Icmp6Match: `-m icmp6 --icmpv6-type` (IPv6). */
export class Icmp6Match extends IcmpMatch {
  static override readonly extName: string = "icmp6";
  override readonly name = "icmp6";
  override readonly opts = ICMP6_OPTS;
  protected override readonly v6 = true;
  protected override readonly protoNum = 58;
  constructor(family: number) {
    super(family);
    this.type = 0;
  }
}
