/**
 * A minimal classic-pcap reader for wire-layer tests (the project's real reader lives in src/pcap).
 * Reads both byte orders and both timestamp resolutions; the FCS bits of the link-type field are
 * masked off. pcapng files are not read (returns null).
 */
export interface MiniFrame {
  data: Uint8Array;
  origLen: number;
  /** timestamp, seconds */
  ts: number;
}

export function readPcapMini(file: Uint8Array): { linkType: number; frames: MiniFrame[] } | null {
  if (file.length < 24) return null;
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const m = dv.getUint32(0, true);
  let le: boolean;
  if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) le = true;
  else if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) le = false;
  else return null;
  const nano = m === 0xa1b23c4d || m === 0x4d3cb2a1;
  const linkType = dv.getUint32(20, le) & 0xffff;
  const frames: MiniFrame[] = [];
  let p = 24;
  while (p + 16 <= file.length) {
    const ts = dv.getUint32(p, le) + dv.getUint32(p + 4, le) / (nano ? 1e9 : 1e6);
    const incl = dv.getUint32(p + 8, le);
    const orig = dv.getUint32(p + 12, le);
    p += 16;
    if (incl > file.length - p) break;
    frames.push({ data: file.subarray(p, p + incl), origLen: orig, ts });
    p += incl;
  }
  return { linkType, frames };
}
