import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Bytes,
  block,
  concat,
  epb,
  idb,
  isb,
  nrb,
  payload,
  pb,
  pcapFile,
  pcapHeader,
  shb,
  spb,
  str,
} from "../../test/captures/build.js";
import {
  CaptureFormat,
  CaptureFormatError,
  CaptureReader,
  type CaptureRecord,
  isCaptureFormatError,
  LinkType,
  PacketDirection,
} from "./index.js";

interface Snap {
  sec: number;
  nsec: number;
  cap: number;
  len: number;
  linkType: number;
  ifid: number;
  name: string;
  section: number;
  dir: number;
  comment: string;
  hasTs: boolean;
  offset: number;
  data: number[];
}

function snap(r: CaptureRecord): Snap {
  return {
    sec: r.tsSec,
    nsec: r.tsNsec,
    cap: r.capLen,
    len: r.origLen,
    linkType: r.linkType,
    ifid: r.interfaceId,
    name: r.interfaceName,
    section: r.section,
    dir: r.direction,
    comment: r.comment,
    hasTs: r.hasTimestamp,
    offset: r.offset,
    data: Array.from(r.buf.subarray(r.off, r.off + r.capLen)),
  };
}

/** read a whole stream, fed in chunks of `chunk` bytes */
function readAll(bytes: Uint8Array, chunk = bytes.length || 1): { recs: Snap[]; reader: CaptureReader } {
  const reader = new CaptureReader();
  const recs: Snap[] = [];
  for (let p = 0; p < bytes.length; p += chunk) {
    reader.push(bytes.subarray(p, p + chunk));
    for (let r = reader.next(); r !== null; r = reader.next()) recs.push(snap(r));
  }
  reader.end();
  for (let r = reader.next(); r !== null; r = reader.next()) recs.push(snap(r));
  assert.ok(reader.done);
  return { recs, reader };
}

/** every chunking gives the same records */
function readAllChunkings(bytes: Uint8Array): { recs: Snap[]; reader: CaptureReader } {
  const whole = readAll(bytes);
  for (const chunk of [1, 3, 7, 16, 64]) {
    const part = readAll(bytes, chunk);
    assert.deepEqual(part.recs, whole.recs, `chunk ${chunk}`);
    assert.equal(part.reader.truncatedAt, whole.reader.truncatedAt);
  }
  return whole;
}

function assertRefused(bytes: Uint8Array, offset: number, pattern: RegExp): CaptureFormatError {
  for (const chunk of [bytes.length || 1, 5]) {
    let err: unknown;
    try {
      readAll(bytes, chunk);
    } catch (e) {
      err = e;
    }
    assert.ok(isCaptureFormatError(err), `expected CaptureFormatError, got ${String(err)}`);
    assert.equal(err.offset, offset);
    assert.match(err.message, new RegExp(`^byte ${offset}: `));
    assert.match(err.reason, pattern);
    if (chunk === 5) return err;
  }
  throw new Error("unreachable");
}

// ---- classic pcap ----------------------------------------------------------------------------------

const pcapCases = [
  { name: "little-endian microseconds", le: true, magic: 0xa1b2c3d4, frac: 123456, nsec: 123456000 },
  { name: "big-endian microseconds", le: false, magic: 0xa1b2c3d4, frac: 999999, nsec: 999999000 },
  { name: "little-endian nanoseconds", le: true, magic: 0xa1b23c4d, frac: 123456789, nsec: 123456789 },
  { name: "big-endian nanoseconds", le: false, magic: 0xa1b23c4d, frac: 1, nsec: 1 },
];

for (const tc of pcapCases) {
  test(`pcap ${tc.name}`, () => {
    const bytes = pcapFile({
      le: tc.le,
      magic: tc.magic,
      linkType: LinkType.Raw,
      snaplen: 65535,
      records: [
        { sec: 1700000000, frac: tc.frac, data: payload(20, 1) },
        { sec: 0xfffffffe, frac: 0, data: payload(0, 2), len: 60 },
        { sec: 1, frac: tc.frac, data: payload(301, 3), len: 1500 },
      ],
    });
    const { recs, reader } = readAllChunkings(bytes);
    assert.equal(reader.format, CaptureFormat.Pcap);
    assert.equal(reader.littleEndian, tc.le);
    assert.equal(reader.nanosecond, tc.magic === 0xa1b23c4d);
    assert.equal(reader.linkType, LinkType.Raw);
    assert.equal(reader.snaplen, 65535);
    assert.equal(reader.truncatedAt, -1);
    assert.equal(recs.length, 3);
    assert.deepEqual(
      recs.map((r) => [r.sec, r.nsec, r.cap, r.len, r.linkType, r.offset, r.dir, r.hasTs]),
      [
        [1700000000, tc.nsec, 20, 20, LinkType.Raw, 24, 0, true],
        [0xfffffffe, 0, 0, 60, LinkType.Raw, 24 + 16 + 20, 0, true],
        [1, tc.nsec, 301, 1500, LinkType.Raw, 24 + 16 + 20 + 16, 0, true],
      ],
    );
    assert.deepEqual(recs[2].data, Array.from(payload(301, 3)));
  });
}

test("pcap: the record is one reused object, zero-copy into the pushed chunk", () => {
  const bytes = pcapFile({
    records: [
      { sec: 1, frac: 2, data: payload(10) },
      { sec: 3, frac: 4, data: payload(10) },
    ],
  });
  const reader = new CaptureReader();
  reader.push(bytes);
  const a = reader.next();
  assert.ok(a);
  assert.equal(a.buf, bytes);
  assert.equal(a.off, 24 + 16);
  assert.equal(a.time, 1.000002);
  const b = reader.next();
  assert.equal(b, a);
  assert.equal(a.index, 1);
  assert.equal(reader.next(), null);
  assert.equal(reader.done, false);
  reader.end();
  assert.equal(reader.next(), null);
  assert.equal(reader.done, true);
  assert.equal(reader.records, 2);
});

test("pcap: a record spanning chunks is assembled; the chunk buffer may then be reused", () => {
  const bytes = pcapFile({
    records: [
      { sec: 1, frac: 0, data: payload(100, 1) },
      { sec: 2, frac: 0, data: payload(100, 2) },
    ],
  });
  const reader = new CaptureReader();
  const scratch = new Uint8Array(90);
  const got: number[][] = [];
  for (let p = 0; p < bytes.length; p += 90) {
    const n = Math.min(90, bytes.length - p);
    scratch.set(bytes.subarray(p, p + n));
    reader.push(scratch.subarray(0, n));
    for (let r = reader.next(); r; r = reader.next()) got.push(Array.from(r.data));
    scratch.fill(0xee); // the reader must not look at it any more
  }
  reader.end();
  assert.equal(reader.next(), null);
  assert.deepEqual(got, [Array.from(payload(100, 1)), Array.from(payload(100, 2))]);
});

test("pcap: modified (Kuznetzov) format: 24-byte record headers, packet type as direction", () => {
  const bytes = pcapFile({
    magic: 0xa1b2cd34,
    snaplen: 96,
    records: [
      { sec: 10, frac: 5, data: payload(110), len: 200, pktType: 4 },
      { sec: 11, frac: 6, data: payload(60), pktType: 0 },
      { sec: 12, frac: 7, data: payload(60), pktType: 7 },
    ],
  });
  const { recs, reader } = readAllChunkings(bytes);
  assert.equal(reader.modified, true);
  // Ethernet: snaplen + 14 allowed for cooked-mode captures, as libpcap does
  assert.deepEqual(
    recs.map((r) => [r.sec, r.nsec, r.cap, r.len, r.dir, r.offset]),
    [
      [10, 5000, 110, 200, PacketDirection.Out, 24],
      [11, 6000, 60, 60, PacketDirection.In, 24 + 24 + 110],
      [12, 7000, 60, 60, PacketDirection.Unknown, 24 + 24 + 110 + 24 + 60],
    ],
  );
});

test("pcap: versions before 2.3 swap caplen and len; 2.3 takes the smaller as caplen", () => {
  const v22 = pcapFile({ minor: 2, records: [{ sec: 1, frac: 0, data: payload(10), caplen: 60, len: 10 }] });
  assert.deepEqual(
    readAll(v22).recs.map((r) => [r.cap, r.len]),
    [[10, 60]],
  );
  const v23 = pcapFile({
    minor: 3,
    records: [
      { sec: 1, frac: 0, data: payload(10), caplen: 60, len: 10 },
      { sec: 1, frac: 0, data: payload(10), caplen: 10, len: 60 },
    ],
  });
  assert.deepEqual(
    readAll(v23).recs.map((r) => [r.cap, r.len]),
    [
      [10, 60],
      [10, 60],
    ],
  );
  const dgux = pcapFile({ major: 543, minor: 0, records: [{ sec: 1, frac: 0, data: payload(4), caplen: 8, len: 4 }] });
  assert.deepEqual(
    readAll(dgux).recs.map((r) => [r.cap, r.len]),
    [[4, 8]],
  );
});

test("pcap: caplen above the snaplen but plausible is cut to the snaplen (libpcap)", () => {
  const bytes = pcapFile({
    snaplen: 64,
    records: [
      { sec: 1, frac: 0, data: payload(100, 1) },
      { sec: 2, frac: 0, data: payload(30, 2) },
    ],
  });
  const { recs } = readAllChunkings(bytes);
  assert.deepEqual(
    recs.map((r) => [r.cap, r.len, r.data.length]),
    [
      [64, 100, 64],
      [30, 30, 30],
    ],
  );
  assert.deepEqual(recs[0].data, Array.from(payload(100, 1).subarray(0, 64)));
  assert.deepEqual(recs[1].data, Array.from(payload(30, 2)));
});

test("pcap: snaplen 0 or huge means the link type's maximum", () => {
  for (const snaplen of [0, 0x7fffffff]) {
    const bytes = pcapFile({ snaplen, records: [{ sec: 1, frac: 0, data: payload(3000) }] });
    assert.equal(readAll(bytes).recs[0].cap, 3000);
  }
});

test("pcap: a caplen above the link type's maximum is corrupt, refused without allocating", () => {
  const big = pcapHeader({ snaplen: 65535 }).u32(1).u32(0).u32(0x7ffffff0).u32(0x7ffffff0).toUint8Array();
  const e = assertRefused(
    concat(pcapFile({ records: [{ sec: 1, frac: 0, data: payload(8) }] }), big.subarray(24)),
    24 + 24 + 8,
    /invalid packet capture length 2147483632, bigger than snaplen of 262144/,
  );
  assert.equal(e.name, "CaptureFormatError");
  // above the maximum but within the stated snaplen: "bigger than maximum"
  const d = pcapHeader({ snaplen: 1000000 }).u32(1).u32(0).u32(300000).u32(300000).toUint8Array();
  assertRefused(d, 32, /bigger than snaplen of 262144/);
  // D-Bus allows 128 MiB
  const dbus = pcapHeader({ snaplen: 0, linkType: LinkType.Dbus }).u32(1).u32(0).u32(300000).u32(300000).toUint8Array();
  const r = readAll(dbus).reader;
  assert.equal(r.truncatedAt, 24);
});

test("pcap: zero-length records are records", () => {
  const bytes = pcapFile({
    records: [
      { sec: 5, frac: 0, data: payload(0), len: 0 },
      { sec: 6, frac: 0, data: payload(0) },
    ],
  });
  const { recs } = readAllChunkings(bytes);
  assert.deepEqual(
    recs.map((r) => [r.sec, r.cap, r.len]),
    [
      [5, 0, 0],
      [6, 0, 0],
    ],
  );
});

test("pcap: an out-of-range fraction carries into the seconds", () => {
  const bytes = pcapFile({
    records: [
      { sec: 10, frac: 1000000, data: payload(1) },
      { sec: 10, frac: 4294967295, data: payload(1) },
    ],
  });
  const { recs } = readAll(bytes);
  assert.deepEqual(
    recs.map((r) => [r.sec, r.nsec]),
    [
      [11, 0],
      [10 + 4294, 967295000],
    ],
  );
});

test("pcap: truncated last record is a warning, records before it are kept", () => {
  const good = pcapFile({
    records: [
      { sec: 1, frac: 0, data: payload(50) },
      { sec: 2, frac: 0, data: payload(50) },
    ],
  });
  const secondAt = 24 + 16 + 50;
  for (const cut of [secondAt + 1, secondAt + 15, secondAt + 16, secondAt + 16 + 49]) {
    const { recs, reader } = readAllChunkings(good.subarray(0, cut));
    assert.equal(recs.length, 1, `cut ${cut}`);
    assert.equal(reader.truncatedAt, secondAt);
    assert.match(
      reader.warning,
      new RegExp(`^byte ${secondAt}: truncated last record: ${cut - secondAt} of \\d+ bytes present$`),
    );
  }
  const clean = readAll(good.subarray(0, secondAt));
  assert.equal(clean.recs.length, 1);
  assert.equal(clean.reader.truncatedAt, -1);
  assert.equal(clean.reader.warning, "");
  // header only: an empty capture
  const empty = readAll(good.subarray(0, 24));
  assert.equal(empty.recs.length, 0);
  assert.equal(empty.reader.truncatedAt, -1);
});

test("not a capture, or a broken file header: refused at byte 0 or 4", () => {
  assertRefused(new Uint8Array(0), 0, /empty file/);
  assertRefused(Uint8Array.from([0xd4, 0xc3]), 0, /only 2 bytes/);
  assertRefused(Uint8Array.from(str("GET / HTTP/1.1\r\n")), 0, /not a pcap or pcapng file \(magic 0x47455420\)/);
  assertRefused(pcapHeader({}).toUint8Array().subarray(0, 20), 0, /truncated pcap file header: 20 of 24 bytes/);
  assertRefused(pcapHeader({ major: 1, minor: 0 }).toUint8Array(), 4, /archaic pcap savefile format/);
  assertRefused(pcapHeader({ major: 2, minor: 5 }).toUint8Array(), 4, /unsupported pcap savefile version 2.5/);
  assertRefused(
    pcapHeader({ major: 3, minor: 0, le: false }).toUint8Array(),
    4,
    /unsupported pcap savefile version 3.0/,
  );
});

test("errors are sticky: next() keeps throwing the same error", () => {
  const reader = new CaptureReader();
  reader.push(Uint8Array.from([1, 2, 3, 4, 5]));
  assert.throws(() => reader.next(), CaptureFormatError);
  let again: unknown;
  try {
    reader.next();
  } catch (e) {
    again = e;
  }
  assert.ok(isCaptureFormatError(again));
  assert.throws(() => reader.readHeader(), CaptureFormatError);
});

test("readHeader: learns format and link type before any record", () => {
  const reader = new CaptureReader();
  const bytes = pcapFile({ linkType: LinkType.LinuxSll2, records: [{ sec: 1, frac: 0, data: payload(4) }] });
  reader.push(bytes.subarray(0, 10));
  assert.equal(reader.readHeader(), false);
  assert.equal(reader.next(), null);
  reader.push(bytes.subarray(10));
  assert.equal(reader.readHeader(), true);
  assert.equal(reader.linkType, LinkType.LinuxSll2);
  assert.equal(reader.interfaces.length, 1);
  assert.ok(reader.next());
});

test("push() misuse is a programming error, not a format error", () => {
  const reader = new CaptureReader();
  reader.push(pcapFile({ records: [{ sec: 1, frac: 0, data: payload(4) }] }));
  assert.throws(() => reader.push(new Uint8Array(4)), /before next\(\) returned null/);
  reader.end();
  assert.throws(() => reader.push(new Uint8Array(4)), /after end\(\)/);
});

// ---- pcapng -------------------------------------------------------------------------------------------

for (const le of [true, false]) {
  test(`pcapng ${le ? "little" : "big"}-endian: interfaces, resolutions, flags, comments`, () => {
    const bytes = concat(
      shb(le, [[4, str("test")]]),
      idb(le, { name: "eth0", linkType: LinkType.Ethernet, tsresol: 9 }),
      idb(le, { name: "wan", linkType: LinkType.Raw, snaplen: 128 }), // microseconds (default)
      epb(le, { ifid: 0, ts: 1700000000123456789n, data: payload(60, 1), flags: 1, comments: ["first"] }),
      epb(le, { ifid: 1, ts: 1700000000654321n, data: payload(41, 2), len: 1400, flags: 2 }),
      epb(le, { ifid: 0, ts: 5n, data: payload(0, 3), comments: ["a", "b ✓"], flags: 0 }),
      epb(le, { ifid: 1, ts: 0n, data: payload(3, 4), flags: 3 }),
    );
    const { recs, reader } = readAllChunkings(bytes);
    assert.equal(reader.format, CaptureFormat.PcapNg);
    assert.equal(reader.littleEndian, le);
    assert.equal(reader.linkType, LinkType.Ethernet);
    assert.deepEqual(
      reader.interfaces.map((i) => [i.id, i.name, i.linkType, i.snaplen, i.tsresol]),
      [
        [0, "eth0", 1, 262144, 9],
        [1, "wan", 101, 128, 6],
      ],
    );
    assert.deepEqual(
      recs.map((r) => [r.sec, r.nsec, r.cap, r.len, r.linkType, r.ifid, r.name, r.dir, r.comment]),
      [
        [1700000000, 123456789, 60, 60, 1, 0, "eth0", PacketDirection.In, "first"],
        [1700000000, 654321000, 41, 1400, 101, 1, "wan", PacketDirection.Out, ""],
        [0, 5, 0, 0, 1, 0, "eth0", PacketDirection.Unknown, "a\nb ✓"],
        [0, 0, 3, 3, 101, 1, "wan", PacketDirection.Unknown, ""],
      ],
    );
    assert.deepEqual(recs[1].data, Array.from(payload(41, 2)));
  });
}

test("pcapng: several sections, each with its byte order and its own interfaces", () => {
  const bytes = concat(
    shb(true),
    idb(true, { name: "a0", linkType: LinkType.Ethernet }),
    idb(true, { name: "a1", linkType: LinkType.Raw }),
    epb(true, { ifid: 1, ts: 1000001n, data: payload(8, 1) }),
    shb(false),
    idb(false, { name: "b0", linkType: LinkType.LinuxSll, tsresol: 3 }),
    epb(false, { ifid: 0, ts: 2500n, data: payload(9, 2) }),
    shb(true, undefined, 1, 2),
    idb(true, { name: "c0", linkType: LinkType.Ipv4, tsresol: 0 }),
    epb(true, { ifid: 0, ts: 7n, data: payload(10, 3) }),
  );
  const { recs, reader } = readAllChunkings(bytes);
  assert.equal(reader.section, 2);
  assert.deepEqual(
    recs.map((r) => [r.section, r.ifid, r.name, r.linkType, r.sec, r.nsec, r.cap]),
    [
      [0, 1, "a1", LinkType.Raw, 1, 1000, 8],
      [1, 0, "b0", LinkType.LinuxSll, 2, 500000000, 9],
      [2, 0, "c0", LinkType.Ipv4, 7, 0, 10],
    ],
  );
  // a packet of section 3 cannot use interface 1 of section 1
  const bad = concat(
    shb(true),
    idb(true, {}),
    idb(true, {}),
    shb(true),
    idb(true, {}),
    epb(true, { ifid: 1, ts: 0n, data: payload(4) }),
  );
  const at = bad.length - epb(true, { ifid: 1, ts: 0n, data: payload(4) }).length + 8;
  assertRefused(bad, at, /a packet arrived on interface 1, but there's no Interface Description Block/);
});

test("pcapng: if_tsresol powers of 10 and of 2, and if_tsoffset", () => {
  const cases: [number, bigint, number, number][] = [
    [0, 1700000000n, 1700000000, 0],
    [3, 1700000000999n, 1700000000, 999000000],
    [6, 1700000000000001n, 1700000000, 1000],
    [9, 18446744073709551615n, 18446744073, 709551615],
    [10, 17000000001234567891n, 1700000000, 123456789],
    [11, 170000000012345678912n & 0xffffffffffffffffn, 0, 0], // value checked against BigInt below
    [12, 1700000000123456789123n & 0xffffffffffffffffn, 0, 0],
    [19, 18446744073709551615n, 1, 844674407],
    [0x80 | 0, 42n, 42, 0],
    [0x80 | 1, 3n, 1, 500000000],
    [0x80 | 10, (1700000000n << 10n) + 512n, 1700000000, 500000000],
    [0x80 | 20, (1700000000n << 20n) + 123457n, 1700000000, 117737770],
    [0x80 | 32, (100n << 32n) + 1n, 100, 0],
    [0x80 | 32, (100n << 32n) + 0xffffffffn, 100, 999999999],
    [0x80 | 40, (7n << 40n) + (1n << 39n), 7, 500000000],
    [0x80 | 63, (1n << 63n) + (1n << 62n), 1, 500000000],
  ];
  for (const [tsresol, ts, sec0, nsec0] of cases) {
    const bytes = concat(shb(true), idb(true, { tsresol }), epb(true, { ts, data: payload(1) }));
    const r = readAll(bytes).recs[0];
    // reference: exact BigInt arithmetic, floor to the nanosecond (as libpcap and Wireshark do)
    const units = (tsresol & 0x80) !== 0 ? 1n << BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
    const sec = ts / units;
    const nsec = ((ts % units) * 1000000000n) / units;
    assert.deepEqual([r.sec, r.nsec], [Number(sec), Number(nsec)], `tsresol 0x${tsresol.toString(16)}`);
    if (nsec0 !== 0 || sec0 !== 0) assert.deepEqual([r.sec, r.nsec], [sec0, nsec0]);
  }
  for (const le of [true, false]) {
    const bytes = concat(
      shb(le),
      idb(le, { tsresol: 9, tsoffset: 1000000000n }),
      idb(le, { tsresol: 6, tsoffset: -5n }),
      epb(le, { ifid: 0, ts: 700000000123456789n, data: payload(1) }),
      epb(le, { ifid: 1, ts: 10000001n, data: payload(1) }),
    );
    const { recs, reader } = readAll(bytes);
    assert.deepEqual(
      recs.map((r) => [r.sec, r.nsec]),
      [
        [1700000000, 123456789],
        [5, 1000],
      ],
    );
    assert.deepEqual(
      reader.interfaces.map((i) => i.tsOffset),
      [1000000000, -5],
    );
  }
});

test("pcapng: Simple Packet Blocks have no timestamp; caplen is the length cut to the snaplen", () => {
  const bytes = concat(
    shb(true),
    idb(true, { name: "s", snaplen: 64, linkType: LinkType.Raw }),
    spb(true, 40, payload(40, 1)),
    spb(true, 1000, payload(64, 2)),
  );
  const { recs } = readAllChunkings(bytes);
  assert.deepEqual(
    recs.map((r) => [r.hasTs, r.sec, r.nsec, r.cap, r.len, r.ifid, r.name, r.linkType]),
    [
      [false, 0, 0, 40, 40, 0, "s", 101],
      [false, 0, 0, 64, 1000, 0, "s", 101],
    ],
  );
  // an SPB with fewer bytes than min(len, snaplen) is corrupt
  const short = concat(shb(true), idb(true, { snaplen: 64 }), spb(true, 100, payload(60)));
  assertRefused(short, 28 + 20 + 8, /Simple Packet Block with 64 captured bytes exceeds its block \(76 bytes\)/);
  // an SPB before any interface
  assertRefused(concat(shb(true), spb(true, 4, payload(4))), 28, /packet block before any Interface Description Block/);
});

test("pcapng: obsolete Packet Block (type 2)", () => {
  for (const le of [true, false]) {
    const bytes = concat(
      shb(le),
      idb(le, { name: "x" }),
      idb(le, { name: "y", tsresol: 9 }),
      pb(le, { ifid: 1, drops: 3, ts: 1700000000000000005n, data: payload(14), len: 90, flags: 2, comments: ["old"] }),
    );
    const { recs } = readAllChunkings(bytes);
    assert.deepEqual(
      recs.map((r) => [r.ifid, r.name, r.sec, r.nsec, r.cap, r.len, r.dir, r.comment]),
      [[1, "y", 1700000000, 5, 14, 90, PacketDirection.Out, "old"]],
    );
  }
});

test("pcapng: other block types are skipped by their length", () => {
  const custom = block(true, 0x40000bad, (b) => b.u32(32473).bytes(payload(37)));
  const unknown = block(true, 0x12345678, (b) => b.bytes(payload(100)));
  const dsb = block(true, 0x0000000a, (b) => b.u32(0x544c534b).u32(5).bytes(payload(5)));
  const bytes = concat(
    shb(true),
    nrb(true),
    custom,
    idb(true, {}),
    unknown,
    epb(true, { ts: 1n, data: payload(4) }),
    isb(true, 0),
    dsb,
    epb(true, { ts: 2n, data: payload(4) }),
  );
  const { recs, reader } = readAllChunkings(bytes);
  assert.equal(recs.length, 2);
  assert.equal(reader.skippedBlocks, 5);
});

test("pcapng: unknown IDB options are ignored, strings may carry a NUL", () => {
  const bytes = concat(
    shb(true),
    idb(true, {
      extra: [
        [2, str("eth9\0")],
        [3, str("uplink")],
        [13, [4]],
        [99, [1, 2, 3]],
        [12, str("Linux")],
      ],
    }),
    epb(true, { ts: 1n, data: payload(4), extra: [[99, [1, 2, 3, 4, 5]]], comments: ["c"] }),
  );
  const { recs, reader } = readAll(bytes);
  assert.equal(reader.interfaces[0].name, "eth9");
  assert.equal(reader.interfaces[0].description, "uplink");
  assert.equal(reader.interfaces[0].fcsLen, 4);
  assert.equal(recs[0].comment, "c");
});

test("pcapng: malformed packet options are ignored (libpcap does not read them)", () => {
  // option claims 200 bytes in a block that has 8 left: reading stops, the packet stays
  const e = block(true, 6, (b) => {
    b.u32(0).u32(0).u32(1).u32(4).u32(4).bytes(payload(4));
    b.u16(1).u16(200).u32(0);
  });
  const { recs } = readAll(concat(shb(true), idb(true, {}), e));
  assert.equal(recs.length, 1);
  assert.equal(recs[0].comment, "");
});

test("pcapng: a truncated last block is a warning; an empty section is a capture without packets", () => {
  const head = concat(shb(true), idb(true, {}));
  const last = epb(true, { ts: 1n, data: payload(40) });
  const full = concat(head, epb(true, { ts: 0n, data: payload(4) }), last);
  const lastAt = full.length - last.length;
  for (const cut of [lastAt + 1, lastAt + 8, lastAt + 30, full.length - 1]) {
    const { recs, reader } = readAllChunkings(full.subarray(0, cut));
    assert.equal(recs.length, 1);
    assert.equal(reader.truncatedAt, lastAt);
    assert.match(reader.warning, new RegExp(`^byte ${lastAt}: truncated last record`));
  }
  const onlyShb = readAll(shb(true));
  assert.equal(onlyShb.recs.length, 0);
  assert.equal(onlyShb.reader.truncatedAt, -1);
  // a truncated first Section Header Block is not a capture
  assertRefused(shb(true).subarray(0, 20), 0, /truncated pcapng Section Header Block: 20 of 28 bytes/);
  assertRefused(shb(true).subarray(0, 6), 0, /truncated pcapng Section Header Block/);
});

test("pcapng: corrupt block lengths are refused with the offset of the length", () => {
  const head = concat(shb(true), idb(true, {}));
  const at = head.length; // the block after the header blocks
  const epbBytes = epb(true, { ts: 1n, data: payload(8) });
  // not a multiple of 4
  const odd = epbBytes.slice();
  odd[4] = 37;
  assertRefused(concat(head, odd), at + 4, /length of 37 that is not a multiple of 4/);
  // shorter than a header and a trailer
  const tiny = new Bytes(true).u32(6).u32(8).toUint8Array();
  assertRefused(concat(head, tiny), at + 4, /length of 8 < 12/);
  const zero = new Bytes(true).u32(0x99).u32(0).u32(0).toUint8Array();
  assertRefused(concat(head, zero), at + 4, /length of 0 < 12/);
  // absurdly large: refused before any allocation
  const huge = new Bytes(true).u32(6).u32(0xfffffff0).toUint8Array();
  assertRefused(concat(head, huge), at + 4, /pcapng block size 4294967280 > maximum 16777216/);
  // trailer differs from the header
  const mismatch = block(true, 6, (b) => b.u32(0).u32(0).u32(0).u32(4).u32(4).bytes(payload(4)), undefined, 40);
  assertRefused(concat(head, mismatch), at + 36 - 4, /block total length in header 36 and trailer 40 don't match/);
  // caplen larger than the block
  const over = block(true, 6, (b) => b.u32(0).u32(0).u32(0).u32(100).u32(100).bytes(payload(4)));
  assertRefused(concat(head, over), at + 20, /captured length 100 exceeds its block/);
  // caplen larger than the interface's snaplen (libpcap refuses it in pcapng)
  const snapHead = concat(shb(true), idb(true, { snaplen: 16 }));
  assertRefused(
    concat(snapHead, epb(true, { ts: 1n, data: payload(20) })),
    snapHead.length + 20,
    /bigger than snaplen of 16/,
  );
  // a packet block that is too short for its fixed fields
  const shortEpb = block(true, 6, (b) => b.u32(0).u32(0));
  assertRefused(concat(head, shortEpb), at + 4, /Enhanced Packet Block too short \(20 bytes\)/);
  // packet before any IDB; on an unknown interface
  assertRefused(concat(shb(true), epbBytes), 28 + 8, /packet block before any Interface Description Block/);
  assertRefused(
    concat(head, epb(true, { ifid: 7, ts: 1n, data: payload(4) })),
    at + 8,
    /a packet arrived on interface 7/,
  );
});

test("pcapng: bigger link-type maxima raise the block limit (libpcap MAX_BLOCKSIZE_FOR_SNAPLEN)", () => {
  const head = concat(shb(true), idb(true, { linkType: LinkType.Dbus }));
  const big = new Bytes(true)
    .u32(6)
    .u32(20 * 1024 * 1024)
    .toUint8Array();
  const { reader } = readAll(concat(head, big));
  assert.equal(reader.truncatedAt, head.length);
});

test("pcapng: broken section headers", () => {
  // bad byte-order magic
  const bom = shb(true).slice();
  bom[8] = 0;
  assertRefused(bom, 8, /not a pcapng file: bad byte-order magic/);
  // SHB length out of range or not a multiple of 4
  const long = shb(true).slice();
  long[4] = 0;
  long[5] = 0;
  long[6] = 0x20; // 2 MiB
  assertRefused(long, 4, /Section Header Block has invalid length 2097152/);
  const short = shb(true).slice();
  short[4] = 24;
  assertRefused(short, 4, /Section Header Block has invalid length 24/);
  const odd = shb(true).slice();
  odd[4] = 30;
  assertRefused(odd, 4, /not a multiple of 4/);
  // versions
  assertRefused(shb(true, undefined, 2, 0), 12, /unsupported pcapng savefile version 2.0/);
  assertRefused(shb(false, undefined, 1, 1), 12, /unsupported pcapng savefile version 1.1/);
  // a later section: bad magic, other major version; its trailer is checked
  const first = concat(shb(true), idb(true, {}));
  const second = shb(true).slice();
  second[9] = 0;
  assertRefused(concat(first, second), first.length + 8, /section with a bad byte order magic/);
  assertRefused(concat(first, shb(true, undefined, 2, 0)), first.length + 12, /version 2.0/);
  const trailer = shb(true).slice();
  trailer[24] = 99;
  assertRefused(concat(first, trailer), first.length + 24, /trailer 99 don't match/);
  // the first SHB's trailer is not judged (libpcap does not either)
  assert.equal(readAll(concat(trailer, idb(true, {}))).reader.interfaces.length, 1);
});

test("pcapng: IDB options judged as libpcap judges them", () => {
  const head = shb(true);
  const at = head.length;
  const withOpts = (opts: [number, number[]][], raw?: (b: Bytes) => void) =>
    concat(
      head,
      block(true, 1, (b) => {
        b.u16(1).u16(0).u32(0);
        for (const [code, v] of opts) b.u16(code).u16(v.length).bytes(v).pad4();
        raw?.(b);
      }),
    );
  assertRefused(withOpts([[9, [6, 6]]]), at + 16, /if_tsresol with length 2 != 1/);
  assertRefused(
    withOpts([
      [9, [6]],
      [9, [9]],
    ]),
    at + 24,
    /more than one if_tsresol/,
  );
  assertRefused(withOpts([[9, [20]]]), at + 20, /if_tsresol 10\^-20 is too fine/);
  assertRefused(withOpts([[9, [0x80 | 64]]]), at + 20, /if_tsresol 2\^-64 is too fine/);
  assertRefused(withOpts([[14, [1, 2, 3, 4]]]), at + 16, /if_tsoffset with length 4 != 8/);
  assertRefused(
    withOpts([
      [14, [0, 0, 0, 0, 0, 0, 0, 0]],
      [14, [0, 0, 0, 0, 0, 0, 0, 0]],
    ]),
    at + 28,
    /more than one if_tsoffset/,
  );
  assertRefused(
    withOpts([], (b) => b.u16(0).u16(4).u32(0)),
    at + 16,
    /opt_endofopt with length 4 != 0/,
  );
  assertRefused(
    withOpts([], (b) => b.u16(2).u16(40).u32(0)),
    at + 16,
    /option 2 \(40 bytes\) cut short/,
  );
  // an IDB too short for its fixed fields
  assertRefused(
    concat(
      head,
      block(true, 1, (b) => b.u32(1)),
    ),
    at,
    /Interface Description Block too short \(16 bytes\)/,
  );
  // an end-of-options option ends the list; what follows is not read
  const ok = withOpts([[2, str("ok")]], (b) => b.u32(0).u16(9).u16(7));
  assert.equal(readAll(ok).reader.interfaces[0].name, "ok");
});

test("readHeader: a pcapng section header is judged before any record", () => {
  const bad = shb(true).slice();
  bad[12] = 7; // version 7.0
  const r = new CaptureReader();
  r.push(bad);
  assert.throws(() => r.readHeader(), /unsupported pcapng savefile version 7.0/);
  const good = concat(shb(false), idb(false, { linkType: LinkType.Raw }));
  const g = new CaptureReader();
  g.push(good.subarray(0, 20));
  assert.equal(g.readHeader(), false);
  assert.equal(g.next(), null);
  g.push(good.subarray(20));
  assert.equal(g.readHeader(), true);
  assert.equal(g.format, CaptureFormat.PcapNg);
  assert.equal(g.littleEndian, false);
  assert.equal(g.section, 0);
  g.end();
  assert.equal(g.next(), null);
  assert.equal(g.linkType, LinkType.Raw);
  const cut = new CaptureReader();
  cut.push(good.subarray(0, 20));
  cut.end();
  assert.throws(() => cut.readHeader(), /truncated pcapng Section Header Block/);
});
