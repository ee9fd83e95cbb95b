/**
 * The gateway the fuzz targets attack, and the "known good flow" that checks it survived.
 *
 * Topology (the kernel oracle's, see test/fixtures/kernel): lan0 (ifindex 2) 10.77.1.1/24 fd77:1::1/64,
 * wan0 (ifindex 3) 10.77.2.1/24 fd77:2::1/64, lo (1), default routes out of wan0. The ruleset has a bit
 * of everything a home router or a server has: NOTRACK, marks and CONNMARK, DNAT port forwards, REDIRECT,
 * MASQUERADE, a stateful filter with REJECT replies. No `limit` / `statistic` rules: their state is
 * global, and the good flow must not depend on what came before it.
 *
 * The good flow (goodFlow) runs between hosts that fuzz traffic never names (RESERVED_*: mutated packets
 * that contain those addresses are altered by `scrubReserved`), so every conntrack entry, NAT binding
 * and queue it touches is its own: after any amount of hostile traffic the gateway must treat it exactly
 * as a fresh gateway does. `checkSurvives` compares the two byte for byte.
 */
import { buildGateway, type GatewayInstance } from "../../src/engine/build.js";
import { type NetIface, type NetRoute, parseIpAddrJson, parseIpRouteJson } from "../../src/engine/netconf.js";
import { FATE_NAMES } from "../../src/engine/stats.js";
import { buildPacket, fragment } from "../../src/wire/build.js";

export const IF_LO = 1;
export const IF_LAN = 2;
export const IF_WAN = 3;
export const IFACE_NAMES = ["", "lo", "lan0", "wan0"];

export const ADDR_JSON = JSON.stringify([
  {
    ifindex: 1,
    ifname: "lo",
    flags: ["LOOPBACK", "UP"],
    mtu: 65536,
    link_type: "loopback",
    addr_info: [
      { family: "inet", local: "127.0.0.1", prefixlen: 8, scope: "host" },
      { family: "inet6", local: "::1", prefixlen: 128, scope: "host" },
    ],
  },
  {
    ifindex: 2,
    ifname: "lan0",
    flags: ["BROADCAST", "MULTICAST", "UP"],
    mtu: 1500,
    link_type: "ether",
    address: "02:00:00:77:01:01",
    addr_info: [
      { family: "inet", local: "10.77.1.1", prefixlen: 24, broadcast: "10.77.1.255", scope: "global" },
      { family: "inet6", local: "fd77:1::1", prefixlen: 64, scope: "global" },
      { family: "inet6", local: "fe80::ff:fe77:101", prefixlen: 64, scope: "link" },
    ],
  },
  {
    ifindex: 3,
    ifname: "wan0",
    flags: ["BROADCAST", "MULTICAST", "UP"],
    mtu: 1500,
    link_type: "ether",
    address: "02:00:00:77:02:01",
    addr_info: [
      { family: "inet", local: "10.77.2.1", prefixlen: 24, broadcast: "10.77.2.255", scope: "global" },
      { family: "inet6", local: "fd77:2::1", prefixlen: 64, scope: "global" },
      { family: "inet6", local: "fe80::ff:fe77:201", prefixlen: 64, scope: "link" },
    ],
  },
]);
export const ROUTE_JSON = JSON.stringify([
  { dst: "default", gateway: "10.77.2.2", dev: "wan0" },
  { dst: "10.77.1.0/24", dev: "lan0", protocol: "kernel", scope: "link", prefsrc: "10.77.1.1" },
  { dst: "10.77.2.0/24", dev: "wan0", protocol: "kernel", scope: "link", prefsrc: "10.77.2.1" },
  { dst: "10.99.0.0/16", type: "unreachable" },
  { dst: "10.98.0.0/16", type: "blackhole" },
  { dst: "10.97.0.0/16", type: "prohibit" },
]);
export const ROUTE6_JSON = JSON.stringify([
  { dst: "fd77:1::/64", dev: "lan0", protocol: "kernel", metric: 256 },
  { dst: "fd77:2::/64", dev: "wan0", protocol: "kernel", metric: 256 },
  { dst: "default", gateway: "fd77:2::2", dev: "wan0", metric: 1024 },
]);

/** The IPv4 ruleset of the fuzz gateway. */
export const RULES_V4 = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p udp -m udp --dport 9999 -j NOTRACK
-A PREROUTING -p udp -m udp --dport 9998 -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 7000 -j MARK --set-xmark 0x7/0xffffffff
-A PREROUTING -m mark --mark 0x7 -j CONNMARK --save-mark
-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j MARK --set-xmark 0x1/0x1
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i wan0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.77.1.10:80
-A PREROUTING -i wan0 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.77.1.10:53
-A PREROUTING -i lan0 -p tcp -m tcp --dport 3128 -j REDIRECT --to-ports 3129
-A POSTROUTING -o wan0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p icmp -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -p udp -j REJECT --reject-with icmp-port-unreachable
-A INPUT -j REJECT --reject-with icmp-proto-unreachable
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset
-A FORWARD -p udp -m udp --dport 7 -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -i lan0 -o wan0 -j ACCEPT
-A FORWARD -i wan0 -o lan0 -m conntrack --ctstate DNAT -j ACCEPT
COMMIT
`;

/** The IPv6 ruleset of the fuzz gateway. */
export const RULES_V6 = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i wan0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd77:1::10]:80
-A POSTROUTING -o wan0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p ipv6-icmp -j ACCEPT
-A INPUT -p tcp -j REJECT --reject-with tcp-reset
-A INPUT -p udp -j REJECT --reject-with icmp6-port-unreachable
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate INVALID -j DROP
-A FORWARD -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset
-A FORWARD -i lan0 -o wan0 -j ACCEPT
-A FORWARD -i wan0 -o lan0 -m conntrack --ctstate DNAT -j ACCEPT
COMMIT
`;

export const IFACES: NetIface[] = parseIpAddrJson(ADDR_JSON, "fuzz-addr");
export const ROUTES4: NetRoute[] = parseIpRouteJson(ROUTE_JSON, 4, "fuzz-route");
export const ROUTES6: NetRoute[] = parseIpRouteJson(ROUTE6_JSON, 6, "fuzz-route6");

/** One packet out of the gateway, as the sink saw it. */
export interface OutPacket {
  kind: "tx" | "local";
  ifindex: number;
  now: number;
  bytes: Uint8Array;
}

/** A sink that keeps copies of everything (or only counts, when `keep` is false). */
export class RecordingSink {
  keep = true;
  readonly out: OutPacket[] = [];
  count = 0;
  transmit(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void {
    this.count++;
    if (this.keep) this.out.push({ kind: "tx", ifindex, now, bytes: buf.slice(off, off + len) });
  }
  deliver(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void {
    this.count++;
    if (this.keep) this.out.push({ kind: "local", ifindex, now, bytes: buf.slice(off, off + len) });
  }
}

export interface FuzzGatewayOptions {
  rules4?: string | null;
  rules6?: string | null;
  sysctl?: Map<string, string> | null;
  seed?: number;
}

/** buildFuzzGateway: a fresh gateway on the fuzz topology with a recording sink. */
export function buildFuzzGateway(opts: FuzzGatewayOptions = {}): { gw: GatewayInstance; sink: RecordingSink } {
  const sink = new RecordingSink();
  const r4 = opts.rules4 === undefined ? RULES_V4 : opts.rules4;
  const r6 = opts.rules6 === undefined ? RULES_V6 : opts.rules6;
  const gw = buildGateway({
    ifaces: IFACES,
    routes4: ROUTES4,
    routes6: ROUTES6,
    sysctl: opts.sysctl ?? null,
    rules4: r4 === null ? null : { text: r4, file: "fuzz.rules" },
    rules6: r6 === null ? null : { text: r6, file: "fuzz.rules6" },
    seed: opts.seed ?? 1,
    sink,
  });
  return { gw, sink };
}

/** fateTotal: packets that reached an end in the gateway so far (every received packet reaches one). */
export function fateTotal(gw: GatewayInstance): number {
  let n = 0;
  for (const v of gw.gateway.stats.fate) n += v;
  return n;
}

/** fateSummary: non-zero fate counters as "name=n ..." */
export function fateSummary(gw: GatewayInstance): string {
  const parts: string[] = [];
  gw.gateway.stats.fate.forEach((n, i) => {
    if (n > 0) parts.push(`${FATE_NAMES[i]}=${n}`);
  });
  return parts.join(" ");
}

// ---- the good flow ------------------------------------------------------------------------------------

/** Hosts only the good flow uses. Fuzz packets naming them are scrubbed (scrubReserved). */
export const RESERVED_LAN4 = "10.77.1.250";
export const RESERVED_WAN4 = "10.77.2.250";
export const RESERVED_LAN6 = "fd77:1::fa";
export const RESERVED_WAN6 = "fd77:2::fa";
const RESERVED_PATTERNS: Uint8Array[] = [
  Uint8Array.of(10, 77, 1, 250),
  Uint8Array.of(10, 77, 2, 250),
  Uint8Array.of(0xfd, 0x77, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfa),
  Uint8Array.of(0xfd, 0x77, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfa),
];

/**
 * scrubReserved: make sure a fuzz packet never carries a reserved address (anywhere: outer header,
 * quoted packet, payload), so it cannot touch the good flow's state. Alters the packet in place.
 */
export function scrubReserved(b: Uint8Array): void {
  for (const p of RESERVED_PATTERNS) {
    const n = p.length;
    for (let i = 0; i + n <= b.length; i++) {
      let same = true;
      for (let k = 0; k < n; k++) {
        if (b[i + k] !== p[k]) {
          same = false;
          break;
        }
      }
      if (same) b[i + n - 1] ^= 0x01;
    }
  }
}

/** One packet of the good flow: arrives on `ifindex` at `dt` seconds after the flow's start. */
export interface FlowPacket {
  ifindex: number;
  dt: number;
  bytes: Uint8Array;
}

/**
 * goodFlow: a short, varied, entirely legitimate exchange through the fuzz gateway, IPv4 and IPv6: TCP
 * through MASQUERADE (handshake, data, close), UDP and its ICMP port unreachable (RELATED, NATed
 * inside), ICMP echo, a fragmented UDP datagram (reassembled and fragmented again), a DNAT port forward,
 * a packet for the gateway itself, a REJECTed one, an INVALID one and an expiring TTL.
 */
export function goodFlow(): FlowPacket[] {
  const L = RESERVED_LAN4;
  const W = RESERVED_WAN4;
  const G = "10.77.2.1";
  const L6 = RESERVED_LAN6;
  const W6 = RESERVED_WAN6;
  const G6 = "fd77:2::1";
  const out: FlowPacket[] = [];
  let t = 0;
  const add = (ifindex: number, bytes: Uint8Array): void => {
    t += 0.001;
    out.push({ ifindex, dt: t, bytes });
  };
  // TCP through MASQUERADE (the port is kept: nothing else uses it towards W)
  const cs = 0x10000000;
  const ss = 0x70000000;
  add(
    IF_LAN,
    buildPacket({
      src: L,
      dst: W,
      tcp: {
        sport: 40000,
        dport: 80,
        seq: cs,
        flags: "S",
        win: 64240,
        options: { mss: 1460, sackPerm: true, ts: [1, 0], wscale: 7 },
      },
    }),
  );
  add(
    IF_WAN,
    buildPacket({
      src: W,
      dst: G,
      tcp: {
        sport: 80,
        dport: 40000,
        seq: ss,
        ack: cs + 1,
        flags: "SA",
        win: 65160,
        options: { mss: 1460, sackPerm: true, ts: [9, 1], wscale: 7 },
      },
    }),
  );
  add(
    IF_LAN,
    buildPacket({
      src: L,
      dst: W,
      tcp: { sport: 40000, dport: 80, seq: cs + 1, ack: ss + 1, flags: ".", win: 502, options: { ts: [2, 9] } },
    }),
  );
  add(
    IF_LAN,
    buildPacket({
      src: L,
      dst: W,
      tcp: {
        sport: 40000,
        dport: 80,
        seq: cs + 1,
        ack: ss + 1,
        flags: "PA",
        win: 502,
        options: { ts: [3, 9] },
        payload: "GET / HTTP/1.0\r\n\r\n",
      },
    }),
  );
  add(
    IF_WAN,
    buildPacket({
      src: W,
      dst: G,
      tcp: {
        sport: 80,
        dport: 40000,
        seq: ss + 1,
        ack: cs + 19,
        flags: "PA",
        win: 509,
        options: { ts: [10, 3] },
        payload: "HTTP/1.0 200 OK\r\n\r\nhello",
      },
    }),
  );
  add(
    IF_LAN,
    buildPacket({
      src: L,
      dst: W,
      tcp: { sport: 40000, dport: 80, seq: cs + 19, ack: ss + 25, flags: "FA", win: 502, options: { ts: [4, 10] } },
    }),
  );
  add(
    IF_WAN,
    buildPacket({
      src: W,
      dst: G,
      tcp: { sport: 80, dport: 40000, seq: ss + 25, ack: cs + 20, flags: "FA", win: 509, options: { ts: [11, 4] } },
    }),
  );
  add(
    IF_LAN,
    buildPacket({
      src: L,
      dst: W,
      tcp: { sport: 40000, dport: 80, seq: cs + 20, ack: ss + 26, flags: ".", win: 502, options: { ts: [5, 11] } },
    }),
  );
  // a second TCP connection left established
  add(
    IF_LAN,
    buildPacket({
      src: L,
      dst: W,
      tcp: { sport: 40001, dport: 443, seq: cs, flags: "S", win: 64240, options: { mss: 1460 } },
    }),
  );
  add(
    IF_WAN,
    buildPacket({
      src: W,
      dst: G,
      tcp: { sport: 443, dport: 40001, seq: ss, ack: cs + 1, flags: "SA", win: 65160, options: { mss: 1460 } },
    }),
  );
  add(
    IF_LAN,
    buildPacket({
      src: L,
      dst: W,
      tcp: { sport: 40001, dport: 443, seq: cs + 1, ack: ss + 1, flags: ".", win: 64240 },
    }),
  );
  // an out-of-window segment on it: INVALID, dropped by the filter
  add(
    IF_LAN,
    buildPacket({
      src: L,
      dst: W,
      tcp: { sport: 40001, dport: 443, seq: cs + 0x40000000, ack: ss + 1, flags: "PA", win: 64240, payload: "x" },
    }),
  );
  // UDP out and back, then an ICMP port unreachable about it from the server (RELATED)
  const udp = buildPacket({ src: L, dst: W, udp: { sport: 5000, dport: 53, payload: "query" } });
  add(IF_LAN, udp);
  add(IF_WAN, buildPacket({ src: W, dst: G, udp: { sport: 53, dport: 5000, payload: "answer" } }));
  const udpNatted = buildPacket({ src: G, dst: W, ttl: 63, udp: { sport: 5000, dport: 53, payload: "query" } });
  add(IF_WAN, buildPacket({ src: W, dst: G, icmp: { type: 3, code: 3, embed: udpNatted } }));
  // ICMP echo
  add(IF_LAN, buildPacket({ src: L, dst: W, icmp: { type: 8, code: 0, id: 0x1234, seq: 1, payload: "ping" } }));
  add(IF_WAN, buildPacket({ src: W, dst: G, icmp: { type: 0, code: 0, id: 0x1234, seq: 1, payload: "ping" } }));
  // a fragmented UDP datagram (reassembled for conntrack, sent on in the original fragment sizes)
  const big = buildPacket({
    src: L,
    dst: W,
    id: 0x4242,
    udp: { sport: 5001, dport: 9000, payload: new Uint8Array(2800).fill(0x5a) },
  });
  for (const f of fragment(big, 1200)) add(IF_LAN, f);
  // DNAT port forward from the wan host to 10.77.1.10:80
  add(IF_WAN, buildPacket({ src: W, dst: G, tcp: { sport: 41000, dport: 8080, seq: 5, flags: "S", win: 1000 } }));
  add(
    IF_LAN,
    buildPacket({
      src: "10.77.1.10",
      dst: W,
      tcp: { sport: 80, dport: 41000, seq: 900, ack: 6, flags: "SA", win: 1000 },
    }),
  );
  // for the gateway itself: ssh (accepted), telnet (REJECT tcp-reset), UDP (REJECT port unreachable)
  add(
    IF_LAN,
    buildPacket({ src: L, dst: "10.77.1.1", tcp: { sport: 40100, dport: 22, seq: 77, flags: "S", win: 1000 } }),
  );
  add(
    IF_LAN,
    buildPacket({ src: L, dst: "10.77.1.1", tcp: { sport: 40101, dport: 23, seq: 78, flags: "S", win: 1000 } }),
  );
  add(IF_LAN, buildPacket({ src: L, dst: "10.77.1.1", udp: { sport: 40102, dport: 161, payload: "snmp" } }));
  // forwarded but REJECTed (tcp 25), and a TTL that runs out
  add(IF_LAN, buildPacket({ src: L, dst: W, tcp: { sport: 40200, dport: 25, seq: 1, flags: "S", win: 1000 } }));
  add(IF_LAN, buildPacket({ src: L, dst: W, ttl: 1, udp: { sport: 40300, dport: 33434, payload: "trace" } }));
  // IPv6: TCP through MASQUERADE, echo, a DNAT
  add(
    IF_LAN,
    buildPacket({
      src: L6,
      dst: W6,
      tcp: {
        sport: 40000,
        dport: 80,
        seq: cs,
        flags: "S",
        win: 64800,
        options: { mss: 1440, wscale: 7, sackPerm: true },
      },
    }),
  );
  add(
    IF_WAN,
    buildPacket({
      src: W6,
      dst: G6,
      tcp: {
        sport: 80,
        dport: 40000,
        seq: ss,
        ack: cs + 1,
        flags: "SA",
        win: 64800,
        options: { mss: 1440, wscale: 7, sackPerm: true },
      },
    }),
  );
  add(
    IF_LAN,
    buildPacket({
      src: L6,
      dst: W6,
      tcp: { sport: 40000, dport: 80, seq: cs + 1, ack: ss + 1, flags: "PA", win: 507, payload: "hello v6" },
    }),
  );
  add(
    IF_WAN,
    buildPacket({ src: W6, dst: G6, tcp: { sport: 80, dport: 40000, seq: ss + 1, ack: cs + 9, flags: ".", win: 507 } }),
  );
  add(IF_LAN, buildPacket({ src: L6, dst: W6, icmp6: { type: 128, code: 0, id: 0x77, seq: 1, payload: "ping6" } }));
  add(IF_WAN, buildPacket({ src: W6, dst: G6, icmp6: { type: 129, code: 0, id: 0x77, seq: 1, payload: "ping6" } }));
  add(IF_WAN, buildPacket({ src: W6, dst: G6, tcp: { sport: 41000, dport: 8080, seq: 5, flags: "S", win: 1000 } }));
  add(IF_LAN, buildPacket({ src: L6, dst: "fd77:1::1", udp: { sport: 40102, dport: 161, payload: "snmp" } }));
  return out;
}

const GOOD_FLOW = goodFlow();

/** What the good flow produced: outputs (times relative to the flow's start) and its conntrack lines. */
export interface FlowResult {
  outputs: string[];
  conntrack: string[];
}

/**
 * runGoodFlow: send the good flow through `gw` starting at `start` (seconds) and collect what came out
 * and the connection table lines that name the reserved hosts (taken 1 s after the flow).
 */
export function runGoodFlow(gw: GatewayInstance, sink: RecordingSink, start: number): FlowResult {
  // the time between: timers of the earlier traffic run out (reassembly queues, with the ICMP errors
  // they draw), as they would have in Linux before the good flow came
  gw.gateway.advance(start - 1);
  const keep = sink.keep;
  sink.keep = true;
  const first = sink.out.length;
  for (const p of GOOD_FLOW) {
    const copy = p.bytes.slice();
    gw.gateway.receive(p.ifindex, copy, 0, copy.length, start + p.dt);
  }
  const outputs = sink.out.slice(first).map((o) => describeOutput(o, start));
  sink.out.length = first;
  sink.keep = keep;
  const conntrack = gw
    .conntrackList(start + 1)
    .split("\n")
    .filter((l) => /=10\.77\.[12]\.250 |=fd77:[12]::fa /.test(l))
    .sort();
  return { outputs, conntrack };
}

/**
 * describeOutput: an output packet as comparable text. The IPv4 identification of the ICMP errors the
 * gateway makes itself is masked: Linux draws it from a
 * counter table shared by every destination (ip_idents), so earlier traffic may change it legitimately.
 */
function describeOutput(o: OutPacket, start: number): string {
  const b = o.bytes;
  let hex = Buffer.from(b).toString("hex");
  if (o.kind === "tx" && isGatewayIcmpErrorV4(b)) {
    // mask the id (bytes 4-5) and the header checksum (10-11) that covers it
    hex = `${hex.slice(0, 8)}xxxx${hex.slice(12, 20)}xxxx${hex.slice(24)}`;
  }
  return `${o.kind} ${IFACE_NAMES[o.ifindex] ?? o.ifindex} +${(o.now - start).toFixed(6)} ${hex}`;
}

/**
 * an ICMP error (unreachable, source quench, redirect, time exceeded, parameter problem) the gateway made
 * itself: TTL 64, where every packet of the good flow that the gateway forwards has 63 left (its source
 * may be a NATed one, not the gateway's)
 */
function isGatewayIcmpErrorV4(b: Uint8Array): boolean {
  if (b.length < 21 || b[0] >> 4 !== 4 || b[9] !== 1 || b[8] !== 64) return false;
  const t = b[(b[0] & 15) * 4];
  return t === 3 || t === 4 || t === 5 || t === 11 || t === 12;
}

/**
 * Sysctl profiles the packets target runs the gateway under (Linux defaults first): they change how
 * conntrack judges traffic (mid-stream pickup, window checks, checksums, accounting, short timeouts).
 * None makes the table so small that the good flow could find it full, nor the ICMP rate limiter so
 * tight that the good flow's errors meet it (its global bucket spends a random 0-2 credits per error, as
 * Linux's does, so what earlier traffic drew from the random source would show).
 */
export const SYSCTL_PROFILES: readonly (Readonly<Record<string, string>> | null)[] = [
  null,
  { "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1", "net.netfilter.nf_conntrack_tcp_loose": "0" },
  { "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1", "net.netfilter.nf_conntrack_tcp_be_liberal": "1" },
  {
    "net.ipv4.ip_forward": "1",
    "net.ipv6.conf.all.forwarding": "1",
    "net.netfilter.nf_conntrack_checksum": "0",
    "net.netfilter.nf_conntrack_acct": "1",
  },
  {
    "net.ipv4.ip_forward": "1",
    "net.ipv6.conf.all.forwarding": "1",
    "net.netfilter.nf_conntrack_udp_timeout": "5",
    "net.netfilter.nf_conntrack_tcp_timeout_syn_sent": "7",
    "net.netfilter.nf_conntrack_icmp_timeout": "3",
    "net.netfilter.nf_conntrack_tcp_max_retrans": "1",
    "net.ipv4.ipfrag_time": "5",
    "net.netfilter.nf_conntrack_frag6_timeout": "7",
  },
];

/** sysctlProfile: profile `i` as the map buildGateway takes (null: no file, Linux defaults) */
export function sysctlProfile(i: number): Map<string, string> | null {
  const p = SYSCTL_PROFILES[i % SYSCTL_PROFILES.length]!;
  return p === null ? null : new Map(Object.entries(p));
}

const references: (FlowResult | null)[] = SYSCTL_PROFILES.map(() => null);

/** referenceFlow: the good flow through a fresh gateway of sysctl profile `profile` (computed once). */
export function referenceFlow(profile = 0): FlowResult {
  const i = profile % SYSCTL_PROFILES.length;
  let r = references[i] ?? null;
  if (r === null) {
    const { gw, sink } = buildFuzzGateway({ sysctl: sysctlProfile(i) });
    r = runGoodFlow(gw, sink, GOOD_FLOW_START);
    references[i] = r;
  }
  return r;
}

/** The good flow starts at this time; fuzz traffic comes before it. */
export const GOOD_FLOW_START = 1_700_000_100;
/**
 * Fuzz traffic starts here and spans -90 s .. +38 s of it, so that every timer it starts with a fixed
 * length (reassembly: 30 s IPv4, 60 s IPv6) has run out before the good flow.
 */
export const FUZZ_START = 1_700_000_000;
export const FUZZ_SPAN_MIN = -90;
export const FUZZ_SPAN_MAX = 38;

/**
 * checkSurvives: run the good flow through `gw` (after whatever it went through) and compare with a
 * fresh gateway. Returns null when identical, else a description of the first difference.
 */
export function checkSurvives(gw: GatewayInstance, sink: RecordingSink, profile = 0): string | null {
  const ref = referenceFlow(profile);
  const got = runGoodFlow(gw, sink, GOOD_FLOW_START);
  const n = Math.max(ref.outputs.length, got.outputs.length);
  for (let i = 0; i < n; i++) {
    if (ref.outputs[i] !== got.outputs[i]) {
      return `good flow output #${i} differs from a fresh gateway's:\n  fresh: ${ref.outputs[i] ?? "(none)"}\n  after: ${got.outputs[i] ?? "(none)"}`;
    }
  }
  const m = Math.max(ref.conntrack.length, got.conntrack.length);
  for (let i = 0; i < m; i++) {
    if (ref.conntrack[i] !== got.conntrack[i]) {
      return `good flow conntrack entry differs from a fresh gateway's:\n  fresh: ${ref.conntrack[i] ?? "(none)"}\n  after: ${got.conntrack[i] ?? "(none)"}`;
    }
  }
  return null;
}
