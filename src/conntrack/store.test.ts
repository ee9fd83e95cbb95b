/**
 * CtStore's index (fingerprint buckets with overflow counts): random insertions and removals, with
 * tuples chosen to crowd a few buckets so that entries overflow into the next ones, keep every hashed
 * node findable and the index consistent with the records (CtStore.checkIndex).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IPPROTO } from "../core/netfilter.js";
import { CtStore, W_AUX, W_EXPIRY } from "./store.js";

/** xorshift32 */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

const ONE = new Int32Array(4);
const TWO = new Int32Array(4);

/** tuples (src, dst, ports) for a store whose lookups start in one of the buckets `homes` */
function crowded(store: CtStore, count: number, homes: number[], next: () => number): Int32Array[] {
  const out: Int32Array[] = [];
  const words = store.aw;
  while (out.length < count) {
    const t = new Int32Array(2 * words + 1);
    for (let i = 0; i < t.length; i++) t[i] = next() | 0;
    ONE.set(t.subarray(0, words));
    TWO.set(t.subarray(words, 2 * words));
    const h = store.tupleHash(ONE, 0, TWO, 0, t[2 * words], IPPROTO.UDP);
    if (homes.includes(store.homeWord(h) / 16)) out.push(t);
  }
  return out;
}

function fill(store: CtStore, slot: number, orig: Int32Array, reply: Int32Array): void {
  const r = store.rec;
  const b = slot * store.stride;
  r.set(orig, b);
  r.set(reply, b + store.node);
  r[b + store.common + W_AUX] = IPPROTO.UDP << 24;
  r[b + store.common + W_EXPIRY] = 1000;
}

function lookup(store: CtStore, t: Int32Array): number {
  const w = store.aw;
  ONE.set(t.subarray(0, w));
  TWO.set(t.subarray(w, 2 * w));
  return store.find(ONE, 0, TWO, 0, t[2 * w], IPPROTO.UDP, 0);
}

describe("CtStore index", () => {
  for (const family of [4, 6]) {
    test(`IPv${family}: crowded buckets overflow and stay consistent through random inserts and removals`, () => {
      const cap = 64;
      const store = new CtStore(family, cap, cap, 7);
      const next = rng(family * 1000 + 1);
      // three neighbouring buckets get every tuple: 128 nodes for 45 positions, so most overflow
      const tuples = crowded(store, 2 * cap, [1, 2, 3], next);
      const hashed = new Set<number>();
      let overflowed = 0;
      for (let slot = 0; slot < cap; slot++) assert.equal(store.alloc(), slot);
      for (let slot = 0; slot < cap; slot++) fill(store, slot, tuples[2 * slot], tuples[2 * slot + 1]);
      for (let step = 0; step < 4000; step++) {
        const n = next() % (2 * cap);
        if (hashed.has(n)) {
          store.unhashNode(n);
          hashed.delete(n);
        } else {
          store.hashNode(n);
          hashed.add(n);
        }
        if (step % 97 === 0) assert.equal(store.checkIndex(), null, `step ${step}`);
        if (store.idx[32] > 0 || store.idx[48] > 0) overflowed++;
      }
      assert.ok(overflowed > 1000, `entries went past their home bucket in ${overflowed} steps`);
      assert.equal(store.checkIndex(), null);
      for (let n = 0; n < 2 * cap; n++) {
        assert.equal(lookup(store, tuples[n]), hashed.has(n) ? n : -1, `node ${n}`);
      }
      // everything out again: the index is empty and every count back to 0
      for (const n of hashed) store.unhashNode(n);
      assert.equal(store.checkIndex(), null);
      assert.ok(store.idx.every((w, i) => (i % 16 === 0 ? w === 0 : w === -1)));
    });
  }

  test("growth rebuilds the index with every hashed node", () => {
    const store = new CtStore(4, 4, 1 << 12, 3);
    const next = rng(99);
    const tuples: Int32Array[] = [];
    for (let i = 0; i < 3000; i++) tuples.push(Int32Array.of(next() | 0, next() | 0, next() | 0));
    for (let slot = 0; slot < 1500; slot++) {
      assert.equal(store.alloc(), slot);
      fill(store, slot, tuples[2 * slot], tuples[2 * slot + 1]);
      store.hashNode(slot * 2);
      store.hashNode(slot * 2 + 1);
    }
    assert.equal(store.capacity, 2048);
    assert.equal(store.checkIndex(), null);
    for (let n = 0; n < 3000; n++) assert.equal(lookup(store, tuples[n]), n);
  });
});
