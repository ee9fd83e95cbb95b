/**
 * Hand-rolled capture byte builders for tests. They are written independently of src/pcap/writer.ts
 * (plain byte pushing, either byte order) so that reader tests do not share a writer's mistakes.
 */

export class Bytes {
  readonly le: boolean;
  private readonly out: number[] = [];

  constructor(littleEndian = true) {
    this.le = littleEndian;
  }

  get length(): number {
    return this.out.length;
  }

  u8(v: number): this {
    this.out.push(v & 0xff);
    return this;
  }

  u16(v: number): this {
    if (this.le) this.out.push(v & 0xff, (v >>> 8) & 0xff);
    else this.out.push((v >>> 8) & 0xff, v & 0xff);
    return this;
  }

  u32(v: number): this {
    v >>>= 0;
    if (this.le) this.out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
    else this.out.push(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }

  /** 64-bit value from a bigint (two's complement for negatives) */
  u64(v: bigint): this {
    const x = BigInt.asUintN(64, v);
    const hi = Number(x >> 32n);
    const lo = Number(x & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }

  bytes(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.out.push(b[i] & 0xff);
    return this;
  }

  pad4(): this {
    while (this.out.length % 4 !== 0) this.out.push(0);
    return this;
  }

  toArray(): number[] {
    return this.out.slice();
  }

  toUint8Array(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
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

export function payload(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

// ---- classic pcap ------------------------------------------------------------------------------

export interface PcapRecordSpec {
  sec: number;
  frac: number;
  data: Uint8Array;
  /** caplen field (default data.length) */
  caplen?: number;
  /** len field (default data.length) */
  len?: number;
  /** modified pcap extras */
  ifindex?: number;
  protocol?: number;
  pktType?: number;
}

export interface PcapFileSpec {
  le?: boolean;
  magic?: number;
  major?: number;
  minor?: number;
  snaplen?: number;
  linkType?: number;
  records?: PcapRecordSpec[];
}

export function pcapHeader(spec: PcapFileSpec): Bytes {
  const b = new Bytes(spec.le ?? true);
  b.u32(spec.magic ?? 0xa1b2c3d4)
    .u16(spec.major ?? 2)
    .u16(spec.minor ?? 4)
    .u32(0)
    .u32(0)
    .u32(spec.snaplen ?? 262144)
    .u32(spec.linkType ?? 1);
  return b;
}

export function pcapFile(spec: PcapFileSpec): Uint8Array {
  const b = pcapHeader(spec);
  const modified = (spec.magic ?? 0xa1b2c3d4) === 0xa1b2cd34;
  for (const r of spec.records ?? []) {
    b.u32(r.sec)
      .u32(r.frac)
      .u32(r.caplen ?? r.data.length)
      .u32(r.len ?? r.data.length);
    if (modified)
      b.u32(r.ifindex ?? 0)
        .u16(r.protocol ?? 0)
        .u8(r.pktType ?? 0)
        .u8(0);
    b.bytes(r.data);
  }
  return b.toUint8Array();
}

// ---- pcapng -------------------------------------------------------------------------------------

export type Option = [code: number, value: ArrayLike<number>];

export function str(s: string): number[] {
  return Array.from(new TextEncoder().encode(s));
}

function options(b: Bytes, opts: Option[] | undefined, end = true): void {
  if (!opts || opts.length === 0) return;
  for (const [code, value] of opts) {
    b.u16(code).u16(value.length).bytes(value).pad4();
  }
  if (end) b.u32(0);
}

/** block: a generic block with the given body; the total length is computed (or forced). */
export function block(
  le: boolean,
  type: number,
  body: (b: Bytes) => void,
  forceLen?: number,
  trailerLen?: number,
): Uint8Array {
  const inner = new Bytes(le);
  body(inner);
  inner.pad4();
  const len = inner.length + 12;
  const b = new Bytes(le);
  b.u32(type)
    .u32(forceLen ?? len)
    .bytes(inner.toArray())
    .u32(trailerLen ?? forceLen ?? len);
  return b.toUint8Array();
}

export function shb(le: boolean, opts?: Option[], major = 1, minor = 0): Uint8Array {
  return block(le, 0x0a0d0d0a, (b) => {
    b.u32(0x1a2b3c4d).u16(major).u16(minor).u64(-1n);
    options(b, opts);
  });
}

export interface IdbSpec {
  linkType?: number;
  snaplen?: number;
  name?: string;
  tsresol?: number;
  tsoffset?: bigint;
  extra?: Option[];
}

export function idb(le: boolean, spec: IdbSpec = {}): Uint8Array {
  const opts: Option[] = [];
  if (spec.name !== undefined) opts.push([2, str(spec.name)]);
  if (spec.tsresol !== undefined) opts.push([9, [spec.tsresol]]);
  if (spec.tsoffset !== undefined) {
    const t = new Bytes(le).u64(spec.tsoffset);
    opts.push([14, t.toArray()]);
  }
  if (spec.extra) opts.push(...spec.extra);
  return block(le, 1, (b) => {
    b.u16(spec.linkType ?? 1)
      .u16(0)
      .u32(spec.snaplen ?? 262144);
    options(b, opts);
  });
}

export interface EpbSpec {
  ifid?: number;
  /** timestamp in interface units */
  ts: bigint;
  data: Uint8Array;
  caplen?: number;
  len?: number;
  flags?: number;
  comments?: string[];
  extra?: Option[];
}

export function epb(le: boolean, spec: EpbSpec): Uint8Array {
  const opts: Option[] = [];
  for (const c of spec.comments ?? []) opts.push([1, str(c)]);
  if (spec.flags !== undefined) opts.push([2, new Bytes(le).u32(spec.flags).toArray()]);
  if (spec.extra) opts.push(...spec.extra);
  return block(le, 6, (b) => {
    b.u32(spec.ifid ?? 0)
      .u32(Number(spec.ts >> 32n))
      .u32(Number(spec.ts & 0xffffffffn))
      .u32(spec.caplen ?? spec.data.length)
      .u32(spec.len ?? spec.data.length)
      .bytes(spec.data)
      .pad4();
    options(b, opts);
  });
}

export function spb(le: boolean, len: number, data: Uint8Array): Uint8Array {
  return block(le, 3, (b) => {
    b.u32(len).bytes(data).pad4();
  });
}

export function pb(le: boolean, spec: EpbSpec & { drops?: number }): Uint8Array {
  const opts: Option[] = [];
  for (const c of spec.comments ?? []) opts.push([1, str(c)]);
  if (spec.flags !== undefined) opts.push([2, new Bytes(le).u32(spec.flags).toArray()]);
  return block(le, 2, (b) => {
    b.u16(spec.ifid ?? 0)
      .u16(spec.drops ?? 0)
      .u32(Number(spec.ts >> 32n))
      .u32(Number(spec.ts & 0xffffffffn))
      .u32(spec.caplen ?? spec.data.length)
      .u32(spec.len ?? spec.data.length)
      .bytes(spec.data)
      .pad4();
    options(b, opts);
  });
}

/** Interface Statistics Block (skipped by readers that do not use it) */
export function isb(le: boolean, ifid: number): Uint8Array {
  return block(le, 5, (b) => {
    b.u32(ifid).u32(0).u32(0);
    options(b, [[4, new Bytes(le).u64(42n).toArray()]]);
  });
}

/** Name Resolution Block with one IPv4 record */
export function nrb(le: boolean): Uint8Array {
  return block(le, 4, (b) => {
    const name = str("host.example\0");
    b.u16(1)
      .u16(4 + name.length)
      .bytes([192, 0, 2, 1])
      .bytes(name)
      .pad4()
      .u16(0)
      .u16(0);
  });
}
