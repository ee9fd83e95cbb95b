/**
 * Fragment reassembly under hostile fragments: the memory it really holds follows the memory Linux
 * charges (truesize against net.ipv4.ipfrag_high_thresh), whatever offsets the fragments claim.
 *
 * Before: a queue's data buffer was indexed by fragment offset, so one 8-byte fragment at offset 65000
 * grew it to 64 KiB while 1 KiB was charged; 4,000 such queues (within the 4 MiB limit) held 267 MB. And
 * freed queues kept whatever size they had grown to, so large datagrams could pin memory in the pool.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DefragUser, DefragVerdict, Reassembler } from "../../src/defrag/reassembler.js";
import { buildPacket, fragment } from "../../src/wire/build.js";
import { PacketInfo } from "../../src/wire/packet-info.js";
import { parsePacket } from "../../src/wire/parse.js";

const pi = new PacketInfo();

function feed(r: Reassembler, b: Uint8Array, now: number): number {
  parsePacket(pi, b, 0, b.length);
  return pi.family === 4
    ? r.defragIpv4(pi, now, DefragUser.ConntrackIn, 2)
    : r.defragIpv6(pi, now, DefragUser.ConntrackIn, 2);
}

function far4(i: number): Uint8Array {
  // one 8-byte fragment near the end of a 64 KiB datagram, a new datagram each time
  return buildPacket({
    src: `10.1.${(i >> 8) & 255}.${i & 255}`,
    dst: "10.2.0.1",
    id: i & 0xffff,
    mf: true,
    fragOff: 65000,
    proto: 17,
    payload: new Uint8Array(8),
  });
}

test("IPv4: 20,000 far-offset fragments, each its own datagram: charged memory at the limit, real memory near it", () => {
  const r = new Reassembler();
  let stolen = 0;
  let dropped = 0;
  for (let i = 0; i < 20000; i++) {
    const v = feed(r, far4(i), 1000 + i * 1e-4);
    if (v === DefragVerdict.Stolen) stolen++;
    else if (v === DefragVerdict.Drop) dropped++;
  }
  // Linux admits a fragment while the charge is at most the threshold: it ends at most one fragment over
  assert.ok(r.memV4 <= 4 * 1024 * 1024 + 1232, `charged ${r.memV4}`);
  assert.ok(r.memV4 > 4 * 1024 * 1024 - 1232, `charged ${r.memV4}`);
  assert.equal(stolen, r.queueCount);
  assert.equal(dropped, 20000 - stolen);
  assert.equal(r.stats.memDrops, dropped);
  const held = r.bytesUsed();
  assert.ok(held < 2 * r.memV4, `held ${held} bytes for ${r.memV4} charged`);
  // the queues time out (30 s) and the memory is free for good datagrams again
  const good = fragment(
    buildPacket({
      src: "10.3.0.1",
      dst: "10.2.0.1",
      id: 7,
      udp: { sport: 1, dport: 2, payload: new Uint8Array(3000) },
    }),
    1500,
  );
  const now = 1000 + 2 + 31;
  assert.equal(feed(r, good[0]!, now), DefragVerdict.Stolen);
  assert.equal(r.queueCount, 1);
  assert.equal(r.memV4 < 16 * 1024, true);
  assert.equal(feed(r, good[1]!, now), DefragVerdict.Stolen);
  assert.equal(feed(r, good[2]!, now), DefragVerdict.Reassembled);
  assert.equal(r.reassembledLen, 3028);
});

test("IPv6: far-offset fragments from many sources stay within nf_conntrack_frag6_high_thresh", () => {
  const r = new Reassembler();
  for (let i = 0; i < 12000; i++) {
    const p = buildPacket({
      src: `fd00::${(i & 0xffff).toString(16)}`,
      dst: "fd01::1",
      ext: [{ type: "fragment", offset: 65000 & ~7, more: true, id: i }],
      proto: 59,
      payload: new Uint8Array(8),
    });
    feed(r, p, 1000 + i * 1e-4);
  }
  assert.ok(r.memV6 <= 4 * 1024 * 1024 + 1232, `charged ${r.memV6}`);
  assert.ok(r.stats.memDrops > 0);
  assert.ok(r.bytesUsed() < 2 * r.memV6, `held ${r.bytesUsed()} for ${r.memV6} charged`);
});

test("queues freed after a large datagram do not pin its buffers when reused and held", () => {
  // Alternate: reassemble a 60 KB datagram, then open (and keep) a small queue, which reuses the freed
  // large one. Without a cap every round pins another 64 KiB of buffers behind 1 KiB of charge.
  const r = new Reassembler();
  const big = fragment(
    buildPacket({ src: "10.5.0.1", dst: "10.2.0.1", udp: { sport: 1, dport: 2, payload: new Uint8Array(60000) } }),
    1500,
  );
  let t = 1000;
  for (let round = 0; round < 300; round++) {
    for (const f of big) {
      f[4] = round >> 8;
      f[5] = round & 255;
      f[10] = 0;
      f[11] = 0;
      let s = 0;
      for (let k = 0; k < 20; k += 2) s += (f[k] << 8) | f[k + 1];
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      f[10] = (~s >> 8) & 255;
      f[11] = ~s & 255;
      feed(r, f, t);
    }
    assert.equal(r.lastReason, 3, `round ${round} reassembled`);
    feed(r, far4(round + 1), t);
    t += 0.01;
  }
  assert.equal(r.queueCount, 300);
  assert.ok(r.bytesUsed() < 300 * 4096 + 2 * 1024 * 1024, `held ${r.bytesUsed()} bytes`);
});

test("IPv4 per-source fragment counters (inet_peer) are kept only while a queue from the source lives", () => {
  const r = new Reassembler();
  // 50,000 sources, each sending one complete 2-fragment datagram
  for (let i = 0; i < 50000; i++) {
    const p = buildPacket({
      src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      dst: "10.200.0.1",
      id: i & 0xffff,
      udp: { sport: 1, dport: 2, payload: new Uint8Array(40) },
    });
    for (const f of fragment(p, 48)) feed(r, f, 1000 + i * 1e-4);
  }
  assert.equal(r.stats.reasmOks, 50000);
  assert.equal(r.queueCount, 0);
  assert.equal(r.peerCount, 0, "no queue left, no counter kept");
  // the max_dist check still sees fragments of other queues from the same source in between
  const a = fragment(
    buildPacket({
      src: "10.9.9.9",
      dst: "10.200.0.1",
      id: 1,
      udp: { sport: 1, dport: 2, payload: new Uint8Array(40) },
    }),
    48,
  );
  assert.equal(feed(r, a[0]!, 2000), DefragVerdict.Stolen);
  assert.equal(r.peerCount, 1);
  for (let k = 0; k < 65; k++) {
    const other = buildPacket({
      src: "10.9.9.9",
      dst: "10.200.0.1",
      id: 100 + k,
      mf: true,
      proto: 17,
      payload: new Uint8Array(8),
    });
    feed(r, other, 2000);
  }
  // 65 fragments from the source since a[0]: the queue is restarted, a[1] alone cannot complete it
  assert.equal(feed(r, a[1]!, 2000), DefragVerdict.Stolen);
  assert.equal(r.stats.reasmFails, 1);
});
