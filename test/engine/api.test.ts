/** The embedding API (createGateway): objects or replay-style texts in, packets and kernel formats out. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createGateway, formatIpPacket, InputError, PacketBatch } from "../../src/index.js";
import { buildPacket } from "../../src/wire/build.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const MASQ =
  "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o wan0 -j MASQUERADE\nCOMMIT\n";

test("objects in: a masqueraded UDP exchange, the table and the counters", () => {
  const gw = createGateway({
    rules: MASQ,
    interfaces: [
      { name: "lan0", addresses: ["192.168.1.1/24", "fd00:1::1/64"] },
      { name: "wan0", addresses: ["203.0.113.7/24"] },
    ],
    routes: [{ dst: "default", via: "203.0.113.1", dev: "wan0" }],
  });
  const q = buildPacket({
    src: "192.168.1.50",
    dst: "198.51.100.53",
    ttl: 64,
    udp: { sport: 5353, dport: 53, payload: "query" },
  });
  const out = gw.receive("lan0", q, 100);
  assert.equal(out.length, 1);
  assert.equal(out[0].iface, "wan0");
  assert.equal(formatIpPacket(out[0].packet), "IP 203.0.113.7.5353 > 198.51.100.53.53: UDP, length 5");
  assert.equal(out[0].packet[8], 63, "TTL decremented");
  const a = buildPacket({
    src: "198.51.100.53",
    dst: "203.0.113.7",
    udp: { sport: 53, dport: 5353, payload: "answer" },
  });
  const back = gw.receive("wan0", a, 100.5);
  assert.equal(formatIpPacket(back[0].packet), "IP 198.51.100.53.53 > 192.168.1.50.5353: UDP, length 6");
  assert.deepEqual(gw.conntrack(101), [
    "udp      17 29 src=192.168.1.50 dst=198.51.100.53 sport=5353 dport=53 src=198.51.100.53 dst=203.0.113.7 sport=53 dport=5353 mark=0 use=1",
  ]);
  assert.match(gw.counters(4), /^\[1:33\] -A POSTROUTING -o wan0 -j MASQUERADE$/m);
  assert.match(gw.list("nat"), /^Chain POSTROUTING \(policy ACCEPT 0 packets, 0 bytes\)$/m);
  assert.match(gw.conntrackStats(), /^cpu=0\s+found=\d+ invalid=0 insert=\d+ insert_failed=0 /);
});

test("texts in (ip -j addr / route, sysctl), streaming output, events and traces", () => {
  const fx = join(REPO, "test/fixtures/kernel/masq-tcp");
  const gw = createGateway({
    rules: readFileSync(join(fx, "rules.v4"), "utf8"),
    interfaces: readFileSync(join(fx, "addr.json"), "utf8"),
    routes: readFileSync(join(fx, "route.json"), "utf8"),
    routes6: readFileSync(join(fx, "route6.json"), "utf8"),
    sysctl: readFileSync(join(fx, "sysctl.txt"), "utf8"),
  });
  const events: string[] = [];
  gw.onEvent((l) => events.push(l));
  const traces: string[] = [];
  gw.trace((_t, text) => traces.push(text));
  const sent: string[] = [];
  gw.onTransmit = (iface, _buf, _off, len) => sent.push(`${iface} ${len}`);
  const syn = buildPacket({
    src: "10.77.1.2",
    dst: "10.77.2.2",
    tcp: { sport: 40001, dport: 8000, flags: "S", seq: 7, win: 64240 },
  });
  gw.receiveStreaming(gw.ifindex("lan0"), syn, 0, syn.length, 10);
  assert.deepEqual(sent, ["wan0 40"]);
  assert.equal(events.length, 1);
  assert.match(
    events[0],
    /^ {4}\[NEW\] tcp {6}6 120 SYN_SENT src=10\.77\.1\.2 dst=10\.77\.2\.2 sport=40001 dport=8000 \[UNREPLIED\] src=10\.77\.2\.2 dst=10\.77\.2\.1 sport=8000 dport=40001$/,
  );
  assert.equal(traces.length, 1);
  assert.match(traces[0], /nat POSTROUTING rule 1 .*-j MASQUERADE/);
});

test("sysctl as key/value pairs keeps forwarding on; bad options are InputErrors", () => {
  const gw = createGateway({
    interfaces: [
      { name: "a", addresses: ["10.0.0.1/24"] },
      { name: "b", addresses: ["10.0.1.1/24"] },
    ],
    sysctl: { "net.netfilter.nf_conntrack_udp_timeout": 60 },
  });
  const p = buildPacket({ src: "10.0.0.2", dst: "10.0.1.2", udp: { sport: 1, dport: 2 } });
  assert.equal(gw.receive("a", p, 1)[0].iface, "b");
  assert.throws(
    () => gw.receive("zzz", p, 1),
    (e: unknown) => e instanceof InputError && /no interface zzz \(has lo, a, b\)/.test(e.message),
  );
  assert.throws(
    () => createGateway({ interfaces: [{ name: "a", addresses: ["10.0.0.300/24"] }] }),
    /interfaces\[0\]\.addresses\[0\]: not an address/,
  );
  assert.throws(() => createGateway({ interfaces: [{ name: "a", addresses: ["10.0.0.1/33"] }] }), /bad prefix length/);
  assert.throws(() => createGateway({ interfaces: [{ name: "a" }, { name: "a" }] }), /interface a given twice/);
  assert.throws(
    () => createGateway({ interfaces: [], routes: [{ dst: "10.0.0.0/8", via: "fd00::1" }] }),
    /routes\[0\]\.via: not an IPv4 address/,
  );
  assert.throws(
    () => createGateway({ interfaces: [], rules: "*filter\n-A NOPE -j ACCEPT\nCOMMIT\n" }),
    /^InputError|RulesetError/,
  );
});

test("the README's runnable example (examples/embed.mjs) runs against the built package", {
  skip: !existsSync(join(REPO, "dist/index.js")) && "not built (npm run build)",
}, () => {
  const r = spawnSync(process.execPath, [join(REPO, "examples/embed.mjs")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /-> wan0: IP 203\.0\.113\.7\.51000 > 198\.51\.100\.80\.443: Flags \[S\]/);
  assert.match(r.stdout, /unsolicited SYN to port 22\n {2}\(dropped\)/);
  assert.match(r.stdout, /tcp {6}6 \d+ SYN_RECV src=192\.168\.1\.50/);
});

test("a reassembly queue that times out draws ICMPv6 time exceeded (reassembly); IPv4 only for our own address", async () => {
  const { fragment } = await import("../../src/wire/build.js");
  const gw = createGateway({
    rules: MASQ,
    rules6: MASQ,
    interfaces: [
      { name: "lan0", addresses: ["192.168.1.1/24", "fd00:1::1/64"] },
      { name: "wan0", addresses: ["203.0.113.7/24", "2001:db8::7/64"] },
    ],
    routes: [
      { dst: "default", via: "203.0.113.1", dev: "wan0" },
      { dst: "default6", via: "2001:db8::1", dev: "wan0" },
    ],
  });
  const out: string[] = [];
  gw.onTransmit = (iface, buf, off, len) => out.push(`${iface} ${formatIpPacket(buf.slice(off, off + len))}`);
  const big6 = buildPacket({
    src: "fd00:1::5",
    dst: "2001:db8:9::9",
    udp: { sport: 1000, dport: 2000, payload: new Uint8Array(3000) },
  });
  gw.receive("lan0", fragment(big6, 1280, { id: 77 })[0], 10);
  assert.deepEqual(out, [], "held for reassembly");
  gw.instance.gateway.advance(69.9);
  assert.deepEqual(out, [], "the IPv6 queue lives 60 s");
  gw.instance.gateway.advance(70.1);
  assert.equal(out.length, 1);
  assert.match(out[0], /^lan0 IP6 fd00:1::1 > fd00:1::5: ICMP6, time exceeded reassembly time exceeded, length 1240$/);
  out.length = 0;
  const big4 = buildPacket({
    src: "192.168.1.5",
    dst: "192.168.1.1",
    udp: { sport: 1000, dport: 2000, payload: new Uint8Array(3000) },
  });
  const other4 = buildPacket({
    src: "192.168.1.5",
    dst: "198.51.100.9",
    udp: { sport: 1000, dport: 2000, payload: new Uint8Array(3000) },
  });
  gw.receive("lan0", fragment(big4, 1500, { id: 5 })[0], 100);
  gw.receive("lan0", fragment(other4, 1500, { id: 6 })[0], 100);
  gw.instance.gateway.advance(131);
  assert.equal(out.length, 1, out.join("\n"));
  assert.match(out[0], /^lan0 IP 192\.168\.1\.1 > 192\.168\.1\.5: ICMP ip reassembly time exceeded/);
});

test("connections() with NAT bindings, and queryNat: what a new flow would be mapped to", () => {
  const gw = createGateway({
    rules: MASQ,
    interfaces: [
      { name: "lan0", addresses: ["192.168.1.1/24"] },
      { name: "wan0", addresses: ["203.0.113.7/24"] },
    ],
    routes: [{ dst: "default", via: "203.0.113.1", dev: "wan0" }],
  });
  gw.receive("lan0", buildPacket({ src: "192.168.1.50", dst: "198.51.100.53", udp: { sport: 5353, dport: 53 } }), 100);
  const [c] = gw.connections();
  assert.equal(c.proto, "udp");
  assert.deepEqual(c.original, { src: "192.168.1.50", dst: "198.51.100.53", sport: 5353, dport: 53 });
  assert.deepEqual(c.reply, { src: "198.51.100.53", dst: "203.0.113.7", sport: 53, dport: 5353 });
  assert.deepEqual(c.snat, { addr: "203.0.113.7", port: 5353 });
  assert.equal(c.dnat, null);
  assert.equal(c.unreplied, true);
  assert.equal(c.timeout, 30);
  assert.match(c.line, /^udp {6}17 30 src=192\.168\.1\.50 /);
  // a second host using the same source port to the same server: the port is taken, another is chosen
  const clash = gw.queryNat(
    { proto: "udp", src: "192.168.1.51", sport: 5353, dst: "198.51.100.53", dport: 53 },
    { target: "SNAT", to: "203.0.113.7" },
  );
  assert.equal(clash.src, "203.0.113.7");
  assert.notEqual(clash.sport, 5353);
  assert.ok(clash.sport >= 1024 && clash.sport <= 65535, "same band as the original port");
  const free = gw.queryNat(
    { proto: "udp", src: "192.168.1.51", sport: 5353, dst: "198.51.100.54", dport: 53 },
    { target: "SNAT", to: "203.0.113.7" },
  );
  assert.equal(free.sport, 5353, "kept when free");
  const dnat = gw.queryNat(
    { proto: "tcp", src: "198.51.100.9", sport: 40000, dst: "203.0.113.7", dport: 8080 },
    { target: "DNAT", to: "192.168.1.10:80" },
  );
  assert.deepEqual(dnat, { src: "198.51.100.9", dst: "192.168.1.10", sport: 40000, dport: 80 });
  assert.equal(gw.connections().length, 1, "queries change nothing");
  assert.throws(
    () => gw.queryNat({ proto: "udp", src: "1.2.3.4", dst: "5.6.7.8" }, { target: "SNAT", to: "300.1.1.1" }),
    /queryNat/,
  );
});

test("ipsets: rules name sets from `ipset save` text; -j SET fills them; a missing set refuses the rules", () => {
  const rules =
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" +
    "-A FORWARD -m set --match-set blocked src -j DROP\n" +
    "-A FORWARD -p udp --dport 9 -j SET --add-set blocked src\nCOMMIT\n";
  const interfaces = [
    { name: "a", addresses: ["10.0.0.1/24"] },
    { name: "b", addresses: ["10.0.1.1/24"] },
  ];
  const gw = createGateway({
    rules,
    ipsets: "create blocked hash:net family inet hashsize 1024 maxelem 65536\nadd blocked 10.0.0.128/25\n",
    interfaces,
  });
  const udp = (src: string, dport: number) => buildPacket({ src, dst: "10.0.1.2", udp: { sport: 1, dport } });
  assert.equal(gw.receive("a", udp("10.0.0.200", 53), 1).length, 0);
  assert.equal(gw.receive("a", udp("10.0.0.2", 53), 1).length, 1);
  // a packet to port 9 puts its source in the set: the next one is dropped
  assert.equal(gw.receive("a", udp("10.0.0.3", 9), 2).length, 1);
  assert.equal(gw.receive("a", udp("10.0.0.3", 53), 3).length, 0);
  assert.throws(() => createGateway({ rules, interfaces }), /Set blocked doesn't exist/);
  // a type ctnat does not implement is refused where a rule uses it; a bad element where it is
  assert.throws(
    () => createGateway({ rules, ipsets: "create blocked hash:foo\n", interfaces }),
    (e: unknown) => e instanceof InputError && /^rules:5:\d+: set 'blocked' has type hash:foo/.test(e.message),
  );
  assert.throws(
    () => createGateway({ rules, ipsets: "create blocked hash:ip\nadd blocked 1.2.3\n", interfaces }),
    (e: unknown) => e instanceof InputError && /^ipsets:2:13: bad address '1\.2\.3'/.test(e.message),
  );
});

test("receiveBatch sends exactly what receiveStreaming sends, packet for packet, and leaves the same table", () => {
  const make = () =>
    createGateway({
      rules: MASQ,
      interfaces: [
        { name: "lan0", addresses: ["192.168.1.1/24"] },
        { name: "wan0", addresses: ["203.0.113.7/24"] },
      ],
      routes: [{ dst: "default", via: "203.0.113.1", dev: "wan0" }],
    });
  const one = make();
  const many = make();
  const outOne: string[] = [];
  const outMany: string[] = [];
  one.onTransmit = (iface, buf, off, len) => outOne.push(`${iface} ${formatIpPacket(buf.slice(off, off + len))}`);
  many.onTransmit = (iface, buf, off, len) => outMany.push(`${iface} ${formatIpPacket(buf.slice(off, off + len))}`);
  // 100 flows out, their answers back, in one arena; batches of 7 (groups cross batch boundaries)
  const pkts: { iface: string; p: Uint8Array }[] = [];
  for (let i = 0; i < 100; i++) {
    pkts.push({
      iface: "lan0",
      p: buildPacket({ src: `192.168.1.${10 + (i % 50)}`, dst: "198.51.100.53", udp: { sport: 5000 + i, dport: 53 } }),
    });
  }
  for (let i = 0; i < 100; i++) {
    pkts.push({
      iface: "wan0",
      p: buildPacket({ src: "198.51.100.53", dst: "203.0.113.7", udp: { sport: 53, dport: 5000 + i } }),
    });
  }
  pkts.push({ iface: "lan0", p: new Uint8Array([0x45, 0, 0]) });
  const arena = new Uint8Array(pkts.length * 64);
  const arena2 = new Uint8Array(pkts.length * 64);
  pkts.forEach((x, k) => {
    arena.set(x.p, k * 64);
    arena2.set(x.p, k * 64);
  });
  const batch = new PacketBatch(7);
  pkts.forEach((x, k) => {
    one.receiveStreaming(one.ifindex(x.iface), arena, k * 64, x.p.length, 100 + k * 0.001);
    batch.add(many.ifindex(x.iface), arena2, k * 64, x.p.length, 100 + k * 0.001);
    if (batch.count === batch.capacity) many.receiveBatch(batch);
  });
  many.receiveBatch(batch);
  assert.equal(batch.count, 0);
  assert.equal(outOne.length, 200);
  assert.deepEqual(outMany, outOne);
  assert.deepEqual(many.conntrack(101), one.conntrack(101));
  assert.equal(many.counters(4), one.counters(4));
});

test("deleteConnection by either tuple and flushConnections with a filter, with [DESTROY] events", () => {
  const gw = createGateway({
    rules: MASQ,
    interfaces: [
      { name: "lan0", addresses: ["192.168.1.1/24"] },
      { name: "wan0", addresses: ["203.0.113.7/24"] },
    ],
    routes: [{ dst: "default", via: "203.0.113.1", dev: "wan0" }],
  });
  const events: string[] = [];
  gw.onEvent((l) => events.push(l));
  for (let i = 0; i < 4; i++) {
    const q = buildPacket({ src: `192.168.1.${50 + i}`, dst: "198.51.100.53", udp: { sport: 5000 + i, dport: 53 } });
    gw.receive("lan0", q, 100);
  }
  assert.equal(gw.conntrack().length, 4);
  // the reply tuple (as the server sees the masqueraded flow) names the connection too
  assert.equal(
    gw.deleteConnection({ proto: "udp", src: "198.51.100.53", sport: 53, dst: "203.0.113.7", dport: 5000 }),
    true,
  );
  assert.equal(
    gw.deleteConnection({ proto: 17, src: "192.168.1.51", sport: 5001, dst: "198.51.100.53", dport: 53 }),
    true,
  );
  assert.equal(
    gw.deleteConnection({ proto: "udp", src: "192.168.1.51", sport: 5001, dst: "198.51.100.53", dport: 53 }),
    false,
  );
  assert.equal(gw.conntrack().length, 2);
  assert.equal(
    gw.flushConnections((c) => c.original.src === "192.168.1.52"),
    1,
  );
  assert.deepEqual(
    gw.connections().map((c) => c.original.src),
    ["192.168.1.53"],
  );
  assert.equal(events.filter((e) => e.startsWith("[DESTROY]")).length, 3);
  assert.equal(gw.flushConnections(), 1);
  assert.deepEqual(gw.conntrack(), []);
  assert.throws(
    () => gw.deleteConnection({ proto: "nope", src: "1.2.3.4", dst: "1.2.3.5" }),
    /deleteConnection: unknown protocol nope/,
  );
});

test("an IPv6 atomic fragment (offset 0, no M flag) is reassembled by conntrack's defrag and forwarded without its fragment header, as Linux does", () => {
  const gw = createGateway({
    rules6: "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m conntrack --ctstate INVALID -j DROP\nCOMMIT\n",
    interfaces: [
      { name: "lan0", addresses: ["fd77:1::1/64"] },
      { name: "wan0", addresses: ["fd77:2::1/64"] },
    ],
  });
  const whole = buildPacket({
    src: "fd77:1::2",
    dst: "fd77:2::2",
    ttl: 64,
    udp: { sport: 4000, dport: 9000, payload: "atomic" },
  });
  // the same datagram with a fragment header (next header UDP, offset 0, M 0, id 0x301f) after the IPv6 header
  const atomic = new Uint8Array(whole.length + 8);
  atomic.set(whole.subarray(0, 40), 0);
  atomic.set([17, 0, 0, 0, 0, 0, 0x30, 0x1f], 40);
  atomic.set(whole.subarray(40), 48);
  atomic[6] = 44;
  const plen = whole.length - 40 + 8;
  atomic[4] = plen >> 8;
  atomic[5] = plen & 255;
  const out = gw.receive("lan0", atomic, 10);
  assert.equal(out.length, 1);
  assert.equal(out[0].packet.length, whole.length, "sent without the fragment header");
  assert.equal(out[0].packet[6], 17);
  assert.equal(formatIpPacket(out[0].packet), "IP6 fd77:1::2.4000 > fd77:2::2.9000: UDP, length 6");
  // the FORWARD policy counted the reassembled packet's length
  assert.match(gw.counters(6), new RegExp(`:FORWARD ACCEPT \\[1:${whole.length}\\]`));
});
