/**
 * tcp and udp matches (iptables libxt_tcp.c / libxt_udp.c): port ranges, TCP flags, TCP option presence.
 *
 * Two evaluation modes, as iptables-nft (1.8.9, the backend of the reference machine) loads them:
 * - native: with port or flag tests and no --tcp-option, iptables-nft turns the match into nftables
 *   payload comparisons (nft.c add_nft_tcp / add_nft_udp). A payload that cannot be loaded (non-first
 *   fragment, header too short for the bytes compared) makes the rule not match; nothing is dropped.
 * - xt: `-m tcp` with no test at all, or with --tcp-option, runs Linux's xt_tcpudp through nft_compat: a
 *   non-first fragment never matches (the one at offset 8 bytes is hotdropped, as an attempt to
 *   overwrite the flags), and a transport header that is not in the packet hotdrops it.
 */
import type { Skb } from "../../core/skb.js";
import { type CheckCtx, Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";
import { parsePortRange } from "../util.js";
import { formatPortRange, l4Header, portIn, printPorts } from "./l4.js";

const TCP_FLAG_NAMES: readonly [string, number][] = [
  ["FIN", 0x01],
  ["SYN", 0x02],
  ["RST", 0x04],
  ["PSH", 0x08],
  ["ACK", 0x10],
  ["URG", 0x20],
  ["ALL", 0x3f],
  ["NONE", 0],
];

function parseTcpFlags(p: ParseCtx, s: string): number {
  let v = 0;
  for (const part of s.split(",")) {
    const e = TCP_FLAG_NAMES.find(([n]) => n.toLowerCase() === part.toLowerCase());
    if (e === undefined) p.failArg(`unknown TCP flag '${part}'`);
    v |= e[1];
  }
  return v;
}

/** formatTcpFlags: flag names as iptables prints them (libxt_tcp print_tcpf). */
export function formatTcpFlags(flags: number): string {
  const out: string[] = [];
  let f = flags & 0xff;
  while (f !== 0) {
    const e = TCP_FLAG_NAMES.find(([, b]) => (f & b) !== 0);
    if (e === undefined) break;
    out.push(e[0]);
    f &= ~e[1];
  }
  return out.length === 0 ? "NONE" : out.join(",");
}

const TCP_OPTS: readonly OptDef[] = [
  opt("source-port", true, true),
  opt("sport", true, true),
  opt("destination-port", true, true),
  opt("dport", true, true),
  opt("syn", false, true),
  opt("tcp-flags", true, true),
  opt("tcp-option", true, true),
];
const UDP_OPTS: readonly OptDef[] = [
  opt("source-port", true, true),
  opt("sport", true, true),
  opt("destination-port", true, true),
  opt("dport", true, true),
];

const range: number[] = [0, 0];

/** PortMatch: the common part of tcp and udp. */
abstract class PortMatch extends Match {
  sptMin = 0;
  sptMax = 65535;
  sptInv = false;
  dptMin = 0;
  dptMax = 65535;
  dptInv = false;
  protected seenSport = false;
  protected seenDport = false;
  abstract readonly protoNum: number;

  constructor(family: number) {
    super(family);
    // a truncated header hotdrops the packet
    this.pure = false;
  }

  protected parsePorts(o: string, arg: string, inv: boolean, p: ParseCtx): boolean {
    if (o === "source-port" || o === "sport") {
      if (this.seenSport) p.fail("only one '--source-port' allowed");
      this.seenSport = true;
      parsePortRange(p, arg, range);
      this.checkRange(p);
      this.sptMin = range[0]!;
      this.sptMax = range[1]!;
      this.sptInv = inv;
      return true;
    }
    if (o === "destination-port" || o === "dport") {
      if (this.seenDport) p.fail("only one '--destination-port' allowed");
      this.seenDport = true;
      parsePortRange(p, arg, range);
      this.checkRange(p);
      this.dptMin = range[0]!;
      this.dptMax = range[1]!;
      this.dptInv = inv;
      return true;
    }
    return false;
  }

  /**
   * checkRange: libxt_tcp refuses a reversed range ("80:70"); libxt_udp keeps it (it then never
   * matches). Checked against iptables 1.8.9.
   */
  private checkRange(p: ParseCtx): void {
    if (this.protoNum === 6 && range[0]! > range[1]!) p.failArg("invalid portrange (min > max)");
  }

  override check(c: CheckCtx): string | null {
    void c;
    return null;
  }

  /** the rule's -p must be this protocol, not negated (Linux xt_check_match .proto) */
  checkProto(p: ParseCtx): void {
    if (p.proto !== this.protoNum || p.protoInv) {
      p.fail(`${this.name} match: only valid for protocol ${this.protoNum} (use -p ${this.name} before it)`);
    }
  }

  /** iptables-nft runs it as native payload matches (see the module comment) */
  protected native = true;

  /** no port test at all */
  protected get portsAll(): boolean {
    return (
      this.sptMin === 0 &&
      this.sptMax === 65535 &&
      !this.sptInv &&
      this.dptMin === 0 &&
      this.dptMax === 65535 &&
      !this.dptInv
    );
  }

  /** native payload port tests: a test is made only when iptables-nft emits it */
  protected nativePorts(pi: import("../../wire/packet-info.js").PacketInfo): boolean {
    const hasS = this.sptMin !== 0 || this.sptMax !== 65535 || this.sptInv;
    const hasD = this.dptMin !== 0 || this.dptMax !== 65535 || this.dptInv;
    if (!hasS && !hasD) return true;
    const o = l4Header(pi, 4);
    if (o < 0) return false;
    const b = pi.buf;
    if (hasS && !portIn(this.sptMin, this.sptMax, (b[o]! << 8) | b[o + 1]!, this.sptInv)) return false;
    if (hasD && !portIn(this.dptMin, this.dptMax, (b[o + 2]! << 8) | b[o + 3]!, this.dptInv)) return false;
    return true;
  }

  /** exact single destination port, not negated: the rule index can key on it */
  get exactDport(): number {
    return !this.dptInv && this.dptMin === this.dptMax ? this.dptMin : -1;
  }

  protected savePorts(): string {
    let s = "";
    if (!(this.sptMin === 0 && this.sptMax === 65535 && !this.sptInv)) {
      s += `${this.sptInv ? " !" : ""} --sport ${formatPortRange(this.sptMin, this.sptMax)}`;
    }
    if (!(this.dptMin === 0 && this.dptMax === 65535 && !this.dptInv)) {
      s += `${this.dptInv ? " !" : ""} --dport ${formatPortRange(this.dptMin, this.dptMax)}`;
    }
    return s;
  }

  protected printPorts(): string {
    return (
      printPorts("spt", this.sptMin, this.sptMax, this.sptInv) +
      printPorts("dpt", this.dptMin, this.dptMax, this.dptInv)
    );
  }
}

/** TcpMatch: `-m tcp` (Linux tcp_mt). */
export class TcpMatch extends PortMatch {
  static readonly extName: string = "tcp";
  readonly name = "tcp";
  readonly opts = TCP_OPTS;
  readonly protoNum = 6;
  flgMask = 0;
  flgCmp = 0;
  flgInv = false;
  option = 0;
  optionInv = false;
  private seenFlags = false;
  private seenOption = false;

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    if (this.parsePorts(o, arg, inv, p)) return;
    switch (o) {
      case "syn":
        if (this.seenFlags) p.fail("only one of '--syn' or '--tcp-flags' allowed");
        this.seenFlags = true;
        this.flgMask = 0x17; // SYN,RST,ACK,FIN
        this.flgCmp = 0x02;
        this.flgInv = inv;
        return;
      case "tcp-flags": {
        if (this.seenFlags) p.fail("only one of '--syn' or '--tcp-flags' allowed");
        this.seenFlags = true;
        this.flgMask = parseTcpFlags(p, arg);
        this.flgCmp = parseTcpFlags(p, p.nextArg("--tcp-flags"));
        this.flgInv = inv;
        return;
      }
      case "tcp-option": {
        if (this.seenOption) p.fail("only one '--tcp-option' allowed");
        this.seenOption = true;
        if (!/^[0-9]+$/.test(arg) || Number(arg) < 1 || Number(arg) > 255) p.failArg(`bad TCP option "${arg}"`);
        this.option = Number(arg);
        this.optionInv = inv;
        return;
      }
    }
  }

  override finalCheck(p: ParseCtx): void {
    this.checkProto(p);
    this.native =
      !(this.option !== 0 || this.optionInv) &&
      !(this.portsAll && this.flgMask === 0 && this.flgCmp === 0 && !this.flgInv);
    // the xt path can hotdrop; the native path cannot
    this.pure = this.native;
  }

  match(skb: Skb, env: RuleEnv): boolean {
    const pi = skb.pi;
    if (this.native) {
      if (pi.fragOff !== 0) return false;
      if (this.flgMask !== 0) {
        const o = l4Header(pi, 14);
        if (o < 0) return false;
        if (((pi.buf[o + 13]! & this.flgMask) === this.flgCmp) === this.flgInv) return false;
      }
      return this.nativePorts(pi);
    }
    if (pi.fragOff !== 0) {
      // an offset-1 fragment (8 bytes) could overwrite the flags of the first one: drop it
      if (pi.fragOff === 8) env.hotdrop = true;
      return false;
    }
    const o = l4Header(pi, 20);
    if (o < 0) {
      env.hotdrop = true;
      return false;
    }
    const b = pi.buf;
    const sport = (b[o]! << 8) | b[o + 1]!;
    if (!portIn(this.sptMin, this.sptMax, sport, this.sptInv)) return false;
    const dport = (b[o + 2]! << 8) | b[o + 3]!;
    if (!portIn(this.dptMin, this.dptMax, dport, this.dptInv)) return false;
    if (((b[o + 13]! & this.flgMask) === this.flgCmp) === this.flgInv) return false;
    if (this.option !== 0) {
      const hlen = (b[o + 12]! >> 4) * 4;
      if (hlen < 20) {
        env.hotdrop = true;
        return false;
      }
      const optLen = hlen - 20;
      if (o + hlen > pi.off + pi.len || o + hlen > b.length) {
        env.hotdrop = true;
        return this.optionInv;
      }
      let found = false;
      for (let i = 0; i < optLen; ) {
        const kind = b[o + 20 + i]!;
        if (kind === this.option) {
          found = true;
          break;
        }
        if (kind < 2) i++;
        else {
          const l = i + 1 < optLen ? b[o + 21 + i]! : 0;
          i += l === 0 ? 1 : l;
        }
      }
      if (found === this.optionInv) return false;
    }
    return true;
  }

  save(): string {
    let s = this.savePorts();
    if (this.option !== 0 || this.optionInv) s += `${this.optionInv ? " !" : ""} --tcp-option ${this.option}`;
    if (this.flgMask !== 0 || this.flgInv) {
      s += `${this.flgInv ? " !" : ""} --tcp-flags ${formatTcpFlags(this.flgMask)} ${formatTcpFlags(this.flgCmp)}`;
    }
    return s;
  }

  print(): string {
    let s = ` tcp${this.printPorts()}`;
    if (this.option !== 0 || this.optionInv) s += ` option=${this.optionInv ? "!" : ""}${this.option}`;
    if (this.flgMask !== 0 || this.flgInv) {
      const h = (v: number): string => `0x${v.toString(16).toUpperCase().padStart(2, "0")}`;
      s += ` flags:${this.flgInv ? "!" : ""}${h(this.flgMask)}/${h(this.flgCmp)}`;
    }
    return s;
  }
}

/** UdpMatch: `-m udp` (Linux udp_mt). */
export class UdpMatch extends PortMatch {
  static readonly extName: string = "udp";
  readonly name = "udp";
  readonly opts = UDP_OPTS;
  readonly protoNum = 17;

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    this.parsePorts(o, arg, inv, p);
  }

  override finalCheck(p: ParseCtx): void {
    this.checkProto(p);
    this.native = !this.portsAll;
    this.pure = this.native;
  }

  match(skb: Skb, env: RuleEnv): boolean {
    const pi = skb.pi;
    if (pi.fragOff !== 0) return false;
    if (this.native) return this.nativePorts(pi);
    const o = l4Header(pi, 8);
    if (o < 0) {
      env.hotdrop = true;
      return false;
    }
    const b = pi.buf;
    const sport = (b[o]! << 8) | b[o + 1]!;
    if (!portIn(this.sptMin, this.sptMax, sport, this.sptInv)) return false;
    const dport = (b[o + 2]! << 8) | b[o + 3]!;
    return portIn(this.dptMin, this.dptMax, dport, this.dptInv);
  }

  save(): string {
    return this.savePorts();
  }

  print(): string {
    return ` ${this.name}${this.printPorts()}`;
  }
}
