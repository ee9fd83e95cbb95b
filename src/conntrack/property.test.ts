/**
 * Property tests (fast-check, seeded): the reply tuple inverts the original; expiry removes exactly
 * what timed out; lookups find exactly the live entries after random insert/expire/delete sequences;
 * early drop never evicts ASSURED entries.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Dir } from "../core/netfilter.js";
import { Tuple } from "../core/tuple.js";
import { formatAddr } from "../wire/addr.js";
import type { PacketSpec } from "../wire/build.js";
import { ctConfigFromSysctl } from "./config.js";
import { icmpInvertType, icmpv6InvertType } from "./icmp.js";
import { Gateway } from "./testing.js";

const SEED = 20261125;

function v4(n: number): string {
  return formatAddr([n | 0, 0, 0, 0], 4);
}
function v6(n: number): string {
  return formatAddr([0x20010db8, 0, 0, n | 0], 6);
}

const flowArb = fc.record({
  family: fc.constantFrom(4, 6),
  src: fc.integer({ min: 1, max: 0x7fffffff }),
  dst: fc.integer({ min: 1, max: 0x7fffffff }),
  kind: fc.constantFrom("tcp", "udp", "icmp", "generic", "gre"),
  sport: fc.integer({ min: 1, max: 65535 }),
  dport: fc.integer({ min: 1, max: 65535 }),
  icmpType: fc.integer({ min: 0, max: 3 }),
});

describe("properties", () => {
  test("the reply tuple inverts the original", () => {
    fc.assert(
      fc.property(flowArb, (f) => {
        const addr = f.family === 4 ? v4 : v6;
        const src = addr(f.src);
        const dst = addr(f.dst === f.src ? f.dst + 1 : f.dst);
        let spec: PacketSpec;
        const types4 = [8, 13, 15, 17];
        const types6 = [128, 139, 128, 139];
        switch (f.kind) {
          case "tcp":
            spec = { src, dst, tcp: { sport: f.sport, dport: f.dport, flags: "S" } };
            break;
          case "udp":
            spec = { src, dst, udp: { sport: f.sport, dport: f.dport } };
            break;
          case "icmp":
            spec =
              f.family === 4
                ? { src, dst, icmp: { type: types4[f.icmpType], id: f.sport } }
                : { src, dst, icmp6: { type: types6[f.icmpType], id: f.sport } };
            break;
          case "gre":
            spec = { src, dst, proto: 47, payload: [0, 0, 8, 0] };
            break;
          default:
            spec = { src, dst, proto: 99, payload: "x" };
        }
        const g = new Gateway({ seed: f.src });
        const r = g.send(spec);
        assert.ok(r.ct >= 0);
        const o = new Tuple();
        const p = new Tuple();
        g.ct.tuple(r.ct, Dir.Original, o);
        g.ct.tuple(r.ct, Dir.Reply, p);
        assert.deepEqual([...p.src], [...o.dst]);
        assert.deepEqual([...p.dst], [...o.src]);
        assert.equal(p.proto, o.proto);
        if (f.kind === "icmp") {
          const inv = f.family === 4 ? icmpInvertType(o.dstPort >> 8) : icmpv6InvertType(o.dstPort >> 8);
          assert.equal(p.dstPort >> 8, inv);
          assert.equal(p.srcPort, o.srcPort, "the id is kept");
        } else {
          assert.equal(p.srcPort, o.dstPort);
          assert.equal(p.dstPort, o.srcPort);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  type Op =
    | { op: "orig"; f: number }
    | { op: "reply"; f: number }
    | { op: "wait"; s: number }
    | { op: "delete"; f: number }
    | { op: "gc"; n: number };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("orig" as const), f: fc.integer({ min: 0, max: 11 }) }),
    fc.record({ op: fc.constant("reply" as const), f: fc.integer({ min: 0, max: 11 }) }),
    fc.record({ op: fc.constant("wait" as const), s: fc.double({ min: 0, max: 70, noNaN: true }) }),
    fc.record({ op: fc.constant("delete" as const), f: fc.integer({ min: 0, max: 11 }) }),
    fc.record({ op: fc.constant("gc" as const), n: fc.integer({ min: 0, max: 64 }) }),
  );

  /** model of one UDP flow (Linux UDP rules); `client` says which side sent the first packet */
  interface Model {
    created: number;
    expires: number;
    replied: boolean;
    client: boolean;
  }

  test("lookups find exactly the live entries; expiry removes exactly what timed out", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const g = new Gateway({ seed: 7, initialCapacity: 4 });
        const model = new Map<number, Model>();
        const tick = (t: number) => Math.floor(t * 250);
        const alive = (m: Model | undefined): m is Model => m !== undefined && tick(m.expires) > tick(g.now);
        const flowSpec = (f: number, fromServer: boolean): PacketSpec =>
          fromServer
            ? { src: "10.9.9.9", dst: `10.0.0.${f + 1}`, udp: { sport: 53, dport: 1000 + f } }
            : { src: `10.0.0.${f + 1}`, dst: "10.9.9.9", udp: { sport: 1000 + f, dport: 53 } };
        const packet = (f: number, fromServer: boolean): void => {
          g.send(flowSpec(f, fromServer));
          const m = model.get(f);
          if (!alive(m)) {
            model.set(f, { created: g.now, expires: g.now + 30, replied: false, client: !fromServer });
            return;
          }
          // udp_packet: the timeout is chosen before SEEN_REPLY is set by this packet
          const stream = m.replied && tick(g.now) - tick(m.created) > 500;
          m.expires = g.now + (stream ? 120 : 30);
          if (m.client === fromServer) m.replied = true;
        };
        for (const o of ops) {
          switch (o.op) {
            case "orig":
              packet(o.f, false);
              break;
            case "reply":
              packet(o.f, true);
              break;
            case "wait":
              g.wait(o.s);
              break;
            case "delete": {
              g.ct.setNow(g.now);
              const t = new Tuple();
              t.family = 4;
              t.proto = 17;
              t.src[0] = (10 << 24) | (o.f + 1);
              t.dst[0] = (10 << 24) | (9 << 16) | (9 << 8) | 9;
              t.srcPort = 1000 + o.f;
              t.dstPort = 53;
              assert.equal(g.ct.deleteTuple(t), alive(model.get(o.f)));
              model.delete(o.f);
              break;
            }
            case "gc":
              g.ct.setNow(g.now);
              g.ct.gcStep(o.n);
              break;
          }
          // the listing shows exactly the live model entries, with their timeouts
          const lines = g.list();
          const live = [...model.entries()].filter(([, m]) => alive(m));
          assert.equal(lines.length, live.length, `${JSON.stringify(ops)}\n${lines.join("\n")}`);
          for (const [f, m] of live) {
            const key = new RegExp(m.client ? `sport=${1000 + f} dport=53( |$)` : `sport=53 dport=${1000 + f}( |$)`);
            const line = lines.find((l) => key.test(l.split(" src=")[1]));
            assert.ok(line !== undefined, `flow ${f} missing`);
            const secs = Number(line.split(/\s+/)[2]);
            assert.equal(secs, Math.floor((tick(m.expires) - tick(g.now)) / 250), line);
            assert.equal(line.includes("[UNREPLIED]"), !m.replied, line);
          }
        }
        // a full sweep leaves exactly the live ones
        g.ct.gcAll(g.now);
        assert.equal(g.ct.count(), [...model.values()].filter(alive).length);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test("early drop never evicts ASSURED entries", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 39 })), { minLength: 1, maxLength: 80 }),
        (seq) => {
          const g = new Gateway({ config: ctConfigFromSysctl(new Map([["net.netfilter.nf_conntrack_max", "8"]])) });
          const assured = new Set<number>();
          let next = 0;
          for (const x of seq) {
            if (x === -1) {
              // a new unreplied flow
              g.send({ src: "10.0.0.1", dst: "10.9.9.9", udp: { sport: 20000 + next++, dport: 53 } });
            } else if (assured.size < 6 && !assured.has(x)) {
              // make flow x ASSURED (if the table lets it in)
              const spec: PacketSpec = { src: "10.0.0.2", dst: "10.9.9.9", udp: { sport: 30000 + x, dport: 53 } };
              const r = g.send(spec);
              if (r.ct < 0) continue;
              g.send({ src: "10.9.9.9", dst: "10.0.0.2", udp: { sport: 53, dport: 30000 + x } });
              g.wait(2.1);
              g.send(spec);
              if (g.list().some((l) => l.includes(`sport=${30000 + x} `) && l.includes("[ASSURED]"))) assured.add(x);
            }
            g.wait(0.01);
            const lines = g.list().join("\n");
            for (const a of assured) assert.match(lines, new RegExp(`sport=${30000 + a} dport=53 .*\\[ASSURED\\]`));
            assert.ok(g.ct.count() <= 8);
          }
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });
});
