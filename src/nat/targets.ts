/**
 * The packet-time halves of the NAT targets that compute their range from the packet and the
 * gateway's interfaces (Linux nf_nat_masquerade.c, nf_nat_redirect.c, xt_NETMAP.c). Each builds a
 * single-address range in the Nat's scratch range and hands it to `Nat.setupInfo`; the rule's port
 * range and flags (--to-ports, --random, --random-fully) are carried over. These are what the engine's
 * TargetEnv.masquerade / redirect call; NETMAP goes through `Nat.natSetup` with NatRangeFlag.NETMAP.
 *
 * Slow path (once per connection), but allocation-free all the same.
 */
import { Dir, Hook, Manip, type NatRange, Verdict } from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import { Tuple } from "../core/tuple.js";
import {
  inetSelectAddr,
  ipv6DevGetSaddr,
  type NatInterfaces,
  RT_SCOPE,
  redirectAddr4,
  redirectAddr6,
} from "./iface.js";
import { type Nat, netmapRange, singleAddrRange } from "./nat.js";

const addrScratch = new Int32Array(4);
const tupleScratch = new Tuple();

/**
 * masquerade: MASQUERADE at POSTROUTING (Linux nf_nat_masquerade_ipv4 / _ipv6): the source becomes the
 * output interface's address for the route's next hop (`skb.nextHop`, or the destination when it is all
 * zero: on-link). A connection whose original source is 0.0.0.0 is left alone (ACCEPT, null binding
 * follows). No usable address: DROP. The output interface is remembered, so the connection is dropped if
 * a later packet leaves by another interface (Linux nf_nat_oif_changed).
 */
export function masquerade(nat: Nat, ifaces: NatInterfaces, skb: Skb, range: NatRange): number {
  const ct = skb.ct;
  if (ct < 0) return Verdict.Accept;
  const pi = skb.pi;
  const a = addrScratch;
  a[0] = a[1] = a[2] = a[3] = 0;
  if (pi.family === 4) {
    nat.ct.tuple(ct, Dir.Original, tupleScratch);
    // locally generated with source 0.0.0.0: probably not meant to be masqueraded
    if (tupleScratch.src[0] === 0) return Verdict.Accept;
    const nh = skb.nextHop[0] !== 0 ? skb.nextHop[0] : pi.dst[0];
    const src = inetSelectAddr(ifaces, skb.outIf, nh, RT_SCOPE.Universe);
    if (src === 0) return Verdict.Drop;
    a[0] = src;
  } else {
    if (!ipv6DevGetSaddr(ifaces, skb.outIf, pi.dst, a)) return Verdict.Drop;
  }
  nat.setMasqIndex(ct, skb.outIf);
  return nat.setupInfo(ct, singleAddrRange(range, a, nat.scratchRange), Manip.Src);
}

/**
 * redirect: REDIRECT at PREROUTING or OUTPUT (Linux nf_nat_redirect_ipv4 / _ipv6): the destination
 * becomes 127.0.0.1 / ::1 for locally generated packets (OUTPUT), else the incoming interface's first
 * (suitable) address; no address: DROP. Ports from --to-ports.
 */
export function redirect(nat: Nat, ifaces: NatInterfaces, skb: Skb, range: NatRange): number {
  const ct = skb.ct;
  if (ct < 0) return Verdict.Accept;
  const pi = skb.pi;
  const a = addrScratch;
  a.fill(0);
  if (skb.hook === Hook.Output) {
    if (pi.family === 4) a[0] = 0x7f000001;
    else a[3] = 1;
  } else if (pi.family === 4) {
    a[0] = redirectAddr4(ifaces, skb.inIf);
    if (a[0] === 0) return Verdict.Drop;
  } else if (!redirectAddr6(ifaces, skb.inIf, pi.dst, a)) {
    return Verdict.Drop;
  }
  return nat.setupInfo(ct, singleAddrRange(range, a, nat.scratchRange), Manip.Dst);
}

/**
 * netmap: NETMAP at any NAT hook (xt_NETMAP): the destination (PREROUTING, OUTPUT) or source
 * (POSTROUTING, INPUT) address keeps its host part and takes the prefix of `range`.
 */
export function netmap(nat: Nat, skb: Skb, range: NatRange): number {
  const ct = skb.ct;
  if (ct < 0) return Verdict.Accept;
  const manip = skb.hook === Hook.Prerouting || skb.hook === Hook.Output ? Manip.Dst : Manip.Src;
  return nat.setupInfo(ct, netmapRange(skb.pi, range, manip, nat.scratchRange), manip);
}
