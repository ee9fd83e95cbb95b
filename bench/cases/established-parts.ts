/**
 * established-parts (run it by name; not in the default run): where the established packet's time
 * goes. The same traffic as `established` (MasqWorld), timed through growing parts of the path, each
 * part called directly as Gateway.receive calls it:
 *
 *   parse       Skb.reset + parsePacket + the IPv4 header checksum check
 *   +conntrack  + Conntrack.in at PREROUTING (lookup, TCP checksum, window tracking) + confirm
 *   +nat        + Nat.hook at PREROUTING and POSTROUTING (the rewrite and checksum updates)
 *   gateway     Gateway.receive: the above plus routing, TTL, the raw/mangle/filter table checks,
 *               the FORWARD filter rules, counters, the sink
 *   gateway, nf_conntrack_checksum=0   the same without the TCP checksum verification
 *
 * The differences between rows are each part's share. Sizes as in `established`.
 */
import { Hook } from "../../src/core/netfilter.js";
import { Skb } from "../../src/core/skb.js";
import { verifyIpv4HeaderChecksum } from "../../src/wire/checksum.js";
import { parsePacket } from "../../src/wire/parse.js";
import { type BenchCase, type CaseOptions, type Measure, median, parseCount, timeRuns } from "../lib/harness.js";
import { MasqWorld, STRIDE } from "./masq-world.js";

const noNat = (): number => 1;

export const establishedParts: BenchCase = {
  name: "established-parts",
  title: "the established path taken apart: parse, +conntrack, +nat, whole gateway (ns/packet)",
  optional: true,
  sizes: (smoke) => (smoke ? ["10k"] : ["10k", "100k", "1M"]),
  async run(size: string, opts: CaseOptions): Promise<Measure[]> {
    const n = parseCount(size);
    const w = new MasqWorld(n);
    w.establish();
    const m = opts.smoke ? 20_000 : Math.max(n, 500_000);
    const ct = w.inst.conntrack;
    const nat = w.inst.nat;
    const skb = new Skb();
    const pi = skb.pi;
    const lan = w.lan;
    const wan = w.wan;
    const stage = (level: number): number => {
      const a = w.arena;
      const lens = w.lens;
      const ifs = w.ifs;
      const cnt = w.count;
      const t = w.clock;
      let ok = 0;
      for (let k = 0; k < cnt; k++) {
        skb.reset(t + k * 1e-6, ifs[k]);
        parsePacket(pi, a, k * STRIDE, lens[k]);
        if (verifyIpv4HeaderChecksum(pi)) ok++;
        if (level >= 1) {
          ct.in(skb, Hook.Prerouting);
          if (level >= 2) {
            // routing's choice: the other interface
            skb.outIf = ifs[k] === lan ? wan : lan;
            if (nat.hook(skb, Hook.Prerouting, noNat) !== 1 || nat.hook(skb, Hook.Postrouting, noNat) !== 1) ok--;
          }
          if (skb.ct >= 0) ct.confirm(skb);
        }
      }
      w.clock = t + cnt * 1e-6;
      if (ok !== cnt) throw new Error("bad IPv4 checksums in the generated traffic, or a NAT hook did not accept");
      return cnt;
    };
    const out: Measure[] = [];
    const f = w.flows;
    const saveC = new Int32Array(f.n);
    const saveS = new Int32Array(f.n);
    const measure = (label: string, body: () => number, verify: boolean, tracked = true): void => {
      const runs = timeRuns(
        opts,
        1,
        () => {
          saveC.set(f.seqC);
          saveS.set(f.seqS);
          w.fill(m);
          w.mark();
        },
        body,
        (i) => {
          if (verify) w.verify(m, `${label} run ${i}`);
          else if (ct.stats.invalid !== 0) throw new Error(`${label}: invalid packets`);
          if (!tracked) {
            // conntrack did not see these packets: the connections are where they were
            f.seqC.set(saveC);
            f.seqS.set(saveS);
          }
        },
      );
      out.push({
        case: "established-parts",
        size: `${size} conns: ${label}`,
        unit: "ns/packet",
        value: median(runs),
        runs,
      });
    };
    measure("parse", () => stage(0), false, false);
    measure("+conntrack", () => stage(1), false);
    measure("+nat", () => stage(2), false);
    measure("gateway", () => w.send(), true);
    ct.cfg.checksum = false;
    measure("gateway, nf_conntrack_checksum=0", () => w.send(), true);
    return out;
  },
};
