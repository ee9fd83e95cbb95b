/**
 * `ctnat explain`: the path of one packet described on the command line through a ruleset — hooks,
 * tables, chains, the rules that matched, conntrack state, NAT and its fate — without any capture.
 *
 * The packet runs through a real gateway built from the ruleset (and the interfaces / routes when
 * given). `--ctstate ESTABLISHED` or `RELATED` first opens the connection with the packets a real flow
 * would have sent (untraced, counters reset afterwards), so the traced packet meets the state asked for.
 */
import { readFileSync } from "node:fs";
import { InputError } from "../core/errors.js";
import { Dir } from "../core/netfilter.js";
import { Tuple } from "../core/tuple.js";
import { buildGateway, type GatewayInstance } from "../engine/build.js";
import { type NetIface, type NetRoute, parseIpAddrJson, parseIpRouteJson } from "../engine/netconf.js";
import { parseSysctl } from "../engine/sysctl.js";
import { formatTraceText, type PacketTrace } from "../engine/trace.js";
import { formatAddr, parseAddrInto } from "../wire/addr.js";
import { buildPacket, type PacketSpec } from "../wire/build.js";

export interface ExplainOptions {
  rules?: string;
  rules6?: string;
  ipsets?: string;
  addr?: string;
  route?: string;
  route6?: string;
  sysctl?: string;
  inIface?: string;
  outIface?: string;
  proto: string;
  src?: string;
  dst?: string;
  sport?: string;
  dport?: string;
  flags?: string;
  icmpType?: string;
  ttl?: string;
  length?: string;
  ctstate?: string;
  local?: boolean;
  json?: boolean;
  dot?: boolean;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
}

function intOpt(v: string | undefined, name: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new InputError(`${name}: expected an integer in ${min}..${max}, found ${JSON.stringify(v)}`);
  }
  return Number(v);
}

const PROTOS: Record<string, number> = {
  tcp: 6,
  udp: 17,
  icmp: 1,
  icmpv6: 58,
  "ipv6-icmp": 58,
  udplite: 136,
  sctp: 132,
  gre: 47,
};

/** the description of one packet, normalised */
interface PacketDesc {
  family: 4 | 6;
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  flags: string;
  icmpType: number;
  icmpCode: number;
  ttl: number;
  length: number;
}

function describe(o: ExplainOptions): PacketDesc {
  const p = o.proto.toLowerCase();
  // own properties only: "constructor" is not a protocol
  const proto = Object.hasOwn(PROTOS, p) ? PROTOS[p]! : /^\d+$/.test(p) ? Number(p) : -1;
  if (proto < 0 || proto > 255) throw new InputError(`--proto: unknown protocol ${JSON.stringify(o.proto)}`);
  if (!o.src || !o.dst) throw new InputError("explain: --src and --dst are required");
  const a = new Int32Array(4);
  const fs = parseAddrInto(a, o.src);
  const fd = parseAddrInto(a, o.dst);
  if (fs === 0) throw new InputError(`--src: not an IP address: ${JSON.stringify(o.src)}`);
  if (fd === 0) throw new InputError(`--dst: not an IP address: ${JSON.stringify(o.dst)}`);
  if (fs !== fd) throw new InputError("explain: --src and --dst are of different families");
  if ((proto === 1 && fs === 6) || (proto === 58 && fs === 4))
    throw new InputError(`--proto ${o.proto} does not fit IPv${fs} addresses`);
  let icmpType = proto === 58 ? 128 : 8;
  let icmpCode = 0;
  if (o.icmpType !== undefined) {
    const m = /^(\d+)(?:\/(\d+))?$/.exec(o.icmpType);
    if (!m) throw new InputError(`--icmp-type: expected TYPE or TYPE/CODE, found ${JSON.stringify(o.icmpType)}`);
    icmpType = intOpt(m[1], "--icmp-type", 0, 255, 0);
    icmpCode = intOpt(m[2], "--icmp-type code", 0, 255, 0);
  }
  const flags = o.flags ?? "";
  if (!/^[FSRPAUEC.]*$/.test(flags))
    throw new InputError(`--flags: letters of FSRPAUEC (or . for ACK), found ${JSON.stringify(flags)}`);
  return {
    family: fs as 4 | 6,
    proto,
    src: o.src,
    dst: o.dst,
    sport: intOpt(o.sport, "--sport", 0, 65535, 40000),
    dport: intOpt(o.dport, "--dport", 0, 65535, 80),
    flags,
    icmpType,
    icmpCode,
    ttl: intOpt(o.ttl, "--ttl", 0, 255, 64),
    length: intOpt(o.length, "--length", 0, 60000, 0),
  };
}

function packetOf(d: PacketDesc, flags: string, reverse: Tuple | null): Uint8Array {
  const payload = new Uint8Array(d.length);
  const src = reverse ? formatAddr(reverse.src, d.family) : d.src;
  const dst = reverse ? formatAddr(reverse.dst, d.family) : d.dst;
  const sport = reverse ? reverse.srcPort : d.sport;
  const dport = reverse ? reverse.dstPort : d.dport;
  const spec: PacketSpec = { family: d.family, src, dst, ttl: d.ttl };
  switch (d.proto) {
    case 6:
      spec.tcp = {
        sport,
        dport,
        flags: flags === "" ? "S" : flags,
        seq: reverse ? 5000 : 1000,
        ack: flags.includes("A") || flags.includes(".") ? (reverse ? 1001 : 5001) : 0,
        win: 64240,
        payload,
      };
      break;
    case 17:
      spec.udp = { sport, dport, payload };
      break;
    case 136:
      spec.udplite = { sport, dport, payload };
      break;
    case 1:
    case 58: {
      const type = reverse ? (d.proto === 1 ? 0 : 129) : d.icmpType;
      const icmp = { type, code: d.icmpCode, id: reverse ? reverse.srcPort : d.sport, seq: 1, payload };
      if (d.proto === 1) spec.icmp = icmp;
      else spec.icmp6 = icmp;
      break;
    }
    default:
      spec.proto = d.proto;
      spec.payload = payload;
  }
  return buildPacket(spec);
}

/** synthesise interfaces and a default route when none are given */
function synthIfaces(
  o: ExplainOptions,
  d: PacketDesc,
): { ifaces: NetIface[]; routes4: NetRoute[]; routes6: NetRoute[]; note: string } {
  const inName = o.inIface ?? "";
  const outName = o.outIface ?? (inName === "eth1" ? "eth0" : "eth1");
  const names = [...new Set([inName, outName].filter((n) => n !== ""))];
  const ifaces: NetIface[] = names.map((name, i) => ({
    ifindex: i + 2,
    name,
    mtu: 1500,
    up: true,
    loopback: false,
    linkType: "ether",
    mac: null,
    addrs: [],
  }));
  ifaces.unshift({
    ifindex: 1,
    name: "lo",
    mtu: 65536,
    up: true,
    loopback: true,
    linkType: "loopback",
    mac: null,
    addrs: [],
  });
  if (o.local) {
    const w = new Int32Array(4);
    parseAddrInto(w, d.dst);
    const target = ifaces.find((f) => f.name === (inName || outName))!;
    target.addrs.push({
      family: d.family,
      local: w,
      address: w,
      prefixLen: d.family === 4 ? 32 : 128,
      broadcast: null,
      scope: 0,
      secondary: false,
      deprecated: false,
      tentative: false,
      temporary: false,
      noprefixroute: false,
    });
  }
  // a source address for the gateway on the output side (MASQUERADE needs one)
  const out = ifaces.find((f) => f.name === outName)!;
  const gw4 = new Int32Array([0xc0000201 | 0, 0, 0, 0]);
  const gw6 = new Int32Array([0x20010db8 | 0, 0, 0, 1]);
  out.addrs.push(
    {
      family: 4,
      local: gw4,
      address: gw4,
      prefixLen: 24,
      broadcast: null,
      scope: 0,
      secondary: false,
      deprecated: false,
      tentative: false,
      temporary: false,
      noprefixroute: false,
    },
    {
      family: 6,
      local: gw6,
      address: gw6,
      prefixLen: 64,
      broadcast: null,
      scope: 0,
      secondary: false,
      deprecated: false,
      tentative: false,
      temporary: false,
      noprefixroute: false,
    },
  );
  const def = (family: 4 | 6): NetRoute => ({
    family,
    type: 0,
    dst: new Int32Array(4),
    prefixLen: 0,
    gateway: null,
    dev: outName,
    prefsrc: null,
    metric: 0,
    mtu: 0,
    hopLimit: 0,
  });
  const routes4 = [def(4)];
  const routes6 = [def(6)];
  // the packet's source is reached back through the interface it came in on
  if (inName !== "" && inName !== outName) {
    const w = new Int32Array(4);
    parseAddrInto(w, d.src);
    const back: NetRoute = { ...def(d.family), dst: w, prefixLen: d.family === 4 ? 32 : 128, dev: inName };
    (d.family === 4 ? routes4 : routes6).push(back);
  }
  return {
    ifaces,
    routes4,
    routes6,
    note: `no --addr/--route given: the gateway reaches ${d.src} through ${inName || outName} and everything else through ${outName} (its address there: 192.0.2.1 / 2001:db8::1)${o.local ? `; ${d.dst} is one of its own addresses` : ""}`,
  };
}

export interface ExplainResult {
  trace: PacketTrace | null;
  setup: string[];
  note: string;
  instance: GatewayInstance;
}

/** explain: run the described packet through a gateway and return its trace. */
export function explain(o: ExplainOptions): ExplainResult {
  const d = describe(o);
  let ifaces: NetIface[];
  let routes4: NetRoute[] = [];
  let routes6: NetRoute[] = [];
  let note = "";
  if (o.addr) {
    ifaces = parseIpAddrJson(readText(o.addr, "interfaces"), o.addr);
    if (o.route) routes4 = parseIpRouteJson(readText(o.route, "IPv4 routes"), 4, o.route);
    if (o.route6) routes6 = parseIpRouteJson(readText(o.route6, "IPv6 routes"), 6, o.route6);
  } else {
    ({ ifaces, routes4, routes6, note } = synthIfaces(o, d));
  }
  const inIf = o.inIface ? ifaces.find((f) => f.name === o.inIface) : undefined;
  if (o.inIface && !inIf)
    throw new InputError(`--in-iface: no interface ${o.inIface} (has ${ifaces.map((f) => f.name).join(", ")})`);
  let lastOut = -1;
  const instance = buildGateway({
    ifaces,
    routes4,
    routes6,
    sysctl: o.sysctl ? parseSysctl(readText(o.sysctl, "sysctl file"), o.sysctl) : null,
    rules4: o.rules ? { text: readText(o.rules, "IPv4 ruleset"), file: o.rules } : null,
    rules6: o.rules6 ? { text: readText(o.rules6, "IPv6 ruleset"), file: o.rules6 } : null,
    ipsets: o.ipsets ? { text: readText(o.ipsets, "IP sets"), file: o.ipsets } : null,
    seed: 1,
    sink: {
      transmit(ifindex) {
        lastOut = ifindex;
      },
      deliver() {
        lastOut = -1;
      },
    },
  });
  const gw = instance.gateway;
  let now = 1000;
  const inject = (pkt: Uint8Array, ifindex: number): void => {
    now += 0.001;
    if (ifindex >= 0) gw.receive(ifindex, pkt, 0, pkt.length, now);
    else gw.send(pkt, 0, pkt.length, now);
  };
  const setup: string[] = [];
  const state = (o.ctstate ?? "NEW").toUpperCase();
  if (!["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"].includes(state)) {
    throw new InputError(`--ctstate: one of NEW, ESTABLISHED, RELATED, found ${JSON.stringify(o.ctstate)}`);
  }
  const inIndex = inIf ? inIf.ifindex : -1;
  if (state === "ESTABLISHED" || state === "RELATED") {
    // open the connection: the first packet of the flow, then the peer's answer
    const first = packetOf(d, "S", null);
    inject(first, inIndex);
    setup.push(`sent the flow's first packet${d.proto === 6 ? " (SYN)" : ""}`);
    const t = new Tuple();
    const ct = findCt(instance, d);
    if (ct < 0) {
      throw new InputError(
        `--ctstate ${state}: the flow's first packet did not create a connection (dropped, or conntrack not in use by this ruleset)`,
      );
    }
    instance.conntrack.tuple(ct, Dir.Reply, t);
    const replyIf = lastOut;
    if (state === "ESTABLISHED") {
      inject(packetOf(d, "SA", t), replyIf);
      setup.push(`sent the answer${d.proto === 6 ? " (SYN/ACK)" : ""}`);
      if (d.proto === 6) {
        inject(packetOf(d, "A", null), inIndex);
        setup.push("sent the ACK that completes the handshake");
      }
    }
    instance.rules4.resetCounters();
    instance.rules6.resetCounters();
    if (state === "RELATED") {
      // an ICMP error from the destination about the flow's packet, as it arrived there (after NAT)
      const quoted = packetOf(d, "S", null);
      const reply = t;
      const err = buildPacket({
        family: d.family,
        src: formatAddr(reply.src, d.family),
        dst: formatAddr(reply.dst, d.family),
        ...(d.family === 4
          ? { icmp: { type: 3, code: 3, embed: natted(quoted, reply, d.family), embedLen: 28 + 20 } }
          : { icmp6: { type: 1, code: 4, embed: natted(quoted, reply, d.family) } }),
      });
      let trace: PacketTrace | null = null;
      instance.setTracer(instance.newTracer((x) => (trace ??= x)));
      inject(err, replyIf);
      return {
        trace,
        setup: [...setup, "the destination answers with an ICMP port unreachable about it (traced below)"],
        note,
        instance,
      };
    }
  }
  let trace: PacketTrace | null = null;
  instance.setTracer(instance.newTracer((x) => (trace ??= x)));
  const flags = d.flags !== "" ? d.flags : state === "ESTABLISHED" ? "A" : "S";
  inject(packetOf(d, flags, null), inIndex);
  return { trace, setup, note, instance };
}

/** the packet as it reached the destination: addresses and ports from the connection's reply tuple */
function natted(pkt: Uint8Array, reply: Tuple, family: number): Uint8Array {
  return buildPacket({
    family: family as 4 | 6,
    src: formatAddr(reply.dst, family),
    dst: formatAddr(reply.src, family),
    ...(pkt[family === 4 ? 9 : 6] === 17
      ? { udp: { sport: reply.dstPort, dport: reply.srcPort } }
      : { tcp: { sport: reply.dstPort, dport: reply.srcPort, flags: "S", seq: 1000 } }),
  });
}

function findCt(instance: GatewayInstance, d: PacketDesc): number {
  const t = new Tuple();
  t.family = d.family;
  t.proto = d.proto;
  parseAddrInto(t.src, d.src);
  parseAddrInto(t.dst, d.dst);
  if (d.proto === 1 || d.proto === 58) {
    t.srcPort = d.sport;
    t.dstPort = (d.icmpType << 8) | d.icmpCode;
  } else {
    t.srcPort = d.sport;
    t.dstPort = d.dport;
  }
  return instance.conntrack.findTuple(t);
}

/** formatDot: the trace as a Graphviz digraph (hooks, tables, chains and rules in order). */
export function formatDot(t: PacketTrace): string {
  const lines = ["digraph ctnat {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];'];
  const esc = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  const nodes: string[] = [`in ${t.iface || "(local)"}\\n${esc(t.packet)}`];
  for (const s of t.steps) {
    if (s.kind === "rule") nodes.push(`${s.table} ${s.chain} #${s.rule}\\n${esc(s.text ?? "")}`);
    else if (s.kind === "policy") nodes.push(`${s.table} ${s.chain}\\npolicy ${s.verdict}`);
    else if (s.kind === "conntrack") nodes.push(`conntrack\\n${esc(s.detail ?? "")}`);
    else if (s.kind === "route") nodes.push(`routing\\n${esc(s.detail ?? "")}`);
    else if (s.kind === "nat") nodes.push(`NAT\\n${esc(s.detail ?? "")}`);
  }
  nodes.push(`${esc(t.fate)}${t.out ? `\\nout ${t.out}` : ""}`);
  nodes.forEach((n, i) => {
    lines.push(`  n${i} [label="${n}"];`);
    if (i > 0) lines.push(`  n${i - 1} -> n${i};`);
  });
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

export async function runExplain(o: ExplainOptions): Promise<void> {
  const r = explain(o);
  if (r.trace === null) throw new InputError("explain: the packet produced no trace (it was not an IP packet?)");
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ setup: r.setup, note: r.note || undefined, ...(r.trace as PacketTrace) })}\n`,
    );
    return;
  }
  if (o.dot) {
    process.stdout.write(formatDot(r.trace));
    return;
  }
  if (r.note) process.stdout.write(`(${r.note})\n`);
  if (r.setup.length > 0) process.stdout.write(`(to reach --ctstate ${o.ctstate}: ${r.setup.join("; ")})\n`);
  process.stdout.write(formatTraceText(r.trace));
}
