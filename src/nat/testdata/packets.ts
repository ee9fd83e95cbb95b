/**
 * Test helpers: packet builders with correct checksums, an independent full checksum verifier, a
 * minimal PacketInfo filler for NAT tests, and address parsing. Used by the NAT tests only.
 */
import { PacketInfo, WireStatus } from "../../wire/packet-info.js";
import { parseIpv4, parseIpv6 } from "../iface.js";

export { parseIpv4 as v4, parseIpv6 as v6 };

function sum16(b: Uint8Array, off: number, end: number): number {
  let s = 0;
  for (let i = off; i < end; i += 2) s += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function addrSum(family: number, b: Uint8Array, ipOff: number): number {
  return family === 4 ? sum16(b, ipOff + 12, ipOff + 20) : sum16(b, ipOff + 8, ipOff + 40);
}

export interface IpOpts {
  family: 4 | 6;
  src: Int32Array;
  dst: Int32Array;
  proto: number;
  ttl?: number;
  id?: number;
  tos?: number;
}

/** ipPacket: an IP packet around transport bytes `l4` (its checksum filled by `fillL4`). */
export function ipPacket(o: IpOpts, l4: Uint8Array, fill = true): Uint8Array {
  if (o.family === 4) {
    const b = new Uint8Array(20 + l4.length);
    b[0] = 0x45;
    b[1] = o.tos ?? 0;
    put16(b, 2, b.length);
    put16(b, 4, o.id ?? 0x1234);
    b[6] = 0x40;
    b[8] = o.ttl ?? 64;
    b[9] = o.proto;
    put32(b, 12, o.src[0]);
    put32(b, 16, o.dst[0]);
    b.set(l4, 20);
    put16(b, 10, ~fold(sum16(b, 0, 20)) & 0xffff);
    if (fill) fillL4(b, 0);
    return b;
  }
  const b = new Uint8Array(40 + l4.length);
  b[0] = 0x60;
  put16(b, 4, l4.length);
  b[6] = o.proto;
  b[7] = o.ttl ?? 64;
  for (let i = 0; i < 4; i++) {
    put32(b, 8 + 4 * i, o.src[i]);
    put32(b, 24 + 4 * i, o.dst[i]);
  }
  b.set(l4, 40);
  if (fill) fillL4(b, 0);
  return b;
}

export function tcpHeader(sport: number, dport: number, seq = 1000, ack = 0, flags = 0x02, payload = 0): Uint8Array {
  const b = new Uint8Array(20 + payload);
  put16(b, 0, sport);
  put16(b, 2, dport);
  put32(b, 4, seq);
  put32(b, 8, ack);
  b[12] = 0x50;
  b[13] = flags;
  put16(b, 14, 64240);
  for (let i = 0; i < payload; i++) b[20 + i] = (i * 7 + 3) & 0xff;
  return b;
}

export function udpHeader(sport: number, dport: number, payload = 4): Uint8Array {
  const b = new Uint8Array(8 + payload);
  put16(b, 0, sport);
  put16(b, 2, dport);
  put16(b, 4, b.length);
  for (let i = 0; i < payload; i++) b[8 + i] = (i * 13 + 1) & 0xff;
  return b;
}

/** icmpEcho: an echo request (type 8 / 128) or reply (0 / 129) with id and seq. */
export function icmpEcho(type: number, id: number, seq = 1, payload = 8): Uint8Array {
  const b = new Uint8Array(8 + payload);
  b[0] = type;
  put16(b, 4, id);
  put16(b, 6, seq);
  for (let i = 0; i < payload; i++) b[8 + i] = (i * 5 + 11) & 0xff;
  return b;
}

/** icmpError: an ICMP(v6) error of `type`/`code` quoting the first `quoteLen` bytes of `inner`. */
export function icmpError(type: number, code: number, inner: Uint8Array, quoteLen = inner.length): Uint8Array {
  const q = Math.min(quoteLen, inner.length);
  const b = new Uint8Array(8 + q);
  b[0] = type;
  b[1] = code;
  b.set(inner.subarray(0, q), 8);
  return b;
}

/** l4ChecksumOffset for a protocol at transport offset `l4`, -1 when none is filled/verified */
function csumField(proto: number, l4: number): number {
  switch (proto) {
    case 6:
      return l4 + 16;
    case 17:
    case 136:
      return l4 + 6;
    case 1:
    case 58:
      return l4 + 2;
    default:
      return -1;
  }
}

/** l4Sum: the full sum a transport checksum covers (field included as it is). */
function l4Sum(b: Uint8Array, ipOff: number, end: number): { proto: number; l4: number; s: number } {
  const family = b[ipOff] >> 4;
  const proto = family === 4 ? b[ipOff + 9] : b[ipOff + 6];
  const l4 = family === 4 ? ipOff + (b[ipOff] & 15) * 4 : ipOff + 40;
  const len = end - l4;
  let s = sum16(b, l4, end);
  if (proto !== 1) s += addrSum(family, b, ipOff) + proto + (len >>> 16) + (len & 0xffff);
  return { proto, l4, s };
}

/** fillL4: compute the transport checksum of the packet at ipOff (whole buffer is the packet). */
export function fillL4(b: Uint8Array, ipOff: number, end = b.length): void {
  const family = b[ipOff] >> 4;
  const proto = family === 4 ? b[ipOff + 9] : b[ipOff + 6];
  const l4 = family === 4 ? ipOff + (b[ipOff] & 15) * 4 : ipOff + 40;
  const f = csumField(proto, l4);
  if (f < 0 || f + 2 > end) return;
  put16(b, f, 0);
  const { s } = l4Sum(b, ipOff, end);
  let c = ~fold(s) & 0xffff;
  if (c === 0 && proto === 17) c = 0xffff;
  put16(b, f, c);
}

/** setUdpChecksumZero: IPv4 UDP "no checksum". */
export function zeroUdpChecksum(b: Uint8Array, ipOff = 0): void {
  const l4 = ipOff + (b[ipOff] & 15) * 4;
  put16(b, l4 + 6, 0);
}

/**
 * checksumsValid: verify every checksum of a complete packet: IPv4 header; transport (TCP, UDP unless
 * an IPv4 zero, ICMP, ICMPv6); for an ICMP error also the quoted IPv4 header. Returns a list of failures.
 */
export function checksumProblems(b: Uint8Array, ipOff = 0, end = b.length): string[] {
  const out: string[] = [];
  const family = b[ipOff] >> 4;
  if (family === 4 && fold(sum16(b, ipOff, ipOff + (b[ipOff] & 15) * 4)) !== 0xffff) out.push("ipv4 header");
  const { proto, l4, s } = l4Sum(b, ipOff, end);
  const f = csumField(proto, l4);
  if (f >= 0) {
    const field = (b[f] << 8) | b[f + 1];
    const udpZero = proto === 17 && family === 4 && field === 0;
    if (!udpZero && fold(s) !== 0xffff) out.push(`l4 proto ${proto}`);
  }
  if ((proto === 1 && b[l4] >= 3 && b[l4] !== 8 && b[l4] !== 0) || (proto === 58 && b[l4] < 128)) {
    const inner = l4 + 8;
    if (family === 4 && end >= inner + 20) {
      if (fold(sum16(b, inner, inner + (b[inner] & 15) * 4)) !== 0xffff) out.push("inner ipv4 header");
    }
  }
  return out;
}

/**
 * info: a PacketInfo with the fields NAT reads filled from the bytes (buf, off, len, family,
 * addresses, proto, transport offset and ports / id, ICMP error flag, and the quoted packet's record).
 */
export function info(b: Uint8Array, pi = new PacketInfo()): PacketInfo {
  fillInfo(pi, b, 0, b.length, false);
  return pi;
}

function fillInfo(pi: PacketInfo, b: Uint8Array, off: number, end: number, quoted: boolean): void {
  pi.buf = b;
  pi.off = off;
  pi.status = WireStatus.Ok;
  const family = b[off] >> 4;
  pi.family = family;
  pi.src.fill(0);
  pi.dst.fill(0);
  let l4: number;
  if (family === 4) {
    pi.len = quoted ? end - off : (b[off + 2] << 8) | b[off + 3];
    pi.proto = b[off + 9];
    pi.src[0] = (b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15];
    pi.dst[0] = (b[off + 16] << 24) | (b[off + 17] << 16) | (b[off + 18] << 8) | b[off + 19];
    l4 = off + (b[off] & 15) * 4;
    pi.ipHeaderLen = l4 - off;
  } else {
    pi.len = quoted ? end - off : 40 + ((b[off + 4] << 8) | b[off + 5]);
    pi.proto = b[off + 6];
    for (let i = 0; i < 4; i++) {
      const o = off + 8 + 4 * i;
      pi.src[i] = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
      const d = off + 24 + 4 * i;
      pi.dst[i] = (b[d] << 24) | (b[d + 1] << 16) | (b[d + 2] << 8) | b[d + 3];
    }
    l4 = off + 40;
    pi.ipHeaderLen = 40;
  }
  pi.l4Off = l4;
  pi.l4Len = off + pi.len - l4;
  pi.isFragment = false;
  pi.l4Status = pi.l4Len >= 8 ? WireStatus.Ok : WireStatus.Truncated;
  pi.icmpIsError = false;
  pi.srcPort = 0;
  pi.dstPort = 0;
  pi.icmpId = 0;
  const p = pi.proto;
  if (p === 6 || p === 17 || p === 136 || p === 132) {
    pi.srcPort = (b[l4] << 8) | b[l4 + 1];
    pi.dstPort = (b[l4 + 2] << 8) | b[l4 + 3];
  } else if (p === 1 || p === 58) {
    pi.icmpType = b[l4];
    pi.icmpCode = b[l4 + 1];
    const err =
      p === 1 ? pi.icmpType !== 0 && pi.icmpType !== 8 && (pi.icmpType < 13 || pi.icmpType > 18) : pi.icmpType < 128;
    pi.icmpIsError = err;
    if (!err) pi.icmpId = (b[l4 + 4] << 8) | b[l4 + 5];
    else if (!quoted && pi.inner !== null) fillInfo(pi.inner, b, l4 + 8, off + pi.len, true);
  }
}

/** ttlDecrement: what Linux's forwarding does to the IPv4 header (ip_decrease_ttl) or IPv6 hop limit. */
export function forwardDecrement(b: Uint8Array, ipOff = 0): void {
  if (b[ipOff] >> 4 === 6) {
    b[ipOff + 7]--;
    return;
  }
  // Linux adds htons(0x0100) to the checksum read as a host (little-endian) u16, with its own carry rule
  let le = b[ipOff + 10] | (b[ipOff + 11] << 8);
  le += 1;
  le = (le + (le >= 0xffff ? 1 : 0)) & 0xffff;
  b[ipOff + 10] = le & 0xff;
  b[ipOff + 11] = le >>> 8;
  b[ipOff + 8]--;
}

/** hex: bytes as a hex string (for assertion messages). */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
