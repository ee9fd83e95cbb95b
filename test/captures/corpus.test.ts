/**
 * Robustness corpus: the 830 captures of tcpdump's own test suite (odd, truncated and fuzzed files
 * across many link types), found at ../shared/captures/tcpdump-tests from the repository root.
 *
 * Contract: every file is either read to its end (possibly with a truncated last record, reported
 * as a warning) or refused with a one-line CaptureFormatError; nothing else may escape. tcpdump 4.99
 * (libpcap 1.10) reads all 830 without an error, and so must ctnat: the refusals list is empty.
 * A seeded set of damaged copies (cut short, bytes overwritten) checks the same contract on files
 * that are broken in new ways.
 *
 * Skipped with a notice when the corpus is absent.
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readCaptureFile } from "../../src/io/index.js";
import { CaptureReader, isCaptureFormatError, linkTypeName } from "../../src/pcap/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const CORPUS = join(here, "../../../shared/captures/tcpdump-tests");
const present = existsSync(CORPUS);
const skip = present ? false : `corpus absent (${CORPUS}): skipped`;
if (!present) console.log(`# notice: ${skip}`);

function corpusFiles(): string[] {
  return readdirSync(CORPUS)
    .filter((f) => f.endsWith(".pcap") || f.endsWith(".pcapng"))
    .sort();
}

test("tcpdump corpus: every file is read to its end or refused with a one-line reason", { skip }, (t) => {
  const files = corpusFiles();
  assert.ok(files.length >= 800, `expected the 830-file corpus, found ${files.length}`);
  let full = 0;
  let truncated = 0;
  let packets = 0;
  const refused: string[] = [];
  const byLinkType = new Map<string, { full: number; truncated: number; refused: number }>();
  const count = (lt: string, k: "full" | "truncated" | "refused") => {
    const c = byLinkType.get(lt) ?? { full: 0, truncated: 0, refused: 0 };
    c[k]++;
    byLinkType.set(lt, c);
  };
  for (const name of files) {
    const path = join(CORPUS, name);
    try {
      const f = readCaptureFile(path, () => {
        packets++;
      });
      const lt = linkTypeName(f.linkType);
      if (f.truncatedAt >= 0) {
        truncated++;
        count(lt, "truncated");
        t.diagnostic(`truncated: ${f.warning}`);
      } else {
        full++;
        count(lt, "full");
      }
    } catch (e) {
      if (!isCaptureFormatError(e)) throw new Error(`${name}: unexpected ${String(e)}`);
      assert.ok(!e.message.includes("\n"), "one-line reason");
      refused.push(e.message);
      count("(refused)", "refused");
    }
  }
  t.diagnostic(`files ${files.length}: read fully ${full}, truncated ${truncated}, refused ${refused.length}`);
  t.diagnostic(`packets ${packets}`);
  const rows = [...byLinkType].sort((a, b) => b[1].full + b[1].truncated - (a[1].full + a[1].truncated));
  t.diagnostic(
    `by link type: ${rows.map(([lt, c]) => `${lt} ${c.full}${c.truncated ? `+${c.truncated}t` : ""}${c.refused ? `/${c.refused}r` : ""}`).join(", ")}`,
  );
  for (const r of refused) t.diagnostic(`refused: ${r}`);
  assert.equal(full + truncated + refused.length, files.length);
  // tcpdump -r reads every one of these files without an error
  assert.deepEqual(refused, []);
});

/** mulberry32: small seeded PRNG */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("tcpdump corpus, damaged copies: only CaptureFormatError escapes", { skip }, (t) => {
  const files = corpusFiles();
  const rand = rng(0xc0ffee);
  let read = 0;
  let refused = 0;
  let truncated = 0;
  for (let i = 0; i < files.length; i += 4) {
    const original = new Uint8Array(readFileSync(join(CORPUS, files[i])));
    for (let m = 0; m < 4; m++) {
      const bytes = original.slice();
      let len = bytes.length;
      if (m === 0)
        len = Math.floor(rand() * len); // cut short anywhere
      else {
        // overwrite 1..8 bytes in the first 256 (headers, first records) or anywhere
        const n = 1 + Math.floor(rand() * 8);
        for (let k = 0; k < n; k++) {
          const at = Math.floor(rand() * (m === 1 ? Math.min(256, len) : len));
          bytes[at] = m === 3 ? 0xff : Math.floor(rand() * 256);
        }
      }
      const input = bytes.subarray(0, len);
      const reader = new CaptureReader();
      try {
        // feed in uneven chunks to cross record boundaries
        let p = 0;
        while (p < input.length) {
          const step = 1 + Math.floor(rand() * 700);
          reader.push(input.subarray(p, p + step));
          p += step;
          while (reader.next() !== null) {}
        }
        reader.end();
        while (reader.next() !== null) {}
        if (reader.truncatedAt >= 0) truncated++;
        read++;
      } catch (e) {
        if (!isCaptureFormatError(e)) throw new Error(`${files[i]} mutation ${m}: unexpected ${String(e)}`);
        assert.ok(!e.message.includes("\n"));
        assert.match(e.message, /^byte \d+: /);
        refused++;
      }
    }
  }
  t.diagnostic(`damaged copies: read ${read} (${truncated} truncated), refused ${refused}`);
  assert.ok(read + refused > 0);
});
