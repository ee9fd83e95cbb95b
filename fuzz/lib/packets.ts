/**
 * Hostile packets for the packet target: where they come from (random bytes, real packets recorded from
 * the kernel, packets built from templates) and what is done to them (bit flips, truncation, lying length
 * fields, garbage IPv4 / TCP options, TCP flags, ICMP errors quoting garbage or other ICMP errors,
 * fragments overlapping, duplicated, oversized or never completed).
 *
 * A fuzz case is a list of PacketOps: plain JSON-able descriptions that `materialize` turns into packets,
 * so fast-check can shrink them and a failing case can be written to a file and replayed.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { readCaptureFile } from "../../src/io/capture-file.js";
import { buildPacket, fragment, type Ipv6ExtSpec, type PacketSpec } from "../../src/wire/build.js";
import { fillL4Checksum } from "../../src/wire/checksum.js";
import { LinkInfo, parseLink } from "../../src/wire/link.js";
import { PacketInfo, WireStatus } from "../../src/wire/packet-info.js";
import { parsePacket } from "../../src/wire/parse.js";
import { FUZZ_SPAN_MAX, FUZZ_SPAN_MIN, IF_LAN, IF_LO, IF_WAN, scrubReserved } from "./gateway.js";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, "../..");

// ---- real packets ----------------------------------------------------------------------------------

export interface RealPacket {
  ifindex: number;
  bytes: Uint8Array;
  from: string;
}

let realCache: RealPacket[] | null = null;

/**
 * realPackets: the IP packets of every kernel recording's inputs (test/fixtures/kernel/NAME/in/IFACE.pcap),
 * link layer stripped. They use the fuzz topology's addresses, so they build real state in the gateway.
 */
export function realPackets(): RealPacket[] {
  if (realCache !== null) return realCache;
  const out: RealPacket[] = [];
  const root = join(REPO, "test/fixtures/kernel");
  const li = new LinkInfo();
  for (const scen of readdirSync(root).sort()) {
    let files: string[];
    try {
      files = readdirSync(join(root, scen, "in")).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      if (!f.endsWith(".pcap")) continue;
      const ifindex = f.startsWith("lan0") ? IF_LAN : f.startsWith("wan0") ? IF_WAN : IF_LAN;
      readCaptureFile(join(root, scen, "in", f), (rec) => {
        if (parseLink(li, rec.linkType, rec.buf, rec.off, rec.capLen) !== WireStatus.Ok) return;
        out.push({ ifindex, bytes: rec.buf.slice(li.l3Off, li.l3Off + li.l3Len), from: `${scen}/${f}` });
      });
    }
  }
  realCache = out;
  return out;
}

// ---- templates -----------------------------------------------------------------------------------------

/** A flow the templates build packets of (both directions), so that fuzz traffic has state to hit. */
interface Flow {
  lan4: string;
  wan4: string;
  lan6: string;
  wan6: string;
  sport: number;
  dport: number;
}
const FLOWS: Flow[] = [];
for (let f = 0; f < 8; f++) {
  FLOWS.push({
    lan4: `10.77.1.${2 + (f % 4)}`,
    wan4: `10.77.2.${2 + (f % 3)}`,
    lan6: `fd77:1::${2 + (f % 4)}`,
    wan6: `fd77:2::${2 + (f % 3)}`,
    sport: 30000 + f,
    dport: [80, 443, 53, 22, 8080, 25, 7, 3128][f]!,
  });
}
const GW_LAN4 = "10.77.1.1";
const GW_WAN4 = "10.77.2.1";
const GW_LAN6 = "fd77:1::1";
const GW_WAN6 = "fd77:2::1";
/** odd addresses: broadcast, multicast, martians, link-local, unassigned, the gateway itself */
const ODD4 = [
  "0.0.0.0",
  "255.255.255.255",
  "10.77.1.255",
  "224.0.0.1",
  "239.1.2.3",
  "127.0.0.1",
  "169.254.1.1",
  "10.77.1.1",
  "10.77.2.1",
  "10.99.1.1",
  "10.98.1.1",
  "10.97.1.1",
  "192.0.2.1",
  "10.77.1.10",
];
const ODD6 = ["::", "::1", "ff02::1", "ff02::1:ff00:1", "fe80::1", "fd77:1::1", "fd77:2::1", "2001:db8::1", "ff05::2"];

const seqOf = (f: number, dir: number): number => (dir === 0 ? 0x10000000 : 0x70000000) + f * 0x01000000;

export interface Emitted {
  ifindex: number;
  bytes: Uint8Array;
}

const TCP_OPTS = [
  undefined,
  { mss: 1460 },
  { mss: 1460, sackPerm: true, ts: [1, 0] as [number, number], wscale: 7 },
  { wscale: 14 },
  { wscale: 200 },
  { sack: [[0x10000000, 0x10000100]] as [number, number][] },
  { raw: [0x1e, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8] },
  { ts: [0xffffffff, 0x80000000] as [number, number] },
];

function pick<T>(xs: readonly T[], n: number): T {
  return xs[Math.abs(n) % xs.length]!;
}

/**
 * template: the packets a template makes from its integer arguments. Index modulo the number of
 * templates; arguments are used modulo whatever they choose among.
 */
export function template(t: number, a: readonly number[]): Emitted[] {
  const x = (i: number): number => a[i % a.length] ?? 0;
  const f = x(0) & 7;
  const fl = FLOWS[f]!;
  const v6 = (x(1) & 1) === 1;
  const lan = v6 ? fl.lan6 : fl.lan4;
  const wan = v6 ? fl.wan6 : fl.wan4;
  const gwWan = v6 ? GW_WAN6 : GW_WAN4;
  const gwLan = v6 ? GW_LAN6 : GW_LAN4;
  const payload = new Uint8Array(x(5) % 1600).fill(x(6) & 0xff);
  const tcp = (flags: number, dir: number): Emitted => {
    const s = seqOf(f, dir) + (x(3) % 70000);
    const ack = seqOf(f, 1 - dir) + (x(4) % 70000);
    const spec: PacketSpec = {
      src: dir === 0 ? lan : wan,
      dst: dir === 0 ? wan : gwWan,
      ttl: pick([64, 64, 64, 1, 2, 0, 255], x(7)),
      df: (x(7) & 8) !== 0,
      tcp: {
        sport: dir === 0 ? fl.sport : fl.dport,
        dport: dir === 0 ? fl.dport : fl.sport,
        seq: s,
        ack,
        flags,
        win: x(8) & 0xffff,
        urg: (flags & 0x20) !== 0 ? x(9) & 0xffff : 0,
        options: pick(TCP_OPTS, x(10)),
        payload: payload.subarray(0, Math.min(payload.length, 1400)),
      },
    };
    return { ifindex: dir === 0 ? IF_LAN : IF_WAN, bytes: buildPacket(spec) };
  };
  switch (((t % 14) + 14) % 14) {
    case 0:
      return [tcp(x(2) & 0xff, 0)];
    case 1:
      return [tcp(x(2) & 0xff, 1)];
    case 2: {
      // handshake (and maybe data) of flow f
      const out = [tcp(0x02, 0)];
      const s0 = seqOf(f, 0);
      const s1 = seqOf(f, 1);
      out.push({
        ifindex: IF_WAN,
        bytes: buildPacket({
          src: wan,
          dst: gwWan,
          tcp: { sport: fl.dport, dport: fl.sport, seq: s1, ack: s0 + (x(3) % 70000) + 1, flags: "SA", win: 65535 },
        }),
      });
      out.push({
        ifindex: IF_LAN,
        bytes: buildPacket({
          src: lan,
          dst: wan,
          tcp: {
            sport: fl.sport,
            dport: fl.dport,
            seq: s0 + (x(3) % 70000) + 1,
            ack: s1 + 1,
            flags: "PA",
            win: 65535,
            payload: "data",
          },
        }),
      });
      return out;
    }
    case 3: {
      const dir = x(2) & 1;
      return [
        {
          ifindex: dir === 0 ? IF_LAN : IF_WAN,
          bytes: buildPacket({
            src: dir === 0 ? lan : wan,
            dst: dir === 0 ? wan : gwWan,
            ttl: pick([64, 1, 64], x(7)),
            udp: {
              sport: dir === 0 ? fl.sport : fl.dport,
              dport: dir === 0 ? fl.dport : fl.sport,
              payload,
              checksum: pick([undefined, undefined, "none", "bad"] as const, x(9)),
            },
          }),
        },
      ];
    }
    case 4: {
      const dir = x(2) & 1;
      const type = v6
        ? pick([128, 129, 128, 133, 134, 135, 136, 130, 143, x(9) & 0xff], x(8))
        : pick([8, 0, 8, 13, 14, 15, 17, x(9) & 0xff], x(8));
      const spec: PacketSpec = { src: dir === 0 ? lan : wan, dst: dir === 0 ? wan : gwWan };
      const icmp = {
        type,
        code: x(10) & 0xff,
        id: x(3) & 0xffff,
        seq: x(4) & 0xffff,
        payload: payload.subarray(0, 200),
      };
      if (v6) spec.icmp6 = icmp;
      else spec.icmp = icmp;
      return [{ ifindex: dir === 0 ? IF_LAN : IF_WAN, bytes: buildPacket(spec) }];
    }
    case 5: {
      // IPv6 extension header chains, sane or not
      const kinds = x(2);
      const ext: Ipv6ExtSpec[] = [];
      const n = x(3) % 5;
      for (let i = 0; i < n; i++) {
        switch ((kinds >>> (i * 3)) & 7) {
          case 0:
            ext.push({
              type: "hop",
              options: pick([[], [1, 0], [0xc2, 4, 0, 0, 0xff, 0xff], [5, 2, 0, 0], [0x3e, 1, 0]], x(4) + i),
            });
            break;
          case 1:
            ext.push({ type: "dst", options: pick([[], [0xc9, 0], [0x80 + (x(5) & 0x3f), 2, 1, 2]], x(4) + i) });
            break;
          case 2:
            ext.push({ type: "routing", routingType: pick([0, 2, 4, 3], x(6) + i), segmentsLeft: x(7) & 3 });
            break;
          case 3:
            ext.push({ type: "fragment", offset: (x(8) & 0x1fff) << 3, more: (x(8) & 0x2000) !== 0, id: x(9) });
            break;
          case 4:
            ext.push({ type: "ah", spi: x(9), icvLen: pick([12, 16, 0, 4], x(10)) });
            break;
          default:
            ext.push({
              type: "raw",
              proto: pick([0, 43, 44, 60, 51, 135, 139, 140, 253, 59], x(10) + i),
              body: [0, 0, 0, 0, 0, 0],
            });
        }
      }
      const spec: PacketSpec = { src: fl.lan6, dst: fl.wan6, ext };
      const l4 = x(11) % 4;
      if (l4 === 0) spec.tcp = { sport: fl.sport, dport: fl.dport, flags: "S", seq: seqOf(f, 0) };
      else if (l4 === 1) spec.udp = { sport: fl.sport, dport: fl.dport, payload: "x" };
      else if (l4 === 2) spec.icmp6 = { type: 128, id: f, seq: 1 };
      else spec.proto = 59;
      return [{ ifindex: IF_LAN, bytes: buildPacket(spec) }];
    }
    case 6: {
      // protocols without ports, or with other trackers
      const proto = pick([47, 132, 33, 136, 50, 51, 2, 4, 41, 103, 255, 0, x(3) & 0xff], x(2));
      const spec: PacketSpec = { src: x(4) & 1 ? lan : wan, dst: x(4) & 1 ? wan : gwWan, proto, payload };
      if (proto === 136) {
        delete spec.proto;
        delete spec.payload;
        spec.udplite = { sport: fl.sport, dport: fl.dport, len: x(7) & 0xffff, payload: payload.subarray(0, 64) };
      }
      return [{ ifindex: x(4) & 1 ? IF_LAN : IF_WAN, bytes: buildPacket(spec) }];
    }
    case 7: {
      // for the gateway itself, or from/to odd addresses
      const src = v6 ? pick(ODD6.concat([lan, wan]), x(2)) : pick(ODD4.concat([lan, wan]), x(2));
      const dst = v6 ? pick(ODD6.concat([gwLan, gwWan]), x(3)) : pick(ODD4.concat([gwLan, gwWan]), x(3));
      const spec: PacketSpec = { src, dst, ttl: pick([64, 1, 255], x(7)) };
      const k = x(4) % 3;
      if (k === 0)
        spec.tcp = { sport: fl.sport, dport: pick([22, 23, 80, 3129], x(8)), flags: x(9) & 0xff, seq: x(10) };
      else if (k === 1) spec.udp = { sport: fl.sport, dport: pick([53, 67, 161, 9999, 9998], x(8)), payload: "u" };
      else if (v6) spec.icmp6 = { type: pick([128, 133, 135, 1, 2], x(8)), id: 1 };
      else spec.icmp = { type: pick([8, 3, 11, 13, 5], x(8)), id: 1 };
      return [{ ifindex: pick([IF_LAN, IF_WAN, IF_LO], x(11)), bytes: buildPacket(spec) }];
    }
    case 8: {
      // DNAT port forward (wan -> gateway:8080 / udp 5353) and the server's answer
      const dir = x(2) & 1;
      if (dir === 0) {
        const spec: PacketSpec = { src: wan, dst: gwWan };
        if (x(3) & 1) spec.tcp = { sport: fl.sport, dport: 8080, flags: x(4) & 0xff, seq: x(5) };
        else spec.udp = { sport: fl.sport, dport: 5353, payload: "q" };
        return [{ ifindex: IF_WAN, bytes: buildPacket(spec) }];
      }
      const spec: PacketSpec = { src: v6 ? "fd77:1::10" : "10.77.1.10", dst: wan };
      if (x(3) & 1) spec.tcp = { sport: 80, dport: fl.sport, flags: x(4) & 0xff, seq: x(5), ack: x(6) };
      else spec.udp = { sport: 53, dport: fl.sport, payload: "a" };
      return [{ ifindex: IF_LAN, bytes: buildPacket(spec) }];
    }
    case 9:
    case 10:
    case 11:
    case 12:
      // ICMP errors quoting packets of flow f (templates 9-12: as NATed on the wan side, as sent on
      // the lan side, garbage, and errors quoting errors)
      return [icmpError(t % 14, a, fl, v6)];
    default: {
      // IPv4 with options
      const opts = pick(
        [
          [7, 7, 4, 0, 0, 0, 0], // record route
          [68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0], // timestamp
          [131, 7, 4, 10, 77, 2, 9], // loose source route
          [137, 7, 4, 10, 77, 2, 9], // strict source route
          [148, 4, 0, 0], // router alert
          [130, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0], // security
          [1, 1, 1, 0],
          [0x44, 3, 1],
          [0xff, 0],
        ],
        x(2),
      );
      return [
        {
          ifindex: IF_LAN,
          bytes: buildPacket({
            src: fl.lan4,
            dst: fl.wan4,
            ipOptions: opts,
            tcp: { sport: fl.sport, dport: fl.dport, flags: "S" },
          }),
        },
      ];
    }
  }
}

function icmpError(kind: number, a: readonly number[], fl: Flow, v6: boolean): Emitted {
  const x = (i: number): number => a[i % a.length] ?? 0;
  const gwWan = v6 ? GW_WAN6 : GW_WAN4;
  let inner: Uint8Array;
  let from: string;
  let ifindex: number;
  if (kind === 9) {
    // the flow's packet as it left the gateway (NATed), quoted by a router behind wan
    inner = buildPacket({
      src: gwWan,
      dst: v6 ? fl.wan6 : fl.wan4,
      ttl: 1,
      tcp: { sport: fl.sport, dport: fl.dport, seq: seqOf(0, 0), flags: "S" },
    });
    from = v6 ? "fd77:2::9" : "10.77.2.9";
    ifindex = IF_WAN;
  } else if (kind === 10) {
    // an error from the lan about a reply the lan host got
    inner = buildPacket({
      src: v6 ? fl.wan6 : fl.wan4,
      dst: v6 ? fl.lan6 : fl.lan4,
      udp: { sport: fl.dport, dport: fl.sport, payload: "r" },
    });
    from = v6 ? fl.lan6 : fl.lan4;
    ifindex = IF_LAN;
  } else if (kind === 11) {
    // garbage quoted
    inner = new Uint8Array(x(3) % 120);
    for (let i = 0; i < inner.length; i++) inner[i] = (Math.imul(x(4) + i, 0x9e3779b1) >>> 24) & 0xff;
    if (inner.length > 0 && x(5) & 1) inner[0] = v6 ? 0x60 : 0x45;
    from = v6 ? fl.wan6 : fl.wan4;
    ifindex = IF_WAN;
  } else {
    // an error quoting an error quoting the flow's packet (Linux looks one level deep only)
    const deepest = buildPacket({
      src: gwWan,
      dst: v6 ? fl.wan6 : fl.wan4,
      udp: { sport: fl.sport, dport: fl.dport, payload: "d" },
    });
    const mid: PacketSpec = { src: v6 ? fl.wan6 : fl.wan4, dst: gwWan };
    if (v6) mid.icmp6 = { type: 1, code: 4, embed: deepest };
    else mid.icmp = { type: 3, code: 3, embed: deepest };
    inner = buildPacket(mid);
    from = v6 ? "fd77:2::9" : "10.77.2.9";
    ifindex = IF_WAN;
  }
  const embedLen = x(6) % 3 === 0 ? Math.min(inner.length, x(7) % (inner.length + 1)) : inner.length;
  const spec: PacketSpec = { src: from, dst: gwWan };
  if (v6) {
    spec.icmp6 = { type: pick([1, 2, 3, 4, 1], x(8)), code: x(9) & 7, rest: x(10), embed: inner, embedLen };
  } else {
    spec.icmp = { type: pick([3, 11, 12, 4, 5, 3], x(8)), code: x(9) & 15, rest: x(10), embed: inner, embedLen };
  }
  return { ifindex, bytes: buildPacket(spec) };
}

// ---- mutations ----------------------------------------------------------------------------------------

export type Mutation =
  | { m: "flip"; at: number; bit: number }
  | { m: "set"; at: number; v: number }
  | { m: "cut"; len: number }
  | { m: "grow"; bytes: number[] }
  | { m: "lie"; field: number; v: number }
  | { m: "ipopts"; bytes: number[] }
  | { m: "tcpopts"; bytes: number[] }
  | { m: "flags"; v: number };

export type Source = { k: "random"; bytes: number[] } | { k: "real"; i: number } | { k: "tpl"; t: number; a: number[] };

/** PacketOp: one step of a fuzz case (see materialize). */
export interface PacketOp {
  /** 0: the source's own interface; 1 lo, 2 lan0, 3 wan0 */
  iface: number;
  /** PACKET_* type (0 host, 1 broadcast, 2 multicast, 3 other host) */
  pktType: number;
  /** milliseconds since the previous op (negative: time goes back) */
  gapMs: number;
  src: Source;
  muts: Mutation[];
  /** recompute the IP header and transport checksums after mutating (so the packet gets further) */
  fix: boolean;
  /** 0 none; 1 send as fragments, hostile per `fragArgs` */
  frag: number;
  fragArgs: number[];
}

const scratch = new PacketInfo();

function parse(b: Uint8Array): PacketInfo {
  parsePacket(scratch, b, 0, b.length);
  return scratch;
}

function put16(b: Uint8Array, o: number, v: number): void {
  if (o + 1 >= b.length || o < 0) return;
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/** fixChecksums: recompute what can be recomputed (IPv4 header, transport) in place. */
export function fixChecksums(b: Uint8Array): void {
  if (b.length < 20) return;
  const pi = parse(b);
  if (pi.family === 4) {
    const hl = (b[0] & 15) << 2;
    if (hl >= 20 && hl <= b.length) {
      b[10] = 0;
      b[11] = 0;
      let s = 0;
      for (let i = 0; i < hl; i += 2) s += (b[i] << 8) | b[i + 1];
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      put16(b, 10, ~s & 0xffff);
    }
  }
  if (pi.status === WireStatus.Ok && pi.l4Status === WireStatus.Ok) fillL4Checksum(pi);
}

function lengthValue(v: number, cur: number): number {
  switch (v & 7) {
    case 0:
      return 0;
    case 1:
      return cur - 1;
    case 2:
      return cur + 1;
    case 3:
      return 0xffff;
    case 4:
      return cur + 8;
    case 5:
      return Math.max(0, cur - 8);
    default:
      return (v >>> 3) & 0xffff;
  }
}

/** mutate: apply one mutation; returns the (possibly new) bytes. */
export function mutate(b: Uint8Array, mu: Mutation): Uint8Array {
  const n = b.length;
  switch (mu.m) {
    case "flip":
      if (n > 0) b[mu.at % n] ^= 1 << (mu.bit & 7);
      return b;
    case "set":
      if (n > 0) b[mu.at % n] = mu.v & 0xff;
      return b;
    case "cut":
      return b.slice(0, n === 0 ? 0 : mu.len % (n + 1));
    case "grow": {
      const out = new Uint8Array(n + mu.bytes.length);
      out.set(b);
      out.set(mu.bytes, n);
      return out;
    }
    case "flags": {
      const pi = parse(b);
      if (pi.proto === 6 && pi.l4Off + 13 < n) b[pi.l4Off + 13] = mu.v & 0xff;
      return b;
    }
    case "lie": {
      if (n < 1) return b;
      const pi = parse(b);
      const ver = b[0] >> 4;
      switch (mu.field % 8) {
        case 0:
          if (ver === 4) put16(b, 2, lengthValue(mu.v, (b[2] << 8) | b[3]));
          else put16(b, 4, lengthValue(mu.v, (b[4] << 8) | b[5]));
          break;
        case 1:
          if (ver === 4) b[0] = 0x40 | (mu.v & 15);
          break;
        case 2:
          if (pi.proto === 17 || pi.proto === 136)
            put16(b, pi.l4Off + 4, lengthValue(mu.v, (b[pi.l4Off + 4] << 8) | b[pi.l4Off + 5]));
          break;
        case 3:
          if (pi.proto === 6 && pi.l4Off + 12 < n) b[pi.l4Off + 12] = ((mu.v & 15) << 4) | (b[pi.l4Off + 12] & 15);
          break;
        case 4:
          // the first IPv6 extension header's length byte
          if (ver === 6 && n > 41) b[41] = mu.v & 0xff;
          break;
        case 5: {
          // the quoted packet's length field inside an ICMP error
          const q = pi.l4Off + 8;
          if ((pi.proto === 1 || pi.proto === 58) && q + 6 < n) {
            if (b[q] >> 4 === 4) put16(b, q + 2, lengthValue(mu.v, (b[q + 2] << 8) | b[q + 3]));
            else put16(b, q + 4, lengthValue(mu.v, (b[q + 4] << 8) | b[q + 5]));
          }
          break;
        }
        case 6:
          b[0] = ((mu.v & 15) << 4) | (b[0] & 15);
          break;
        default:
          if (ver === 4 && n >= 8) put16(b, 6, mu.v & 0xffff);
      }
      return b;
    }
    case "ipopts": {
      if (n < 20 || b[0] >> 4 !== 4) return b;
      const hl = (b[0] & 15) << 2;
      if (hl < 20 || hl > n) return b;
      const opts = mu.bytes.slice(0, 40);
      const ol = (opts.length + 3) & ~3;
      const out = new Uint8Array(20 + ol + (n - hl));
      out.set(b.subarray(0, 20));
      out.set(opts, 20);
      out.set(b.subarray(hl), 20 + ol);
      out[0] = 0x40 | ((20 + ol) >> 2);
      put16(out, 2, ((b[2] << 8) | b[3]) - hl + 20 + ol);
      return out;
    }
    case "tcpopts": {
      const pi = parse(b);
      if (pi.proto !== 6 || pi.l4Status !== WireStatus.Ok || pi.isFragment) return b;
      const o = pi.l4Off;
      const thl = pi.tcpHeaderLen;
      const opts = mu.bytes.slice(0, 40);
      const ol = (opts.length + 3) & ~3;
      const out = new Uint8Array(n - thl + 20 + ol);
      out.set(b.subarray(0, o + 20));
      out.set(opts, o + 20);
      out.set(b.subarray(o + thl), o + 20 + ol);
      out[o + 12] = (((20 + ol) >> 2) << 4) | (out[o + 12] & 15);
      if (pi.family === 4) put16(out, 2, ((b[2] << 8) | b[3]) - thl + 20 + ol);
      else put16(out, 4, ((b[4] << 8) | b[5]) - thl + 20 + ol);
      return out;
    }
  }
}

// ---- hostile fragments ------------------------------------------------------------------------------

/** location of the IPv6 fragment header in a fragment made by fragment(), -1 if none */
function v6FragHeader(b: Uint8Array): number {
  let nh = b[6];
  let p = 40;
  while (p + 8 <= b.length) {
    if (nh === 44) return p;
    if (nh !== 0 && nh !== 43 && nh !== 60) return -1;
    nh = b[p];
    p += (b[p + 1] + 1) << 3;
  }
  return -1;
}

function setFragOffset(f: Uint8Array, off: number, more: boolean | null): void {
  if (f.length < 20) return;
  if (f[0] >> 4 === 4) {
    const cur = (f[6] << 8) | f[7];
    const mf = more === null ? cur & 0x2000 : more ? 0x2000 : 0;
    put16(f, 6, (cur & 0xc000) | mf | ((off >> 3) & 0x1fff));
    fixChecksums(f);
  } else {
    const fh = v6FragHeader(f);
    if (fh < 0) return;
    const cur = (f[fh + 2] << 8) | f[fh + 3];
    const m = more === null ? cur & 1 : more ? 1 : 0;
    put16(f, fh + 2, (off & 0xfff8) | m);
  }
}

function fragOffsetOf(f: Uint8Array): number {
  if (f[0] >> 4 === 4) return (((f[6] << 8) | f[7]) & 0x1fff) << 3;
  const fh = v6FragHeader(f);
  return fh < 0 ? 0 : ((f[fh + 2] << 8) | f[fh + 3]) & 0xfff8;
}

/** hostileFragments: fragments of `p`, with the abuse `args[0]` selects. */
export function hostileFragments(p: Uint8Array, args: readonly number[]): Uint8Array[] {
  const x = (i: number): number => args[i % args.length] ?? 0;
  const mtu = pick([68, 96, 128, 256, 576, 1280, 1500, 1000], x(1));
  let frags: Uint8Array[];
  try {
    frags = fragment(p, mtu, { id: x(3) });
  } catch {
    return [p];
  }
  if (frags.length === 0) return [p];
  const n = frags.length;
  const k = x(2) % Math.max(1, n);
  switch (x(0) % 10) {
    case 0:
      break;
    case 1:
      frags.reverse();
      break;
    case 2:
      frags.splice(k, 0, frags[k]!.slice());
      break;
    case 3:
      // never completed
      frags.splice(k, 1);
      break;
    case 4: {
      // overlap: move one fragment back by some multiple of 8
      const f = frags[k]!;
      setFragOffset(f, Math.max(0, fragOffsetOf(f) - 8 * (1 + (x(4) % 8))), null);
      break;
    }
    case 5: {
      // oversized: the last fragment placed so that the datagram passes 65535 bytes
      const f = frags[n - 1]!;
      setFragOffset(f, 65528 - 8 * (x(4) % 4), false);
      break;
    }
    case 6: {
      // the same offset again with other bytes
      const f = frags[k]!.slice();
      for (let i = f.length - 8; i < f.length; i++) if (i > 0) f[i] ^= 0xa5;
      frags.splice(k + 1, 0, f);
      break;
    }
    case 7: {
      // a non-last fragment whose length is not a multiple of 8, or a zero-length one
      const f = frags[k]!;
      const cut =
        x(4) & 1 ? f.slice(0, f.length - 3) : f.slice(0, f[0] >> 4 === 4 ? (f[0] & 15) << 2 : v6FragHeader(f) + 8);
      if (cut[0] >> 4 === 4) put16(cut, 2, cut.length);
      else put16(cut, 4, cut.length - 40);
      setFragOffset(cut, fragOffsetOf(cut), true);
      frags[k] = cut;
      break;
    }
    case 8: {
      // two last fragments with different ends
      const f = frags[n - 1]!.slice();
      setFragOffset(f, fragOffsetOf(f) + 8, false);
      frags.push(f);
      break;
    }
    default: {
      // shuffle
      for (let i = n - 1; i > 0; i--) {
        const j = Math.imul(x(5) + i, 0x9e3779b1) >>> 0;
        const jj = j % (i + 1);
        const t = frags[i]!;
        frags[i] = frags[jj]!;
        frags[jj] = t;
      }
    }
  }
  return frags;
}

// ---- materialize --------------------------------------------------------------------------------------

/** A packet ready to send: interface, time offset (s), PACKET_* type, bytes. */
export interface FuzzPacket {
  ifindex: number;
  t: number;
  pktType: number;
  bytes: Uint8Array;
}

/** ops whose source could not be built (counted, for the runner's statistics) */
export let materializeSkipped = 0;

function emitSource(src: Source, reals: RealPacket[]): Emitted[] {
  switch (src.k) {
    case "random":
      return [{ ifindex: IF_LAN, bytes: Uint8Array.from(src.bytes) }];
    case "real": {
      const r = reals[src.i % reals.length]!;
      return [{ ifindex: r.ifindex, bytes: r.bytes.slice() }];
    }
    default:
      return template(src.t, src.a);
  }
}

/** materialize: the packets a list of ops stands for, times relative to FUZZ_START (see FUZZ_SPAN_*). */
export function materialize(ops: readonly PacketOp[]): FuzzPacket[] {
  const reals = realPackets();
  const out: FuzzPacket[] = [];
  let t = 0;
  for (const op of ops) {
    t = Math.max(FUZZ_SPAN_MIN, Math.min(FUZZ_SPAN_MAX, t + op.gapMs / 1000));
    let base: Emitted[];
    try {
      base = emitSource(op.src, reals);
    } catch {
      // an inconsistent template spec (the builders refuse some combinations): nothing to send
      materializeSkipped++;
      continue;
    }
    for (const e of base) {
      let b = e.bytes;
      for (const mu of op.muts) b = mutate(b, mu);
      if (op.fix) fixChecksums(b);
      const parts = op.frag === 1 ? hostileFragments(b, op.fragArgs) : [b];
      for (const p of parts) {
        scrubReserved(p);
        out.push({ ifindex: op.iface === 0 ? e.ifindex : op.iface, t, pktType: op.pktType, bytes: p });
      }
    }
  }
  return out;
}

// ---- fast-check arbitraries ----------------------------------------------------------------------------

const bytesArb = (max: number): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: max });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.record({ m: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ m: fc.constant("set" as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    weight: 2,
  },
  { arbitrary: fc.record({ m: fc.constant("cut" as const), len: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ m: fc.constant("grow" as const), bytes: bytesArb(64) }), weight: 1 },
  { arbitrary: fc.record({ m: fc.constant("lie" as const), field: fc.nat(), v: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ m: fc.constant("ipopts" as const), bytes: bytesArb(44) }), weight: 2 },
  { arbitrary: fc.record({ m: fc.constant("tcpopts" as const), bytes: bytesArb(44) }), weight: 2 },
  { arbitrary: fc.record({ m: fc.constant("flags" as const), v: fc.integer({ min: 0, max: 255 }) }), weight: 2 },
);

export const sourceArb: fc.Arbitrary<Source> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant("random" as const), bytes: bytesArb(1600) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant("real" as const), i: fc.nat() }), weight: 3 },
  {
    arbitrary: fc.record({
      k: fc.constant("tpl" as const),
      t: fc.nat({ max: 13 }),
      a: fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
    }),
    weight: 6,
  },
);

export const opArb: fc.Arbitrary<PacketOp> = fc.record({
  iface: fc.oneof({ arbitrary: fc.constant(0), weight: 8 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }),
  pktType: fc.oneof(
    { arbitrary: fc.constant(0), weight: 12 },
    { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 },
  ),
  // time mostly goes forward; now and then it jumps back, as out-of-order captures make it
  gapMs: fc.oneof(
    { arbitrary: fc.constant(0), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 50 }), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 5000 }), weight: 3 },
    { arbitrary: fc.integer({ min: -5000, max: 0 }), weight: 1 },
  ),
  src: sourceArb,
  muts: fc.oneof(
    { arbitrary: fc.constant<Mutation[]>([]), weight: 2 },
    { arbitrary: fc.array(mutationArb, { maxLength: 4 }), weight: 3 },
  ),
  fix: fc.boolean(),
  frag: fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.constant(1), weight: 1 }),
  fragArgs: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
});

/** a fuzz case's packets: what arrives before the good flow */
export const caseArb: fc.Arbitrary<PacketOp[]> = fc.array(opArb, { minLength: 1, maxLength: 40 });

/** a fuzz case: the packets, and the sysctl profile of the gateway they go through (SYSCTL_PROFILES) */
export interface PacketsCase {
  profile: number;
  ops: PacketOp[];
}

export const packetsCaseArb: fc.Arbitrary<PacketsCase> = fc.record({
  profile: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.nat({ max: 4 }), weight: 2 }),
  ops: caseArb,
});
