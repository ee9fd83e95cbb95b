import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { buildPacket, fragment, PacketInfo, parsePacket, verifyIpv4HeaderChecksum } from "../wire/index.js";
import {
  DefragUser,
  DefragVerdict,
  FragInfo,
  Fragmenter,
  FragOutput,
  ipv4ExceedsMtu,
  ipv4OptionsFragment,
  ipv6FindFirstFragOpt,
  ipv6PktTooBig,
  Reassembler,
} from "./index.js";

function collect(): { out: Uint8Array[]; sink: (b: Uint8Array, o: number, n: number) => void } {
  const out: Uint8Array[] = [];
  return { out, sink: (b, o, n) => out.push(b.slice(o, o + n)) };
}

function reassemble(frags: Uint8Array[]): { pkt: Uint8Array; info: FragInfo } {
  const r = new Reassembler();
  const pi = new PacketInfo();
  for (const f of frags) {
    parsePacket(pi, f, 0, f.length);
    const v =
      pi.family === 4 ? r.defragIpv4(pi, 0, DefragUser.ConntrackIn, 1) : r.defragIpv6(pi, 0, DefragUser.ConntrackIn, 1);
    if (v === DefragVerdict.Reassembled) {
      const info = new FragInfo();
      info.copyFrom(r.info);
      return { pkt: r.reassembled.slice(0, r.reassembledLen), info };
    }
  }
  throw new Error("not reassembled");
}

/** IPv4 fragments of `p` with the given data lengths (every fragment has DF when df) */
function cut4(p: Uint8Array, lens: number[], df = false): Uint8Array[] {
  const hl = (p[0] & 0x0f) * 4;
  const out: Uint8Array[] = [];
  let off = 0;
  for (const l of lens) {
    const last = off + l >= p.length - hl;
    const f = new Uint8Array(hl + l);
    f.set(p.subarray(0, hl));
    f.set(p.subarray(hl + off, hl + off + l), hl);
    f[2] = f.length >> 8;
    f[3] = f.length & 0xff;
    const fo = (off >> 3) | (last ? 0 : 0x2000) | (df ? 0x4000 : 0);
    f[6] = fo >> 8;
    f[7] = fo & 0xff;
    f[10] = f[11] = 0;
    out.push(f);
    off += l;
  }
  return out;
}

function payloadLens(pi: PacketInfo[]): number[] {
  return pi.map((p) => p.len - (p.fragHdrOff >= 0 ? p.fragHdrOff + 8 - p.off : p.ipHeaderLen));
}

function parseAll(list: Uint8Array[]): PacketInfo[] {
  return list.map((b) => {
    const pi = new PacketInfo();
    parsePacket(pi, b, 0, b.length);
    return pi;
  });
}

test("IPv4: a reassembled packet leaves with its original fragment sizes, DF cleared", () => {
  const p = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", id: 7, udp: { payload: new Uint8Array(2992).fill(3) } });
  const frags = cut4(p, [400, 1400, 1200], true);
  const { pkt, info } = reassemble(frags);
  assert.equal(pkt[6] & 0x40, 0x40); // the reassembled header has DF
  const fr = new Fragmenter();
  const { out, sink } = collect();
  assert.equal(ipv4ExceedsMtu(pkt, 0, pkt.length, 1500, info, true), false);
  assert.equal(fr.ipv4Output(pkt, 0, pkt.length, 1500, info, true, sink), FragOutput.Fragmented);
  assert.equal(fr.fastPath, true);
  const pis = parseAll(out);
  assert.deepEqual(payloadLens(pis), [400, 1400, 1200]);
  assert.deepEqual(
    pis.map((x) => [x.fragOff, x.moreFrags, x.dontFrag, x.ipId]),
    [
      [0, true, false, 7],
      [400, true, false, 7],
      [1800, false, false, 7],
    ],
  );
  for (const x of pis) assert.equal(verifyIpv4HeaderChecksum(x), true);
  // a smaller MTU: the slow path cuts at (mtu - header) & ~7, keeping DF (IPSKB_FRAG_PMTU)
  assert.equal(ipv4ExceedsMtu(pkt, 0, pkt.length, 1000, info, true), true);
  const small = collect();
  const info2 = new FragInfo();
  info2.copyFrom(info);
  info2.pmtu = false;
  pkt[6] = 0; // no DF: allowed
  assert.equal(fr.ipv4Output(pkt, 0, pkt.length, 1000, info2, true, small.sink), FragOutput.Fragmented);
  assert.equal(fr.fastPath, false);
  assert.deepEqual(payloadLens(parseAll(small.out)), [976, 976, 976, 72]);
});

test("IPv4: plain packets: whole, fragmented, or refused with DF", () => {
  const fr = new Fragmenter();
  const small = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { payload: new Uint8Array(100) } });
  const a = collect();
  assert.equal(fr.ipv4Output(small, 0, small.length, 1500, null, false, a.sink), FragOutput.Whole);
  assert.deepEqual(a.out, [small]);
  const big = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", id: 9, udp: { payload: new Uint8Array(3000).fill(1) } });
  const b = collect();
  assert.equal(fr.ipv4Output(big, 0, big.length, 1500, null, false, b.sink), FragOutput.Fragmented);
  assert.deepEqual(b.out, fragment(big, 1500));
  const df = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", df: true, udp: { payload: new Uint8Array(3000) } });
  assert.equal(fr.ipv4Output(df, 0, df.length, 1500, null, false, collect().sink), FragOutput.NeedFrag);
  assert.equal(fr.needMtu, 1500);
  assert.equal(ipv4ExceedsMtu(df, 0, df.length, 1500, null, false), true);
  assert.equal(ipv4ExceedsMtu(df, 0, df.length, 1500, null, true), false);
  // ignore_df without a reassembly record: fragmented, DF dropped
  const c = collect();
  assert.equal(fr.ipv4Output(df, 0, df.length, 1500, null, true, c.sink), FragOutput.Fragmented);
  assert.ok(parseAll(c.out).every((x) => !x.dontFrag));
});

test("IPv4 options: non-copied options become NOPs from the second fragment on", () => {
  // record route (not copied) and router alert (copied)
  const p = buildPacket({
    src: "10.0.0.1",
    dst: "10.0.0.2",
    ipOptions: [7, 7, 4, 0, 0, 0, 0, 148, 4, 0, 0, 0],
    udp: { payload: new Uint8Array(3000) },
  });
  const fr = new Fragmenter();
  const { out, sink } = collect();
  fr.ipv4Output(p, 0, p.length, 1500, null, false, sink);
  assert.deepEqual([...out[0].subarray(20, 32)], [7, 7, 4, 0, 0, 0, 0, 148, 4, 0, 0, 0]);
  for (const f of out.slice(1)) assert.deepEqual([...f.subarray(20, 32)], [1, 1, 1, 1, 1, 1, 1, 148, 4, 0, 0, 0]);
  const h = Uint8Array.from([...p.subarray(0, 20), 1, 7, 3, 4, 0, 0x88, 4, 0, 0, 0, 0, 0]);
  ipv4OptionsFragment(h, 0, 32);
  assert.deepEqual([...h.subarray(20)], [1, 1, 1, 1, 0, 0x88, 4, 0, 0, 0, 0, 0]);
});

test("IPv6: original geometry with a new identification; packet too big; unfragmentable part", () => {
  const p = buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { payload: new Uint8Array(2992).fill(9) } });
  const frags = fragment(p, 1048, { id: 0xabc });
  const { pkt, info } = reassemble(frags);
  assert.equal(info.fragMaxSize, 1048);
  const fr = new Fragmenter();
  const { out, sink } = collect();
  assert.equal(ipv6PktTooBig(pkt.length, 1500, info, true), false);
  assert.equal(fr.ipv6Output(pkt, 0, pkt.length, 1500, info, true, 0x55, sink), FragOutput.Fragmented);
  assert.equal(fr.fastPath, true);
  assert.equal(out.length, frags.length);
  for (let i = 0; i < out.length; i++) {
    const want = frags[i].slice();
    want.set([0, 0, 0, 0x55], 44);
    assert.deepEqual(out[i], want);
  }
  assert.equal(ipv6PktTooBig(pkt.length, 1000, info, true), true);
  assert.equal(fr.ipv6Output(pkt, 0, pkt.length, 1000, info, true, 1, collect().sink), FragOutput.NeedFrag);
  // not reassembled, too big, no ignore_df: packet too big
  const big = buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { payload: new Uint8Array(3000) } });
  assert.equal(fr.ipv6Output(big, 0, big.length, 1500, null, false, 1, collect().sink), FragOutput.NeedFrag);
  assert.equal(fr.ipv6Output(big, 0, big.length, 1500, null, true, 1, collect().sink), FragOutput.Fragmented);
  // the unfragmentable part: hop-by-hop, routing, and destination options unless after routing
  const nh = new Int32Array(1);
  const e1 = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [{ type: "hop" }, { type: "dst" }, { type: "routing" }, { type: "dst" }],
    udp: {},
  });
  assert.equal(ipv6FindFirstFragOpt(e1, 0, e1.length, nh), 64);
  assert.equal(nh[0], 56);
  const e2 = buildPacket({ src: "fd00::1", dst: "fd00::2", ext: [{ type: "dst" }], udp: {} });
  assert.equal(ipv6FindFirstFragOpt(e2, 0, e2.length, nh), 48);
  const e3 = buildPacket({ src: "fd00::1", dst: "fd00::2", udp: {} });
  assert.equal(ipv6FindFirstFragOpt(e3, 0, e3.length, nh), 40);
  assert.equal(nh[0], 6);
});

test("pullHead: NAT pulling the transport header into the head changes the geometry", () => {
  const p = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", tcp: { payload: new Uint8Array(2000) } });
  const { pkt, info } = reassemble(cut4(p, [8, 1000, 1012]));
  info.pullHead(20);
  assert.deepEqual([...info.pieceLen.subarray(0, info.pieceCount)], [20, 988, 1012]);
  const fr = new Fragmenter();
  const { out, sink } = collect();
  fr.ipv4Output(pkt, 0, pkt.length, 1500, info, true, sink);
  assert.equal(fr.fastPath, false); // 20 is not a multiple of 8
  assert.deepEqual(payloadLens(parseAll(out)), [1008, 1012]); // min(1500, frag_max_size 1032) - 20, cut to 8
});

test("property: refragmenting a reassembled packet gives back the original fragments", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 16, max: 4000 }),
      fc.array(fc.integer({ min: 1, max: 180 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 0xffff }),
      (v6, n, ws, id) => {
        const p = v6
          ? buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { payload: new Uint8Array(n).map((_, i) => i) } })
          : buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", id, udp: { payload: new Uint8Array(n).map((_, i) => i) } });
        const head = v6 ? 40 : 20;
        const dataLen = p.length - head;
        const lens: number[] = [];
        let left = dataLen;
        for (const w of ws) {
          if (left <= w * 8) break;
          lens.push(w * 8);
          left -= w * 8;
        }
        lens.push(left);
        if (lens.length < 2) return;
        const frags = v6
          ? (() => {
              // fragment() makes even pieces; build our own uneven ones
              const out: Uint8Array[] = [];
              let off = 0;
              for (const l of lens) {
                const f = new Uint8Array(48 + l);
                f.set(p.subarray(0, 40));
                f[6] = 44;
                f[40] = 17;
                const fo = off | (off + l < dataLen ? 1 : 0);
                f[42] = fo >> 8;
                f[43] = fo & 0xff;
                f[47] = 1;
                f.set(p.subarray(40 + off, 40 + off + l), 48);
                f[4] = (8 + l) >> 8;
                f[5] = (8 + l) & 0xff;
                out.push(f);
                off += l;
              }
              return out;
            })()
          : cut4(p, lens);
        const { pkt, info } = reassemble(frags);
        const fr = new Fragmenter();
        const { out, sink } = collect();
        const mtu = 9000;
        const r = v6
          ? fr.ipv6Output(pkt, 0, pkt.length, mtu, info, true, 1, sink)
          : fr.ipv4Output(pkt, 0, pkt.length, mtu, info, true, sink);
        if (v6 && pkt.length <= info.fragMaxSize) {
          // IPv6 re-fragments only what is longer than the largest fragment received: sent whole
          assert.equal(r, FragOutput.Whole);
          return;
        }
        assert.equal(r, FragOutput.Fragmented);
        assert.equal(fr.fastPath, true);
        assert.equal(out.length, frags.length);
        for (let i = 0; i < out.length; i++) {
          const want = frags[i].slice();
          if (!v6) {
            // the kernel recomputes the header checksum (ours were zero)
            want[10] = out[i][10];
            want[11] = out[i][11];
          }
          assert.deepEqual(out[i], want);
        }
        // and the slow path at a small MTU still carries the same bytes
        const small = collect();
        const info2 = new FragInfo();
        info2.copyFrom(info);
        if (v6) fr.ipv6Output(pkt, 0, pkt.length, 1280, null, true, 1, small.sink);
        else fr.ipv4Output(pkt, 0, pkt.length, 576, null, false, small.sink);
        if (small.out.length === 1) assert.deepEqual(small.out[0], pkt);
        else assert.deepEqual(reassemble(small.out).pkt, pkt);
      },
    ),
    { seed: 791, numRuns: 300 },
  );
});
