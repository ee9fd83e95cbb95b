/**
 * buildGateway: assemble a Gateway from the same inputs as `ctnat replay` (interfaces, routes, sysctls,
 * rulesets as iptables-save text), wiring the real parts together: conntrack, NAT, the rules engine and
 * the local stack. Pure: texts and records in, objects out.
 */

import { ctConfigFromSysctl } from "../conntrack/config.js";
import { Conntrack } from "../conntrack/conntrack.js";
import { listEntries } from "../conntrack/format.js";
import type { IfaceView, TargetEnv } from "../core/env.js";
import type { NatRange } from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import { Reassembler } from "../defrag/reassembler.js";
import { IFA_F, NatInterfaces } from "../nat/iface.js";
import { Nat } from "../nat/nat.js";
import { masquerade, redirect } from "../nat/targets.js";
import { ADDRTYPE, type AddrTypeView } from "../rules/env.js";
import { parseIpsets } from "../rules/ipset/parse.js";
import { emptyRuleset, loadRuleset, type Ruleset } from "../rules/ruleset.js";
import type { RuleTracer } from "../rules/table.js";
import { RuleEnv } from "../rules/types.js";
import { XtState } from "../rules/xt-state.js";
import { stackConfigFromSysctls } from "../stack/config.js";
import { Stack } from "../stack/stack.js";
import { DstClass, Fib } from "./fib.js";
import { Gateway } from "./gateway.js";
import { type NetIface, type NetRoute, RouteType } from "./netconf.js";
import type { GatewaySink, RulesPort } from "./ports.js";
import { FibRoutes } from "./stack-routes.js";
import { type Sysctls, sysctlInt } from "./sysctl.js";
import { type PacketTrace, PathTracer } from "./trace.js";

export interface GatewayConfig {
  ifaces: NetIface[];
  routes4: NetRoute[];
  routes6: NetRoute[];
  /** sysctls; `null` means "no file": Linux defaults with forwarding on */
  sysctl: Sysctls | null;
  rules4: { text: string; file: string } | null;
  rules6: { text: string; file: string } | null;
  /** the IP sets the rules name (`ipset save` text), shared by both families; absent: none */
  ipsets?: { text: string; file: string } | null;
  /** seed of every random choice (NAT ports, statistic random, hash seeds) */
  seed: number;
  sink: GatewaySink;
}

/** A seeded xorshift128+-style generator (deterministic replays). */
export class SeededRandom {
  private a: number;
  private b: number;
  constructor(seed: number) {
    this.a = (seed ^ 0x9e3779b9) | 1;
    this.b = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) | 1;
  }
  randomU32(): number {
    let x = this.a;
    const y = this.b;
    this.a = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    this.b = x;
    return (x + y) >>> 0;
  }
}

/** GatewayInstance: a built gateway and its parts. */
export class GatewayInstance {
  readonly gateway: Gateway;
  readonly conntrack: Conntrack;
  readonly nat: Nat;
  readonly rules4: Ruleset;
  readonly rules6: Ruleset;
  readonly fib: Fib;
  /** LOG / NFLOG lines the rules produced, if a log sink is set */
  onLog: ((skb: Skb, kind: string, prefix: string) => void) | null = null;
  private readonly ports: readonly RulesetPort[];

  constructor(parts: {
    gateway: Gateway;
    conntrack: Conntrack;
    nat: Nat;
    rules4: Ruleset;
    rules6: Ruleset;
    fib: Fib;
    ports: readonly RulesetPort[];
  }) {
    this.gateway = parts.gateway;
    this.ports = parts.ports;
    this.conntrack = parts.conntrack;
    this.nat = parts.nat;
    this.rules4 = parts.rules4;
    this.rules6 = parts.rules6;
    this.fib = parts.fib;
  }

  /** the rules' tracer (set with setTracer) */
  get ruleTracer(): RuleTracer | null {
    return this.ports[0]!.tracer;
  }

  /** setTracer: trace every packet's path (null: off, at no cost) */
  setTracer(t: PathTracer | null): void {
    this.gateway.tracer = t;
    for (const p of this.ports) p.tracer = t;
    this.onLog = t === null ? null : (skb, kind, prefix) => t.log(skb, kind, prefix);
  }

  /** newTracer: a PathTracer over this gateway's parts, calling `onTrace` with every finished trace */
  newTracer(onTrace: (t: PacketTrace) => void): PathTracer {
    const names = new Map<number, string>();
    for (const f of this.fib.ifaces) names.set(f.ifindex, f.name);
    return new PathTracer(this.conntrack, this.nat, (i) => names.get(i) ?? (i < 0 ? "-" : `if${i}`), onTrace);
  }

  /** conntrackList: `conntrack -L` of the table at `at` (seconds), IPv4 entries then IPv6, one per line */
  conntrackList(at: number): string {
    this.gateway.advance(at);
    this.conntrack.gcAll(at);
    const lines = listEntries(this.conntrack, at);
    return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  }

  /** saveCounters: `iptables-save -c` (4) or `ip6tables-save -c` (6) of the ruleset as it is now */
  saveCounters(family: 4 | 6): string {
    return (family === 4 ? this.rules4 : this.rules6).save({ counters: true });
  }
}

/**
 * RulesetPort: a loaded Ruleset as the gateway's RulesPort (one class, so that the gateway's calls stay
 * monomorphic). Hot path: run() must not allocate.
 */
class RulesetPort implements RulesPort {
  private readonly rs: Ruleset;
  private readonly env: RuleEnv;
  /** the rules' tracer, null when tracing is off */
  tracer: RuleTracer | null = null;
  constructor(rs: Ruleset, env: RuleEnv) {
    this.rs = rs;
    this.env = env;
  }
  active(table: number, hook: number): boolean {
    return this.rs.hasChain(table, hook);
  }
  run(table: number, hook: number, skb: Skb): number {
    const env = this.env;
    env.hotdrop = false;
    return this.rs.run(table, hook, skb, env, this.tracer);
  }
}

class IfaceNames implements IfaceView {
  private readonly names: string[] = [];
  private readonly byName = new Map<string, number>();
  constructor(ifaces: readonly NetIface[]) {
    for (const f of ifaces) {
      this.names[f.ifindex] = f.name;
      this.byName.set(f.name, f.ifindex);
    }
  }
  name(ifindex: number): string {
    return ifindex < 0 ? "" : (this.names[ifindex] ?? "");
  }
  index(name: string): number {
    return this.byName.get(name) ?? -1;
  }
}

/** addrtype over the gateway's routing (Linux inet_dev_addr_type / the IPv6 route lookup of xt_addrtype) */
class FibAddrType implements AddrTypeView {
  private readonly fib: Fib;
  constructor(fib: Fib) {
    this.fib = fib;
  }
  addrType(family: number, addr: Int32Array, _ifindex: number): number {
    const fib = this.fib;
    if (family === 4) {
      const a = addr[0];
      if (a === 0) return ADDRTYPE.BROADCAST; // Linux: 0.0.0.0 classifies as RTN_BROADCAST (zeronet)
      switch (fib.classify4(a)) {
        case DstClass.Local:
          return ADDRTYPE.LOCAL;
        case DstClass.Broadcast:
          return ADDRTYPE.BROADCAST;
        case DstClass.Multicast:
        case DstClass.MulticastOther:
          return ADDRTYPE.MULTICAST;
      }
      const r = fib.lookup4(a);
      return r < 0 ? ADDRTYPE.UNREACHABLE : routeTypeBits(fib.route(4, r).type);
    }
    if (addr[0] >>> 24 === 0xff) return ADDRTYPE.MULTICAST;
    if (fib.isLocal6(addr)) return ADDRTYPE.LOCAL | ADDRTYPE.UNICAST;
    const r = fib.lookup6(addr);
    return r < 0 ? ADDRTYPE.UNREACHABLE : routeTypeBits(fib.route(6, r).type);
  }
}

function routeTypeBits(t: number): number {
  switch (t) {
    case RouteType.Blackhole:
      return ADDRTYPE.BLACKHOLE;
    case RouteType.Unreachable:
      return ADDRTYPE.UNREACHABLE;
    case RouteType.Prohibit:
      return ADDRTYPE.PROHIBIT;
    case RouteType.Throw:
      return ADDRTYPE.THROW;
    default:
      return ADDRTYPE.UNICAST;
  }
}

/**
 * routeMtu: Linux dst_mtu of the route to the packet's destination, or with `reverse` to its source (the
 * lookup TCPMSS --clamp-mss-to-pmtu makes): the route's mtu metric, else its device's MTU, at most
 * IP_MAX_MTU (0xfff0) for IPv4; a local address routes through the loopback device; 0xffffffff when
 * there is no usable route.
 */
function routeMtu(fib: Fib, skb: Skb, reverse: boolean): number {
  const pi = skb.pi;
  const v4 = pi.family === 4;
  const a = reverse ? pi.src : pi.dst;
  const max = v4 ? 0xfff0 : 0xffff;
  if (v4 ? fib.isLocal4(a[0]) : fib.isLocal6(a)) {
    for (const f of fib.ifaces) if (f.loopback) return Math.min(f.mtu, max);
    return max;
  }
  const r = v4 ? fib.lookup4(a[0]) : fib.lookup6(a);
  if (r < 0) return 0xffffffff;
  const route = fib.route(pi.family, r);
  const oif = fib.oif(pi.family, r);
  if (route.type !== RouteType.Unicast || oif < 0) return 0xffffffff;
  if (route.mtu > 0) return Math.min(route.mtu, max);
  for (const f of fib.ifaces) if (f.ifindex === oif) return Math.min(f.mtu, max);
  return 0xffffffff;
}

function natInterfaces(ifaces: readonly NetIface[]): NatInterfaces {
  const n = new NatInterfaces();
  for (const f of [...ifaces].sort((a, b) => a.ifindex - b.ifindex)) {
    n.add(f.ifindex, f.name);
    for (const a of f.addrs) {
      if (a.family === 4) {
        n.addV4(f.ifindex, a.local[0], a.prefixLen, a.scope, a.secondary ? IFA_F.SECONDARY : 0, a.address[0]);
      } else {
        const flags =
          (a.temporary ? IFA_F.TEMPORARY : 0) |
          (a.deprecated ? IFA_F.DEPRECATED : 0) |
          (a.tentative ? IFA_F.TENTATIVE : 0);
        n.addV6(f.ifindex, a.local, a.prefixLen, flags);
      }
    }
  }
  return n;
}

/**
 * Extensions whose kernel side registers connection tracking for their family (their checkentry calls
 * nf_ct_netns_get), and so does the nat table. Without any of them Linux does not track connections of
 * that family at all (and does not reassemble fragments for conntrack): the table stays empty.
 */
const CONNTRACK_USERS = new Set([
  "conntrack",
  "state",
  "connmark",
  "CONNMARK",
  "CT",
  "NOTRACK",
  "helper",
  "connbytes",
  "connlimit",
  "connlabel",
  "cluster",
  "CONNSECMARK",
  "SNAT",
  "DNAT",
  "MASQUERADE",
  "REDIRECT",
  "NETMAP",
]);

/**
 * sendRedirects: per ifindex, whether Linux would send ICMP redirects out of that interface
 * (IN_DEV_TX_REDIRECTS: net.ipv4.conf.all.send_redirects or the interface's own, both 1 by default).
 */
function sendRedirects(sysctl: Sysctls, ifaces: readonly NetIface[]): Uint8Array {
  let max = 0;
  for (const f of ifaces) max = Math.max(max, f.ifindex);
  const out = new Uint8Array(max + 1);
  const all = sysctlInt(sysctl, "net.ipv4.conf.all.send_redirects", 1) !== 0;
  for (const f of ifaces)
    out[f.ifindex] = all || sysctlInt(sysctl, `net.ipv4.conf.${f.name}.send_redirects`, 1) !== 0 ? 1 : 0;
  return out;
}

/** rulesetNeedsConntrack: whether loading this ruleset makes Linux track connections of its family. */
export function rulesetNeedsConntrack(rs: Ruleset): boolean {
  if (rs.tables[2] != null) return true; // the nat table registers NAT, which needs conntrack
  for (const t of rs.tables) {
    if (t == null) continue;
    for (const ms of t.matches) for (const m of ms) if (CONNTRACK_USERS.has(m.name)) return true;
    for (const tg of t.targets) if (tg !== null && CONNTRACK_USERS.has(tg.name)) return true;
  }
  return false;
}

export function buildGateway(cfg: GatewayConfig): GatewayInstance {
  const sysctl = cfg.sysctl ?? new Map<string, string>();
  const fileGiven = cfg.sysctl !== null;
  // one namespace: the IP sets and the recent / hashlimit tables are shared by both families
  const xt = new XtState(cfg.ipsets ? parseIpsets(cfg.ipsets.text, cfg.ipsets.file) : undefined);
  const rules4 = cfg.rules4
    ? loadRuleset(cfg.rules4.text, { file: cfg.rules4.file, family: 4, xt })
    : emptyRuleset(4, xt);
  const rules6 = cfg.rules6
    ? loadRuleset(cfg.rules6.text, { file: cfg.rules6.file, family: 6, xt })
    : emptyRuleset(6, xt);
  const fib = new Fib(cfg.ifaces, cfg.routes4, cfg.routes6);
  const rng = new SeededRandom(cfg.seed);
  const conntrack = new Conntrack({ config: ctConfigFromSysctl(sysctl), seed: cfg.seed });
  const nat = new Nat(conntrack, rng, { hashSeed: cfg.seed ^ 0x5eed });
  conntrack.setDestroyHook((ct) => nat.onDestroy(ct));
  conntrack.setCapacityHook(() => nat.ensureCapacity(2 * Math.max(conntrack.capacity(4), conntrack.capacity(6))));
  nat.ensureCapacity(2 * Math.max(conntrack.capacity(4), conntrack.capacity(6)));
  const natIfaces = natInterfaces(cfg.ifaces);
  const routes = new FibRoutes(fib, natIfaces);
  const stackConfig = stackConfigFromSysctls(sysctl);
  stackConfig.ipIdSeed = (cfg.seed * 7919 + 1) & 0xffff;
  stackConfig.flowLabelSeed = (cfg.seed * 0x9e3779b1) | 0;
  const stack = new Stack(stackConfig, routes);
  const ifaceNames = new IfaceNames(cfg.ifaces);

  let gateway: Gateway | null = null;
  let instance: GatewayInstance | null = null;
  const targetEnv: TargetEnv = {
    natSetup: (skb: Skb, range: NatRange, manip: number) => nat.natSetup(skb, range, manip),
    masquerade: (skb: Skb, range: NatRange) => masquerade(nat, natIfaces, skb, range),
    redirect: (skb: Skb, range: NatRange) => redirect(nat, natIfaces, skb, range),
    reject: (skb: Skb, withType: number) => gateway?.rejectCurrent(skb, withType),
    log: (skb: Skb, kind: "LOG" | "NFLOG", prefix: string) => instance?.onLog?.(skb, kind, prefix),
    randomU32: () => rng.randomU32(),
    routeMtu: (skb: Skb, reverse: boolean) => routeMtu(fib, skb, reverse),
  };
  const env = new RuleEnv(conntrack, ifaceNames, new FibAddrType(fib), targetEnv);
  const port4 = new RulesetPort(rules4, env);
  const port6 = new RulesetPort(rules6, env);
  gateway = new Gateway({
    fib,
    conntrack,
    nat,
    rules4: port4,
    rules6: port6,
    stack,
    routes,
    sink: cfg.sink,
    options: {
      reassembler: new Reassembler({
        ipv4HighThresh: sysctlInt(sysctl, "net.ipv4.ipfrag_high_thresh", 4 * 1024 * 1024),
        ipv4LowThresh: sysctlInt(sysctl, "net.ipv4.ipfrag_low_thresh", 3 * 1024 * 1024),
        ipv4TimeSec: sysctlInt(sysctl, "net.ipv4.ipfrag_time", 30),
        ipv4MaxDist: sysctlInt(sysctl, "net.ipv4.ipfrag_max_dist", 64),
        ipv6HighThresh: sysctlInt(sysctl, "net.netfilter.nf_conntrack_frag6_high_thresh", 4 * 1024 * 1024),
        ipv6LowThresh: sysctlInt(sysctl, "net.netfilter.nf_conntrack_frag6_low_thresh", 3 * 1024 * 1024),
        ipv6TimeSec: sysctlInt(sysctl, "net.netfilter.nf_conntrack_frag6_timeout", 60),
        seed: cfg.seed,
      }),
      fragIdSeed: rng.randomU32() | 0,
      track4: rulesetNeedsConntrack(rules4),
      track6: rulesetNeedsConntrack(rules6),
      ipForward: fileGiven ? sysctlInt(sysctl, "net.ipv4.ip_forward", 0) !== 0 : true,
      sendRedirects: sendRedirects(sysctl, cfg.ifaces),
      ip6Forward: fileGiven ? sysctlInt(sysctl, "net.ipv6.conf.all.forwarding", 0) !== 0 : true,
    },
  });
  instance = new GatewayInstance({ gateway, conntrack, nat, rules4, rules6, fib, ports: [port4, port6] });
  return instance;
}
