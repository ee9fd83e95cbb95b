/**
 * `ctnat explain -p NAME`: a protocol named like an Object property ("constructor", "toString") is an
 * unknown protocol, not protocol 0.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { explain } from "../../src/cli/explain.js";
import { isInputError } from "../../src/core/errors.js";

for (const p of ["constructor", "toString", "__proto__"]) {
  test(`explain -p ${p}: unknown protocol`, () => {
    assert.throws(
      () => explain({ proto: p, src: "10.0.0.1", dst: "10.0.0.2", sport: "1", dport: "2", ttl: "64", length: "0" }),
      (e: unknown) => isInputError(e) && (e as Error).message === `--proto: unknown protocol "${p}"`,
    );
  });
}
