/**
 * Properties of Stack over random packets (fast-check, seeded): what it builds always parses with valid
 * checksums and stays within the quoting limits; malformed or random input never throws.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { PacketType } from "../core/skb.js";
import { buildPacket, type PacketSpec } from "../wire/build.js";
import { parsePacket } from "../wire/parse.js";
import { ipv4OptionsReceive } from "./ipv4-options.js";
import { StackReason } from "./reasons.js";
import { ctx, env, reply, TestCtx } from "./testdata/fixture.js";

const SEED = 0x5eed;

const src4 = fc.constantFrom("10.0.0.5", "10.0.0.77", "192.0.2.9", "203.0.113.4", "0.0.0.0", "224.0.0.9");
const dst4 = fc.constantFrom("10.0.0.1", "192.0.2.1", "198.51.100.7", "10.0.0.255", "255.255.255.255", "224.0.0.1");
const src6 = fc.constantFrom("fd00:1::5", "fd00:1::77", "fe80::5", "2001:db8::9", "::", "ff02::1", "::ffff:10.0.0.5");
const dst6 = fc.constantFrom("fd00:1::1", "fd00:2::1", "2001:db8::7", "ff02::1", "fe80::1");

const l4 = fc.oneof(
  fc.record({
    kind: fc.constant("tcp" as const),
    flags: fc.integer({ min: 0, max: 255 }),
    seq: fc.integer({ min: 0, max: 0xffffffff }),
    ack: fc.integer({ min: 0, max: 0xffffffff }),
    len: fc.integer({ min: 0, max: 1600 }),
  }),
  fc.record({ kind: fc.constant("udp" as const), len: fc.integer({ min: 0, max: 2000 }), zero: fc.boolean() }),
  fc.record({
    kind: fc.constant("icmp" as const),
    type: fc.integer({ min: 0, max: 255 }),
    code: fc.integer({ min: 0, max: 255 }),
    len: fc.integer({ min: 0, max: 1600 }),
  }),
  fc.record({
    kind: fc.constant("raw" as const),
    proto: fc.integer({ min: 0, max: 255 }),
    len: fc.integer({ min: 0, max: 1600 }),
  }),
);

const packet = fc.record({
  v6: fc.boolean(),
  s4: src4,
  d4: dst4,
  s6: src6,
  d6: dst6,
  ttl: fc.integer({ min: 0, max: 255 }),
  tos: fc.integer({ min: 0, max: 255 }),
  df: fc.boolean(),
  l4,
});

type P = typeof packet extends fc.Arbitrary<infer T> ? T : never;

function spec(p: P): PacketSpec {
  const s: PacketSpec = p.v6 ? { src: p.s6, dst: p.d6 } : { src: p.s4, dst: p.d4, df: p.df };
  s.ttl = p.ttl;
  s.tos = p.tos;
  const x = p.l4;
  const payload = new Uint8Array(x.len).map((_, i) => (i * 7 + x.len) & 0xff);
  switch (x.kind) {
    case "tcp":
      s.tcp = { flags: x.flags, seq: x.seq, ack: x.ack, payload };
      break;
    case "udp":
      s.udp = { payload, checksum: x.zero ? "none" : undefined };
      break;
    case "icmp":
      if (p.v6) s.icmp6 = { type: x.type, code: x.code, payload };
      else s.icmp = { type: x.type, code: x.code, payload };
      break;
    case "raw":
      // extension-header numbers are left to the parser's own tests
      s.proto = [0, 43, 44, 51, 60].includes(x.proto) ? 253 : x.proto;
      s.payload = payload;
      break;
  }
  return s;
}

function checkReply(out: Uint8Array, n: number, orig: Uint8Array, origLen: number): void {
  const r = reply(out, n);
  const isErr = r.family === 4 ? r.proto === 1 && [3, 11, 12].includes(r.icmpType) : r.proto === 58 && r.icmpType < 128;
  if (!isErr) return;
  const quoteAt = r.l4Off + 8;
  const quoted = n - quoteAt;
  if (r.family === 4) assert.ok(n <= 576, `IPv4 error of ${n} bytes`);
  else assert.ok(n <= 1280, `IPv6 error of ${n} bytes`);
  assert.ok(quoted <= origLen);
  // the quote is the start of the offending packet (IPv4 record-route / timestamp slots aside)
  if (r.family === 6 || (orig[0] & 0x0f) === 5) {
    for (let i = 0; i < quoted; i++) if (out[quoteAt + i] !== orig[i]) assert.fail(`quote differs at ${i}`);
  }
}

test("property: every packet built parses, with valid checksums, within the quoting limits", () => {
  let built = 0;
  fc.assert(
    fc.property(
      packet,
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 15 }),
      fc.constantFrom(PacketType.Host, PacketType.Host, PacketType.Broadcast, PacketType.Multicast),
      fc.boolean(),
      fc.integer({ min: 68, max: 9000 }),
      (p, kind, withType, pktType, local, mtu) => {
        const { stack, out } = env();
        const bytes = buildPacket(spec(p));
        const c = ctx(bytes, { pktType, locallyGenerated: local });
        const orig = bytes.slice();
        let n = stack.answer(c, out);
        if (n > 0) checkReply(out, n, orig, c.pi.len);
        built += n > 0 ? 1 : 0;
        n = stack.icmpError(c, kind, mtu, out);
        if (n > 0) checkReply(out, n, orig, c.pi.len);
        built += n > 0 ? 1 : 0;
        n = stack.reject(c, withType, out);
        if (n > 0) checkReply(out, n, orig, c.pi.len);
        built += n > 0 ? 1 : 0;
        assert.equal(stack.reason >= 0 && stack.reason <= StackReason.Disabled, true);
      },
    ),
    { seed: SEED, numRuns: 1500 },
  );
  // the generators reach the building paths, not only the refusals
  assert.ok(built > 500, `only ${built} packets built`);
});

test("property: random and mutated packets never throw", () => {
  const { stack, out } = env();
  const c = new TestCtx();
  const mutated = fc
    .tuple(packet, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat())
    .map(([p, flips, cut]) => {
      const b = buildPacket(spec(p));
      for (const [at, v] of flips) b[at % b.length] = v;
      return b.subarray(0, Math.max(1, b.length - (cut % 64)));
    });
  const bytes = fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 200 }), mutated);
  fc.assert(
    fc.property(
      bytes,
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 15 }),
      fc.integer({ min: 0, max: 100 }),
      (b, kind, withType, ptr) => {
        const copy = b.slice();
        parsePacket(c.pi, copy, 0, copy.length);
        c.now += 0.37;
        stack.answer(c, out);
        stack.icmpError(c, kind, ptr, out);
        stack.reject(c, withType, out);
        stack.hopByHopError6(c, out);
        stack.paramProblem6(c, 0, ptr, out);
        if (c.pi.family === 4 && c.pi.ipHeaderLen >= 20 && c.pi.off + c.pi.ipHeaderLen <= copy.length) {
          ipv4OptionsReceive(c.pi, 0x0a000001, c.now, stack.routes);
          stack.answer(c, out);
        }
      },
    ),
    { seed: SEED + 1, numRuns: 3000 },
  );
  // and the same instance still answers a good packet correctly afterwards
  const good = ctx({ src: "10.0.0.5", dst: "10.0.0.1", tcp: { flags: "S", dport: 22 } });
  const n = stack.answer(good, out);
  assert.equal(n, 40);
  reply(out, n);
});
