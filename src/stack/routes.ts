/**
 * StackRoutes: the routing facts the stack needs to build the gateway's own packets, implemented by the
 * engine (over its FIB) or by TableRoutes below.
 *
 * Addresses are four int32 words in network order (IPv4 in word 0), as in PacketInfo.
 *
 * Hot path: every method runs per built packet and must not allocate.
 */
import { parseAddrInto } from "../wire/addr.js";

/**
 * AddrClass: what an address is to the gateway (Linux RTN_* of the input route). The values are the
 * engine's DstClass values, so that a FIB's classify4 / classify6 can serve directly.
 */
export const AddrClass = {
  /** not one of ours: forwarded */
  Unicast: 0,
  /** one of the gateway's own addresses (RTN_LOCAL) */
  Local: 1,
  /** a broadcast address (255.255.255.255, a subnet broadcast) */
  Broadcast: 2,
  /** a multicast group the gateway joined */
  Multicast: 3,
  /** another multicast group */
  MulticastOther: 4,
} as const;

/** StackRoute: the result of an output route lookup, filled in place. */
export class StackRoute {
  /**
   * the source address Linux picks on this route when the caller leaves it open: the route's prefsrc,
   * else (IPv4) inet_select_addr on the output interface / (IPv6) source address selection (RFC 6724)
   */
  readonly src: Int32Array = new Int32Array(4);
  /** the route names a preferred source (prefsrc) */
  hasPrefsrc = false;
  /** output interface index */
  oif = -1;
  /** path MTU: the route's mtu metric, else the output interface's MTU */
  mtu = 1500;
  /** the route's hoplimit metric, 0 when it has none (the sysctl default applies) */
  hopLimit = 0;
  /** the output interface is a loopback (a packet to one of the gateway's own addresses) */
  loopback = false;

  reset(): void {
    this.src.fill(0);
    this.hasPrefsrc = false;
    this.oif = -1;
    this.mtu = 1500;
    this.hopLimit = 0;
    this.loopback = false;
  }
}

export interface StackRoutes {
  /** classify4: AddrClass of an IPv4 address (int32) */
  classify4(addr: number): number;
  /** classify6: AddrClass of an IPv6 address (Local for the gateway's own, Multicast for ff00::/8) */
  classify6(addr: Int32Array): number;
  /**
   * route4: the output route to `dst` (Linux ip_route_output_key with no source given). Fills `out`;
   * false when there is none (no route, or an unreachable / prohibit / blackhole route).
   */
  route4(dst: number, out: StackRoute): boolean;
  /**
   * route6: the output route to `dst`; `oif` is the interface a link-local (scoped) destination must
   * use, -1 when free. Fills `out`; false when there is none.
   */
  route6(dst: Int32Array, oif: number, out: StackRoute): boolean;
  /**
   * ifaceAddr4: Linux inet_select_addr(dev, dst, RT_SCOPE_LINK): the interface's address in dst's
   * subnet, else its first address; 0 when it has none.
   */
  ifaceAddr4(ifindex: number, dst: number): number;
  /** ifaceSource6: IPv6 source address selection for `dst` preferring interface `ifindex`; false if none */
  ifaceSource6(ifindex: number, dst: Int32Array, out: Int32Array): boolean;
  /** isLoopback: the interface is a loopback device */
  isLoopback(ifindex: number): boolean;
}

// ---- TableRoutes: a small self-contained implementation ----------------------------------------------

/** An interface for TableRoutes: addresses as "10.77.1.1/24", "fd77:1::1/64", "fe80::1/64". */
export interface TableIface {
  ifindex: number;
  mtu: number;
  loopback?: boolean;
  addrs: readonly string[];
}

/** A route for TableRoutes ("default" or "prefix/len"); type defaults to unicast. */
export interface TableRoute {
  dst: string;
  dev?: number;
  via?: string;
  src?: string;
  mtu?: number;
  hoplimit?: number;
  type?: "unicast" | "unreachable" | "prohibit" | "blackhole";
}

const TYPE_UNICAST = 0;
const TYPE_UNREACHABLE = 1;
const TYPE_PROHIBIT = 2;
const TYPE_BLACKHOLE = 3;

/** RouteKind: what TableRoutes.forward finds for a destination (ip -j route's types). */
export const RouteKind = { None: -1, Unicast: 0, Unreachable: 1, Prohibit: 2, Blackhole: 3 } as const;

class Entry {
  family: 4 | 6 = 4;
  readonly dst = new Int32Array(4);
  prefixLen = 0;
  readonly via = new Int32Array(4);
  hasVia = false;
  readonly src = new Int32Array(4);
  hasSrc = false;
  dev = -1;
  mtu = 0;
  hoplimit = 0;
  type = TYPE_UNICAST;
}

class IfAddr {
  family: 4 | 6 = 4;
  readonly addr = new Int32Array(4);
  prefixLen = 0;
  ifindex = -1;
}

function mask32(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? -1 : (0xffffffff << (32 - len)) | 0;
}

function prefixMatch(a: ArrayLike<number>, b: ArrayLike<number>, len: number): boolean {
  for (let w = 0; w < 4 && len > 0; w++, len -= 32) {
    if (((a[w] ^ b[w]) & mask32(len)) !== 0) return false;
  }
  return true;
}

/** commonPrefix: number of leading bits two IPv6 addresses share. */
function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let w = 0; w < 4; w++) {
    const x = (a[w] ^ b[w]) >>> 0;
    if (x !== 0) return w * 32 + Math.clz32(x);
  }
  return 128;
}

function isLinkLocal6(a: ArrayLike<number>): boolean {
  return (a[0] & 0xffc00000) === (0xfe800000 | 0);
}

function isMulticast6(a: ArrayLike<number>): boolean {
  return a[0] >>> 24 === 0xff;
}

/**
 * TableRoutes: StackRoutes over a list of interfaces and routes, as a small Linux host would have them:
 * connected routes from the addresses (and fe80::/64 on every interface with a link-local address),
 * longest prefix first. Built once (slow path); lookups do not allocate.
 * @throws Error for an address or prefix that does not parse.
 */
export class TableRoutes implements StackRoutes {
  private readonly routes: Entry[] = [];
  private readonly addrs: IfAddr[] = [];
  private readonly mtus = new Map<number, number>();
  private readonly loopbacks: number[] = [];
  private readonly tmp = new Int32Array(4);

  constructor(ifaces: readonly TableIface[], routes: readonly TableRoute[] = []) {
    for (const f of ifaces) {
      this.mtus.set(f.ifindex, f.mtu);
      if (f.loopback) this.loopbacks.push(f.ifindex);
      for (const text of f.addrs) {
        const a = new IfAddr();
        const [addr, len] = splitPrefix(text);
        const fam = parseAddrInto(a.addr, addr);
        if (fam === 0) throw new Error(`TableRoutes: bad address ${text}`);
        a.family = fam as 4 | 6;
        a.prefixLen = len ?? (fam === 4 ? 32 : 128);
        a.ifindex = f.ifindex;
        this.addrs.push(a);
        if (f.loopback) continue;
        const e = new Entry();
        e.family = a.family;
        e.prefixLen = a.prefixLen;
        for (let w = 0; w < 4; w++) e.dst[w] = a.addr[w] & mask32(a.prefixLen - 32 * w);
        e.dev = f.ifindex;
        this.routes.push(e);
      }
    }
    for (const r of routes) {
      const e = new Entry();
      if (r.dst === "default" || r.dst === "default6") {
        e.family = r.dst === "default" ? 4 : 6;
        e.prefixLen = 0;
      } else {
        const [addr, len] = splitPrefix(r.dst);
        const fam = parseAddrInto(e.dst, addr);
        if (fam === 0) throw new Error(`TableRoutes: bad route ${r.dst}`);
        e.family = fam as 4 | 6;
        e.prefixLen = len ?? (fam === 4 ? 32 : 128);
      }
      if (r.via !== undefined) {
        if (parseAddrInto(e.via, r.via) === 0) throw new Error(`TableRoutes: bad gateway ${r.via}`);
        e.hasVia = true;
      }
      if (r.src !== undefined) {
        if (parseAddrInto(e.src, r.src) === 0) throw new Error(`TableRoutes: bad source ${r.src}`);
        e.hasSrc = true;
      }
      e.dev = r.dev ?? -1;
      e.mtu = r.mtu ?? 0;
      e.hoplimit = r.hoplimit ?? 0;
      e.type =
        r.type === "unreachable"
          ? TYPE_UNREACHABLE
          : r.type === "prohibit"
            ? TYPE_PROHIBIT
            : r.type === "blackhole"
              ? TYPE_BLACKHOLE
              : TYPE_UNICAST;
      // explicit routes come first among equal prefixes (they replace connected ones)
      this.routes.unshift(e);
    }
    // longest prefix first; stable for equal lengths
    const order = this.routes.map((r, i) => ({ r, i }));
    order.sort((a, b) => b.r.prefixLen - a.r.prefixLen || a.i - b.i);
    this.routes.length = 0;
    for (const o of order) this.routes.push(o.r);
    // a gateway route without a device takes the device of the route to its gateway
    for (const e of this.routes) {
      if (e.dev < 0 && e.hasVia && e.type === TYPE_UNICAST) {
        const via = this.lookup(e.family, e.via, -1, e);
        if (via !== null) e.dev = via.dev;
      }
    }
  }

  classify4(a: number): number {
    if (a >>> 24 === 127) return AddrClass.Local;
    if (a === -1) return AddrClass.Broadcast;
    if (a >>> 28 === 0xe) return a === (0xe0000001 | 0) ? AddrClass.Multicast : AddrClass.MulticastOther;
    for (const x of this.addrs) {
      if (x.family !== 4) continue;
      if (x.addr[0] === a) return AddrClass.Local;
      if (x.prefixLen < 31 && (a | mask32(x.prefixLen)) === -1 && ((a ^ x.addr[0]) & mask32(x.prefixLen)) === 0) {
        return AddrClass.Broadcast;
      }
    }
    return AddrClass.Unicast;
  }

  classify6(a: Int32Array): number {
    if (isMulticast6(a)) return AddrClass.Multicast;
    if (a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] === 1) return AddrClass.Local;
    for (const x of this.addrs) {
      if (x.family === 6 && x.addr[0] === a[0] && x.addr[1] === a[1] && x.addr[2] === a[2] && x.addr[3] === a[3]) {
        return AddrClass.Local;
      }
    }
    return AddrClass.Unicast;
  }

  private lookup(family: number, dst: ArrayLike<number>, oif: number, skip: Entry | null): Entry | null {
    for (const r of this.routes) {
      if (r === skip || r.family !== family) continue;
      if (oif >= 0 && r.dev >= 0 && r.dev !== oif) continue;
      if (prefixMatch(r.dst, dst, r.prefixLen)) return r;
    }
    return null;
  }

  route4(dst: number, out: StackRoute): boolean {
    out.reset();
    this.tmp.fill(0);
    this.tmp[0] = dst;
    if (this.classify4(dst) === AddrClass.Local) {
      out.src[0] = dst;
      out.loopback = true;
      out.oif = this.firstLoopback();
      out.mtu = 65536;
      return true;
    }
    const r = this.lookup(4, this.tmp, -1, null);
    if (r === null || r.type !== TYPE_UNICAST || r.dev < 0) return false;
    out.oif = r.dev;
    out.mtu = r.mtu > 0 ? r.mtu : (this.mtus.get(r.dev) ?? 1500);
    out.hopLimit = r.hoplimit;
    if (r.hasSrc) {
      out.src[0] = r.src[0];
      out.hasPrefsrc = true;
    } else {
      out.src[0] = this.ifaceAddr4(r.dev, r.hasVia ? r.via[0] : dst);
    }
    return true;
  }

  route6(dst: Int32Array, oif: number, out: StackRoute): boolean {
    out.reset();
    if (this.classify6(dst) === AddrClass.Local) {
      out.src.set(dst);
      out.loopback = true;
      out.oif = this.firstLoopback();
      out.mtu = 65536;
      return true;
    }
    let r: Entry | null = null;
    if (isLinkLocal6(dst) || isMulticast6(dst)) {
      // scoped destinations leave through the interface they belong to
      if (oif < 0) return false;
      out.oif = oif;
      out.mtu = this.mtus.get(oif) ?? 1500;
      return this.ifaceSource6(oif, dst, out.src);
    }
    r = this.lookup(6, dst, oif, null);
    if (r === null || r.type !== TYPE_UNICAST || r.dev < 0) return false;
    out.oif = r.dev;
    out.mtu = r.mtu > 0 ? r.mtu : (this.mtus.get(r.dev) ?? 1500);
    out.hopLimit = r.hoplimit;
    if (r.hasSrc) {
      out.src.set(r.src);
      out.hasPrefsrc = true;
      return true;
    }
    return this.ifaceSource6(r.dev, dst, out.src);
  }

  /**
   * forward: the route a forwarded packet to `dst` takes (RouteKind), with its output interface, MTU
   * and hop limit in `out` for a unicast route.
   */
  forward(family: 4 | 6, dst: Int32Array, out: StackRoute): number {
    out.reset();
    const r = this.lookup(family, dst, -1, null);
    if (r === null) return RouteKind.None;
    if (r.type !== TYPE_UNICAST) return r.type;
    if (r.dev < 0) return RouteKind.None;
    out.oif = r.dev;
    out.mtu = r.mtu > 0 ? r.mtu : (this.mtus.get(r.dev) ?? 1500);
    out.hopLimit = r.hoplimit;
    return RouteKind.Unicast;
  }

  ifaceAddr4(ifindex: number, dst: number): number {
    let first = 0;
    for (const x of this.addrs) {
      if (x.family !== 4 || x.ifindex !== ifindex) continue;
      if (((x.addr[0] ^ dst) & mask32(x.prefixLen)) === 0) return x.addr[0];
      if (first === 0) first = x.addr[0];
    }
    return first;
  }

  ifaceSource6(ifindex: number, dst: Int32Array, out: Int32Array): boolean {
    // RFC 6724, the rules that matter for a gateway: same scope as the destination (link-local for a
    // link-local destination), addresses of the preferred interface first, then the longest match.
    const wantLL = isLinkLocal6(dst);
    let best: IfAddr | null = null;
    let bestScore = -1;
    for (const x of this.addrs) {
      if (x.family !== 6) continue;
      const ll = isLinkLocal6(x.addr);
      if (ll && x.ifindex !== ifindex) continue; // a link-local address is only usable on its link
      let score = 0;
      if (ll === wantLL) score += 1000;
      if (x.ifindex === ifindex) score += 500;
      score += commonPrefix(x.addr, dst);
      if (score > bestScore) {
        bestScore = score;
        best = x;
      }
    }
    if (best === null) return false;
    out.set(best.addr);
    return true;
  }

  isLoopback(ifindex: number): boolean {
    return this.loopbacks.indexOf(ifindex) >= 0;
  }

  private firstLoopback(): number {
    return this.loopbacks.length > 0 ? this.loopbacks[0] : -1;
  }
}

function splitPrefix(text: string): [string, number | undefined] {
  const slash = text.indexOf("/");
  if (slash < 0) return [text, undefined];
  const n = Number(text.slice(slash + 1));
  if (!Number.isInteger(n) || n < 0 || n > 128) throw new Error(`TableRoutes: bad prefix length in ${text}`);
  return [text.slice(0, slash), n];
}
