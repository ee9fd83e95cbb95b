/**
 * IPv4 options as Linux handles them for the gateway's own packets.
 *
 * 1. On receive (ip_rcv_options, right after the routing decision, before INPUT / FORWARD), Linux
 *    compiles the options and rewrites some of them IN PLACE: a record-route option with room gets the
 *    gateway's address in its next slot and its pointer advanced; a timestamp option gets a timestamp
 *    (and address); padding after an end-of-list option is zeroed. The header checksum is NOT updated
 *    here (a forwarded packet gets it recomputed later; a packet quoted in an ICMP error or delivered
 *    locally keeps the stale one). A malformed option draws an ICMP parameter problem pointing at it;
 *    a source-route option is dropped (net.ipv4.conf.*.accept_source_route is 0 by default).
 *    `ipv4OptionsReceive` does this; the engine calls it for packets with options.
 * 2. Every packet Linux builds in answer (ICMP errors, echo / timestamp replies, TCP RSTs) echoes the
 *    record-route and timestamp options of the offending packet (__ip_options_echo) and fills in its
 *    own slot (ip_options_build). `echoIpv4Options` does this from the (already rewritten) bytes.
 *
 * Hot path: no allocation.
 */
import type { PacketInfo } from "../wire/packet-info.js";
import { put32 } from "./emit.js";
import { AddrClass, type StackRoutes } from "./routes.js";

const IPOPT_END = 0;
const IPOPT_NOOP = 1;
const IPOPT_SEC = 130;
const IPOPT_LSRR = 131;
const IPOPT_SSRR = 137;
const IPOPT_RR = 7;
const IPOPT_TIMESTAMP = 68;
const IPOPT_CIPSO = 134;
const IPOPT_RA = 148;
const IPOPT_TS_TSONLY = 0;
const IPOPT_TS_TSANDADDR = 1;
const IPOPT_TS_PRESPEC = 3;

/** ipv4OptionsReceive result: the options are fine */
export const OPTIONS_OK = -1;
/** ipv4OptionsReceive result: Linux drops the packet without an answer (source routing) */
export const OPTIONS_DROP = -2;

/**
 * Ipv4RxOptions: what ipv4OptionsReceive learnt of a packet's options (Linux struct ip_options, the
 * fields forwarding needs). Offsets are from the start of the IP header, 0 when absent.
 */
export class Ipv4RxOptions {
  rr = 0;
  ts = 0;
  /** the receive path claimed a record-route slot / a timestamp address slot (forwarding refills it) */
  rrNeedaddr = false;
  tsNeedaddr = false;
  /** the receive path rewrote the options (Linux opt->is_changed): forwarding recomputes the header checksum */
  changed = false;
  reset(): void {
    this.rr = 0;
    this.ts = 0;
    this.rrNeedaddr = false;
    this.tsNeedaddr = false;
    this.changed = false;
  }
}

/** msMidnight: ms since midnight UT for time `now` (seconds), Linux inet_current_timestamp. */
function msMidnight(now: number): number {
  const secs = Math.floor(now);
  const day = ((secs % 86400) + 86400) % 86400;
  return (day * 1000 + Math.floor((now - secs) * 1000)) >>> 0;
}

/**
 * ipv4OptionsReceive: Linux ip_options_compile + ip_rcv_options for a received packet, rewriting its
 * options in place (see the module notes). `specDst` is the address Linux records for itself
 * (fib_compute_spec_dst: the packet's destination when it is ours, else the route's source towards the
 * packet's source). Returns OPTIONS_OK, OPTIONS_DROP, or the byte offset (from the IP header) an ICMP
 * parameter problem must point at (Stack.icmpError with StackIcmpKind.ParamProblem).
 */
export function ipv4OptionsReceive(
  pi: PacketInfo,
  specDst: number,
  now: number,
  routes: StackRoutes,
  rec: Ipv4RxOptions | null = null,
): number {
  if (rec !== null) rec.reset();
  const b = pi.buf;
  const iph = pi.off;
  let l = pi.ipHeaderLen - 20;
  let p = iph + 20;
  let rr = false;
  let ts = false;
  let srr = false;
  let cipso = false;
  while (l > 0) {
    const t = b[p];
    if (t === IPOPT_END) {
      // everything after the end of the list becomes end-of-list
      for (p++, l--; l > 0; p++, l--) {
        if (b[p] !== IPOPT_END) {
          b[p] = IPOPT_END;
          if (rec !== null) rec.changed = true;
        }
      }
      break;
    }
    if (t === IPOPT_NOOP) {
      l--;
      p++;
      continue;
    }
    if (l < 2) return p - iph;
    const optlen = b[p + 1];
    if (optlen < 2 || optlen > l) return p - iph;
    switch (t) {
      case IPOPT_SSRR:
      case IPOPT_LSRR:
        if (optlen < 3) return p + 1 - iph;
        if (b[p + 2] < 4) return p + 2 - iph;
        // RFC 1812 5.2.4.1: one source route only
        if (srr) return p - iph;
        srr = true;
        break;
      case IPOPT_RR:
        if (rr) return p - iph;
        if (optlen < 3) return p + 1 - iph;
        if (b[p + 2] < 4) return p + 2 - iph;
        if (b[p + 2] <= optlen) {
          if (b[p + 2] + 3 > optlen) return p + 2 - iph;
          put32(b, p + b[p + 2] - 1, specDst);
          b[p + 2] += 4;
          if (rec !== null) {
            rec.rrNeedaddr = true;
            rec.changed = true;
          }
        }
        if (rec !== null) rec.rr = p - iph;
        rr = true;
        break;
      case IPOPT_TIMESTAMP: {
        if (ts) return p - iph;
        if (optlen < 4) return p + 1 - iph;
        if (b[p + 2] < 5) return p + 2 - iph;
        const ptr = b[p + 2];
        if (ptr <= optlen) {
          if (ptr + 3 > optlen) return p + 2 - iph;
          let timeAt = -1;
          switch (b[p + 3] & 0x0f) {
            case IPOPT_TS_TSONLY:
              timeAt = p + ptr - 1;
              b[p + 2] += 4;
              break;
            case IPOPT_TS_TSANDADDR:
              if (ptr + 7 > optlen) return p + 2 - iph;
              put32(b, p + ptr - 1, specDst);
              timeAt = p + ptr + 3;
              b[p + 2] += 8;
              if (rec !== null) rec.tsNeedaddr = true;
              break;
            case IPOPT_TS_PRESPEC: {
              if (ptr + 7 > optlen) return p + 2 - iph;
              const at = p + ptr - 1;
              const addr = (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
              // a prespecified address that is someone else's: not our turn
              if (routes.classify4(addr) === AddrClass.Unicast) break;
              timeAt = p + ptr + 3;
              b[p + 2] += 8;
              break;
            }
            default:
              break;
          }
          if (timeAt >= 0) {
            put32(b, timeAt, msMidnight(now));
            if (rec !== null) rec.changed = true;
          }
        } else if ((b[p + 3] & 0x0f) !== IPOPT_TS_PRESPEC) {
          // no room: count the overflow (RFC 791), an overflowing counter is an error
          const overflow = b[p + 3] >> 4;
          if (overflow === 15) return p + 3 - iph;
          b[p + 3] = (b[p + 3] & 0x0f) | ((overflow + 1) << 4);
          if (rec !== null) rec.changed = true;
        }
        if (rec !== null) rec.ts = p - iph;
        ts = true;
        break;
      }
      case IPOPT_RA:
        if (optlen < 4) return p + 1 - iph;
        break;
      case IPOPT_CIPSO:
        if (cipso) return p - iph;
        cipso = true;
        // cipso_v4_validate: too short, else no DOI is configured
        if (optlen < 8) return p + 1 - iph;
        return p + 2 - iph;
      default:
        // IPOPT_SEC, stream id and unknown options pass unread
        void IPOPT_SEC;
        break;
    }
    l -= optlen;
    p += optlen;
  }
  // accept_source_route = 0: source-routed packets are dropped
  if (srr) return OPTIONS_DROP;
  return OPTIONS_OK;
}

/**
 * ipv4ForwardOptions: Linux ip_forward_options, for a forwarded packet after FORWARD (before
 * POSTROUTING): the record-route slot the receive path claimed gets the address of the outgoing route
 * (`outSrc`: Linux ip_rt_get_source, the route's preferred source towards the destination), and the
 * header checksum is recomputed when anything changed, here or on the receive path (is_changed). The
 * timestamp's address is rewritten only for a source route that was hit (srr_is_hit), which never
 * happens: source-routed packets are dropped (accept_source_route = 0). Returns true if the header was
 * rewritten.
 */
export function ipv4ForwardOptions(pi: PacketInfo, rec: Ipv4RxOptions, outSrc: number): boolean {
  const b = pi.buf;
  const iph = pi.off;
  let changed = rec.changed;
  if (rec.rrNeedaddr && rec.rr > 0) {
    put32(b, iph + rec.rr + b[iph + rec.rr + 2] - 5, outSrc);
    changed = true;
  }
  if (changed) {
    b[iph + 10] = 0;
    b[iph + 11] = 0;
    let sum = 0;
    for (let i = 0; i < pi.ipHeaderLen; i += 2) sum += (b[iph + i] << 8) | b[iph + i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const c = ~sum & 0xffff;
    b[iph + 10] = c >>> 8;
    b[iph + 11] = c & 0xff;
  }
  return changed;
}

/**
 * echoIpv4Options: the options of a packet Linux builds in answer to the packet at b[iph] (header length
 * `hl`), written at out[at]: its record-route and timestamp options (as the receive path left them),
 * with the next slot filled with `replySrc` (and the time for timestamps), padded with end-of-list to
 * a multiple of 4. Returns the option length (0 when there is nothing to echo), or -1 when Linux
 * refuses the options (no answer is sent).
 */
export function echoIpv4Options(
  b: Uint8Array,
  iph: number,
  hl: number,
  out: Uint8Array,
  at: number,
  replySrc: number,
  now: number,
): number {
  if (hl <= 20) return 0;
  let rrOff = -1;
  let tsOff = -1;
  let p = iph + 20;
  let l = hl - 20;
  while (l > 0) {
    const t = b[p];
    if (t === IPOPT_END) break;
    if (t === IPOPT_NOOP) {
      p++;
      l--;
      continue;
    }
    if (l < 2) break;
    const optlen = b[p + 1];
    if (optlen < 2 || optlen > l) break;
    if (t === IPOPT_RR && rrOff < 0) rrOff = p;
    else if (t === IPOPT_TIMESTAMP && tsOff < 0) tsOff = p;
    p += optlen;
    l -= optlen;
  }
  let d = at;
  if (rrOff >= 0) {
    const optlen = b[rrOff + 1];
    const soffset = b[rrOff + 2];
    for (let i = 0; i < optlen; i++) out[d + i] = b[rrOff + i];
    if (soffset <= optlen) {
      if (soffset + 3 > optlen) return -1;
      out[d + 2] = soffset + 4;
      // ip_options_build: our address in the slot just claimed
      put32(out, d + soffset - 1, replySrc);
    }
    d += optlen;
  }
  if (tsOff >= 0) {
    const optlen = b[tsOff + 1];
    let soffset = b[tsOff + 2];
    for (let i = 0; i < optlen; i++) out[d + i] = b[tsOff + i];
    if (soffset <= optlen) {
      const flags = b[tsOff + 3] & 0x0f;
      const needAddr = flags === IPOPT_TS_TSANDADDR;
      const needTime = flags === IPOPT_TS_TSONLY || flags === IPOPT_TS_TSANDADDR || flags === IPOPT_TS_PRESPEC;
      if (needAddr) {
        if (soffset + 3 > optlen) return -1;
        put32(out, d + soffset - 1, replySrc);
        soffset += 4;
      }
      if (needTime) {
        if (soffset + 3 > optlen) return -1;
        if (flags !== IPOPT_TS_PRESPEC) {
          put32(out, d + soffset - 1, msMidnight(now));
          soffset += 4;
        } else if (soffset + 7 <= optlen) {
          soffset += 8;
          put32(out, d + soffset - 5, msMidnight(now));
        }
      }
      out[d + 2] = soffset;
    }
    d += optlen;
  }
  while (((d - at) & 3) !== 0) out[d++] = IPOPT_END;
  return d - at;
}
