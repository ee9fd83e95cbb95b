import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { concat, payload } from "../../test/captures/build.js";
import { CaptureReader, type CaptureRecord, LinkType, PacketDirection, PcapngWriter, PcapWriter } from "./index.js";

const SEED = 0x5eed;

/** collect a writer's chunks (they are borrowed: copy them) */
function collector(): { sink: (c: Uint8Array) => void; bytes: () => Uint8Array; chunks: number } {
  const parts: Uint8Array[] = [];
  return {
    sink: (c) => parts.push(c.slice()),
    bytes: () => concat(...parts),
    get chunks() {
      return parts.length;
    },
  };
}

function readAll(
  bytes: Uint8Array,
  chunk = bytes.length || 1,
): { recs: ReturnType<typeof copy>[]; reader: CaptureReader } {
  const reader = new CaptureReader();
  const recs: ReturnType<typeof copy>[] = [];
  for (let p = 0; p < bytes.length; p += chunk) {
    reader.push(bytes.subarray(p, p + chunk));
    for (let r = reader.next(); r; r = reader.next()) recs.push(copy(r));
  }
  reader.end();
  for (let r = reader.next(); r; r = reader.next()) recs.push(copy(r));
  return { recs, reader };
}

function copy(r: CaptureRecord) {
  return {
    sec: r.tsSec,
    nsec: r.tsNsec,
    cap: r.capLen,
    len: r.origLen,
    ifid: r.interfaceId,
    name: r.interfaceName,
    linkType: r.linkType,
    dir: r.direction,
    comment: r.comment,
    data: Array.from(r.data),
  };
}

test("PcapWriter: exact file header and record bytes (little-endian, microseconds)", () => {
  const c = collector();
  const w = new PcapWriter(c.sink, { linkType: LinkType.Raw, snaplen: 1500 });
  w.write(Uint8Array.from([9, 8, 7, 6, 5]), 1, 3, 0x01020304, 5006007);
  w.flush();
  assert.deepEqual(Array.from(c.bytes()), [
    ...[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0], // magic, version 2.4
    ...[0, 0, 0, 0, 0, 0, 0, 0], // thiszone, sigfigs
    ...[0xdc, 0x05, 0, 0, 101, 0, 0, 0], // snaplen 1500, LINKTYPE_RAW
    ...[4, 3, 2, 1, 0x8e, 0x13, 0, 0], // seconds, 5006 microseconds
    ...[3, 0, 0, 0, 3, 0, 0, 0], // caplen, len
    8,
    7,
    6,
  ]);
  assert.equal(w.records, 1);
  assert.equal(w.bytesWritten, 24 + 16 + 3);
});

test("PcapWriter: big-endian nanoseconds; snaplen cuts packets but keeps the original length", () => {
  const c = collector();
  const w = new PcapWriter(c.sink, { nanosecond: true, littleEndian: false, snaplen: 8 });
  w.write(payload(20), 0, 20, 7, 999999999);
  w.write(payload(20), 0, 5, 8, 1, 1400);
  w.flush();
  const bytes = c.bytes();
  assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0xa1, 0xb2, 0x3c, 0x4d]);
  const { recs, reader } = readAll(bytes);
  assert.equal(reader.littleEndian, false);
  assert.equal(reader.nanosecond, true);
  assert.deepEqual(
    recs.map((r) => [r.sec, r.nsec, r.cap, r.len]),
    [
      [7, 999999999, 8, 20],
      [8, 1, 5, 1400],
    ],
  );
});

test("PcapWriter: small buffers flush in chunks; outsized records grow the buffer", () => {
  const big = collector();
  const small = collector();
  const a = new PcapWriter(big.sink);
  const b = new PcapWriter(small.sink, { bufferSize: 256 });
  for (let i = 0; i < 50; i++) {
    const n = (i * 37) % 300;
    a.write(payload(n, i), 0, n, i, i * 1000);
    b.write(payload(n, i), 0, n, i, i * 1000);
  }
  const huge = payload(5000);
  a.write(huge, 0, 5000, 99, 0);
  b.write(huge, 0, 5000, 99, 0);
  a.flush();
  b.flush();
  assert.ok(small.chunks > 10);
  assert.deepEqual(small.bytes(), big.bytes());
  assert.equal(readAll(small.bytes()).recs.length, 51);
});

test("PcapngWriter: section, interfaces and packets as the reader sees them", () => {
  const c = collector();
  const w = new PcapngWriter(c.sink, {
    comment: "section comment",
    interfaces: [{ name: "eth0" }, { name: "tun0", linkType: LinkType.Raw, nanosecond: false, snaplen: 10 }],
  });
  assert.equal(w.interfaceCount, 2);
  w.write(0, payload(60), 0, 60, 1700000000, 123456789, 60, PacketDirection.In, "DNAT 10.0.0.1:80");
  w.write(1, payload(30), 0, 30, 1700000000, 123456789, 30, PacketDirection.Out);
  const late = w.addInterface({ name: "late", description: "added later", linkType: LinkType.LinuxSll2 });
  w.write(late, payload(3), 0, 3, 2, 3);
  w.flush();
  const { recs, reader } = readAll(c.bytes(), 7);
  assert.deepEqual(
    reader.interfaces.map((i) => [i.name, i.description, i.linkType, i.snaplen, i.tsresol]),
    [
      ["eth0", "", 1, 262144, 9],
      ["tun0", "", 101, 10, 6],
      ["late", "added later", 276, 262144, 9],
    ],
  );
  assert.deepEqual(
    recs.map((r) => [r.ifid, r.name, r.sec, r.nsec, r.cap, r.len, r.dir, r.comment]),
    [
      [0, "eth0", 1700000000, 123456789, 60, 60, PacketDirection.In, "DNAT 10.0.0.1:80"],
      [1, "tun0", 1700000000, 123456000, 10, 30, PacketDirection.Out, ""],
      [2, "late", 2, 3, 3, 3, PacketDirection.Unknown, ""],
    ],
  );
  assert.throws(() => w.write(3, payload(1), 0, 1, 0, 0), RangeError);
});

test("PcapngWriter: comments are UTF-8, cut at 65535 bytes on a character boundary", () => {
  const c = collector();
  const w = new PcapngWriter(c.sink, { interfaces: [{}], bufferSize: 1024 });
  const emoji = "😀".repeat(20000); // 80000 bytes of UTF-8
  w.write(0, payload(4), 0, 4, 1, 0, 4, 0, emoji);
  w.write(0, payload(4), 0, 4, 1, 0, 4, 0, "a\uD800b"); // lone surrogate
  w.flush();
  const { recs } = readAll(c.bytes());
  assert.equal(recs[0].comment, "😀".repeat(16383)); // 65532 bytes
  assert.equal(recs[1].comment, "a\uFFFDb");
});

test("PcapngWriter: timestamps keep every nanosecond through 64-bit units", () => {
  const c = collector();
  const w = new PcapngWriter(c.sink, { interfaces: [{ nanosecond: true }, { nanosecond: false }] });
  const stamps: [number, number][] = [
    [0, 0],
    [0, 999999999],
    [1700000000, 1],
    [4294967295, 999999999],
    [4294967296 * 4 + 5, 6], // beyond 32-bit seconds
  ];
  for (const [s, ns] of stamps) w.write(0, payload(1), 0, 1, s, ns);
  for (const [s, ns] of stamps) w.write(1, payload(1), 0, 1, s, ns);
  w.flush();
  const { recs } = readAll(c.bytes());
  assert.deepEqual(
    recs.map((r) => [r.sec, r.nsec]),
    [...stamps, ...stamps.map(([s, ns]) => [s, Math.floor(ns / 1000) * 1000])],
  );
});

// ---- round trips -------------------------------------------------------------------------------------

const recordArb = fc.record({
  ifid: fc.integer({ min: 0, max: 2 }),
  sec: fc.integer({ min: 0, max: 4294967295 }),
  nsec: fc.integer({ min: 0, max: 999999999 }),
  data: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  extra: fc.integer({ min: 0, max: 2000 }),
  dir: fc.constantFrom(0, 1, 2),
  comment: fc.oneof(fc.constant(""), fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 10 })),
});

test("round trip (property): PcapngWriter -> CaptureReader in random chunks", () => {
  fc.assert(
    fc.property(
      fc.array(recordArb, { maxLength: 30 }),
      fc.boolean(),
      fc.integer({ min: 256, max: 4096 }),
      fc.integer({ min: 1, max: 600 }),
      (records, littleEndian, bufferSize, chunk) => {
        const c = collector();
        const ifaces = [
          { name: "a", nanosecond: true },
          { name: "b", linkType: LinkType.Raw, nanosecond: false },
          { name: "ç", linkType: LinkType.LinuxSll, snaplen: 100 },
        ];
        const w = new PcapngWriter(c.sink, { littleEndian, bufferSize, interfaces: ifaces });
        for (const r of records) {
          w.write(r.ifid, r.data, 0, r.data.length, r.sec, r.nsec, r.data.length + r.extra, r.dir, r.comment);
        }
        w.flush();
        const { recs, reader } = readAll(c.bytes(), chunk);
        assert.equal(reader.truncatedAt, -1);
        assert.deepEqual(
          recs,
          records.map((r) => {
            const snap = r.ifid === 2 ? 100 : 262144;
            const cap = Math.min(r.data.length, snap);
            return {
              sec: r.sec,
              nsec: r.ifid === 1 ? Math.floor(r.nsec / 1000) * 1000 : r.nsec,
              cap,
              len: r.data.length + r.extra,
              ifid: r.ifid,
              name: ifaces[r.ifid].name,
              linkType: ifaces[r.ifid].linkType ?? LinkType.Ethernet,
              dir: r.dir,
              comment: r.comment,
              data: Array.from(r.data.subarray(0, cap)),
            };
          }),
        );
      },
    ),
    { seed: SEED, numRuns: 300 },
  );
});

test("round trip (property): PcapWriter -> CaptureReader, micro and nano, both byte orders", () => {
  fc.assert(
    fc.property(
      fc.array(recordArb, { maxLength: 30 }),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 1, max: 600 }),
      (records, littleEndian, nanosecond, chunk) => {
        const c = collector();
        const w = new PcapWriter(c.sink, { littleEndian, nanosecond, snaplen: 200, bufferSize: 512 });
        for (const r of records) w.write(r.data, 0, r.data.length, r.sec, r.nsec, r.data.length + r.extra);
        w.flush();
        const { recs } = readAll(c.bytes(), chunk);
        assert.deepEqual(
          recs.map((r) => [r.sec, r.nsec, r.cap, r.len, r.data]),
          records.map((r) => {
            const cap = Math.min(200, r.data.length);
            return [
              r.sec,
              nanosecond ? r.nsec : Math.floor(r.nsec / 1000) * 1000,
              cap,
              r.data.length + r.extra,
              Array.from(r.data.subarray(0, cap)),
            ];
          }),
        );
      },
    ),
    { seed: SEED, numRuns: 300 },
  );
});

test("round trip: reader -> writer copies records (writeRecord)", () => {
  const src = collector();
  const w = new PcapngWriter(src.sink, { interfaces: [{ name: "x" }, { name: "y" }] });
  w.write(1, payload(50), 0, 50, 10, 20, 70, PacketDirection.Out, "copied");
  w.write(0, payload(10), 0, 10, 11, 21);
  w.flush();
  const dst = collector();
  const w2 = new PcapngWriter(dst.sink, { interfaces: [{ name: "x" }, { name: "y" }] });
  const pcapOut = collector();
  const w3 = new PcapWriter(pcapOut.sink, { nanosecond: true });
  const reader = new CaptureReader();
  reader.push(src.bytes());
  reader.end();
  for (let r = reader.next(); r; r = reader.next()) {
    w2.writeRecord(r);
    w3.writeRecord(r);
  }
  w2.flush();
  w3.flush();
  assert.deepEqual(dst.bytes(), src.bytes());
  assert.deepEqual(
    readAll(pcapOut.bytes()).recs.map((r) => [r.sec, r.nsec, r.cap, r.len]),
    [
      [10, 20, 50, 70],
      [11, 21, 10, 10],
    ],
  );
});

test("writers: snaplen 0 is written as 0 (not stated) and cuts at libpcap's maximum", () => {
  const c = collector();
  const w = new PcapWriter(c.sink, { snaplen: 0 });
  w.write(payload(300000), 0, 300000, 1, 0);
  w.flush();
  const { recs, reader } = readAll(c.bytes());
  assert.equal(reader.snaplen, 0);
  assert.deepEqual([recs[0].cap, recs[0].len], [262144, 300000]);
  const d = collector();
  const w2 = new PcapngWriter(d.sink, { interfaces: [{ snaplen: 0 }] });
  w2.write(0, payload(300000), 0, 300000, 1, 0);
  w2.flush();
  const ng = readAll(d.bytes());
  assert.equal(ng.reader.interfaces[0].snaplen, 0);
  assert.deepEqual([ng.recs[0].cap, ng.recs[0].len], [262144, 300000]);
});

test("writers copy packets from anywhere in a larger array, every length and offset, many source arrays in turn", () => {
  const sources: Uint8Array[] = [];
  for (let s = 0; s < 5; s++) {
    const big = new Uint8Array(2048 + s);
    for (let i = 0; i < big.length; i++) big[i] = (Math.imul(i + 31 * s, 2654435761) >>> 11) & 0xff;
    // some sources are views at an odd offset of their buffer
    sources.push(s % 2 === 0 ? big : big.subarray(3));
  }
  for (const w of ["pcap", "pcapng"] as const) {
    const c = collector();
    const pw = w === "pcap" ? new PcapWriter(c.sink, { linkType: LinkType.Raw }) : new PcapngWriter(c.sink);
    if (pw instanceof PcapngWriter) pw.addInterface({ linkType: LinkType.Raw });
    const want: Uint8Array[] = [];
    let k = 0;
    for (const len of [0, 1, 7, 8, 9, 63, 64, 65, 100, 191, 192, 193, 600, 1500]) {
      for (const off of [0, 1, 5, 333]) {
        const src = sources[k++ % sources.length]!;
        if (pw instanceof PcapWriter) pw.write(src, off, len, k, 0);
        else pw.write(0, src, off, len, k, 0);
        want.push(src.slice(off, off + len));
      }
    }
    pw.flush();
    const got = readAll(c.bytes()).recs.map((r) => r.data);
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) assert.deepEqual(got[i], Array.from(want[i]!), `${w} record ${i}`);
  }
});
