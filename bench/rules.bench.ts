/**
 * rules/eval/kube-proxy-N: the first packet of a new connection (a TCP SYN to a random ClusterIP
 * service) through nat PREROUTING of a generated kube-proxy dump with N services: KUBE-SERVICES,
 * the service chain (masquerade mark, statistic endpoint choice) and the endpoint's DNAT. Rule
 * evaluation only (the DNAT target's NAT setup is a stub that returns ACCEPT).
 *
 *   node --import tsx bench/rules.bench.ts [--json]
 *
 * Also measured: the same with the dispatch index off (a linear walk, as iptables does), to show what
 * the index buys. Figures are nanoseconds per packet (mean over batches of OPS packets).
 */
import { Bench } from "tinybench";
import { Hook } from "../src/core/netfilter.js";
import type { Skb } from "../src/core/skb.js";
import { loadRuleset, RuleEnv, TableId } from "../src/rules/index.js";
import { FakeAddrType, FakeCt, FakeIfaces, makeSkb, RecordingTargetEnv } from "../src/rules/testdata/fakes.js";
import { kubeProxyDump, serviceIp, servicePort } from "../src/rules/testdata/kube-gen.js";

const OPS = 1024;
const json = process.argv.includes("--json");

class StubTargets extends RecordingTargetEnv {
  override natSetup(): number {
    return 1;
  }
  override masquerade(): number {
    return 1;
  }
}

function packets(services: number): Skb[] {
  let seed = 0x9e3779b9;
  const out: Skb[] = [];
  for (let i = 0; i < OPS; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) | 0;
    const s = (seed >>> 0) % services;
    out.push(
      makeSkb(
        {
          src: `192.168.${i & 255}.${(i >> 8) + 1}`,
          dst: serviceIp(s),
          tcp: { sport: 30000 + i, dport: servicePort(s), flags: "S" },
        },
        { inIf: 1, hook: Hook.Prerouting },
      ),
    );
  }
  return out;
}

const bench = new Bench({ time: 1500, warmupTime: 300 });
const sizes = [100, 1000, 10000];
const figures: Record<string, number> = {};
for (const n of sizes) {
  for (const index of [true, false]) {
    if (!index && n === 100) continue;
    const rs = loadRuleset(kubeProxyDump(n), { file: `kube-${n}`, index });
    const env = new RuleEnv(new FakeCt(), new FakeIfaces(), new FakeAddrType(["192.0.2.1"]), new StubTargets(7));
    const pkts = packets(n);
    const name = `rules/eval/kube-proxy-${n}${index ? "" : "/linear"}`;
    let sink = 0;
    bench.add(name, () => {
      for (let i = 0; i < OPS; i++) {
        const skb = pkts[i]!;
        skb.mark = 0;
        sink += rs.run(TableId.Nat, Hook.Prerouting, skb, env);
      }
      if (sink === -1) console.log(sink);
    });
  }
}
await bench.run();
for (const t of bench.tasks) {
  const r = t.result;
  if (r === undefined || !("latency" in r)) continue;
  const perOpNs = ((r as { latency: { mean: number } }).latency.mean * 1e6) / OPS;
  figures[t.name] = Math.round(perOpNs);
}
if (json) {
  console.log(JSON.stringify({ node: process.version, opsPerRun: OPS, nsPerPacket: figures }, null, 2));
} else {
  console.log(`node ${process.version}, ns per first packet (nat PREROUTING), batches of ${OPS}`);
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(40)} ${String(v).padStart(8)} ns`);
  const a = figures["rules/eval/kube-proxy-100"];
  const b = figures["rules/eval/kube-proxy-10000"];
  if (a && b) console.log(`10,000 / 100 services: ${(b / a).toFixed(2)}x`);
}
