/**
 * No output looks complete when it is not: when writing fails part way (a full disk), every output is
 * left under its temporary name and removed, none under its final name. A write error is a one-line
 * InputError naming the file.
 */
import assert from "node:assert/strict";
import { closeSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { replayFiles } from "../../src/cli/replay.js";
import { isInputError } from "../../src/core/errors.js";
import { PcapFileWriter } from "../../src/io/capture-file.js";
import { REPO } from "../cli/run.js";

const tmp = mkdtempSync(join(tmpdir(), "ctnat-atomic-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const FIX = join(REPO, "test/fixtures/kernel/masq-tcp");

test("a write error is an InputError naming the output", () => {
  const w = new PcapFileWriter(join(tmp, "x.pcap"));
  // the file descriptor goes away under the writer, as a failing disk takes it
  closeSync((w.file as unknown as { fd: number }).fd);
  w.write(new Uint8Array(64), 0, 64, 1, 0);
  assert.throws(
    () => w.flush(),
    (e: unknown) => isInputError(e) && /x\.pcap: cannot write output: EBADF$/.test((e as Error).message),
  );
});

test("the last output failing to flush leaves no output under its final name", () => {
  const out = join(tmp, "out");
  const flush = PcapFileWriter.prototype.flush;
  PcapFileWriter.prototype.flush = function (this: PcapFileWriter): void {
    if (this.file.path.endsWith("wan0.pcap")) throw Object.assign(new Error("disk full"), { code: "ENOSPC" });
    flush.call(this);
  };
  try {
    assert.throws(() =>
      replayFiles(
        {
          rules: join(FIX, "rules.v4"),
          addr: join(FIX, "addr.json"),
          route: join(FIX, "route.json"),
          in: [`lan0=${join(FIX, "in/lan0.pcap")}`],
          out,
          quiet: true,
        },
        false,
      ),
    );
  } finally {
    PcapFileWriter.prototype.flush = flush;
  }
  assert.ok(existsSync(out));
  assert.deepEqual(readdirSync(out), [], "nothing in place, no temporary file left");
});
