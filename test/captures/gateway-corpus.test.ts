/**
 * The whole gateway over the robustness corpus: every capture of tcpdump's test suite
 * (../shared/captures/tcpdump-tests) is replayed through a gateway with MASQUERADE and a stateful filter,
 * its packets arriving on lan0. Each file must either replay without an exception, or be refused with an
 * InputError (one line: an unsupported link type, say). Skipped with a notice when the corpus is absent.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { replayFiles } from "../../src/cli/replay.js";
import { isInputError } from "../../src/core/errors.js";

const here = dirname(fileURLToPath(import.meta.url));
const CORPUS = join(here, "../../../shared/captures/tcpdump-tests");
const GW = join(here, "../fixtures/gateway");
const present = existsSync(CORPUS);
const skip = present ? false : `corpus absent (${CORPUS}): skipped`;
if (!present) console.log(`# notice: ${skip}`);

test("tcpdump corpus through the whole gateway: replayed, or refused with a one-line reason", { skip }, (t) => {
  const files = readdirSync(CORPUS)
    .filter((f) => f.endsWith(".pcap") || f.endsWith(".pcapng"))
    .sort();
  assert.ok(files.length >= 800);
  const out = mkdtempSync(join(tmpdir(), "ctnat-corpus-gw-"));
  let replayed = 0;
  let packets = 0;
  const refused = new Map<string, number>();
  const fates = new Map<string, number>();
  try {
    for (const f of files) {
      try {
        const r = replayFiles(
          {
            rules: join(GW, "corpus-gw.rules"),
            rules6: join(GW, "corpus-gw.rules6"),
            addr: join(GW, "corpus-gw.addr.json"),
            route: join(GW, "corpus-gw.route.json"),
            route6: join(GW, "corpus-gw.route6.json"),
            in: [`lan0=${join(CORPUS, f)}`],
            out,
            quiet: true,
          },
          false,
        );
        replayed++;
        packets += r.counters.packets;
        const st = r.instance.gateway.stats;
        st.fate.forEach((n, k) => {
          if (n > 0) fates.set(String(k), (fates.get(String(k)) ?? 0) + n);
        });
      } catch (e) {
        if (!isInputError(e)) throw new Error(`${f}: ${(e as Error).stack}`);
        const msg = (e as Error).message;
        assert.equal(msg.split("\n").length, 1, `${f}: one-line message`);
        const reason = msg.replace(/^.*?: /, "").replace(/\d+/g, "N");
        refused.set(reason, (refused.get(reason) ?? 0) + 1);
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  t.diagnostic(`${replayed} files replayed (${packets} IP packets), ${files.length - replayed} refused`);
  for (const [reason, n] of [...refused].sort((a, b) => b[1] - a[1])) t.diagnostic(`refused ${n}: ${reason}`);
  assert.ok(replayed > 500, "most of the corpus is Ethernet, raw IP, cooked or loopback");
});
