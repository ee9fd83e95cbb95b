/**
 * Fuzz target "packets": hostile traffic through the whole gateway (parse, defrag, conntrack, NAT, rules,
 * routing, the local stack), then the instance-survives check.
 *
 * Contract checked for every case:
 * - no exception escapes `Gateway.receive`, whatever the bytes;
 * - every packet is classified: it reaches an end that is counted (a fate counter moves);
 * - the connection table still lists and the counters still save;
 * - afterwards the same gateway processes the good flow (fuzz/lib/gateway.ts) exactly as a fresh one:
 *   the same bytes out of the same interfaces at the same times, the same conntrack entries.
 */
import { readFileSync } from "node:fs";
import { buildFuzzGateway, checkSurvives, FUZZ_START, fateSummary, fateTotal, IFACE_NAMES } from "../lib/gateway.js";
import { caseArb, type FuzzPacket, materialize, type PacketOp } from "../lib/packets.js";
import { describeError, type FuzzTarget, hex, unhex } from "../lib/target.js";

/** checkPackets: the contract for a list of packets (see the module comment). null when it holds. */
export function checkPackets(pkts: readonly FuzzPacket[]): string | null {
  const { gw, sink } = buildFuzzGateway();
  sink.keep = false;
  for (let i = 0; i < pkts.length; i++) {
    const p = pkts[i]!;
    const before = fateTotal(gw);
    const copy = p.bytes.slice();
    try {
      gw.gateway.receive(p.ifindex, copy, 0, copy.length, FUZZ_START + p.t, p.pktType);
    } catch (e) {
      return `packet #${i} (${p.bytes.length} bytes on ${IFACE_NAMES[p.ifindex]}) threw: ${describeError(e)}`;
    }
    if (fateTotal(gw) === before) {
      return `packet #${i} (${p.bytes.length} bytes on ${IFACE_NAMES[p.ifindex]}) was not counted anywhere (${fateSummary(gw)})`;
    }
  }
  let diff: string | null;
  try {
    diff = checkSurvives(gw, sink);
    gw.saveCounters(4);
    gw.saveCounters(6);
  } catch (e) {
    return `after the fuzz traffic: ${describeError(e)}`;
  }
  return diff === null ? null : `after ${pkts.length} fuzz packets: ${diff}`;
}

/** Reproduction file of the packets target. */
export interface PacketsRepro {
  target: "packets";
  seed: number;
  path: string;
  failure: string;
  packets: { ifindex: number; t: number; pktType: number; hex: string }[];
  ops: PacketOp[];
}

/** packetsFromRepro: the packets of a reproduction file. */
export function packetsFromRepro(file: string): FuzzPacket[] {
  const r = JSON.parse(readFileSync(file, "utf8")) as PacketsRepro;
  return r.packets.map((p) => ({ ifindex: p.ifindex, t: p.t, pktType: p.pktType, bytes: unhex(p.hex) }));
}

export const packetsTarget: FuzzTarget<PacketOp[]> = {
  name: "packets",
  arbitrary: caseArb,
  check: (ops) => checkPackets(materialize(ops)),
  repro(ops, failure, seed, path) {
    const r: PacketsRepro = {
      target: "packets",
      seed,
      path,
      failure,
      packets: materialize(ops).map((p) => ({ ifindex: p.ifindex, t: p.t, pktType: p.pktType, hex: hex(p.bytes) })),
      ops,
    };
    return [{ ext: "json", data: `${JSON.stringify(r, null, 1)}\n` }];
  },
};
