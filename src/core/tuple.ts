/**
 * Tuple: a connection's identity in one direction (Linux `struct nf_conntrack_tuple`), as a reusable
 * record for the slow path and APIs. The conntrack table itself stores tuples in typed arrays.
 *
 * Field use by protocol:
 * - TCP, UDP, UDP-Lite, SCTP, DCCP: srcPort / dstPort.
 * - ICMP, ICMPv6: srcPort = identifier; dstPort = (type << 8) | code.
 * - GRE: srcPort / dstPort = the keys (Linux keeps 16-bit keys in the tuple).
 * - everything else: both 0.
 */
export class Tuple {
  /** 4 or 6 */
  family = 0;
  proto = 0;
  readonly src: Int32Array = new Int32Array(4);
  readonly dst: Int32Array = new Int32Array(4);
  srcPort = 0;
  dstPort = 0;

  copyFrom(t: Tuple): this {
    this.family = t.family;
    this.proto = t.proto;
    this.src.set(t.src);
    this.dst.set(t.dst);
    this.srcPort = t.srcPort;
    this.dstPort = t.dstPort;
    return this;
  }

  equals(t: Tuple): boolean {
    const a = this.src;
    const b = t.src;
    const c = this.dst;
    const d = t.dst;
    return (
      this.family === t.family &&
      this.proto === t.proto &&
      this.srcPort === t.srcPort &&
      this.dstPort === t.dstPort &&
      a[0] === b[0] &&
      a[1] === b[1] &&
      a[2] === b[2] &&
      a[3] === b[3] &&
      c[0] === d[0] &&
      c[1] === d[1] &&
      c[2] === d[2] &&
      c[3] === d[3]
    );
  }
}
