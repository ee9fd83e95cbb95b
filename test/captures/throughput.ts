/**
 * Throughput check (not a timed test): writes a 1M-packet capture with each writer, then reads it
 * back with CaptureFileReader, and prints packets per second and the heap growth while reading.
 *   node --import tsx test/captures/throughput.ts [packets]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CaptureFileReader, PcapFileWriter, PcapngFileWriter } from "../../src/io/index.js";
import { LinkType, PacketDirection } from "../../src/pcap/index.js";

const N = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "ctnat-throughput-"));
const packets = [60, 74, 590, 1514].map((n) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i & 0xff;
  return b;
});

function rate(n: number, ms: number): string {
  return `${(((n / ms) * 1000) / 1e6).toFixed(2)} M packets/s (${((ms * 1e6) / n).toFixed(0)} ns/packet)`;
}

try {
  for (const format of ["pcap", "pcapng"] as const) {
    const path = join(dir, `gen.${format}`);
    let t0 = performance.now();
    if (format === "pcap") {
      const w = new PcapFileWriter(path, { nanosecond: true, linkType: LinkType.Ethernet });
      for (let i = 0; i < N; i++) {
        const p = packets[i & 3];
        w.write(p, 0, p.length, 1700000000 + Math.floor(i / 1000), (i % 1000) * 1000000);
      }
      w.close();
    } else {
      const w = new PcapngFileWriter(path, { interfaces: [{ name: "eth0" }, { name: "eth1" }] });
      for (let i = 0; i < N; i++) {
        const p = packets[i & 3];
        w.write(
          i & 1,
          p,
          0,
          p.length,
          1700000000 + Math.floor(i / 1000),
          (i % 1000) * 1000000,
          p.length,
          PacketDirection.In,
        );
      }
      w.close();
    }
    const wms = performance.now() - t0;
    const size = statSync(path).size;
    console.log(
      `${format} write: ${N} packets, ${(size / 2 ** 20).toFixed(0)} MiB in ${wms.toFixed(0)} ms: ${rate(N, wms)}`,
    );

    for (let round = 0; round < 2; round++) {
      globalThis.gc?.();
      const heap0 = process.memoryUsage().heapUsed;
      t0 = performance.now();
      const f = CaptureFileReader.open(path);
      let n = 0;
      let bytes = 0;
      let last = 0;
      for (let rec = f.next(); rec !== null; rec = f.next()) {
        n++;
        bytes += rec.capLen;
        last = rec.buf[rec.off + rec.capLen - 1];
      }
      f.close();
      const rms = performance.now() - t0;
      const heap1 = process.memoryUsage().heapUsed;
      console.log(
        `${format} read (round ${round + 1}): ${n} packets, ${(bytes / 2 ** 20).toFixed(0)} MiB of packet data in ${rms.toFixed(0)} ms: ${rate(n, rms)}; heap ${((heap1 - heap0) / 2 ** 20).toFixed(1)} MiB (${last})`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
