/**
 * Evaluation semantics (Linux ipt_do_table as iptables-nft runs it): policies, jumps, goto, RETURN,
 * falling off user chains, counters, negations, hotdrop, the tracer, and the dispatch index giving the
 * same verdicts and counters as a linear walk.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Hook, IPS, Verdict } from "../core/netfilter.js";
import { Tuple } from "../core/tuple.js";
import type { PacketSpec } from "../wire/build.js";
import { loadRuleset, type Ruleset, type RuleTracer, TableId } from "./index.js";
import type { CompiledTable } from "./table.js";
import { makeEnv, makeSkb, type SkbOpts } from "./testdata/fakes.js";

const IPS_SRC_NAT_CONFIRMED = IPS.SRC_NAT | IPS.CONFIRMED;

const FILTER_HEAD = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";

function filter(body: string, head = FILTER_HEAD): Ruleset {
  return loadRuleset(`${head}${body}\nCOMMIT\n`, { file: "t.rules" });
}

function runOne(rs: Ruleset, hook: number, spec: PacketSpec, o: SkbOpts = {}, table: number = TableId.Filter): number {
  const { env } = makeEnv();
  return rs.run(table, hook, makeSkb(spec, { hook, ...o }), env);
}

const TCP80: PacketSpec = { src: "192.168.1.10", dst: "10.0.0.1", tcp: { sport: 40000, dport: 80, flags: "S" } };

function counters(rs: Ruleset, chain = "INPUT"): string {
  const t = rs.tables[TableId.Filter]!;
  const c = t.chains[t.chainIndex(chain)]!;
  const out: string[] = [];
  for (let s = c.start; s <= c.end; s++) if (t.kind[s] !== 3) out.push(`${t.pcnt(s)}:${t.bcnt(s)}`);
  return out.join(" ");
}

test("policy applies when a packet falls off a built-in chain, and counts it", () => {
  const rs = filter("-A INPUT -p udp -j ACCEPT", FILTER_HEAD.replace(":INPUT ACCEPT", ":INPUT DROP"));
  assert.equal(runOne(rs, Hook.Input, TCP80), Verdict.Drop);
  assert.equal(runOne(rs, Hook.Input, TCP80), Verdict.Drop);
  // rule 1 never matched; the policy counted two 40-byte SYNs
  assert.equal(counters(rs), "0:0 2:80");
  assert.match(rs.save(), /:INPUT DROP \[2:80\]/);
});

test("a table with no chain at a hook accepts without counting", () => {
  const rs = loadRuleset("*nat\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n");
  assert.equal(runOne(rs, Hook.Forward, TCP80, {}, TableId.Nat), Verdict.Accept);
  assert.equal(runOne(rs, Hook.Forward, TCP80, {}, TableId.Filter), Verdict.Accept);
  assert.ok(rs.hasChain(TableId.Nat, Hook.Prerouting));
  assert.ok(!rs.hasChain(TableId.Nat, Hook.Forward));
});

test("jump, RETURN and falling off a user chain continue after the jumping rule", () => {
  const rs = filter(
    [
      ":A - [0:0]",
      ":B - [0:0]",
      "-A INPUT -j A",
      "-A INPUT -j DROP",
      "-A A -j B",
      "-A A -p tcp -j ACCEPT",
      "-A B -j RETURN",
    ].join("\n"),
  );
  assert.equal(runOne(rs, Hook.Input, TCP80), Verdict.Accept);
  assert.equal(counters(rs, "INPUT"), "1:40 0:0 0:0");
  assert.equal(counters(rs, "A"), "1:40 1:40 0:0");
  assert.equal(counters(rs, "B"), "1:40 0:0");
  // UDP: A falls off (its sentinel), INPUT continues with DROP
  assert.equal(runOne(rs, Hook.Input, { src: "1.1.1.1", dst: "2.2.2.2", udp: { dport: 53 } }), Verdict.Drop);
});

test("RETURN from a built-in chain applies (and counts) the policy", () => {
  const rs = filter("-A INPUT -p tcp -j RETURN\n-A INPUT -j DROP");
  assert.equal(runOne(rs, Hook.Input, TCP80), Verdict.Accept);
  assert.equal(counters(rs), "1:40 0:0 1:40");
});

test("goto: the chain gone to returns to the last jump, not to the goto", () => {
  // INPUT -g G; G falls off -> no caller: policy (not INPUT rule 2)
  let rs = filter(":G - [0:0]\n-A INPUT -g G\n-A INPUT -j DROP\n-A G -p udp -j DROP");
  assert.equal(runOne(rs, Hook.Input, TCP80), Verdict.Accept);
  assert.equal(counters(rs), "1:40 0:0 1:40");
  // INPUT -j X; X -g Y; Y falls off -> back to INPUT after the jump to X
  rs = filter(
    ":X - [0:0]\n:Y - [0:0]\n-A INPUT -j X\n-A INPUT -j DROP\n-A X -g Y\n-A X -j ACCEPT\n-A Y -p udp -j ACCEPT",
  );
  assert.equal(runOne(rs, Hook.Input, TCP80), Verdict.Drop);
  assert.equal(counters(rs, "X"), "1:40 0:0 0:0");
});

test("a rule without target counts and continues", () => {
  const rs = filter("-A INPUT -p tcp\n-A INPUT -p tcp\n-A INPUT -j DROP");
  assert.equal(runOne(rs, Hook.Input, TCP80), Verdict.Drop);
  assert.equal(counters(rs), "1:40 1:40 1:40 0:0");
});

test("IP header filter: addresses with masks, negations, interfaces with +, protocol, -f", () => {
  const cases: [string, PacketSpec, SkbOpts, boolean][] = [
    ["-s 192.168.0.0/16", TCP80, {}, true],
    ["! -s 192.168.0.0/16", TCP80, {}, false],
    ["-s 192.168.0.0/255.255.0.255", TCP80, {}, false],
    ["-s 192.168.0.10/255.255.0.255", TCP80, {}, true],
    ["-d 10.0.0.1", TCP80, {}, true],
    ["! -d 10.0.0.2", TCP80, {}, true],
    ["-i eth0", TCP80, { inIf: 1 }, true],
    ["-i eth+", TCP80, { inIf: 2 }, true],
    ["-i eth+", TCP80, { inIf: 3 }, false],
    ["! -i eth+", TCP80, { inIf: 3 }, true],
    ["-i br-+", TCP80, { inIf: 5 }, true],
    ["-p tcp", TCP80, {}, true],
    ["! -p tcp", TCP80, {}, false],
    ["-p udp", TCP80, {}, false],
    ["-f", TCP80, {}, false],
    ["! -f", TCP80, {}, true],
    ["-f", { ...TCP80, fragOff: 16 }, {}, true],
    ["-p all", TCP80, {}, true],
  ];
  for (const [m, spec, o, want] of cases) {
    const rs = filter(`-A FORWARD ${m} -j DROP`);
    assert.equal(runOne(rs, Hook.Forward, spec, o) === Verdict.Drop, want, m);
  }
  // -o against the outgoing interface
  const rs = filter("-A FORWARD -o wlan+ -j DROP");
  assert.equal(runOne(rs, Hook.Forward, TCP80, { outIf: 3 }), Verdict.Drop);
  assert.equal(runOne(rs, Hook.Forward, TCP80, { outIf: 1 }), Verdict.Accept);
});

test("native tcp/udp port tests never drop: a short TCP header or a fragment just does not match", () => {
  const rs = filter("-A INPUT -p tcp --dport 80 -j ACCEPT\n-A INPUT -p tcp ! --dport 80 -j ACCEPT\n-A INPUT -j DROP");
  const short: PacketSpec = { src: "1.1.1.1", dst: "2.2.2.2", proto: 6, payload: new Uint8Array(3) };
  assert.equal(runOne(rs, Hook.Input, short), Verdict.Drop);
  assert.equal(counters(rs), "0:0 0:0 1:23 0:0");
  // 4 bytes are enough for the port comparison alone (nftables loads 2 bytes at offset 2)
  const ports: PacketSpec = { src: "1.1.1.1", dst: "2.2.2.2", proto: 6, payload: new Uint8Array([0, 1, 0, 80]) };
  assert.equal(runOne(rs, Hook.Input, ports), Verdict.Accept);
  const frag: PacketSpec = { ...TCP80, fragOff: 8, mf: true };
  assert.equal(runOne(rs, Hook.Input, frag), Verdict.Drop);
});

test("xt tcp (bare -m tcp, or --tcp-option) hotdrops a packet whose header is missing", () => {
  const rs = filter("-A INPUT -p tcp -m tcp -j ACCEPT\n-A INPUT -j ACCEPT");
  const short: PacketSpec = { src: "1.1.1.1", dst: "2.2.2.2", proto: 6, payload: new Uint8Array(10) };
  const { env } = makeEnv();
  const events: string[] = [];
  const tracer: RuleTracer = {
    rule: (_t, s, m) => events.push(`rule ${s} ${m}`),
    policy: () => events.push("policy"),
    fallOff: () => events.push("falloff"),
    done: (_t, _h, v, hot) => events.push(`done ${v} ${hot}`),
  };
  assert.equal(rs.run(TableId.Filter, Hook.Input, makeSkb(short), env, tracer), Verdict.Drop);
  assert.ok(env.hotdrop);
  assert.deepEqual(events, ["rule 0 false", "done 0 true"]);
  assert.equal(counters(rs), "0:0 0:0 0:0");
  // the offset-8 fragment of TCP is dropped as an attempt to overwrite the flags; other fragments pass by
  assert.equal(runOne(rs, Hook.Input, { ...TCP80, fragOff: 8, mf: true }), Verdict.Drop);
  assert.equal(runOne(rs, Hook.Input, { ...TCP80, fragOff: 16, mf: true }), Verdict.Accept);
  const opt = filter("-A INPUT -p tcp --tcp-option 2 -j DROP");
  assert.equal(runOne(opt, Hook.Input, { ...TCP80, tcp: { ...TCP80.tcp, options: { mss: 1460 } } }), Verdict.Drop);
  assert.equal(runOne(opt, Hook.Input, TCP80), Verdict.Accept);
  assert.equal(runOne(opt, Hook.Input, short), Verdict.Drop);
});

test("the tracer sees every evaluated rule, jumps, fall-offs and the policy", () => {
  const rs = filter(":A - [0:0]\n-A INPUT -p udp -j DROP\n-A INPUT -j A\n-A A -p udp -j DROP");
  const { env } = makeEnv();
  const events: string[] = [];
  const name = (t: CompiledTable, s: number): string => `${t.chains[t.chainOf[s]!]!.name}#${t.ruleNum[s]}`;
  const tracer: RuleTracer = {
    rule: (t, s, m) => events.push(`${name(t, s)}:${m ? "hit" : "miss"}`),
    policy: (t, c, v) => events.push(`policy ${t.chains[c]!.name} ${v}`),
    fallOff: (t, c) => events.push(`return ${t.chains[c]!.name}`),
    done: (t, h, v) => events.push(`done ${t.name} ${h} ${v}`),
  };
  rs.run(TableId.Filter, Hook.Input, makeSkb(TCP80), env, tracer);
  assert.deepEqual(events, [
    "INPUT#1:miss",
    "INPUT#2:hit",
    "A#1:miss",
    "return A",
    "policy INPUT 1",
    "done filter 1 1",
  ]);
  // the rule behind a slot, for printing paths
  const t = rs.tables[TableId.Filter]!;
  const slot = t.ruleSlot(t.chainIndex("INPUT"), 2);
  assert.equal(t.rules[slot]!.line, 7);
  assert.equal(t.rules[slot]!.source, "-A INPUT -j A");
});

test("a jump target's verdict ends the traversal; extension targets continue or decide", () => {
  const rs = loadRuleset(
    "*mangle\n:PREROUTING ACCEPT [0:0]\n:X - [0:0]\n-A PREROUTING -j MARK --set-mark 0x5\n-A PREROUTING -j X\n-A PREROUTING -j MARK --or-mark 0x100\n-A X -m mark --mark 5 -j MARK --xor-mark 1\n-A X -m mark --mark 4 -j ACCEPT\n-A X -j DROP\nCOMMIT\n",
  );
  const { env } = makeEnv();
  const skb = makeSkb(TCP80);
  assert.equal(rs.run(TableId.Mangle, Hook.Prerouting, skb, env), Verdict.Accept);
  assert.equal(skb.mark, 4);
});

// ---- the index gives exactly the linear walk's results -------------------------------------------

const ADDRS = ["10.96.0.1", "10.96.0.2", "10.96.0.3", "10.96.0.4", "10.96.0.5"];
const PORTS = [53, 80, 443, 8080];

const ruleArb = fc.record({
  kind: fc.constantFrom("addr", "port", "other"),
  addr: fc.constantFrom(...ADDRS),
  port: fc.constantFrom(...PORTS),
  proto: fc.constantFrom("tcp", "udp"),
  src: fc.boolean(),
  target: fc.constantFrom("ACCEPT", "DROP", "RETURN", "J", ""),
  extra: fc.constantFrom("", "-m comment --comment x", "-m statistic --mode nth --every 2 --packet 0"),
});
type R = { kind: string; addr: string; port: number; proto: string; src: boolean; target: string; extra: string };

function ruleText(chain: string, r: R): string {
  const tgt =
    r.target === "" ? "" : r.target === "J" ? (chain === "INPUT" ? " -j J" : " -j RETURN") : ` -j ${r.target}`;
  const src = r.src ? " ! -s 10.244.0.0/16" : "";
  switch (r.kind) {
    case "addr":
      return `-A ${chain}${src} -d ${r.addr}/32 -p ${r.proto} ${r.extra} -m ${r.proto} --dport ${r.port}${tgt}`;
    case "port":
      return `-A ${chain}${src} -p ${r.proto} ${r.extra} -m ${r.proto} --dport ${r.port}${tgt}`;
    default:
      return `-A ${chain}${src} -p ${r.proto} ${r.extra}${tgt}`;
  }
}

test("property: the dispatch index changes no verdict and no counter", () => {
  fc.assert(
    fc.property(
      fc.array(ruleArb, { minLength: 1, maxLength: 40 }),
      fc.array(ruleArb, { minLength: 0, maxLength: 8 }),
      fc.array(
        fc.record({
          addr: fc.constantFrom(...ADDRS, "10.96.0.9"),
          port: fc.constantFrom(...PORTS, 22),
          proto: fc.constantFrom("tcp", "udp", "short", "frag"),
          src: fc.constantFrom("10.244.1.1", "192.168.0.1"),
        }),
        { minLength: 1, maxLength: 20 },
      ),
      (input, jrules, packets) => {
        const body = [
          ":J - [0:0]",
          ...input.map((r) => ruleText("INPUT", r)),
          ...jrules.map((r) => ruleText("J", r)),
        ].join("\n");
        const text = `${FILTER_HEAD}${body}\nCOMMIT\n`;
        const a = loadRuleset(text, { index: true });
        const b = loadRuleset(text, { index: false });
        const ea = makeEnv();
        const eb = makeEnv();
        for (const p of packets) {
          const spec: PacketSpec =
            p.proto === "tcp"
              ? { src: p.src, dst: p.addr, tcp: { dport: p.port, sport: 1234 } }
              : p.proto === "udp"
                ? { src: p.src, dst: p.addr, udp: { dport: p.port, sport: 1234 } }
                : p.proto === "short"
                  ? { src: p.src, dst: p.addr, proto: 6, payload: new Uint8Array(2) }
                  : { src: p.src, dst: p.addr, tcp: { dport: p.port }, fragOff: 8, mf: true };
          const va = a.run(TableId.Filter, Hook.Input, makeSkb(spec), ea.env);
          const vb = b.run(TableId.Filter, Hook.Input, makeSkb(spec), eb.env);
          assert.equal(va, vb);
        }
        assert.equal(a.save(), b.save());
      },
    ),
    { numRuns: 300, seed: 42 },
  );
});

test("the index is built for kube-proxy-like runs and skips non-candidates", () => {
  const lines: string[] = [":KUBE-SERVICES - [0:0]", "-A INPUT -j KUBE-SERVICES"];
  for (let i = 0; i < 200; i++) {
    lines.push(
      `-A KUBE-SERVICES -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m comment --comment "ns/svc${i}:http cluster IP" -m tcp --dport 80 -j DROP`,
    );
  }
  const rs = filter(lines.join("\n"));
  const t = rs.tables[TableId.Filter]!;
  assert.equal(t.runs.length, 1);
  const { env } = makeEnv();
  let evaluated = 0;
  const tracer: RuleTracer = { rule: () => evaluated++, policy() {}, fallOff() {}, done() {} };
  const v = rs.run(
    TableId.Filter,
    Hook.Input,
    makeSkb({ src: "1.1.1.1", dst: "10.96.0.150", tcp: { dport: 80 } }),
    env,
    tracer,
  );
  assert.equal(v, Verdict.Drop);
  assert.equal(evaluated, 2); // INPUT rule 1 and the one candidate
  const slot = t.ruleSlot(t.chainIndex("KUBE-SERVICES"), 151);
  assert.equal(t.pcnt(slot), 1);
});

test("inline --ctstate tests (plain state lists) agree with the conntrack match for every ctinfo", () => {
  const names = ["INVALID", "ESTABLISHED", "RELATED", "NEW", "UNTRACKED"];
  const ctinfos = [0, 1, 2, 3, 4, 7, 255];
  const spec = TCP80;
  for (let set = 1; set < 1 << names.length; set++) {
    const list = names.filter((_, i) => (set & (1 << i)) !== 0).join(",");
    for (const neg of ["", "! "]) {
      for (const form of [`-m conntrack ${neg}--ctstate ${list}`, `-m state ${neg}--state ${list}`]) {
        // rule 1's state test runs inline; rule 2's as an object (a mark match comes first)
        const rs = filter(
          `-A FORWARD -p tcp ${form} -j ACCEPT\n-A FORWARD -m mark --mark 0 ${form} -j REJECT`,
          FILTER_HEAD.replace(":FORWARD ACCEPT", ":FORWARD DROP"),
        );
        const t = rs.tables[TableId.Filter]!;
        const slot = t.chains[t.chainIndex("FORWARD")]!.start;
        const obj = t.matches[slot]![0]!;
        assert.equal(t.evalMatches[slot]!.length, 0, "rule 1's state test runs inline");
        assert.equal(t.evalMatches[slot + 1]!.length, 2, "rule 2's matches run as objects");
        for (const ci of ctinfos) {
          for (const withCt of [false, true]) {
            const { env, ct } = makeEnv();
            const conn = withCt
              ? ct.add({
                  status: IPS_SRC_NAT_CONFIRMED,
                  mark: 0,
                  l4proto: 6,
                  orig: new Tuple(),
                  reply: new Tuple(),
                  expires: 100,
                  tcpState: 3,
                })
              : -1;
            const skb = makeSkb(spec, { hook: Hook.Forward, ct: conn, ctInfo: ci });
            const want = obj.match(skb, env);
            const got = rs.run(TableId.Filter, Hook.Forward, skb, env);
            assert.equal(got === Verdict.Accept, want, `${form} ct=${conn} ctinfo=${ci}`);
          }
        }
      }
    }
  }
});
