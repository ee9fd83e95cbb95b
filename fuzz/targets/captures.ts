/**
 * Fuzz target "captures": corrupt, truncated and lying pcap / pcapng streams through the capture reader
 * (fed in uneven chunks, as files and pipes deliver them) and then through a replay into the gateway.
 *
 * Sources: every pcap / pcapng under test/fixtures (kernel recordings, tcpdump / dumpcap / editcap /
 * mergecap outputs, crafted multi-section files). Mutations know the formats: they rewrite file and
 * section headers (magic, version, snaplen, link type, byte-order magic), record and block fields
 * (captured length huge or zero, original length, block total length in the header or the trailer,
 * block type, interface id), insert zero-length records and empty blocks, and cut the stream anywhere;
 * plain byte flips and insertions cover the rest.
 *
 * Contract checked for every case:
 * - only a CaptureFormatError escapes, its message one line `byte N: reason` with N inside the stream;
 * - memory stays bounded: the reader's assembly buffer never grows past twice the bytes it was given
 *   (plus 64 KiB), whatever length a header claims;
 * - a stream cut short is read up to its last whole record, and the cut record is reported
 *   (`truncatedAt`, `warning`), never thrown;
 * - a replay of what could be read, through the fuzz gateway, raises nothing else.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { Replayer } from "../../src/engine/replay.js";
import { CaptureFormatError } from "../../src/pcap/errors.js";
import { CaptureReader } from "../../src/pcap/reader.js";
import type { CaptureRecord } from "../../src/pcap/record.js";
import { buildFuzzGateway, IF_LAN, IF_WAN } from "../lib/gateway.js";
import { REPO } from "../lib/packets.js";
import { describeError, type FuzzTarget } from "../lib/target.js";

export interface CaptureSource {
  name: string;
  bytes: Uint8Array;
}

let sourcesCache: CaptureSource[] | null = null;

/** captureSources: every capture file under test/fixtures (at most 256 KiB each). */
export function captureSources(): CaptureSource[] {
  if (sourcesCache !== null) return sourcesCache;
  const out: CaptureSource[] = [];
  const walk = (dir: string): void => {
    for (const f of readdirSync(join(REPO, dir)).sort()) {
      const rel = `${dir}/${f}`;
      const st = statSync(join(REPO, rel));
      if (st.isDirectory()) walk(rel);
      else if (/\.(pcap|pcapng)$/.test(f) && st.size <= 256 * 1024) {
        out.push({ name: rel, bytes: new Uint8Array(readFileSync(join(REPO, rel))) });
      }
    }
  };
  walk("test/fixtures");
  sourcesCache = out;
  return out;
}

/** One structural unit of a stream: the file header / a record (pcap) or a block (pcapng). */
interface Unit {
  off: number;
  len: number;
}

/** units: the file's header and records (pcap) or blocks (pcapng), found without the reader. */
export function units(b: Uint8Array): Unit[] {
  const out: Unit[] = [];
  if (b.length < 4) return out;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const be = dv.getUint32(0, false);
  if (be === 0x0a0d0d0a) {
    let le = true;
    let p = 0;
    while (p + 12 <= b.length) {
      const type = dv.getUint32(p, le);
      if (type === 0x0a0d0d0a && p + 12 <= b.length) le = dv.getUint32(p + 8, true) === 0x1a2b3c4d;
      const len = dv.getUint32(p + 4, le);
      if (len < 12 || p + len > b.length) break;
      out.push({ off: p, len });
      p += len;
    }
    return out;
  }
  const magicLe = dv.getUint32(0, true);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d || magicLe === 0xa1b2cd34;
  const hl = (le ? magicLe : be) === 0xa1b2cd34 ? 24 : 16;
  if (b.length < 24) return out;
  out.push({ off: 0, len: 24 });
  let p = 24;
  while (p + hl <= b.length) {
    const cap = dv.getUint32(p + 8, le);
    if (p + hl + cap > b.length) break;
    out.push({ off: p, len: hl + cap });
    p += hl + cap;
  }
  return out;
}

export type CaptureMutation =
  | { m: "flip"; at: number; bit: number }
  | { m: "set"; at: number; v: number }
  | { m: "cut"; at: number }
  | { m: "insert"; at: number; bytes: number[] }
  | { m: "u32"; unit: number; field: number; v: number }
  | { m: "dupUnit"; unit: number; to: number }
  | { m: "dropUnit"; unit: number }
  | { m: "emptyUnit"; unit: number; kind: number };

export interface CaptureCase {
  src: number;
  muts: CaptureMutation[];
  /** seed of the chunk sizes the stream is fed in */
  chunks: number;
}

const LYING_VALUES = [
  0,
  1,
  11,
  12,
  13,
  16,
  28,
  0xffffffff,
  0x7fffffff,
  0x80000000,
  262144,
  262145,
  16 * 1024 * 1024,
  0x10000000,
  65535,
  65536,
  3,
  4,
  8,
];

function lie(v: number, cur: number): number {
  const k = v % (LYING_VALUES.length + 4);
  if (k < LYING_VALUES.length) return LYING_VALUES[k]!;
  if (k === LYING_VALUES.length) return cur + 4;
  if (k === LYING_VALUES.length + 1) return Math.max(0, cur - 4);
  if (k === LYING_VALUES.length + 2) return cur + 1;
  return (v >>> 5) >>> 0;
}

function mutateCapture(b: Uint8Array, mu: CaptureMutation): Uint8Array {
  const n = b.length;
  switch (mu.m) {
    case "flip":
      if (n > 0) b[mu.at % n] ^= 1 << (mu.bit & 7);
      return b;
    case "set":
      if (n > 0) b[mu.at % n] = mu.v & 0xff;
      return b;
    case "cut":
      return b.slice(0, mu.at % (n + 1));
    case "insert": {
      const at = mu.at % (n + 1);
      const out = new Uint8Array(n + mu.bytes.length);
      out.set(b.subarray(0, at));
      out.set(mu.bytes, at);
      out.set(b.subarray(at), at + mu.bytes.length);
      return out;
    }
    default:
      break;
  }
  const us = units(b);
  if (us.length === 0) return b;
  const u = us[mu.unit % us.length]!;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = isLittleEndian(b);
  switch (mu.m) {
    case "u32": {
      // a 32-bit field of the unit: header words, and for pcapng blocks the trailer too
      const words = Math.max(1, Math.min(8, u.len >> 2));
      const f = mu.field % (words + 1);
      const at = f === words ? u.off + u.len - 4 : u.off + 4 * f;
      if (at + 4 <= n) dv.setUint32(at, lie(mu.v, dv.getUint32(at, le)), le);
      return b;
    }
    case "dupUnit": {
      const to = us[mu.to % us.length]!.off;
      const out = new Uint8Array(n + u.len);
      out.set(b.subarray(0, to));
      out.set(b.subarray(u.off, u.off + u.len), to);
      out.set(b.subarray(to), to + u.len);
      return out;
    }
    case "dropUnit": {
      const out = new Uint8Array(n - u.len);
      out.set(b.subarray(0, u.off));
      out.set(b.subarray(u.off + u.len), u.off);
      return out;
    }
    case "emptyUnit": {
      // a zero-length record (pcap), or an empty block of some type (pcapng), before the unit
      const pcapng = dv.getUint32(0, false) === 0x0a0d0d0a;
      let ins: Uint8Array;
      if (pcapng) {
        const type = [6, 3, 2, 1, 5, 4, 0x0a0d0d0a, 0x80000001, 0][mu.kind % 9]!;
        ins = new Uint8Array(mu.kind % 2 === 0 ? 12 : 32);
        const iv = new DataView(ins.buffer);
        iv.setUint32(0, type, le);
        iv.setUint32(4, ins.length, le);
        iv.setUint32(ins.length - 4, ins.length, le);
      } else {
        ins = new Uint8Array(16);
        const iv = new DataView(ins.buffer);
        iv.setUint32(0, 1700000000 + mu.kind, le);
        iv.setUint32(12, mu.kind % 2 === 0 ? 0 : 1500, le);
      }
      const at = Math.max(u.off, pcapng ? 0 : 24);
      const out = new Uint8Array(n + ins.length);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + ins.length);
      return out;
    }
  }
}

function isLittleEndian(b: Uint8Array): boolean {
  if (b.length < 12) return true;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0, false) === 0x0a0d0d0a) return dv.getUint32(8, true) === 0x1a2b3c4d;
  const m = dv.getUint32(0, true);
  return m === 0xa1b2c3d4 || m === 0xa1b23c4d || m === 0xa1b2cd34;
}

/** captureBytes: the stream a case stands for. */
export function captureBytes(c: CaptureCase): Uint8Array {
  const srcs = captureSources();
  let b: Uint8Array = srcs[c.src % srcs.length]!.bytes.slice();
  for (const mu of c.muts) b = mutateCapture(b, mu);
  return b;
}

// ---- the contract ---------------------------------------------------------------------------------------

/** the reader's assembly buffer (a private field): its size is the memory a lying length could cost */
function carrySize(r: CaptureReader): number {
  const c = (r as unknown as { carry?: Uint8Array }).carry;
  return c === undefined ? 0 : c.length;
}

const BOUND_SLACK = 64 * 1024;

/**
 * readChunked: read a whole stream through a CaptureReader fed in pseudo-random chunk sizes. Returns the
 * number of records and the reader, or a contract violation.
 */
export function readChunked(
  b: Uint8Array,
  chunkSeed: number,
  onRecord?: (rec: CaptureRecord, reader: CaptureReader) => void,
): { records: number; reader: CaptureReader; error: CaptureFormatError | null; violation: string | null } {
  const reader = new CaptureReader();
  let records = 0;
  let s = chunkSeed >>> 0 || 1;
  const nextSize = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const k = (s >>> 0) % 8;
    return k < 3 ? 1 + ((s >>> 8) % 16) : k < 6 ? 1 + ((s >>> 8) % 700) : 1 + ((s >>> 8) % 70000);
  };
  let pushed = 0;
  const bounded = (): string | null => {
    const c = carrySize(reader);
    return c > 2 * pushed + BOUND_SLACK
      ? `the reader holds a ${c}-byte buffer after being given ${pushed} bytes (a lying length allocated)`
      : null;
  };
  try {
    let p = 0;
    const drain = (): void => {
      for (let rec = reader.next(); rec !== null; rec = reader.next()) {
        records++;
        onRecord?.(rec, reader);
      }
    };
    while (p < b.length) {
      const step = nextSize();
      // the reader reads chunks in place: give it a fresh copy, as a file adapter reusing its buffer would
      reader.push(b.slice(p, p + step));
      pushed += Math.min(step, b.length - p);
      p += step;
      drain();
      const v = bounded();
      if (v !== null) return { records, reader, error: null, violation: v };
    }
    reader.end();
    drain();
    const v = bounded();
    if (v !== null) return { records, reader, error: null, violation: v };
  } catch (e) {
    const v = bounded();
    if (v !== null) return { records, reader, error: null, violation: v };
    if (!(e instanceof CaptureFormatError)) {
      return { records, reader, error: null, violation: `not a CaptureFormatError: ${describeError(e)}` };
    }
    const m = /^byte (\d+): ([^\n]+)$/.exec(e.message);
    if (m === null) return { records, reader, error: e, violation: `bad message shape: ${JSON.stringify(e.message)}` };
    if (Number(m[1]) > b.length) {
      return {
        records,
        reader,
        error: e,
        violation: `offset ${m[1]} is past the end of the ${b.length}-byte stream: ${e.message}`,
      };
    }
    return { records, reader, error: e, violation: null };
  }
  return { records, reader, error: null, violation: null };
}

/** checkCapture: the contract for one stream (see the module comment); null when it holds. */
export function checkCapture(b: Uint8Array, chunkSeed: number): string | null {
  // 1. chunked read
  const offsets: number[] = [];
  const ends: number[] = [];
  const r = readChunked(b, chunkSeed, (rec, reader) => {
    offsets.push(rec.offset);
    ends.push(reader.offset);
  });
  if (r.violation !== null) return r.violation;
  // 2. the same stream in one piece gives the same records and the same verdict
  const one = readChunked(b, 0x7fffffff);
  if (one.violation !== null) return one.violation;
  if (one.records !== r.records || (one.error?.message ?? "") !== (r.error?.message ?? "")) {
    return `chunking changes the result: ${r.records} records / ${r.error?.message ?? "ok"} in chunks, ${one.records} / ${one.error?.message ?? "ok"} whole`;
  }
  // 3. a clean stream cut inside its last record: everything before is kept, the cut one reported
  if (r.error === null && r.records > 0) {
    const lastOff = offsets[offsets.length - 1]!;
    const lastEnd = ends[ends.length - 1]!;
    const cutAt = lastOff + 1 + (chunkSeed % Math.max(1, lastEnd - lastOff - 1));
    if (cutAt < lastEnd) {
      const cut = readChunked(b.subarray(0, cutAt), chunkSeed ^ 0x5555);
      if (cut.violation !== null) return `cut at ${cutAt}: ${cut.violation}`;
      if (cut.error === null) {
        if (cut.records !== r.records - 1) {
          return `cut inside the last record (byte ${cutAt} of ${b.length}): ${cut.records} records kept, expected ${r.records - 1}`;
        }
        if (cut.reader.truncatedAt !== lastOff || cut.reader.warning === "") {
          return `cut inside the last record (byte ${cutAt}, record at ${lastOff}): truncatedAt ${cut.reader.truncatedAt}, warning ${JSON.stringify(cut.reader.warning)}`;
        }
      }
    }
  }
  // 4. replay what can be read through the gateway (the first half on lan0, the rest on wan0)
  const { gw, sink } = buildFuzzGateway();
  sink.keep = false;
  const make = (): { next(): CaptureRecord | null } => {
    const reader = new CaptureReader();
    reader.push(b.slice());
    reader.end();
    return reader;
  };
  try {
    const rp = new Replayer(gw.gateway, [
      { ifindex: IF_LAN, name: "lan0", source: make(), mac: null },
      { ifindex: IF_WAN, name: "wan0", source: make(), mac: null },
    ]);
    while (rp.step(4096) > 0) {}
    gw.conntrackList(Number.isFinite(rp.lastTime) ? rp.lastTime : 0);
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) return `replay: ${describeError(e)}`;
  }
  return null;
}

// ---- arbitraries ------------------------------------------------------------------------------------------

export const captureMutationArb: fc.Arbitrary<CaptureMutation> = fc.oneof(
  { arbitrary: fc.record({ m: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }), weight: 3 },
  { arbitrary: fc.record({ m: fc.constant("set" as const), at: fc.nat(), v: fc.nat({ max: 255 }) }), weight: 1 },
  { arbitrary: fc.record({ m: fc.constant("cut" as const), at: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({
      m: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.array(fc.nat({ max: 255 }), { maxLength: 40 }),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ m: fc.constant("u32" as const), unit: fc.nat(), field: fc.nat(), v: fc.nat() }), weight: 6 },
  { arbitrary: fc.record({ m: fc.constant("dupUnit" as const), unit: fc.nat(), to: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ m: fc.constant("dropUnit" as const), unit: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ m: fc.constant("emptyUnit" as const), unit: fc.nat(), kind: fc.nat() }), weight: 2 },
);

export const captureCaseArb: fc.Arbitrary<CaptureCase> = fc.record({
  src: fc.nat(),
  muts: fc.array(captureMutationArb, { maxLength: 5 }),
  chunks: fc.nat(),
});

export const capturesTarget: FuzzTarget<CaptureCase> = {
  name: "captures",
  arbitrary: captureCaseArb,
  check: (c) => checkCapture(captureBytes(c), c.chunks),
  repro(c, failure, seed, path) {
    const b = captureBytes(c);
    const srcs = captureSources();
    const ext = b.length >= 4 && b[0] === 0x0a && b[1] === 0x0d ? "pcapng" : "pcap";
    return [
      { ext, data: b },
      {
        ext: "txt",
        data: `ctnat fuzz reproduction: target captures, seed ${seed}, path ${path}\nsource ${srcs[c.src % srcs.length]!.name}, chunk seed ${c.chunks}\n${failure}\n${JSON.stringify(c)}\n`,
      },
    ];
  },
};
