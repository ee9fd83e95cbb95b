/**
 * readPcapIp: the IP packets of a classic pcap file's bytes (Ethernet or raw IP link types), with their
 * timestamps. Test helper for the kernel fixtures (small, trusted files).
 */
export interface PcapPacket {
  ts: number;
  ip: Uint8Array;
}

export function readPcapIp(file: Uint8Array): PcapPacket[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = dv.getUint32(0, true);
  let le: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
    le = true;
    nano = magic === 0xa1b23c4d;
  } else {
    le = false;
    nano = dv.getUint32(0, false) === 0xa1b23c4d;
  }
  const linktype = dv.getUint32(20, le);
  const out: PcapPacket[] = [];
  let o = 24;
  while (o + 16 <= file.length) {
    const sec = dv.getUint32(o, le);
    const frac = dv.getUint32(o + 4, le);
    const incl = dv.getUint32(o + 8, le);
    const data = file.subarray(o + 16, o + 16 + incl);
    o += 16 + incl;
    let ip: Uint8Array;
    if (linktype === 1) {
      let p = 12;
      let et = (data[p] << 8) | data[p + 1];
      while (et === 0x8100) {
        p += 4;
        et = (data[p] << 8) | data[p + 1];
      }
      if (et !== 0x0800 && et !== 0x86dd) continue;
      ip = data.subarray(p + 2);
    } else if (linktype === 101 || linktype === 228 || linktype === 229) {
      ip = data;
    } else {
      throw new Error(`unsupported link type ${linktype}`);
    }
    out.push({ ts: sec + frac / (nano ? 1e9 : 1e6), ip: ip.slice() });
  }
  return out;
}
