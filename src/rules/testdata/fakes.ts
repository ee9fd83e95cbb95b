/**
 * Test doubles for the rules engine: a conntrack view, interfaces, an address classifier and a target
 * environment that records what targets asked for, plus a packet builder that fills an Skb.
 * Used by tests and benchmarks only.
 */
import type { CtView, IfaceView, TargetEnv } from "../../core/env.js";
import { CtInfo, type NatRange, Verdict } from "../../core/netfilter.js";
import { Skb } from "../../core/skb.js";
import type { Tuple } from "../../core/tuple.js";
import { buildPacket, type PacketSpec } from "../../wire/build.js";
import { parsePacket } from "../../wire/parse.js";
import { parseAddr } from "../addr.js";
import { ADDRTYPE, type AddrTypeView } from "../env.js";
import { RuleEnv } from "../types.js";

/** FakeConn: one conntrack entry of FakeCt. */
export interface FakeConn {
  status: number;
  mark: number;
  l4proto: number;
  orig: Tuple;
  reply: Tuple;
  expires: number;
  tcpState: number;
  /** conntrack zone (packed, CtZone); absent: the default zone */
  zone?: number;
}

export class FakeCt implements CtView {
  readonly conns: FakeConn[] = [];
  add(c: FakeConn): number {
    this.conns.push(c);
    return this.conns.length - 1;
  }
  status(ct: number): number {
    return this.conns[ct]!.status;
  }
  mark(ct: number): number {
    return this.conns[ct]!.mark;
  }
  setMark(ct: number, mark: number): void {
    this.conns[ct]!.mark = mark;
  }
  l4proto(ct: number): number {
    return this.conns[ct]!.l4proto;
  }
  tuple(ct: number, dir: number, out: Tuple): void {
    out.copyFrom(dir === 0 ? this.conns[ct]!.orig : this.conns[ct]!.reply);
  }
  expiresIn(ct: number, now: number): number {
    return Math.max(0, Math.floor(this.conns[ct]!.expires - now));
  }
  tcpState(ct: number): number {
    return this.conns[ct]!.tcpState;
  }
  zone(ct: number): number {
    return this.conns[ct]!.zone ?? 0;
  }
  findTuple(t: Tuple, zone = 0): number {
    for (let i = 0; i < this.conns.length; i++) {
      const c = this.conns[i]!;
      if ((c.zone ?? 0) !== zone) continue;
      if (c.orig.equals(t) || c.reply.equals(t)) return i;
    }
    return -1;
  }
}

export class FakeIfaces implements IfaceView {
  readonly names: string[];
  constructor(names: string[] = ["lo", "eth0", "eth1", "wlan0", "docker0", "br-1234"]) {
    this.names = names;
  }
  name(i: number): string {
    return i < 0 ? "" : (this.names[i] ?? "");
  }
  index(name: string): number {
    return this.names.indexOf(name);
  }
}

/** FakeAddrType: LOCAL for the listed addresses, BROADCAST for x.x.x.255 and 255.255.255.255, MULTICAST for 224/4, else UNICAST. */
export class FakeAddrType implements AddrTypeView {
  readonly local: Int32Array[] = [];
  lastIf = -2;
  constructor(local: string[] = ["10.0.0.1", "192.168.1.1", "127.0.0.1"], family = 4) {
    for (const a of local) {
      const w = new Int32Array(4);
      parseAddr(family, a, w);
      this.local.push(w);
    }
  }
  addrType(family: number, addr: Int32Array, ifindex: number): number {
    this.lastIf = ifindex;
    for (const l of this.local) {
      if (l[0] === addr[0] && l[1] === addr[1] && l[2] === addr[2] && l[3] === addr[3]) return ADDRTYPE.LOCAL;
    }
    if (family === 4) {
      const a = addr[0]! >>> 0;
      if (a >>> 28 === 0xe) return ADDRTYPE.MULTICAST;
      if ((a & 0xff) === 0xff) return ADDRTYPE.BROADCAST;
    }
    return ADDRTYPE.UNICAST;
  }
}

export interface TargetCall {
  kind: string;
  arg: number;
  range: NatRange | null;
  text: string;
}

/** RecordingTargetEnv: records every call; NAT returns `natVerdict`; randomU32 is a seeded xorshift32. */
export class RecordingTargetEnv implements TargetEnv {
  readonly calls: TargetCall[] = [];
  natVerdict: number = Verdict.Accept;
  private state: number;
  constructor(seed = 0x12345678) {
    this.state = seed | 0 || 1;
  }
  natSetup(_skb: Skb, range: NatRange, manip: number): number {
    this.calls.push({ kind: manip === 0 ? "snat" : "dnat", arg: manip, range, text: "" });
    return this.natVerdict;
  }
  masquerade(_skb: Skb, range: NatRange): number {
    this.calls.push({ kind: "masquerade", arg: 0, range, text: "" });
    return this.natVerdict;
  }
  redirect(_skb: Skb, range: NatRange): number {
    this.calls.push({ kind: "redirect", arg: 0, range, text: "" });
    return this.natVerdict;
  }
  reject(_skb: Skb, withType: number): void {
    this.calls.push({ kind: "reject", arg: withType, range: null, text: "" });
  }
  log(_skb: Skb, kind: "LOG" | "NFLOG", prefix: string): void {
    this.calls.push({ kind, arg: 0, range: null, text: prefix });
  }
  /** MTU routeMtu answers (forward route, route back to the source) */
  mtu = 1500;
  reverseMtu = 1500;
  routeMtu(_skb: Skb, reverse: boolean): number {
    this.calls.push({ kind: "routeMtu", arg: reverse ? 1 : 0, range: null, text: "" });
    return reverse ? this.reverseMtu : this.mtu;
  }
  randomU32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x >>> 0;
  }
}

/** makeEnv: a RuleEnv over fresh fakes. */
export function makeEnv(seed = 1): {
  env: RuleEnv;
  ct: FakeCt;
  target: RecordingTargetEnv;
  addr: FakeAddrType;
  ifaces: FakeIfaces;
} {
  const ct = new FakeCt();
  const target = new RecordingTargetEnv(seed);
  const addr = new FakeAddrType();
  const ifaces = new FakeIfaces();
  return { env: new RuleEnv(ct, ifaces, addr, target), ct, target, addr, ifaces };
}

/** SkbOpts: metadata of a test packet. */
export interface SkbOpts {
  inIf?: number;
  outIf?: number;
  hook?: number;
  mark?: number;
  ct?: number;
  ctInfo?: number;
  now?: number;
  /** cut the packet to this many bytes (the IP header still claims its full length) */
  truncate?: number;
}

/** makeSkb: build `spec` and parse it into a fresh Skb. */
export function makeSkb(spec: PacketSpec, o: SkbOpts = {}, skb = new Skb()): Skb {
  let bytes = buildPacket(spec);
  if (o.truncate !== undefined) bytes = bytes.slice(0, o.truncate);
  skb.reset(o.now ?? 0, o.inIf ?? 1);
  parsePacket(skb.pi, bytes, 0, bytes.length);
  if (o.truncate !== undefined) {
    // keep the IP layer usable: what the kernel sees of a packet whose transport header is cut short
    skb.pi.len = bytes.length;
  }
  skb.outIf = o.outIf ?? -1;
  skb.hook = o.hook ?? 0;
  skb.mark = o.mark ?? 0;
  skb.ct = o.ct ?? -1;
  skb.ctInfo = o.ctInfo ?? (o.ct !== undefined && o.ct >= 0 ? CtInfo.New : CtInfo.None);
  return skb;
}
