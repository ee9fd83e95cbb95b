/**
 * Stack: every packet a Linux 6.18 gateway makes of its own, built byte for byte as Linux builds it,
 * with Linux's rules on when not to send and its rate limits. See README-style notes in index.ts.
 *
 * Each builder takes the offending packet through a PacketContext (an Skb fits), writes the packet the
 * gateway sends into `out` (from offset 0) and returns its length; 0 means nothing is sent, with the
 * reason in `stack.reason`. After a build, `attachToCt` / `setClosing` / `oif` describe what the engine
 * must do with it. Builders never throw and never allocate.
 *
 * Preconditions: `ctx.pi` was filled by parsePacket and its bytes are not changed during the call;
 * `out` does not overlap them.
 */
import { PacketType } from "../core/skb.js";
import { pseudoHeaderSumV4, pseudoHeaderSumV6, sumBytes } from "../wire/checksum.js";
import {
  IPPROTO_AH,
  IPPROTO_DCCP,
  IPPROTO_DSTOPTS,
  IPPROTO_ESP,
  IPPROTO_FRAGMENT,
  IPPROTO_GRE,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
} from "../wire/ip-protocol.js";
import { type PacketInfo, WireStatus } from "../wire/packet-info.js";
import { jiffiesAt, type StackConfig } from "./config.js";
import {
  ADDR6_ANY,
  ADDR6_MULTICAST,
  ADDR6_UNICAST,
  copyBytes,
  fillIcmp4Checksum,
  fillL4Checksum4,
  fillL4Checksum6,
  flowLabel6,
  get16,
  ipv6AddrType,
  needsScopeId6,
  put16,
  put32,
  SkipResult,
  skipExtHeaders6,
  sumIsValid,
  writeIpv4Header,
  writeIpv6Header,
} from "./emit.js";
import { echoIpv4Options } from "./ipv4-options.js";
import { IcmpLimiter } from "./ratelimit.js";
import { StackReason } from "./reasons.js";
import { AddrClass, StackRoute, type StackRoutes } from "./routes.js";

/**
 * PacketContext: what the stack reads about the offending packet besides its bytes. The engine's Skb
 * has these fields; tests may pass any object with them.
 */
export interface PacketContext {
  /** the parsed packet, as it is at the point Linux builds the answer (after DNAT, TTL decrement...) */
  readonly pi: PacketInfo;
  /** interface the packet arrived on; -1 for a packet the gateway made itself */
  readonly inIf: number;
  /** link-layer class (PacketType): only PACKET_HOST frames draw most answers */
  readonly pktType: number;
  /** packet time, seconds */
  readonly now: number;
  /** made by the gateway itself (its transport checksums count as verified) */
  readonly locallyGenerated: boolean;
}

/** ICMP error kinds the forwarding path asks for (the engine's IcmpKind values, plus IPv6's extras). */
export const StackIcmpKind = {
  /** TTL / hop limit ran out (ip_forward, ip6_forward) */
  TimeExceeded: 0,
  /** DF packet over the MTU (IPv4 fragmentation needed) / IPv6 packet too big; info = MTU */
  FragNeeded: 1,
  /** no route (IPv4: ip_error net unreachable; IPv6: no route) */
  NetUnreachable: 2,
  /** an unreachable route (IPv4: host unreachable; IPv6: no route) */
  HostUnreachable: 3,
  /** a prohibit route (IPv4: communication administratively prohibited, code 13; IPv6: code 1) */
  AdminProhibited: 4,
  /** IPv6 only: a link-local source forwarded off its link (destination unreachable, beyond scope) */
  BeyondScope: 5,
  /** IPv4 only: a malformed IP option (parameter problem, code 0; info = pointer) */
  ParamProblem: 6,
  /**
   * IPv4 only: ICMP redirect (host) for a packet forwarded back out of the interface it came in on,
   * through ip_rt_send_redirect's backoff; info = the better next hop
   */
  Redirect: 7,
} as const;

// ICMP types and codes (RFC 792, RFC 4443)
const ICMP_ECHOREPLY = 0;
const ICMP_DEST_UNREACH = 3;
const ICMP_REDIRECT = 5;
const ICMP_REDIR_HOST = 1;
const ICMP_ECHO = 8;
const ICMP_TIME_EXCEEDED = 11;
const ICMP_PARAMETERPROB = 12;
const ICMP_TIMESTAMP = 13;
const ICMP_TIMESTAMPREPLY = 14;
const ICMP_ADDRESS = 17;
const ICMP_ADDRESSREPLY = 18;
/** NR_ICMP_TYPES: the highest ICMP type Linux knows; higher types count as errors */
const NR_ICMP_TYPES = 18;
const ICMP_PORT_UNREACH = 3;
const ICMP_PROT_UNREACH = 2;
const ICMP_FRAG_NEEDED = 4;
const ICMPV6_DEST_UNREACH = 1;
const ICMPV6_PKT_TOOBIG = 2;
const ICMPV6_TIME_EXCEED = 3;
const ICMPV6_PARAMPROB = 4;
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;
const ICMPV6_PORT_UNREACH = 4;
const ICMPV6_UNK_NEXTHDR = 1;
const ICMPV6_UNK_OPTION = 2;
const ICMPV6_HDR_FIELD = 0;

/** IPv4 ICMP types Linux treats as errors (icmp_pointers[].error): 1-7, 9-12. */
function isIcmpErrorType(t: number): boolean {
  return t !== 0 && t !== 8 && t <= 12;
}

/** INADDR_DUMMY (192.0.0.8): the source of an IPv4 ICMP error when no address could be chosen. */
const INADDR_DUMMY = (192 << 24) | 8;
/** RFC 1812 4.3.2.3: an IPv4 ICMP error is at most 576 bytes */
const ICMP4_MAX_LEN = 576;
/** RFC 4443 2.4 (c): an ICMPv6 error fits the minimum MTU, 1280 bytes */
const IPV6_MIN_MTU = 1280;

export class Stack {
  readonly config: StackConfig;
  readonly routes: StackRoutes;
  readonly limiter: IcmpLimiter;

  // ---- the outcome of the last build ----------------------------------------------------------------
  /** StackReason of the last call (Sent when a packet was built) */
  reason: number = StackReason.Sent;
  /**
   * the built packet must be attached to the offending packet's connection (Linux nf_ct_attach): it
   * is RELATED to it, in the other direction (ctinfo RELATED_REPLY when the offending packet was in
   * the original direction, RELATED when it was a reply). True for ICMP errors and REJECT's RSTs;
   * false for the local stack's RSTs and echo/timestamp replies, which conntrack tracks normally.
   */
  attachToCt = false;
  /**
   * REJECT --reject-with tcp-reset: Linux also moves the offending packet's TCP connection to CLOSE
   * (nf_ct_set_closing: state CLOSE, timeout of CLOSE), unless its timeout is fixed.
   */
  setClosing = false;
  /** output interface of the route the packet was built for (-1 when nothing was built) */
  oif = -1;

  private readonly rt = new StackRoute();
  private readonly skip = new SkipResult();
  private readonly src6 = new Int32Array(4);
  private ipId: number;

  constructor(config: StackConfig, routes: StackRoutes) {
    this.config = config;
    this.routes = routes;
    this.limiter = new IcmpLimiter(config.hz, config.icmpMsgsPerSec, config.icmpMsgsBurst);
    this.ipId = config.ipIdSeed & 0xffff;
  }

  private begin(): void {
    this.reason = StackReason.Sent;
    this.attachToCt = false;
    this.setClosing = false;
    this.oif = -1;
  }

  private fail(reason: number): number {
    this.reason = reason;
    this.attachToCt = false;
    this.setClosing = false;
    this.oif = -1;
    return 0;
  }

  private jiffies(now: number): number {
    return jiffiesAt(now, this.config.hz, this.config.jiffiesPhase);
  }

  /** the next IPv4 identification of a non-DF packet (Linux: a secret hash; see the module notes) */
  private nextId(): number {
    const id = this.ipId;
    this.ipId = (id + 1) & 0xffff;
    return id;
  }

  private checksumsVerified(ctx: PacketContext): boolean {
    return !this.config.verifyChecksums || ctx.locallyGenerated;
  }

  // =================================================================================================
  // the engine's entry points (the engine's StackPort)

  /**
   * answer: the local stack's answer to a packet delivered to the gateway (it passed INPUT): a RST for
   * TCP, port unreachable for UDP / UDP-Lite, an echo or timestamp reply, protocol unreachable (IPv4)
   * or parameter problem "unknown next header" (IPv6) for a protocol without a handler.
   */
  answer(ctx: PacketContext, out: Uint8Array): number {
    this.begin();
    const pi = ctx.pi;
    if (pi.status !== WireStatus.Ok) return this.fail(StackReason.NotIp);
    if (pi.family === 4) return this.answer4(ctx, out);
    return this.answer6(ctx, out);
  }

  /**
   * icmpError: an ICMP error of the forwarding path about the packet (StackIcmpKind); `info` is the MTU
   * for FragNeeded and the pointer for ParamProblem.
   */
  icmpError(ctx: PacketContext, kind: number, info: number, out: Uint8Array): number {
    this.begin();
    const pi = ctx.pi;
    // a packet Linux answers has passed ip_rcv; IPv4 with bad options is answered by ParamProblem
    const ok = pi.status === WireStatus.Ok || (pi.family === 4 && pi.status === WireStatus.BadOptions);
    if (!ok || (pi.family !== 4 && pi.family !== 6)) return this.fail(StackReason.NotIp);
    if (pi.family === 4) {
      switch (kind) {
        case StackIcmpKind.TimeExceeded:
          return this.icmpSend4(ctx, out, ICMP_TIME_EXCEEDED, 0, 0, -1);
        case StackIcmpKind.FragNeeded:
          return this.icmpSend4(ctx, out, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, info & 0xffff, -1);
        case StackIcmpKind.NetUnreachable:
          return this.routeError4(ctx, out, 0);
        case StackIcmpKind.HostUnreachable:
          return this.routeError4(ctx, out, 1);
        case StackIcmpKind.AdminProhibited:
          return this.routeError4(ctx, out, 13);
        case StackIcmpKind.ParamProblem:
          return this.icmpSend4(ctx, out, ICMP_PARAMETERPROB, 0, (info & 0xff) << 24, -1);
        case StackIcmpKind.Redirect:
          return this.redirect4(ctx, out, info);
        default:
          return this.fail(StackReason.Unsupported);
      }
    }
    switch (kind) {
      case StackIcmpKind.TimeExceeded:
        return this.icmpSend6(ctx, out, ICMPV6_TIME_EXCEED, 0, 0, -1);
      case StackIcmpKind.FragNeeded:
        // ip6_forward: the MTU reported is never below the IPv6 minimum
        return this.icmpSend6(ctx, out, ICMPV6_PKT_TOOBIG, 0, Math.max(info, IPV6_MIN_MTU), -1);
      case StackIcmpKind.NetUnreachable:
      case StackIcmpKind.HostUnreachable:
        return this.icmpSend6(ctx, out, ICMPV6_DEST_UNREACH, 0, 0, -1);
      case StackIcmpKind.AdminProhibited:
        return this.icmpSend6(ctx, out, ICMPV6_DEST_UNREACH, 1, 0, -1);
      case StackIcmpKind.BeyondScope:
        return this.icmpSend6(ctx, out, ICMPV6_DEST_UNREACH, 2, 0, -1);
      default:
        return this.fail(StackReason.Unsupported);
    }
  }

  /**
   * timeExceededReassembly4 / 6: ICMP time exceeded, code 1 (fragment reassembly time exceeded), about
   * the first fragment of a reassembly queue that timed out (Linux ip_expire / ip6frag_expire_frag_queue
   * call icmp_send / icmpv6_send with it).
   */
  timeExceededReassembly4(ctx: PacketContext, out: Uint8Array): number {
    this.begin();
    if (ctx.pi.family !== 4) return this.fail(StackReason.NotIp);
    return this.icmpSend4(ctx, out, ICMP_TIME_EXCEEDED, 1, 0, -1);
  }
  timeExceededReassembly6(ctx: PacketContext, out: Uint8Array): number {
    this.begin();
    if (ctx.pi.family !== 6) return this.fail(StackReason.NotIp);
    return this.icmpSend6(ctx, out, ICMPV6_TIME_EXCEED, 1, 0, -1);
  }

  /**
   * reject: iptables REJECT's reply for the packet as the rule saw it (withType: core RejectWith):
   * tcp-reset builds a RST as nf_send_reset / nf_send_reset6 do; the ICMP types go through Linux's
   * ordinary ICMP error path (nf_send_unreach -> icmp_send, nf_send_unreach6 -> icmpv6_send).
   */
  reject(ctx: PacketContext, withType: number, out: Uint8Array): number {
    this.begin();
    const pi = ctx.pi;
    if (pi.status !== WireStatus.Ok) return this.fail(StackReason.NotIp);
    if (pi.family === 4) {
      switch (withType) {
        case 7: // TcpReset
          return this.rejectReset4(ctx, out);
        case 0: // icmp-net-unreachable
          return this.rejectUnreach4(ctx, out, 0);
        case 1: // icmp-host-unreachable
          return this.rejectUnreach4(ctx, out, 1);
        case 2: // icmp-proto-unreachable
          return this.rejectUnreach4(ctx, out, 2);
        case 3: // icmp-port-unreachable
          return this.rejectUnreach4(ctx, out, 3);
        case 5: // icmp-net-prohibited
          return this.rejectUnreach4(ctx, out, 9);
        case 6: // icmp-host-prohibited
          return this.rejectUnreach4(ctx, out, 10);
        case 8: // icmp-admin-prohibited
          return this.rejectUnreach4(ctx, out, 13);
        default: // icmp-echo-reply ("doesn't happen" in Linux), IPv6 types
          return this.fail(StackReason.Unsupported);
      }
    }
    switch (withType) {
      case 7:
        return this.rejectReset6(ctx, out);
      case 9: // icmp6-no-route
        return this.rejectUnreach6(ctx, out, 0);
      case 10: // icmp6-adm-prohibited
        return this.rejectUnreach6(ctx, out, 1);
      case 13: // icmp6-not-neighbour
        return this.rejectUnreach6(ctx, out, 2);
      case 11: // icmp6-addr-unreachable
        return this.rejectUnreach6(ctx, out, 3);
      case 12: // icmp6-port-unreachable
        return this.rejectUnreach6(ctx, out, 4);
      case 14: // icmp6-policy-fail
        return this.rejectUnreach6(ctx, out, 5);
      case 15: // icmp6-reject-route
        return this.rejectUnreach6(ctx, out, 6);
      default:
        return this.fail(StackReason.Unsupported);
    }
  }

  /**
   * paramProblem6: an ICMPv6 parameter problem (code, pointer from the start of the IPv6 header) about
   * the packet, for the errors Linux finds while parsing extension headers.
   */
  paramProblem6(ctx: PacketContext, code: number, pointer: number, out: Uint8Array): number {
    this.begin();
    if (ctx.pi.family !== 6) return this.fail(StackReason.NotIp);
    return this.icmpSend6(ctx, out, ICMPV6_PARAMPROB, code, pointer, -1);
  }

  /**
   * hopByHopError6: Linux's answer to a packet whose hop-by-hop options header it refuses on receive
   * (ipv6_parse_hopopts, before PREROUTING): a parameter problem for an unknown option whose action bits
   * ask for one (10, or 11 when not sent to a multicast address) and for a bad jumbo payload option;
   * nothing for the other faults. Call it for a packet parse flags with BadExtHeader / BadTotalLen.
   */
  hopByHopError6(ctx: PacketContext, out: Uint8Array): number {
    this.begin();
    const pi = ctx.pi;
    if (pi.family !== 6 || pi.firstNextHeader !== IPPROTO_HOPOPTS) return this.fail(StackReason.NotIp);
    const b = pi.buf;
    const h = pi.off + 40;
    const end = pi.off + Math.min(pi.ipTotalLen > 0 ? pi.ipTotalLen : pi.len, b.length - pi.off);
    if (h + 2 > end) return this.fail(StackReason.Malformed);
    const hlen = (b[h + 1] + 1) << 3;
    if (h + hlen > end) return this.fail(StackReason.Malformed);
    return this.tlvError6(ctx, out, h, hlen, true);
  }

  // =================================================================================================
  // ICMP errors: __icmp_send (IPv4) and icmp6_send (IPv6)

  /**
   * icmpSend4: Linux __icmp_send: an ICMP message of `type`/`code` (info: the second 32-bit word)
   * about the IPv4 packet, quoting its first `quoteLen` bytes (-1: the whole packet) within 576 bytes.
   */
  icmpSend4(ctx: PacketContext, out: Uint8Array, type: number, code: number, info: number, quoteLen: number): number {
    const pi = ctx.pi;
    const cfg = this.config;
    const routes = this.routes;
    if (pi.family !== 4 || pi.ipHeaderLen < 20) return this.fail(StackReason.NotIp);
    // RFC 1122 3.2.2: never answer a link-layer broadcast or multicast...
    if (ctx.pktType !== PacketType.Host) return this.fail(StackReason.NotHost);
    const dcls = routes.classify4(pi.dst[0]);
    // ...nor a packet sent to an IP broadcast or multicast address...
    if (dcls === AddrClass.Broadcast || dcls === AddrClass.Multicast || dcls === AddrClass.MulticastOther) {
      return this.fail(StackReason.NonUnicastDest);
    }
    // ...and answer only the first fragment
    if (pi.fragOff !== 0) return this.fail(StackReason.NonFirstFragment);
    const isError = isIcmpErrorType(type);
    if (isError && pi.proto === IPPROTO_ICMP) {
      // no error about an error; Linux takes unknown types (> 18) for errors too
      const t = pi.off + pi.ipHeaderLen;
      if (t >= pi.off + pi.len) return this.fail(StackReason.Malformed);
      const inner = pi.buf[t];
      if (inner > NR_ICMP_TYPES || isIcmpErrorType(inner)) return this.fail(StackReason.AboutIcmpError);
    }
    // Linux's input routing drops packets from these sources (martians) before anything answers them
    const src = pi.src[0];
    if (src === 0 || src === -1 || src >>> 28 === 0xe) return this.fail(StackReason.InvalidSource);
    const nowJ = this.jiffies(ctx.now);
    const lim = this.limiter;
    let apply = false;
    const inLoop = ctx.inIf >= 0 && routes.isLoopback(ctx.inIf);
    if (!inLoop && !this.maskAllow4(type, code)) {
      if (!lim.globalAllow(nowJ)) return this.fail(StackReason.RateLimitGlobal);
      apply = true;
    }
    // source: the offending packet's destination when it was ours; else the route's choice (or, with
    // icmp_errors_use_inbound_ifaddr, the address of the interface it came in on)
    let saddr = 0;
    if (dcls === AddrClass.Local) saddr = pi.dst[0];
    else if (cfg.icmpErrorsUseInboundIfaddr && ctx.inIf >= 0) saddr = routes.ifaceAddr4(ctx.inIf, src);
    const tos = isError ? (pi.tos & 0x1e) | 0xc0 : pi.tos;
    const rt = this.rt;
    if (!routes.route4(src, rt)) return this.fail(StackReason.NoRoute);
    if (saddr === 0) saddr = rt.src[0];
    if (apply) {
      if (!rt.loopback) {
        const p = lim.peer4(src, nowJ);
        if (!lim.xrlimAllow(4, p, cfg.icmpRatelimit, nowJ)) return this.fail(StackReason.RateLimitPeer);
      }
      lim.globalConsume();
    }
    if (saddr === 0) saddr = INADDR_DUMMY;
    // the offending packet's record-route / timestamp options, echoed
    if (out.length < 60) return this.fail(StackReason.BufferTooSmall);
    const optLen = echoIpv4Options(pi.buf, pi.off, pi.ipHeaderLen, out, 20, saddr, ctx.now);
    if (optLen < 0) return this.fail(StackReason.Malformed);
    // RFC 1812 4.3.2.3: as much of the original as fits in 576 bytes (or the route's MTU)
    let room = Math.min(rt.mtu, ICMP4_MAX_LEN);
    room -= 20 + optLen + 8;
    if (room <= 20) return this.fail(StackReason.TinyMtu);
    let dataLen = quoteLen < 0 || quoteLen > pi.len ? pi.len : quoteLen;
    if (dataLen > room) dataLen = room;
    const ih = 20 + optLen;
    const total = ih + 8 + dataLen;
    if (out.length < total) return this.fail(StackReason.BufferTooSmall);
    out[ih] = type;
    out[ih + 1] = code;
    put32(out, ih + 4, info);
    copyBytes(out, ih + 8, pi.buf, pi.off, dataLen);
    fillIcmp4Checksum(out, ih, 8 + dataLen);
    const ttl = rt.hopLimit > 0 ? rt.hopLimit : cfg.ipDefaultTtl;
    // the ICMP socket does no path MTU discovery: DF clear, identification from the shared generator
    writeIpv4Header(out, optLen, tos, total, this.nextId(), false, ttl, IPPROTO_ICMP, saddr, src);
    this.attachToCt = isError;
    this.oif = rt.oif;
    this.reason = StackReason.Sent;
    return total;
  }

  /** icmpv4_mask_allow: true when `type`/`code` is never rate limited. */
  private maskAllow4(type: number, code: number): boolean {
    if (type > NR_ICMP_TYPES) return true;
    // path MTU discovery is never limited
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) return true;
    return ((1 << type) & this.config.icmpRatemask) === 0;
  }

  /** maskAllow6: icmpv6_mask_allow. */
  private maskAllow6(type: number): boolean {
    return (this.config.icmp6Ratemask[type >> 3] & (1 << (type & 7))) === 0;
  }

  /**
   * redirect4: Linux ip_rt_send_redirect: the per-source backoff (route.redirect_*), then icmp_send of
   * an ICMP redirect for the host (code 1) naming `gateway`. The peer's state moves on whether or not
   * icmp_send then sends anything.
   */
  private redirect4(ctx: PacketContext, out: Uint8Array, gateway: number): number {
    const cfg = this.config;
    const lim = this.limiter;
    const nowJ = this.jiffies(ctx.now);
    const p = lim.peer4(ctx.pi.src[0], nowJ);
    if (!lim.redirectAllow(p, nowJ, cfg.redirectLoad, cfg.redirectNumber, cfg.redirectSilence)) {
      return this.fail(StackReason.RateLimitRedirect);
    }
    const n = this.icmpSend4(ctx, out, ICMP_REDIRECT, ICMP_REDIR_HOST, gateway, -1);
    lim.redirectSent(p, nowJ);
    return n;
  }

  /** routeError4: Linux ip_error (an unreachable, prohibit or missing route) with its own limiter. */
  private routeError4(ctx: PacketContext, out: Uint8Array, code: number): number {
    const pi = ctx.pi;
    const cfg = this.config;
    const nowJ = this.jiffies(ctx.now);
    const p = this.limiter.peer4(pi.src[0], nowJ);
    if (!this.limiter.routeErrorAllow(p, cfg.rtErrorCost, cfg.rtErrorBurst, nowJ)) {
      return this.fail(StackReason.RateLimitRoute);
    }
    return this.icmpSend4(ctx, out, ICMP_DEST_UNREACH, code, 0, -1);
  }

  /**
   * icmpSend6: Linux icmp6_send: an ICMPv6 message of `type`/`code` (info: the 32-bit MTU / pointer)
   * about the IPv6 packet, quoting its first `quoteLen` bytes (-1: all) within the minimum MTU.
   */
  icmpSend6(ctx: PacketContext, out: Uint8Array, type: number, code: number, info: number, quoteLen: number): number {
    const pi = ctx.pi;
    const cfg = this.config;
    const routes = this.routes;
    if (pi.family !== 6 || pi.len < 40) return this.fail(StackReason.NotIp);
    // the source of the answer is the offending packet's destination when that is one of ours
    let ownSrc = routes.classify6(pi.dst) === AddrClass.Local;
    const dstType = ipv6AddrType(pi.dst);
    // RFC 4443 2.4 (e.3): not about a packet sent to a multicast address or as a link-layer multicast or
    // broadcast, except packet too big and a parameter problem about an option of type 10xxxxxx
    if ((dstType & ADDR6_MULTICAST) !== 0 || ctx.pktType !== PacketType.Host) {
      if (
        type !== ICMPV6_PKT_TOOBIG &&
        !(type === ICMPV6_PARAMPROB && code === ICMPV6_UNK_OPTION && this.optUnrec(pi, info))
      ) {
        return this.fail(StackReason.NonUnicastDest);
      }
      ownSrc = false;
    }
    const srcType = ipv6AddrType(pi.src);
    const iif = needsScopeId6(srcType) ? ctx.inIf : -1;
    // RFC 4443 2.4 (e.4): not to a source that does not name one node
    if (srcType === ADDR6_ANY || (srcType & ADDR6_MULTICAST) !== 0) return this.fail(StackReason.InvalidSource);
    // RFC 4443 2.4 (e.1): never about an ICMPv6 error
    if (this.isIneligible6(pi)) return this.fail(StackReason.AboutIcmpError);
    const nowJ = this.jiffies(ctx.now);
    const lim = this.limiter;
    let apply = false;
    if (!(ctx.inIf >= 0 && routes.isLoopback(ctx.inIf)) && !this.maskAllow6(type)) {
      if (!lim.globalAllow(nowJ)) return this.fail(StackReason.RateLimitGlobal);
      apply = true;
    }
    const rt = this.rt;
    if (!routes.route6(pi.src, iif, rt)) return this.fail(StackReason.NoRoute);
    const src = this.src6;
    if (ownSrc) src.set(pi.dst);
    else if (rt.hasPrefsrc) src.set(rt.src);
    else if (!(ctx.inIf >= 0 && routes.ifaceSource6(ctx.inIf, pi.src, src))) src.set(rt.src);
    if (apply) {
      if (!rt.loopback) {
        const p = lim.peer6(pi.src, nowJ);
        if (!lim.xrlimAllow(6, p, cfg.icmp6Ratelimit, nowJ)) return this.fail(StackReason.RateLimitPeer);
      }
      lim.globalConsume();
    }
    let dataLen = quoteLen < 0 || quoteLen > pi.len ? pi.len : quoteLen;
    if (dataLen > IPV6_MIN_MTU - 48) dataLen = IPV6_MIN_MTU - 48;
    const total = 48 + dataLen;
    if (out.length < total) return this.fail(StackReason.BufferTooSmall);
    out[40] = type;
    out[41] = code;
    put32(out, 44, info);
    copyBytes(out, 48, pi.buf, pi.off, dataLen);
    fillL4Checksum6(out, 40, 8 + dataLen, 2, IPPROTO_ICMPV6, src, pi.src);
    const hlim = rt.hopLimit > 0 ? rt.hopLimit : cfg.ip6HopLimit;
    const fl = this.autoLabel(src, pi.src, IPPROTO_ICMPV6, type, code);
    writeIpv6Header(out, 0, fl, 8 + dataLen, IPPROTO_ICMPV6, hlim, src, pi.src);
    this.attachToCt = type < 128;
    this.oif = rt.oif;
    this.reason = StackReason.Sent;
    return total;
  }

  /** the flow label of a packet the gateway sends without one (Linux ip6_make_flowlabel, auto labels) */
  private autoLabel(src: Int32Array, dst: Int32Array, nh: number, a: number, b: number): number {
    if (this.config.autoFlowlabels === 0) return 0;
    return flowLabel6(this.config.flowLabelSeed, src, dst, nh, a, b);
  }

  /** opt_unrec: the option at `offset` has action bits 10 (or the offset is past the packet). */
  private optUnrec(pi: PacketInfo, offset: number): boolean {
    if (offset < 0 || offset >= pi.len) return true;
    return (pi.buf[pi.off + offset] & 0xc0) === 0x80;
  }

  /**
   * is_ineligible: the packet is (or, truncated in its ICMPv6 header, may be) an ICMPv6 error. Linux
   * walks the extension headers with ipv6_skip_exthdr; an unreadable chain is eligible.
   */
  private isIneligible6(pi: PacketInfo): boolean {
    const b = pi.buf;
    const start = pi.off + 40;
    const end = pi.off + pi.len;
    const r = skipExtHeaders6(b, start, end, b[pi.off + 6], this.skip);
    if (r.off < 0) return false;
    if (r.nextHeader !== IPPROTO_ICMPV6) return false;
    if (r.off >= end) return r.fragOff === 0;
    return (b[r.off] & 0x80) === 0;
  }

  // =================================================================================================
  // REJECT: nf_send_reset / nf_send_unreach (IPv4), nf_send_reset6 / nf_send_unreach6 (IPv6)

  /** rejectReset4: Linux nf_send_reset: a RST from the offending packet's destination. */
  private rejectReset4(ctx: PacketContext, out: Uint8Array): number {
    const pi = ctx.pi;
    const cfg = this.config;
    const routes = this.routes;
    if (pi.fragOff !== 0) return this.fail(StackReason.NonFirstFragment);
    if (pi.proto !== IPPROTO_TCP || pi.l4Len < 20) return this.fail(StackReason.Malformed);
    const b = pi.buf;
    const o = pi.l4Off;
    const flags = b[o + 13];
    if ((flags & 0x04) !== 0) return this.fail(StackReason.IsRst);
    if (!this.checksumsVerified(ctx) && !this.l4SumValid4(pi, IPPROTO_TCP)) return this.fail(StackReason.BadChecksum);
    const dcls = routes.classify4(pi.dst[0]);
    if (dcls === AddrClass.Broadcast || dcls === AddrClass.Multicast || dcls === AddrClass.MulticastOther) {
      return this.fail(StackReason.NonUnicastDest);
    }
    // TTL: the hoplimit metric of the offending packet's own route (the local route for INPUT, the
    // forwarding route for FORWARD), else ip_default_ttl
    const rt = this.rt;
    let ttl = cfg.ipDefaultTtl;
    if (dcls !== AddrClass.Local && routes.route4(pi.dst[0], rt) && rt.hopLimit > 0) ttl = rt.hopLimit;
    if (!routes.route4(pi.src[0], rt)) return this.fail(StackReason.NoRoute);
    if (out.length < 40) return this.fail(StackReason.BufferTooSmall);
    this.writeRst(out, 20, pi, pi.l4Len);
    fillL4Checksum4(out, 20, 20, 16, IPPROTO_TCP, pi.dst[0], pi.src[0]);
    writeIpv4Header(out, 0, 0, 40, 0, true, ttl, IPPROTO_TCP, pi.dst[0], pi.src[0]);
    this.attachToCt = true;
    this.setClosing = true;
    this.oif = rt.oif;
    this.reason = StackReason.Sent;
    return 40;
  }

  /**
   * writeRst: the 20-byte TCP header of a RST answering the segment of `pi` (segLen: its TCP length):
   * ports swapped; with ACK set, seq = its ack number; else RST|ACK acking everything it carried.
   */
  private writeRst(out: Uint8Array, at: number, pi: PacketInfo, segLen: number): void {
    this.writeRstAt(out, at, pi.buf, pi.l4Off, segLen);
  }

  /** rejectUnreach4: Linux nf_send_unreach: checksum check, then icmp_send. */
  private rejectUnreach4(ctx: PacketContext, out: Uint8Array, code: number): number {
    const pi = ctx.pi;
    if (pi.fragOff !== 0) return this.fail(StackReason.NonFirstFragment);
    if (!this.checksumsVerified(ctx) && this.rejectVerifies(pi.proto, pi, 4) && !this.rejectSumValid4(pi)) {
      return this.fail(StackReason.BadChecksum);
    }
    return this.icmpSend4(ctx, out, ICMP_DEST_UNREACH, code, 0, -1);
  }

  /**
   * rejectVerifies: nf_reject_verify_csum: whether REJECT checks the transport checksum of `proto`
   * (not for UDP with checksum 0, nor for protocols with other or partial checksums).
   */
  private rejectVerifies(proto: number, pi: PacketInfo, family: number): boolean {
    switch (proto) {
      case IPPROTO_UDP: {
        const o = family === 4 ? pi.l4Off : this.skip.off;
        if (o + 8 > pi.off + pi.len) return true;
        return get16(pi.buf, o + 6) !== 0;
      }
      case IPPROTO_GRE:
      case IPPROTO_AH:
      case IPPROTO_ESP:
      case IPPROTO_SCTP:
      case IPPROTO_UDPLITE:
      case IPPROTO_DCCP:
        return false;
      default:
        return true;
    }
  }

  /**
   * rejectSumValid4: nf_ip_checksum as REJECT calls it: TCP and UDP with their pseudo header over the
   * IP payload; any other protocol as a plain one's-complement sum of the payload.
   */
  private rejectSumValid4(pi: PacketInfo): boolean {
    const p = pi.proto;
    if (p === IPPROTO_TCP || p === IPPROTO_UDP) return this.l4SumValid4(pi, p);
    return sumIsValid(sumBytes(pi.buf, pi.l4Off, pi.l4Len, 0));
  }

  /** l4SumValid4: the TCP/UDP checksum over the whole IP payload verifies. */
  private l4SumValid4(pi: PacketInfo, proto: number): boolean {
    const pseudo = pseudoHeaderSumV4(pi.src[0], pi.dst[0], proto, pi.l4Len);
    return sumIsValid(sumBytes(pi.buf, pi.l4Off, pi.l4Len, pseudo));
  }

  /** rejectReset6: Linux nf_send_reset6. */
  private rejectReset6(ctx: PacketContext, out: Uint8Array): number {
    const pi = ctx.pi;
    const cfg = this.config;
    if ((ipv6AddrType(pi.src) & ADDR6_UNICAST) === 0) return this.fail(StackReason.InvalidSource);
    if ((ipv6AddrType(pi.dst) & ADDR6_UNICAST) === 0) return this.fail(StackReason.NonUnicastDest);
    const b = pi.buf;
    const end = pi.off + pi.len;
    const r = skipExtHeaders6(b, pi.off + 40, end, b[pi.off + 6], this.skip);
    if (r.off < 0 || r.off > end) return this.fail(StackReason.Malformed);
    const tcpLen = end - r.off;
    if (r.nextHeader !== IPPROTO_TCP || tcpLen < 20) return this.fail(StackReason.Malformed);
    const o = r.off;
    if ((b[o + 13] & 0x04) !== 0) return this.fail(StackReason.IsRst);
    if (!this.checksumsVerified(ctx)) {
      const pseudo = pseudoHeaderSumV6(pi.src, pi.dst, IPPROTO_TCP, tcpLen);
      if (!sumIsValid(sumBytes(b, o, tcpLen, pseudo))) return this.fail(StackReason.BadChecksum);
    }
    const rt = this.rt;
    const scoped = needsScopeId6(ipv6AddrType(pi.src)) ? ctx.inIf : -1;
    if (!this.routes.route6(pi.src, scoped, rt)) return this.fail(StackReason.NoRoute);
    if (out.length < 60) return this.fail(StackReason.BufferTooSmall);
    const hop = rt.hopLimit > 0 ? rt.hopLimit : cfg.ip6HopLimit;
    this.writeRstAt(out, 40, b, o, tcpLen);
    fillL4Checksum6(out, 40, 20, 16, IPPROTO_TCP, pi.dst, pi.src);
    // nf_reject_ip6hdr_put: traffic class 0 and flow label 0
    writeIpv6Header(out, 0, 0, 20, IPPROTO_TCP, hop, pi.dst, pi.src);
    this.attachToCt = true;
    this.setClosing = true;
    this.oif = rt.oif;
    this.reason = StackReason.Sent;
    return 60;
  }

  /** writeRstAt: writeRst for a TCP header at b[o] of `segLen` bytes. */
  private writeRstAt(out: Uint8Array, at: number, b: Uint8Array, o: number, segLen: number): void {
    const flags = b[o + 13];
    out[at] = b[o + 2];
    out[at + 1] = b[o + 3];
    out[at + 2] = b[o];
    out[at + 3] = b[o + 1];
    if ((flags & 0x10) !== 0) {
      copyBytes(out, at + 4, b, o + 8, 4);
      put32(out, at + 8, 0);
      out[at + 13] = 0x04;
    } else {
      const seq = (b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7];
      const doff = (b[o + 12] >> 4) << 2;
      const ack = (seq + ((flags >> 1) & 1) + (flags & 1) + segLen - doff) | 0;
      put32(out, at + 4, 0);
      put32(out, at + 8, ack);
      out[at + 13] = 0x14;
    }
    out[at + 12] = 5 << 4;
    put16(out, at + 14, 0);
    put16(out, at + 16, 0);
    put16(out, at + 18, 0);
  }

  /** rejectUnreach6: Linux nf_send_unreach6 (reject6_csum_ok, then icmpv6_send). */
  private rejectUnreach6(ctx: PacketContext, out: Uint8Array, code: number): number {
    const pi = ctx.pi;
    if (!this.checksumsVerified(ctx)) {
      const b = pi.buf;
      const end = pi.off + pi.len;
      const r = skipExtHeaders6(b, pi.off + 40, end, b[pi.off + 6], this.skip);
      // no transport header, or a fragment other than the first: nothing to verify, nothing sent
      if (r.off < 0 || r.off >= end || (r.fragOff & ~7) !== 0) return this.fail(StackReason.Malformed);
      const proto = r.nextHeader;
      if (this.rejectVerifies(proto, pi, 6)) {
        // nf_ip6_checksum: the pseudo header is part of the sum for every protocol
        const len = end - r.off;
        if (!sumIsValid(sumBytes(b, r.off, len, pseudoHeaderSumV6(pi.src, pi.dst, proto, len)))) {
          return this.fail(StackReason.BadChecksum);
        }
      }
    }
    return this.icmpSend6(ctx, out, ICMPV6_DEST_UNREACH, code, 0, -1);
  }

  // =================================================================================================
  // the local stack, IPv4

  private answer4(ctx: PacketContext, out: Uint8Array): number {
    const pi = ctx.pi;
    // Linux reassembles before local delivery; a fragment here has no answer of its own
    if (pi.isFragment) return this.fail(StackReason.NonFirstFragment);
    switch (pi.proto) {
      case IPPROTO_TCP:
        return this.tcpReset4(ctx, out);
      case IPPROTO_UDP:
      case IPPROTO_UDPLITE:
        return this.udpUnreachable4(ctx, out);
      case IPPROTO_ICMP:
        return this.icmpInput4(ctx, out);
      case IPPROTO_IGMP:
        return this.fail(StackReason.NoAnswer);
      default:
        if (this.config.ipv4Protocols[pi.proto] !== 0) return this.fail(StackReason.NoAnswer);
        // ip_protocol_deliver_rcu: no handler (and no raw socket)
        return this.icmpSend4(ctx, out, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0, -1);
    }
  }

  /** tcpReset4: Linux tcp_v4_rcv (no socket) then tcp_v4_send_reset. */
  tcpReset4(ctx: PacketContext, out: Uint8Array): number {
    this.begin();
    const pi = ctx.pi;
    const cfg = this.config;
    if (pi.family !== 4 || pi.proto !== IPPROTO_TCP) return this.fail(StackReason.NotIp);
    if (ctx.pktType !== PacketType.Host) return this.fail(StackReason.NotHost);
    const len = pi.l4Len;
    if (len < 20) return this.fail(StackReason.Malformed);
    const b = pi.buf;
    const o = pi.l4Off;
    const doff = (b[o + 12] >> 4) << 2;
    if (doff < 20 || doff > len) return this.fail(StackReason.Malformed);
    if (!this.checksumsVerified(ctx) && !this.l4SumValid4(pi, IPPROTO_TCP)) return this.fail(StackReason.BadChecksum);
    if ((b[o + 13] & 0x04) !== 0) return this.fail(StackReason.IsRst);
    if (this.routes.classify4(pi.dst[0]) !== AddrClass.Local) return this.fail(StackReason.NonUnicastDest);
    if (this.hasAuthOption(b, o + 20, doff - 20)) return this.fail(StackReason.AuthOption);
    const rt = this.rt;
    if (!this.routes.route4(pi.src[0], rt)) return this.fail(StackReason.NoRoute);
    if (out.length < 80) return this.fail(StackReason.BufferTooSmall);
    const optLen = echoIpv4Options(b, pi.off, pi.ipHeaderLen, out, 20, pi.dst[0], ctx.now);
    if (optLen < 0) return this.fail(StackReason.Malformed);
    const th = 20 + optLen;
    this.writeRst(out, th, pi, len);
    fillL4Checksum4(out, th, 20, 16, IPPROTO_TCP, pi.dst[0], pi.src[0]);
    const ttl = rt.hopLimit > 0 ? rt.hopLimit : cfg.ipDefaultTtl;
    // ip_send_unicast_reply through the TCP control socket: path MTU discovery on (DF, id 0), the
    // ECN bits of the TOS cleared
    writeIpv4Header(out, optLen, pi.tos & 0xfc, th + 20, 0, true, ttl, IPPROTO_TCP, pi.dst[0], pi.src[0]);
    this.oif = rt.oif;
    this.reason = StackReason.Sent;
    return th + 20;
  }

  /**
   * hasAuthOption: tcp_parse_auth_options refuses the segment (an MD5 signature, which cannot be
   * checked without a listening socket, a malformed one, or two of them): no RST.
   */
  private hasAuthOption(b: Uint8Array, p: number, len: number): boolean {
    // Linux stops scanning once fewer bytes remain than an MD5 option takes (18; AO: 5)
    const minlen = this.config.tcpAo ? 5 : 18;
    while (len >= minlen) {
      const kind = b[p++];
      if (kind === 0) return false;
      if (kind === 1) {
        len--;
        continue;
      }
      const size = b[p++];
      if (size < 2 || size > len) return false;
      if (kind === 19) return true; // MD5 (valid size: no key without a socket; bad size: -EINVAL)
      if (kind === 29 && this.config.tcpAo) return true;
      p += size - 2;
      len -= size;
    }
    return false;
  }

  /** udpUnreachable4: Linux __udp4_lib_rcv with no socket: ICMP port unreachable. */
  udpUnreachable4(ctx: PacketContext, out: Uint8Array): number {
    this.begin();
    const pi = ctx.pi;
    const proto = pi.proto;
    if (pi.family !== 4 || (proto !== IPPROTO_UDP && proto !== IPPROTO_UDPLITE)) return this.fail(StackReason.NotIp);
    const len = pi.l4Len;
    if (len < 8) return this.fail(StackReason.Malformed);
    const b = pi.buf;
    const o = pi.l4Off;
    const ulen = get16(b, o + 4);
    if (ulen > len) return this.fail(StackReason.Malformed);
    const csum = get16(b, o + 6);
    let quote = pi.len;
    if (proto === IPPROTO_UDP) {
      if (ulen < 8) return this.fail(StackReason.Malformed);
      // pskb_trim_rcsum: the datagram ends where its length says, and so does the quote
      quote = pi.ipHeaderLen + ulen;
      if (csum !== 0 && !this.checksumsVerified(ctx)) {
        const pseudo = pseudoHeaderSumV4(pi.src[0], pi.dst[0], IPPROTO_UDP, ulen);
        if (!sumIsValid(sumBytes(b, o, ulen, pseudo))) return this.fail(StackReason.BadChecksum);
      }
    } else {
      // RFC 3828 3.1: coverage 0 is the whole datagram; else at least the header; checksum mandatory
      if (ulen !== 0 && (ulen < 8 || ulen > len)) return this.fail(StackReason.Malformed);
      if (csum === 0) return this.fail(StackReason.BadChecksum);
      if (!this.checksumsVerified(ctx)) {
        const cov = ulen === 0 ? len : ulen;
        if (!sumIsValid(sumBytes(b, o, cov, pseudoHeaderSumV4(pi.src[0], pi.dst[0], proto, len)))) {
          return this.fail(StackReason.BadChecksum);
        }
      }
    }
    const dcls = this.routes.classify4(pi.dst[0]);
    if (dcls === AddrClass.Broadcast || dcls === AddrClass.Multicast || dcls === AddrClass.MulticastOther) {
      return this.fail(StackReason.NonUnicastDest);
    }
    return this.icmpSend4(ctx, out, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, quote);
  }

  /** icmpInput4: Linux icmp_rcv for the messages the gateway answers (echo, timestamp). */
  private icmpInput4(ctx: PacketContext, out: Uint8Array): number {
    const pi = ctx.pi;
    const cfg = this.config;
    const len = pi.l4Len;
    const b = pi.buf;
    const o = pi.l4Off;
    if (!this.checksumsVerified(ctx) && !sumIsValid(sumBytes(b, o, len, 0))) return this.fail(StackReason.BadChecksum);
    if (len < 8) return this.fail(StackReason.Malformed);
    const type = b[o];
    const dcls = this.routes.classify4(pi.dst[0]);
    if (dcls === AddrClass.Broadcast || dcls === AddrClass.Multicast || dcls === AddrClass.MulticastOther) {
      // RFC 1122 3.2.2.6 / 3.2.2.8: echo and timestamp to a broadcast may be ignored (the default)
      if ((type === ICMP_ECHO || type === ICMP_TIMESTAMP) && cfg.icmpEchoIgnoreBroadcasts) {
        return this.fail(StackReason.EchoIgnored);
      }
      if (type !== ICMP_ECHO && type !== ICMP_TIMESTAMP && type !== ICMP_ADDRESS && type !== ICMP_ADDRESSREPLY) {
        return this.fail(StackReason.NoAnswer);
      }
    }
    if (type === ICMP_ECHO) {
      if (cfg.icmpEchoIgnoreAll) return this.fail(StackReason.EchoIgnored);
      return this.icmpReply4(ctx, out, dcls, ICMP_ECHOREPLY);
    }
    if (type === ICMP_TIMESTAMP) {
      // the originate timestamp must be there
      if (len - 8 < 4) return this.fail(StackReason.Malformed);
      return this.icmpReply4(ctx, out, dcls, ICMP_TIMESTAMPREPLY);
    }
    return this.fail(StackReason.NoAnswer);
  }

  /**
   * icmpReply4: Linux icmp_reply for an echo (the whole message back, type 0, code kept) or a
   * timestamp request (20 bytes: originate copied, receive = transmit = now in ms since midnight UT).
   */
  private icmpReply4(ctx: PacketContext, out: Uint8Array, dcls: number, type: number): number {
    const pi = ctx.pi;
    const cfg = this.config;
    const routes = this.routes;
    const nowJ = this.jiffies(ctx.now);
    const lim = this.limiter;
    let apply = false;
    if (!this.maskAllow4(type, 0)) {
      if (!lim.globalAllow(nowJ)) return this.fail(StackReason.RateLimitGlobal);
      apply = true;
    }
    const rt = this.rt;
    const src = pi.src[0];
    if (!routes.route4(src, rt)) return this.fail(StackReason.NoRoute);
    // fib_compute_spec_dst: our address the request went to, else the route's source
    const saddr = dcls === AddrClass.Local ? pi.dst[0] : rt.src[0];
    if (apply) {
      if (!rt.loopback) {
        const p = lim.peer4(src, nowJ);
        if (!lim.xrlimAllow(4, p, cfg.icmpRatelimit, nowJ)) return this.fail(StackReason.RateLimitPeer);
      }
      lim.globalConsume();
    }
    const b = pi.buf;
    const o = pi.l4Off;
    const icmpLen = type === ICMP_ECHOREPLY ? pi.l4Len : 20;
    if (out.length < 60 + icmpLen) return this.fail(StackReason.BufferTooSmall);
    const optLen = echoIpv4Options(b, pi.off, pi.ipHeaderLen, out, 20, saddr, ctx.now);
    if (optLen < 0) return this.fail(StackReason.Malformed);
    const ih = 20 + optLen;
    const total = ih + icmpLen;
    if (type === ICMP_ECHOREPLY) {
      copyBytes(out, ih, b, o, icmpLen);
      out[ih] = ICMP_ECHOREPLY;
    } else {
      copyBytes(out, ih, b, o, 12);
      out[ih] = ICMP_TIMESTAMPREPLY;
      out[ih + 1] = 0;
      const ms = msSinceMidnight(ctx.now);
      put32(out, ih + 12, ms);
      put32(out, ih + 16, ms);
    }
    fillIcmp4Checksum(out, ih, icmpLen);
    const ttl = rt.hopLimit > 0 ? rt.hopLimit : cfg.ipDefaultTtl;
    // icmp_reply keeps the request's whole TOS byte (ECN bits included); no DF
    writeIpv4Header(out, optLen, pi.tos, total, this.nextId(), false, ttl, IPPROTO_ICMP, saddr, src);
    this.oif = rt.oif;
    this.reason = StackReason.Sent;
    return total;
  }

  // =================================================================================================
  // the local stack, IPv6

  /**
   * answer6: Linux ip6_input_finish: walk the extension headers as the input path processes them, then
   * hand the packet to its protocol's handler (or answer "unknown next header").
   */
  private answer6(ctx: PacketContext, out: Uint8Array): number {
    const pi = ctx.pi;
    const b = pi.buf;
    const end = pi.off + pi.len;
    let nh = b[pi.off + 6];
    let p = pi.off + 40;
    let nhoff = 6;
    for (;;) {
      switch (nh) {
        case IPPROTO_HOPOPTS: {
          // only right after the IPv6 header (checked on receive); anywhere else: unknown
          if (nhoff !== 6) return this.unknownNextHeader6(ctx, out, nhoff);
          if (p + 2 > end) return this.fail(StackReason.Malformed);
          nhoff = p - pi.off;
          nh = b[p];
          p += (b[p + 1] + 1) << 3;
          continue;
        }
        case IPPROTO_ROUTING: {
          if (p + 4 > end) return this.fail(StackReason.Malformed);
          // a routing header with segments left would forward the packet on: not modelled
          if (b[p + 3] !== 0) return this.fail(StackReason.Unsupported);
          nhoff = p - pi.off;
          nh = b[p];
          p += (b[p + 1] + 1) << 3;
          continue;
        }
        case IPPROTO_DSTOPTS: {
          if (p + 2 > end) return this.fail(StackReason.Malformed);
          const hlen = (b[p + 1] + 1) << 3;
          if (p + hlen > end) return this.fail(StackReason.Malformed);
          const bad = this.tlvError6(ctx, out, p, hlen, false);
          if (bad !== 0 || this.reason !== StackReason.Sent) return bad;
          nhoff = p - pi.off;
          nh = b[p];
          p += hlen;
          continue;
        }
        case IPPROTO_FRAGMENT: {
          // reassembled before delivery; only an atomic fragment can be here
          if (p + 8 > end) return this.fail(StackReason.Malformed);
          if ((get16(b, p + 2) & 0xfff9) !== 0) return this.fail(StackReason.NonFirstFragment);
          nhoff = p - pi.off;
          nh = b[p];
          p += 8;
          continue;
        }
        case IPPROTO_NONE:
          return this.fail(StackReason.NoAnswer);
        default:
          break;
      }
      break;
    }
    if (this.config.ipv6Protocols[nh] === 0) return this.unknownNextHeader6(ctx, out, nhoff);
    switch (nh) {
      case IPPROTO_TCP:
        return this.tcpReset6At(ctx, out, p);
      case IPPROTO_UDP:
      case IPPROTO_UDPLITE:
        return this.udpUnreachable6At(ctx, out, p, nh);
      case IPPROTO_ICMPV6:
        return this.icmpInput6(ctx, out, p);
      default:
        return this.fail(StackReason.NoAnswer);
    }
  }

  /** unknownNextHeader6: parameter problem, code 1, pointing at the next-header byte (ip6_protocol_deliver_rcu). */
  private unknownNextHeader6(ctx: PacketContext, out: Uint8Array, nhoff: number): number {
    return this.icmpSend6(ctx, out, ICMPV6_PARAMPROB, ICMPV6_UNK_NEXTHDR, nhoff, -1);
  }

  /**
   * tlvError6: Linux ip6_parse_tlv over an options header at b[h, h + hlen) (hop-by-hop when `hbh`,
   * else destination options). Returns 0 with reason Sent when the options pass; otherwise the answer
   * (a parameter problem, or 0 with a reason when Linux drops silently).
   */
  private tlvError6(ctx: PacketContext, out: Uint8Array, h: number, hlen: number, hbh: boolean): number {
    const pi = ctx.pi;
    const b = pi.buf;
    let p = h + 2;
    let left = hlen - 2;
    let pad = 0;
    while (left > 0) {
      const t = b[p];
      const optoff = p - pi.off;
      if (t === 0) {
        // Pad1: RFC 8200 4.2, padding never runs over 7 bytes
        if (++pad > 7) return this.fail(StackReason.Malformed);
        p++;
        left--;
        continue;
      }
      if (left < 2) return this.fail(StackReason.Malformed);
      const optLen = b[p + 1] + 2;
      if (optLen > left) return this.fail(StackReason.Malformed);
      if (t === 1) {
        // PadN: RFC 4942 2.1.9.5, its bytes must be zero
        pad += optLen;
        if (pad > 7) return this.fail(StackReason.Malformed);
        for (let i = 2; i < optLen; i++) if (b[p + i] !== 0) return this.fail(StackReason.Malformed);
      } else {
        pad = 0;
        if (hbh && t === 0xc2) {
          // jumbo payload (RFC 2675 3)
          if (optLen !== 6 || (optoff & 3) !== 2)
            return this.icmpSend6(ctx, out, ICMPV6_PARAMPROB, ICMPV6_HDR_FIELD, optoff + 1, -1);
          const jlen = ((b[p + 2] << 24) | (b[p + 3] << 16) | (b[p + 4] << 8) | b[p + 5]) >>> 0;
          if (jlen <= 65535) return this.icmpSend6(ctx, out, ICMPV6_PARAMPROB, ICMPV6_HDR_FIELD, optoff + 2, -1);
          if (get16(b, pi.off + 4) !== 0)
            return this.icmpSend6(ctx, out, ICMPV6_PARAMPROB, ICMPV6_HDR_FIELD, optoff, -1);
          return this.fail(StackReason.Malformed);
        } else if (hbh && (t === 0x05 || t === 0x07 || t === 0x31)) {
          // router alert, CALIPSO, IOAM: Linux drops silently when they are malformed
          if (t === 0x05 && optLen !== 4) return this.fail(StackReason.Malformed);
          if (t === 0x07) return this.fail(StackReason.Malformed);
        } else {
          // an unknown option: RFC 8200 4.2, its two high-order bits say what to do
          switch (t >> 6) {
            case 0:
              break;
            case 1:
              return this.fail(StackReason.NoAnswer);
            case 3:
              if ((ipv6AddrType(pi.dst) & ADDR6_MULTICAST) !== 0) return this.fail(StackReason.NonUnicastDest);
              return this.icmpSend6(ctx, out, ICMPV6_PARAMPROB, ICMPV6_UNK_OPTION, optoff, -1);
            default:
              return this.icmpSend6(ctx, out, ICMPV6_PARAMPROB, ICMPV6_UNK_OPTION, optoff, -1);
          }
        }
      }
      p += optLen;
      left -= optLen;
    }
    this.reason = StackReason.Sent;
    return 0;
  }

  /** tcpReset6: Linux tcp_v6_rcv (no socket) then tcp_v6_send_reset, for a TCP packet of `ctx.pi`. */
  tcpReset6(ctx: PacketContext, out: Uint8Array): number {
    this.begin();
    const pi = ctx.pi;
    if (pi.family !== 6 || pi.proto !== IPPROTO_TCP || pi.status !== WireStatus.Ok) return this.fail(StackReason.NotIp);
    return this.tcpReset6At(ctx, out, pi.l4Off);
  }

  private tcpReset6At(ctx: PacketContext, out: Uint8Array, o: number): number {
    const pi = ctx.pi;
    const cfg = this.config;
    if (ctx.pktType !== PacketType.Host) return this.fail(StackReason.NotHost);
    const b = pi.buf;
    const len = pi.off + pi.len - o;
    if (len < 20) return this.fail(StackReason.Malformed);
    const doff = (b[o + 12] >> 4) << 2;
    if (doff < 20 || doff > len) return this.fail(StackReason.Malformed);
    if (!this.checksumsVerified(ctx)) {
      if (!sumIsValid(sumBytes(b, o, len, pseudoHeaderSumV6(pi.src, pi.dst, IPPROTO_TCP, len)))) {
        return this.fail(StackReason.BadChecksum);
      }
    }
    if ((b[o + 13] & 0x04) !== 0) return this.fail(StackReason.IsRst);
    // ipv6_unicast_destination: a local unicast address
    if (this.routes.classify6(pi.dst) !== AddrClass.Local || (ipv6AddrType(pi.dst) & ADDR6_MULTICAST) !== 0) {
      return this.fail(StackReason.NonUnicastDest);
    }
    if (this.hasAuthOption(b, o + 20, doff - 20)) return this.fail(StackReason.AuthOption);
    const rt = this.rt;
    // rt6_need_strict: a scoped destination leaves through the interface the segment came in on
    const scoped = needsScopeId6(ipv6AddrType(pi.src)) ? ctx.inIf : -1;
    if (!this.routes.route6(pi.src, scoped, rt)) return this.fail(StackReason.NoRoute);
    if (out.length < 60) return this.fail(StackReason.BufferTooSmall);
    this.writeRstAt(out, 40, b, o, len);
    fillL4Checksum6(out, 40, 20, 16, IPPROTO_TCP, pi.dst, pi.src);
    let label = (cfg.flowlabelReflect & 2) !== 0 ? pi.flowLabel : 0;
    if (label === 0) label = this.autoLabel(pi.dst, pi.src, IPPROTO_TCP, get16(out, 40), get16(out, 42));
    const hop = rt.hopLimit > 0 ? rt.hopLimit : cfg.ip6HopLimit;
    writeIpv6Header(out, pi.tos & 0xfc, label, 20, IPPROTO_TCP, hop, pi.dst, pi.src);
    this.oif = rt.oif;
    this.reason = StackReason.Sent;
    return 60;
  }

  /** udpUnreachable6: Linux __udp6_lib_rcv with no socket: ICMPv6 port unreachable. */
  udpUnreachable6(ctx: PacketContext, out: Uint8Array): number {
    this.begin();
    const pi = ctx.pi;
    if (pi.family !== 6 || (pi.proto !== IPPROTO_UDP && pi.proto !== IPPROTO_UDPLITE))
      return this.fail(StackReason.NotIp);
    return this.udpUnreachable6At(ctx, out, pi.l4Off, pi.proto);
  }

  private udpUnreachable6At(ctx: PacketContext, out: Uint8Array, o: number, proto: number): number {
    const pi = ctx.pi;
    const b = pi.buf;
    const len = pi.off + pi.len - o;
    if (len < 8) return this.fail(StackReason.Malformed);
    let ulen = get16(b, o + 4);
    if (ulen > len) return this.fail(StackReason.Malformed);
    const csum = get16(b, o + 6);
    let quote = pi.len;
    let covered = len;
    let pseudoLen = len;
    if (proto === IPPROTO_UDP) {
      // a zero length is a jumbogram's: the payload length
      if (ulen === 0) ulen = len;
      if (ulen < 8) return this.fail(StackReason.Malformed);
      quote = o - pi.off + ulen;
      covered = ulen;
      pseudoLen = ulen;
    } else {
      if (ulen !== 0 && (ulen < 8 || ulen > len)) return this.fail(StackReason.Malformed);
      if (csum === 0) return this.fail(StackReason.BadChecksum);
      covered = ulen === 0 ? len : ulen;
    }
    if ((ipv6AddrType(pi.dst) & ADDR6_MULTICAST) !== 0) return this.fail(StackReason.NonUnicastDest);
    // RFC 8200 8.1: a zero UDP checksum over IPv6 is refused
    if (proto === IPPROTO_UDP && csum === 0) return this.fail(StackReason.ZeroChecksum);
    if (!this.checksumsVerified(ctx)) {
      if (!sumIsValid(sumBytes(b, o, covered, pseudoHeaderSumV6(pi.src, pi.dst, proto, pseudoLen)))) {
        return this.fail(StackReason.BadChecksum);
      }
    }
    return this.icmpSend6(ctx, out, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0, quote);
  }

  /** icmpInput6: Linux icmpv6_rcv for what the gateway answers: echo requests. */
  private icmpInput6(ctx: PacketContext, out: Uint8Array, o: number): number {
    const pi = ctx.pi;
    const b = pi.buf;
    const len = pi.off + pi.len - o;
    if (!this.checksumsVerified(ctx)) {
      if (!sumIsValid(sumBytes(b, o, len, pseudoHeaderSumV6(pi.src, pi.dst, IPPROTO_ICMPV6, len)))) {
        return this.fail(StackReason.BadChecksum);
      }
    }
    if (len < 8) return this.fail(StackReason.Malformed);
    if (b[o] !== ICMPV6_ECHO_REQUEST) return this.fail(StackReason.NoAnswer);
    if (this.config.icmp6EchoIgnoreAll) return this.fail(StackReason.EchoIgnored);
    return this.echoReply6(ctx, out, o, len);
  }

  /** echoReply6: Linux icmpv6_echo_reply. */
  private echoReply6(ctx: PacketContext, out: Uint8Array, o: number, len: number): number {
    const pi = ctx.pi;
    const cfg = this.config;
    const routes = this.routes;
    const mcast = (ipv6AddrType(pi.dst) & ADDR6_MULTICAST) !== 0;
    if (mcast && cfg.icmp6EchoIgnoreMulticast) return this.fail(StackReason.EchoIgnored);
    const rt = this.rt;
    // the reply is routed out of the interface the request came in on
    if (!routes.route6(pi.src, ctx.inIf, rt)) return this.fail(StackReason.NoRoute);
    const src = this.src6;
    // a request to one of our addresses is answered from it; to a group, from the route's choice
    if (!mcast && routes.classify6(pi.dst) === AddrClass.Local) src.set(pi.dst);
    else src.set(rt.src);
    const nowJ = this.jiffies(ctx.now);
    const lim = this.limiter;
    if (!this.maskAllow6(ICMPV6_ECHO_REPLY)) {
      if (!(ctx.inIf >= 0 && routes.isLoopback(ctx.inIf))) {
        if (!lim.globalAllow(nowJ)) return this.fail(StackReason.RateLimitGlobal);
      }
      if (!rt.loopback) {
        const p = lim.peer6(pi.src, nowJ);
        if (!lim.xrlimAllow(6, p, cfg.icmp6Ratelimit, nowJ)) return this.fail(StackReason.RateLimitPeer);
      }
      lim.globalConsume();
    }
    const total = 40 + len;
    if (out.length < total) return this.fail(StackReason.BufferTooSmall);
    copyBytes(out, 40, pi.buf, o, len);
    out[40] = ICMPV6_ECHO_REPLY;
    fillL4Checksum6(out, 40, len, 2, IPPROTO_ICMPV6, src, pi.src);
    let label = (cfg.flowlabelReflect & 4) !== 0 ? pi.flowLabel : 0;
    if (label === 0) label = this.autoLabel(src, pi.src, IPPROTO_ICMPV6, ICMPV6_ECHO_REPLY, out[41]);
    const hop = rt.hopLimit > 0 ? rt.hopLimit : cfg.ip6HopLimit;
    writeIpv6Header(out, pi.tos, label, len, IPPROTO_ICMPV6, hop, src, pi.src);
    this.oif = rt.oif;
    this.reason = StackReason.Sent;
    return total;
  }
}

/** msSinceMidnight: Linux inet_current_timestamp for time `now` (seconds): ms since midnight UT. */
export function msSinceMidnight(now: number): number {
  const secs = Math.floor(now);
  const day = ((secs % 86400) + 86400) % 86400;
  return (day * 1000 + Math.floor((now - secs) * 1000)) >>> 0;
}

/** relatedCtInfo: the ctinfo an attached packet gets (nf_ct_attach): RELATED in the other direction. */
export function relatedCtInfo(ctInfo: number): number {
  // IP_CT_DIR_ORIGINAL (ctinfo < 3) -> RELATED_REPLY (4); reply -> RELATED (1)
  return ctInfo < 3 ? 4 : 1;
}
