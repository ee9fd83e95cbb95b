/**
 * Captures made by real tools (tcpdump, dumpcap, editcap, mergecap; see record-fixtures.sh) and
 * hand-crafted ones (craft-fixtures.ts) must read exactly as tshark reads them: timestamp to the
 * nanosecond, original and captured length, interface name, comment and direction. The tshark view
 * is committed beside each fixture (regen-expected.sh), so this part runs without tshark.
 *
 * The second part writes pcap and pcapng with ctnat and has tshark read them back (skipped when
 * tshark is not installed; CI installs it).
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { PcapFileWriter, PcapngFileWriter, readCaptureFile } from "../../src/io/index.js";
import { LinkType, PacketDirection } from "../../src/pcap/index.js";
import { payload } from "./build.js";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, "../fixtures/captures");

interface Row {
  time: string;
  len: number;
  cap: number;
  name: string;
  comment: string;
  direction: number;
}

function parseTsv(text: string): Row[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [time, len, cap, name, comment, dir] = l.split("\t");
      return {
        time,
        len: Number(len),
        cap: Number(cap),
        name,
        comment,
        direction: dir ? Number.parseInt(dir, 16) & 3 : 0,
      };
    });
}

function timeText(sec: number, nsec: number): string {
  return `${sec}.${String(nsec).padStart(9, "0")}`;
}

function readRows(path: string): { rows: Row[]; sections: number; truncatedAt: number } {
  const rows: Row[] = [];
  const f = readCaptureFile(path, (rec) => {
    rows.push({
      time: rec.hasTimestamp ? timeText(rec.tsSec, rec.tsNsec) : "",
      len: rec.origLen,
      cap: rec.capLen,
      name: rec.interfaceName,
      // tshark joins several comments with ","
      comment: rec.comment.replaceAll("\n", ","),
      direction: rec.direction,
    });
  });
  return { rows, sections: f.reader.section + 1, truncatedAt: f.truncatedAt };
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".pcap") || f.endsWith(".pcapng"));

test("the fixture set is there", () => {
  assert.ok(fixtures.length >= 13, `only ${fixtures.length} fixtures`);
});

for (const name of fixtures) {
  test(`${name} reads as tshark reads it`, () => {
    const expected = parseTsv(readFileSync(join(FIXTURES, `${name}.tshark.tsv`), "utf8"));
    const { rows, sections, truncatedAt } = readRows(join(FIXTURES, name));
    assert.equal(truncatedAt, -1);
    assert.equal(rows.length, expected.length, "packet count");
    for (let i = 0; i < rows.length; i++) {
      const got = rows[i];
      const want = expected[i];
      // Wireshark 4.0 shows the interface names of a later section by the id alone (as if it were
      // the first section's), so names are compared in single-section files only.
      if (sections > 1) got.name = want.name;
      // tshark names a pcapng interface without if_name "unknown"; ctnat leaves the name empty
      if (got.name === "" && want.name === "unknown") got.name = want.name;
      assert.deepEqual(got, want, `packet ${i + 1}`);
    }
  });
}

test("fixtures from each tool have the expected shape", () => {
  const multi = readRows(join(FIXTURES, "dumpcap-two-interfaces.pcapng")).rows;
  assert.deepEqual([...new Set(multi.map((r) => r.name))].sort(), ["lo", "vA"]);
  const comments = readRows(join(FIXTURES, "editcap-comments.pcapng")).rows;
  assert.equal(comments[0].comment, "first packet");
  const snap = readRows(join(FIXTURES, "tcpdump-lo-snap64.pcap")).rows;
  assert.ok(snap.some((r) => r.cap === 64 && r.len > 64));
  const merged = readCaptureFile(join(FIXTURES, "mergecap-two-linktypes.pcapng"), () => {});
  assert.deepEqual(
    merged.reader.interfaces.map((i) => i.linkType),
    [LinkType.Ethernet, LinkType.LinuxSll2],
  );
});

// ---- ctnat writes, tshark reads ----------------------------------------------------------------

function hasTshark(): boolean {
  try {
    execFileSync("tshark", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const tsharkMissing = hasTshark() ? false : "tshark is not installed";
const hasTcpdump = (() => {
  try {
    execFileSync("tcpdump", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

function tsharkRows(path: string): Row[] {
  const out = execFileSync(
    "tshark",
    [
      "-r",
      path,
      "-T",
      "fields",
      "-E",
      "separator=/t",
      "-e",
      "frame.time_epoch",
      "-e",
      "frame.len",
      "-e",
      "frame.cap_len",
      "-e",
      "frame.interface_name",
      "-e",
      "frame.comment",
      "-e",
      "frame.packet_flags_direction",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
  return parseTsv(out);
}

test("pcapng written by ctnat: tshark sees interface names, comments, directions", { skip: tsharkMissing }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ctnat-pcapng-"));
  try {
    for (const littleEndian of [true, false]) {
      const path = join(dir, `out-${littleEndian ? "le" : "be"}.pcapng`);
      const w = new PcapngFileWriter(path, {
        littleEndian,
        interfaces: [
          { name: "eth0", linkType: LinkType.Ethernet },
          { name: "wan0 (raw)", linkType: LinkType.Raw, nanosecond: false },
        ],
      });
      const ip = payload(60);
      ip[0] = 0x45;
      w.write(0, payload(74), 0, 74, 1700000000, 123456789, 74, PacketDirection.In, "PREROUTING: DNAT to 10.0.0.2");
      w.write(1, ip, 0, 60, 1700000000, 223456789, 60, PacketDirection.Out);
      const lo = w.addInterface({ name: "lo", linkType: LinkType.Raw, snaplen: 32 });
      w.write(lo, ip, 0, 60, 1700000001, 5, 60, PacketDirection.Unknown, "ünïcode ✓ comment");
      w.close();
      const rows = tsharkRows(path);
      assert.deepEqual(rows, [
        {
          time: "1700000000.123456789",
          len: 74,
          cap: 74,
          name: "eth0",
          comment: "PREROUTING: DNAT to 10.0.0.2",
          direction: 1,
        },
        { time: "1700000000.223456000", len: 60, cap: 60, name: "wan0 (raw)", comment: "", direction: 2 },
        { time: "1700000001.000000005", len: 60, cap: 32, name: "lo", comment: "ünïcode ✓ comment", direction: 0 },
      ]);
      // and ctnat reads back what tshark read
      assert.deepEqual(readRows(path).rows, rows);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("pcap written by ctnat (micro and nano, both byte orders): tshark agrees", { skip: tsharkMissing }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ctnat-pcap-"));
  try {
    for (const nanosecond of [false, true]) {
      for (const littleEndian of [true, false]) {
        const path = join(dir, `out-${nanosecond}-${littleEndian}.pcap`);
        const w = new PcapFileWriter(path, { nanosecond, littleEndian, snaplen: 100 });
        w.write(payload(60), 0, 60, 1700000000, 999999999);
        w.write(payload(300), 0, 300, 1700000001, 1000);
        w.close();
        const rows = tsharkRows(path);
        assert.deepEqual(
          rows.map((r) => [r.time, r.len, r.cap]),
          [
            [nanosecond ? "1700000000.999999999" : "1700000000.999999000", 60, 60],
            [nanosecond ? "1700000001.000001000" : "1700000001.000001000", 300, 100],
          ],
        );
        assert.deepEqual(readRows(path).rows, rows);
        if (hasTcpdump) {
          // libpcap reads it too (tcpdump prints one line per packet, with the nanosecond stamp)
          const out = execFileSync("tcpdump", ["-r", path, "-tt", "-n", "--time-stamp-precision=nano"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
          });
          assert.deepEqual(
            out
              .split("\n")
              .filter((l) => /^\d/.test(l)) // hex dump lines of unknown payloads start with a tab
              .map((l) => l.split(" ")[0]),
            rows.map((r) => r.time),
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
