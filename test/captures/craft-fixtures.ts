/**
 * Writes the hand-crafted pcapng fixtures (deterministic) that exercise what the tools above do not
 * produce: big-endian sections, a change of byte order between sections, power-of-2 and millisecond
 * timestamp resolutions, if_tsoffset, Simple and obsolete Packet Blocks, skipped block types.
 * Their expected values come from tshark (see regen-expected.sh), so these files pin ctnat's reading
 * to Wireshark's. Run: node --import tsx test/captures/craft-fixtures.ts
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { concat, epb, idb, isb, nrb, payload, pb, shb, spb, str } from "./build.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/captures");

// Section 1 little-endian: two interfaces, 2^-20 s and 10^-3 s resolutions, one with if_tsoffset.
// Section 2 big-endian: 2^-30 s resolution, an obsolete Packet Block, epb_flags and comments.
const s1 = concat(
  shb(true, [[4, str("ctnat craft")]]),
  idb(true, { name: "bin20", linkType: 101, tsresol: 0x80 | 20 }),
  idb(true, { name: "msec-offset", linkType: 101, tsresol: 3, tsoffset: 1000000000n }),
  nrb(true),
  epb(true, { ifid: 0, ts: (1700000000n << 20n) + 123457n, data: payload(40, 1), flags: 1 }),
  epb(true, { ifid: 1, ts: 700000000123n, data: payload(28, 2), len: 60, flags: 2, comments: ["ms + offset"] }),
  epb(true, { ifid: 0, ts: (1700000001n << 20n) + 1048575n, data: payload(52, 3) }),
  isb(true, 0),
);
const s2 = concat(
  shb(false),
  idb(false, { name: "bin30-be", linkType: 101, tsresol: 0x80 | 30 }),
  epb(false, { ifid: 0, ts: (1700000002n << 30n) + 536870912n, data: payload(33, 4), comments: ["big-endian"] }),
  pb(false, { ifid: 0, ts: (1700000003n << 30n) + 1n, data: payload(20, 5), flags: 1, comments: ["obsolete PB"] }),
);
writeFileSync(join(dir, "crafted-sections.pcapng"), concat(s1, s2));

// Simple Packet Blocks: no timestamps; the captured length is the original length cut to the snaplen.
const spbFile = concat(
  shb(true),
  idb(true, { name: "spb", linkType: 101, snaplen: 64 }),
  spb(true, 40, payload(40, 6)),
  spb(true, 100, payload(64, 7)),
);
writeFileSync(join(dir, "crafted-spb.pcapng"), spbFile);
