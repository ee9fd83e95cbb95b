/**
 * Packet helpers for the oracle comparator (test code, slow path): locate the layers of an IP packet,
 * name the field at a byte offset, recompute checksums, and print a tcpdump-like line.
 *
 * These work on copies and allocate freely; they are not the project's wire layer (src/wire), which is
 * built for the per-packet hot path.
 */

export const PROTO_ICMP = 1;
export const PROTO_IGMP = 2;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMPV6 = 58;
export const PROTO_UDPLITE = 136;

/** Where the layers of one IP packet are (offsets into the IP packet's bytes). */
export interface Layers {
  family: 4 | 6;
  /** IP header length (IPv4 IHL*4; IPv6 40 plus extension headers) */
  ipHeaderLen: number;
  src: string;
  dst: string;
  /** transport protocol (after IPv6 extension headers) */
  proto: number;
  /** offset of the transport header, -1 for a non-first fragment or an unparsable header */
  l4Off: number;
  /** bytes of transport header and payload the IP header claims */
  l4Len: number;
  /** the captured bytes hold the whole IP packet */
  complete: boolean;
  ttl: number;
  ipId: number;
  /** IPv4: fragment offset (8-byte units) and MF flag; IPv6: from a fragment header, if any */
  fragOff: number;
  moreFrags: boolean;
  /** IPv6 fragment header offset (-1 when none) */
  fragHdrOff: number;
}

export function ipv4String(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

export function ipv6String(b: Uint8Array, o: number): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[o + 2 * i] << 8) | b[o + 2 * i + 1]);
  // longest run of zero words (length >= 2) becomes "::"
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

/** Parse the IP layer of `b` (IPv4 or IPv6); undefined when it is not a readable IP header. */
export function layers(b: Uint8Array): Layers | undefined {
  if (b.length < 1) return undefined;
  const v = b[0] >> 4;
  if (v === 4) {
    if (b.length < 20) return undefined;
    const ihl = (b[0] & 15) * 4;
    const total = (b[2] << 8) | b[3];
    if (ihl < 20 || b.length < ihl || total < ihl) return undefined;
    const frag = (b[6] << 8) | b[7];
    const fragOff = frag & 0x1fff;
    return {
      family: 4,
      ipHeaderLen: ihl,
      src: ipv4String(b, 12),
      dst: ipv4String(b, 16),
      proto: b[9],
      l4Off: fragOff === 0 ? ihl : -1,
      l4Len: total - ihl,
      complete: b.length >= total,
      ttl: b[8],
      ipId: (b[4] << 8) | b[5],
      fragOff,
      moreFrags: (frag & 0x2000) !== 0,
      fragHdrOff: -1,
    };
  }
  if (v === 6) {
    if (b.length < 40) return undefined;
    const total = 40 + ((b[4] << 8) | b[5]);
    let nh = b[6];
    let o = 40;
    let fragOff = 0;
    let moreFrags = false;
    let fragHdrOff = -1;
    let l4Off = -1;
    for (let guard = 0; guard < 16; guard++) {
      if (nh === 0 || nh === 43 || nh === 60) {
        if (b.length < o + 8) break;
        const next = b[o];
        o += (b[o + 1] + 1) * 8;
        nh = next;
        continue;
      }
      if (nh === 51) {
        if (b.length < o + 8) break;
        const next = b[o];
        o += (b[o + 1] + 2) * 4;
        nh = next;
        continue;
      }
      if (nh === 44) {
        if (b.length < o + 8) break;
        fragHdrOff = o;
        const next = b[o];
        const f = (b[o + 2] << 8) | b[o + 3];
        fragOff = f >> 3;
        moreFrags = (f & 1) !== 0;
        o += 8;
        nh = next;
        continue;
      }
      l4Off = fragOff === 0 ? o : -1;
      break;
    }
    return {
      family: 6,
      ipHeaderLen: o,
      src: ipv6String(b, 8),
      dst: ipv6String(b, 24),
      proto: nh,
      l4Off: l4Off >= 0 && l4Off <= b.length ? l4Off : -1,
      l4Len: total - o,
      complete: b.length >= total,
      ttl: b[7],
      ipId:
        fragHdrOff >= 0
          ? ((b[fragHdrOff + 4] << 24) | (b[fragHdrOff + 5] << 16) | (b[fragHdrOff + 6] << 8) | b[fragHdrOff + 7]) >>> 0
          : 0,
      fragOff,
      moreFrags,
      fragHdrOff,
    };
  }
  return undefined;
}

// ---- checksums ------------------------------------------------------------------------------------

function sum16(b: Uint8Array, off: number, len: number, acc: number): number {
  let s = acc;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** The value to store in a checksum field covering `len` bytes at `off` (plus a pseudo-header sum). */
export function checksumOf(b: Uint8Array, off: number, len: number, pseudo = 0): number {
  return ~fold(sum16(b, off, len, pseudo)) & 0xffff;
}

function pseudoSum(b: Uint8Array, L: Layers, proto: number, len: number): number {
  if (L.family === 4) return sum16(b, 12, 8, proto + len);
  return sum16(b, 8, 32, Math.floor(len / 65536) + (len & 0xffff) + proto);
}

/** Offset of the transport checksum field, -1 when the protocol has none we compute. */
export function l4ChecksumOffset(L: Layers): number {
  if (L.l4Off < 0) return -1;
  switch (L.proto) {
    case PROTO_TCP:
      return L.l4Off + 16;
    case PROTO_UDP:
    case PROTO_UDPLITE:
      return L.l4Off + 6;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      return L.l4Off + 2;
    default:
      return -1;
  }
}

/**
 * The correct transport checksum for the packet as it stands (its checksum field taken as zero), or -1
 * when it cannot be computed (fragment, truncated capture, unknown protocol, UDP-Lite coverage).
 */
export function computeL4Checksum(b: Uint8Array, L: Layers): number {
  const co = l4ChecksumOffset(L);
  if (co < 0 || !L.complete || L.proto === PROTO_UDPLITE || L.moreFrags || L.fragOff !== 0) return -1;
  const copy = b.slice(0, L.l4Off + L.l4Len);
  copy[co] = 0;
  copy[co + 1] = 0;
  const pseudo = L.proto === PROTO_ICMP ? 0 : pseudoSum(copy, L, L.proto, L.l4Len);
  let c = checksumOf(copy, L.l4Off, L.l4Len, pseudo);
  if (L.proto === PROTO_UDP && c === 0) c = 0xffff;
  return c;
}

/** Problems with the checksums of a complete packet ("" when they verify or cannot be checked). */
export function checksumProblems(b: Uint8Array): string {
  const L = layers(b);
  if (!L) return "";
  const out: string[] = [];
  if (L.family === 4) {
    const stored = (b[10] << 8) | b[11];
    const copy = b.slice(0, L.ipHeaderLen);
    copy[10] = 0;
    copy[11] = 0;
    const want = checksumOf(copy, 0, L.ipHeaderLen);
    if (stored !== want) out.push(`IPv4 header checksum 0x${hex4(stored)}, should be 0x${hex4(want)}`);
  }
  const co = l4ChecksumOffset(L);
  if (co >= 0 && co + 1 < b.length) {
    const stored = (b[co] << 8) | b[co + 1];
    const zeroOk = L.proto === PROTO_UDP && L.family === 4 && stored === 0;
    const want = computeL4Checksum(b, L);
    if (want >= 0 && !zeroOk && stored !== want) {
      out.push(`${protoName(L.proto, L.family)} checksum 0x${hex4(stored)}, should be 0x${hex4(want)}`);
    }
  }
  return out.join("; ");
}

/** RFC 1624 incremental update of a checksum field for one 16-bit word changing from `old` to `neu`. */
export function checksumAdjust(csum: number, old: number, neu: number): number {
  const s = fold((~csum & 0xffff) + (~old & 0xffff) + neu);
  return ~s & 0xffff;
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}

// ---- names ----------------------------------------------------------------------------------------

export function protoName(p: number, family: 4 | 6): string {
  switch (p) {
    case PROTO_TCP:
      return "TCP";
    case PROTO_UDP:
      return "UDP";
    case PROTO_UDPLITE:
      return "UDP-Lite";
    case PROTO_ICMP:
      return "ICMP";
    case PROTO_ICMPV6:
      return "ICMPv6";
    case PROTO_IGMP:
      return "IGMP";
    case 47:
      return "GRE";
    case 132:
      return "SCTP";
    default:
      return `proto ${p}${family === 6 ? " (IPv6)" : ""}`;
  }
}

const V4_FIELDS: [number, number, string][] = [
  [0, 1, "version/IHL"],
  [1, 2, "TOS"],
  [2, 4, "total length"],
  [4, 6, "identification"],
  [6, 8, "flags/fragment offset"],
  [8, 9, "TTL"],
  [9, 10, "protocol"],
  [10, 12, "header checksum"],
  [12, 16, "source address"],
  [16, 20, "destination address"],
];
const V6_FIELDS: [number, number, string][] = [
  [0, 4, "version/traffic class/flow label"],
  [4, 6, "payload length"],
  [6, 7, "next header"],
  [7, 8, "hop limit"],
  [8, 24, "source address"],
  [24, 40, "destination address"],
];
const TCP_FIELDS: [number, number, string][] = [
  [0, 2, "source port"],
  [2, 4, "destination port"],
  [4, 8, "sequence number"],
  [8, 12, "acknowledgment number"],
  [12, 13, "data offset"],
  [13, 14, "flags"],
  [14, 16, "window"],
  [16, 18, "checksum"],
  [18, 20, "urgent pointer"],
];
const UDP_FIELDS: [number, number, string][] = [
  [0, 2, "source port"],
  [2, 4, "destination port"],
  [4, 6, "length"],
  [6, 8, "checksum"],
];
const ICMP_FIELDS: [number, number, string][] = [
  [0, 1, "type"],
  [1, 2, "code"],
  [2, 4, "checksum"],
  [4, 6, "identifier/rest of header"],
  [6, 8, "sequence/rest of header"],
];

function lookup(table: [number, number, string][], rel: number): string | undefined {
  for (const [a, z, n] of table) if (rel >= a && rel < z) return n;
  return undefined;
}

function isIcmpError(L: Layers, type: number): boolean {
  if (L.proto === PROTO_ICMP) return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
  if (L.proto === PROTO_ICMPV6) return type >= 1 && type <= 4;
  return false;
}

/** Name the field at byte `off` of IP packet `b` ("IPv4 TTL", "TCP window", "ICMP inner: UDP checksum"...). */
export function fieldAt(b: Uint8Array, off: number, depth = 0): string {
  const L = layers(b);
  if (!L) return `byte ${off}`;
  const ipName = L.family === 4 ? "IPv4" : "IPv6";
  if (off < L.ipHeaderLen) {
    if (L.family === 4) return `${ipName} ${lookup(V4_FIELDS, off) ?? "options"}`;
    return `${ipName} ${lookup(V6_FIELDS, off) ?? "extension headers"}`;
  }
  const pn = protoName(L.proto, L.family);
  if (L.l4Off < 0) return `${pn} fragment data`;
  const rel = off - L.l4Off;
  switch (L.proto) {
    case PROTO_TCP: {
      const hl = b.length > L.l4Off + 12 ? (b[L.l4Off + 12] >> 4) * 4 : 20;
      return `TCP ${lookup(TCP_FIELDS, rel) ?? (rel < hl ? "options" : `payload byte ${rel - hl}`)}`;
    }
    case PROTO_UDP:
    case PROTO_UDPLITE:
      return `${pn} ${lookup(UDP_FIELDS, rel) ?? `payload byte ${rel - 8}`}`;
    case PROTO_ICMP:
    case PROTO_ICMPV6: {
      const type = b[L.l4Off];
      if (rel >= 8 && isIcmpError(L, type) && depth === 0) {
        return `${pn} inner: ${fieldAt(b.subarray(L.l4Off + 8), rel - 8, depth + 1)}`;
      }
      return `${pn} ${lookup(ICMP_FIELDS, rel) ?? `data byte ${rel - 8}`}`;
    }
    default:
      return `${pn} byte ${rel}`;
  }
}

// ---- tcpdump-like lines ---------------------------------------------------------------------------

function tcpFlags(f: number): string {
  let s = "";
  if (f & 0x02) s += "S";
  if (f & 0x01) s += "F";
  if (f & 0x04) s += "R";
  if (f & 0x08) s += "P";
  if (f & 0x20) s += "U";
  if (f & 0x40) s += "E";
  if (f & 0x80) s += "W";
  if (f & 0x10) s += ".";
  return s || "none";
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function endpoint(addr: string, port: number | undefined, family: 4 | 6): string {
  if (port === undefined) return addr;
  return family === 6 ? `${addr}.${port}` : `${addr}.${port}`;
}

/** Describe an IP packet on one line, roughly as `tcpdump -n -v` would. */
export function describe(b: Uint8Array, depth = 0): string {
  const L = layers(b);
  if (!L) return `non-IP or malformed packet, ${b.length} bytes`;
  const head =
    L.family === 4
      ? `IP (ttl ${L.ttl}, id ${L.ipId}${L.fragOff || L.moreFrags ? `, offset ${L.fragOff * 8}${L.moreFrags ? ", flags [+]" : ""}` : ""}, len ${u16(b, 2)})`
      : `IP6 (hlim ${L.ttl}${L.fragHdrOff >= 0 ? `, frag id ${L.ipId} offset ${L.fragOff * 8}${L.moreFrags ? " [+]" : ""}` : ""}, payload ${u16(b, 4)})`;
  const o = L.l4Off;
  const have = (n: number) => o >= 0 && b.length >= o + n;
  switch (L.proto) {
    case PROTO_TCP:
      if (have(20)) {
        const hl = (b[o + 12] >> 4) * 4;
        const payload = L.l4Len - hl;
        const ack = b[o + 13] & 0x10 ? `, ack ${u32(b, o + 8)}` : "";
        return `${head} ${endpoint(L.src, u16(b, o), L.family)} > ${endpoint(L.dst, u16(b, o + 2), L.family)}: Flags [${tcpFlags(b[o + 13])}], seq ${u32(b, o + 4)}${ack}, win ${u16(b, o + 14)}, length ${payload}`;
      }
      break;
    case PROTO_UDP:
    case PROTO_UDPLITE:
      if (have(8)) {
        return `${head} ${endpoint(L.src, u16(b, o), L.family)} > ${endpoint(L.dst, u16(b, o + 2), L.family)}: ${protoName(L.proto, L.family)}, length ${L.l4Len - 8}`;
      }
      break;
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      if (have(8)) {
        const type = b[o];
        const code = b[o + 1];
        const v6 = L.proto === PROTO_ICMPV6;
        const echo = v6 ? type === 128 || type === 129 : type === 0 || type === 8;
        let what = `${v6 ? "ICMP6" : "ICMP"} type ${type} code ${code}`;
        if (echo) {
          const req = v6 ? type === 128 : type === 8;
          what = `${v6 ? "ICMP6" : "ICMP"} echo ${req ? "request" : "reply"}, id ${u16(b, o + 4)}, seq ${u16(b, o + 6)}`;
        }
        if (isIcmpError(L, type) && depth === 0) {
          what += ` [inner: ${describe(b.subarray(o + 8), depth + 1)}]`;
        }
        return `${head} ${L.src} > ${L.dst}: ${what}, length ${L.l4Len}`;
      }
      break;
  }
  if (o < 0) return `${head} ${L.src} > ${L.dst}: ${protoName(L.proto, L.family)} fragment, length ${L.l4Len}`;
  return `${head} ${L.src} > ${L.dst}: ${protoName(L.proto, L.family)}, length ${L.l4Len}`;
}

/**
 * Is this packet something the gateway cannot know of (kernel-oracle.md "How to compare")? ARP and
 * other non-IP frames are filtered by the reader; here: IPv6 neighbour discovery, router messages,
 * MLD, anything from a link-local IPv6 source, and IGMP.
 */
export function isNeighbourNoise(b: Uint8Array): boolean {
  const L = layers(b);
  if (!L) return false;
  if (L.family === 4) return L.proto === PROTO_IGMP;
  if (L.src.startsWith("fe8") || L.src.startsWith("fe9") || L.src.startsWith("fea") || L.src.startsWith("feb")) {
    return true;
  }
  if (L.proto === PROTO_ICMPV6 && L.l4Off >= 0 && b.length > L.l4Off) {
    const t = b[L.l4Off];
    // MLD query/report/done (130-132), router solicitation/advertisement, neighbour
    // solicitation/advertisement, redirect (133-137), MLDv2 report (143)
    return (t >= 130 && t <= 137) || t === 143;
  }
  return false;
}
