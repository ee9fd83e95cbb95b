import assert from "node:assert/strict";
import { test } from "node:test";
import { payload, pcapFile } from "../../test/captures/build.js";
import { CaptureMerger, CaptureReader, type RecordSource } from "./index.js";

function source(records: [number, number][], tag: number): RecordSource {
  const r = new CaptureReader();
  r.push(
    pcapFile({ magic: 0xa1b23c4d, records: records.map(([sec, frac]) => ({ sec, frac, data: payload(4, tag) })) }),
  );
  r.end();
  return r;
}

test("CaptureMerger: timestamp order, ties to the source listed first, zero-copy heads", () => {
  const a = source(
    [
      [1, 0],
      [2, 5],
      [2, 5],
      [9, 0],
    ],
    1,
  );
  const b = source(
    [
      [0, 9],
      [2, 5],
      [3, 0],
    ],
    2,
  );
  const c = source([], 3);
  const m = new CaptureMerger([a, b, c]);
  const got: string[] = [];
  for (let r = m.next(); r; r = m.next()) got.push(`${m.source}:${r.tsSec}.${r.tsNsec}:${r.data[0]}`);
  const [pa, pb] = [payload(4, 1)[0], payload(4, 2)[0]];
  assert.deepEqual(got, [
    `1:0.9:${pb}`,
    `0:1.0:${pa}`,
    `0:2.5:${pa}`,
    `0:2.5:${pa}`,
    `1:2.5:${pb}`,
    `1:3.0:${pb}`,
    `0:9.0:${pa}`,
  ]);
  assert.equal(m.next(), null);
  assert.equal(m.source, -1);
  assert.equal(new CaptureMerger([]).next(), null);
});
