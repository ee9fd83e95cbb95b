import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildPacket,
  formatAddr,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  Ipv6ExtIter,
  Ipv6Header,
  Ipv6Repr,
  parseAddr,
  WireStatus,
} from "./index.js";

const FIXED = Uint8Array.from([
  0x6b, // version 6, traffic class high nibble 0xb
  0x81, // traffic class low nibble 0x8, flow label bits 19..16 = 1
  0x23,
  0x45, // flow label 0x12345
  0x00,
  0x08, // payload length 8
  0x11, // next header UDP
  0x40, // hop limit 64
  0xfd,
  0x00,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0x01, // fd00::1
  0xfd,
  0x00,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0x02, // fd00::2
  // UDP header
  0x00,
  0x35,
  0x00,
  0x35,
  0x00,
  0x08,
  0x00,
  0x00,
]);

test("deconstruct", () => {
  const h = new Ipv6Header().reset(FIXED, 0, FIXED.length);
  assert.equal(h.check(), WireStatus.Ok);
  assert.equal(h.version, 6);
  assert.equal(h.trafficClass, 0xb8);
  assert.equal(h.flowLabel, 0x12345);
  assert.equal(h.payloadLen, 8);
  assert.equal(h.nextHeader, 17);
  assert.equal(h.hopLimit, 64);
  assert.equal(formatAddr(h.srcAddr(new Int32Array(4)), 6), "fd00::1");
  assert.equal(formatAddr(h.dstAddr(new Int32Array(4)), 6), "fd00::2");
  assert.equal(h.dstWord(3), 2);
});

test("construct / emit", () => {
  const r = new Ipv6Repr();
  r.src.set(parseAddr("fd00::1"));
  r.dst.set(parseAddr("fd00::2"));
  r.trafficClass = 0xb8;
  r.flowLabel = 0x12345;
  r.payloadLen = 8;
  r.nextHeader = 17;
  const b = new Uint8Array(48);
  r.emit(b, 0);
  b.set(FIXED.subarray(40), 40);
  assert.deepEqual(b, FIXED);
  const s = new Ipv6Repr();
  assert.equal(s.parse(new Ipv6Header().reset(b, 0, 48)), WireStatus.Ok);
  assert.deepEqual(s, r);
  // raw setters
  const h = new Ipv6Header().reset(b, 0, 48);
  h.setTrafficClass(0x12);
  h.setFlowLabel(0xfffff);
  h.setHopLimit(1);
  assert.equal(h.trafficClass, 0x12);
  assert.equal(h.flowLabel, 0xfffff);
  assert.equal(h.version, 6);
  assert.equal(h.hopLimit, 1);
});

test("truncated and impossible lengths", () => {
  assert.equal(new Ipv6Header().reset(FIXED, 0, 39).check(), WireStatus.Truncated);
  assert.equal(new Ipv6Header().reset(FIXED, 0, 47).check(), WireStatus.BadTotalLen);
  const v4 = FIXED.slice();
  v4[0] = 0x4b;
  assert.equal(new Ipv6Header().reset(v4, 0, 48).check(), WireStatus.BadVersion);
});

test("extension header walk", () => {
  const p = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [
      { type: "hop" },
      { type: "routing", segmentsLeft: 2, routingType: 4 },
      { type: "dst" },
      { type: "fragment", id: 7 },
      { type: "ah" },
    ],
    tcp: {},
  });
  const h = new Ipv6Header().reset(p, 0, p.length);
  const it = h.extHeaders(new Ipv6ExtIter());
  const types: number[] = [];
  while (it.next()) {
    types.push(it.type);
    if (it.type === IPPROTO_ROUTING) {
      assert.equal(it.segmentsLeft, 2);
      assert.equal(it.routingType, 4);
    }
    if (it.type === IPPROTO_FRAGMENT) {
      assert.equal(it.fragIdent, 7);
      assert.equal(it.fragOffset, 0);
      assert.equal(it.fragMore, false);
    }
  }
  assert.deepEqual(types, [IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_AH]);
  assert.equal(it.status, WireStatus.Ok);
  assert.equal(it.upperProto, IPPROTO_TCP);
  assert.equal(it.upperOff, 40 + 8 + 8 + 8 + 8 + 24);
  assert.equal(p[it.upperProtoFieldOff], IPPROTO_TCP);
});

test("extension header walk: truncated chain and non-first fragment", () => {
  const p = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [{ type: "dst", options: new Uint8Array(30) }],
    proto: 253,
  });
  const it = new Ipv6Header().reset(p, 0, 50).extHeaders(new Ipv6ExtIter());
  assert.equal(it.next(), false);
  assert.equal(it.status, WireStatus.BadExtHeader); // the walk is bounded by the bytes viewed
  const q = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    payloadLen: 4,
    ext: [{ type: "dst", options: new Uint8Array(30) }],
    proto: 253,
  });
  const it2 = new Ipv6Header().reset(q, 0, q.length).extHeaders(new Ipv6ExtIter());
  assert.equal(it2.next(), false);
  assert.equal(it2.status, WireStatus.BadExtHeader);
  const f = buildPacket({
    src: "fd00::1",
    dst: "fd00::2",
    ext: [{ type: "fragment", offset: 8, more: true }, { type: "dst" }],
    udp: {},
  });
  const it3 = new Ipv6Header().reset(f, 0, f.length).extHeaders(new Ipv6ExtIter());
  assert.equal(it3.next(), true);
  assert.equal(it3.nonFirstFragment, true);
  assert.equal(it3.next(), false);
  assert.equal(it3.upperProto, IPPROTO_DSTOPTS);
  assert.equal(it3.upperOff, 48);
});
