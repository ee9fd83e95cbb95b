/**
 * Fuzz target "packets": hostile traffic through the whole gateway (parse, defrag, conntrack, NAT, rules,
 * routing, the local stack), then the instance-survives check.
 *
 * Contract checked for every case:
 * - no exception escapes `Gateway.receive`, whatever the bytes;
 * - every packet is classified: it reaches an end that is counted (a fate counter moves);
 * - every packet the gateway sends (not those it delivers to itself) parses, with a right IPv4 header
 *   checksum, and a right transport checksum unless the packet that caused it had a wrong one (NAT and
 *   TTL arithmetic, IPv4 options on forwarding, the stack's own packets);
 * - the connection table still lists and the counters still save;
 * - afterwards the same gateway processes the good flow (fuzz/lib/gateway.ts) exactly as a fresh one:
 *   the same bytes out of the same interfaces at the same times, the same conntrack entries.
 */
import { readFileSync } from "node:fs";
import { verifyIpv4HeaderChecksum, verifyL4Checksum } from "../../src/wire/checksum.js";
import { PacketInfo, WIRE_STATUS_NAMES, WireStatus } from "../../src/wire/packet-info.js";
import { parsePacket } from "../../src/wire/parse.js";
import {
  buildFuzzGateway,
  checkSurvives,
  FUZZ_START,
  fateSummary,
  fateTotal,
  IFACE_NAMES,
  sysctlProfile,
} from "../lib/gateway.js";
import { type FuzzPacket, materialize, type PacketOp, type PacketsCase, packetsCaseArb } from "../lib/packets.js";
import { describeError, type FuzzTarget, hex, unhex } from "../lib/target.js";

/** checkPackets: the contract for a list of packets (see the module comment). null when it holds. */
export function checkPackets(pkts: readonly FuzzPacket[], profile = 0): string | null {
  const { gw, sink } = buildFuzzGateway({ sysctl: sysctlProfile(profile) });
  sink.keep = true;
  for (let i = 0; i < pkts.length; i++) {
    const p = pkts[i]!;
    const before = fateTotal(gw);
    const copy = p.bytes.slice();
    const inputBad = badL4Checksum(p.bytes);
    try {
      gw.gateway.receive(p.ifindex, copy, 0, copy.length, FUZZ_START + p.t, p.pktType);
    } catch (e) {
      return `packet #${i} (${p.bytes.length} bytes on ${IFACE_NAMES[p.ifindex]}) threw: ${describeError(e)}`;
    }
    if (fateTotal(gw) === before) {
      return `packet #${i} (${p.bytes.length} bytes on ${IFACE_NAMES[p.ifindex]}) was not counted anywhere (${fateSummary(gw)})`;
    }
    for (const o of sink.out) {
      // what is delivered to the gateway itself is the packet as received (Linux recomputes no checksum
      // after its receive path rewrote the IPv4 options); what it sends must be right
      if (o.kind !== "tx") continue;
      const why = outputProblem(o.bytes, inputBad);
      if (why !== null) {
        return `packet #${i} (${hex(p.bytes)} on ${IFACE_NAMES[p.ifindex]}) made a packet out of ${IFACE_NAMES[o.ifindex]} that ${why}: ${hex(o.bytes)}`;
      }
    }
    sink.out.length = 0;
  }
  sink.keep = false;
  let diff: string | null;
  try {
    diff = checkSurvives(gw, sink, profile);
    gw.saveCounters(4);
    gw.saveCounters(6);
  } catch (e) {
    return `after the fuzz traffic: ${describeError(e)}`;
  }
  return diff === null ? null : `after ${pkts.length} fuzz packets: ${diff}`;
}

const opi = new PacketInfo();

/**
 * badL4Checksum: the packet's transport checksum is wrong, or cannot be judged (a fragment: the datagram
 * it completes has a checksum nobody checked)
 */
function badL4Checksum(b: Uint8Array): boolean {
  if (parsePacket(opi, b, 0, b.length) !== WireStatus.Ok) return false;
  return opi.isFragment || verifyL4Checksum(opi) === WireStatus.BadChecksum;
}

/**
 * outputProblem: what is wrong with a packet the gateway sent, or null. Everything it sends parses as an
 * IP packet with a correct IPv4 header checksum (it decremented the TTL, NAT rewrote addresses, or it
 * built the packet itself); and a whole packet's transport checksum is correct unless the packet that
 * caused it already had a wrong one (NAT updates checksums, it does not repair them).
 */
function outputProblem(b: Uint8Array, inputBad: boolean): string | null {
  const st = parsePacket(opi, b, 0, b.length);
  if (st !== WireStatus.Ok && st !== WireStatus.BadOptions) return `does not parse (${WIRE_STATUS_NAMES[st]})`;
  if (opi.family === 4 && !verifyIpv4HeaderChecksum(opi)) return "has a wrong IPv4 header checksum";
  if (st === WireStatus.Ok && !opi.isFragment && !inputBad && verifyL4Checksum(opi) === WireStatus.BadChecksum) {
    return "has a wrong transport checksum (the packet that caused it had a right one)";
  }
  return null;
}

/** Reproduction file of the packets target. */
export interface PacketsRepro {
  target: "packets";
  seed: number;
  path: string;
  failure: string;
  /** sysctl profile (fuzz/lib/gateway.ts SYSCTL_PROFILES) */
  profile: number;
  packets: { ifindex: number; t: number; pktType: number; hex: string }[];
  ops: PacketOp[];
}

/** packetsFromRepro: the packets of a reproduction file, and its sysctl profile. */
export function packetsFromRepro(file: string): { packets: FuzzPacket[]; profile: number } {
  const r = JSON.parse(readFileSync(file, "utf8")) as PacketsRepro;
  return {
    packets: r.packets.map((p) => ({ ifindex: p.ifindex, t: p.t, pktType: p.pktType, bytes: unhex(p.hex) })),
    profile: r.profile ?? 0,
  };
}

export const packetsTarget: FuzzTarget<PacketsCase> = {
  name: "packets",
  arbitrary: packetsCaseArb,
  check: (c) => checkPackets(materialize(c.ops), c.profile),
  repro(c, failure, seed, path) {
    const r: PacketsRepro = {
      target: "packets",
      seed,
      path,
      failure,
      profile: c.profile,
      packets: materialize(c.ops).map((p) => ({ ifindex: p.ifindex, t: p.t, pktType: p.pktType, hex: hex(p.bytes) })),
      ops: c.ops,
    };
    return [{ ext: "json", data: `${JSON.stringify(r, null, 1)}\n` }];
  },
};
