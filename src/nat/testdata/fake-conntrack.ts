/**
 * FakeConntrack: a tiny connection table implementing NatConntrack for NAT tests (string keys, arrays:
 * test code only). Entries are created unconfirmed; `confirm` puts both tuples in the hash as Linux's
 * __nf_conntrack_confirm does (and reports a clash instead when either tuple is taken).
 */
import { Dir, IPS } from "../../core/netfilter.js";
import { Tuple } from "../../core/tuple.js";
import { invertTuple } from "../tuple-ops.js";
import type { NatConntrack, NatRandom } from "../types.js";

export function tupleKey(t: Tuple): string {
  return `${t.family}/${t.proto}/${t.src.join(",")}/${t.srcPort}/${t.dst.join(",")}/${t.dstPort}`;
}

export interface FakeEntry {
  orig: Tuple;
  reply: Tuple;
  status: number;
  tcpState: number;
  tdEnd: [number, number];
  alive: boolean;
}

export class FakeConntrack implements NatConntrack {
  readonly entries: FakeEntry[] = [];
  private readonly hash = new Map<string, number>();
  onDestroy: (ct: number) => void = () => {};

  /** create: a new unconfirmed entry for a packet whose tuple is `orig`. */
  create(orig: Tuple, tcpState = 0, tdEnd = 0): number {
    const o = new Tuple().copyFrom(orig);
    const r = new Tuple();
    invertTuple(r, o);
    this.entries.push({ orig: o, reply: r, status: 0, tcpState, tdEnd: [tdEnd, 0], alive: true });
    return this.entries.length - 1;
  }

  /** confirm: insert into the hash; returns false (and destroys the entry) on a clash. */
  confirm(ct: number): boolean {
    const e = this.entries[ct];
    const ko = tupleKey(e.orig);
    const kr = tupleKey(e.reply);
    if (this.hash.has(ko) || this.hash.has(kr)) {
      this.destroy(ct);
      return false;
    }
    this.hash.set(ko, ct << 1);
    this.hash.set(kr, (ct << 1) | 1);
    e.status |= IPS.CONFIRMED;
    return true;
  }

  destroy(ct: number): void {
    const e = this.entries[ct];
    if (!e.alive) return;
    e.alive = false;
    for (const k of [tupleKey(e.orig), tupleKey(e.reply)]) {
      const h = this.hash.get(k);
      if (h !== undefined && h >> 1 === ct) this.hash.delete(k);
    }
    this.onDestroy(ct);
  }

  tuple(ct: number, dir: number, out: Tuple): void {
    const e = this.entries[ct];
    out.copyFrom(dir === Dir.Original ? e.orig : e.reply);
  }
  status(ct: number): number {
    return this.entries[ct].status;
  }
  setStatus(ct: number, bits: number): void {
    this.entries[ct].status |= bits;
  }
  setTuple(ct: number, dir: number, t: Tuple): boolean {
    const e = this.entries[ct];
    if ((e.status & IPS.CONFIRMED) !== 0) throw new Error("setTuple on a confirmed entry");
    (dir === Dir.Original ? e.orig : e.reply).copyFrom(t);
    return true;
  }
  tupleTaken(tuple: Tuple, ignoredCt: number): boolean {
    const h = this.hash.get(tupleKey(tuple));
    if (h === undefined) return false;
    const other = h >> 1;
    if (other === ignoredCt) return false;
    if (ignoredCt >= 0 && this.entries[other].orig.equals(this.entries[ignoredCt].orig)) return false;
    return true;
  }
  foundDir = 0;
  findTuple(tuple: Tuple): number {
    const h = this.hash.get(tupleKey(tuple));
    if (h === undefined) return -1;
    this.foundDir = h & 1;
    return h >> 1;
  }
  tcpState(ct: number): number {
    return this.entries[ct].tcpState;
  }
  tcpSeenEnd(ct: number, dir: number): number {
    return this.entries[ct].tdEnd[dir];
  }
  kill(ct: number): boolean {
    if (!this.entries[ct].alive) return false;
    this.destroy(ct);
    return true;
  }
  /** count of live confirmed entries */
  get size(): number {
    return this.hash.size / 2;
  }
}

/** SeqRandom: a deterministic xorshift32 generator. */
export class SeqRandom implements NatRandom {
  private s: number;
  calls = 0;
  constructor(seed = 0x1234567) {
    this.s = seed | 0 || 1;
  }
  randomU32(): number {
    this.calls++;
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
}

/** tuple: build a Tuple (ports for TCP/UDP; for ICMP pass id as sport and (type<<8)|code as dport). */
export function tuple(
  family: number,
  proto: number,
  src: Int32Array | number,
  sport: number,
  dst: Int32Array | number,
  dport: number,
): Tuple {
  const t = new Tuple();
  t.family = family;
  t.proto = proto;
  if (typeof src === "number") t.src[0] = src;
  else t.src.set(src);
  if (typeof dst === "number") t.dst[0] = dst;
  else t.dst.set(dst);
  t.srcPort = sport;
  t.dstPort = dport;
  return t;
}
