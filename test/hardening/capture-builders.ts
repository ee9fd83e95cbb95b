/**
 * Builders of (malformed) pcap and pcapng streams for the hardening tests.
 */

export function u8(n: number): Uint8Array {
  return new Uint8Array(n);
}
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = u8(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** classic pcap file header */
export function pcapHeader(
  o: { major?: number; minor?: number; snaplen?: number; linkType?: number } = {},
): Uint8Array {
  const b = u8(24);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, o.major ?? 2, true);
  v.setUint16(6, o.minor ?? 4, true);
  v.setUint32(16, o.snaplen ?? 65535, true);
  v.setUint32(20, o.linkType ?? 1, true);
  return b;
}
/** classic pcap record */
export function pcapRecord(capLen: number, dataLen = capLen): Uint8Array {
  const b = u8(16 + dataLen);
  const v = new DataView(b.buffer);
  v.setUint32(0, 1700000000, true);
  v.setUint32(8, capLen, true);
  v.setUint32(12, capLen, true);
  return b;
}

/** a pcapng block: type, body (padded to 4), total length in header and trailer (or the given lies) */
export function block(type: number, body: Uint8Array, lie: { len?: number; trailer?: number } = {}): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const len = 12 + padded;
  const b = u8(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, lie.len ?? len, true);
  b.set(body, 8);
  v.setUint32(len - 4, lie.trailer ?? lie.len ?? len, true);
  return b;
}
export function shb(o: { major?: number; minor?: number; magic?: number } = {}): Uint8Array {
  const body = u8(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, o.magic ?? 0x1a2b3c4d, true);
  v.setUint16(4, o.major ?? 1, true);
  v.setUint16(6, o.minor ?? 0, true);
  v.setInt32(8, -1, true);
  v.setInt32(12, -1, true);
  return block(0x0a0d0d0a, body);
}
/** an option: code, length, value bytes (padded) */
export function opt(code: number, value: Uint8Array, len = value.length): Uint8Array {
  const b = u8(4 + ((value.length + 3) & ~3));
  const v = new DataView(b.buffer);
  v.setUint16(0, code, true);
  v.setUint16(2, len, true);
  b.set(value, 4);
  return b;
}
export function idb(
  o: { linkType?: number; snaplen?: number; options?: Uint8Array; bodyLen?: number } = {},
): Uint8Array {
  const body = u8(o.bodyLen ?? 8 + (o.options?.length ?? 0));
  const v = new DataView(body.buffer);
  if (body.length >= 8) {
    v.setUint16(0, o.linkType ?? 1, true);
    v.setUint32(4, o.snaplen ?? 0, true);
  }
  if (o.options !== undefined) body.set(o.options, 8);
  return block(1, body);
}
export function epb(o: { ifid?: number; capLen?: number; data?: number; bodyLen?: number } = {}): Uint8Array {
  const data = o.data ?? 60;
  const body = u8(o.bodyLen ?? 20 + ((data + 3) & ~3));
  const v = new DataView(body.buffer);
  if (body.length >= 20) {
    v.setUint32(0, o.ifid ?? 0, true);
    v.setUint32(12, o.capLen ?? data, true);
    v.setUint32(16, o.capLen ?? data, true);
  }
  return block(6, body);
}
