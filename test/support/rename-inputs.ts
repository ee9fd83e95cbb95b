/**
 * rename-inputs: carry NAT renamings back into a scenario's input captures.
 *
 * When the kernel's NAT picked a random port or ICMP id, the wan side of the recording answered that
 * value, so ctnat (which may pick another) cannot match those replies. After a first replay, the
 * comparator knows the renaming kernel -> ctnat (OracleReport.renames); rewriting the inputs with it
 * (destination ports of replies, echo ids, the quoted packet of ICMP errors) gives a second replay in
 * which the replies reach ctnat's choice. Checksums are adjusted incrementally, so a packet whose
 * checksum was wrong on purpose stays wrong.
 */
import { CaptureReader, PcapWriter } from "../../src/pcap/index.js";
import { type Rename, type RenameField, renameFields } from "./oracle.js";
import { checksumAdjust, layers, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP, PROTO_UDPLITE } from "./packet.js";

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >> 8;
  b[o + 1] = v & 0xff;
}

/** Offset of the IP packet in a frame of `linkType` (Ethernet, raw IP), -1 when not IP. */
function l3Offset(linkType: number, frame: Uint8Array): number {
  if (linkType === 101 || linkType === 228 || linkType === 229 || linkType === 12) return 0;
  if (linkType === 1 && frame.length >= 14) {
    const et = u16(frame, 12);
    return et === 0x0800 || et === 0x86dd ? 14 : -1;
  }
  return -1;
}

/** Rewrite one IP packet in place; returns true when something changed. */
export function renamePacket(ip: Uint8Array, renames: Map<string, number>): boolean {
  const L = layers(ip);
  if (!L) return false;
  const fields: RenameField[] = [];
  renameFields(ip, L, 0, false, fields);
  let changed = false;
  for (const f of fields) {
    const k = u16(ip, f.off);
    const c = renames.get(`${f.proto}|${f.addr}|${f.context}|${k}`);
    if (c === undefined || c === k) continue;
    put16(ip, f.off, c);
    for (const a of f.adjust) {
      const before = u16(ip, a);
      const after = checksumAdjust(before, k, c);
      put16(ip, a, after);
      // the quoted checksum is part of the ICMP payload: keep the ICMP checksum in step
      if (L.l4Off >= 0 && (L.proto === PROTO_ICMP || L.proto === PROTO_ICMPV6)) {
        const ic = L.l4Off + 2;
        put16(ip, ic, checksumAdjust(u16(ip, ic), before, after));
      }
    }
    // the renamed word itself: outer transport checksum (ports are not in the pseudo-header)
    if (L.l4Off >= 0 && L.fragOff === 0) {
      let co = -1;
      if (L.proto === PROTO_TCP) co = L.l4Off + 16;
      else if (L.proto === PROTO_UDP || L.proto === PROTO_UDPLITE) co = L.l4Off + 6;
      else if (L.proto === PROTO_ICMP || L.proto === PROTO_ICMPV6) co = L.l4Off + 2;
      const zeroUdp = L.proto === PROTO_UDP && u16(ip, co) === 0;
      if (co >= 0 && co + 1 < ip.length && !zeroUdp) put16(ip, co, checksumAdjust(u16(ip, co), k, c));
    }
    changed = true;
  }
  return changed;
}

/** The lookup table renamePacket wants, from a report's renames. */
export function renameTable(renames: Rename[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of renames) m.set(`${r.proto}|${r.addr}|${r.remote}|${r.kernel}`, r.ctnat);
  return m;
}

/** Rewrite a whole capture file (pcap or pcapng in; classic pcap with the same link type out). */
export function renameCapture(data: Uint8Array, renames: Rename[]): Uint8Array {
  const table = renameTable(renames);
  const reader = new CaptureReader();
  reader.push(data);
  reader.end();
  const chunks: Uint8Array[] = [];
  let writer: PcapWriter | undefined;
  for (let rec = reader.next(); rec !== null; rec = reader.next()) {
    writer ??= new PcapWriter((c) => chunks.push(c.slice()), { linkType: rec.linkType, nanosecond: true });
    const frame = rec.data.slice();
    const off = l3Offset(rec.linkType, frame);
    if (off >= 0) renamePacket(frame.subarray(off), table);
    writer.write(frame, 0, frame.length, rec.tsSec, rec.tsNsec, Math.max(rec.origLen, frame.length));
  }
  writer?.flush();
  if (!writer) return data;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
