/**
 * Fast writers of IPv4 TCP / UDP packets for the benchmark generators: the bytes a real host would
 * send (DF set, TTL, Linux-like TCP options), with correct IPv4 header and transport checksums. They
 * write into caller-owned buffers and allocate nothing, so traffic for millions of packets can be
 * regenerated between timed runs without disturbing the garbage collector.
 *
 * The checksum code here is deliberately independent of src/wire: a packet the gateway accepts was
 * checked by two implementations. `selfCheck()` compares a sample against src/wire's buildPacket.
 */

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** ip4: dotted quad to a 32-bit int (as src/ keeps addresses: int32 words) */
export function ip4(s: string): number {
  const p = s.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 address ${s}`);
  return (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3] | 0;
}

/** ip4str: a 32-bit int as a dotted quad */
export function ip4str(a: number): string {
  return `${(a >>> 24) & 255}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** sum16: one's-complement partial sum of bytes [o, o+len) added to `sum` (not folded) */
export function sum16(b: Uint8Array, o: number, len: number, sum: number): number {
  const end = o + (len & ~1);
  for (let i = o; i < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (len & 1) sum += b[o + len - 1] << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

/** writeIpv4Header: a 20-byte header with DF, and its checksum */
function writeIpv4(
  b: Uint8Array,
  o: number,
  totalLen: number,
  id: number,
  ttl: number,
  proto: number,
  src: number,
  dst: number,
): void {
  b[o] = 0x45;
  b[o + 1] = 0;
  put16(b, o + 2, totalLen);
  put16(b, o + 4, id & 0xffff);
  b[o + 6] = 0x40; // DF, as Linux sets on TCP and on UDP with PMTU discovery
  b[o + 7] = 0;
  b[o + 8] = ttl;
  b[o + 9] = proto;
  b[o + 10] = 0;
  b[o + 11] = 0;
  put32(b, o + 12, src);
  put32(b, o + 16, dst);
  put16(b, o + 10, ~fold(sum16(b, o, 20, 0)) & 0xffff);
}

function pseudo(src: number, dst: number, proto: number, l4len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + l4len;
}

/** Option blocks as Linux sends them. */
export const OPT = {
  /** SYN / SYN-ACK: MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (20 bytes) */
  syn: 1,
  /** established segments: NOP, NOP, timestamps (12 bytes) */
  ts: 2,
  /** no options */
  none: 0,
} as const;

function optLen(kind: number): number {
  return kind === OPT.syn ? 20 : kind === OPT.ts ? 12 : 0;
}

function writeOpts(b: Uint8Array, o: number, kind: number, tsval: number, tsecr: number): void {
  if (kind === OPT.syn) {
    b[o] = 2; // MSS
    b[o + 1] = 4;
    put16(b, o + 2, 1460);
    b[o + 4] = 4; // SACK permitted
    b[o + 5] = 2;
    b[o + 6] = 8; // timestamps
    b[o + 7] = 10;
    put32(b, o + 8, tsval);
    put32(b, o + 12, tsecr);
    b[o + 16] = 1; // NOP
    b[o + 17] = 3; // window scale 7
    b[o + 18] = 3;
    b[o + 19] = 7;
  } else if (kind === OPT.ts) {
    b[o] = 1;
    b[o + 1] = 1;
    b[o + 2] = 8;
    b[o + 3] = 10;
    put32(b, o + 4, tsval);
    put32(b, o + 8, tsecr);
  }
}

/** PAYLOAD: the bytes every generated payload is cut from (printable, deterministic) */
export const PAYLOAD: Uint8Array = (() => {
  const p = new Uint8Array(1500);
  for (let i = 0; i < p.length; i++) p[i] = 0x41 + ((i * 7) % 26);
  return p;
})();

/**
 * writeTcp4: an IPv4 TCP segment at b[o..]; returns its length. `payloadLen` bytes of PAYLOAD follow
 * the header; `opts` is an OPT kind; tsval/tsecr fill the timestamp option.
 */
export function writeTcp4(
  b: Uint8Array,
  o: number,
  src: number,
  dst: number,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  win: number,
  opts: number,
  tsval: number,
  tsecr: number,
  payloadLen: number,
  ttl: number,
  id: number,
): number {
  const ol = optLen(opts);
  const thl = 20 + ol;
  const l4len = thl + payloadLen;
  const total = 20 + l4len;
  writeIpv4(b, o, total, id, ttl, 6, src, dst);
  const t = o + 20;
  put16(b, t, sport);
  put16(b, t + 2, dport);
  put32(b, t + 4, seq);
  put32(b, t + 8, ack);
  b[t + 12] = (thl >>> 2) << 4;
  b[t + 13] = flags;
  put16(b, t + 14, win);
  b[t + 16] = 0;
  b[t + 17] = 0;
  b[t + 18] = 0;
  b[t + 19] = 0;
  writeOpts(b, t + 20, opts, tsval, tsecr);
  const p = t + thl;
  for (let i = 0; i < payloadLen; i++) b[p + i] = PAYLOAD[i];
  const s = sum16(b, t, l4len, pseudo(src, dst, 6, l4len));
  put16(b, t + 16, ~fold(s) & 0xffff);
  return total;
}

/** writeUdp4: an IPv4 UDP datagram at b[o..] with `payloadLen` bytes of PAYLOAD; returns its length */
export function writeUdp4(
  b: Uint8Array,
  o: number,
  src: number,
  dst: number,
  sport: number,
  dport: number,
  payloadLen: number,
  ttl: number,
  id: number,
): number {
  const l4len = 8 + payloadLen;
  const total = 20 + l4len;
  writeIpv4(b, o, total, id, ttl, 17, src, dst);
  const u = o + 20;
  put16(b, u, sport);
  put16(b, u + 2, dport);
  put16(b, u + 4, l4len);
  b[u + 6] = 0;
  b[u + 7] = 0;
  for (let i = 0; i < payloadLen; i++) b[u + 8 + i] = PAYLOAD[i];
  let c = ~fold(sum16(b, u, l4len, pseudo(src, dst, 17, l4len))) & 0xffff;
  if (c === 0) c = 0xffff;
  put16(b, u + 6, c);
  return total;
}

/** writeEthernet: a 14-byte Ethernet II header (IPv4 ethertype) */
export function writeEthernet(b: Uint8Array, o: number, dst: Uint8Array, src: Uint8Array): void {
  for (let i = 0; i < 6; i++) {
    b[o + i] = dst[i];
    b[o + 6 + i] = src[i];
  }
  b[o + 12] = 0x08;
  b[o + 13] = 0x00;
}

/** tcpSrcPort / tcpDstPort of an IPv4 packet without options at b[o..] (sink-side reads) */
export function l4SrcPort(b: Uint8Array, o: number): number {
  const ihl = (b[o] & 15) << 2;
  return (b[o + ihl] << 8) | b[o + ihl + 1];
}
export function ipv4Src(b: Uint8Array, o: number): number {
  return (b[o + 12] << 24) | (b[o + 13] << 16) | (b[o + 14] << 8) | b[o + 15] | 0;
}
