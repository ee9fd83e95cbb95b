/**
 * pcap-lite: a small capture reader for the oracle comparator, reading whole files into memory.
 *
 * Reads classic pcap (either byte order, micro- or nanosecond timestamps) and pcapng (SHB, IDB, EPB,
 * SPB; other blocks skipped) and hands back each packet's layer-3 bytes (the link layer stripped) with
 * its timestamp. Non-IP frames (ARP, LLDP, ...) come back with `l3` empty and `nonIp` set.
 *
 * Temporary: once src/pcap has a reader, the comparator switches to it and this file goes.
 */

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

export class CaptureFormatError extends Error {
  override readonly name = "CaptureFormatError";
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`byte ${offset}: ${message}`);
    this.offset = offset;
  }
}

/** Read every packet of a pcap or pcapng file held in `data`. */
export function readCaptureBytes(data: Uint8Array): CapturedPacket[] {
  if (data.length < 4) throw new CaptureFormatError("file too short for a capture header", 0);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (dv.getUint32(0, true) === 0x0a0d0d0a) return readPcapNg(data, dv);
  return readPcap(data, dv);
}

function readPcap(data: Uint8Array, dv: DataView): CapturedPacket[] {
  if (data.length < 24) throw new CaptureFormatError("truncated pcap file header", 0);
  const m = dv.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) {
    le = true;
    nano = m === 0xa1b23c4d;
  } else {
    const mb = dv.getUint32(0, false);
    if (mb !== 0xa1b2c3d4 && mb !== 0xa1b23c4d) throw new CaptureFormatError("not a pcap or pcapng file", 0);
    le = false;
    nano = mb === 0xa1b23c4d;
  }
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const out: CapturedPacket[] = [];
  let off = 24;
  while (off < data.length) {
    if (off + 16 > data.length) throw new CaptureFormatError("truncated record header", off);
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    if (off + 16 + incl > data.length) throw new CaptureFormatError("truncated record", off);
    const time = sec + frac / (nano ? 1e9 : 1e6);
    out.push(toPacket(out.length, time, linkType, data.subarray(off + 16, off + 16 + incl)));
    off += 16 + incl;
  }
  return out;
}

function readPcapNg(data: Uint8Array, dv: DataView): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  let le = true;
  let ifaces: { linkType: number; tsDiv: number; tsOff: number }[] = [];
  let off = 0;
  while (off + 12 <= data.length) {
    let type = dv.getUint32(off, le);
    if (type === 0x0a0d0d0a) {
      const bom = dv.getUint32(off + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new CaptureFormatError("bad pcapng byte-order magic", off + 8);
      ifaces = [];
      type = 0x0a0d0d0a;
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || off + len > data.length) throw new CaptureFormatError("bad pcapng block length", off + 4);
    const body = off + 8;
    if (type === 1) {
      const linkType = dv.getUint16(body, le);
      let tsDiv = 1e6;
      let tsOff = 0;
      let o = body + 8;
      while (o + 4 <= off + len - 4) {
        const code = dv.getUint16(o, le);
        const olen = dv.getUint16(o + 2, le);
        if (code === 0) break;
        if (code === 9 && olen >= 1) {
          const r = data[o + 4];
          tsDiv = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        }
        if (code === 14 && olen >= 8) tsOff = Number(dv.getBigInt64(o + 4, le));
        o += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType, tsDiv, tsOff });
    } else if (type === 6) {
      const ifId = dv.getUint32(body, le);
      const hi = dv.getUint32(body + 4, le);
      const lo = dv.getUint32(body + 8, le);
      const capLen = dv.getUint32(body + 12, le);
      const ifc = ifaces[ifId];
      if (!ifc) throw new CaptureFormatError(`packet for unknown interface ${ifId}`, body);
      const ts = hi * 4294967296 + lo;
      const time = ifc.tsOff + Math.floor(ts / ifc.tsDiv) + (ts % ifc.tsDiv) / ifc.tsDiv;
      out.push(toPacket(out.length, time, ifc.linkType, data.subarray(body + 20, body + 20 + capLen)));
    } else if (type === 3) {
      const ifc = ifaces[0];
      if (!ifc) throw new CaptureFormatError("simple packet block without an interface", body);
      const origLen = dv.getUint32(body, le);
      const capLen = Math.min(origLen, len - 16);
      out.push(toPacket(out.length, 0, ifc.linkType, data.subarray(body + 4, body + 4 + capLen)));
    }
    off += len;
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

/** Write IP packets as a classic pcap file with link type RAW (101), microsecond timestamps. */
export function writeRawPcap(packets: { time: number; l3: Uint8Array }[]): Uint8Array {
  const total = 24 + packets.reduce((n, p) => n + 16 + p.l3.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, LINKTYPE_RAW, true);
  let off = 24;
  for (const p of packets) {
    let sec = Math.floor(p.time);
    let usec = Math.round((p.time - sec) * 1e6);
    if (usec >= 1e6) {
      sec++;
      usec -= 1e6;
    }
    dv.setUint32(off, sec, true);
    dv.setUint32(off + 4, usec, true);
    dv.setUint32(off + 8, p.l3.length, true);
    dv.setUint32(off + 12, p.l3.length, true);
    out.set(p.l3, off + 16);
    off += 16 + p.l3.length;
  }
  return out;
}
