/**
 * Packet builders for tests and tools (slow path: allocation is fine here).
 *
 * `buildPacket(spec)` emits a whole IPv4 or IPv6 packet from field values, with correct checksums
 * unless told to corrupt them; `fragment(packet, mtu)` splits one into fragments. Every field has a
 * default, so a spec names only what a test cares about:
 *
 *   buildPacket({ src: "10.0.0.1", dst: "10.0.0.2", tcp: { sport: 1234, dport: 80, flags: "S" } })
 *   buildPacket({ src: "fd00::1", dst: "fd00::2", ext: [{ type: "hop" }], udp: { sport: 53, dport: 53, payload: "hi" } })
 *   buildPacket({ src: "10.0.0.254", dst: "10.0.0.1", icmp: { type: 3, code: 3, embed: inner, embedLen: 28 } })
 *
 * Lengths and header fields can be overridden (`totalLen`, `ihl`, `payloadLen`, `dataOffset`, UDP
 * `len`, ...) to build malformed packets; checksums are computed from the final bytes, after overrides.
 *
 * @throws Error / AddrSyntaxError for an inconsistent spec (these are test-time errors).
 */
import { parseAddr } from "./addr.js";
import { finishChecksum, pseudoHeaderSumV4, pseudoHeaderSumV6, sumBytes } from "./checksum.js";
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
} from "./ip-protocol.js";

/** Bytes: a byte array, a plain number list, or a string (UTF-8 encoded; ASCII in tests). */
export type Bytes = Uint8Array | readonly number[] | string;

/** a checksum override: a fixed value, or "bad" for the correct value with one bit flipped */
export type ChecksumSpec = number | "bad";

export interface TcpOptionsSpec {
  mss?: number;
  wscale?: number;
  sackPerm?: boolean;
  /** SACK blocks as [left, right] edges */
  sack?: readonly (readonly [number, number])[];
  /** timestamps [TSval, TSecr] */
  ts?: readonly [number, number];
  /** raw option bytes appended after the ones above (before padding) */
  raw?: Bytes;
}

export interface TcpSpec {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  /** "S", "SA", "FA", "R", "RA", "PA", "." (ACK) ... letters FSRPAUEC, or the flags byte */
  flags?: string | number;
  win?: number;
  urg?: number;
  options?: TcpOptionsSpec;
  /** data offset in 32-bit words, overriding the computed one */
  dataOffset?: number;
  payload?: Bytes;
  checksum?: ChecksumSpec;
}

export interface UdpSpec {
  sport?: number;
  dport?: number;
  /** UDP length field (UDP-Lite: checksum coverage) override */
  len?: number;
  payload?: Bytes;
  /** "none" sends checksum 0 */
  checksum?: ChecksumSpec | "none";
}

export interface IcmpSpec {
  type?: number;
  code?: number;
  /** identifier and sequence (echo and other queries) */
  id?: number;
  seq?: number;
  /** the 32-bit "rest of header" word, overriding id/seq (MTU, pointer, gateway address...) */
  rest?: number;
  /** for errors: the offending packet, quoted after the header */
  embed?: Uint8Array;
  /** quote only the first embedLen bytes of `embed` */
  embedLen?: number;
  payload?: Bytes;
  checksum?: ChecksumSpec;
}

export type Ipv6ExtSpec =
  | { type: "hop" | "dst"; options?: Bytes }
  | { type: "routing"; routingType?: number; segmentsLeft?: number; data?: Bytes }
  | { type: "fragment"; offset?: number; more?: boolean; id?: number; reserved?: number }
  | { type: "ah"; spi?: number; seq?: number; icvLen?: number }
  /** any header: next header value is filled in, then `body` (its length byte must be consistent) */
  | { type: "raw"; proto: number; body: Bytes };

export interface PacketSpec {
  /** 4 or 6; default: the family of `src` */
  family?: 4 | 6;
  src?: string;
  dst?: string;
  /** TTL / hop limit (default 64) */
  ttl?: number;
  /** TOS / traffic class */
  tos?: number;
  /** IPv4 identification */
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** IPv4 reserved ("evil") flag bit */
  rf?: boolean;
  /** IPv4 fragment offset in bytes (multiple of 8) */
  fragOff?: number;
  flowLabel?: number;
  /** IPv4 options (padded with END to a multiple of 4) */
  ipOptions?: Bytes;
  /** IPv4 IHL override (32-bit words) */
  ihl?: number;
  /** IPv4 total length override */
  totalLen?: number;
  /** IPv6 payload length override */
  payloadLen?: number;
  /** IP version nibble override */
  version?: number;
  ipChecksum?: ChecksumSpec;
  /** IPv6 extension headers, in order */
  ext?: readonly Ipv6ExtSpec[];
  tcp?: TcpSpec;
  udp?: UdpSpec;
  udplite?: UdpSpec;
  icmp?: IcmpSpec;
  icmp6?: IcmpSpec;
  /** any other protocol number, carrying `payload` as is */
  proto?: number;
  payload?: Bytes;
}

const TCP_FLAG_LETTERS = "FSRPAUEC";

/** tcpFlagsValue: "SA" -> 0x12; "." is ACK (as tcpdump prints it). */
export function tcpFlagsValue(flags: string | number): number {
  if (typeof flags === "number") return flags & 0xff;
  let v = 0;
  for (const ch of flags) {
    if (ch === ".") {
      v |= 0x10;
      continue;
    }
    const i = TCP_FLAG_LETTERS.indexOf(ch.toUpperCase());
    if (i < 0) throw new Error(`unknown TCP flag letter ${JSON.stringify(ch)} in ${JSON.stringify(flags)}`);
    v |= 1 << i;
  }
  return v;
}

/** toBytes: Bytes as a Uint8Array (strings are UTF-8 encoded). */
export function toBytes(b: Bytes | undefined): Uint8Array {
  if (b === undefined) return new Uint8Array(0);
  if (typeof b === "string") return new TextEncoder().encode(b);
  if (b instanceof Uint8Array) return b;
  return Uint8Array.from(b);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
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

function applyChecksum(b: Uint8Array, o: number, computed: number, spec: ChecksumSpec | "none" | undefined): void {
  let v = computed;
  if (spec === "bad") v = computed ^ 0x0001;
  else if (spec === "none") v = 0;
  else if (typeof spec === "number") v = spec & 0xffff;
  put16(b, o, v);
}

/** tcpOptionBytes: the option bytes for a spec, in Linux's SYN order, padded to 4 with EOL. */
export function tcpOptionBytes(o: TcpOptionsSpec | undefined): Uint8Array {
  if (o === undefined) return new Uint8Array(0);
  const v: number[] = [];
  if (o.mss !== undefined) v.push(2, 4, (o.mss >>> 8) & 0xff, o.mss & 0xff);
  if (o.ts !== undefined) {
    if (o.sackPerm) v.push(4, 2);
    else v.push(1, 1);
    v.push(8, 10);
    for (const x of o.ts) v.push((x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
  } else if (o.sackPerm) {
    v.push(1, 1, 4, 2);
  }
  if (o.wscale !== undefined) v.push(1, 3, 3, o.wscale & 0xff);
  if (o.sack !== undefined && o.sack.length > 0) {
    v.push(1, 1, 5, 2 + 8 * o.sack.length);
    for (const [l, r] of o.sack) {
      for (const x of [l, r]) v.push((x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff);
    }
  }
  for (const x of toBytes(o.raw)) v.push(x);
  while ((v.length & 3) !== 0) v.push(0);
  return Uint8Array.from(v);
}

/** the transport header + data of a spec, checksum left zero; returns [bytes, proto, checksum offset] */
function buildL4(spec: PacketSpec, family: 4 | 6): { l4: Uint8Array; proto: number; csumOff: number; csum: unknown } {
  if (spec.tcp !== undefined) {
    const t = spec.tcp;
    const opts = tcpOptionBytes(t.options);
    const payload = toBytes(t.payload);
    const hl = 20 + opts.length;
    const b = new Uint8Array(hl + payload.length);
    put16(b, 0, t.sport ?? 1024);
    put16(b, 2, t.dport ?? 80);
    put32(b, 4, t.seq ?? 0);
    put32(b, 8, t.ack ?? 0);
    b[12] = ((t.dataOffset ?? hl >> 2) & 0x0f) << 4;
    b[13] = tcpFlagsValue(t.flags ?? "S");
    put16(b, 14, t.win ?? 64240);
    put16(b, 18, t.urg ?? 0);
    b.set(opts, 20);
    b.set(payload, hl);
    return { l4: b, proto: IPPROTO_TCP, csumOff: 16, csum: t.checksum };
  }
  const u = spec.udp ?? spec.udplite;
  if (u !== undefined) {
    const lite = spec.udp === undefined;
    const payload = toBytes(u.payload);
    const b = new Uint8Array(8 + payload.length);
    put16(b, 0, u.sport ?? 1024);
    put16(b, 2, u.dport ?? 53);
    put16(b, 4, u.len ?? (lite ? 0 : b.length));
    b.set(payload, 8);
    return { l4: b, proto: lite ? IPPROTO_UDPLITE : IPPROTO_UDP, csumOff: 6, csum: u.checksum };
  }
  const ic = family === 4 ? spec.icmp : (spec.icmp6 ?? spec.icmp);
  if (ic !== undefined) {
    if (family === 4 && spec.icmp6 !== undefined) throw new Error("icmp6 in an IPv4 packet");
    const type = ic.type ?? (family === 4 ? 8 : 128);
    let body = toBytes(ic.payload);
    if (ic.embed !== undefined) {
      const e = ic.embedLen === undefined ? ic.embed : ic.embed.subarray(0, ic.embedLen);
      body = concat([e, body]);
    }
    const b = new Uint8Array(8 + body.length);
    b[0] = type;
    b[1] = ic.code ?? 0;
    if (ic.rest !== undefined) put32(b, 4, ic.rest);
    else {
      put16(b, 4, ic.id ?? 0);
      put16(b, 6, ic.seq ?? 0);
    }
    b.set(body, 8);
    return { l4: b, proto: family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, csumOff: 2, csum: ic.checksum };
  }
  if (spec.proto !== undefined) return { l4: toBytes(spec.payload), proto: spec.proto, csumOff: -1, csum: undefined };
  throw new Error("packet spec needs one of tcp, udp, udplite, icmp, icmp6, proto");
}

/** the transport checksum for the l4 bytes with the given pseudo header sum (-1: none) */
function fillL4(l4: Uint8Array, proto: number, csumOff: number, pseudo: number, spec: unknown): void {
  if (csumOff < 0) return;
  let c: number;
  if (proto === IPPROTO_UDPLITE) {
    let cov = (l4[4] << 8) | l4[5];
    if (cov === 0 || cov > l4.length) cov = l4.length;
    c = finishChecksum(sumBytes(l4, 0, cov, pseudo));
  } else {
    c = finishChecksum(sumBytes(l4, 0, l4.length, proto === IPPROTO_ICMP ? 0 : pseudo));
  }
  if (c === 0 && (proto === IPPROTO_UDP || proto === IPPROTO_UDPLITE)) c = 0xffff;
  applyChecksum(l4, csumOff, c, spec as ChecksumSpec | "none" | undefined);
}

function extProto(e: Ipv6ExtSpec): number {
  switch (e.type) {
    case "hop":
      return IPPROTO_HOPOPTS;
    case "dst":
      return IPPROTO_DSTOPTS;
    case "routing":
      return IPPROTO_ROUTING;
    case "fragment":
      return IPPROTO_FRAGMENT;
    case "ah":
      return IPPROTO_AH;
    case "raw":
      return e.proto;
  }
}

/** padTlv: hop-by-hop / destination option bytes padded (Pad1 / PadN) so the header is 8n long. */
function tlvHeader(next: number, options: Uint8Array): Uint8Array {
  let n = 2 + options.length;
  const padLen = (8 - (n & 7)) & 7;
  n += padLen;
  const b = new Uint8Array(n);
  b[0] = next;
  b[1] = (n >> 3) - 1;
  b.set(options, 2);
  const p = 2 + options.length;
  if (padLen === 1) b[p] = 0;
  else if (padLen > 1) {
    b[p] = 1;
    b[p + 1] = padLen - 2;
  }
  return b;
}

function extBytes(e: Ipv6ExtSpec, next: number): Uint8Array {
  switch (e.type) {
    case "hop":
    case "dst":
      return tlvHeader(next, toBytes(e.options));
    case "routing": {
      // RFC 8200 §4.4; by default a type 0-less "type 4"-shaped header with no segments
      const data = toBytes(e.data);
      let n = 4 + data.length;
      n = (n + 7) & ~7;
      const b = new Uint8Array(n);
      b[0] = next;
      b[1] = (n >> 3) - 1;
      b[2] = e.routingType ?? 4;
      b[3] = e.segmentsLeft ?? 0;
      b.set(data, 4);
      return b;
    }
    case "fragment": {
      const b = new Uint8Array(8);
      b[0] = next;
      b[1] = e.reserved ?? 0;
      put16(b, 2, ((e.offset ?? 0) & 0xfff8) | (e.more ? 1 : 0));
      put32(b, 4, e.id ?? 0);
      return b;
    }
    case "ah": {
      const icv = e.icvLen ?? 12;
      const b = new Uint8Array(12 + icv);
      b[0] = next;
      b[1] = (b.length >> 2) - 2;
      put32(b, 4, e.spi ?? 0x100);
      put32(b, 8, e.seq ?? 1);
      return b;
    }
    case "raw": {
      const body = toBytes(e.body);
      const b = new Uint8Array(1 + body.length);
      b[0] = next;
      b.set(body, 1);
      return b;
    }
  }
}

/**
 * buildPacket: a whole IP packet from a spec (see the module header). Checksums (IPv4 header and
 * transport) are correct unless overridden.
 * @throws Error for a spec without a transport part, or inconsistent families.
 */
export function buildPacket(spec: PacketSpec): Uint8Array {
  const src = parseAddr(spec.src ?? (spec.family === 6 ? "fd00::1" : "10.0.0.1"));
  const dst = parseAddr(spec.dst ?? (spec.family === 6 ? "fd00::2" : "10.0.0.2"));
  const family: 4 | 6 = spec.family ?? ((spec.src ?? "").includes(":") ? 6 : 4);
  const { l4, proto, csumOff, csum } = buildL4(spec, family);
  if (family === 4) {
    const opts = toBytes(spec.ipOptions);
    const optLen = (opts.length + 3) & ~3;
    const hl = 20 + optLen;
    const b = new Uint8Array(hl + l4.length);
    b[0] = ((spec.version ?? 4) << 4) | ((spec.ihl ?? hl >> 2) & 0x0f);
    b[1] = spec.tos ?? 0;
    put16(b, 2, spec.totalLen ?? b.length);
    put16(b, 4, spec.id ?? 0);
    const fo = ((spec.fragOff ?? 0) >> 3) & 0x1fff;
    put16(b, 6, (spec.rf ? 0x8000 : 0) | (spec.df ? 0x4000 : 0) | (spec.mf ? 0x2000 : 0) | fo);
    b[8] = spec.ttl ?? 64;
    b[9] = proto;
    put32(b, 12, src[0]);
    put32(b, 16, dst[0]);
    b.set(opts, 20);
    fillL4(l4, proto, csumOff, pseudoHeaderSumV4(src[0], dst[0], proto, l4.length), csum);
    b.set(l4, hl);
    const ihlBytes = Math.min(hl, ((spec.ihl ?? hl >> 2) & 0x0f) << 2);
    applyChecksum(b, 10, finishChecksum(sumBytes(b, 0, Math.max(ihlBytes, 20), 0)), spec.ipChecksum);
    return b;
  }
  const exts = spec.ext ?? [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < exts.length; i++) {
    const next = i + 1 < exts.length ? extProto(exts[i + 1]) : proto;
    parts.push(extBytes(exts[i], next));
  }
  const first = exts.length > 0 ? extProto(exts[0]) : proto;
  fillL4(l4, proto, csumOff, pseudoHeaderSumV6(src, dst, proto, l4.length), csum);
  parts.push(l4);
  const payload = concat(parts);
  const b = new Uint8Array(40 + payload.length);
  const tc = spec.tos ?? 0;
  const fl = spec.flowLabel ?? 0;
  put32(b, 0, ((spec.version ?? 6) << 28) | (tc << 20) | (fl & 0xfffff));
  put16(b, 4, spec.payloadLen ?? payload.length);
  b[6] = first;
  b[7] = spec.ttl ?? 64;
  for (let k = 0; k < 4; k++) {
    put32(b, 8 + 4 * k, src[k]);
    put32(b, 24 + 4 * k, dst[k]);
  }
  b.set(payload, 40);
  return b;
}

// ---- fragmentation (tests) ----------------------------------------------------------------------

export interface FragmentOptions {
  /** IPv6 fragment identification (default 0x12345678) */
  id?: number;
}

/**
 * fragment: split an IPv4 or IPv6 packet into fragments of at most `mtu` bytes each, as a simple
 * sender would (every fragment but the last carries the largest multiple of 8 that fits). IPv4:
 * non-first fragments keep only the options whose "copied" bit is set (the others become NOPs, as
 * Linux's ip_options_fragment does); the header checksum is recomputed. IPv6: the unfragmentable part
 * is the header plus any hop-by-hop, routing and destination options headers before a routing header;
 * a fragment header is inserted after it. A packet that fits is returned alone and unchanged.
 * @throws Error when the MTU leaves no room for 8 bytes of payload.
 */
export function fragment(packet: Uint8Array, mtu: number, opts: FragmentOptions = {}): Uint8Array[] {
  if (packet.length <= mtu) return [packet];
  const version = packet[0] >> 4;
  if (version === 4) return fragmentV4(packet, mtu);
  if (version === 6) return fragmentV6(packet, mtu, opts.id ?? 0x12345678);
  throw new Error("fragment: not an IP packet");
}

function fragmentV4(p: Uint8Array, mtu: number): Uint8Array[] {
  const hl = (p[0] & 0x0f) << 2;
  const total = (p[2] << 8) | p[3];
  const data = p.subarray(hl, total);
  const step = (mtu - hl) & ~7;
  if (step < 8) throw new Error(`fragment: MTU ${mtu} too small for a ${hl}-byte header`);
  const baseOff = ((p[6] & 0x1f) << 8) | p[7];
  const baseMf = (p[6] & 0x20) !== 0;
  // options of later fragments: non-copied options are overwritten with NOP
  const laterHdr = p.slice(0, hl);
  for (let i = 20; i < hl; ) {
    const t = laterHdr[i];
    if (t === 0) break;
    if (t === 1) {
      i++;
      continue;
    }
    const l = laterHdr[i + 1];
    if (l < 2 || i + l > hl) break;
    if ((t & 0x80) === 0) laterHdr.fill(1, i, i + l);
    i += l;
  }
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; o += step) {
    const n = Math.min(step, data.length - o);
    const last = o + n >= data.length;
    const f = new Uint8Array(hl + n);
    f.set(o === 0 ? p.subarray(0, hl) : laterHdr, 0);
    f.set(data.subarray(o, o + n), hl);
    put16(f, 2, f.length);
    const off = baseOff + (o >> 3);
    put16(f, 6, ((p[6] & 0xc0) << 8) | (!last || baseMf ? 0x2000 : 0) | (off & 0x1fff));
    f[10] = 0;
    f[11] = 0;
    put16(f, 10, finishChecksum(sumBytes(f, 0, hl, 0)));
    out.push(f);
  }
  return out;
}

function fragmentV6(p: Uint8Array, mtu: number, id: number): Uint8Array[] {
  // Unfragmentable part as Linux's ip6_find_1stfragopt finds it: hop-by-hop and routing headers, and
  // destination options unless a routing header came before them.
  let nhAtEnd = 6;
  let unfragEnd = 40;
  let foundRouting = false;
  for (;;) {
    const nh = p[nhAtEnd];
    if (nh === IPPROTO_ROUTING) foundRouting = true;
    else if (nh === IPPROTO_DSTOPTS) {
      if (foundRouting) break;
    } else if (nh !== IPPROTO_HOPOPTS) break;
    nhAtEnd = unfragEnd;
    unfragEnd += (p[unfragEnd + 1] + 1) << 3;
  }
  const nextAfter = p[nhAtEnd];
  const plen = (p[4] << 8) | p[5];
  const data = p.subarray(unfragEnd, 40 + plen);
  const step = (mtu - unfragEnd - 8) & ~7;
  if (step < 8) throw new Error(`fragment: MTU ${mtu} too small`);
  const out: Uint8Array[] = [];
  for (let o = 0; o < data.length; o += step) {
    const n = Math.min(step, data.length - o);
    const last = o + n >= data.length;
    const f = new Uint8Array(unfragEnd + 8 + n);
    f.set(p.subarray(0, unfragEnd), 0);
    f[nhAtEnd] = IPPROTO_FRAGMENT;
    const fh = unfragEnd;
    f[fh] = nextAfter;
    put16(f, fh + 2, (o & 0xfff8) | (last ? 0 : 1));
    put32(f, fh + 4, id);
    f.set(data.subarray(o, o + n), fh + 8);
    put16(f, 4, f.length - 40);
    out.push(f);
  }
  return out;
}
