import assert from "node:assert/strict";
import { test } from "node:test";
import { Skb } from "../core/skb.js";
import { buildPacket } from "../wire/build.js";
import { verifyIpv4HeaderChecksum } from "../wire/checksum.js";
import { parsePacket } from "../wire/parse.js";
import { decrementTtl } from "./gateway.js";

/** Linux ip_decrease_ttl as it runs on little-endian x86: the checksum word is read in host order. */
function linuxDecreaseTtl(b: Uint8Array): void {
  let check = b[10] | (b[11] << 8); // host (LE) view of the big-endian field
  check += 0x0001; // htons(0x0100) on LE
  const r = (check + (check >= 0xffff ? 1 : 0)) & 0xffff;
  b[10] = r & 0xff;
  b[11] = r >>> 8;
  b[8]--;
}

test("TTL decrement updates the header checksum exactly as Linux does, for every checksum value", () => {
  const pkt = buildPacket({
    family: 4,
    src: "10.0.0.1",
    dst: "10.0.0.2",
    ttl: 64,
    udp: { sport: 1, dport: 2, payload: "x" },
  });
  const skb = new Skb();
  for (let c = 0; c <= 0xffff; c++) {
    const a = pkt.slice();
    a[10] = c >>> 8;
    a[11] = c & 0xff;
    const b = a.slice();
    parsePacket(skb.pi, a, 0, a.length);
    decrementTtl(skb);
    linuxDecreaseTtl(b);
    if (a[10] !== b[10] || a[11] !== b[11])
      assert.fail(`checksum 0x${c.toString(16)}: ctnat ${a[10]},${a[11]} Linux ${b[10]},${b[11]}`);
  }
  // and a correct checksum stays correct
  const good = pkt.slice();
  parsePacket(skb.pi, good, 0, good.length);
  decrementTtl(skb);
  assert.equal(good[8], 63);
  assert.equal(skb.pi.ttl, 63);
  parsePacket(skb.pi, good, 0, good.length);
  assert.ok(verifyIpv4HeaderChecksum(skb.pi));
});

test("hop limit decrement (IPv6) touches only the hop limit", () => {
  const pkt = buildPacket({ family: 6, src: "fd00::1", dst: "fd00::2", ttl: 5, udp: { sport: 1, dport: 2 } });
  const skb = new Skb();
  const before = pkt.slice();
  parsePacket(skb.pi, pkt, 0, pkt.length);
  decrementTtl(skb);
  assert.equal(pkt[7], 4);
  pkt[7] = 5;
  assert.deepEqual(pkt, before);
});

test("martian IPv4 sources and destinations (ip_route_input_slow with rp_filter off)", async () => {
  const { Fib } = await import("./fib.js");
  const { parseIpAddrJson } = await import("./netconf.js");
  const { martian4 } = await import("./gateway.js");
  const fib = new Fib(
    parseIpAddrJson(
      JSON.stringify([
        {
          ifindex: 2,
          ifname: "lan0",
          addr_info: [{ family: "inet", local: "10.0.0.1", prefixlen: 24, broadcast: "10.0.0.255" }],
        },
      ]),
    ),
    [],
    [],
  );
  const a = (s: string): number => s.split(".").reduce((x, p) => (x << 8) | Number(p), 0) | 0;
  const cases: [string, string, boolean][] = [
    ["10.0.0.5", "8.8.8.8", false],
    ["224.0.0.5", "8.8.8.8", true],
    ["255.255.255.255", "8.8.8.8", true],
    ["0.0.0.0", "255.255.255.255", false],
    ["0.0.0.0", "8.8.8.8", true],
    ["10.0.0.5", "0.1.2.3", true],
    ["127.0.0.1", "8.8.8.8", true],
    ["10.0.0.5", "127.0.0.1", true],
    ["10.0.0.1", "8.8.8.8", true],
    ["240.0.0.1", "8.8.8.8", false],
  ];
  for (const [src, dst, want] of cases) assert.equal(martian4(fib, a(src), a(dst)), want, `${src} -> ${dst}`);
});
