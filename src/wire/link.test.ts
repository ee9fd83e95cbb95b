import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readPcapMini } from "../../test/wire/pcap-mini.js";
import {
  buildPacket,
  EthernetFrame,
  formatAddr,
  formatMac,
  formatPacket,
  isSupportedLinkType,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  LinkInfo,
  LinkPayload,
  LinkPktType,
  PacketInfo,
  parseLink,
  parseMac,
  parsePacket,
  verifyIpv4HeaderChecksum,
  verifyL4Checksum,
  WireStatus,
} from "./index.js";

const here = dirname(fileURLToPath(import.meta.url));
const ip4 = buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", udp: { sport: 1, dport: 2, payload: "x" } });
const ip6 = buildPacket({ src: "fd00::1", dst: "fd00::2", udp: { sport: 1, dport: 2, payload: "x" } });

function cat(...parts: ArrayLike<number>[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const MAC_A = [0x02, 0, 0, 0, 0, 0xaa];
const MAC_B = [0x02, 0, 0, 0, 0, 0xbb];

test("Ethernet view: deconstruct, tags, truncation", () => {
  const f = cat(MAC_B, MAC_A, [0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x20, 0x0a, 0x08, 0x00], ip4);
  const e = new EthernetFrame().reset(f, 0, f.length);
  assert.equal(e.check(), WireStatus.Ok);
  assert.equal(e.tagCount, 2);
  assert.equal(e.vlanId(0), 100);
  assert.equal(e.vlanId(1), 10);
  assert.equal(e.tagTci(1) >> 13, 1);
  assert.equal(e.etherType, 0x0800);
  assert.equal(e.payloadOff, 22);
  assert.equal(formatMac(f, e.srcMacOff), "02:00:00:00:00:aa");
  assert.deepEqual(parseMac("02:00:00:00:00:aa"), Uint8Array.from(MAC_A));
  assert.equal(e.isMulticast, false);
  assert.equal(new EthernetFrame().reset(f, 0, 13).check(), WireStatus.Truncated);
  assert.equal(new EthernetFrame().reset(f, 0, 17).check(), WireStatus.Truncated);
  e.reset(f, 0, f.length).check();
  e.setSrcMac(Uint8Array.from(MAC_B));
  assert.equal(formatMac(f, 6), "02:00:00:00:00:bb");
});

test("link types to IP: Ethernet (tags, pkttype), raw, SLL, SLL2, loopback", () => {
  const li = new LinkInfo();
  const cases: {
    name: string;
    lt: number;
    frame: Uint8Array;
    fam: number;
    off: number;
    pkt?: number;
    vlans?: number;
    srcMac?: number;
  }[] = [
    {
      name: "ethernet",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [8, 0], ip4),
      fam: 4,
      off: 14,
      pkt: LinkPktType.Host,
      srcMac: 6,
    },
    {
      name: "ethernet v6 multicast",
      lt: LINKTYPE_ETHERNET,
      frame: cat([0x33, 0x33, 0, 0, 0, 1], MAC_A, [0x86, 0xdd], ip6),
      fam: 6,
      off: 14,
      pkt: LinkPktType.Multicast,
    },
    {
      name: "ethernet broadcast",
      lt: LINKTYPE_ETHERNET,
      frame: cat([255, 255, 255, 255, 255, 255], MAC_A, [8, 0], ip4),
      fam: 4,
      off: 14,
      pkt: LinkPktType.Broadcast,
    },
    {
      name: "802.1Q",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [0x81, 0, 0, 5, 8, 0], ip4),
      fam: 4,
      off: 18,
      vlans: 1,
    },
    {
      name: "QinQ",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [0x88, 0xa8, 0, 7, 0x81, 0, 0, 5, 0x86, 0xdd], ip6),
      fam: 6,
      off: 22,
      vlans: 2,
    },
    { name: "raw v4", lt: LINKTYPE_RAW, frame: ip4, fam: 4, off: 0 },
    { name: "raw v6", lt: LINKTYPE_RAW, frame: ip6, fam: 6, off: 0 },
    { name: "DLT_RAW 12", lt: 12, frame: ip6, fam: 6, off: 0 },
    { name: "DLT_RAW 14", lt: 14, frame: ip4, fam: 4, off: 0 },
    { name: "ipv4", lt: LINKTYPE_IPV4, frame: ip4, fam: 4, off: 0 },
    { name: "ipv6", lt: LINKTYPE_IPV6, frame: ip6, fam: 6, off: 0 },
    {
      name: "SLL outgoing",
      lt: LINKTYPE_LINUX_SLL,
      frame: cat([0, 4, 0, 1, 0, 6], MAC_A, [0, 0, 8, 0], ip4),
      fam: 4,
      off: 16,
      pkt: LinkPktType.Outgoing,
      srcMac: 6,
    },
    {
      name: "SLL otherhost",
      lt: LINKTYPE_LINUX_SLL,
      frame: cat([0, 3, 0, 1, 0, 6], MAC_A, [0, 0, 0x86, 0xdd], ip6),
      fam: 6,
      off: 16,
      pkt: LinkPktType.OtherHost,
    },
    {
      name: "SLL vlan",
      lt: LINKTYPE_LINUX_SLL,
      frame: cat([0, 0, 0, 1, 0, 6], MAC_A, [0, 0, 0x81, 0, 0, 9, 8, 0], ip4),
      fam: 4,
      off: 20,
      vlans: 1,
    },
    {
      name: "SLL2",
      lt: LINKTYPE_LINUX_SLL2,
      frame: cat([8, 0, 0, 0, 0, 0, 0, 3, 0, 1, 1, 6], MAC_A, [0, 0], ip4),
      fam: 4,
      off: 20,
      pkt: LinkPktType.Broadcast,
      srcMac: 12,
    },
    { name: "null LE", lt: LINKTYPE_NULL, frame: cat([2, 0, 0, 0], ip4), fam: 4, off: 4 },
    { name: "null BE", lt: LINKTYPE_NULL, frame: cat([0, 0, 0, 2], ip4), fam: 4, off: 4 },
    { name: "null AF_INET6 24", lt: LINKTYPE_NULL, frame: cat([24, 0, 0, 0], ip6), fam: 6, off: 4 },
    { name: "null AF_INET6 28", lt: LINKTYPE_NULL, frame: cat([0, 0, 0, 28], ip6), fam: 6, off: 4 },
    { name: "null AF_INET6 30", lt: LINKTYPE_NULL, frame: cat([30, 0, 0, 0], ip6), fam: 6, off: 4 },
    { name: "null AF_INET6 10", lt: LINKTYPE_NULL, frame: cat([10, 0, 0, 0], ip6), fam: 6, off: 4 },
  ];
  for (const tc of cases) {
    assert.equal(isSupportedLinkType(tc.lt), true, tc.name);
    assert.equal(parseLink(li, tc.lt, tc.frame, 0, tc.frame.length), WireStatus.Ok, tc.name);
    assert.equal(li.family, tc.fam, tc.name);
    assert.equal(li.l3Off, tc.off, tc.name);
    assert.equal(li.l3Len, tc.frame.length - tc.off, tc.name);
    if (tc.pkt !== undefined) assert.equal(li.pktType, tc.pkt, tc.name);
    if (tc.vlans !== undefined) assert.equal(li.vlanCount, tc.vlans, tc.name);
    if (tc.srcMac !== undefined) assert.equal(li.srcMacOff, tc.srcMac, tc.name);
  }
  // host vs otherhost when the interface MAC is known
  const f = cat(MAC_B, MAC_A, [8, 0], ip4);
  parseLink(li, LINKTYPE_ETHERNET, f, 0, f.length, Uint8Array.from(MAC_B));
  assert.equal(li.pktType, LinkPktType.Host);
  parseLink(li, LINKTYPE_ETHERNET, f, 0, f.length, Uint8Array.from(MAC_A));
  assert.equal(li.pktType, LinkPktType.OtherHost);
});

test("non-IP frames are classified, never thrown", () => {
  const li = new LinkInfo();
  const cases: { name: string; lt: number; frame: Uint8Array; st: number; payload: number }[] = [
    {
      name: "ARP",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [8, 6], new Uint8Array(28)),
      st: WireStatus.NotIp,
      payload: LinkPayload.Arp,
    },
    {
      name: "LLDP",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [0x88, 0xcc], new Uint8Array(20)),
      st: WireStatus.NotIp,
      payload: LinkPayload.Lldp,
    },
    {
      name: "802.3 LLC",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [0, 38], new Uint8Array(38)),
      st: WireStatus.NotIp,
      payload: LinkPayload.Llc,
    },
    {
      name: "RARP",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [0x80, 0x35], new Uint8Array(28)),
      st: WireStatus.NotIp,
      payload: LinkPayload.Rarp,
    },
    {
      name: "IPX-ish",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [0x81, 0x37], new Uint8Array(28)),
      st: WireStatus.NotIp,
      payload: LinkPayload.Other,
    },
    {
      name: "truncated ethernet",
      lt: LINKTYPE_ETHERNET,
      frame: Uint8Array.from(MAC_B),
      st: WireStatus.Truncated,
      payload: LinkPayload.None,
    },
    {
      name: "truncated tag",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [0x81, 0, 0]),
      st: WireStatus.Truncated,
      payload: LinkPayload.None,
    },
    {
      name: "ethertype v4, version 6",
      lt: LINKTYPE_ETHERNET,
      frame: cat(MAC_B, MAC_A, [8, 0], ip6),
      st: WireStatus.BadVersion,
      payload: LinkPayload.Ipv4,
    },
    {
      name: "raw version 5",
      lt: LINKTYPE_RAW,
      frame: Uint8Array.from([0x50, 0, 0]),
      st: WireStatus.BadVersion,
      payload: LinkPayload.Other,
    },
    {
      name: "LINKTYPE_IPV6 carrying v4",
      lt: LINKTYPE_IPV6,
      frame: ip4,
      st: WireStatus.BadVersion,
      payload: LinkPayload.Ipv6,
    },
    {
      name: "SLL short",
      lt: LINKTYPE_LINUX_SLL,
      frame: new Uint8Array(15),
      st: WireStatus.Truncated,
      payload: LinkPayload.None,
    },
    {
      name: "null AF 99",
      lt: LINKTYPE_NULL,
      frame: cat([99, 0, 0, 0], ip4),
      st: WireStatus.NotIp,
      payload: LinkPayload.Other,
    },
    { name: "unsupported link type", lt: 105, frame: ip4, st: WireStatus.NotIp, payload: LinkPayload.Other },
    { name: "empty", lt: LINKTYPE_RAW, frame: new Uint8Array(0), st: WireStatus.Truncated, payload: LinkPayload.None },
  ];
  for (const tc of cases) {
    assert.equal(parseLink(li, tc.lt, tc.frame, 0, tc.frame.length), tc.st, tc.name);
    assert.equal(li.payload, tc.payload, tc.name);
  }
  assert.equal(isSupportedLinkType(105), false);
});

// ---- the tcpdump capture corpus: never throw; agree with tshark on addresses and ports ------------

const corpus = join(here, "../../../shared/captures/tcpdump-tests");

test("capture corpus: link + parse + checksum + format never throw", {
  skip: !existsSync(corpus) && "shared captures absent",
}, () => {
  const li = new LinkInfo();
  const pi = new PacketInfo();
  let ip = 0;
  for (const name of readdirSync(corpus)) {
    if (!name.endsWith(".pcap")) continue;
    const cap = readPcapMini(readFileSync(join(corpus, name)));
    if (cap === null) continue;
    for (const fr of cap.frames) {
      parseLink(li, cap.linkType, fr.data, 0, fr.data.length);
      if (li.status !== WireStatus.Ok) continue;
      ip++;
      parsePacket(pi, fr.data, li.l3Off, li.l3Len);
      verifyL4Checksum(pi);
      if (pi.family === 4) verifyIpv4HeaderChecksum(pi);
      assert.equal(typeof formatPacket(pi), "string");
    }
  }
  assert.ok(ip > 1000, `only ${ip} IP frames`);
});

test("capture corpus: addresses and ports agree with tshark", {
  skip: !existsSync(corpus) && "shared captures absent",
}, () => {
  const fixture = JSON.parse(readFileSync(join(here, "../../test/fixtures/wire/link-corpus.json"), "utf8")) as Record<
    string,
    [number, string, string, string, string, string, string, string, string][]
  >;
  const li = new LinkInfo();
  const pi = new PacketInfo();
  let compared = 0;
  for (const [name, rows] of Object.entries(fixture)) {
    const cap = readPcapMini(readFileSync(join(corpus, name)))!;
    for (const [no, s4, d4, s6, d6, tsp, tdp, usp, udp] of rows) {
      const fr = cap.frames[no - 1];
      parseLink(li, cap.linkType, fr.data, 0, fr.data.length);
      if (s4 === "" && s6 === "") {
        assert.notEqual(
          li.status === WireStatus.Ok && parsePacket(pi, fr.data, li.l3Off, li.l3Len) === WireStatus.Ok,
          true,
          `${name}#${no}`,
        );
        continue;
      }
      assert.equal(li.status, WireStatus.Ok, `${name}#${no}`);
      parsePacket(pi, fr.data, li.l3Off, li.l3Len);
      const fam = s4 !== "" ? 4 : 6;
      assert.equal(pi.family, fam, `${name}#${no}`);
      assert.equal(formatAddr(pi.src, fam), fam === 4 ? s4 : s6, `${name}#${no}`);
      assert.equal(formatAddr(pi.dst, fam), fam === 4 ? d4 : d6, `${name}#${no}`);
      if (pi.status === WireStatus.Ok && pi.l4Status === WireStatus.Ok && (pi.proto === 6 || pi.proto === 17)) {
        assert.equal(String(pi.srcPort), pi.proto === 6 ? tsp : usp, `${name}#${no} sport`);
        assert.equal(String(pi.dstPort), pi.proto === 6 ? tdp : udp, `${name}#${no} dport`);
      }
      compared++;
    }
  }
  assert.ok(compared > 150, `compared ${compared}`);
});
