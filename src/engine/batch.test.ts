/**
 * Gateway.receiveBatch is receive() in groups: every recorded kernel scenario is fed to two gateways
 * built alike, one packet at a time to the first and in batches of varying size (seeded) to the second.
 * Everything either sends or delivers (bytes, interface, time), their counters, the conntrack tables
 * and the rule counters must be identical.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { replayOptionsFor } from "../cli/example.js";
import { CaptureFileReader } from "../io/capture-file.js";
import { buildGateway, type GatewayInstance } from "./build.js";
import { PacketBatch } from "./gateway.js";
import { parseIpAddrJson, parseIpRouteJson } from "./netconf.js";
import type { GatewaySink } from "./ports.js";
import { Replayer, type ReplayInput } from "./replay.js";
import { parseSysctl } from "./sysctl.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function scenarioDirs(): string[] {
  const out: string[] = [];
  for (const parent of [join(REPO, "test/fixtures/kernel"), join(REPO, "examples")]) {
    if (!existsSync(parent)) continue;
    for (const n of readdirSync(parent).sort()) {
      const d = join(parent, n);
      if (existsSync(join(d, "in")) && existsSync(join(d, "at.txt"))) out.push(d);
    }
  }
  return out;
}

class Transcript implements GatewaySink {
  readonly lines: string[] = [];
  transmit(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void {
    this.lines.push(`tx ${ifindex} ${now} ${Buffer.from(buf.subarray(off, off + len)).toString("hex")}`);
  }
  deliver(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void {
    this.lines.push(`local ${ifindex} ${now} ${Buffer.from(buf.subarray(off, off + len)).toString("hex")}`);
  }
}

function build(dir: string, sink: GatewaySink): { inst: GatewayInstance; ins: ReplayInput[]; at: number } {
  const o = replayOptionsFor(dir, "unused");
  const text = (f: string | undefined): string | null => (f === undefined ? null : readFileSync(f, "utf8"));
  const ifaces = parseIpAddrJson(text(o.addr)!);
  const inst = buildGateway({
    ifaces,
    routes4: o.route ? parseIpRouteJson(text(o.route)!, 4) : [],
    routes6: o.route6 ? parseIpRouteJson(text(o.route6)!, 6) : [],
    sysctl: o.sysctl ? parseSysctl(text(o.sysctl)!) : null,
    rules4: o.rules ? { text: text(o.rules)!, file: o.rules } : null,
    rules6: o.rules6 ? { text: text(o.rules6)!, file: o.rules6 } : null,
    ipsets: o.ipsets ? { text: text(o.ipsets)!, file: o.ipsets } : null,
    seed: 1,
    sink,
  });
  const ins: ReplayInput[] = o.in.map((spec) => {
    const eq = spec.indexOf("=");
    const f = ifaces.find((x) => x.name === spec.slice(0, eq))!;
    return { ifindex: f.ifindex, name: f.name, source: CaptureFileReader.open(spec.slice(eq + 1)), mac: f.mac };
  });
  return { inst, ins, at: Number(o.at) };
}

for (const dir of scenarioDirs()) {
  test(`receiveBatch handles ${dir.slice(REPO.length + 1)} exactly as receive`, () => {
    const sa = new Transcript();
    const sb = new Transcript();
    const a = build(dir, sa);
    const b = build(dir, sb);
    for (const i of b.ins) (i.source as CaptureFileReader).close();
    const gb = b.inst.gateway;
    const batch = new PacketBatch(40);
    let rng = 0x2545f491;
    let flushAt = 1;
    const flush = (): void => {
      gb.receiveBatch(batch);
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      flushAt = 1 + ((rng >>> 0) % 40);
    };
    const r = new Replayer(a.inst.gateway, a.ins);
    r.beforeFeed = (ifindex, buf, off, len, pktType, srcMacOff) => {
      // the reader reuses its buffer: the batch gets a copy (with the link-layer source for -m mac)
      const start = srcMacOff >= 6 ? Math.min(srcMacOff - 6, off) : off;
      const copy = buf.slice(start, off + len);
      batch.add(ifindex, copy, off - start, len, r.lastTime, pktType, copy, srcMacOff >= 6 ? srcMacOff - start : -1);
      if (batch.count >= flushAt) flush();
    };
    try {
      while (r.step(4096) > 0) {}
    } finally {
      for (const i of a.ins) (i.source as CaptureFileReader).close();
    }
    flush();
    const at = Number.isNaN(a.at) ? r.lastTime : a.at;
    assert.equal(b.inst.conntrackList(at), a.inst.conntrackList(at), "conntrack table");
    assert.deepEqual(sb.lines, sa.lines, "packets sent and delivered");
    assert.ok(sa.lines.length > 0);
    for (const k of ["fate", "rxPackets", "rxBytes", "txPackets", "txBytes"] as const) {
      assert.deepEqual(Array.from(b.inst.gateway.stats[k]), Array.from(a.inst.gateway.stats[k]), k);
    }
    assert.equal(b.inst.saveCounters(4), a.inst.saveCounters(4));
    assert.equal(b.inst.saveCounters(6), a.inst.saveCounters(6));
  });
}
