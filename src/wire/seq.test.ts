import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { seqAdd, seqAfter, seqAfterEq, seqBefore, seqBeforeEq, seqBetween, seqDiff, seqMax, seqMin } from "./index.js";

test("wrap-around comparisons", () => {
  const cases: [number, number, boolean][] = [
    [0, 1, true],
    [1, 0, false],
    [0xffffffff | 0, 0, true], // 2^32-1 is just before 0
    [0, 0xffffffff | 0, false],
    [0x7fffffff, 0x80000000 | 0, true],
    [5, 5, false],
  ];
  for (const [a, b, before] of cases) {
    assert.equal(seqBefore(a, b), before, `${a} before ${b}`);
    assert.equal(seqAfter(b, a), before);
    assert.equal(seqBeforeEq(a, b), before || a === b);
    assert.equal(seqAfterEq(b, a), before || a === b);
  }
  assert.equal(seqAdd(0xffffffff | 0, 2), 1);
  assert.equal(seqDiff(1, 0xffffffff | 0), 2);
  assert.equal(seqMax(0xfffffff0 | 0, 5), 5);
  assert.equal(seqMin(0xfffffff0 | 0, 5), 0xfffffff0 | 0);
});

test("between: low <= seq <= high going forward from low (Linux between())", () => {
  assert.equal(seqBetween(5, 1, 10), true);
  assert.equal(seqBetween(1, 1, 10), true);
  assert.equal(seqBetween(10, 1, 10), true);
  assert.equal(seqBetween(11, 1, 10), false);
  assert.equal(seqBetween(2, 0xfffffff0 | 0, 5), true);
  assert.equal(seqBetween(6, 0xfffffff0 | 0, 5), false);
});

test("property: before/after agree with the signed distance", () => {
  fc.assert(
    fc.property(fc.integer(), fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), (a, d) => {
      const b = seqAdd(a, d);
      assert.equal(seqBefore(a, b), d > 0);
      assert.equal(seqAfter(a, b), d < 0);
      assert.equal(seqDiff(b, a), d);
      if (d >= 0) assert.equal(seqBetween(b, a, seqAdd(b, 1)), true);
    }),
    { seed: 32, numRuns: 1000 },
  );
});
