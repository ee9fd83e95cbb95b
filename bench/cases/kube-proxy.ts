/**
 * kube-proxy: the first packet (SYN) of new connections to ClusterIP services through a Kubernetes node
 * whose ruleset is kube-proxy's (see fixtures/kube-proxy.ts) with 100, 1,000 or 10,000 services, through
 * the whole gateway: conntrack creates the entry, nat PREROUTING walks KUBE-SERVICES -> KUBE-SVC-* ->
 * KUBE-SEP-* (statistic endpoint choice) and DNATs; routing to the endpoint (this node's cni0 or another
 * node via eth0); filter FORWARD (KUBE-PROXY-FIREWALL, KUBE-FORWARD, KUBE-SERVICES for NEW); nat
 * POSTROUTING (KUBE-POSTROUTING: MASQUERADE --random-fully when marked); confirmation.
 *
 * Three quarters of the SYNs come from this node's pods (10.244.0.0/24 on cni0, not marked), a quarter
 * from hosts of the node network on eth0 (outside the cluster CIDR: marked, masqueraded). Destinations
 * are service ports drawn uniformly from those with endpoints. Each run sends K SYNs of distinct
 * connections into an empty table; the table is flushed (untimed) between runs.
 */
import type { GatewayInstance } from "../../src/engine/build.js";
import { Fate } from "../../src/engine/stats.js";
import { kubeProxySave, kubeServices } from "../fixtures/kube-proxy.js";
import { buildFor, KUBE, RecordingSink } from "../fixtures/topology.js";
import { type BenchCase, type CaseOptions, fail, type Measure, median, timeRuns } from "../lib/harness.js";
import { ip4, OPT, TCP_SYN, writeTcp4 } from "../lib/packets.js";
import { Prng } from "../lib/prng.js";

const STRIDE = 64;

export const kubeProxy: BenchCase = {
  name: "kube-proxy",
  title: "first packet (SYN) to a ClusterIP through a kube-proxy node ruleset (ns/packet)",
  sizes: (smoke) => (smoke ? ["100"] : ["100", "1000", "10000"]),
  async run(size: string, opts: CaseOptions): Promise<Measure[]> {
    const services = Number(size);
    const rules = kubeProxySave(services);
    const sink = new RecordingSink();
    const tLoad = Date.now();
    const inst: GatewayInstance = buildFor(KUBE, rules, 262144, sink);
    const loadMs = Date.now() - tLoad;
    const ports = kubeServices(services).filter((s) => s.endpoints.length > 0);
    const k = opts.smoke ? 2_000 : 50_000;
    const rng = new Prng(0x6b756265);
    const arena = new Uint8Array(k * STRIDE);
    const pristine = new Uint8Array(k * STRIDE);
    const lens = new Uint16Array(k);
    const ifs = new Uint8Array(k);
    const cni0 = KUBE.ifindex("cni0");
    const eth0 = KUBE.ifindex("eth0");
    const podBase = ip4("10.244.0.2");
    const hostBase = ip4("192.168.1.1");
    for (let i = 0; i < k; i++) {
      const s = ports[rng.below(ports.length)];
      const fromPod = rng.below(4) !== 0;
      const src = fromPod ? podBase + (i % 250) : hostBase + (i % 254);
      const sport = 32768 + (Math.floor(i / 250) % 28232);
      lens[i] = writeTcp4(
        pristine,
        i * STRIDE,
        src,
        s.clusterIp,
        sport,
        s.port,
        Math.imul(i + 1, 0x9e3779b1),
        0,
        TCP_SYN,
        64240,
        OPT.syn,
        1,
        0,
        0,
        64,
        i,
      );
      ifs[i] = fromPod ? cni0 : eth0;
    }
    const gw = inst.gateway;
    const ct = inst.conntrack;
    let clock = 1_700_000_000;
    let f0 = 0;
    const runs = timeRuns(
      opts,
      2,
      () => {
        ct.flush();
        arena.set(pristine);
        f0 = gw.stats.fate[Fate.Forwarded];
      },
      () => {
        const t = clock;
        for (let i = 0; i < k; i++) gw.receive(ifs[i], arena, i * STRIDE, lens[i], t + i * 1e-6);
        clock = t + k * 1e-6 + 1;
        return k;
      },
      (r) => {
        const fwd = gw.stats.fate[Fate.Forwarded] - f0;
        if (fwd !== k) fail(`run ${r}: ${fwd} of ${k} SYNs forwarded`);
        if (ct.count() !== k) fail(`run ${r}: ${ct.count()} entries, expected ${k}`);
      },
    );
    const v = median(runs);
    return [
      {
        case: "kube-proxy",
        size: `${services} services`,
        unit: "ns/packet",
        value: v,
        runs,
        target: 2000,
        pass: v <= 2000,
        extra: {
          servicePorts: ports.length,
          rules: rules.split("\n").filter((l) => l.startsWith("-A")).length,
          loadMs,
          synsPerRun: k,
        },
      },
    ];
  },
};
