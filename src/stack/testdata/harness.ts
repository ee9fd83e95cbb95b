/**
 * Test harness for the kernel fixtures of src/stack (pure: bytes in, packets out; the tests read the
 * files). It holds a minimal gateway that does what Linux does before it builds its own packets: link
 * layer class, routing (local / forward, unreachable routes), the forwarding checks (route errors, TTL,
 * link-local sources, MTU), the TTL decrement, and the REJECT rules of a fixture; everything the gateway
 * sends of its own comes from the Stack under test.
 */
import { PacketType } from "../../core/skb.js";
import { finishChecksum, sumBytes } from "../../wire/checksum.js";
import { PacketInfo, WireStatus } from "../../wire/packet-info.js";
import { parsePacket } from "../../wire/parse.js";
import { ADDR6_LINKLOCAL, ipv6AddrType } from "../emit.js";
import { ipv4OptionsReceive, OPTIONS_DROP, OPTIONS_OK } from "../ipv4-options.js";
import { AddrClass, RouteKind, StackRoute, type TableIface, type TableRoute, TableRoutes } from "../routes.js";
import { type PacketContext, type Stack, StackIcmpKind } from "../stack.js";

// ---- pcap ----------------------------------------------------------------------------------------

export interface PcapRecord {
  /** seconds (fractional) */
  time: number;
  /** link-layer frame (Ethernet) or raw IP */
  data: Uint8Array;
}

/** readPcap: the records of a classic pcap file (µs or ns timestamps, either byte order). */
export function readPcap(bytes: Uint8Array): { linkType: number; records: PcapRecord[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = dv.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) {
    le = true;
    nano = m === 0xa1b23c4d;
  } else {
    const mb = dv.getUint32(0, false);
    if (mb !== 0xa1b2c3d4 && mb !== 0xa1b23c4d) throw new Error("not a pcap file");
    le = false;
    nano = mb === 0xa1b23c4d;
  }
  const linkType = dv.getUint32(20, le);
  const records: PcapRecord[] = [];
  let o = 24;
  while (o + 16 <= bytes.length) {
    const sec = dv.getUint32(o, le);
    const frac = dv.getUint32(o + 4, le);
    const incl = dv.getUint32(o + 8, le);
    records.push({ time: sec + frac / (nano ? 1e9 : 1e6), data: bytes.slice(o + 16, o + 16 + incl) });
    o += 16 + incl;
  }
  return { linkType, records };
}

/** ipOf: the IP packet inside a frame (Ethernet II or raw), or null for non-IP frames. */
export function ipOf(linkType: number, frame: Uint8Array): Uint8Array | null {
  if (linkType === 101) return frame;
  if (linkType !== 1 || frame.length < 14) return null;
  const et = (frame[12] << 8) | frame[13];
  if (et !== 0x0800 && et !== 0x86dd) return null;
  return frame.subarray(14);
}

// ---- topology from the recorder's ip -j output ------------------------------------------------------

interface IpAddrJson {
  ifindex: number;
  ifname: string;
  mtu: number;
  flags?: string[];
  address?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}
interface IpRouteJson {
  dst: string;
  type?: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
  metrics?: Record<string, number>[];
}

export interface Topology {
  routes: TableRoutes;
  /** interface name -> ifindex */
  ifindex: Map<string, number>;
  /** ifindex -> MAC (lower case, colon separated) */
  mac: Map<number, string>;
}

/** topology: TableRoutes from the recorder's addr.json, route.json and route6.json. */
export function topology(addr: IpAddrJson[], route4: IpRouteJson[], route6: IpRouteJson[]): Topology {
  const ifindex = new Map<string, number>();
  const mac = new Map<number, string>();
  const ifaces: TableIface[] = [];
  for (const i of addr) {
    ifindex.set(i.ifname, i.ifindex);
    if (i.address) mac.set(i.ifindex, i.address.toLowerCase());
    ifaces.push({
      ifindex: i.ifindex,
      mtu: i.mtu,
      loopback: i.ifname === "lo",
      addrs: (i.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
    });
  }
  const routes: TableRoute[] = [];
  for (const [list, fam] of [
    [route4, 4],
    [route6, 6],
  ] as const) {
    for (const r of list) {
      const dst = r.dst === "default" ? (fam === 4 ? "default" : "default6") : r.dst;
      let mtu: number | undefined;
      let hoplimit: number | undefined;
      for (const m of r.metrics ?? []) {
        if (m.mtu !== undefined) mtu = m.mtu;
        if (m.hoplimit !== undefined) hoplimit = m.hoplimit;
      }
      const type = (r.type ?? "unicast") as TableRoute["type"];
      routes.push({
        dst,
        dev: type === "unicast" && r.dev !== undefined ? ifindex.get(r.dev) : undefined,
        via: r.gateway,
        src: r.prefsrc,
        mtu,
        hoplimit,
        type,
      });
    }
  }
  return { routes: new TableRoutes(ifaces, routes), ifindex, mac };
}

// ---- the minimal gateway ------------------------------------------------------------------------------

/** A reject rule set: the REJECT type for a packet at INPUT (`local`) or FORWARD, or -1. */
export type RejectRules = (pi: PacketInfo, local: boolean) => number;

export interface Sent {
  oif: number;
  time: number;
  bytes: Uint8Array;
  /** index of the input packet that caused it */
  cause: number;
  reason: number;
}

class Ctx implements PacketContext {
  pi = new PacketInfo();
  inIf = -1;
  pktType: number = PacketType.Host;
  now = 0;
  locallyGenerated = false;
}

export class MiniGateway {
  readonly stack: Stack;
  readonly topo: Topology;
  readonly rules: RejectRules | null;
  readonly sent: Sent[] = [];
  /** per input packet: the stack's reason for its answer (-1: the stack was not asked) */
  readonly reasons: number[] = [];
  private readonly ctx = new Ctx();
  private readonly out = new Uint8Array(70000);
  private readonly rt = new StackRoute();
  private index = 0;

  constructor(stack: Stack, topo: Topology, rules: RejectRules | null = null) {
    this.stack = stack;
    this.topo = topo;
    this.rules = rules;
  }

  /** receive an Ethernet frame on `ifindex` at `time` */
  receive(ifindex: number, frame: Uint8Array, time: number): void {
    const cause = this.index++;
    this.reasons[cause] = -1;
    if (frame.length < 14) return;
    const et = (frame[12] << 8) | frame[13];
    if (et !== 0x0800 && et !== 0x86dd) return;
    const ctx = this.ctx;
    ctx.inIf = ifindex;
    ctx.now = time;
    ctx.pktType = this.pktType(ifindex, frame);
    if (ctx.pktType === PacketType.OtherHost) return;
    // a private copy: the forwarding path rewrites the TTL
    const ip = frame.slice(14);
    const pi = ctx.pi;
    const st = parsePacket(pi, ip, 0, ip.length);
    if (st === WireStatus.BadOptions) {
      // ip_options_compile finds what is wrong and points at it
      const v = ipv4OptionsReceive(pi, pi.dst[0], time, this.topo.routes);
      if (v >= 0) this.emit(cause, this.stack.icmpError(ctx, StackIcmpKind.ParamProblem, v, this.out));
      return;
    }
    if (st !== WireStatus.Ok) {
      if (
        pi.family === 6 &&
        pi.firstNextHeader === 0 &&
        (st === WireStatus.BadExtHeader || st === WireStatus.BadTotalLen)
      ) {
        this.emit(cause, this.stack.hopByHopError6(ctx, this.out));
      }
      return;
    }
    const routes = this.topo.routes;
    const cls = pi.family === 4 ? routes.classify4(pi.dst[0]) : routes.classify6(pi.dst);
    if (pi.family === 4 && pi.ipHeaderLen > 20) {
      // ip_rcv_options, after the routing decision
      let specDst = pi.dst[0];
      if (cls !== AddrClass.Local) specDst = routes.route4(pi.src[0], this.rt) ? this.rt.src[0] : 0;
      const v = ipv4OptionsReceive(pi, specDst, time, routes);
      if (v === OPTIONS_DROP) return;
      if (v !== OPTIONS_OK) {
        this.emit(cause, this.stack.icmpError(ctx, StackIcmpKind.ParamProblem, v, this.out));
        return;
      }
    }
    if (cls === AddrClass.Local || cls === AddrClass.Broadcast || cls === AddrClass.Multicast) {
      const rj = this.rules === null ? -1 : this.rules(pi, true);
      if (rj >= 0) this.emit(cause, this.stack.reject(ctx, rj, this.out));
      else this.emit(cause, this.stack.answer(ctx, this.out));
      return;
    }
    if (cls === AddrClass.MulticastOther) return;
    this.forward(cause);
  }

  private forward(cause: number): void {
    const ctx = this.ctx;
    const pi = ctx.pi;
    const stack = this.stack;
    const out = this.out;
    const rt = this.rt;
    // input routing: route errors come before ip_forward's checks
    const kind = this.topo.routes.forward(pi.family as 4 | 6, pi.dst, rt);
    switch (kind) {
      case RouteKind.None:
        this.emit(cause, stack.icmpError(ctx, StackIcmpKind.NetUnreachable, 0, out));
        return;
      case RouteKind.Unreachable:
        this.emit(cause, stack.icmpError(ctx, StackIcmpKind.HostUnreachable, 0, out));
        return;
      case RouteKind.Prohibit:
        this.emit(cause, stack.icmpError(ctx, StackIcmpKind.AdminProhibited, 0, out));
        return;
      case RouteKind.Blackhole:
        return;
    }
    if (ctx.pktType !== PacketType.Host) return;
    if (pi.ttl <= 1) {
      this.emit(cause, stack.icmpError(ctx, StackIcmpKind.TimeExceeded, 0, out));
      return;
    }
    if (pi.family === 6 && (ipv6AddrType(pi.src) & ADDR6_LINKLOCAL) !== 0) {
      this.emit(cause, stack.icmpError(ctx, StackIcmpKind.BeyondScope, 0, out));
      return;
    }
    const mtu = pi.family === 6 && rt.mtu < 1280 ? 1280 : rt.mtu;
    if (pi.len > mtu && (pi.family === 6 || pi.dontFrag)) {
      this.emit(cause, stack.icmpError(ctx, StackIcmpKind.FragNeeded, mtu, out));
      return;
    }
    // ip_decrease_ttl, then FORWARD
    const b = pi.buf;
    if (pi.family === 4) {
      b[8]--;
      b[10] = 0;
      b[11] = 0;
      const c = finishChecksum(sumBytes(b, 0, pi.ipHeaderLen, 0));
      b[10] = c >> 8;
      b[11] = c & 0xff;
    } else {
      b[7]--;
    }
    pi.ttl--;
    const rj = this.rules === null ? -1 : this.rules(pi, false);
    if (rj >= 0) this.emit(cause, stack.reject(ctx, rj, out));
  }

  private emit(cause: number, len: number): void {
    this.reasons[cause] = this.stack.reason;
    if (len === 0) return;
    this.sent.push({
      oif: this.stack.oif,
      time: this.ctx.now,
      bytes: this.out.slice(0, len),
      cause,
      reason: this.stack.reason,
    });
  }

  private pktType(ifindex: number, frame: Uint8Array): number {
    if (frame[0] === 0xff && frame[1] === 0xff && frame[2] === 0xff && frame[3] === 0xff) return PacketType.Broadcast;
    if ((frame[0] & 1) !== 0) return PacketType.Multicast;
    const mac = this.topo.mac.get(ifindex);
    if (mac === undefined) return PacketType.Host;
    for (let i = 0; i < 6; i++) {
      if (frame[i] !== Number.parseInt(mac.slice(i * 3, i * 3 + 2), 16)) return PacketType.OtherHost;
    }
    return PacketType.Host;
  }
}

// ---- comparison with masking ------------------------------------------------------------------------

/**
 * maskUnreproducible: copy into `mine` the fields Linux draws from secrets, randomness or its clock,
 * taken from `kernel`, and fix the checksums that cover them, so the rest can be compared byte for
 * byte. Returns the names of the fields copied. Fields: the IPv4 identification of a packet without
 * DF; the IPv6 flow label of a packet whose own label is not 0 (an auto label); the receive and
 * transmit times of an ICMP timestamp reply when within `tsSlackMs` of the kernel's.
 */
export function maskUnreproducible(mine: Uint8Array, kernel: Uint8Array, tsSlackMs = 20): string[] {
  const masked: string[] = [];
  if (mine.length < 20 || kernel.length < 20 || mine[0] >> 4 !== kernel[0] >> 4) return masked;
  if (mine[0] >> 4 === 4) {
    const hl = (mine[0] & 0x0f) << 2;
    if ((mine[6] & 0x40) === 0) {
      mine[4] = kernel[4];
      mine[5] = kernel[5];
      masked.push("ip.id");
    }
    if (mine[9] === 1 && mine[hl] === 14 && mine.length >= hl + 20 && kernel.length >= hl + 20) {
      let ok = true;
      for (const f of [12, 16]) {
        const a = ((mine[hl + f] << 24) | (mine[hl + f + 1] << 16) | (mine[hl + f + 2] << 8) | mine[hl + f + 3]) >>> 0;
        const k =
          ((kernel[hl + f] << 24) | (kernel[hl + f + 1] << 16) | (kernel[hl + f + 2] << 8) | kernel[hl + f + 3]) >>> 0;
        if (Math.abs(a - k) > tsSlackMs) ok = false;
      }
      if (ok) {
        for (let i = 12; i < 20; i++) mine[hl + i] = kernel[hl + i];
        mine[hl + 2] = 0;
        mine[hl + 3] = 0;
        const c = finishChecksum(sumBytes(mine, hl, mine.length - hl, 0));
        mine[hl + 2] = c >> 8;
        mine[hl + 3] = c & 0xff;
        masked.push("icmp.timestamps");
      }
    }
    mine[10] = 0;
    mine[11] = 0;
    const c = finishChecksum(sumBytes(mine, 0, hl, 0));
    mine[10] = c >> 8;
    mine[11] = c & 0xff;
  } else {
    const myLabel = ((mine[1] & 0x0f) << 16) | (mine[2] << 8) | mine[3];
    if (myLabel !== 0) {
      mine[1] = (mine[1] & 0xf0) | (kernel[1] & 0x0f);
      mine[2] = kernel[2];
      mine[3] = kernel[3];
      masked.push("ip6.flowlabel");
    }
  }
  return masked;
}

/** hex: a short hex dump for assertion messages. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** firstDiff: the offset of the first differing byte, or -1. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
