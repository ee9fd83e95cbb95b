/**
 * `ctnat replay`: the replay contract (see README). Reads the gateway's description and captures,
 * runs the packets through the engine, and writes the outputs atomically (temporary names, renamed
 * when everything succeeded).
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { InputError } from "../core/errors.js";
import { buildGateway, type GatewayInstance } from "../engine/build.js";
import { type NetIface, type NetRoute, parseIpAddrJson, parseIpRouteJson } from "../engine/netconf.js";
import type { GatewaySink } from "../engine/ports.js";
import { type RecordSource, type ReplayCounters, Replayer, type ReplayInput } from "../engine/replay.js";
import { parseSysctl, type Sysctls } from "../engine/sysctl.js";
import { formatTraceComment, formatTraceText } from "../engine/trace.js";
import { AtomicFile, CaptureFileReader, PcapFileWriter, PcapngFileWriter } from "../io/capture-file.js";
import { linkTypeName } from "../pcap/link-type.js";
import { type CaptureRecord, PacketDirection } from "../pcap/record.js";
import { isSupportedLinkType, LINKTYPE_RAW } from "../wire/link.js";
import { formatSummary } from "./summary.js";

export interface ReplayOptions {
  rules?: string;
  rules6?: string;
  ipsets?: string;
  addr?: string;
  route?: string;
  route6?: string;
  sysctl?: string;
  in: string[];
  out?: string;
  at?: string;
  seed?: string;
  trace?: string;
  pcapng?: string;
  summary?: boolean;
  quiet?: boolean;
}

/** What a finished replay reports (for the summary and for tests). */
export interface ReplayResult {
  instance: GatewayInstance;
  counters: ReplayCounters;
  ifaces: NetIface[];
  inputs: { name: string; file: string; packets: number }[];
  outputs: { name: string; packets: number; bytes: number }[];
  conntrackText: string;
  at: number;
  warnings: string[];
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
}

/**
 * makeDirs: mkdir -p. Not mkdirSync({ recursive: true }): Node 20 loops forever when mkdir answers
 * ENOENT under a parent that exists (procfs: `--out /proc/x`).
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (let i = missing.length - 1; i >= 0; i--) mkdirSync(missing[i]!);
  // something other than a directory in its place: let mkdir say so (EEXIST)
  if (missing.length === 0 && !statSync(dir).isDirectory()) mkdirSync(dir);
}

/**
 * linkChecked: the records of a capture, refusing a link type ctnat cannot read when its first record
 * comes (a pcapng names its interfaces' link types only as it goes), as a pcap's is refused at open.
 */
function linkChecked(r: CaptureFileReader, file: string): RecordSource {
  let ok = -1;
  return {
    next(): CaptureRecord | null {
      const rec = r.next();
      if (rec !== null && rec.linkType !== ok) {
        if (!isSupportedLinkType(rec.linkType)) {
          throw new InputError(
            `unsupported link type ${rec.linkType} (${linkTypeName(rec.linkType)}) on interface ${rec.interfaceId}; ctnat reads Ethernet, raw IP, Linux cooked and BSD loopback captures`,
            { file, offset: rec.offset },
          );
        }
        ok = rec.linkType;
      }
      return rec;
    },
  };
}

/** runReplay: the CLI action. */
export async function runReplay(opts: ReplayOptions): Promise<void> {
  if (!opts.out) throw new InputError("replay: --out DIR is required");
  if (opts.in.length === 0) throw new InputError("replay: at least one --in IFACE=FILE is required");
  const result = replayFiles(opts, !opts.quiet && process.stderr.isTTY === true);
  for (const w of result.warnings) if (!opts.quiet) process.stderr.write(`ctnat: warning: ${w}\n`);
  if (opts.summary) process.stdout.write(formatSummary(result));
}

/** replayFiles: the whole replay, synchronous; throws InputError for bad input. */
export function replayFiles(opts: ReplayOptions, progress: boolean): ReplayResult {
  const sysctl: Sysctls = opts.sysctl ? parseSysctl(readText(opts.sysctl, "sysctl file"), opts.sysctl) : new Map();
  let ifaces: NetIface[];
  if (opts.addr) {
    ifaces = parseIpAddrJson(readText(opts.addr, "interfaces"), opts.addr);
  } else {
    // no description: one address-less interface per input, numbered in the order given
    ifaces = [];
    for (const spec of opts.in) {
      const name = spec.slice(0, Math.max(0, spec.indexOf("=")));
      if (name && !ifaces.some((f) => f.name === name)) {
        ifaces.push({
          ifindex: ifaces.length + 2,
          name,
          mtu: 1500,
          up: true,
          loopback: false,
          linkType: "ether",
          mac: null,
          addrs: [],
        });
      }
    }
  }
  const routes4: NetRoute[] = opts.route ? parseIpRouteJson(readText(opts.route, "IPv4 routes"), 4, opts.route) : [];
  const routes6: NetRoute[] = opts.route6 ? parseIpRouteJson(readText(opts.route6, "IPv6 routes"), 6, opts.route6) : [];
  // a route out of an interface the gateway does not have (ip would never print one)
  for (const [routes, file] of [
    [routes4, opts.route],
    [routes6, opts.route6],
  ] as const) {
    routes.forEach((r, i) => {
      if (r.dev !== "" && !ifaces.some((f) => f.name === r.dev)) {
        throw new InputError(
          `[${i}].dev: no interface ${r.dev} in ${opts.addr ?? "the interfaces"} (has ${ifaces.map((x) => x.name).join(", ") || "none"})`,
          { file },
        );
      }
    });
  }
  let seed = 1;
  if (opts.seed !== undefined) {
    if (!/^\d+$/.test(opts.seed))
      throw new InputError(`--seed: expected a non-negative integer, found ${JSON.stringify(opts.seed)}`);
    seed = Number(opts.seed) >>> 0;
  }
  let at = Number.NaN;
  if (opts.at !== undefined) {
    at = Number(opts.at);
    if (!Number.isFinite(at) || opts.at.trim() === "")
      throw new InputError(`--at: expected unix seconds, found ${JSON.stringify(opts.at)}`);
  }

  // inputs
  const inputs: ReplayInput[] = [];
  const readers: CaptureFileReader[] = [];
  const inputInfo: { name: string; file: string; packets: number }[] = [];
  let totalBytes = 0;
  const openInputs = (): void => {
    for (const spec of opts.in) {
      const eq = spec.indexOf("=");
      if (eq <= 0 || eq === spec.length - 1)
        throw new InputError(`--in: expected IFACE=FILE, found ${JSON.stringify(spec)}`);
      const name = spec.slice(0, eq);
      const file = spec.slice(eq + 1);
      const f = ifaces.find((x) => x.name === name);
      if (!f) {
        throw new InputError(
          `--in ${name}: no interface ${name} in ${opts.addr ?? "the interfaces"} (has ${ifaces.map((x) => x.name).join(", ") || "none"})`,
        );
      }
      if (!existsSync(file)) throw new InputError("no such file", { file });
      const r = CaptureFileReader.open(file);
      readers.push(r);
      for (const i of r.interfaces.length > 0 ? r.interfaces : []) {
        if (!isSupportedLinkType(i.linkType)) {
          throw new InputError(
            `unsupported link type ${i.linkType} (${linkTypeName(i.linkType)}); ctnat reads Ethernet, raw IP, Linux cooked and BSD loopback captures`,
            {
              file,
            },
          );
        }
      }
      totalBytes += statSync(file).size;
      inputs.push({ ifindex: f.ifindex, name, source: linkChecked(r, file), mac: f.mac });
      inputInfo.push({ name, file, packets: 0 });
    }
  };

  // outputs
  const outDir = opts.out!;
  const writers = new Map<number, PcapFileWriter>();
  const outputs: { name: string; packets: number; bytes: number }[] = [];
  const outIndex = new Map<number, number>();
  let local: PcapFileWriter | null = null;
  let pngAbort: (() => void) | null = null;
  let replayer: Replayer | null = null;
  const files: AtomicFile[] = [];

  try {
    openInputs();
    try {
      makeDirs(outDir);
    } catch (e) {
      throw new InputError(`cannot create the output directory: ${(e as NodeJS.ErrnoException).code}`, {
        file: outDir,
      });
    }
    for (const f of ifaces) {
      if (f.loopback) continue;
      writers.set(
        f.ifindex,
        new PcapFileWriter(join(outDir, `${f.name}.pcap`), { linkType: LINKTYPE_RAW, nanosecond: true }),
      );
      outIndex.set(f.ifindex, outputs.length);
      outputs.push({ name: f.name, packets: 0, bytes: 0 });
    }
    local = new PcapFileWriter(join(outDir, "local.pcap"), { linkType: LINKTYPE_RAW, nanosecond: true });
    const localW = local;
    // --pcapng: every packet in and out in one file, traces as comments
    let png: PcapngFileWriter | null = null;
    const pngIf = new Map<number, number>();
    const held: { ifindex: number; bytes: Uint8Array; dir: number; comment: string }[] = [];
    let heldInput: { ifindex: number; bytes: Uint8Array } | null = null;
    const generatedComments: string[] = [];
    if (opts.pcapng) {
      png = new PcapngFileWriter(opts.pcapng, { application: "ctnat replay" });
      const p = png;
      pngAbort = () => p.abort();
      for (const f of ifaces)
        if (!f.loopback)
          pngIf.set(f.ifindex, png.addInterface({ name: f.name, linkType: LINKTYPE_RAW, nanosecond: true }));
    }
    const sink: GatewaySink = {
      transmit(ifindex, buf, off, len) {
        const w = writers.get(ifindex);
        if (w === undefined || replayer === null) return;
        w.write(buf, off, len, replayer.nowSec, replayer.nowNsec);
        const o = outputs[outIndex.get(ifindex)!];
        o.packets++;
        o.bytes += len;
        if (png !== null)
          held.push({ ifindex, bytes: buf.slice(off, off + len), dir: PacketDirection.Out, comment: "" });
      },
      deliver(_ifindex, buf, off, len) {
        if (replayer !== null) localW.write(buf, off, len, replayer.nowSec, replayer.nowNsec);
      },
    };
    const instance = buildGateway({
      ifaces,
      routes4,
      routes6,
      sysctl: opts.sysctl ? sysctl : null,
      rules4: opts.rules ? { text: readText(opts.rules, "IPv4 ruleset"), file: opts.rules } : null,
      rules6: opts.rules6 ? { text: readText(opts.rules6, "IPv6 ruleset"), file: opts.rules6 } : null,
      ipsets: opts.ipsets ? { text: readText(opts.ipsets, "IP sets"), file: opts.ipsets } : null,
      seed,
      sink,
    });
    // --trace / --pcapng: trace every packet
    let traceFile: AtomicFile | null = null;
    let inputComment = "";
    if (opts.trace || png !== null) {
      if (opts.trace) {
        traceFile = new AtomicFile(join(outDir, opts.trace === "json" ? "trace.jsonl" : "trace.txt"));
        files.push(traceFile);
      }
      const enc = new TextEncoder();
      const json = opts.trace === "json";
      instance.setTracer(
        instance.newTracer((t) => {
          if (traceFile !== null) traceFile.write(enc.encode(json ? `${JSON.stringify(t)}\n` : formatTraceText(t)));
          if (png !== null) {
            const text = formatTraceComment(t);
            if (t.origin === "in") inputComment = text;
            else generatedComments.push(text);
          }
        }),
      );
    }
    replayer = new Replayer(instance.gateway, inputs);
    if (png !== null) {
      const pw = png;
      const r = replayer;
      r.beforeFeed = (ifindex, buf, off, len) => {
        heldInput = { ifindex, bytes: buf.slice(off, off + len) };
        inputComment = "";
        held.length = 0;
        generatedComments.length = 0;
      };
      r.afterFeed = () => {
        const inp = heldInput;
        if (inp !== null) {
          pw.write(
            pngIf.get(inp.ifindex) ?? 0,
            inp.bytes,
            0,
            inp.bytes.length,
            r.nowSec,
            r.nowNsec,
            inp.bytes.length,
            PacketDirection.In,
            inputComment,
          );
        }
        // packets the gateway made are sent after the forwarded one (if any): pair them with their traces
        const firstGenerated = held.length - generatedComments.length;
        held.forEach((h, k) => {
          const comment = k >= firstGenerated && firstGenerated >= 0 ? generatedComments[k - firstGenerated] : "";
          pw.write(
            pngIf.get(h.ifindex) ?? 0,
            h.bytes,
            0,
            h.bytes.length,
            r.nowSec,
            r.nowNsec,
            h.bytes.length,
            h.dir,
            comment,
          );
        });
        heldInput = null;
      };
    }

    // run, with progress on a terminal
    let lastReport = Date.now();
    for (;;) {
      const n = replayer.step(4096);
      if (n === 0) break;
      if (progress && Date.now() - lastReport > 250) {
        lastReport = Date.now();
        const done = readers.reduce((s, r) => s + r.reader.offset, 0);
        const pct = totalBytes > 0 ? Math.min(100, (100 * done) / totalBytes) : 0;
        process.stderr.write(`\rreplay: ${replayer.counters.packets} packets, ${pct.toFixed(0)}% `);
      }
    }
    if (progress) process.stderr.write("\r\x1b[K");
    const c = replayer.counters;
    inputInfo.forEach((x, i) => {
      x.packets = replayer!.perInput[i];
    });
    const warnings: string[] = [];
    for (const r of readers) if (r.warning) warnings.push(r.warning);
    if (c.snapCut > 0)
      warnings.push(`${c.snapCut} packets were cut by their capture's snapshot length and not replayed`);
    if (c.outOfOrder > 0) warnings.push(`${c.outOfOrder} packets were out of timestamp order in their capture`);

    if (Number.isNaN(at)) at = Number.isNaN(replayer.lastTime) ? 0 : replayer.lastTime;
    const conntrackText = instance.conntrackList(at);
    const ctFile = new AtomicFile(join(outDir, "conntrack.txt"));
    files.push(ctFile);
    ctFile.write(new TextEncoder().encode(conntrackText));
    for (const fam of [4, 6] as const) {
      const f = new AtomicFile(join(outDir, `counters.v${fam}`));
      files.push(f);
      f.write(new TextEncoder().encode(instance.saveCounters(fam)));
    }
    // everything is written: flush it all (a full disk fails here, with nothing in place yet), then
    // put it all in place
    for (const w of writers.values()) w.flush();
    local.flush();
    png?.flush();
    for (const w of writers.values()) w.close();
    local.close();
    png?.close();
    for (const f of files) f.commit();
    return { instance, counters: c, ifaces, inputs: inputInfo, outputs, conntrackText, at, warnings };
  } catch (e) {
    for (const w of writers.values()) w.abort();
    local?.abort();
    pngAbort?.();
    for (const f of files) f.abort();
    throw e;
  } finally {
    for (const r of readers) r.close();
  }
}
