/**
 * TCPMSS target: `-j TCPMSS --set-mss N | --clamp-mss-to-pmtu` (Linux xt_TCPMSS.c, iptables
 * libxt_TCPMSS.c), what home routers put in mangle FORWARD for PPPoE links:
 *
 * - The new MSS is N, or with --clamp-mss-to-pmtu the smaller of the MTU of the packet's route and of
 *   the route back to its source, less 40 (IPv4) or 60 (IPv6) bytes of headers; an MTU not above that
 *   drops the packet ("unknown or invalid path-MTU").
 * - An MSS option larger than the new value is lowered (never raised); the TCP checksum is updated
 *   incrementally, as the kernel does (RFC 1624 through csum_fold).
 * - Without an MSS option, and only when the segment has no payload and room for 4 more header bytes,
 *   an MSS option is inserted first among the options (the IPv4 default 536 or IPv6 1220 caps it),
 *   the data offset, the IP length and the checksums follow.
 * - Non-first fragments pass untouched; a truncated TCP header drops the packet.
 *
 * iptables-nft loads it through nft_compat, where the kernel does not ask for a `--syn` match: every TCP
 * packet that reaches the rule is treated as above. The rule must say `-p tcp`.
 */
import { Verdict } from "../../core/netfilter.js";
import type { Skb } from "../../core/skb.js";
import { csumApplyDelta, delta16, deltaWord } from "../../nat/csum.js";
import { checksumUpdate16 } from "../../wire/checksum.js";
import { parsePacket } from "../../wire/parse.js";
import {
  type CheckCtx,
  HOOK_FWD,
  HOOK_OUT,
  HOOK_POST,
  hookCheck,
  type OptDef,
  opt,
  type ParseCtx,
  type RuleEnv,
  Target,
} from "../types.js";
import { parseUint } from "../util.js";

/** the mss value that means --clamp-mss-to-pmtu (Linux XT_TCPMSS_CLAMP_PMTU) */
const CLAMP_PMTU = 0xffff;
const TCPOPT_MSS = 2;
const TCPOLEN_MSS = 4;

export class TcpmssTarget extends Target {
  static readonly extName: string = "TCPMSS";
  readonly name = "TCPMSS";
  readonly opts: readonly OptDef[] = [opt("set-mss"), opt("clamp-mss-to-pmtu", false)];
  /** the MSS to set, or CLAMP_PMTU */
  mss = -1;
  private seen = 0;
  parse(o: string, arg: string, _inv: boolean, p: ParseCtx): void {
    const bit = o === "set-mss" ? 1 : 2;
    if (this.seen & bit) p.fail(`TCPMSS: option "--${o}" can only be used once.`);
    this.seen |= bit;
    if (o === "clamp-mss-to-pmtu") {
      this.mss = CLAMP_PMTU;
      return;
    }
    // the largest MSS an IP packet can carry: 65535 less the IP and TCP headers
    const max = this.family === 4 ? 65535 - 20 : 65535 - 40;
    const v = parseUint(arg, 0, max);
    if (v === null) p.failArg(`TCPMSS: bad value for option "--set-mss", or out of range (0-${max}).`);
    this.mss = v;
  }
  override finalCheck(p: ParseCtx): void {
    if (this.seen === 0) p.fail("TCPMSS target: At least one parameter is required");
    // x_tables: the target is registered for IPPROTO_TCP only
    if (p.proto !== 6 || p.protoInv) p.fail("TCPMSS target: only valid for protocol 6 (use -p tcp)");
  }
  override check(c: CheckCtx): string | null {
    if (this.mss !== CLAMP_PMTU) return null;
    return hookCheck(c, "TCPMSS --clamp-mss-to-pmtu (path-MTU clamping)", null, HOOK_FWD | HOOK_OUT | HOOK_POST);
  }

  /** packet time: Linux tcpmss_tg4 / tcpmss_tg6. Must not allocate (except a one-time scratch buffer). */
  action(skb: Skb, env: RuleEnv): number {
    const pi = skb.pi;
    // a non-first fragment has no TCP header
    if (pi.fragOff !== 0) return Verdict.Continue;
    const v4 = pi.family === 4;
    const tcphoff = pi.l4Off;
    // ipv6_skip_exthdr failed: Linux drops
    if (tcphoff <= 0) return Verdict.Drop;
    const minlen = v4 ? 20 + 20 : 40 + 20;
    const end = pi.off + pi.len;
    const len = end - tcphoff;
    if (len < 20) return Verdict.Drop;
    let b = pi.buf;
    const o = tcphoff;
    const hdrlen = (b[o + 12]! >>> 4) * 4;
    if (len < hdrlen || hdrlen < 20) return Verdict.Drop;
    let newmss: number;
    if (this.mss === CLAMP_PMTU) {
      const inMtu = env.target.routeMtu(skb, true) >>> 0;
      const outMtu = env.target.routeMtu(skb, false) >>> 0;
      const minMtu = Math.min(outMtu, inMtu);
      // "unknown or invalid path-MTU"
      if (minMtu <= minlen) return Verdict.Drop;
      newmss = (minMtu - minlen) & 0xffff;
    } else newmss = this.mss;
    // an MSS option already there: lower it, never raise it
    for (let i = 20; i <= hdrlen - TCPOLEN_MSS; ) {
      const kind = b[o + i]!;
      if (kind === TCPOPT_MSS && b[o + i + 1] === TCPOLEN_MSS) {
        const oldmss = (b[o + i + 2]! << 8) | b[o + i + 3]!;
        if (oldmss <= newmss) return Verdict.Continue;
        b[o + i + 2] = newmss >>> 8;
        b[o + i + 3] = newmss & 0xff;
        const c = (b[o + 16]! << 8) | b[o + 17]!;
        const nc = csumApplyDelta(c, delta16(oldmss, newmss));
        b[o + 16] = nc >>> 8;
        b[o + 17] = nc & 0xff;
        pi.optMss = newmss;
        return Verdict.Continue;
      }
      // zero-length options make finite progress
      i += kind <= 1 || b[o + i + 1] === 0 ? 1 : b[o + i + 1]!;
    }
    // data after the header: the option cannot be added without moving it
    if (len > hdrlen) return Verdict.Continue;
    // the data offset has 4 bits: no room for more options
    if (hdrlen >= 15 * 4) return Verdict.Continue;
    // cold path: the packet grows by 4 bytes, in a buffer of the rules engine's (never the caller's)
    const need = end + TCPOLEN_MSS;
    if (b !== env.growBuf || need > b.length) {
      const g = env.scratchFor(need - pi.off);
      g.set(b.subarray(pi.off, end), 0);
      b = g;
    }
    const base = b === pi.buf ? pi.off : 0;
    const t = tcphoff - pi.off + base;
    // RFC 1122 (IPv4: 536 without an MSS option) / RFC 2460 (IPv6: 1280 - 60 = 1220)
    newmss = Math.min(newmss, v4 ? 536 : 1220);
    b.copyWithin(t + 20 + TCPOLEN_MSS, t + 20, t + len);
    let c = (b[t + 16]! << 8) | b[t + 17]!;
    // the pseudo header's TCP length grows by 4
    c = csumApplyDelta(c, delta16(len, len + TCPOLEN_MSS));
    b[t + 20] = TCPOPT_MSS;
    b[t + 21] = TCPOLEN_MSS;
    b[t + 22] = newmss >>> 8;
    b[t + 23] = newmss & 0xff;
    c = csumApplyDelta(c, deltaWord(0, (TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) | newmss));
    const oldval = (b[t + 12]! << 8) | b[t + 13]!;
    b[t + 12] = b[t + 12]! + (TCPOLEN_MSS / 4) * 16;
    const newval = (b[t + 12]! << 8) | b[t + 13]!;
    c = csumApplyDelta(c, delta16(oldval, newval));
    b[t + 16] = c >>> 8;
    b[t + 17] = c & 0xff;
    const ip = base;
    if (v4) {
      const oldLen = (b[ip + 2]! << 8) | b[ip + 3]!;
      const newLen = oldLen + TCPOLEN_MSS;
      b[ip + 2] = newLen >>> 8;
      b[ip + 3] = newLen & 0xff;
      const ic = checksumUpdate16((b[ip + 10]! << 8) | b[ip + 11]!, oldLen, newLen);
      b[ip + 10] = ic >>> 8;
      b[ip + 11] = ic & 0xff;
    } else {
      const pl = ((b[ip + 4]! << 8) | b[ip + 5]!) + TCPOLEN_MSS;
      b[ip + 4] = pl >>> 8;
      b[ip + 5] = pl & 0xff;
    }
    // the parse record follows the bytes
    parsePacket(pi, b, ip, pi.len + TCPOLEN_MSS);
    return Verdict.Continue;
  }
  save(): string {
    return this.mss === CLAMP_PMTU ? " --clamp-mss-to-pmtu" : ` --set-mss ${this.mss}`;
  }
  print(): string {
    return this.mss === CLAMP_PMTU ? " TCPMSS clamp to PMTU" : ` TCPMSS set ${this.mss}`;
  }
}
