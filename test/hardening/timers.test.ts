/**
 * What the gateway sends because a timer ran out (a reassembly queue timing out draws an ICMP time
 * exceeded) goes out at its time: before the packet whose arrival finds the timer due, not after that
 * packet's own output.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildFuzzGateway, IF_LAN } from "../../fuzz/lib/gateway.js";
import { buildPacket, fragment } from "../../src/wire/build.js";

test("an ICMPv6 time exceeded (reassembly) goes out before the packet that finds its queue expired", () => {
  const { gw, sink } = buildFuzzGateway();
  const t0 = 1_700_000_000;
  const dgram = buildPacket({
    src: "fd77:1::2",
    dst: "fd77:2::2",
    udp: { sport: 1000, dport: 2000, payload: new Uint8Array(3000) },
  });
  const first = fragment(dgram, 1280, { id: 77 })[0]!;
  gw.gateway.receive(IF_LAN, first, 0, first.length, t0);
  assert.equal(sink.out.length, 0, "queued");
  // 61 s later (nf_conntrack_frag6_timeout is 60 s) the lan host sends an ordinary packet
  const syn = buildPacket({ src: "fd77:1::3", dst: "fd77:2::3", tcp: { sport: 1, dport: 80, flags: "S" } });
  gw.gateway.receive(IF_LAN, syn, 0, syn.length, t0 + 61);
  const kinds = sink.out.map(
    (o) => `${o.ifindex} ${o.bytes[6] === 58 ? `icmpv6 ${o.bytes[40]}/${o.bytes[41]}` : "tcp"}`,
  );
  assert.deepEqual(
    kinds,
    ["2 icmpv6 3/1", "3 tcp"],
    "time exceeded (fragment reassembly) first, then the forwarded SYN",
  );
  assert.equal(sink.out[0]!.now, t0 + 60, "stamped with the time the queue expired");
});
