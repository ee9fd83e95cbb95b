/**
 * The embedding API: a Linux gateway (conntrack, NAT, iptables) as an object. Build it from the same
 * inputs as `ctnat replay` (iptables-save text, `ip -j addr` / `ip -j route` JSON, sysctl text) or from
 * plain objects, hand it IP packets with the interface they arrive on and the time, and get back what it
 * sends and where. Its connection table and rule counters are readable in the kernel's formats.
 *
 *     const gw = createGateway({
 *       rules: "*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n",
 *       interfaces: [
 *         { name: "lan0", addresses: ["192.168.1.1/24"] },
 *         { name: "wan0", addresses: ["203.0.113.7/24"] },
 *       ],
 *       routes: [{ dst: "default", via: "203.0.113.1", dev: "wan0" }],
 *     });
 *     const sent = gw.receive("lan0", packet, 1700000000.25); // [{ iface: "wan0", packet: Uint8Array }]
 *     gw.conntrack();   // conntrack -L lines
 *     gw.counters(4);   // iptables-save -c text
 *
 * `receive` returns copies (convenient); `onTransmit` streams without copying (fast). Time is always
 * the caller's: the gateway never reads a clock. Pure TypeScript: runs in browsers too.
 */

import { formatEvent, formatStats, protoName } from "../conntrack/format.js";
import { TCP_STATE_NAMES } from "../conntrack/tcp-states.js";
import { InputError } from "../core/errors.js";
import { IPS, Manip, type NatRange } from "../core/netfilter.js";
import { Tuple } from "../core/tuple.js";
import { NatBinding } from "../nat/nat.js";
import { loadRuleset } from "../rules/ruleset.js";
import { formatAddr, parseAddrInto } from "../wire/addr.js";
import { formatPacket } from "../wire/format.js";
import { PacketInfo } from "../wire/packet-info.js";
import { parsePacket } from "../wire/parse.js";
import { buildGateway, type GatewayInstance, SeededRandom } from "./build.js";
import type { PacketBatch } from "./gateway.js";
import { type NetAddr, type NetIface, type NetRoute, parseIpAddrJson, parseIpRouteJson, RouteType } from "./netconf.js";
import type { GatewaySink } from "./ports.js";
import { parseSysctl, type Sysctls } from "./sysctl.js";
import { formatTraceText, type PacketTrace } from "./trace.js";

/** An interface given as an object. */
export interface InterfaceSpec {
  name: string;
  /** "10.0.0.1/24", "fd00::1/64" (the first of each family is the primary) */
  addresses?: string[];
  mtu?: number;
  /** link-layer address "02:00:00:00:00:01" (only used to tell frames for other hosts apart) */
  mac?: string;
  /** a loopback interface (never written to) */
  loopback?: boolean;
}

/** A route given as an object. */
export interface RouteSpec {
  /** "default", "10.0.0.0/8", "fd00::/64" */
  dst: string;
  /** next hop (absent: on-link) */
  via?: string;
  dev?: string;
  /** "unicast" (default), "blackhole", "unreachable", "prohibit" */
  type?: "unicast" | "blackhole" | "unreachable" | "prohibit";
  metric?: number;
  mtu?: number;
}

export interface GatewayOptions {
  /** IPv4 ruleset, as iptables-save prints it */
  rules?: string;
  /** IPv6 ruleset, as ip6tables-save prints it */
  rules6?: string;
  /** IP sets the rules name (`-m set`, `-j SET`), as `ipset save` prints them */
  ipsets?: string;
  /** interfaces as objects, or `ip -j addr` JSON text */
  interfaces: InterfaceSpec[] | string;
  /** routes as objects (both families), or `ip -j route` JSON text (IPv4) */
  routes?: RouteSpec[] | string;
  /** `ip -j -6 route` JSON text (when `routes` is text) */
  routes6?: string;
  /** sysctls: `sysctl -a` text, or key/value pairs. Absent: Linux defaults with forwarding on. */
  sysctl?: string | Record<string, string | number>;
  /** seed of every random choice (NAT ports on a clash, statistic --mode random) */
  seed?: number;
}

/** One direction of a connection. */
export interface Endpoints {
  src: string;
  dst: string;
  /** ports (ICMP: sport is the id, dport the type << 8 | code) */
  sport: number;
  dport: number;
}

/** A connection of the table, with what NAT did to it. */
export interface Connection {
  /** "tcp", "udp", "icmp", ... as conntrack prints them */
  proto: string;
  original: Endpoints;
  reply: Endpoints;
  /** TCP state ("ESTABLISHED", ...), "" for other protocols */
  state: string;
  /** seconds left */
  timeout: number;
  assured: boolean;
  unreplied: boolean;
  mark: number;
  /** source rewritten (SNAT, MASQUERADE) to this address and port */
  snat: { addr: string; port: number } | null;
  /** destination rewritten (DNAT, REDIRECT) to this address and port */
  dnat: { addr: string; port: number } | null;
  /** the `conntrack -L` line */
  line: string;
}

/** A packet the gateway sent. */
export interface SentPacket {
  /** interface it left through ("local" for packets delivered to the gateway itself) */
  iface: string;
  packet: Uint8Array;
}

const PROTO_NUMBERS: Readonly<Record<string, number>> = {
  tcp: 6,
  udp: 17,
  icmp: 1,
  icmpv6: 58,
  udplite: 136,
  sctp: 132,
  dccp: 33,
  gre: 47,
};

const NO_FLAGS = { secondary: false, deprecated: false, tentative: false, temporary: false, noprefixroute: false };

function ifacesFromSpecs(specs: InterfaceSpec[]): NetIface[] {
  const out: NetIface[] = [];
  const seen = new Set<string>();
  if (!specs.some((s) => s.loopback)) {
    out.push({
      ifindex: 1,
      name: "lo",
      mtu: 65536,
      up: true,
      loopback: true,
      linkType: "loopback",
      mac: null,
      addrs: [],
    });
  }
  specs.forEach((s, i) => {
    if (seen.has(s.name)) throw new InputError(`interfaces[${i}]: interface ${s.name} given twice`);
    seen.add(s.name);
    const addrs: NetAddr[] = (s.addresses ?? []).map((a, k) => {
      const slash = a.indexOf("/");
      const local = new Int32Array(4);
      const family = parseAddrInto(local, slash < 0 ? a : a.slice(0, slash));
      if (family === 0) throw new InputError(`interfaces[${i}].addresses[${k}]: not an address: ${JSON.stringify(a)}`);
      const max = family === 4 ? 32 : 128;
      const prefixLen = slash < 0 ? max : Number(a.slice(slash + 1));
      if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) {
        throw new InputError(`interfaces[${i}].addresses[${k}]: bad prefix length in ${JSON.stringify(a)}`);
      }
      let broadcast: Int32Array | null = null;
      if (family === 4 && prefixLen < 31) {
        broadcast = new Int32Array(4);
        broadcast[0] = local[0] | (prefixLen === 0 ? -1 : (1 << (32 - prefixLen)) - 1);
      }
      const secondary = s.addresses!.slice(0, k).some((b) => b.includes(":") === a.includes(":"));
      return {
        family: family as 4 | 6,
        local,
        address: local,
        prefixLen,
        broadcast,
        scope: s.loopback ? 254 : 0,
        ...NO_FLAGS,
        secondary,
      };
    });
    let mac: Uint8Array | null = null;
    if (s.mac !== undefined) {
      const parts = s.mac.split(":");
      if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
        throw new InputError(`interfaces[${i}].mac: not a MAC address: ${JSON.stringify(s.mac)}`);
      }
      mac = Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
    }
    out.push({
      ifindex: out.length + 1,
      name: s.name,
      mtu: s.mtu ?? (s.loopback ? 65536 : 1500),
      up: true,
      loopback: s.loopback ?? false,
      linkType: s.loopback ? "loopback" : "ether",
      mac,
      addrs,
    });
  });
  return out;
}

function routesFromSpecs(specs: RouteSpec[]): { v4: NetRoute[]; v6: NetRoute[] } {
  const v4: NetRoute[] = [];
  const v6: NetRoute[] = [];
  const types = {
    unicast: RouteType.Unicast,
    blackhole: RouteType.Blackhole,
    unreachable: RouteType.Unreachable,
    prohibit: RouteType.Prohibit,
  };
  specs.forEach((r, i) => {
    const dst = new Int32Array(4);
    let family: number;
    let prefixLen: number;
    if (r.dst === "default" || r.dst === "default6") {
      family = r.dst === "default6" || (r.via?.includes(":") ?? false) ? 6 : 4;
      prefixLen = 0;
    } else {
      const slash = r.dst.indexOf("/");
      family = parseAddrInto(dst, slash < 0 ? r.dst : r.dst.slice(0, slash));
      if (family === 0) throw new InputError(`routes[${i}].dst: not an address or "default": ${JSON.stringify(r.dst)}`);
      prefixLen = slash < 0 ? (family === 4 ? 32 : 128) : Number(r.dst.slice(slash + 1));
    }
    let gateway: Int32Array | null = null;
    if (r.via !== undefined) {
      gateway = new Int32Array(4);
      if (parseAddrInto(gateway, r.via) !== family)
        throw new InputError(`routes[${i}].via: not an IPv${family} address: ${JSON.stringify(r.via)}`);
    }
    const route: NetRoute = {
      family: family as 4 | 6,
      type: types[r.type ?? "unicast"],
      dst,
      prefixLen,
      gateway,
      dev: r.dev ?? "",
      prefsrc: null,
      metric: r.metric ?? 0,
      mtu: r.mtu ?? 0,
      hopLimit: 0,
    };
    (family === 4 ? v4 : v6).push(route);
  });
  return { v4, v6 };
}

/**
 * FlowSpec: a flow as conntrack's tuple has it: protocol name or number, addresses, ports (ICMP: sport is
 * the identifier, dport type << 8 | code)
 */
export interface FlowSpec {
  proto: string | number;
  src: string;
  sport?: number;
  dst: string;
  dport?: number;
}

/** flowTuple: a tuple from a description of a flow (protocol name or number, addresses, ports) */
function flowTuple(flow: FlowSpec, who: string): Tuple {
  const t = new Tuple();
  const fam = parseAddrInto(t.src, flow.src);
  if (fam === 0 || parseAddrInto(t.dst, flow.dst) !== fam)
    throw new InputError(`${who}: bad addresses ${flow.src} -> ${flow.dst}`);
  const protoNum = typeof flow.proto === "number" ? flow.proto : PROTO_NUMBERS[flow.proto.toLowerCase()];
  if (protoNum === undefined) throw new InputError(`${who}: unknown protocol ${flow.proto}`);
  t.family = fam;
  t.proto = protoNum;
  t.srcPort = flow.sport ?? 0;
  t.dstPort = flow.dport ?? 0;
  return t;
}

/**
 * EmbeddedGateway: a gateway built by createGateway. Not thread-safe; one packet at a time.
 */
export class EmbeddedGateway {
  readonly instance: GatewayInstance;
  /** streaming output: called for every packet sent (the bytes are only valid during the call) */
  onTransmit: ((iface: string, buf: Uint8Array, off: number, len: number, now: number) => void) | null = null;
  /** streaming local delivery: packets that reached the gateway itself */
  onDeliver: ((iface: string, buf: Uint8Array, off: number, len: number, now: number) => void) | null = null;
  private readonly ifindexByName = new Map<string, number>();
  private readonly nameByIndex = new Map<number, string>();
  private collected: SentPacket[] | null = null;
  /** time of the last packet handed in (seconds) */
  private lastNow = 0;

  constructor(options: GatewayOptions) {
    const ifaces =
      typeof options.interfaces === "string"
        ? parseIpAddrJson(options.interfaces, "interfaces")
        : ifacesFromSpecs(options.interfaces);
    let routes4: NetRoute[] = [];
    let routes6: NetRoute[] = [];
    if (typeof options.routes === "string") routes4 = parseIpRouteJson(options.routes, 4, "routes");
    else if (options.routes) ({ v4: routes4, v6: routes6 } = routesFromSpecs(options.routes));
    if (options.routes6 !== undefined) routes6 = parseIpRouteJson(options.routes6, 6, "routes6");
    let sysctl: Sysctls | null = null;
    if (typeof options.sysctl === "string") sysctl = parseSysctl(options.sysctl, "sysctl");
    else if (options.sysctl) {
      sysctl = new Map(Object.entries(options.sysctl).map(([k, v]) => [k, String(v)]));
      if (!sysctl.has("net.ipv4.ip_forward")) sysctl.set("net.ipv4.ip_forward", "1");
      if (!sysctl.has("net.ipv6.conf.all.forwarding")) sysctl.set("net.ipv6.conf.all.forwarding", "1");
    }
    for (const f of ifaces) {
      this.ifindexByName.set(f.name, f.ifindex);
      this.nameByIndex.set(f.ifindex, f.name);
    }
    const sink: GatewaySink = {
      transmit: (ifindex, buf, off, len, now) => {
        const name = this.nameByIndex.get(ifindex) ?? `if${ifindex}`;
        if (this.collected !== null) this.collected.push({ iface: name, packet: buf.slice(off, off + len) });
        if (this.onTransmit !== null) this.onTransmit(name, buf, off, len, now);
      },
      deliver: (ifindex, buf, off, len, now) => {
        if (this.collected !== null) this.collected.push({ iface: "local", packet: buf.slice(off, off + len) });
        if (this.onDeliver !== null) this.onDeliver(this.nameByIndex.get(ifindex) ?? "", buf, off, len, now);
      },
    };
    this.instance = buildGateway({
      ifaces,
      routes4,
      routes6,
      sysctl,
      rules4: options.rules ? { text: options.rules, file: "rules" } : null,
      rules6: options.rules6 ? { text: options.rules6, file: "rules6" } : null,
      ipsets: options.ipsets ? { text: options.ipsets, file: "ipsets" } : null,
      seed: options.seed ?? 1,
      sink,
    });
  }

  /** ifindex: the index of an interface by name (@throws InputError when unknown) */
  ifindex(name: string): number {
    const i = this.ifindexByName.get(name);
    if (i === undefined)
      throw new InputError(`no interface ${name} (has ${[...this.ifindexByName.keys()].join(", ")})`);
    return i;
  }

  /**
   * receive: an IP packet (no link layer) arrives on `iface` at `now` (unix seconds). Returns what the
   * gateway sent because of it (forwarded, answered, or delivered locally as iface "local"), as copies.
   * The packet's bytes may be rewritten in place.
   */
  receive(iface: string, packet: Uint8Array, now: number): SentPacket[] {
    const out: SentPacket[] = [];
    this.collected = out;
    this.lastNow = now;
    try {
      this.instance.gateway.receive(this.ifindex(iface), packet, 0, packet.length, now);
    } finally {
      this.collected = null;
    }
    return out;
  }

  /** receiveStreaming: as receive, without collecting: outputs go to onTransmit / onDeliver only. */
  receiveStreaming(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void {
    this.lastNow = now;
    this.instance.gateway.receive(ifindex, buf, off, len, now);
  }

  /**
   * receiveBatch: the packets of `batch` (PacketBatch.add), as that many receiveStreaming calls, emptied
   * after; parsed ahead in groups so that their connection lookups' memory loads overlap (the fastest
   * way in: see bench/README.md).
   */
  receiveBatch(batch: PacketBatch): void {
    const n = batch.count;
    if (n > 0) this.lastNow = batch.now[n - 1]!;
    this.instance.gateway.receiveBatch(batch);
  }

  /** send: a packet the gateway itself originates (source address set), through OUTPUT and POSTROUTING. */
  send(packet: Uint8Array, now: number): SentPacket[] {
    const out: SentPacket[] = [];
    this.collected = out;
    this.lastNow = now;
    try {
      this.instance.gateway.send(packet, 0, packet.length, now);
    } finally {
      this.collected = null;
    }
    return out;
  }

  /** conntrack: the connection table as `conntrack -L` lines at `now` (default: the last packet's time) */
  conntrack(now?: number): string[] {
    const text = this.instance.conntrackList(now ?? this.lastNow);
    return text === "" ? [] : text.trimEnd().split("\n");
  }

  /** connections: the table at `now` (default: the last packet's time) as objects, with their NAT bindings */
  connections(now?: number): Connection[] {
    const at = now ?? this.lastNow;
    const inst = this.instance;
    const c = inst.conntrack;
    const lines = this.conntrack(at);
    const ids = c.entries(at);
    const b = new NatBinding();
    const t = new Tuple();
    const ep = (ct: number, dir: number): Endpoints => {
      c.tuple(ct, dir, t);
      return { src: formatAddr(t.src, t.family), dst: formatAddr(t.dst, t.family), sport: t.srcPort, dport: t.dstPort };
    };
    return ids.map((ct, i) => {
      inst.nat.bindings(ct, b);
      const st = c.status(ct);
      const fam = b.orig.family;
      const proto = protoName(c.l4proto(ct));
      return {
        proto,
        original: ep(ct, 0),
        reply: ep(ct, 1),
        state: proto === "tcp" ? TCP_STATE_NAMES[c.tcpState(ct)] : "",
        timeout: c.expiresIn(ct, at),
        assured: (st & IPS.ASSURED) !== 0,
        unreplied: (st & IPS.SEEN_REPLY) === 0,
        mark: c.mark(ct),
        snat: b.snat ? { addr: formatAddr(b.snatAddr, fam), port: b.snatPort } : null,
        dnat: b.dnat ? { addr: formatAddr(b.dnatAddr, fam), port: b.dnatPort } : null,
        line: lines[i] ?? "",
      };
    });
  }

  /**
   * queryNat: what a NEW connection would be mapped to by a NAT rule, given the table as it is now,
   * without changing anything (Linux's unique-tuple search: the original port kept when free, else the
   * search over the range; random choices from a throwaway generator). `to` is the rule's argument as
   * iptables takes it ("203.0.113.7", "203.0.113.7-203.0.113.9:1024-2047", "[fd00::1]:80").
   * @throws InputError for a bad description
   */
  queryNat(
    flow: FlowSpec,
    rule: { target: "SNAT" | "DNAT"; to: string; random?: boolean; randomFully?: boolean; persistent?: boolean },
  ): Endpoints {
    const orig = flowTuple(flow, "queryNat");
    const fam = orig.family;
    const protoNum = orig.proto;
    // the range comes from the rules engine's own parser of the target
    const chain = rule.target === "SNAT" ? "POSTROUTING" : "PREROUTING";
    const opt = rule.target === "SNAT" ? "--to-source" : "--to-destination";
    const flags = `${rule.random ? " --random" : ""}${rule.randomFully ? " --random-fully" : ""}${rule.persistent ? " --persistent" : ""}`;
    const text = `*nat\n:${chain} ACCEPT [0:0]\n-A ${chain} -p ${protoNum} -j ${rule.target} ${opt} ${rule.to}${flags}\nCOMMIT\n`;
    const rs = loadRuleset(text, { file: "queryNat", family: fam });
    const table = rs.tables[2]!;
    const target = table.targets.find((x) => x !== null) as unknown as { range: NatRange };
    const out = new Tuple();
    const manip = rule.target === "SNAT" ? Manip.Src : Manip.Dst;
    this.instance.nat.queryMapping(orig, target.range, manip, out, new SeededRandom(1));
    return { src: formatAddr(out.src, fam), dst: formatAddr(out.dst, fam), sport: out.srcPort, dport: out.dstPort };
  }

  /**
   * deleteConnection: `conntrack -D` by tuple: delete the connection that has `flow` as its original or
   * its reply tuple (a [DESTROY] event follows). Returns whether there was one.
   * @throws InputError for a bad description
   */
  deleteConnection(flow: FlowSpec): boolean {
    return this.instance.conntrack.deleteTuple(flowTuple(flow, "deleteConnection"));
  }

  /**
   * flushConnections: `conntrack -F`, or, given a filter, delete the connections it accepts (the objects
   * connections(now) gives). Returns how many were deleted.
   */
  flushConnections(filter?: (c: Connection) => boolean, now?: number): number {
    const c = this.instance.conntrack;
    if (filter === undefined) return c.flush();
    const at = now ?? this.lastNow;
    const ids = c.entries(at);
    const list = this.connections(at);
    let n = 0;
    for (let i = 0; i < ids.length; i++) if (filter(list[i]!) && c.kill(ids[i]!)) n++;
    return n;
  }

  /** conntrackStats: `conntrack -S` */
  conntrackStats(): string {
    return formatStats(this.instance.conntrack.stats);
  }

  /** counters: the ruleset with its counters, as `iptables-save -c` (4) / `ip6tables-save -c` (6) print it */
  counters(family: 4 | 6 = 4): string {
    return this.instance.saveCounters(family);
  }

  /** list: `iptables -L -v -n -x` of a table */
  list(table = "filter", family: 4 | 6 = 4, lineNumbers = false): string {
    return (family === 4 ? this.instance.rules4 : this.instance.rules6).list(table, { lineNumbers });
  }

  /** onEvent: conntrack events in `conntrack -E` format ([NEW], [UPDATE], [DESTROY]); null to stop */
  onEvent(fn: ((line: string) => void) | null): void {
    const c = this.instance.conntrack;
    c.setEventSink(fn === null ? null : (type, ct) => fn(formatEvent(c, type, ct)));
  }

  /** trace: call `fn` with every packet's path (hooks, rules, conntrack, NAT, fate); null to stop */
  trace(fn: ((trace: PacketTrace, text: string) => void) | null): void {
    this.instance.setTracer(fn === null ? null : this.instance.newTracer((t) => fn(t, formatTraceText(t))));
  }
}

/** createGateway: build an embeddable gateway. @throws InputError for bad options or rulesets. */
export function createGateway(options: GatewayOptions): EmbeddedGateway {
  return new EmbeddedGateway(options);
}

const scratchInfo = new PacketInfo();

/** formatIpPacket: one tcpdump-like line for an IP packet's bytes (slow path; for logs and examples). */
export function formatIpPacket(packet: Uint8Array): string {
  parsePacket(scratchInfo, packet, 0, packet.length);
  return formatPacket(scratchInfo);
}
