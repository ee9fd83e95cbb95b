/**
 * connlimit match: `-m connlimit --connlimit-upto|--connlimit-above N [--connlimit-mask LEN]
 * [--connlimit-saddr|--connlimit-daddr]` (Linux xt_connlimit.c over nf_conncount.c, iptables
 * libxt_connlimit.c): how many connections the packet's group (source or destination address under
 * the mask, in the packet's conntrack zone) has, compared with N.
 *
 * Each rule keeps its own lists, as the kernel's per-rule nf_conncount data: a packet adds its
 * connection's original tuple (the packet's own tuple without a connection) to its group's list, unless
 * it is there already; before that, the list is checked entry by entry against the connection table:
 * tuples whose connection is gone, or is a TCP connection in TIME_WAIT or CLOSE, are dropped (at most 8
 * per packet). The count is the list's length after the addition. A list checked in the current jiffy
 * is not checked again (nf_conncount's last_gc).
 */
import { IPPROTO } from "../../core/netfilter.js";
import type { Skb } from "../../core/skb.js";
import type { Tuple } from "../../core/tuple.js";
import { WireStatus } from "../../wire/packet-info.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";
import { parseUint } from "../util.js";

const KEY = 5;
/** tuple words: family | proto << 8, src (4), dst (4), ports, zone */
const TW = 11;
/** CONNCOUNT_GC_MAX_NODES */
const GC_MAX = 8;
const TCP_TIME_WAIT = 7;
const TCP_CLOSE = 8;

/** ConnCount: the lists of one rule (Linux struct nf_conncount_data), in typed arrays. */
export class ConnCount {
  // groups
  private gKeys: Int32Array = new Int32Array(16 * KEY);
  private gHead: Int32Array = new Int32Array(16);
  private gTail: Int32Array = new Int32Array(16);
  private gCount: Int32Array = new Int32Array(16);
  private gLastGc: Float64Array = new Float64Array(16);
  private gNext: Int32Array = new Int32Array(16);
  private gUsed = 0;
  private gFree = -1;
  private heads: Int32Array = new Int32Array(16).fill(-1);
  private mask = 15;
  // saved tuples
  private cWords: Int32Array = new Int32Array(16 * TW);
  private cNext: Int32Array = new Int32Array(16);
  private cJiffies: Float64Array = new Float64Array(16);
  private cUsed = 0;
  private cFree = -1;
  readonly key: Int32Array = new Int32Array(KEY);
  readonly tw: Int32Array = new Int32Array(TW);

  private hash(k: Int32Array, o: number): number {
    let h = 0x3c6ef372;
    for (let i = 0; i < KEY; i++) {
      h = Math.imul(h ^ k[o + i]!, 0x9e3779b1);
      h ^= h >>> 15;
    }
    return h & this.mask;
  }

  private findGroup(): number {
    const k = this.key;
    for (let g = this.heads[this.hash(k, 0)]!; g >= 0; g = this.gNext[g]!) {
      const o = g * KEY;
      const gk = this.gKeys;
      if (gk[o] === k[0] && gk[o + 1] === k[1] && gk[o + 2] === k[2] && gk[o + 3] === k[3] && gk[o + 4] === k[4]) {
        return g;
      }
    }
    return -1;
  }

  private newGroup(jiffies: number): number {
    let g: number;
    if (this.gFree >= 0) {
      g = this.gFree;
      this.gFree = this.gNext[g]!;
    } else {
      if (this.gUsed === this.gHead.length) this.growGroups();
      g = this.gUsed++;
    }
    this.gKeys.set(this.key, g * KEY);
    this.gHead[g] = -1;
    this.gTail[g] = -1;
    this.gCount[g] = 0;
    this.gLastGc[g] = jiffies;
    const b = this.hash(this.key, 0);
    this.gNext[g] = this.heads[b]!;
    this.heads[b] = g;
    return g;
  }

  private growGroups(): void {
    const n = this.gHead.length * 2;
    const i32 = (a: Int32Array, m: number): Int32Array => {
      const b = new Int32Array(m);
      b.set(a);
      return b;
    };
    this.gKeys = i32(this.gKeys, n * KEY);
    this.gHead = i32(this.gHead, n);
    this.gTail = i32(this.gTail, n);
    this.gCount = i32(this.gCount, n);
    this.gNext = i32(this.gNext, n);
    const lg = new Float64Array(n);
    lg.set(this.gLastGc);
    this.gLastGc = lg;
    this.heads = new Int32Array(n).fill(-1);
    this.mask = n - 1;
    for (let g = 0; g < this.gUsed; g++) {
      const b = this.hash(this.gKeys, g * KEY);
      this.gNext[g] = this.heads[b]!;
      this.heads[b] = g;
    }
  }

  private newConn(jiffies: number): number {
    let c: number;
    if (this.cFree >= 0) {
      c = this.cFree;
      this.cFree = this.cNext[c]!;
    } else {
      if (this.cUsed === this.cNext.length) {
        const n = this.cNext.length * 2;
        const w = new Int32Array(n * TW);
        w.set(this.cWords);
        this.cWords = w;
        const nx = new Int32Array(n);
        nx.set(this.cNext);
        this.cNext = nx;
        const j = new Float64Array(n);
        j.set(this.cJiffies);
        this.cJiffies = j;
      }
      c = this.cUsed++;
    }
    this.cWords.set(this.tw, c * TW);
    this.cJiffies[c] = jiffies;
    this.cNext[c] = -1;
    return c;
  }

  private sameTuple(c: number): boolean {
    const o = c * TW;
    const w = this.cWords;
    const t = this.tw;
    for (let i = 0; i < TW - 1; i++) if (w[o + i] !== t[i]) return false;
    return true;
  }

  private loadTuple(c: number, out: Tuple): void {
    const o = c * TW;
    const w = this.cWords;
    out.family = w[o]! & 0xff;
    out.proto = (w[o]! >>> 8) & 0xff;
    for (let i = 0; i < 4; i++) {
      out.src[i] = w[o + 1 + i]!;
      out.dst[i] = w[o + 5 + i]!;
    }
    out.srcPort = w[o + 9]! >>> 16;
    out.dstPort = w[o + 9]! & 0xffff;
  }

  /**
   * count: nf_conncount_count for the group in `key` and the tuple in `tw`; the list's length after
   * adding it. `zoneIdOf(d)` compares zones through CtView.
   */
  count(env: RuleEnv, jiffies: number): number {
    let g = this.findGroup();
    if (g < 0 || this.gCount[g] === 0) {
      if (g < 0) g = this.newGroup(jiffies);
      else this.gLastGc[g] = jiffies;
      const c = this.newConn(jiffies);
      this.gHead[g] = c;
      this.gTail[g] = c;
      this.gCount[g] = 1;
      return 1;
    }
    if (this.gLastGc[g] !== jiffies) {
      // check the saved connections
      const t = env.tuple;
      let collect = 0;
      let prev = -1;
      let c = this.gHead[g]!;
      while (c >= 0) {
        if (collect > GC_MAX) break;
        const next = this.cNext[c]!;
        this.loadTuple(c, t);
        const zone = this.cWords[c * TW + 10]!;
        const ct = env.ct.findTuple(t, zone);
        if (ct < 0) {
          // gone (evicted at once: the same CPU added it)
          this.unlinkConn(g, prev, c);
          collect++;
          c = next;
          continue;
        }
        if (this.sameTuple(c) && zone === this.tw[10]) return this.gCount[g]!;
        const st = env.ct.l4proto(ct) === IPPROTO.TCP ? env.ct.tcpState(ct) : 0;
        if (st === TCP_TIME_WAIT || st === TCP_CLOSE) {
          this.unlinkConn(g, prev, c);
          collect++;
          c = next;
          continue;
        }
        prev = c;
        c = next;
      }
    }
    const c = this.newConn(jiffies);
    if (this.gTail[g]! >= 0) this.cNext[this.gTail[g]!] = c;
    else this.gHead[g] = c;
    this.gTail[g] = c;
    this.gCount[g]! += 1;
    this.gLastGc[g] = jiffies;
    return this.gCount[g]!;
  }

  private unlinkConn(g: number, prev: number, c: number): void {
    const next = this.cNext[c]!;
    if (prev < 0) this.gHead[g] = next;
    else this.cNext[prev] = next;
    if (this.gTail[g] === c) this.gTail[g] = prev;
    this.gCount[g]! -= 1;
    this.cNext[c] = this.cFree;
    this.cFree = c;
  }

  /** reset: forget every list */
  reset(): void {
    this.heads.fill(-1);
    this.gUsed = 0;
    this.gFree = -1;
    this.cUsed = 0;
    this.cFree = -1;
  }
}

export class ConnlimitMatch extends Match {
  static readonly extName: string = "connlimit";
  readonly name = "connlimit";
  readonly opts: readonly OptDef[] = [
    opt("connlimit-upto", true, true),
    opt("connlimit-above", true, true),
    opt("connlimit-mask"),
    opt("connlimit-saddr", false),
    opt("connlimit-daddr", false),
  ];
  limit = 0;
  /** true: matches when the count is at most the limit (upto) */
  invert = false;
  daddr = false;
  maskLen: number;
  private readonly mask: Int32Array = new Int32Array(4);
  private seen = 0;
  readonly data: ConnCount = new ConnCount();

  constructor(family: number) {
    super(family);
    this.pure = false;
    this.maskLen = family === 4 ? 32 : 128;
  }

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    switch (o) {
      case "connlimit-upto":
      case "connlimit-above": {
        if (this.seen & 1) p.fail('connlimit: "--connlimit-upto" and "--connlimit-above" cannot be used together');
        this.seen |= 1;
        const v = parseUint(arg);
        if (v === null) p.failArg(`connlimit: bad value for option "--${o}" '${arg}'`);
        this.limit = v;
        this.invert = (o === "connlimit-upto") !== inv;
        return;
      }
      case "connlimit-mask": {
        const v = parseUint(arg, 0, this.family === 4 ? 32 : 128, false);
        if (v === null) p.failArg(`connlimit: bad mask '${arg}'`);
        this.maskLen = v;
        return;
      }
      case "connlimit-saddr":
        this.daddr = false;
        return;
      case "connlimit-daddr":
        this.daddr = true;
    }
  }

  override finalCheck(p: ParseCtx): void {
    if ((this.seen & 1) === 0) p.fail('You must specify "--connlimit-above" or "--connlimit-upto"');
    for (let w = 0; w < 4; w++) {
      const bits = Math.max(0, Math.min(32, this.maskLen - 32 * w));
      this.mask[w] = bits === 0 ? 0 : bits === 32 ? -1 : (~0 << (32 - bits)) | 0;
    }
  }

  /** packet time: Linux connlimit_mt. Must not allocate (except growing the lists). */
  match(skb: Skb, env: RuleEnv): boolean {
    const d = this.data;
    const tw = d.tw;
    const pi = skb.pi;
    let zone = 0;
    if (skb.ct >= 0) {
      const t = env.tuple;
      env.ct.tuple(skb.ct, 0, t);
      zone = env.ct.zone(skb.ct);
      tw[0] = t.family | (t.proto << 8);
      for (let i = 0; i < 4; i++) {
        tw[1 + i] = t.src[i]!;
        tw[5 + i] = t.dst[i]!;
      }
      tw[9] = ((t.srcPort & 0xffff) << 16) | (t.dstPort & 0xffff);
    } else if (!packetTuple(skb, tw)) {
      env.hotdrop = true;
      return false;
    }
    tw[10] = zone;
    const k = d.key;
    const a = this.daddr ? pi.dst : pi.src;
    const m = this.mask;
    k[0] = a[0]! & m[0]!;
    k[1] = a[1]! & m[1]!;
    k[2] = a[2]! & m[2]!;
    k[3] = a[3]! & m[3]!;
    k[4] = zone & 0xffff;
    const n = d.count(env, Math.floor(skb.now * env.hz));
    return n > this.limit !== this.invert;
  }

  resetState(): void {
    this.data.reset();
  }

  save(): string {
    const dir = this.daddr ? "--connlimit-daddr" : "--connlimit-saddr";
    return ` ${this.invert ? "--connlimit-upto" : "--connlimit-above"} ${this.limit} --connlimit-mask ${this.maskLen} ${dir}`;
  }

  print(): string {
    return ` #conn ${this.daddr ? "dst" : "src"}/${this.maskLen} ${this.invert ? "<=" : ">"} ${this.limit}`;
  }
}

/**
 * packetTuple: Linux nf_ct_get_tuplepr for a packet without a connection: addresses, and ports (TCP,
 * UDP, UDP-Lite, SCTP) or ICMP id/type/code; false when the transport header cannot be read.
 */
function packetTuple(skb: Skb, tw: Int32Array): boolean {
  const pi = skb.pi;
  if (pi.status !== WireStatus.Ok) return false;
  tw[0] = pi.family | (pi.proto << 8);
  for (let i = 0; i < 4; i++) {
    tw[1 + i] = pi.src[i]!;
    tw[5 + i] = pi.dst[i]!;
  }
  tw[9] = 0;
  const b = pi.buf;
  const o = pi.l4Off;
  switch (pi.proto) {
    case IPPROTO.TCP:
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
    case IPPROTO.SCTP:
      if (pi.fragOff !== 0 || pi.l4Len < 4) return false;
      tw[9] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
      return true;
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
      if (pi.fragOff !== 0 || pi.l4Len < 8) return false;
      tw[9] = (((b[o + 4]! << 8) | b[o + 5]!) << 16) | (b[o]! << 8) | b[o + 1]!;
      return true;
    default:
      return true;
  }
}
