/**
 * capture: the oracle comparator's view of a capture file: every record's layer-3 bytes (link layer
 * stripped, trimmed to the IP length) with its timestamp. File parsing is src/pcap's CaptureReader
 * (pcap and pcapng); the link layer is stripped here because NFLOG captures (tcpdump -i nflog:N) must be
 * read too. Non-IP frames (ARP, LLDP, ...) come back with `l3` empty and `nonIp` set.
 *
 * Slow path, test code: copies every packet.
 */
import { CaptureReader, LinkType, PcapWriter } from "../../src/pcap/index.js";

export interface CapturedPacket {
  /** 0-based index in the file, counting every record */
  index: number;
  /** timestamp, seconds (fractional) */
  time: number;
  /** link type the record was captured with */
  linkType: number;
  /** the IP packet (trimmed to the IP header's length when the capture carries padding) */
  l3: Uint8Array;
  /** the frame was not IP (ARP and the like); l3 is empty then */
  nonIp: boolean;
  /** ethertype of an Ethernet/SLL frame, 0 when unknown */
  etherType: number;
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW_DLT = 12;
const LINKTYPE_RAW = 101;
const LINKTYPE_LOOP = 108;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_NFLOG = 239;
const LINKTYPE_LINUX_SLL2 = 276;

/** Read every packet of a pcap or pcapng file held in `data` (throws CaptureFormatError when corrupt). */
export function readCaptureBytes(data: Uint8Array): CapturedPacket[] {
  const reader = new CaptureReader();
  const out: CapturedPacket[] = [];
  reader.push(data);
  reader.end();
  for (let rec = reader.next(); rec !== null; rec = reader.next()) {
    out.push(toPacket(out.length, rec.time, rec.linkType, rec.data.slice()));
  }
  return out;
}

/** Write IP packets as a classic pcap file with link type RAW (101), microsecond timestamps. */
export function writeRawPcap(packets: { time: number; l3: Uint8Array }[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c.slice()), { linkType: LinkType.Raw });
  for (const p of packets) {
    const sec = Math.floor(p.time);
    const usec = Math.min(999999, Math.round((p.time - sec) * 1e6));
    w.write(p.l3, 0, p.l3.length, sec, usec * 1000);
  }
  w.flush();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function toPacket(index: number, time: number, linkType: number, frame: Uint8Array): CapturedPacket {
  let l3: Uint8Array | undefined;
  let etherType = 0;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      let o = 12;
      etherType = frame.length >= 14 ? (frame[12] << 8) | frame[13] : 0;
      while ((etherType === 0x8100 || etherType === 0x88a8) && frame.length >= o + 6) {
        o += 4;
        etherType = (frame[o] << 8) | frame[o + 1];
      }
      if (etherType === 0x0800 || etherType === 0x86dd) l3 = frame.subarray(o + 2);
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_DLT:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      l3 = frame;
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      l3 = frame.subarray(4);
      break;
    case LINKTYPE_LINUX_SLL:
      etherType = frame.length >= 16 ? (frame[14] << 8) | frame[15] : 0;
      if (etherType === 0x0800 || etherType === 0x86dd) l3 = frame.subarray(16);
      break;
    case LINKTYPE_LINUX_SLL2:
      etherType = frame.length >= 2 ? (frame[0] << 8) | frame[1] : 0;
      if (etherType === 0x0800 || etherType === 0x86dd) l3 = frame.subarray(20);
      break;
    case LINKTYPE_NFLOG: {
      let t = 4;
      while (t + 4 <= frame.length) {
        const tlen = frame[t] | (frame[t + 1] << 8);
        const ttype = frame[t + 2] | (frame[t + 3] << 8);
        if (tlen < 4) break;
        if (ttype === 9) l3 = frame.subarray(t + 4, t + tlen);
        t += (tlen + 3) & ~3;
      }
      break;
    }
    default:
      l3 = undefined;
  }
  if (l3 && l3.length > 0) {
    const v = l3[0] >> 4;
    let ipLen = -1;
    if (v === 4 && l3.length >= 4) ipLen = (l3[2] << 8) | l3[3];
    else if (v === 6 && l3.length >= 6) ipLen = 40 + ((l3[4] << 8) | l3[5]);
    if (ipLen > 0 && ipLen < l3.length) l3 = l3.subarray(0, ipLen);
    return { index, time, linkType, l3, nonIp: false, etherType };
  }
  return { index, time, linkType, l3: new Uint8Array(0), nonIp: true, etherType };
}
