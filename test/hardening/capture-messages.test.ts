/**
 * Every refusal of the capture reader, one malformed stream each: the error is a CaptureFormatError
 * whose one-line message is `byte N: reason`, N the offset of the field at fault. (The CLI puts the
 * file name in front; test/hardening/bad-input.test.ts checks that end to end.)
 *
 * Two refusals of src/pcap/reader.ts cannot happen and have no case: "pcapng stream does not start with
 * a Section Header Block" (a stream is taken for pcapng only when it starts with one) and "Interface
 * Description Block option header cut short" (blocks and options are multiples of 4 bytes, so fewer than
 * 4 bytes can never remain).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CaptureFormatError } from "../../src/pcap/errors.js";
import { CaptureReader } from "../../src/pcap/reader.js";
import { block, cat, epb, idb, opt, pcapHeader, pcapRecord, shb, u8 } from "./capture-builders.js";

function read(b: Uint8Array): { records: number; error: CaptureFormatError | null } {
  const r = new CaptureReader();
  let records = 0;
  try {
    r.push(b);
    while (r.next() !== null) records++;
    r.end();
    while (r.next() !== null) records++;
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    return { records, error: e };
  }
  return { records, error: null };
}

const TSRESOL = 9;
const TSOFFSET = 14;
const pcapng = (...blocks: Uint8Array[]): Uint8Array => cat(shb(), ...blocks);

const CASES: [string, Uint8Array, string][] = [
  ["empty file", u8(0), "byte 0: empty file, not a capture"],
  ["three bytes", Uint8Array.of(0xd4, 0xc3, 0xb2), "byte 0: not a capture: only 3 bytes"],
  [
    "text",
    new TextEncoder().encode("hello world, not a capture"),
    "byte 0: not a pcap or pcapng file (magic 0x68656c6c)",
  ],
  ["pcap header cut", pcapHeader().subarray(0, 10), "byte 0: truncated pcap file header: 10 of 24 bytes"],
  ["pcap version 1.0", pcapHeader({ major: 1, minor: 0 }), "byte 4: archaic pcap savefile format (version 1.0)"],
  ["pcap version 2.9", pcapHeader({ minor: 9 }), "byte 4: unsupported pcap savefile version 2.9"],
  ["pcap version 3.0", pcapHeader({ major: 3, minor: 0 }), "byte 4: unsupported pcap savefile version 3.0"],
  [
    "modified (Kuznetzov) pcap caplen above the link type's maximum",
    (() => {
      const h = pcapHeader({ snaplen: 0 });
      new DataView(h.buffer).setUint32(0, 0xa1b2cd34, true);
      const rec = u8(24);
      new DataView(rec.buffer).setUint32(8, 262145, true);
      return cat(h, rec);
    })(),
    "byte 32: invalid packet capture length 262145, bigger than maximum of 262144",
  ],
  [
    "pcap caplen above the link type's maximum (and so the snaplen)",
    cat(pcapHeader({ snaplen: 0 }), pcapRecord(262145, 0)),
    "byte 32: invalid packet capture length 262145, bigger than snaplen of 262144",
  ],
  [
    "pcap caplen 0xffffffff",
    cat(pcapHeader({ snaplen: 1500 }), pcapRecord(0xffffffff, 0)),
    "byte 32: invalid packet capture length 4294967295, bigger than snaplen of 1500",
  ],
  [
    "pcapng SHB with a bad byte-order magic",
    cat(shb({ magic: 0x11223344 })),
    "byte 8: not a pcapng file: bad byte-order magic 0x44332211",
  ],
  ["pcapng SHB cut", shb().subarray(0, 20), "byte 0: truncated pcapng Section Header Block: 20 of 28 bytes"],
  [
    "pcapng SHB length 12",
    (() => {
      const b = shb();
      new DataView(b.buffer).setUint32(4, 12, true);
      return b;
    })(),
    "byte 4: Section Header Block has invalid length 12 (must be 28 to 1048576)",
  ],
  [
    "pcapng SHB length not a multiple of 4",
    (() => {
      const b = cat(shb(), u8(4));
      new DataView(b.buffer).setUint32(4, 30, true);
      return b;
    })(),
    "byte 4: Section Header Block length 30 is not a multiple of 4",
  ],
  ["pcapng version 2.0", shb({ major: 2 }), "byte 12: unsupported pcapng savefile version 2.0"],
  ["pcapng version 1.1", shb({ minor: 1 }), "byte 12: unsupported pcapng savefile version 1.1"],
  ["a block of 8 bytes", pcapng(block(1, u8(0), { len: 8 })), "byte 32: block of type 1 has a length of 8 < 12"],
  [
    "a block of 30 bytes",
    pcapng(block(1, u8(20), { len: 30 })),
    "byte 32: block of type 1 has a length of 30 that is not a multiple of 4",
  ],
  [
    "a block of 64 MiB",
    pcapng(block(6, u8(20), { len: 64 * 1024 * 1024 })),
    "byte 32: pcapng block size 67108864 > maximum 16777216",
  ],
  [
    "trailer length differs",
    pcapng(block(5, u8(8), { trailer: 24 })),
    "byte 44: block total length in header 20 and trailer 24 don't match",
  ],
  [
    "second section with a bad byte-order magic",
    cat(shb(), shb({ magic: 0x11223344 })),
    "byte 36: the file has a section with a bad byte order magic field",
  ],
  ["a packet before any interface", pcapng(epb()), "byte 36: packet block before any Interface Description Block"],
  [
    "a packet on interface 1 of 1",
    pcapng(idb(), epb({ ifid: 1 })),
    "byte 56: a packet arrived on interface 1, but there's no Interface Description Block for that interface",
  ],
  ["EPB too short", pcapng(idb(), epb({ bodyLen: 16 })), "byte 52: Enhanced Packet Block too short (28 bytes)"],
  [
    "EPB caplen beyond its block",
    pcapng(idb(), epb({ data: 60, capLen: 200 })),
    "byte 68: Enhanced Packet Block captured length 200 exceeds its block (92 bytes)",
  ],
  [
    "EPB caplen above the interface's snaplen",
    pcapng(idb({ snaplen: 40 }), epb({ data: 60 })),
    "byte 68: invalid packet capture length 60, bigger than snaplen of 40",
  ],
  ["SPB too short", pcapng(idb(), block(3, u8(0))), "byte 52: Simple Packet Block too short (12 bytes)"],
  [
    "SPB claiming more than its block",
    pcapng(idb(), block(3, Uint8Array.of(200, 0, 0, 0, 1, 2, 3, 4))),
    "byte 56: Simple Packet Block with 200 captured bytes exceeds its block (20 bytes)",
  ],
  ["obsolete PB too short", pcapng(idb(), block(2, u8(16))), "byte 52: Packet Block too short (28 bytes)"],
  [
    "obsolete PB caplen beyond its block",
    pcapng(
      idb(),
      (() => {
        const body = u8(24);
        new DataView(body.buffer).setUint32(12, 100, true);
        return block(2, body);
      })(),
    ),
    "byte 68: Packet Block captured length 100 exceeds its block (36 bytes)",
  ],
  ["IDB too short", pcapng(block(1, u8(4))), "byte 28: Interface Description Block too short (16 bytes)"],
  [
    "IDB option longer than the block",
    pcapng(idb({ options: opt(2, new TextEncoder().encode("eth0"), 40) })),
    "byte 44: Interface Description Block option 2 (40 bytes) cut short",
  ],
  [
    "IDB opt_endofopt with a length",
    pcapng(idb({ options: opt(0, u8(4)) })),
    "byte 44: Interface Description Block has opt_endofopt with length 4 != 0",
  ],
  [
    "IDB if_tsresol of 2 bytes",
    pcapng(idb({ options: opt(TSRESOL, Uint8Array.of(6, 0)) })),
    "byte 44: Interface Description Block has if_tsresol with length 2 != 1",
  ],
  [
    "IDB if_tsresol twice",
    pcapng(idb({ options: cat(opt(TSRESOL, Uint8Array.of(6)), opt(TSRESOL, Uint8Array.of(9))) })),
    "byte 52: Interface Description Block has more than one if_tsresol",
  ],
  [
    "IDB if_tsresol 10^-20",
    pcapng(idb({ options: opt(TSRESOL, Uint8Array.of(20)) })),
    "byte 48: Interface Description Block if_tsresol 10^-20 is too fine",
  ],
  [
    "IDB if_tsresol 2^-64",
    pcapng(idb({ options: opt(TSRESOL, Uint8Array.of(0x80 | 64)) })),
    "byte 48: Interface Description Block if_tsresol 2^-64 is too fine",
  ],
  [
    "IDB if_tsoffset of 4 bytes",
    pcapng(idb({ options: opt(TSOFFSET, u8(4)) })),
    "byte 44: Interface Description Block has if_tsoffset with length 4 != 8",
  ],
  [
    "IDB if_tsoffset twice",
    pcapng(idb({ options: cat(opt(TSOFFSET, u8(8)), opt(TSOFFSET, u8(8))) })),
    "byte 56: Interface Description Block has more than one if_tsoffset",
  ],
];

for (const [name, bytes, message] of CASES) {
  test(`capture: ${name}`, () => {
    const r = read(bytes);
    assert.ok(r.error !== null, `refused (read ${r.records} records)`);
    assert.equal(r.error.message, message);
  });
}

test("capture: a truncated last record is reported, not refused, and the records before it are kept", () => {
  const pcap = cat(pcapHeader(), pcapRecord(60), pcapRecord(60), pcapRecord(60).subarray(0, 30));
  const r = new CaptureReader();
  r.push(pcap);
  r.end();
  let n = 0;
  while (r.next() !== null) n++;
  assert.equal(n, 2);
  assert.equal(r.truncatedAt, 24 + 2 * 76);
  assert.equal(r.warning, "byte 176: truncated last record: 30 of 76 bytes present");
  const png = cat(shb(), idb(), epb(), epb().subarray(0, 50));
  const q = new CaptureReader();
  q.push(png);
  q.end();
  n = 0;
  while (q.next() !== null) n++;
  assert.equal(n, 1);
  assert.equal(q.warning, "byte 140: truncated last record: 50 of 92 bytes present");
});
