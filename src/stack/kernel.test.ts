/**
 * The kernel fixtures of src/stack/testdata (recorded from Linux 6.18 with tools/oracle/record.ts, see
 * testdata/README.md): every input packet goes through a minimal gateway whose own packets come from
 * Stack, and what it sends is compared with what Linux sent, byte for byte, after masking the fields
 * Linux draws from secrets or its clock (maskUnreproducible).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { PacketInfo } from "../wire/packet-info.js";
import { stackConfigFromSysctls } from "./config.js";
import { STACK_REASON_NAMES } from "./reasons.js";
import { Stack } from "./stack.js";
import {
  firstDiff,
  hex,
  ipOf,
  MiniGateway,
  maskUnreproducible,
  type RejectRules,
  readPcap,
  type Sent,
  topology,
} from "./testdata/harness.js";

const DATA = join(dirname(fileURLToPath(import.meta.url)), "testdata");

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

function sysctls(file: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) m.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return m;
}

interface Run {
  gw: MiniGateway;
  /** what Linux sent of its own, per interface name */
  kernel: Map<string, { time: number; bytes: Uint8Array }[]>;
  mine: Map<string, Sent[]>;
  inputs: { iface: string; time: number; bytes: Uint8Array }[];
}

/** replay one fixture through MiniGateway + Stack. `own(ip)` selects the kernel's own packets. */
function replay(name: string, rules: RejectRules | null = null, tweak?: (s: Stack) => void): Run {
  const dir = join(DATA, name);
  const topo = topology(
    readJson(join(dir, "addr.json")),
    readJson(join(dir, "route.json")),
    readJson(join(dir, "route6.json")),
  );
  const cfg = stackConfigFromSysctls(sysctls(join(dir, "sysctl.txt")), 250);
  const stack = new Stack(cfg, topo.routes);
  if (tweak) tweak(stack);
  const gw = new MiniGateway(stack, topo, rules);
  const inputs: Run["inputs"] = [];
  for (const iface of ["lan0", "wan0"]) {
    const { records } = readPcap(new Uint8Array(readFileSync(join(dir, "in", `${iface}.pcap`))));
    for (const r of records) inputs.push({ iface, time: r.time, bytes: r.data });
  }
  inputs.sort((a, b) => a.time - b.time);
  for (const i of inputs) gw.receive(topo.ifindex.get(i.iface) ?? -1, i.bytes, i.time);
  const own = new Set<string>();
  // the gateway's own addresses: its packets (and REJECT's RSTs, which borrow the destination's) are
  // what it made; packets it forwarded carry other sources
  const kernel = new Map<string, { time: number; bytes: Uint8Array }[]>();
  const mine = new Map<string, Sent[]>();
  for (const iface of ["lan0", "wan0"]) {
    const { linkType, records } = readPcap(new Uint8Array(readFileSync(join(dir, "out", `${iface}.pcap`))));
    const list: { time: number; bytes: Uint8Array }[] = [];
    for (const r of records) {
      const ip = ipOf(linkType, r.data);
      if (ip !== null && madeByGateway(ip, iface)) list.push({ time: r.time, bytes: ip.slice() });
    }
    kernel.set(iface, list);
    const idx = topo.ifindex.get(iface);
    mine.set(
      iface,
      gw.sent.filter((s) => s.oif === idx),
    );
  }
  void own;
  return { gw, kernel, mine, inputs };
}

/**
 * madeByGateway: in these fixtures every probe enters from one side and nothing comes back from the
 * far host, so what leaves lan0 was made by the gateway; on wan0 only packets from its wan addresses.
 */
function madeByGateway(ip: Uint8Array, iface: string): boolean {
  if (iface === "lan0") return true;
  if (ip[0] >> 4 === 4) return ip[12] === 10 && ip[13] === 77 && ip[14] === 2 && ip[15] === 1;
  // fd77:2::1
  return ip[8] === 0xfd && ip[9] === 0x77 && ip[11] === 2 && ip[23] === 1 && ip[22] === 0;
}

function describeInput(run: Run, cause: number): string {
  const i = run.inputs[cause];
  return `input #${cause} (${i.iface} @${i.time.toFixed(6)})`;
}

/**
 * compareAll: Linux's packets and ours, in order, per interface: same count, same bytes after masking.
 * `skip(kernelIp)` leaves out kernel packets of a documented gap (and ours for the same input).
 */
function compareAll(run: Run, ifaces: readonly string[] = ["lan0", "wan0"]): { compared: number; masked: Set<string> } {
  let compared = 0;
  const maskedFields = new Set<string>();
  for (const iface of ifaces) {
    const k = run.kernel.get(iface) ?? [];
    const m = run.mine.get(iface) ?? [];
    const n = Math.min(k.length, m.length);
    for (let i = 0; i < n; i++) {
      const mine = m[i].bytes.slice();
      for (const f of maskUnreproducible(mine, k[i].bytes)) maskedFields.add(f);
      const d = firstDiff(mine, k[i].bytes);
      assert.equal(
        d,
        -1,
        `${iface} packet ${i} (from ${describeInput(run, m[i].cause)}) differs at byte ${d}:\n  kernel ${hex(k[i].bytes)}\n  ctnat  ${hex(mine)}`,
      );
      compared++;
    }
    if (k.length !== m.length) {
      const extra =
        k.length > m.length
          ? `kernel #${n}: ${hex(k[n].bytes)}`
          : `ctnat #${n} from ${describeInput(run, m[n].cause)}: ${hex(m[n].bytes)}`;
      assert.fail(`${iface}: kernel sent ${k.length} packets, ctnat ${m.length}; first unmatched ${extra}`);
    }
  }
  return { compared, masked: maskedFields };
}

function reasonsSummary(run: Run): string {
  return run.gw.reasons.map((r, i) => `#${i}:${r < 0 ? "-" : STACK_REASON_NAMES[r]}`).join(" ");
}

test("stack-v4: forwarding errors and the local stack's answers, as Linux sent them", () => {
  const run = replay("stack-v4");
  const { compared, masked } = compareAll(run);
  assert.equal(compared, 47, reasonsSummary(run));
  assert.deepEqual([...masked].sort(), ["icmp.timestamps", "ip.id"]);
});

test("stack-v6: forwarding errors and the local stack's answers, as Linux sent them", () => {
  const run = replay("stack-v6");
  const { compared, masked } = compareAll(run);
  assert.equal(compared, 49, reasonsSummary(run));
  assert.deepEqual([...masked], ["ip6.flowlabel"]);
});

// the fixture's rulesets (rules.v4 / rules.v6 of the reject scenario), as the REJECT types they ask for
const TCP = 6;
const UDP = 17;
const rejectRules: RejectRules = (pi: PacketInfo, local: boolean): number => {
  const v4 = pi.family === 4;
  const p = pi.proto;
  if (local) {
    if (p === TCP && pi.dstPort === 22) return 7;
    if (p === UDP && pi.dstPort === 23) return v4 ? 3 : 12;
    if (v4 && p === 1 && pi.icmpType === 8) return 5;
    if (!v4 && p === 58 && pi.icmpType === 128) return 10;
    if (p === 253) return v4 ? 2 : 12;
    return -1;
  }
  if (p === TCP && (pi.dstPort === 1001 || pi.dstPort === 1011)) return 7;
  if (p === TCP && pi.dstPort === 1002) return v4 ? 3 : 12;
  if (p === UDP && pi.dstPort >= 1003 && pi.dstPort <= 1009) {
    const v4types = [3, 0, 1, 2, 5, 6, 8];
    const v6types = [12, 9, 10, 11, 14, 15, -1];
    return (v4 ? v4types : v6types)[pi.dstPort - 1003];
  }
  if (v4 && p === 1 && pi.icmpType === 8) return 6;
  if (v4 && p === 1 && pi.icmpType === 3) return 3;
  if (!v4 && p === 58 && pi.icmpType === 128) return 10;
  if (!v4 && p === 58 && pi.icmpType === 1) return 12;
  if (p === 253) return v4 ? 3 : 12;
  return -1;
};

test("reject: every REJECT type in FORWARD and INPUT, IPv4 and IPv6, as Linux sent them", () => {
  const run = replay("reject", rejectRules);
  const { compared } = compareAll(run);
  assert.ok(compared >= 50, `compared ${compared}: ${reasonsSummary(run)}`);
});

test("ratelimit: the per-destination and route-error limiters drop what Linux dropped", () => {
  // The only free parameter: where the kernel's jiffy ticks fell relative to the capture clock. Some
  // phase must reproduce every decision of the recording.
  const fits: number[] = [];
  let lastError = "";
  for (let tenth = 0; tenth < 10; tenth++) {
    const run = replay("ratelimit", null, (s) => {
      s.config.jiffiesPhase = tenth / 10;
    });
    try {
      const { compared } = compareAll(run);
      assert.equal(compared, 94);
      fits.push(tenth / 10);
    } catch (e) {
      lastError += `\n phase ${tenth / 10}: ${(e as Error).message.split("\n")[0]}`;
    }
  }
  assert.ok(fits.length > 0, `no jiffy phase reproduces the recording: ${lastError}`);
  // the phases that fit form one interval (the recording pins the kernel's tick phase down to it)
  assert.deepEqual(fits, [0.3, 0.4, 0.5]);
});

test("ratelimit-global: the global bucket lets through what Linux did, within its random consumption", () => {
  // Linux draws 0, 1 or 2 credits per message (get_random_u32_below(3)): replay with the extremes and
  // with the mean, per burst (the bursts are separated by pauses that refill the bucket).
  const bursts = (run: Run, list: { time: number }[]): number[] => {
    const starts = run.inputs.filter((i, k) => k === 0 || i.time - run.inputs[k - 1].time > 0.2).map((i) => i.time);
    return starts.map(
      (t, k) => list.filter((p) => p.time >= t && (k + 1 >= starts.length || p.time < starts[k + 1])).length,
    );
  };
  const kernelRun = replay("ratelimit-global");
  const kernel = bursts(kernelRun, kernelRun.kernel.get("lan0") ?? []);
  const counts = (draw: () => number): number[] => {
    const run = replay("ratelimit-global", null, (s) => {
      s.limiter.consumeDraw = draw;
    });
    return bursts(run, run.mine.get("lan0") ?? []);
  };
  const most = counts(() => 0);
  const least = counts(() => 2);
  const mean = counts(() => 1);
  assert.deepEqual(kernel.length, 3);
  for (let i = 0; i < kernel.length; i++) {
    assert.ok(
      least[i] <= kernel[i] && kernel[i] <= most[i],
      `burst ${i}: kernel ${kernel[i]} outside [${least[i]}, ${most[i]}]`,
    );
    // two standard deviations of the credits n messages consume (variance 2/3 per message)
    const tolerance = Math.max(3, 2 * Math.sqrt((kernel[i] * 2) / 3));
    assert.ok(Math.abs(mean[i] - kernel[i]) <= tolerance, `burst ${i}: kernel ${kernel[i]}, mean model ${mean[i]}`);
  }
});
