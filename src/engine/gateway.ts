/**
 * Gateway: a Linux router's IP layer with netfilter, in userspace. A packet handed to `receive` walks
 * the hooks in Linux's order, with each table at its priority:
 *
 *   receive ─► PREROUTING ─► route ─┬─► INPUT ─► local stack (answers go to OUTPUT)
 *              raw  (-300)          │   mangle (-150) filter (0) nat/SNAT (100) confirm
 *              ct   (-200)          │
 *              mangle (-150)        └─► ip_forward checks (TTL, MTU) ─► FORWARD ─► POSTROUTING ─► out
 *              nat/DNAT (-100)                                          mangle      mangle (-150)
 *                                                                        filter      nat/SNAT (100)
 *   OUTPUT (packets the gateway makes): route ─► raw ct mangle nat/DNAT filter ─► POSTROUTING ─► out
 *
 * Packets the gateway makes while handling one (REJECT replies, ICMP errors, stack answers) are queued
 * and sent through OUTPUT right after it, in order: the packet that caused them is always consumed
 * (dropped or delivered), so the order on every interface is Linux's.
 *
 * Time is the caller's: `now` (seconds) comes with each packet. Nothing here reads a clock.
 * Hot path: receive() and everything it calls must not allocate.
 */
import { HOOK_NAMES, Hook, Verdict } from "../core/netfilter.js";
import { PacketType, Skb } from "../core/skb.js";
import { Fragmenter, FragOutput, ipv4ExceedsMtu, ipv6PktTooBig } from "../defrag/fragmenter.js";
import { DefragUser, DefragVerdict, type ExpiredFragment, FragInfo, type Reassembler } from "../defrag/reassembler.js";
import {
  Ipv4RxOptions,
  ipv4ForwardOptions,
  ipv4OptionsReceive,
  OPTIONS_DROP,
  OPTIONS_OK,
} from "../stack/ipv4-options.js";
import { StackRoute, type StackRoutes } from "../stack/routes.js";
import { relatedCtInfo, StackIcmpKind } from "../stack/stack.js";
import { verifyIpv4HeaderChecksum } from "../wire/checksum.js";
import { EMPTY_BYTES, type PacketInfo, WireStatus } from "../wire/packet-info.js";
import { ipv6RcvAddrOk, parsePacket } from "../wire/parse.js";
import { DstClass, type Fib } from "./fib.js";
import { RouteType } from "./netconf.js";
import type { ConntrackPort, GatewaySink, NatPort, RulesPort } from "./ports.js";
import { Table } from "./ports.js";
import { Fate, GatewayStats } from "./stats.js";

/** ICMP error kinds the forwarding path asks the stack for (the stack's own numbering). */
export const IcmpKind = StackIcmpKind;

/** StackPort: the packets the gateway makes of its own (src/stack's Stack), written into `out`. */
export interface StackPort {
  /** the local stack's answer to a delivered packet (RST, port/protocol unreachable, echo reply); length or 0 */
  answer(skb: Skb, out: Uint8Array): number;
  /** an ICMP / ICMPv6 error about the packet (IcmpKind; info: the MTU, or the parameter-problem pointer); length or 0 */
  icmpError(skb: Skb, kind: number, info: number, out: Uint8Array): number;
  /** REJECT's reply (RejectWith type); length or 0 */
  reject(skb: Skb, withType: number, out: Uint8Array): number;
  /** the last built reply must be attached to the offending packet's connection (nf_ct_attach) */
  readonly attachToCt: boolean;
  /** the last built reply (REJECT tcp-reset) closes the offending packet's TCP connection (nf_ct_set_closing) */
  readonly setClosing: boolean;
  /** ICMP / ICMPv6 time exceeded in fragment reassembly, quoting the first fragment; length or 0 */
  timeExceededReassembly4(skb: Skb, out: Uint8Array): number;
  timeExceededReassembly6(skb: Skb, out: Uint8Array): number;
}

/** Observer of a packet's path (tracing). All methods optional in effect: null tracer costs nothing. */
export interface GatewayTracer {
  packet(skb: Skb, origin: "in" | "local"): void;
  /** a packet the gateway made goes out while the current one is half way (its trace comes first) */
  nest?(): void;
  /** back to the packet that was half way */
  unnest?(): void;
  hook(skb: Skb, hook: number, table: number, verdict: number): void;
  conntrack(skb: Skb): void;
  route(skb: Skb, what: string): void;
  fate(skb: Skb, fate: number, detail: string): void;
}

/** Settings the pipeline reads (from sysctls). */
export interface GatewayOptions {
  /** whether connections of the family are tracked at all (Linux registers conntrack on demand) */
  track4: boolean;
  track6: boolean;
  ipForward: boolean;
  ip6Forward: boolean;
  /** extra packets the gateway may queue while handling one (REJECT + errors); default 8 */
  pendingSlots?: number;
  /** the reassembler in front of conntrack (nf_defrag); null: fragments are not reassembled */
  reassembler?: Reassembler | null;
  /** first IPv6 fragment identification the gateway uses when it fragments (Linux draws them at random) */
  fragIdSeed?: number;
  /** per ifindex: ICMP redirects may be sent out of the interface (send_redirects); absent: all may */
  sendRedirects?: Uint8Array;
}

const MAX_PACKET = 65535;

/** packets receiveBatch parses ahead and prefetches at a time */
export const BATCH_GROUP = 16;

/**
 * PacketBatch: packets for Gateway.receiveBatch, filled by the caller with add() and emptied by
 * receiveBatch (reuse it: it allocates only when built).
 */
export class PacketBatch {
  readonly capacity: number;
  count = 0;
  readonly ifindex: Int32Array;
  readonly off: Int32Array;
  readonly len: Int32Array;
  /** arrival time of each packet, seconds */
  readonly now: Float64Array;
  readonly buf: Uint8Array[];
  /** as receive()'s pktType, l2 and srcMacOff */
  readonly pktType: Uint8Array;
  readonly l2: (Uint8Array | null)[];
  readonly srcMacOff: Int32Array;
  constructor(capacity = 64) {
    this.capacity = capacity;
    this.ifindex = new Int32Array(capacity);
    this.off = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
    this.now = new Float64Array(capacity);
    this.buf = new Array<Uint8Array>(capacity).fill(EMPTY_BYTES);
    this.pktType = new Uint8Array(capacity);
    this.l2 = new Array<Uint8Array | null>(capacity).fill(null);
    this.srcMacOff = new Int32Array(capacity);
  }
  /** add: one packet, with receive()'s arguments; false (and nothing added) when the batch is full */
  add(
    ifindex: number,
    buf: Uint8Array,
    off: number,
    len: number,
    now: number,
    pktType: number = PacketType.Host,
    l2: Uint8Array | null = null,
    srcMacOff = -1,
  ): boolean {
    const i = this.count;
    if (i >= this.capacity) return false;
    this.ifindex[i] = ifindex;
    this.buf[i] = buf;
    this.off[i] = off;
    this.len[i] = len;
    this.now[i] = now;
    this.pktType[i] = pktType;
    this.l2[i] = l2;
    this.srcMacOff[i] = srcMacOff;
    this.count = i + 1;
    return true;
  }
}

class Pending {
  readonly buf: Uint8Array = new Uint8Array(MAX_PACKET + 64);
  len = 0;
  now = 0;
  /** connection to attach (nf_ct_attach), -1 none; and its ctinfo */
  ct = -1;
  ctInfo = 0;
}

export class Gateway {
  readonly fib: Fib;
  readonly stats: GatewayStats = new GatewayStats();
  tracer: GatewayTracer | null = null;
  private readonly ct: ConntrackPort;
  private readonly nat: NatPort;
  private readonly rules4: RulesPort;
  private readonly rules6: RulesPort;
  private readonly stack: StackPort;
  private readonly sink: GatewaySink;
  /** the Skb of the packet being handled: rxSkb, one of the batch's, or txSkb */
  private skb: Skb;
  /** the Skb of receive() */
  private readonly rxSkb: Skb = new Skb();
  /** receive()'s time argument, handed to the pipeline without boxing it */
  private readonly rxTime = new Float64Array(1);
  /** the Skb of packets the gateway sends itself (localOut) */
  private readonly txSkb: Skb = new Skb();
  /** receiveBatch's Skbs, parsed ahead (allocated by the first batch) and their PacketInfos */
  private batchSkbs: Skb[] = [];
  private batchPis: PacketInfo[] = [];
  private readonly pending: Pending[];
  private pendingHead = 0;
  private pendingCount = 0;
  private readonly mtus: Int32Array;
  /**
   * the tables that can act at each hook (bits 1 << Table), IPv4 at [hook], IPv6 at [5 + hook]: asked of
   * the rules once, so that the hooks skip absent tables without a call (RulesPort.active)
   */
  private readonly activeTables = new Uint8Array(10);
  private readonly track4: boolean;
  private readonly track6: boolean;
  private readonly ipForward: boolean;
  private readonly ip6Forward: boolean;
  private readonly sendRedirects: Uint8Array | null;
  private readonly runNatFn: (skb: Skb, hook: number) => number;
  /** true while the queued packets are being sent (a packet made then is queued behind them) */
  private draining = false;
  private readonly reasm: Reassembler | null;
  private readonly fragmenter: Fragmenter = new Fragmenter();
  /** the current packet was reassembled: its fragments' geometry (Linux IPCB frag_max_size & co) */
  private readonly fragInfo: FragInfo = new FragInfo();
  private hasFragInfo = false;
  /** MTU of the current packet's route */
  private curMtu = 0;
  private txIf = -1;
  private txNow = 0;
  private fragId: number;
  private readonly fragSink: (buf: Uint8Array, off: number, len: number) => void;
  private readonly onExpired: (e: ExpiredFragment) => void;
  /** the first fragment of an expired reassembly queue, for its ICMP time exceeded */
  private readonly expSkb: Skb = new Skb();
  /** IPv4 options of the current packet (record route / timestamp entries to fill on forwarding) */
  private readonly rxOpts: Ipv4RxOptions = new Ipv4RxOptions();
  private readonly routes: StackRoutes;
  private readonly scratchRoute: StackRoute = new StackRoute();

  constructor(parts: {
    fib: Fib;
    conntrack: ConntrackPort;
    nat: NatPort;
    rules4: RulesPort;
    rules6: RulesPort;
    stack: StackPort;
    sink: GatewaySink;
    /** source addresses and output routes (for IPv4 options) */
    routes: StackRoutes;
    options: GatewayOptions;
  }) {
    this.fib = parts.fib;
    this.ct = parts.conntrack;
    this.nat = parts.nat;
    this.rules4 = parts.rules4;
    this.rules6 = parts.rules6;
    this.stack = parts.stack;
    this.sink = parts.sink;
    this.routes = parts.routes;
    this.skb = this.rxSkb;
    const slots = parts.options.pendingSlots ?? 8;
    this.pending = [];
    for (let i = 0; i < slots; i++) this.pending.push(new Pending());
    let maxIf = 0;
    for (const f of this.fib.ifaces) maxIf = Math.max(maxIf, f.ifindex);
    this.mtus = new Int32Array(maxIf + 1);
    for (const f of this.fib.ifaces) this.mtus[f.ifindex] = f.mtu;
    this.stats.ensure(maxIf);
    this.runNatFn = (skb: Skb, hook: number): number => this.rulesFor(skb).run(Table.Nat, hook, skb);
    this.reasm = parts.options.reassembler ?? null;
    this.sendRedirects = parts.options.sendRedirects ?? null;
    for (let h = 0; h < 5; h++) {
      for (let t = 0; t < 5; t++) {
        if (this.rules4.active(t, h)) this.activeTables[h] |= 1 << t;
        if (this.rules6.active(t, h)) this.activeTables[5 + h] |= 1 << t;
      }
    }
    this.track4 = parts.options.track4;
    this.track6 = parts.options.track6;
    this.ipForward = parts.options.ipForward;
    this.ip6Forward = parts.options.ip6Forward;
    this.fragId = parts.options.fragIdSeed ?? 0x1000;
    this.fragSink = (buf: Uint8Array, off: number, len: number): void => {
      this.sink.transmit(this.txIf, buf, off, len, this.txNow);
      const st = this.stats;
      st.txPackets[this.txIf]++;
      st.txBytes[this.txIf] += len;
    };
    this.onExpired = (e: ExpiredFragment): void => this.fragmentsExpired(e);
  }

  /** The Skb the pipeline uses (read it in tracers and targets; never keep it). */
  get currentSkb(): Skb {
    return this.skb;
  }

  /**
   * receive: an IP packet (no link layer) arrives on interface `ifindex` at time `now` (seconds).
   * `pktType` is the link layer's PACKET_* class (Host unless the frame said otherwise); `l2` and
   * `srcMacOff` locate the frame's source MAC address when it had one (for `-m mac`).
   * The bytes may be rewritten in place (NAT, TTL) and are not kept after the call.
   */
  receive(
    ifindex: number,
    buf: Uint8Array,
    off: number,
    len: number,
    now: number,
    pktType: number = PacketType.Host,
    l2: Uint8Array | null = null,
    srcMacOff = -1,
  ): void {
    // A fractional time passed to a function that is not inlined is boxed (a 16-byte HeapNumber per
    // packet). This wrapper is small enough to be inlined into the caller's loop; it stores the time
    // into a Float64Array, and the pipeline reads it from there.
    this.rxTime[0] = now;
    this.receiveAtRxTime(ifindex, buf, off, len, pktType, l2, srcMacOff);
  }

  private receiveAtRxTime(
    ifindex: number,
    buf: Uint8Array,
    off: number,
    len: number,
    pktType: number,
    l2: Uint8Array | null,
    srcMacOff: number,
  ): void {
    const now = this.rxTime[0];
    // timers that fall due before this packet (reassembly queues that time out): what they send goes
    // out before the packet is handled, as Linux sends it at its time
    if (this.reasm !== null && this.reasm.queueCount > 0) {
      this.reasm.expire(now, this.onExpired);
      if (this.pendingCount > 0 && !this.draining) this.drain();
    }
    const skb = this.rxSkb;
    this.skb = skb;
    skb.reset(now, ifindex);
    skb.pktType = pktType;
    if (l2 !== null && srcMacOff >= 6) {
      // the mac match reads the source address 6 bytes into an Ethernet-shaped header
      skb.l2 = l2;
      skb.macOff = srcMacOff - 6;
    }
    const st = this.stats;
    if (ifindex >= 0 && ifindex < st.rxPackets.length) {
      st.rxPackets[ifindex]++;
      st.rxBytes[ifindex] += len;
    }
    this.input(skb, buf, off, len);
    if (this.pendingCount > 0 && !this.draining) this.drain();
  }

  /**
   * receiveBatch: the packets of `batch`, in order, exactly as that many receive() calls would handle
   * them; then the batch is emptied. The packets are
   * parsed ahead in groups of BATCH_GROUP and conntrack is asked to prefetch their entries
   * (ConntrackPort.prefetchBatch), so that the memory loads of a group overlap instead of stalling one
   * packet at a time. The packets' bytes must not overlap. Hot path: must not allocate (the first call
   * allocates the group's Skbs).
   */
  receiveBatch(batch: PacketBatch): void {
    const n = batch.count;
    if (this.batchSkbs.length === 0) {
      for (let k = 0; k < BATCH_GROUP; k++) {
        const x = new Skb();
        this.batchSkbs.push(x);
        this.batchPis.push(x.pi);
      }
    }
    const skbs = this.batchSkbs;
    const ct = this.ct;
    const st = this.stats;
    for (let s = 0; s < n; s += BATCH_GROUP) {
      const e = Math.min(n, s + BATCH_GROUP);
      for (let k = s; k < e; k++) {
        const skb = skbs[k - s];
        skb.reset(batch.now[k], batch.ifindex[k]);
        skb.pktType = batch.pktType[k];
        const l2 = batch.l2[k];
        if (l2 !== null && batch.srcMacOff[k] >= 6) {
          skb.l2 = l2;
          skb.macOff = batch.srcMacOff[k] - 6;
        }
        parsePacket(skb.pi, batch.buf[k], batch.off[k], batch.len[k]);
      }
      if (ct.prefetchBatch !== undefined) ct.prefetchBatch(this.batchPis, e - s);
      for (let k = s; k < e; k++) {
        if (this.reasm !== null && this.reasm.queueCount > 0) {
          this.reasm.expire(batch.now[k], this.onExpired);
          if (this.pendingCount > 0 && !this.draining) this.drain();
        }
        const skb = skbs[k - s];
        this.skb = skb;
        const ifindex = batch.ifindex[k];
        if (ifindex >= 0 && ifindex < st.rxPackets.length) {
          st.rxPackets[ifindex]++;
          st.rxBytes[ifindex] += batch.len[k];
        }
        const pi = skb.pi;
        if (pi.status !== WireStatus.Ok) this.fate(skb, pi.status === WireStatus.NotIp ? Fate.NotIp : Fate.BadHeader);
        else this.inputParsed(skb);
        if (this.pendingCount > 0 && !this.draining) this.drain();
      }
    }
    // drop the references to the callers' buffers
    for (let k = 0; k < n; k++) {
      batch.buf[k] = EMPTY_BYTES;
      batch.l2[k] = null;
    }
    batch.count = 0;
  }

  /**
   * advance: let time pass to `now` without a packet (timers fall due: reassembly queues time out and
   * their ICMP errors are sent). The replay calls it at the listing time.
   */
  advance(now: number): void {
    if (this.reasm !== null && this.reasm.queueCount > 0) this.reasm.expire(now, this.onExpired);
    if (this.pendingCount > 0 && !this.draining) this.drain();
  }

  /**
   * send: inject a packet the gateway itself originates (an IP packet with its source address set), as
   * a local socket would: it is routed and goes through OUTPUT and POSTROUTING.
   */
  send(buf: Uint8Array, off: number, len: number, now: number): void {
    const p = this.reserve(now);
    if (p === null) return;
    p.buf.set(buf.subarray(off, off + len));
    p.len = len;
    if (!this.draining) this.drain();
  }

  // ---------------------------------------------------------------------------------------------
  // receive path

  private input(skb: Skb, buf: Uint8Array, off: number, len: number): void {
    const pi = skb.pi;
    if (parsePacket(pi, buf, off, len) !== WireStatus.Ok) {
      this.fate(skb, pi.status === WireStatus.NotIp ? Fate.NotIp : Fate.BadHeader);
      return;
    }
    this.inputParsed(skb);
  }

  /** the receive path of a packet parsed into skb.pi with status Ok */
  private inputParsed(skb: Skb): void {
    const pi = skb.pi;
    if (this.tracer !== null) this.tracer.packet(skb, "in");
    // ip_rcv_core: header checksum (IPv4), then frames for other hosts are dropped
    if (pi.family === 4 && !verifyIpv4HeaderChecksum(pi)) {
      this.fate(skb, Fate.BadChecksum);
      return;
    }
    if (skb.pktType === PacketType.OtherHost) {
      this.fate(skb, Fate.OtherHost);
      return;
    }
    // ip6_rcv_core: loopback, interface-local multicast and multicast sources never get to PREROUTING
    if (pi.family === 6 && !ipv6RcvAddrOk(pi, false)) {
      this.fate(skb, Fate.Martian);
      return;
    }
    this.hasFragInfo = false;
    // PREROUTING, priority -400: nf_defrag reassembles for conntrack: IPv4 fragments, and every IPv6
    // packet with a fragment header (nf_ct_frag6_gather queues an atomic fragment too, and the packet
    // goes on without its fragment header)
    if (
      (pi.isFragment || pi.fragHdrOff >= 0) &&
      this.reasm !== null &&
      (pi.family === 4 ? this.track4 : this.track6) &&
      !this.defrag(skb)
    ) {
      return;
    }
    // PREROUTING
    if (!this.prerouting(skb)) return;
    // routing decision (ip_route_input / ip6_route_input)
    if (pi.family === 4 && martian4(this.fib, pi.src[0], pi.dst[0])) {
      this.drop(skb, Fate.Martian);
      return;
    }
    const cls = pi.family === 4 ? this.fib.classify4(pi.dst[0]) : this.fib.classify6(pi.dst);
    this.rxOpts.reset();
    if (pi.family === 4 && pi.ipHeaderLen > 20 && !this.ipRcvOptions(skb, cls)) return;
    switch (cls) {
      case DstClass.Local:
      case DstClass.Broadcast:
      case DstClass.Multicast:
        this.localIn(skb);
        return;
      case DstClass.MulticastOther:
        this.drop(skb, Fate.Martian);
        return;
      default:
        this.forward(skb);
    }
  }

  /** run the reassembler on a fragment; false when the packet goes no further (queued or dropped) */
  private defrag(skb: Skb): boolean {
    const r = this.reasm!;
    const pi = skb.pi;
    const v =
      pi.family === 4
        ? r.defragIpv4(pi, skb.now, DefragUser.ConntrackIn, skb.inIf, this.onExpired)
        : r.defragIpv6(pi, skb.now, DefragUser.ConntrackIn, skb.inIf, this.onExpired);
    switch (v) {
      case DefragVerdict.Accept:
        return true;
      case DefragVerdict.Reassembled:
        if (parsePacket(pi, r.reassembled, 0, r.reassembledLen) !== WireStatus.Ok) {
          this.fate(skb, Fate.BadHeader);
          return false;
        }
        this.fragInfo.copyFrom(r.info);
        this.hasFragInfo = true;
        if (this.tracer !== null) this.tracer.route(skb, "reassembled");
        return true;
      case DefragVerdict.Stolen:
        this.fate(skb, Fate.Reassembling);
        return false;
      default:
        this.fate(skb, Fate.ReasmFailed);
        return false;
    }
  }

  /**
   * A reassembly queue timed out. Linux (ip6frag_expire_frag_queue, ip_expire) answers with ICMP time
   * exceeded, code "fragment reassembly", quoting the first fragment when it had arrived: always for
   * IPv6; for IPv4 conntrack queues only when the datagram was addressed to the gateway itself. The
   * answer is queued like any packet the gateway makes.
   */
  private fragmentsExpired(e: ExpiredFragment): void {
    if (e.firstFragment.length === 0) return;
    const x = this.expSkb;
    x.reset(e.at, e.iif);
    if (parsePacket(x.pi, e.firstFragment, 0, e.firstFragment.length) !== WireStatus.Ok) return;
    if (e.family === 4 && this.fib.classify4(x.pi.dst[0]) !== DstClass.Local) return;
    const p = this.reserve(e.at);
    if (p === null) return;
    p.len =
      e.family === 4 ? this.stack.timeExceededReassembly4(x, p.buf) : this.stack.timeExceededReassembly6(x, p.buf);
    if (p.len === 0) this.unreserve();
  }

  /**
   * ip_rcv_options, after routing: bad options get an ICMP parameter problem; record-route and timestamp
   * entries are filled; a source route is dropped (accept_source_route off). False when the packet ends here.
   */
  private ipRcvOptions(skb: Skb, cls: number): boolean {
    const pi = skb.pi;
    // fib_compute_spec_dst: the destination itself for local unicast, else our address towards the sender
    let specDst = pi.dst[0];
    if (cls !== DstClass.Local)
      specDst = this.routes.route4(pi.src[0], this.scratchRoute) ? this.scratchRoute.src[0] : 0;
    const r = ipv4OptionsReceive(pi, specDst, skb.now, this.routes, this.rxOpts);
    if (r === OPTIONS_OK) return true;
    if (r === OPTIONS_DROP) this.drop(skb, Fate.Martian);
    else this.icmpAndDrop(skb, IcmpKind.ParamProblem, r, Fate.BadHeader);
    return false;
  }

  /** PREROUTING: raw (-300), conntrack (-200), mangle (-150), nat/DNAT (-100); false when the packet ends */
  private prerouting(skb: Skb): boolean {
    skb.hook = Hook.Prerouting;
    const v4 = skb.pi.family === 4;
    const rules = v4 ? this.rules4 : this.rules6;
    const act = this.activeTables[(v4 ? 0 : 5) + Hook.Prerouting];
    return (
      this.pass(rules, act, Table.Raw, Hook.Prerouting, skb) &&
      this.conntrackIn(skb, Hook.Prerouting) === Verdict.Accept &&
      this.pass(rules, act, Table.Mangle, Hook.Prerouting, skb) &&
      this.passNat(skb, Hook.Prerouting)
    );
  }

  private conntrackIn(skb: Skb, hook: number): number {
    if (skb.pi.family === 4 ? !this.track4 : !this.track6) return Verdict.Accept;
    let v = this.ct.in(skb, hook);
    if (v === Verdict.Repeat) v = this.ct.in(skb, hook);
    if (this.tracer !== null) this.tracer.conntrack(skb);
    if (v !== Verdict.Accept) {
      this.fate(skb, Fate.ConntrackDrop);
      return Verdict.Drop;
    }
    return Verdict.Accept;
  }

  private natHook(skb: Skb, hook: number): number {
    if (skb.ct < 0) return Verdict.Accept;
    const v = this.nat.hook(skb, hook, this.runNatFn);
    if (this.tracer !== null) this.tracer.hook(skb, hook, Table.Nat, v);
    return v;
  }

  /**
   * run a table at a hook unless it is absent there (`act`: the hook's activeTables bits); false (and
   * the packet dropped or stolen) unless it accepted
   */
  private pass(rules: RulesPort, act: number, table: number, hook: number, skb: Skb): boolean {
    return (act & (1 << table)) === 0 || this.runTable(rules, table, hook, skb);
  }

  private runTable(rules: RulesPort, table: number, hook: number, skb: Skb): boolean {
    skb.hook = hook;
    const v = rules.run(table, hook, skb);
    if (this.tracer !== null) this.tracer.hook(skb, hook, table, v);
    if (v === Verdict.Accept) return true;
    this.hookDrop(skb, v);
    return false;
  }

  /** NAT at a hook; false (and the packet dropped) unless it accepted */
  private passNat(skb: Skb, hook: number): boolean {
    skb.hook = hook;
    const v = this.natHook(skb, hook);
    if (v === Verdict.Accept) return true;
    this.hookDrop(skb, v);
    return false;
  }

  /** a hook returned something other than ACCEPT: the packet ends here */
  private hookDrop(skb: Skb, v: number): void {
    if (v === Verdict.Stolen) this.ct.release(skb);
    else this.drop(skb, Fate.NetfilterDrop);
  }

  private drop(skb: Skb, fate: number): void {
    this.ct.release(skb);
    this.fate(skb, fate);
  }

  private fate(skb: Skb, fate: number): void {
    this.stats.fate[fate]++;
    if (this.tracer !== null) this.tracer.fate(skb, fate, "");
  }

  private rulesFor(skb: Skb): RulesPort {
    return skb.pi.family === 6 ? this.rules6 : this.rules4;
  }

  // ---------------------------------------------------------------------------------------------
  // forwarding (ip_forward / ip6_forward)

  private forward(skb: Skb): void {
    const pi = skb.pi;
    const v4 = pi.family === 4;
    if (v4 ? !this.ipForward : !this.ip6Forward) {
      this.drop(skb, Fate.ForwardingOff);
      return;
    }
    const fib = this.fib;
    const r = v4 ? fib.lookup4(pi.dst[0]) : fib.lookup6(pi.dst);
    if (r < 0) {
      this.icmpAndDrop(skb, IcmpKind.NetUnreachable, 0, Fate.NoRoute);
      return;
    }
    switch (fib.routeType(pi.family, r)) {
      case RouteType.Unicast:
        break;
      case RouteType.Blackhole:
        this.drop(skb, Fate.Blackhole);
        return;
      case RouteType.Prohibit:
        this.icmpAndDrop(skb, IcmpKind.AdminProhibited, 0, Fate.NoRoute);
        return;
      default:
        this.icmpAndDrop(skb, IcmpKind.HostUnreachable, 0, Fate.NoRoute);
        return;
    }
    const oif = fib.oif(pi.family, r);
    if (oif < 0) {
      this.icmpAndDrop(skb, IcmpKind.NetUnreachable, 0, Fate.NoRoute);
      return;
    }
    skb.outIf = oif;
    fib.nextHop(pi.family, r, pi.dst, skb.nextHop);
    if (this.tracer !== null) this.tracer.route(skb, "forward");
    // ip_forward: only frames addressed to us at the link layer are forwarded
    if (skb.pktType !== PacketType.Host) {
      this.drop(skb, Fate.Martian);
      return;
    }
    if (pi.ttl <= 1) {
      this.icmpAndDrop(skb, IcmpKind.TimeExceeded, 0, Fate.TtlExpired);
      return;
    }
    const rmtu = fib.routeMtu(pi.family, r);
    const mtu = rmtu > 0 ? rmtu : this.mtus[oif];
    this.curMtu = mtu;
    const info = this.hasFragInfo ? this.fragInfo : null;
    if (
      v4
        ? ipv4ExceedsMtu(pi.buf, pi.off, pi.len, mtu, info, this.hasFragInfo)
        : ipv6PktTooBig(pi.len, mtu, info, this.hasFragInfo)
    ) {
      this.icmpAndDrop(skb, IcmpKind.FragNeeded, mtu, Fate.TooBig);
      return;
    }
    decrementTtl(skb);
    // ip_forward: a packet that leaves through the interface it came in on, from a host on that link
    // (the route back to it is a direct one through the same interface), draws an ICMP redirect
    // (__mkroute_input sets IPSKB_DOREDIRECT; ip_rt_send_redirect) before it goes on
    if (v4 && oif === skb.inIf && (this.sendRedirects === null || this.sendRedirects[oif] === 1)) {
      const back = fib.lookup4(pi.src[0]);
      if (back >= 0 && fib.oif(4, back) === oif && !fib.hasGateway(4, back)) this.redirect(skb);
    }
    // FORWARD
    const act = this.activeTables[(v4 ? 0 : 5) + Hook.Forward];
    if (act !== 0) {
      const rules = v4 ? this.rules4 : this.rules6;
      if (!this.pass(rules, act, Table.Mangle, Hook.Forward, skb)) return;
      if (!this.pass(rules, act, Table.Filter, Hook.Forward, skb)) return;
      if (!this.pass(rules, act, Table.Security, Hook.Forward, skb)) return;
    }
    // ip_forward_finish -> ip_forward_options
    if (v4 && pi.ipHeaderLen > 20 && this.routes.route4(pi.dst[0], this.scratchRoute)) {
      ipv4ForwardOptions(pi, this.rxOpts, this.scratchRoute.src[0]);
    }
    this.postrouting(skb, Fate.Forwarded);
  }

  private postrouting(skb: Skb, fate: number): void {
    const v4 = skb.pi.family === 4;
    const act = this.activeTables[(v4 ? 0 : 5) + Hook.Postrouting];
    if (!this.pass(v4 ? this.rules4 : this.rules6, act, Table.Mangle, Hook.Postrouting, skb)) return;
    if (!this.passNat(skb, Hook.Postrouting)) return;
    if (skb.ct >= 0 && this.ct.confirm(skb) !== Verdict.Accept) {
      this.drop(skb, Fate.ConntrackDrop);
      return;
    }
    this.transmit(skb, fate);
  }

  private transmit(skb: Skb, fate: number): void {
    const pi = skb.pi;
    const oif = skb.outIf;
    this.txIf = oif;
    this.txNow = skb.now;
    const mtu = this.curMtu > 0 ? this.curMtu : this.mtus[oif];
    const info = this.hasFragInfo ? this.fragInfo : null;
    if (info === null && pi.len <= mtu) {
      this.sink.transmit(oif, pi.buf, pi.off, pi.len, skb.now);
      const st = this.stats;
      st.txPackets[oif]++;
      st.txBytes[oif] += pi.len;
      this.fate(skb, fate);
      return;
    }
    // ip_finish_output / ip6_finish_output: fragment to the MTU, or to the original fragment sizes
    const r =
      pi.family === 4
        ? this.fragmenter.ipv4Output(pi.buf, pi.off, pi.len, mtu, info, this.hasFragInfo, this.fragSink)
        : this.fragmenter.ipv6Output(
            pi.buf,
            pi.off,
            pi.len,
            mtu,
            info,
            this.hasFragInfo,
            this.nextFragId(),
            this.fragSink,
          );
    if (r === FragOutput.NeedFrag || r === FragOutput.Drop) {
      this.drop(skb, Fate.TooBig);
      return;
    }
    this.fate(skb, fate);
  }

  private nextFragId(): number {
    this.fragId = (this.fragId + 1) | 0;
    return this.fragId;
  }

  // ---------------------------------------------------------------------------------------------
  // local delivery (ip_local_deliver) and the local stack

  private localIn(skb: Skb): void {
    if (this.tracer !== null) this.tracer.route(skb, "local");
    const v4 = skb.pi.family === 4;
    const rules = v4 ? this.rules4 : this.rules6;
    const act = this.activeTables[(v4 ? 0 : 5) + Hook.Input];
    if (!this.pass(rules, act, Table.Mangle, Hook.Input, skb)) return;
    if (!this.pass(rules, act, Table.Filter, Hook.Input, skb)) return;
    if (!this.pass(rules, act, Table.Security, Hook.Input, skb)) return;
    if (!this.passNat(skb, Hook.Input)) return;
    if (skb.ct >= 0 && this.ct.confirm(skb) !== Verdict.Accept) {
      this.drop(skb, Fate.ConntrackDrop);
      return;
    }
    const pi = skb.pi;
    this.sink.deliver(skb.inIf, pi.buf, pi.off, pi.len, skb.now);
    this.fate(skb, Fate.Delivered);
    // the stack answers from a queued slot
    const p = this.reserve(skb.now);
    if (p === null) return;
    p.len = this.stack.answer(skb, p.buf);
    this.built(p, skb);
  }

  // ---------------------------------------------------------------------------------------------
  // packets the gateway makes

  /** queue an ICMP error about the current packet (suppression and rate limits are the stack's), then drop it */
  private icmpAndDrop(skb: Skb, kind: number, mtu: number, fate: number): void {
    const p = this.reserve(skb.now);
    if (p !== null) {
      p.len = this.stack.icmpError(skb, kind, mtu, p.buf);
      this.built(p, skb);
    }
    this.drop(skb, fate);
  }

  /**
   * redirect: Linux ip_rt_send_redirect -> icmp_send(ICMP_REDIRECT, host, next hop): the redirect is
   * built from the packet as it is now (TTL decremented) and sent at once, ahead of the packet, which
   * then goes on through FORWARD. It is attached to the packet's connection (RELATED), so nat OUTPUT
   * drops it while that connection's NAT is not done or when it has NAT (nf_nat_icmp_reply_translation).
   */
  private redirect(skb: Skb): void {
    const p = this.reserve(skb.now);
    if (p === null) return;
    p.len = this.stack.icmpError(skb, IcmpKind.Redirect, skb.nextHop[0], p.buf);
    if (!this.built(p, skb)) return;
    if (this.draining) return;
    // ip_local_out from inside ip_forward: the current packet waits
    const hasFragInfo = this.hasFragInfo;
    const curMtu = this.curMtu;
    const tracer = this.tracer;
    if (tracer?.nest !== undefined) tracer.nest();
    this.drain();
    if (tracer?.unnest !== undefined) tracer.unnest();
    this.skb = skb;
    this.hasFragInfo = hasFragInfo;
    this.curMtu = curMtu;
  }

  /** REJECT target: build the reply now (from the packet as the rule saw it), send it after. */
  rejectCurrent(skb: Skb, withType: number): void {
    const p = this.reserve(skb.now);
    if (p === null) return;
    p.len = this.stack.reject(skb, withType, p.buf);
    if (this.built(p, skb) && this.stack.setClosing && skb.ct >= 0) this.ct.setClosing(skb.ct, skb.now);
  }

  /**
   * A packet was built into a queued slot: give the slot back if nothing was built; otherwise attach it
   * to the offending packet's connection when Linux does (nf_ct_attach: ICMP errors via icmp_glue_bits,
   * REJECT's RST), as RELATED in the other direction. The connection may be an unconfirmed one that dies
   * with the offending packet: its entry stays readable until the slot is reused (conntrack quarantine).
   */
  private built(p: Pending, skb: Skb): boolean {
    if (p.len === 0) {
      this.unreserve();
      return false;
    }
    if (this.stack.attachToCt && skb.ct >= 0) {
      p.ct = skb.ct;
      p.ctInfo = relatedCtInfo(skb.ctInfo);
    }
    return true;
  }

  private reserve(now: number): Pending | null {
    if (this.pendingCount === this.pending.length) {
      this.stats.fate[Fate.QueueFull]++;
      return null;
    }
    const p = this.pending[(this.pendingHead + this.pendingCount) % this.pending.length];
    this.pendingCount++;
    p.len = 0;
    p.now = now;
    p.ct = -1;
    p.ctInfo = 0;
    return p;
  }

  private unreserve(): void {
    this.pendingCount--;
  }

  private drain(): void {
    this.draining = true;
    while (this.pendingCount > 0) {
      const p = this.pending[this.pendingHead];
      this.pendingHead = (this.pendingHead + 1) % this.pending.length;
      this.pendingCount--;
      this.localOut(p);
    }
    this.draining = false;
  }

  /** ip_local_out: route, OUTPUT, POSTROUTING. */
  private localOut(p: Pending): void {
    const skb = this.txSkb;
    this.skb = skb;
    skb.reset(p.now, -1);
    skb.pktType = PacketType.Outgoing;
    this.hasFragInfo = false;
    const pi = skb.pi;
    if (parsePacket(pi, p.buf, 0, p.len) !== WireStatus.Ok) {
      this.fate(skb, Fate.BadHeader);
      return;
    }
    if (this.tracer !== null) this.tracer.packet(skb, "local");
    if (!this.routeOutput(skb)) return;
    if (p.ct >= 0) {
      skb.ct = p.ct;
      skb.ctInfo = p.ctInfo;
      skb.ctAttached = true;
    }
    const v4 = skb.pi.family === 4;
    const rules = v4 ? this.rules4 : this.rules6;
    const act = this.activeTables[(v4 ? 0 : 5) + Hook.Output];
    skb.hook = Hook.Output;
    if (!this.pass(rules, act, Table.Raw, Hook.Output, skb)) return;
    if (skb.ct < 0 && this.conntrackIn(skb, Hook.Output) !== Verdict.Accept) return;
    if (!this.pass(rules, act, Table.Mangle, Hook.Output, skb)) return;
    if (!this.passNat(skb, Hook.Output)) return;
    if (!this.pass(rules, act, Table.Filter, Hook.Output, skb)) return;
    if (!this.pass(rules, act, Table.Security, Hook.Output, skb)) return;
    // a DNAT at OUTPUT may have changed the destination: route again (ip_route_me_harder)
    if (!this.routeOutput(skb)) return;
    this.postrouting(skb, Fate.LocalSent);
  }

  /** route a locally generated packet: sets outIf and nextHop; false (and dropped) when unroutable */
  private routeOutput(skb: Skb): boolean {
    const pi = skb.pi;
    const fib = this.fib;
    const r = pi.family === 4 ? fib.lookup4(pi.dst[0]) : fib.lookup6(pi.dst);
    if (r < 0 || fib.routeType(pi.family, r) !== RouteType.Unicast || fib.oif(pi.family, r) < 0) {
      this.drop(skb, Fate.NoRoute);
      return false;
    }
    skb.outIf = fib.oif(pi.family, r);
    const rmtu = fib.routeMtu(pi.family, r);
    this.curMtu = rmtu > 0 ? rmtu : this.mtus[skb.outIf];
    fib.nextHop(pi.family, r, pi.dst, skb.nextHop);
    return true;
  }
}

/**
 * martian4: Linux ip_route_input_slow's martian source and destination checks (with rp_filter off and
 * route_localnet off): a multicast, limited-broadcast, zero-network or loopback source, a zero-network
 * or loopback destination, or a source that is one of the host's own addresses (fib_validate_source).
 * 0.0.0.0 to a broadcast address (DHCP) is allowed.
 */
export function martian4(fib: Fib, src: number, dst: number): boolean {
  const s8 = src >>> 24;
  if (src >>> 28 === 0xe || src === -1) return true; // multicast or limited broadcast source
  if (dst === -1 || (src === 0 && dst === 0)) return false; // limited broadcast input
  if (s8 === 0) return true;
  const d8 = dst >>> 24;
  if (d8 === 0) return true;
  if (d8 === 127 || s8 === 127) return true;
  if (dst >>> 28 === 0xe) return false; // multicast input has its own checks
  return fib.isLocal4(src);
}

/** ip_decrease_ttl / the IPv6 hop-limit decrement, with the IPv4 header checksum updated (RFC 1624). */
export function decrementTtl(skb: Skb): void {
  const pi = skb.pi;
  const b = pi.buf;
  const o = pi.off;
  if (pi.family === 4) {
    b[o + 8]--;
    // The TTL is the high byte of the 16-bit word at offset 8: one's-complement add 0x0100 to the
    // checksum. Linux (ip_decrease_ttl, on little-endian x86) ends with 0x0000 where the sum is 0xffff;
    // the same bytes are produced here.
    let c = ((b[o + 10] << 8) | b[o + 11]) + 0x0100;
    if (c > 0xffff) c = (c & 0xffff) + 1;
    if (c === 0xffff) c = 0;
    b[o + 10] = c >>> 8;
    b[o + 11] = c & 0xff;
  } else {
    b[o + 7]--;
  }
  pi.ttl--;
}

export const HOOK_LABELS = HOOK_NAMES;
