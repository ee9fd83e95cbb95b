/**
 * MiniGw: just enough of a two-interface gateway to run a kernel recording through ctnat's NAT in a test:
 * a fake connection table (tuples only, no protocol state), PREROUTING and POSTROUTING NAT hooks with a
 * nat table written as a function, a routing decision by subnet, confirm with Linux's clash drop, and
 * the TTL / hop-limit decrement of forwarding. Test code only.
 */
import { CtInfo, Dir, Hook, IPPROTO, Verdict } from "../../core/netfilter.js";
import { Skb } from "../../core/skb.js";
import { Tuple } from "../../core/tuple.js";
import { type NatInterfaces, parseIpv4, parseIpv6 } from "../iface.js";
import { Nat } from "../nat.js";
import { formatAddr, invertTuple } from "../tuple-ops.js";
import { FakeConntrack, SeqRandom } from "./fake-conntrack.js";
import { forwardDecrement, info } from "./packets.js";

export type NatTable = (gw: MiniGw, skb: Skb, hook: number) => number;

/**
 * steerNat: make NAT's random port / id choices those of a recorded conntrack table (`conntrack -L`
 * lines): for an entry whose original tuple is listed, the value its reply tuple shows is tried first.
 */
export function steerNat(
  nat: Nat,
  ct: { tuple(ct: number, dir: number, out: Tuple): void },
  conntrackText: string,
): void {
  const want = new Map<string, number>();
  for (const line of conntrackText.split("\n")) {
    const kv = [...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]] as const);
    const srcIdx = kv.findIndex(([k], i) => k === "src" && i > 0);
    if (srcIdx < 0) continue;
    const orig = kv.slice(0, srcIdx);
    const reply = kv.slice(srcIdx);
    const get = (t: (readonly [string, string])[], k: string) => t.find(([x]) => x === k)?.[1];
    const proto = line.trim().split(/\s+/)[1];
    const key = `${proto}|${get(orig, "src")}|${get(orig, "sport") ?? get(orig, "id")}|${get(orig, "dst")}|${get(orig, "dport") ?? ""}`;
    const v = get(reply, "dport") ?? get(reply, "id");
    if (v !== undefined) want.set(key, Number(v));
  }
  const t = new Tuple();
  nat.portHint = (c) => {
    ct.tuple(c, Dir.Original, t);
    const icmp = t.proto === IPPROTO.ICMP || t.proto === IPPROTO.ICMPV6;
    const key = `${t.proto}|${formatAddr(t.family, t.src)}|${t.srcPort}|${formatAddr(t.family, t.dst)}|${icmp ? "" : t.dstPort}`;
    return want.get(key) ?? -1;
  };
}

export interface Forwarded {
  outIf: number;
  ip: Uint8Array;
  time: number;
}

function tupleOfInfo(pi: Skb["pi"], out: Tuple): Tuple {
  out.family = pi.family;
  out.proto = pi.proto;
  out.src.set(pi.src);
  out.dst.set(pi.dst);
  if (pi.proto === IPPROTO.ICMP || pi.proto === IPPROTO.ICMPV6) {
    out.srcPort = pi.icmpId;
    out.dstPort = (pi.icmpType << 8) | pi.icmpCode;
  } else if (pi.proto === IPPROTO.TCP || pi.proto === IPPROTO.UDP || pi.proto === IPPROTO.UDPLITE) {
    out.srcPort = pi.srcPort;
    out.dstPort = pi.dstPort;
  } else {
    out.srcPort = 0;
    out.dstPort = 0;
  }
  return out;
}

export class MiniGw {
  readonly ct = new FakeConntrack();
  nat: Nat;
  readonly ifaces: NatInterfaces;
  readonly table: NatTable;
  /** drop packets without a connection (ctstate INVALID) instead of forwarding them */
  dropInvalid = false;
  /** routes from `ip -j route` / `ip -j -6 route` (longest prefix wins; connected prefixes come first) */
  readonly routes: { family: number; net: Int32Array; plen: number; gw: Int32Array | null; ifindex: number }[] = [];

  /** addRoutes: routes as `ip -j route` prints them (dst "default" or prefix, optional gateway, dev) */
  addRoutes(family: 4 | 6, json: { dst: string; gateway?: string; dev: string }[]): void {
    for (const r of json) {
      const f = this.ifaces.byName(r.dev);
      if (f === undefined) continue;
      let net: Int32Array = new Int32Array(4);
      let plen = 0;
      if (r.dst !== "default") {
        const [a, l] = r.dst.split("/");
        plen = l === undefined ? (family === 4 ? 32 : 128) : Number(l);
        if (family === 4) net[0] = parseIpv4(a);
        else net = parseIpv6(a);
      }
      const gw =
        r.gateway === undefined
          ? null
          : family === 4
            ? Int32Array.of(parseIpv4(r.gateway), 0, 0, 0)
            : parseIpv6(r.gateway);
      this.routes.push({ family, net, plen, gw, ifindex: f.ifindex });
    }
  }
  /** interface index -> list of [network words, prefix length, family] it reaches */
  constructor(ifaces: NatInterfaces, table: NatTable, seed = 1) {
    this.ifaces = ifaces;
    this.table = table;
    this.nat = new Nat(this.ct, new SeqRandom(seed));
    this.ct.onDestroy = (c) => this.nat.onDestroy(c);
  }

  /** steer: see steerNat; the hint reads this gateway's fake table */
  steer(conntrackText: string): void {
    steerNat(this.nat, this.ct, conntrackText);
  }

  ifindex(name: string): number {
    const f = this.ifaces.byName(name);
    if (f === undefined) throw new Error(`no interface ${name}`);
    return f.ifindex;
  }

  /** the interface whose connected prefix holds `dst`, -1 if none; -2 if `dst` is the gateway's own */
  route(family: number, dst: Int32Array): number {
    for (const f of this.ifaces.list) {
      if (family === 4) {
        for (const a of f.v4) if (a.local === dst[0]) return -2;
      } else {
        for (const a of f.v6) if (a.addr.every((w, i) => w === dst[i])) return -2;
      }
    }
    for (const f of this.ifaces.list) {
      if (family === 4) {
        for (const a of f.v4) {
          const m = a.prefixLen === 0 ? 0 : (-1 << (32 - a.prefixLen)) | 0;
          if (a.scope === 0 && ((a.local ^ dst[0]) & m) === 0) return f.ifindex;
        }
      } else {
        for (const a of f.v6) {
          if (a.addr[0] >>> 16 === 0xfe80) continue;
          let ok = true;
          for (let i = 0, left = a.prefixLen; i < 4 && left > 0; i++, left -= 32) {
            const m = left >= 32 ? -1 : (-1 << (32 - left)) | 0;
            if (((a.addr[i] ^ dst[i]) & m) !== 0) ok = false;
          }
          if (ok) return f.ifindex;
        }
      }
    }
    return -1;
  }

  private readonly t = new Tuple();
  private readonly t2 = new Tuple();

  /** one packet in: returns what leaves (after NAT and the forwarding decrement), or null */
  process(ip: Uint8Array, inIf: number, time: number): Forwarded | null {
    const b = ip.slice();
    const skb = new Skb();
    info(b, skb.pi);
    skb.inIf = inIf;
    const pi = skb.pi;
    let isNew = false;
    if (pi.icmpIsError && pi.inner !== null) {
      tupleOfInfo(pi.inner, this.t2);
      invertTuple(this.t, this.t2);
      const h = this.ct.findTuple(this.t);
      if (h >= 0) {
        skb.ct = h;
        skb.ctInfo = this.ct.foundDir === Dir.Reply ? CtInfo.RelatedReply : CtInfo.Related;
      } else if (this.dropInvalid) {
        return null;
      }
    } else {
      tupleOfInfo(pi, this.t);
      const h = this.ct.findTuple(this.t);
      if (h >= 0) {
        skb.ct = h;
        skb.ctInfo = this.ct.foundDir === Dir.Reply ? CtInfo.EstablishedReply : CtInfo.Established;
      } else {
        skb.ct = this.ct.create(this.t, pi.proto === IPPROTO.TCP ? 1 : 0, pi.proto === IPPROTO.TCP ? 1 : 0);
        skb.ctInfo = CtInfo.New;
        isNew = true;
      }
    }
    const run = (s: Skb, hook: number): number => this.table(this, s, hook);
    skb.hook = Hook.Prerouting;
    if (this.nat.hook(skb, Hook.Prerouting, run) !== Verdict.Accept) return this.drop(skb, isNew);
    let outIf = this.route(pi.family, pi.dst);
    if (outIf === -2) return this.drop(skb, isNew); // local delivery: not modelled
    skb.nextHop.fill(0);
    let best = -1;
    for (const r of this.routes) {
      if (r.family !== pi.family || r.plen < best) continue;
      let ok = true;
      for (let i = 0, left = r.plen; i < 4 && left > 0; i++, left -= 32) {
        const m = left >= 32 ? -1 : (-1 << (32 - left)) | 0;
        if (((r.net[i] ^ pi.dst[i]) & m) !== 0) ok = false;
      }
      if (!ok) continue;
      best = r.plen;
      outIf = r.ifindex;
      if (r.gw !== null) skb.nextHop.set(r.gw);
      else skb.nextHop.fill(0);
    }
    if (outIf < 0) return this.drop(skb, isNew);
    skb.outIf = outIf;
    skb.hook = Hook.Postrouting;
    if (this.nat.hook(skb, Hook.Postrouting, run) !== Verdict.Accept) return this.drop(skb, isNew);
    if (isNew && !this.ct.confirm(skb.ct)) return null;
    forwardDecrement(b);
    return { outIf, ip: b, time };
  }

  private drop(skb: Skb, isNew: boolean): null {
    if (isNew) this.ct.destroy(skb.ct);
    return null;
  }
}
