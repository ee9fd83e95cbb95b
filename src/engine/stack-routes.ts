/**
 * FibRoutes: the routing facts the stack (src/stack) needs, over the gateway's Fib and its interfaces:
 * address classes, output routes with their source address (prefsrc, else Linux's inet_select_addr /
 * RFC 6724 source selection as src/nat implements them), MTU and hop-limit metric.
 *
 * Hot path: no allocation (the stack calls it per packet it builds).
 */
import { inetSelectAddr, ipv6DevGetSaddr, type NatInterfaces, RT_SCOPE } from "../nat/iface.js";
import type { StackRoute, StackRoutes } from "../stack/routes.js";
import { DstClass, type Fib } from "./fib.js";
import { RouteType } from "./netconf.js";

export class FibRoutes implements StackRoutes {
  private readonly fib: Fib;
  private readonly ifaces: NatInterfaces;
  private readonly mtus: Int32Array;
  private readonly loopback: Uint8Array;
  private loIndex = -1;

  constructor(fib: Fib, ifaces: NatInterfaces) {
    this.fib = fib;
    this.ifaces = ifaces;
    let max = 0;
    for (const f of fib.ifaces) max = Math.max(max, f.ifindex);
    this.mtus = new Int32Array(max + 1);
    this.loopback = new Uint8Array(max + 1);
    for (const f of fib.ifaces) {
      this.mtus[f.ifindex] = f.mtu;
      if (f.loopback) {
        this.loopback[f.ifindex] = 1;
        if (this.loIndex < 0) this.loIndex = f.ifindex;
      }
    }
  }

  classify4(addr: number): number {
    return this.fib.classify4(addr);
  }

  classify6(addr: Int32Array): number {
    return this.fib.classify6(addr);
  }

  route4(dst: number, out: StackRoute): boolean {
    out.reset();
    const fib = this.fib;
    if (fib.classify4(dst) === DstClass.Local) {
      // a route to one of our own addresses goes through the loopback device
      out.src[0] = dst;
      out.loopback = true;
      out.oif = this.loIndex;
      out.mtu = 65536;
      return true;
    }
    const r = fib.lookup4(dst);
    if (r < 0) return false;
    const route = fib.route(4, r);
    const oif = fib.oif(4, r);
    if (route.type !== RouteType.Unicast || oif < 0) return false;
    out.oif = oif;
    out.mtu = route.mtu > 0 ? route.mtu : this.mtus[oif];
    out.hopLimit = route.hopLimit;
    if (route.prefsrc !== null) {
      out.src[0] = route.prefsrc[0];
      out.hasPrefsrc = true;
    } else {
      out.src[0] = inetSelectAddr(this.ifaces, oif, route.gateway !== null ? route.gateway[0] : dst, RT_SCOPE.Universe);
    }
    return true;
  }

  route6(dst: Int32Array, oif: number, out: StackRoute): boolean {
    out.reset();
    const fib = this.fib;
    if (fib.isLocal6(dst)) {
      out.src.set(dst);
      out.loopback = true;
      out.oif = this.loIndex;
      out.mtu = 65536;
      return true;
    }
    const r = fib.lookup6(dst);
    if (r < 0) return false;
    const route = fib.route(6, r);
    const rif = fib.oif(6, r);
    if (route.type !== RouteType.Unicast || rif < 0) return false;
    out.oif = oif >= 0 && (dst[0] & 0xffc00000) === (0xfe800000 | 0) ? oif : rif;
    out.mtu = route.mtu > 0 ? route.mtu : this.mtus[out.oif];
    out.hopLimit = route.hopLimit;
    if (route.prefsrc !== null) {
      out.src.set(route.prefsrc);
      out.hasPrefsrc = true;
      return true;
    }
    return ipv6DevGetSaddr(this.ifaces, out.oif, dst, out.src);
  }

  ifaceAddr4(ifindex: number, dst: number): number {
    return inetSelectAddr(this.ifaces, ifindex, dst, RT_SCOPE.Link);
  }

  ifaceSource6(ifindex: number, dst: Int32Array, out: Int32Array): boolean {
    return ipv6DevGetSaddr(this.ifaces, ifindex, dst, out);
  }

  isLoopback(ifindex: number): boolean {
    return ifindex >= 0 && ifindex < this.loopback.length && this.loopback[ifindex] === 1;
  }
}
