/**
 * fast-check arbitraries for wire-layer tests: random but well-formed packet specs for buildPacket.
 */
import fc from "fast-check";
import type { PacketSpec } from "../../src/wire/build.js";

const arbV4 = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
  .map(([a, b]) => `10.${a}.${b}.1`);
const arbV6 = fc
  .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
  .map(([a, b]) => `fd00:${a.toString(16)}::${b.toString(16)}`);
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const payload = fc.uint8Array({ maxLength: 64 });

export const arbSpec: fc.Arbitrary<PacketSpec> = fc
  .record({
    v6: fc.boolean(),
    a: arbV4,
    b: arbV4,
    a6: arbV6,
    b6: arbV6,
    ttl: fc.integer({ min: 0, max: 255 }),
    id: u16,
    df: fc.boolean(),
    tos: fc.integer({ min: 0, max: 255 }),
    ext: fc.array(fc.constantFrom("hop", "dst", "routing"), { maxLength: 2 }),
    l4: fc.oneof(
      fc.record({
        k: fc.constant("tcp" as const),
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: fc.integer({ min: 0, max: 255 }),
        win: u16,
        mss: fc.option(u16, { nil: undefined }),
        ws: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
        sp: fc.boolean(),
        ts: fc.option(fc.tuple(u32, u32), { nil: undefined }),
        payload,
      }),
      fc.record({ k: fc.constant("udp" as const), sport: u16, dport: u16, payload }),
      fc.record({ k: fc.constant("icmp" as const), type: fc.constantFrom(0, 8, 13, 14), id: u16, seq: u16, payload }),
    ),
  })
  .map((r) => {
    const s: PacketSpec = r.v6
      ? {
          src: r.a6,
          dst: r.b6,
          ttl: r.ttl,
          tos: r.tos,
          ext: r.ext.map((t) => ({ type: t as "hop" | "dst" | "routing" })),
        }
      : { src: r.a, dst: r.b, ttl: r.ttl, id: r.id, df: r.df, tos: r.tos };
    const l = r.l4;
    if (l.k === "tcp") {
      s.tcp = {
        sport: l.sport,
        dport: l.dport,
        seq: l.seq,
        ack: l.ack,
        flags: l.flags,
        win: l.win,
        options: { mss: l.mss, wscale: l.ws, sackPerm: l.sp, ts: l.ts },
        payload: l.payload,
      };
    } else if (l.k === "udp") {
      s.udp = { sport: l.sport, dport: l.dport, payload: l.payload };
    } else if (r.v6) {
      s.icmp6 = { type: l.type === 8 ? 128 : 129, id: l.id, seq: l.seq, payload: l.payload };
    } else {
      s.icmp = { type: l.type, id: l.id, seq: l.seq, payload: l.payload };
    }
    return s;
  });
