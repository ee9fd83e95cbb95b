import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { buildPacket, PacketInfo, parsePacket } from "../wire/index.js";
import {
  DefragReason,
  DefragUser,
  DefragVerdict,
  defaultTruesize,
  type ExpiredFragment,
  IPV4_FRAG_QUEUE_SIZE,
  Reassembler,
} from "./index.js";

const IN = DefragUser.ConntrackIn;

/** datagram: a UDP packet of n payload bytes (IPv4 or IPv6) */
function datagram(v6: boolean, n: number, id = 77, extra: Partial<Parameters<typeof buildPacket>[0]> = {}): Uint8Array {
  const payload = Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff);
  return buildPacket({
    src: v6 ? "fd00::1" : "10.0.0.1",
    dst: v6 ? "fd00::2" : "10.0.0.2",
    id,
    udp: { sport: 1000, dport: 2000, payload },
    ...extra,
  });
}

/** cut: IPv4 fragments of the given data lengths (the IP payload), as raw packets */
function cut4(
  p: Uint8Array,
  lens: number[],
  opts: { df?: boolean; tos?: number[]; ttl?: number[] } = {},
): Uint8Array[] {
  const hl = (p[0] & 0x0f) * 4;
  const data = p.subarray(hl);
  const out: Uint8Array[] = [];
  let off = 0;
  lens.forEach((l, i) => {
    const last = off + l >= data.length;
    const f = new Uint8Array(hl + l);
    f.set(p.subarray(0, hl));
    f.set(data.subarray(off, off + l), hl);
    f[2] = (hl + l) >> 8;
    f[3] = (hl + l) & 0xff;
    const fo = (off >> 3) | (last ? 0 : 0x2000) | (opts.df ? 0x4000 : 0);
    f[6] = fo >> 8;
    f[7] = fo & 0xff;
    if (opts.tos) f[1] = opts.tos[i];
    if (opts.ttl) f[8] = opts.ttl[i];
    out.push(f);
    off += l;
  });
  return out;
}

/** cut6: IPv6 fragments (no extension headers in `p`) */
function cut6(p: Uint8Array, lens: number[], id = 0x1234, tc: number[] = []): Uint8Array[] {
  const data = p.subarray(40);
  const out: Uint8Array[] = [];
  let off = 0;
  lens.forEach((l, i) => {
    const last = off + l >= data.length;
    const f = new Uint8Array(48 + l);
    f.set(p.subarray(0, 40));
    f[6] = 44;
    f[40] = p[6];
    const fo = off | (last ? 0 : 1);
    f[42] = fo >> 8;
    f[43] = fo & 0xff;
    f[44] = id >>> 24;
    f[45] = (id >>> 16) & 0xff;
    f[46] = (id >>> 8) & 0xff;
    f[47] = id & 0xff;
    f.set(data.subarray(off, off + l), 48);
    f[4] = (8 + l) >> 8;
    f[5] = (8 + l) & 0xff;
    if (tc[i] !== undefined) {
      f[0] = 0x60 | (tc[i] >> 4);
      f[1] = ((tc[i] & 0x0f) << 4) | (f[1] & 0x0f);
    }
    out.push(f);
    off += l;
  });
  return out;
}

function feed(r: Reassembler, frags: Uint8Array[], now = 0, step = 0): number[] {
  const pi = new PacketInfo();
  return frags.map((f, i) => {
    parsePacket(pi, f, 0, f.length);
    return pi.family === 4 ? r.defragIpv4(pi, now + i * step, IN, 1) : r.defragIpv6(pi, now + i * step, IN, 1);
  });
}

const S = DefragVerdict.Stolen;
const R = DefragVerdict.Reassembled;
const D = DefragVerdict.Drop;
const A = DefragVerdict.Accept;

test("IPv4: fragments in order, out of order, with duplicates", () => {
  const p = datagram(false, 2992);
  for (const order of [
    [0, 1, 2],
    [2, 1, 0],
    [1, 0, 2],
  ]) {
    const r = new Reassembler();
    const frags = cut4(p, [1000, 1000, 1000]);
    const v = feed(
      r,
      order.map((i) => frags[i]),
    );
    assert.deepEqual(v, [S, S, R]);
    assert.deepEqual(r.reassembled.subarray(0, r.reassembledLen), p);
    assert.equal(r.info.fragMaxSize, 1020);
    assert.deepEqual([...r.info.pieceLen.subarray(0, r.info.pieceCount)], [1000, 1000, 1000]);
    assert.equal(r.queueCount, 0);
    assert.equal(r.memV4, 0);
  }
  const r = new Reassembler();
  const f = cut4(p, [1000, 1000, 1000]);
  assert.deepEqual(feed(r, [f[1], f[0], f[1], f[2]]), [S, S, D, R]);
  assert.equal(r.stats.dupFrags, 1);
});

test("IPv4 overlaps drop the whole queue; a fragment inside one run is only a duplicate", () => {
  const p = datagram(false, 2992);
  const f = cut4(p, [1000, 1000, 1000]);
  const r = new Reassembler();
  // [0,1000) then [992,2000): overlaps at the tail
  const over = cut4(p, [992, 1008, 1000])[1];
  assert.deepEqual(feed(r, [f[0], over]), [S, D]);
  assert.equal(r.lastReason, DefragReason.Overlap);
  assert.equal(r.queueCount, 0);
  // the rest forms a new queue that never completes
  assert.deepEqual(feed(r, [f[1], f[2]]), [S, S]);
  // in the middle: [0,1000), last [2000,3000), then [504,1504)
  const r2 = new Reassembler();
  const mid = cut4(p, [504, 1000, 1496])[1];
  assert.deepEqual(feed(r2, [f[0], f[2], mid]), [S, S, D]);
  assert.equal(r2.stats.reasmOverlaps, 1);
  // a duplicate spanning two fragments of one run
  const r3 = new Reassembler();
  const span = cut4(p, [504, 800, 1688])[1];
  assert.deepEqual(feed(r3, [f[0], f[1], span, f[2]]), [S, S, D, R]);
  assert.equal(r3.stats.dupFrags, 1);
  // ... but spanning two runs (the second inserted before the first's end) is an overlap
  const r4 = new Reassembler();
  assert.deepEqual(feed(r4, [f[1], f[0], span]), [S, S, D]);
  assert.equal(r4.lastReason, DefragReason.Overlap);
});

test("IPv4 corrupt ends and zero-length fragments kill the queue", () => {
  const p = datagram(false, 2992);
  const f = cut4(p, [1000, 1000, 1000]);
  const lastEarly = cut4(p, [1000, 1000, 1000])[1].slice();
  lastEarly[6] &= ~0x20; // [1000,2000) without MF: a different end
  for (const [name, seq, verdicts, reason] of [
    ["second last, other end", [f[0], f[2], lastEarly], [S, S, D], DefragReason.BadEnd],
    [
      "data beyond the end",
      [f[2], cut4(datagram(false, 3992), [1000, 1000, 1000, 1000])[3]],
      [S, D],
      DefragReason.BadEnd,
    ],
  ] as const) {
    const r = new Reassembler();
    assert.deepEqual(feed(r, [...seq]), verdicts, name);
    assert.equal(r.lastReason, reason, name);
    assert.equal(r.queueCount, 0, name);
  }
  const zero = f[1].slice(0, 20);
  zero[2] = 0;
  zero[3] = 20;
  const r = new Reassembler();
  assert.deepEqual(feed(r, [f[0], zero, f[1], f[2]]), [S, D, S, S]);
});

test("IPv4: non-last fragment lengths are cut to a multiple of 8", () => {
  const p = datagram(false, 2992);
  const odd = cut4(p, [1001, 1999]);
  const r = new Reassembler();
  const rest = cut4(p, [1000, 2000])[1];
  assert.deepEqual(feed(r, [odd[0], rest]), [S, R]);
  assert.deepEqual(r.reassembled.subarray(0, r.reassembledLen), p);
  assert.deepEqual([...r.info.pieceLen.subarray(0, 2)], [1000, 2000]);
  assert.equal(r.info.fragMaxSize, 2020);
});

test("IPv4 header of the result: first fragment's, DF only if the largest fragment had it, ECN", () => {
  const p = datagram(false, 2992);
  const r = new Reassembler();
  const v = feed(r, cut4(p, [1000, 1000, 1000], { ttl: [9, 200, 3], tos: [0x02, 0x03, 0x02] }));
  assert.equal(v[2], R);
  const out = r.reassembled;
  assert.equal(out[8], 9);
  assert.equal(out[1], 0x03); // ECT(0) + CE -> CE
  assert.equal(out[6] & 0x40, 0);
  const df = new Reassembler();
  feed(df, cut4(p, [1000, 1000, 1000], { df: true }));
  assert.equal(df.reassembled[6] & 0x40, 0x40);
  assert.equal(df.info.pmtu, true);
  const bad = new Reassembler();
  assert.deepEqual(feed(bad, cut4(p, [1000, 1000, 1000], { tos: [0, 3, 0] })), [S, S, D]);
  assert.equal(bad.lastReason, DefragReason.Ecn);
});

test("IPv6: reassembly removes the fragment header; policies for bad fragments", () => {
  const p = datagram(true, 2992);
  const f = cut6(p, [1000, 1000, 1000]);
  const r = new Reassembler();
  assert.deepEqual(feed(r, [f[2], f[0], f[1]]), [S, S, R]);
  assert.deepEqual(r.reassembled.subarray(0, r.reassembledLen), p);
  assert.equal(r.info.fragMaxSize, 1048);
  // duplicates are absorbed (stolen), overlaps drop the queue
  const r2 = new Reassembler();
  assert.deepEqual(feed(r2, [f[0], f[0], f[1], f[2]]), [S, S, S, R]);
  const over = cut6(p, [992, 1008, 1000])[1];
  const r3 = new Reassembler();
  assert.deepEqual(feed(r3, [f[0], over, f[1], f[2]]), [S, D, S, S]);
  // a non-last fragment not ending on a multiple of 8: queue killed, packet passes
  const odd = cut6(p, [1001, 1999]);
  const r4 = new Reassembler();
  assert.deepEqual(feed(r4, [f[2], odd[0]]), [S, A]);
  assert.equal(r4.lastReason, DefragReason.NotMultipleOf8);
  assert.equal(r4.queueCount, 0);
  // a first fragment without the whole UDP header passes unreassembled
  const tiny = cut6(p, [4, 2996])[0];
  const r5 = new Reassembler();
  assert.deepEqual(feed(r5, [tiny]), [A]);
  assert.equal(r5.lastReason, DefragReason.TruncatedFirst);
  // inconsistent ends drop the fragment only
  const r6 = new Reassembler();
  const early = cut6(p, [1000, 1000, 1000])[1].slice();
  early[43] &= ~1;
  assert.deepEqual(feed(r6, [f[0], f[2], early, f[1]]), [S, S, D, R]);
  // an atomic fragment reassembles to the packet without fragment header
  const small = datagram(true, 92);
  const r7 = new Reassembler();
  assert.deepEqual(feed(r7, cut6(small, [100])), [R]);
  assert.deepEqual(r7.reassembled.subarray(0, r7.reassembledLen), small);
  // ECN
  const r8 = new Reassembler();
  feed(r8, cut6(p, [1000, 1000, 1000], 9, [2, 3, 2]));
  assert.equal(((r8.reassembled[0] & 0x0f) << 4) | (r8.reassembled[1] >> 4), 3);
  // not a fragment
  const pi = new PacketInfo();
  parsePacket(pi, p, 0, p.length);
  assert.equal(new Reassembler().defragIpv6(pi, 0, IN, 1), A);
});

test("IPv6: extension headers before the fragment header stay in front", () => {
  const p = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [{ type: "hop" }, { type: "dst" }],
    udp: { payload: new Uint8Array(2000).fill(7) },
  });
  const f = (() => {
    // unfragmentable part: 40 + 8 + 8
    const data = p.subarray(56);
    const out: Uint8Array[] = [];
    for (const [off, len] of [
      [0, 1000],
      [1000, data.length - 1000],
    ]) {
      const g = new Uint8Array(56 + 8 + len);
      g.set(p.subarray(0, 56));
      g[48] = 44; // dst options header now names the fragment header
      g[56] = 17;
      const fo = off | (off === 0 ? 1 : 0);
      g[58] = fo >> 8;
      g[59] = fo & 0xff;
      g[63] = 5;
      g.set(data.subarray(off, off + len), 64);
      g[4] = (g.length - 40) >> 8;
      g[5] = (g.length - 40) & 0xff;
      out.push(g);
    }
    return out;
  })();
  const r = new Reassembler();
  assert.deepEqual(feed(r, f), [S, R]);
  assert.deepEqual(r.reassembled.subarray(0, r.reassembledLen), p);
  assert.equal(r.info.headLen, 56);
});

test("timeouts: counted from the queue's creation; expired queues report their first fragment", () => {
  const p = datagram(false, 2992);
  const f = cut4(p, [1000, 1000, 1000]);
  const r = new Reassembler();
  const seen: ExpiredFragment[] = [];
  const pi = new PacketInfo();
  parsePacket(pi, f[0], 0, f[0].length);
  r.defragIpv4(pi, 100, IN, 3);
  parsePacket(pi, f[1], 0, f[1].length);
  r.defragIpv4(pi, 129.9, IN, 3); // later fragments do not extend the timer
  assert.equal(
    r.expire(129.99, (e) => seen.push(e)),
    0,
  );
  assert.equal(
    r.expire(130, (e) => seen.push(e)),
    1,
  );
  assert.equal(seen.length, 1);
  assert.equal(seen[0].at, 130);
  assert.equal(seen[0].family, 4);
  assert.deepEqual(seen[0].firstFragment, f[0]);
  assert.equal(r.stats.reasmTimeout, 1);
  assert.equal(r.memV4, 0);
  // the last fragment arriving after expiry starts a new queue
  parsePacket(pi, f[2], 0, f[2].length);
  assert.equal(r.defragIpv4(pi, 131, IN, 3), S);
  // IPv6 default 60 s; a queue without its first fragment reports none
  const r6 = new Reassembler();
  feed(r6, [cut6(datagram(true, 2992), [1000, 1000, 1000])[1]], 0);
  const s6: ExpiredFragment[] = [];
  r6.expire(59, (e) => s6.push(e));
  r6.expire(60, (e) => s6.push(e));
  assert.equal(s6.length, 1);
  assert.equal(s6[0].firstFragment.length, 0);
});

test("PREROUTING and OUTPUT fragments are separate queues (user)", () => {
  const f = cut4(datagram(false, 2992), [1000, 1000, 1000]);
  const r = new Reassembler();
  const pi = new PacketInfo();
  parsePacket(pi, f[0], 0, f[0].length);
  r.defragIpv4(pi, 0, DefragUser.ConntrackIn, 1);
  parsePacket(pi, f[1], 0, f[1].length);
  r.defragIpv4(pi, 0, DefragUser.ConntrackOut, 1);
  parsePacket(pi, f[2], 0, f[2].length);
  assert.equal(r.defragIpv4(pi, 0, DefragUser.ConntrackIn, 1), S);
  assert.equal(r.queueCount, 2);
});

test("memory: queue size + truesize per fragment; nothing accepted above the high threshold", () => {
  const r = new Reassembler({ ipv4HighThresh: 10000 });
  const pi = new PacketInfo();
  let accepted = 0;
  for (let id = 1; id < 20; id++) {
    const f = cut4(datagram(false, 2992, id), [1000, 1000, 1000])[0];
    parsePacket(pi, f, 0, f.length);
    if (r.defragIpv4(pi, 0, IN, 1) === S) accepted++;
  }
  // 1020-byte fragments cost 2304 (+ 200 per queue): accepted while the total stayed <= 10000
  assert.equal(defaultTruesize(1034), 2304);
  assert.equal(accepted, 4);
  assert.equal(r.memV4, 4 * (2304 + IPV4_FRAG_QUEUE_SIZE) + 0);
  assert.equal(r.stats.memDrops, 15);
  // the measured kernel numbers (test/fixtures/defrag/sockstat.txt), per queue of one fragment
  for (const [n, mem] of [
    [8, 1032],
    [100, 1032],
    [500, 1480],
    [1000, 2504],
    [1400, 2504],
    [4000, 8648],
    [8000, 9224],
  ]) {
    assert.equal(defaultTruesize(n + 20 + 14) + IPV4_FRAG_QUEUE_SIZE, mem, `payload ${n}`);
  }
});

test("ipfrag_max_dist: a queue that fell more than 64 fragments behind is restarted", () => {
  const r = new Reassembler();
  const p = datagram(false, 2992, 500);
  const f = cut4(p, [1000, 1000, 1000]);
  const pi = new PacketInfo();
  parsePacket(pi, f[0], 0, f[0].length);
  r.defragIpv4(pi, 0, IN, 1);
  // 65 fragments of other datagrams from the same source
  for (let id = 1; id <= 65; id++) {
    const g = cut4(datagram(false, 2992, id), [1000, 1000, 1000])[1];
    parsePacket(pi, g, 0, g.length);
    r.defragIpv4(pi, 0, IN, 1);
  }
  parsePacket(pi, f[1], 0, f[1].length);
  assert.equal(r.defragIpv4(pi, 0, IN, 1), S); // the queue was purged: f[0] is gone
  parsePacket(pi, f[2], 0, f[2].length);
  assert.equal(r.defragIpv4(pi, 0, IN, 1), S);
  // with the check disabled it completes
  const r2 = new Reassembler({ ipv4MaxDist: 0 });
  const v = feed(r2, [
    f[0],
    ...Array.from({ length: 65 }, (_, i) => cut4(datagram(false, 2992, i + 1), [1000, 1000, 1000])[1]),
    f[1],
    f[2],
  ]);
  assert.equal(v[v.length - 1], R);
});

// ---- properties -------------------------------------------------------------------------------

/** random fragmentation of n bytes: non-last pieces multiples of 8 */
const arbCut = (n: number) =>
  fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 12 }).map((ws) => {
    const lens: number[] = [];
    let left = n;
    for (const w of ws) {
      if (left <= 0) break;
      const l = Math.min(left, w * 8);
      lens.push(l);
      left -= l;
    }
    if (left > 0) lens.push(left);
    return lens;
  });

test("property: any permutation of a packet's fragments, with duplicates, reassembles to the packet", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.infiniteStream(fc.nat()),
      fc.array(fc.nat(), { maxLength: 4 }),
      (v6, n, id, rnd, dups) => {
        const p = datagram(v6, n, id);
        const dataLen = p.length - (v6 ? 40 : 20);
        return fc.assert(
          fc.property(arbCut(dataLen), (lens) => {
            const frags = v6 ? cut6(p, lens, id) : cut4(p, lens);
            if (frags.length < 2 && !v6) return; // a single IPv4 piece is no fragment
            const order = frags.map((_, i) => i);
            const it = rnd[Symbol.iterator]();
            for (let i = order.length - 1; i > 0; i--) {
              const j = (it.next().value as number) % (i + 1);
              [order[i], order[j]] = [order[j], order[i]];
            }
            // duplicates of already-sent fragments, inserted after their original
            const seq = order.map((i) => frags[i]);
            for (const d of dups) {
              const k = d % seq.length;
              if (k < seq.length - 1) seq.splice(k + 1, 0, seq[k]);
            }
            const r = new Reassembler();
            const v = feed(r, seq);
            assert.equal(v.filter((x) => x === R).length, 1);
            assert.equal(v[v.length - 1], R);
            assert.deepEqual(r.reassembled.subarray(0, r.reassembledLen), p);
            assert.equal(r.queueCount, 0);
            assert.equal(v6 ? r.memV6 : r.memV4, 0);
          }),
          { numRuns: 3, seed: id },
        );
      },
    ),
    { seed: 5722, numRuns: 150 },
  );
});

test("property: overlapping fragments are classified as Linux's run model says", () => {
  // reference model: runs created by arrival order, as inet_frag_queue_insert
  function model(pieces: [number, number][]): ("ok" | "dup" | "overlap")[] {
    const runs: [number, number][] = [];
    let tail = -1;
    let lastRun = -1;
    const out: ("ok" | "dup" | "overlap")[] = [];
    for (const [off, end] of pieces) {
      if (tail < 0) {
        runs.push([off, end]);
        lastRun = runs.length - 1;
        tail = end;
        out.push("ok");
      } else if (tail < end) {
        if (off < tail) {
          out.push("overlap");
          return out;
        }
        if (off === tail) runs[lastRun][1] = end;
        else {
          runs.push([off, end]);
          lastRun = runs.length - 1;
        }
        tail = end;
        out.push("ok");
      } else {
        const hit = runs.find(([s, e]) => s < end && off < e);
        if (hit) {
          if (off >= hit[0] && end <= hit[1]) out.push("dup");
          else {
            out.push("overlap");
            return out;
          }
        } else {
          runs.push([off, end]);
          runs.sort((a, b) => a[0] - b[0]);
          lastRun = runs.findIndex(([, e]) => e === tail);
          out.push("ok");
        }
      }
    }
    return out;
  }
  const p = datagram(false, 4000 - 28);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 49 }), fc.integer({ min: 1, max: 10 })), {
        minLength: 1,
        maxLength: 10,
      }),
      (raw) => {
        const pieces = raw
          .map(([a, l]) => [a * 80, Math.min(4000 - 8, (a + l) * 80)] as [number, number])
          .filter(([o, e]) => e > o);
        if (pieces.length === 0) return;
        const r = new Reassembler();
        const pi = new PacketInfo();
        const exp = model(pieces);
        for (let i = 0; i < exp.length; i++) {
          const [off, end] = pieces[i];
          const f = new Uint8Array(20 + end - off);
          f.set(p.subarray(0, 20));
          f.set(p.subarray(20 + off, 20 + end), 20);
          f[2] = f.length >> 8;
          f[3] = f.length & 0xff;
          const fo = (off >> 3) | 0x2000;
          f[6] = fo >> 8;
          f[7] = fo & 0xff;
          parsePacket(pi, f, 0, f.length);
          const v = r.defragIpv4(pi, 0, IN, 1);
          const want = exp[i] === "ok" ? S : D;
          assert.equal(v, want, `piece ${i} ${JSON.stringify(pieces.slice(0, i + 1))}`);
          if (exp[i] === "dup") assert.equal(r.lastReason, DefragReason.Duplicate);
          if (exp[i] === "overlap") {
            assert.equal(r.lastReason, DefragReason.Overlap);
            assert.equal(r.queueCount, 0);
          }
        }
      },
    ),
    { seed: 3089, numRuns: 800 },
  );
});

test("property: random bytes never throw and never leak queues or memory accounting", () => {
  const r = new Reassembler({ ipv4TimeSec: 1, ipv6TimeSec: 1 });
  const pi = new PacketInfo();
  let t = 0;
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.boolean(), (b, v6) => {
      b[0] = (b[0] & 0x0f) | (v6 ? 0x60 : 0x40);
      if (v6 && b.length > 6) b[6] = 44;
      if (!v6 && b.length > 7) b[6] |= 0x20;
      parsePacket(pi, b, 0, b.length);
      t += 0.01;
      if (pi.status === 0) pi.family === 4 ? r.defragIpv4(pi, t, IN, 1) : r.defragIpv6(pi, t, IN, 1);
    }),
    { seed: 1, numRuns: 3000 },
  );
  r.expire(t + 5);
  assert.equal(r.queueCount, 0);
  assert.equal(r.memV4, 0);
  assert.equal(r.memV6, 0);
});
