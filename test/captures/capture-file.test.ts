/** src/io capture files: chunked reads, errors naming the file, writers that land atomically. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CaptureFileReader, PcapFileWriter, PcapngFileWriter, readCaptureFile } from "../../src/io/index.js";
import { CaptureFormat, CaptureReader, isCaptureFormatError, LinkType, PacketDirection } from "../../src/pcap/index.js";
import { payload, pcapFile } from "./build.js";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, "../fixtures/captures");
const dir = mkdtempSync(join(tmpdir(), "ctnat-io-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function times(path: string, chunkSize?: number): string[] {
  const f = CaptureFileReader.open(path, { chunkSize });
  const out: string[] = [];
  try {
    for (const rec of f) out.push(`${rec.interfaceName}|${rec.tsSec}.${rec.tsNsec}|${rec.capLen}|${rec.data[0]}`);
  } finally {
    f.close();
  }
  return out;
}

test("CaptureFileReader: the same records whatever the chunk size", () => {
  for (const name of ["dumpcap-two-interfaces.pcapng", "tcpdump-lo-nsec.pcap", "crafted-sections.pcapng"]) {
    const path = join(FIXTURES, name);
    const whole = times(path);
    assert.ok(whole.length > 3);
    for (const chunkSize of [64, 100, 1000]) assert.deepEqual(times(path, chunkSize), whole, `${name} ${chunkSize}`);
    // and the same as the pure reader on the whole file
    const r = new CaptureReader();
    r.push(new Uint8Array(readFileSync(path)));
    r.end();
    let n = 0;
    while (r.next()) n++;
    assert.equal(n, whole.length);
  }
});

test("CaptureFileReader: header read at open; format and link type known before records", () => {
  const f = CaptureFileReader.open(join(FIXTURES, "tcpdump-any-sll2.pcap"));
  assert.equal(f.format, CaptureFormat.Pcap);
  assert.equal(f.linkType, LinkType.LinuxSll2);
  assert.equal(f.interfaces.length, 1);
  assert.ok(f.size > 24);
  f.close();
  f.close(); // idempotent
});

test("CaptureFileReader: a non-capture is refused at open, naming the file and the byte", () => {
  const path = join(dir, "notes.txt");
  writeFileSync(path, "hello, this is not a capture\n");
  assert.throws(
    () => CaptureFileReader.open(path),
    (e: unknown) =>
      isCaptureFormatError(e) &&
      e.file === path &&
      e.message === `${path}: byte 0: not a pcap or pcapng file (magic 0x68656c6c)`,
  );
  const empty = join(dir, "empty.pcap");
  writeFileSync(empty, "");
  assert.throws(() => CaptureFileReader.open(empty), /empty\.pcap: byte 0: empty file/);
  assert.throws(() => CaptureFileReader.open(join(dir, "missing.pcap")), /ENOENT/);
});

test("CaptureFileReader: corruption mid-file names the file; truncation is a warning", () => {
  const good = pcapFile({
    records: [
      { sec: 1, frac: 0, data: payload(40) },
      { sec: 2, frac: 0, data: payload(40) },
    ],
  });
  const corrupt = good.slice();
  corrupt[24 + 16 + 40 + 8 + 3] = 0x7f; // second caplen: 2 GiB
  const cpath = join(dir, "corrupt.pcap");
  writeFileSync(cpath, corrupt);
  let n = 0;
  assert.throws(
    () => readCaptureFile(cpath, () => n++),
    (e: unknown) =>
      isCaptureFormatError(e) &&
      e.offset === 88 &&
      e.message.startsWith(`${cpath}: byte 88: invalid packet capture length`),
  );
  assert.equal(n, 1);
  const tpath = join(dir, "truncated.pcap");
  writeFileSync(tpath, good.subarray(0, good.length - 1));
  const f = readCaptureFile(tpath, () => {});
  assert.equal(f.truncatedAt, 80);
  assert.equal(f.done, true);
  assert.match(f.warning, /truncated\.pcap: byte 80: truncated last record: 55 of 56 bytes present$/);
});

test("PcapngFileWriter: nothing under the name until close(); abort() leaves nothing", () => {
  const path = join(dir, "out.pcapng");
  const w = new PcapngFileWriter(path, { interfaces: [{ name: "eth0" }] });
  for (let i = 0; i < 1000; i++) w.write(0, payload(1400, i), 0, 1400, 1700000000 + i, i, 1400, PacketDirection.In);
  assert.equal(existsSync(path), false);
  assert.ok(readdirSync(dir).some((f) => f.startsWith(".out.pcapng.tmp-")));
  w.close();
  assert.equal(existsSync(path), true);
  assert.ok(!readdirSync(dir).some((f) => f.includes(".tmp-")));
  let n = 0;
  readCaptureFile(path, (r) => {
    assert.equal(r.tsSec, 1700000000 + n);
    assert.equal(r.interfaceName, "eth0");
    n++;
  });
  assert.equal(n, 1000);

  const aborted = join(dir, "aborted.pcap");
  const a = new PcapFileWriter(aborted, { linkType: LinkType.Raw });
  a.write(payload(20), 0, 20, 1, 2);
  a.abort();
  assert.equal(existsSync(aborted), false);
  assert.ok(!readdirSync(dir).some((f) => f.includes("aborted")));
});

test("PcapFileWriter: replaces an existing file only at close()", () => {
  const path = join(dir, "replace.pcap");
  writeFileSync(path, "old");
  const w = new PcapFileWriter(path, { nanosecond: true });
  w.write(payload(10), 0, 10, 5, 6);
  assert.equal(readFileSync(path, "utf8"), "old");
  w.close();
  const recs: string[] = [];
  readCaptureFile(path, (r) => recs.push(`${r.tsSec}.${r.tsNsec}`));
  assert.deepEqual(recs, ["5.6"]);
});
