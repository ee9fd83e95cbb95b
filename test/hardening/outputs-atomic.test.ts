/**
 * No output looks complete when it is not: when writing fails part way (a full disk), every output is
 * left under its temporary name and removed, none under its final name. A write error is a one-line
 * InputError naming the file.
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isInputError } from "../../src/core/errors.js";
import { PcapFileWriter } from "../../src/io/capture-file.js";

const tmp = mkdtempSync(join(tmpdir(), "ctnat-atomic-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

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
