/**
 * Fib: the gateway's routing decision (Linux fib_lookup over the local and main tables, reduced to
 * what a single-table gateway needs): is a destination one of ours (local / broadcast / a joined
 * multicast group), and otherwise which route forwards it (longest prefix, then lowest metric).
 *
 * Built once from NetIface / NetRoute records (slow path); lookups allocate nothing and return an
 * index into `routes` (or -1) so that callers read the route's fields.
 */
import { type NetIface, type NetRoute, RouteType } from "./netconf.js";

/** Destination classes (Linux RTN_*). */
export const DstClass = {
  Unicast: 0,
  Local: 1,
  Broadcast: 2,
  Multicast: 3,
  /** multicast group nobody joined: dropped on input */
  MulticastOther: 4,
} as const;

function mask4(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) | 0;
}

function prefixMatch6(a: ArrayLike<number>, b: ArrayLike<number>, len: number): boolean {
  for (let w = 0; w < 4 && len > 0; w++, len -= 32) {
    const m = len >= 32 ? -1 : mask4(len);
    if (((a[w] ^ b[w]) & m) !== 0) return false;
  }
  return true;
}

export class Fib {
  readonly ifaces: readonly NetIface[];
  /** every route, connected routes derived from the addresses first; sorted for lookup */
  readonly routes4: NetRoute[] = [];
  readonly routes6: NetRoute[] = [];
  /** route -> output ifindex (-1 none) */
  private readonly oif4: Int32Array;
  private readonly oif6: Int32Array;
  /** IPv4 local addresses and broadcast addresses */
  private readonly local4 = new Set<number>();
  private readonly bcast4 = new Set<number>();
  private readonly local4a: Int32Array;
  private readonly bcast4a: Int32Array;
  /** IPv6 local addresses (flattened 4 words each) */
  private readonly local6: Int32Array;
  /** routes4 flattened for lookup4: destination word and prefix mask per route */
  private readonly dst4: Int32Array;
  private readonly pmask4: Int32Array;
  /** per route, family 4 at [route] and family 6 at [ROUTE6 + route]: type, mtu, gateway (4 words), has gateway */
  private readonly rtType: Uint8Array;
  private readonly rtMtu: Int32Array;
  private readonly rtGw: Int32Array;
  private readonly rtHasGw: Uint8Array;
  /** index of the first IPv6 route in the rt* arrays */
  private readonly rt6: number;
  private readonly ifByName = new Map<string, NetIface>();

  constructor(ifaces: readonly NetIface[], routes4: readonly NetRoute[], routes6: readonly NetRoute[]) {
    this.ifaces = ifaces;
    for (const f of ifaces) this.ifByName.set(f.name, f);
    const l6: number[] = [];
    const connected4: NetRoute[] = [];
    const connected6: NetRoute[] = [];
    for (const f of ifaces) {
      for (const a of f.addrs) {
        if (a.family === 4) {
          this.local4.add(a.local[0]);
          if (f.loopback) {
            // the whole 127/8 (the address's prefix) is local on lo
            continue;
          }
          if (a.broadcast) this.bcast4.add(a.broadcast[0]);
          if (a.prefixLen < 32 && !a.noprefixroute) {
            const m = mask4(a.prefixLen);
            connected4.push(connectedRoute(4, a.address[0] & m, a.prefixLen, f.name, a.local));
          }
        } else {
          l6.push(a.local[0], a.local[1], a.local[2], a.local[3]);
          if (!f.loopback && a.prefixLen < 128 && !a.noprefixroute) {
            const d = new Int32Array(4);
            let len = a.prefixLen;
            for (let w = 0; w < 4; w++, len -= 32)
              d[w] = len >= 32 ? a.local[w] : len <= 0 ? 0 : a.local[w] & mask4(len);
            connected6.push({ ...connectedRoute(6, 0, a.prefixLen, f.name, null), dst: d, metric: 256 });
          }
        }
      }
    }
    this.local6 = Int32Array.from(l6);
    this.local4.add(0x7f000001);
    this.bcast4.add(-1); // 255.255.255.255
    this.local4a = Int32Array.from(this.local4);
    this.bcast4a = Int32Array.from(this.bcast4);
    // Explicit routes win over derived connected ones with the same prefix and metric (they are the same route).
    this.routes4 = sortRoutes([
      ...routes4.filter((r) => r.type !== RouteType.Local && r.type !== RouteType.Broadcast),
      ...connected4,
    ]);
    this.routes6 = sortRoutes([
      ...routes6.filter((r) => r.type !== RouteType.Local && r.type !== RouteType.Multicast),
      ...connected6,
    ]);
    this.oif4 = Int32Array.from(this.routes4.map((r) => this.ifByName.get(r.dev)?.ifindex ?? -1));
    this.oif6 = Int32Array.from(this.routes6.map((r) => this.ifByName.get(r.dev)?.ifindex ?? -1));
    this.dst4 = Int32Array.from(this.routes4.map((r) => r.dst[0] & mask4(r.prefixLen)));
    this.pmask4 = Int32Array.from(this.routes4.map((r) => mask4(r.prefixLen)));
    const all = [...this.routes4, ...this.routes6];
    this.rt6 = this.routes4.length;
    this.rtType = Uint8Array.from(all.map((r) => r.type));
    this.rtMtu = Int32Array.from(all.map((r) => r.mtu));
    this.rtHasGw = Uint8Array.from(all.map((r) => (r.gateway !== null ? 1 : 0)));
    this.rtGw = new Int32Array(4 * all.length);
    all.forEach((r, i) => {
      if (r.gateway !== null) this.rtGw.set(r.gateway.subarray(0, 4), 4 * i);
    });
  }

  /** classify4: what an IPv4 destination (int32) is to this host (DstClass). */
  classify4(dst: number): number {
    if (dst >>> 24 === 127 || has4(this.local4a, dst)) return DstClass.Local;
    if (has4(this.bcast4a, dst)) return DstClass.Broadcast;
    if (dst >>> 28 === 0xe) return dst === (0xe0000001 | 0) ? DstClass.Multicast : DstClass.MulticastOther;
    return DstClass.Unicast;
  }

  /** isLocal4: true when the address is one of the host's own (not broadcast). */
  isLocal4(a: number): boolean {
    return a >>> 24 === 127 || has4(this.local4a, a);
  }

  /** classify6: what an IPv6 destination is to this host (DstClass). */
  classify6(dst: Int32Array): number {
    if (this.isLocal6(dst)) return DstClass.Local;
    if (dst[0] >>> 24 === 0xff) {
      // all-nodes ff0x::1, all-routers ff0x::2 (a forwarding host joins it) and our solicited-node groups
      if (dst[1] === 0 && dst[2] === 0 && (dst[3] === 1 || dst[3] === 2)) return DstClass.Multicast;
      if (dst[1] === 0 && dst[2] === 1 && dst[3] >>> 24 === 0xff) {
        for (let i = 0; i < this.local6.length; i += 4) {
          if ((this.local6[i + 3] & 0xffffff) === (dst[3] & 0xffffff)) return DstClass.Multicast;
        }
      }
      return DstClass.MulticastOther;
    }
    return DstClass.Unicast;
  }

  /** isLocal6: true for one of the host's IPv6 addresses or ::1. */
  isLocal6(a: ArrayLike<number>): boolean {
    if (a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] === 1) return true;
    const l = this.local6;
    for (let i = 0; i < l.length; i += 4) {
      if (l[i] === a[0] && l[i + 1] === a[1] && l[i + 2] === a[2] && l[i + 3] === a[3]) return true;
    }
    return false;
  }

  /** lookup4: the best route for an IPv4 destination, as an index into routes4, or -1 (no route). */
  lookup4(dst: number): number {
    const d = this.dst4;
    const m = this.pmask4;
    for (let i = 0; i < d.length; i++) if ((dst & m[i]) === d[i]) return i;
    return -1;
  }

  /** lookup6: the best route for an IPv6 destination, as an index into routes6, or -1. */
  lookup6(dst: ArrayLike<number>): number {
    const r = this.routes6;
    for (let i = 0; i < r.length; i++) if (prefixMatch6(r[i].dst, dst, r[i].prefixLen)) return i;
    return -1;
  }

  /** output interface of a route (ifindex, -1 none) */
  oif(family: number, route: number): number {
    return family === 4 ? this.oif4[route] : this.oif6[route];
  }

  /** routeType: the RouteType of route `r` of the family's list */
  routeType(family: number, r: number): number {
    return this.rtType[family === 4 ? r : this.rt6 + r];
  }

  /** routeMtu: the route's `mtu` metric, 0 when not set */
  routeMtu(family: number, r: number): number {
    return this.rtMtu[family === 4 ? r : this.rt6 + r];
  }

  /** hasGateway: the route goes through a gateway (not a directly connected one) */
  hasGateway(family: number, r: number): boolean {
    return this.rtHasGw[family === 4 ? r : this.rt6 + r] !== 0;
  }

  /** nextHop: the route's gateway into `out` (four words), or `dst` when the destination is on-link */
  nextHop(family: number, r: number, dst: Int32Array, out: Int32Array): void {
    const i = family === 4 ? r : this.rt6 + r;
    if (this.rtHasGw[i] !== 0) {
      const g = this.rtGw;
      const o = 4 * i;
      out[0] = g[o];
      out[1] = g[o + 1];
      out[2] = g[o + 2];
      out[3] = g[o + 3];
    } else {
      out[0] = dst[0];
      out[1] = dst[1];
      out[2] = dst[2];
      out[3] = dst[3];
    }
  }

  route(family: number, i: number): NetRoute {
    return family === 4 ? this.routes4[i] : this.routes6[i];
  }

  iface(name: string): NetIface | undefined {
    return this.ifByName.get(name);
  }
}

function connectedRoute(
  family: 4 | 6,
  dst4: number,
  prefixLen: number,
  dev: string,
  prefsrc: Int32Array | null,
): NetRoute {
  const dst = new Int32Array(4);
  dst[0] = dst4;
  return {
    family,
    type: RouteType.Unicast,
    dst,
    prefixLen,
    gateway: null,
    dev,
    prefsrc,
    metric: 0,
    mtu: 0,
    hopLimit: 0,
  };
}

function sortRoutes(rs: NetRoute[]): NetRoute[] {
  // longest prefix first, then lowest metric; stable for equal keys (explicit routes were listed first)
  return rs
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.prefixLen - a.r.prefixLen || a.r.metric - b.r.metric || a.i - b.i)
    .map((x) => x.r);
}

function has4(set: Int32Array, a: number): boolean {
  for (let i = 0; i < set.length; i++) if (set[i] === a) return true;
  return false;
}
