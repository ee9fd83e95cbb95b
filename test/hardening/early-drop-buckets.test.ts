/**
 * Early drop honours net.netfilter.nf_conntrack_buckets.
 *
 * Linux's early_drop scans the new tuple's hash bucket and the 7 after it, out of nf_conntrack_buckets
 * (262144 on the recording machine, whatever nf_conntrack_max is set to), and drops the new connection
 * when those 8 buckets hold nothing evictable. ctnat's early drop looks at the chains of a table of
 * nf_conntrack_buckets buckets too (its own index is sized differently); when it took its chains from
 * its own capacity (131072 for 65536 entries), they were twice as full and it dropped 15 (0.02%).
 *
 * Measured on Linux 6.18 (a network namespace gateway with a DNAT port forward, nf_conntrack_max 65536,
 * nf_conntrack_buckets 262144, 150,000 SYNs from random sources sent with tcpreplay): conntrack -S
 * drop 1121, early_drop 83343; 148,879 forwarded. That is 1.3% of the ~84,500 SYNs that came once the
 * table was full.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildFuzzGateway, IF_WAN } from "../../fuzz/lib/gateway.js";
import { Fate } from "../../src/engine/stats.js";
import { buildPacket } from "../../src/wire/build.js";

test("SYN flood with nf_conntrack_max 65536 and nf_conntrack_buckets 262144: about 1.3% of the SYNs after the table filled are dropped, as in Linux", () => {
  const sysctl = new Map([
    ["net.ipv4.ip_forward", "1"],
    ["net.netfilter.nf_conntrack_max", "65536"],
    ["net.netfilter.nf_conntrack_buckets", "262144"],
  ]);
  const { gw, sink } = buildFuzzGateway({ sysctl });
  sink.keep = false;
  const syn = buildPacket({
    src: "198.18.0.1",
    dst: "10.77.2.1",
    tcp: { sport: 1, dport: 8080, seq: 1, flags: "S", win: 1000 },
  });
  let s = 424242;
  const n = 150_000;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const a = s >>> 0;
    const b = syn.slice();
    b[12] = 100 + (a & 15);
    b[13] = a >>> 8;
    b[14] = a >>> 16;
    b[15] = 1 + ((a >>> 24) % 254);
    b[20] = a >>> 4;
    b[21] = a >>> 20;
    // header and TCP checksums
    let x = 0;
    b[10] = 0;
    b[11] = 0;
    for (let k = 0; k < 20; k += 2) x += (b[k]! << 8) | b[k + 1]!;
    while (x > 0xffff) x = (x & 0xffff) + (x >>> 16);
    b[10] = (~x >> 8) & 255;
    b[11] = ~x & 255;
    let y = 6 + 20;
    b[36] = 0;
    b[37] = 0;
    for (let k = 12; k < 40; k += 2) y += (b[k]! << 8) | b[k + 1]!;
    while (y > 0xffff) y = (y & 0xffff) + (y >>> 16);
    b[36] = (~y >> 8) & 255;
    b[37] = ~y & 255;
    gw.gateway.receive(IF_WAN, b, 0, b.length, 1_700_000_000 + i * 1e-5);
  }
  const drops = gw.gateway.stats.fate[Fate.ConntrackDrop];
  const afterFull = n - 65536;
  assert.ok(drops > afterFull * 0.008 && drops < afterFull * 0.025, `${drops} of ${afterFull} dropped`);
});
