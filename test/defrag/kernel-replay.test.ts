/**
 * Replays what a Linux 6.18 gateway (conntrack + MASQUERADE, lan MTU 9000, wan MTU 1500) received in
 * test/fixtures/defrag/lan-in.pcap through Reassembler + Fragmenter, with the gateway's own steps
 * simulated in between (TTL / hop limit decrement, source NAT of reassembled packets), and compares
 * the result byte for byte with what the kernel sent (wan-out.pcap), IPv6 fragment identifications
 * excepted (Linux draws them at random). Also checks the ICMP errors the kernel generated
 * (lan-out.pcap): one "fragmentation needed" for v4-df-too-big, two IPv6 "packet too big", and one
 * ICMPv6 "time exceeded (reassembly)" quoting the first fragment of v6-first-only. The scenarios are in
 * test/defrag/oracle/send.py; regenerate with test/defrag/oracle/record.sh.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  DefragUser,
  DefragVerdict,
  type ExpiredFragment,
  type FragInfo,
  Fragmenter,
  FragOutput,
  ipv4ExceedsMtu,
  ipv6PktTooBig,
  Reassembler,
} from "../../src/defrag/index.js";
import {
  Ipv4Header,
  Ipv6Header,
  LinkInfo,
  PacketInfo,
  parseAddr,
  parseLink,
  parsePacket,
  UdpHeader,
  verifyL4Checksum,
  WireStatus,
} from "../../src/wire/index.js";
import { readPcapMini } from "../wire/pcap-mini.js";

const here = dirname(fileURLToPath(import.meta.url));
const fx = (n: string) => readPcapMini(readFileSync(join(here, "../fixtures/defrag", n)))!;

const WAN_MTU = 1500;
const NAT4 = parseAddr("10.88.2.1");
const NAT6 = parseAddr("fd88:2::1");

interface Out {
  bytes: Uint8Array;
}

function l3(frame: Uint8Array): Uint8Array {
  const li = new LinkInfo();
  parseLink(li, 1, frame, 0, frame.length);
  return frame.subarray(li.l3Off, li.l3Off + li.l3Len);
}

function runGateway(): { wan: Out[]; icmp: string[]; expired: ExpiredFragment[] } {
  const lanIn = fx("lan-in.pcap");
  const reasm = new Reassembler({ ipv4TimeSec: 3, ipv6TimeSec: 3 });
  const fr = new Fragmenter();
  const pi = new PacketInfo();
  const wan: Out[] = [];
  const icmp: string[] = [];
  const expired: ExpiredFragment[] = [];
  const onExpire = (e: ExpiredFragment) => expired.push(e);
  const sink = (b: Uint8Array, o: number, n: number) => wan.push({ bytes: b.slice(o, o + n) });
  let lastTs = 0;
  for (const f of lanIn.frames) {
    const ts = f.ts;
    lastTs = ts;
    reasm.expire(ts, onExpire);
    const ip = l3(f.data).slice();
    if (parsePacket(pi, ip, 0, ip.length) !== WireStatus.Ok) continue;
    if (pi.family === 6 && pi.proto === 58) continue; // neighbour discovery / MLD of the namespaces
    let pkt = ip;
    let info: FragInfo | null = null;
    const verdict =
      pi.family === 4
        ? reasm.defragIpv4(pi, ts, DefragUser.ConntrackIn, 2, onExpire)
        : reasm.defragIpv6(pi, ts, DefragUser.ConntrackIn, 2, onExpire);
    if (verdict === DefragVerdict.Stolen || verdict === DefragVerdict.Drop) continue;
    if (verdict === DefragVerdict.Reassembled) {
      pkt = reasm.reassembled.slice(0, reasm.reassembledLen);
      info = reasm.info;
    }
    parsePacket(pi, pkt, 0, pkt.length);
    // conntrack: a fragment that got through unreassembled fails the UDP checksum check -> INVALID, no NAT
    const tracked = !pi.isFragment && verifyL4Checksum(pi) === WireStatus.Ok;
    const ignoreDf = info !== null;
    if (pi.family === 4) {
      if (ipv4ExceedsMtu(pkt, 0, pkt.length, WAN_MTU, info, ignoreDf)) {
        icmp.push(`frag-needed mtu ${WAN_MTU} quoting id ${pi.ipId} len ${pi.len}`);
        continue;
      }
      const h = new Ipv4Header().reset(pkt, 0, pkt.length);
      h.decrementTtlWithChecksumUpdate();
      if (tracked) {
        const u = new UdpHeader().reset(pkt, pi.l4Off, pi.l4Len);
        u.adjustChecksumForAddrChangeV4(h.srcAddr, NAT4[0]);
        h.setSrcAddrWithChecksumUpdate(NAT4[0]);
      }
      const r = fr.ipv4Output(pkt, 0, pkt.length, WAN_MTU, info, ignoreDf, sink);
      if (r === FragOutput.NeedFrag) icmp.push(`frag-needed mtu ${fr.needMtu}`);
    } else {
      if (ipv6PktTooBig(pkt.length, WAN_MTU, info, ignoreDf)) {
        icmp.push(`packet-too-big mtu ${WAN_MTU}`);
        continue;
      }
      const h = new Ipv6Header().reset(pkt, 0, pkt.length);
      h.setHopLimit(h.hopLimit - 1);
      if (tracked) {
        const u = new UdpHeader().reset(pkt, pi.l4Off, pi.l4Len);
        u.adjustChecksumForAddrChange(Int32Array.from(pi.src), NAT6, 4);
        h.setSrcAddr(NAT6);
      }
      const r = fr.ipv6Output(pkt, 0, pkt.length, WAN_MTU, info, ignoreDf, 0x01020304, sink);
      if (r === FragOutput.NeedFrag) icmp.push(`packet-too-big mtu ${fr.needMtu}`);
    }
  }
  reasm.expire(lastTs + 10, onExpire);
  return { wan, icmp, expired };
}

test("forwarded fragments leave the gateway exactly as Linux sends them", () => {
  const { wan } = runGateway();
  const expected = fx("wan-out.pcap")
    .frames.map((f) => l3(f.data))
    .filter((b) => !(b[0] >> 4 === 6 && b[6] === 0)); // the namespace's own MLD report
  assert.equal(wan.length, expected.length);
  assert.ok(expected.length >= 60, `only ${expected.length} packets`);
  for (let i = 0; i < expected.length; i++) {
    const got = wan[i].bytes;
    const want = expected[i].slice();
    if (want[0] >> 4 === 6) {
      // IPv6 fragment identification: random in Linux; compare with ours substituted
      const pg = new PacketInfo();
      parsePacket(pg, want, 0, want.length);
      if (pg.fragHdrOff >= 0) want.set(got.subarray(pg.fragHdrOff + 4, pg.fragHdrOff + 8), pg.fragHdrOff + 4);
    }
    assert.deepEqual(Buffer.from(got).toString("hex"), Buffer.from(want).toString("hex"), `packet ${i}`);
  }
});

test("ICMP errors the gateway made and the expiry of an IPv6 queue match the kernel's", () => {
  const { icmp, expired } = runGateway();
  assert.deepEqual(icmp, [
    "frag-needed mtu 1500 quoting id 105 len 4020",
    "packet-too-big mtu 1500",
    "packet-too-big mtu 1500",
  ]);
  const lanOut = fx("lan-out.pcap").frames.map((f) => l3(f.data));
  assert.equal(lanOut.length, 4);
  // the kernel's ICMPv6 time exceeded quotes the first fragment of the expired queue, as we report it
  const te = lanOut[3];
  assert.equal(te[40], 3); // time exceeded
  assert.equal(te[41], 1); // fragment reassembly time exceeded
  const v6first = expired.filter((e) => e.family === 6 && e.firstFragment.length > 0);
  const quoted = te.subarray(48);
  const match = v6first.find((e) => Buffer.from(e.firstFragment).equals(Buffer.from(quoted)));
  assert.ok(match, "expired first fragment equals the quote");
  // IPv4 queues expire silently for a forwarding gateway (the kernel sent no ICMP for them)
  assert.ok(expired.some((e) => e.family === 4 && e.firstFragment.length > 0));
});
