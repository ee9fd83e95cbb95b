/**
 * IPv4 options on forwarding (src/stack ipv4-options.ts), first found wrong by the packets fuzz target's output check (every packet the gateway sends must carry a right
 * IPv4 header checksum; seed 31) and confirmed on Linux 6.18: a network namespace gateway forwarding the
 * same packets (10.88.0.2 -> 10.88.1.2 through 10.88.0.1 / 10.88.1.1), captured on its way out.
 *
 * What Linux does (net/ipv4/ip_options.c): the receive path (__ip_options_compile) writes the timestamp,
 * the timestamp's address (the gateway's own address towards the sender, spec_dst), bumps the overflow
 * counter of a full timestamp option, and turns bytes after an end-of-list into end-of-list; each sets
 * opt->is_changed, and ip_forward_options recomputes the header checksum when is_changed is set. It
 * overwrites the record-route slot with the outgoing route's source (rr_needaddr), but the timestamp's
 * address only when a source route was hit (srr_is_hit), which never happens here.
 *
 * ctnat did the same since: the receive path's changes are noted (Ipv4RxOptions.changed) and make
 * ipv4ForwardOptions recompute the checksum, and the timestamp's address is left as the receive path wrote it.
 *
 * Kernel capture (packets sent with TTL 64; what left the gateway):
 *   TS only, 44 0c 05 00 ...     -> 44 0c 09 00 <ms since midnight> 00000000        checksum right
 *   TS + address, 44 0c 05 01   -> 44 0c 0d 01 0a580001 (10.88.0.1) <ms>          checksum right
 *   TS full, 44 0c 0d 10 ...    -> 44 0c 0d 20 (overflow counter 1 -> 2)          checksum right
 *   record route, 07 07 04 ...  -> 07 07 08 0a580101 (10.88.1.1) 01              checksum right
 *   end-of-list, 00 07 07 07    -> 00 00 00 00                                    checksum right
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildFuzzGateway, IF_LAN } from "../../fuzz/lib/gateway.js";
import { buildPacket } from "../../src/wire/build.js";
import { verifyIpv4HeaderChecksum } from "../../src/wire/checksum.js";
import { PacketInfo } from "../../src/wire/packet-info.js";
import { parsePacket } from "../../src/wire/parse.js";

/** the forwarded packet of `options` from 10.77.1.2 to 10.77.2.2 (lan0 10.77.1.1, wan0 10.77.2.1) */
function forward(options: number[]): { header: string; checksumRight: boolean } {
  const { gw, sink } = buildFuzzGateway({ rules4: null, rules6: null });
  const ip = buildPacket({
    src: "10.77.1.2",
    dst: "10.77.2.2",
    ipOptions: options,
    udp: { sport: 1, dport: 2, payload: "x" },
  });
  gw.gateway.receive(IF_LAN, ip, 0, ip.length, 1_700_000_000);
  assert.equal(sink.out.length, 1, "forwarded");
  const out = sink.out[0]!.bytes;
  const pi = new PacketInfo();
  parsePacket(pi, out, 0, out.length);
  return {
    header: Buffer.from(out.subarray(20, (out[0]! & 15) * 4)).toString("hex"),
    checksumRight: verifyIpv4HeaderChecksum(pi),
  };
}

test("forwarding a timestamp option (timestamps only): the header checksum is recomputed", () => {
  const r = forward([0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.match(r.header, /^440c0900[0-9a-f]{8}00000000$/);
  assert.ok(r.checksumRight, "right IPv4 header checksum");
});

test("forwarding a full timestamp option: overflow counted and the checksum recomputed", () => {
  const r = forward([0x44, 12, 13, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(r.header, "440c0d200000000000000000");
  assert.ok(r.checksumRight, "right IPv4 header checksum");
});

test("forwarding options with bytes after end-of-list: they become end-of-list, checksum recomputed", () => {
  const r = forward([0, 7, 7, 7]);
  assert.equal(r.header, "00000000");
  assert.ok(r.checksumRight, "right IPv4 header checksum");
});

test("forwarding a timestamp-and-address option: the address is the gateway's towards the sender (spec_dst), not the outgoing route's source", () => {
  const r = forward([0x44, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.match(
    r.header,
    /^440c0d010a4d0101[0-9a-f]{8}$/,
    "10.77.1.1 (lan0, towards 10.77.1.2), as Linux writes 10.88.0.1",
  );
  assert.ok(r.checksumRight);
});

test("forwarding a record-route option: the slot holds the outgoing route's source (as Linux does, passes today)", () => {
  const r = forward([7, 7, 4, 0, 0, 0, 0, 1]);
  assert.equal(r.header, "0707080a4d020101");
  assert.ok(r.checksumRight);
});
