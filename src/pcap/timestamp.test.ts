import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { divmod64, divQuot, divRem, mulAdd64, mulHi, mulLo } from "./timestamp.js";

const SEED = 20261125;

test("divmod64 matches BigInt division for divisors up to 2^37", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.oneof(
        fc.constantFrom(1, 10, 1000, 1000000, 1000000000, 10000000000, 100000000000, 2 ** 20, 2 ** 32, 2 ** 37),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.bigInt({ min: 1n, max: 1n << 37n }).map(Number),
      ),
      (t, d) => {
        divmod64(Number(t >> 32n), Number(t & 0xffffffffn), d);
        const q = t / BigInt(d);
        const r = t % BigInt(d);
        assert.equal(divRem, Number(r));
        // the quotient is exact while it is below 2^53
        if (q < 1n << 53n) assert.equal(divQuot, Number(q));
        else assert.ok(Math.abs(divQuot - Number(q)) <= Number(q) * 2 ** -50);
      },
    ),
    { seed: SEED, numRuns: 5000 },
  );
});

test("mulAdd64 matches BigInt for seconds below 2^36", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 36 - 1 }),
      fc.constantFrom(1000000, 1000000000),
      fc.integer({ min: 0, max: 999999999 }),
      (a, m, b) => {
        mulAdd64(a, m, b);
        const t = BigInt.asUintN(64, BigInt(a) * BigInt(m) + BigInt(b));
        assert.equal(mulHi, Number(t >> 32n));
        assert.equal(mulLo, Number(t & 0xffffffffn));
      },
    ),
    { seed: SEED, numRuns: 5000 },
  );
});
