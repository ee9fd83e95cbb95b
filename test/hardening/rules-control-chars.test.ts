/**
 * Control characters in a ruleset (a carriage return or NUL in a table name, a tab between words) never
 * break the error message over lines: they are written as escapes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadRuleset } from "../../src/rules/ruleset.js";

test("a table name with a CR and NULs: one-line message, the characters escaped", () => {
  assert.throws(
    () => loadRuleset("*\u0000\r\u0000ilter\nCOMMIT\n", { file: "r", family: 4 }),
    (e: unknown) => {
      assert.equal((e as Error).message, "r:1:2: table '\\x00\\r\\x00ilter' does not exist");
      return true;
    },
  );
});

test("a word with a vertical tab and an escape character", () => {
  assert.throws(
    () =>
      loadRuleset("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j \u000bACCEPT\u001b\nCOMMIT\n", { file: "r", family: 4 }),
    (e: unknown) => {
      assert.equal((e as Error).message, "r:3:13: chain '\\x0bACCEPT\\x1b' does not exist");
      return true;
    },
  );
});
