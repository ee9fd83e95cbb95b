/**
 * File-system trouble at the Node edge (src/io) is bad input, not a crash: a capture that is a directory,
 * an output that cannot be created or has a directory in its place. Each is a one-line InputError naming
 * the file, raised before anything is written under a final name.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isInputError } from "../../src/core/errors.js";
import { AtomicFile, CaptureFileReader, PcapFileWriter } from "../../src/io/capture-file.js";

const tmp = mkdtempSync(join(tmpdir(), "ctnat-io-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function inputError(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isInputError(e), `an InputError, not ${String(e)}`);
    assert.equal((e as Error).message, message);
    return true;
  });
}

test("a capture that is a directory, or missing", () => {
  inputError(() => CaptureFileReader.open(tmp), `${tmp}: cannot read capture: it is a directory`);
  inputError(
    () => CaptureFileReader.open(join(tmp, "nope.pcap")),
    `${join(tmp, "nope.pcap")}: cannot read capture: ENOENT`,
  );
});

test("an output whose directory is missing, or with a directory in its place, is refused before anything is written", () => {
  const missing = join(tmp, "no/such/dir/out.pcap");
  inputError(() => new AtomicFile(missing), `${missing}: cannot write output: ENOENT`);
  const dir = join(tmp, "taken");
  mkdirSync(dir);
  inputError(() => new PcapFileWriter(dir), `${dir}: cannot write output: a directory is in its place`);
  assert.deepEqual(readdirSync(tmp).sort(), ["taken"], "no temporary file left behind");
  assert.ok(existsSync(dir));
});
