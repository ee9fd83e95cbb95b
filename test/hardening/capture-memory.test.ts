/**
 * A capture's headers may claim lengths its bytes do not have. The reader must not allocate for the
 * claim: a 40-byte file saying "the next record is 128 MiB" (D-Bus link type, whose records may be that
 * big) or a pcapng block saying "16 MiB" costs a few KiB, and reads as a truncated last record.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CaptureReader } from "../../src/pcap/reader.js";

const LINKTYPE_DBUS = 231;

function pcapClaiming(capLen: number, linkType: number): Uint8Array {
  const b = new Uint8Array(24 + 16 + 8);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 0, true); // snaplen 0: the link type's maximum
  v.setUint32(20, linkType, true);
  v.setUint32(24, 1700000000, true);
  v.setUint32(32, capLen, true);
  v.setUint32(36, capLen, true);
  return b;
}

function pcapngClaiming(blockLen: number): Uint8Array {
  const b = new Uint8Array(28 + 20 + 16);
  const v = new DataView(b.buffer);
  // Section Header Block
  v.setUint32(0, 0x0a0d0d0a, true);
  v.setUint32(4, 28, true);
  v.setUint32(8, 0x1a2b3c4d, true);
  v.setUint16(12, 1, true);
  v.setInt32(16, -1, true);
  v.setInt32(20, -1, true);
  v.setUint32(24, 28, true);
  // Interface Description Block (Ethernet)
  v.setUint32(28, 1, true);
  v.setUint32(32, 20, true);
  v.setUint16(36, 1, true);
  v.setUint32(44, 20, true);
  // an Enhanced Packet Block that says it is blockLen bytes long
  v.setUint32(48, 6, true);
  v.setUint32(52, blockLen, true);
  return b;
}

function readAll(bytes: Uint8Array, chunk: number): { reader: CaptureReader; records: number; grew: number } {
  const before = process.memoryUsage().arrayBuffers;
  const r = new CaptureReader();
  let records = 0;
  let peak = 0;
  for (let p = 0; p < bytes.length; p += chunk) {
    r.push(bytes.slice(p, p + chunk));
    while (r.next() !== null) records++;
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  }
  r.end();
  while (r.next() !== null) records++;
  peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
  return { reader: r, records, grew: peak };
}

for (const chunk of [1, 7, 1 << 20]) {
  test(`pcap record claiming 128 MiB (D-Bus), fed ${chunk} bytes at a time: no big allocation, truncated last record`, () => {
    const { reader, records, grew } = readAll(pcapClaiming(128 * 1024 * 1024, LINKTYPE_DBUS), chunk);
    assert.equal(records, 0);
    assert.equal(reader.truncatedAt, 24);
    assert.match(reader.warning, /^byte 24: truncated last record: 24 of 134217744 bytes present$/);
    assert.ok(grew < 4 * 1024 * 1024, `array buffers grew by ${grew} bytes`);
  });

  test(`pcapng block claiming 16 MiB, fed ${chunk} bytes at a time: no big allocation, truncated last record`, () => {
    const { reader, records, grew } = readAll(pcapngClaiming(16 * 1024 * 1024), chunk);
    assert.equal(records, 0);
    assert.equal(reader.truncatedAt, 48);
    assert.match(reader.warning, /^byte 48: truncated last record: 16 of 16777216 bytes present$/);
    assert.ok(grew < 4 * 1024 * 1024, `array buffers grew by ${grew} bytes`);
  });
}

test("a record that does arrive whole is read, however it was chunked", () => {
  // one 200,000-byte Ethernet record (below the 256 KiB maximum), fed 1,000 bytes at a time
  const rec = 200_000;
  const head = pcapClaiming(rec, 1).subarray(0, 40);
  const b = new Uint8Array(40 + rec);
  b.set(head);
  b.fill(0xab, 40);
  const { reader, records } = readAll(b, 1000);
  assert.equal(records, 1);
  assert.equal(reader.truncatedAt, -1);
});
