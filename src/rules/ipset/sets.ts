/**
 * IP sets as the kernel's ip_set keeps them (net/netfilter/ipset), for the `set` match and the `SET`
 * target: the set types real dumps use (hash:ip, hash:net, hash:ip,port, hash:net,port,
 * hash:ip,port,ip, hash:ip,port,net, bitmap:port, list:set) with the options that change matching:
 * family, netmask (hash:ip), element timeouts, nomatch entries (the net types), counters.
 *
 * Storage: each hash set keeps its elements as fixed-width int32 keys in typed arrays, chained from a
 * power-of-two bucket array hashed with a seeded mix, so a packet lookup builds its key in a scratch
 * array and compares words: no strings, no allocation. Net types test the packet's address under each
 * prefix length present in the set, longest first, as the kernel's mtype_test_cidrs does; the first
 * element found decides (a nomatch element answers "no", or "yes" with --return-nomatch).
 *
 * Time: element timeouts are seconds. The timeouts of a loaded dump count from the time the sets are
 * first used (the dump is taken as describing the state when the replay starts); elements added by SET
 * count from the packet's time.
 *
 * Hot path (test / addFromPacket / delFromPacket): no allocation, except amortised growth of a set that
 * SET adds to.
 */
import { IPPROTO } from "../../core/netfilter.js";
import type { PacketInfo } from "../../wire/packet-info.js";
import { WireStatus } from "../../wire/packet-info.js";

/** SetKind: the implemented set types. */
export const SetKind = {
  HashIp: 0,
  HashNet: 1,
  HashIpPort: 2,
  HashNetPort: 3,
  HashIpPortIp: 4,
  HashIpPortNet: 5,
  BitmapPort: 6,
  ListSet: 7,
  /** a type ctnat does not implement: loaded by name, refused when a rule uses it */
  Unsupported: 8,
} as const;

/** SET_TYPE_NAMES: type names by SetKind, as ipset writes them. */
export const SET_TYPE_NAMES: readonly string[] = [
  "hash:ip",
  "hash:net",
  "hash:ip,port",
  "hash:net,port",
  "hash:ip,port,ip",
  "hash:ip,port,net",
  "bitmap:port",
  "list:set",
];

/** dimensions of each kind (Linux set->type->dimension) */
const DIMENSION = [1, 1, 2, 2, 3, 3, 1, 1];

/** IPSET_FLAG_*: the command flags a rule passes (Linux include/uapi/linux/netfilter/ipset/ip_set.h) */
export const IpsetFlag = {
  RETURN_NOMATCH: 1 << 7,
  SKIP_COUNTER_UPDATE: 1 << 8,
  SKIP_SUBCOUNTER_UPDATE: 1 << 9,
  MATCH_COUNTERS: 1 << 10,
} as const;

/** counter comparisons (Linux IPSET_COUNTER_*) */
export const CounterOp = { None: 0, Eq: 1, Ne: 2, Lt: 3, Gt: 4 } as const;

/**
 * SetOp: one lookup's options (Linux struct ip_set_adt_opt): the directions of the dimensions (bit i set:
 * dimension i + 1 takes the source), how many were given, command flags, counter comparisons, and for
 * additions the timeout. Reused per rule; filled at load.
 */
export class SetOp {
  dirs = 0;
  dim = 0;
  flags = 0;
  packetsOp: number = CounterOp.None;
  packets = 0;
  bytesOp: number = CounterOp.None;
  bytes = 0;
  /** SET --timeout, -1 for the set's default */
  timeout = -1;
  /** SET --exist */
  exist = false;
}

/** masks per prefix length: 129 entries of four words */
const MASKS: Int32Array = (() => {
  const m = new Int32Array(129 * 4);
  for (let len = 0; len <= 128; len++) {
    for (let w = 0; w < 4; w++) {
      const bits = Math.max(0, Math.min(32, len - 32 * w));
      m[len * 4 + w] = bits === 0 ? 0 : bits === 32 ? -1 : (~0 << (32 - bits)) | 0;
    }
  }
  return m;
})();

/** portKey: (proto << 16) | port of the packet's source or destination port, as Linux ip_set_get_ip[46]_port reads it; -1 when unavailable */
export function portKey(pi: PacketInfo, src: boolean): number {
  if (pi.status !== WireStatus.Ok) return -1;
  const proto = pi.proto;
  if (pi.family === 4) {
    if (proto <= 0) return -1;
    if (pi.fragOff !== 0) {
      // no ports in a non-first fragment; protocols without ports still match (port 0)
      switch (proto) {
        case IPPROTO.TCP:
        case IPPROTO.SCTP:
        case IPPROTO.UDP:
        case IPPROTO.UDPLITE:
        case IPPROTO.ICMP:
          return -1;
        default:
          return proto << 16;
      }
    }
  } else if (pi.fragOff !== 0) return -1;
  const o = pi.l4Off;
  const avail = Math.min(pi.off + pi.len, pi.buf.length) - o;
  const b = pi.buf;
  switch (proto) {
    case IPPROTO.TCP:
      if (o <= 0 || avail < 20) return -1;
      return (proto << 16) | (src ? (b[o]! << 8) | b[o + 1]! : (b[o + 2]! << 8) | b[o + 3]!);
    case IPPROTO.SCTP:
      if (o <= 0 || avail < 12) return -1;
      return (proto << 16) | (src ? (b[o]! << 8) | b[o + 1]! : (b[o + 2]! << 8) | b[o + 3]!);
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
      if (o <= 0 || avail < 8) return -1;
      return (proto << 16) | (src ? (b[o]! << 8) | b[o + 1]! : (b[o + 2]! << 8) | b[o + 3]!);
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
      // the "port" of ICMP is type << 8 | code, whichever direction
      if (o <= 0 || avail < 8) return -1;
      return (proto << 16) | (b[o]! << 8) | b[o + 1]!;
    default:
      return (proto & 0xff) << 16;
  }
}

function hashKey(k: Int32Array, off: number, n: number, seed: number): number {
  let h = seed ^ Math.imul(n, 0x9e3779b1);
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ k[off + i]!, 0x85ebca6b);
    h ^= h >>> 13;
  }
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** IpSet: one set. Subclasses implement the types. */
export abstract class IpSet {
  readonly name: string;
  readonly kind: number;
  readonly typeName: string;
  /** 4, 6, or 0 for types of any family (bitmap:port, list:set) */
  readonly family: number;
  readonly dimension: number;
  /** the type knows nomatch elements (the net types) */
  readonly hasNomatch: boolean;
  /** default timeout of the set (seconds), 0 when the set has no timeout support */
  timeout = 0;
  withTimeout = false;
  withCounters = false;
  maxelem = 65536;
  /** where it was defined, for messages */
  line = 0;
  constructor(name: string, kind: number, typeName: string, family: number) {
    this.name = name;
    this.kind = kind;
    this.typeName = typeName;
    this.family = family;
    this.dimension = kind < DIMENSION.length ? DIMENSION[kind]! : 1;
    this.hasNomatch = kind === SetKind.HashNet || kind === SetKind.HashNetPort || kind === SetKind.HashIpPortNet;
  }
  /** type-level test; 1 match, 0 no, -1 a nomatch element (Linux -ENOTEMPTY) */
  protected abstract kadtTest(pi: PacketInfo, op: SetOp, flags: number, len: number, now: number): number;
  /** type-level add/del from a packet; true on success */
  protected abstract kadtAdd(pi: PacketInfo, op: SetOp, len: number, now: number): boolean;
  protected abstract kadtDel(pi: PacketInfo, op: SetOp, now: number): boolean;
  /** start the clock of loaded element timeouts (seconds) */
  abstract anchor(now: number): void;
  /** number of live elements at `now` */
  abstract size(now: number): number;

  /**
   * test: Linux ip_set_test: whether the packet is in the set for `op` (dimension and family checks, the
   * --return-nomatch inversion for types with nomatch elements). 1 or 0. Hot path.
   */
  test(pi: PacketInfo, op: SetOp, flags: number, len: number, now: number): number {
    if (op.dim < this.dimension || (this.family !== 0 && this.family !== pi.family)) return 0;
    let ret = this.kadtTest(pi, op, flags, len, now);
    if ((flags & IpsetFlag.RETURN_NOMATCH) !== 0 && this.hasNomatch && ret !== 0) ret = -ret;
    return Math.max(ret, 0);
  }
  /** addFromPacket: Linux ip_set_add (SET --add-set); true when added or refreshed. */
  addFromPacket(pi: PacketInfo, op: SetOp, len: number, now: number): boolean {
    if (op.dim < this.dimension || (this.family !== 0 && this.family !== pi.family)) return false;
    return this.kadtAdd(pi, op, len, now);
  }
  /** delFromPacket: Linux ip_set_del (SET --del-set); true when an element was removed. */
  delFromPacket(pi: PacketInfo, op: SetOp, now: number): boolean {
    if (op.dim < this.dimension || (this.family !== 0 && this.family !== pi.family)) return false;
    return this.kadtDel(pi, op, now);
  }
}

/** counterMatch: Linux ip_set_match_counter */
function counterMatch(counter: number, value: number, op: number): boolean {
  switch (op) {
    case CounterOp.Eq:
      return counter === value;
    case CounterOp.Ne:
      return counter !== value;
    case CounterOp.Lt:
      return counter < value;
    case CounterOp.Gt:
      return counter > value;
    default:
      return true;
  }
}

/**
 * ElementExt: the per-element extensions of a set (timeout, counters) in typed arrays indexed by
 * element slot, and Linux ip_set_match_extensions over them.
 */
class ElementExt {
  /** absolute expiry (seconds), 0: permanent; before anchor(): the remaining seconds of the dump */
  expires: Float64Array;
  packets: Float64Array;
  bytes: Float64Array;
  constructor(cap: number) {
    this.expires = new Float64Array(cap);
    this.packets = new Float64Array(cap);
    this.bytes = new Float64Array(cap);
  }
  grow(cap: number): void {
    const g = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.expires = g(this.expires);
    this.packets = g(this.packets);
    this.bytes = g(this.bytes);
  }
}

function expired(ext: ElementExt, i: number, now: number): boolean {
  const e = ext.expires[i]!;
  return e !== 0 && now > e;
}

/**
 * matchExtensions: Linux ip_set_match_extensions: an expired element does not count; counters are
 * updated (unless SKIP_COUNTER_UPDATE) and then compared (MATCH_COUNTERS).
 */
function matchExtensions(
  set: IpSet,
  ext: ElementExt,
  i: number,
  op: SetOp,
  flags: number,
  len: number,
  now: number,
): boolean {
  if (set.withTimeout && expired(ext, i, now)) return false;
  if (set.withCounters) {
    if ((flags & IpsetFlag.SKIP_COUNTER_UPDATE) === 0) {
      ext.packets[i]! += 1;
      ext.bytes[i]! += len;
    }
    if (
      (flags & IpsetFlag.MATCH_COUNTERS) !== 0 &&
      !(counterMatch(ext.packets[i]!, op.packets, op.packetsOp) && counterMatch(ext.bytes[i]!, op.bytes, op.bytesOp))
    ) {
      return false;
    }
  }
  return true;
}

const F_USED = 1;
const F_NOMATCH = 2;

/**
 * HashSet: the hash:* types. A key is int32 words: addresses (1 word IPv4, 4 IPv6), `(proto << 16) |
 * port` words, and for the net types the prefix length after the net's address.
 */
export class HashSet extends IpSet {
  readonly aw: number;
  /** key words */
  readonly kw: number;
  /** word index of the net address in the key and of its prefix length, -1 without a net part */
  readonly netPos: number;
  readonly cidrPos: number;
  /** hash:ip netmask (prefix length; 32/128 when none) */
  netmask: number;
  private keys: Int32Array;
  private next: Int32Array;
  private flags: Uint8Array;
  private heads: Int32Array;
  private mask: number;
  readonly ext: ElementExt;
  private cap: number;
  private used = 0;
  private freeHead = -1;
  /** allocated (present, expired or not) elements */
  count = 0;
  private anchored = false;
  /** elements per prefix length of the net part, and the lengths present, longest first */
  private readonly cidrCount: Int32Array = new Int32Array(129);
  private cidrs: Int32Array = new Int32Array(0);
  private readonly seed: number;
  /** scratch key of a lookup */
  readonly key: Int32Array;

  constructor(name: string, kind: number, family: number, seed: number) {
    super(name, kind, SET_TYPE_NAMES[kind]!, family);
    const aw = family === 4 ? 1 : 4;
    this.aw = aw;
    this.netmask = family === 4 ? 32 : 128;
    switch (kind) {
      case SetKind.HashIp:
        this.kw = aw;
        this.netPos = -1;
        break;
      case SetKind.HashNet:
        this.kw = aw + 1;
        this.netPos = 0;
        break;
      case SetKind.HashIpPort:
        this.kw = aw + 1;
        this.netPos = -1;
        break;
      case SetKind.HashNetPort:
        this.kw = aw + 2;
        this.netPos = 0;
        break;
      case SetKind.HashIpPortIp:
        this.kw = 2 * aw + 1;
        this.netPos = -1;
        break;
      default:
        // hash:ip,port,net
        this.kw = 2 * aw + 2;
        this.netPos = aw + 1;
        break;
    }
    this.cidrPos = this.netPos < 0 ? -1 : this.kw - 1;
    this.seed = seed | 0;
    this.cap = 16;
    this.keys = new Int32Array(this.cap * this.kw);
    this.next = new Int32Array(this.cap);
    this.flags = new Uint8Array(this.cap);
    this.heads = new Int32Array(32).fill(-1);
    this.mask = 31;
    this.ext = new ElementExt(this.cap);
    this.key = new Int32Array(this.kw);
  }

  // ---- element store --------------------------------------------------------------------------

  /** find: the slot holding key `k` (kw words), -1 when absent. */
  find(k: Int32Array): number {
    const kw = this.kw;
    const keys = this.keys;
    for (let i = this.heads[hashKey(k, 0, kw, this.seed) & this.mask]!; i >= 0; i = this.next[i]!) {
      const o = i * kw;
      let eq = true;
      for (let w = 0; w < kw; w++) {
        if (keys[o + w] !== k[w]) {
          eq = false;
          break;
        }
      }
      if (eq) return i;
    }
    return -1;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const keys = new Int32Array(cap * this.kw);
    keys.set(this.keys);
    this.keys = keys;
    const next = new Int32Array(cap);
    next.set(this.next);
    this.next = next;
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    this.flags = flags;
    this.ext.grow(cap);
    this.cap = cap;
    // keep about one element per bucket
    const nb = this.heads.length * 2;
    this.heads = new Int32Array(nb).fill(-1);
    this.mask = nb - 1;
    for (let i = 0; i < this.used; i++) {
      if ((this.flags[i]! & F_USED) === 0) continue;
      const b = hashKey(this.keys, i * this.kw, this.kw, this.seed) & this.mask;
      this.next[i] = this.heads[b]!;
      this.heads[b] = i;
    }
  }

  /** insert: a new element with key `k` (absent), returns its slot. */
  insert(k: Int32Array, nomatch: boolean): number {
    let i: number;
    if (this.freeHead >= 0) {
      i = this.freeHead;
      this.freeHead = this.next[i]!;
    } else {
      if (this.used === this.cap) this.grow();
      i = this.used++;
    }
    const kw = this.kw;
    for (let w = 0; w < kw; w++) this.keys[i * kw + w] = k[w]!;
    this.flags[i] = F_USED | (nomatch ? F_NOMATCH : 0);
    this.ext.expires[i] = 0;
    this.ext.packets[i] = 0;
    this.ext.bytes[i] = 0;
    const b = hashKey(k, 0, kw, this.seed) & this.mask;
    this.next[i] = this.heads[b]!;
    this.heads[b] = i;
    this.count++;
    if (this.cidrPos >= 0) this.cidrAdded(k[this.cidrPos]!);
    return i;
  }

  /** remove: delete the element in slot `i`. */
  remove(i: number): void {
    const kw = this.kw;
    const b = hashKey(this.keys, i * kw, kw, this.seed) & this.mask;
    let p = -1;
    for (let j = this.heads[b]!; j >= 0; j = this.next[j]!) {
      if (j === i) {
        if (p < 0) this.heads[b] = this.next[j]!;
        else this.next[p] = this.next[j]!;
        break;
      }
      p = j;
    }
    if (this.cidrPos >= 0) this.cidrRemoved(this.keys[i * kw + this.cidrPos]!);
    this.flags[i] = 0;
    this.next[i] = this.freeHead;
    this.freeHead = i;
    this.count--;
  }

  private cidrAdded(c: number): void {
    if (this.cidrCount[c]!++ === 0) this.rebuildCidrs();
  }
  private cidrRemoved(c: number): void {
    if (--this.cidrCount[c]! === 0) this.rebuildCidrs();
  }
  private rebuildCidrs(): void {
    let n = 0;
    for (let c = 128; c >= 0; c--) if (this.cidrCount[c]! > 0) n++;
    const out = new Int32Array(n);
    n = 0;
    for (let c = 128; c >= 0; c--) if (this.cidrCount[c]! > 0) out[n++] = c;
    this.cidrs = out;
  }

  isNomatch(i: number): boolean {
    return (this.flags[i]! & F_NOMATCH) !== 0;
  }
  setNomatch(i: number, on: boolean): void {
    this.flags[i] = on ? this.flags[i]! | F_NOMATCH : this.flags[i]! & ~F_NOMATCH;
  }

  /** the largest prefix length present (Linux nets[0]), or the host length when there is none */
  private addCidr(): number {
    return this.cidrs.length > 0 ? this.cidrs[0]! : this.aw === 1 ? 32 : 128;
  }

  anchor(now: number): void {
    if (this.anchored) return;
    this.anchored = true;
    const e = this.ext.expires;
    for (let i = 0; i < this.used; i++) if ((this.flags[i]! & F_USED) !== 0 && e[i] !== 0) e[i] = e[i]! + now;
  }

  size(now: number): number {
    let n = 0;
    for (let i = 0; i < this.used; i++) {
      if ((this.flags[i]! & F_USED) !== 0 && !(this.withTimeout && expired(this.ext, i, now))) n++;
    }
    return n;
  }

  /** elements: the live slots, in slot order (tests, listings) */
  slots(now: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.used; i++) {
      if ((this.flags[i]! & F_USED) !== 0 && !(this.withTimeout && expired(this.ext, i, now))) out.push(i);
    }
    return out;
  }

  /** keyOf: a copy of slot `i`'s key (slow path) */
  keyOf(i: number): Int32Array {
    return this.keys.slice(i * this.kw, (i + 1) * this.kw);
  }

  // ---- packet keys ------------------------------------------------------------------------------

  /**
   * fillKey: the packet's key for `op` into this.key, the net part (if any) masked to prefix `cidr`;
   * false when a port is unavailable (Linux: -EINVAL, no match).
   */
  private fillKey(pi: PacketInfo, op: SetOp, cidr: number): boolean {
    const k = this.key;
    const aw = this.aw;
    const dirs = op.dirs;
    const a1 = (dirs & 1) !== 0 ? pi.src : pi.dst;
    switch (this.kind) {
      case SetKind.HashIp: {
        const m = this.netmask * 4;
        for (let w = 0; w < aw; w++) k[w] = a1[w]! & MASKS[m + w]!;
        return true;
      }
      case SetKind.HashNet: {
        const m = cidr * 4;
        for (let w = 0; w < aw; w++) k[w] = a1[w]! & MASKS[m + w]!;
        k[aw] = cidr;
        return true;
      }
      case SetKind.HashIpPort:
      case SetKind.HashNetPort: {
        const p = portKey(pi, (dirs & 2) !== 0);
        if (p < 0) return false;
        const m = (this.kind === SetKind.HashNetPort ? cidr : aw === 1 ? 32 : 128) * 4;
        for (let w = 0; w < aw; w++) k[w] = a1[w]! & MASKS[m + w]!;
        k[aw] = p;
        if (this.kind === SetKind.HashNetPort) k[aw + 1] = cidr;
        return true;
      }
      default: {
        // hash:ip,port,ip and hash:ip,port,net
        const p = portKey(pi, (dirs & 2) !== 0);
        if (p < 0) return false;
        for (let w = 0; w < aw; w++) k[w] = a1[w]!;
        k[aw] = p;
        const a3 = (dirs & 4) !== 0 ? pi.src : pi.dst;
        if (this.kind === SetKind.HashIpPortIp) {
          for (let w = 0; w < aw; w++) k[aw + 1 + w] = a3[w]!;
        } else {
          const m = cidr * 4;
          for (let w = 0; w < aw; w++) k[aw + 1 + w] = a3[w]! & MASKS[m + w]!;
          k[2 * aw + 1] = cidr;
        }
        return true;
      }
    }
  }

  protected kadtTest(pi: PacketInfo, op: SetOp, flags: number, len: number, now: number): number {
    if (this.netPos < 0) {
      if (!this.fillKey(pi, op, 0)) return 0;
      const i = this.find(this.key);
      if (i < 0 || !matchExtensions(this, this.ext, i, op, flags, len, now)) return 0;
      return 1;
    }
    // mtype_test_cidrs: each prefix length present, longest first; the first usable element decides
    const cidrs = this.cidrs;
    for (let c = 0; c < cidrs.length; c++) {
      if (!this.fillKey(pi, op, cidrs[c]!)) return 0;
      const i = this.find(this.key);
      if (i < 0 || !matchExtensions(this, this.ext, i, op, flags, len, now)) continue;
      return (this.flags[i]! & F_NOMATCH) !== 0 ? -1 : 1;
    }
    return 0;
  }

  protected kadtAdd(pi: PacketInfo, op: SetOp, len: number, now: number): boolean {
    if (!this.fillKey(pi, op, this.addCidr())) return false;
    const timeout = op.timeout >= 0 ? op.timeout : this.timeout;
    let i = this.find(this.key);
    if (i >= 0) {
      // an existing element: only --exist (or its expiry) lets the extensions be overwritten
      if (!op.exist && !(this.withTimeout && expired(this.ext, i, now))) return false;
      this.setNomatch(i, false);
    } else {
      if (this.count >= this.maxelem) {
        this.reclaim(now);
        if (this.count >= this.maxelem) return false;
      }
      i = this.insert(this.key, false);
    }
    if (this.withTimeout) this.ext.expires[i] = timeout === 0 ? 0 : now + timeout;
    if (this.withCounters) {
      // IP_SET_INIT_KEXT: an element added by a packet starts with that packet counted
      this.ext.packets[i] = 1;
      this.ext.bytes[i] = len;
    }
    return true;
  }

  protected kadtDel(pi: PacketInfo, op: SetOp, now: number): boolean {
    if (!this.fillKey(pi, op, this.addCidr())) return false;
    const i = this.find(this.key);
    if (i < 0 || (this.withTimeout && expired(this.ext, i, now))) return false;
    this.remove(i);
    return true;
  }

  /** reclaim: drop expired elements (the kernel's garbage collection, run when the set is full) */
  private reclaim(now: number): void {
    if (!this.withTimeout) return;
    for (let i = 0; i < this.used; i++) {
      if ((this.flags[i]! & F_USED) !== 0 && expired(this.ext, i, now)) this.remove(i);
    }
  }
}

/** BitmapPortSet: bitmap:port range first-last; a packet's TCP or UDP port (Linux ip_set_get_ip_port). */
export class BitmapPortSet extends IpSet {
  readonly first: number;
  readonly last: number;
  readonly present: Uint8Array;
  readonly ext: ElementExt;
  private anchored = false;
  constructor(name: string, first: number, last: number) {
    super(name, SetKind.BitmapPort, "bitmap:port", 0);
    this.first = first;
    this.last = last;
    this.present = new Uint8Array(last - first + 1);
    this.ext = new ElementExt(last - first + 1);
  }
  private port(pi: PacketInfo, src: boolean): number {
    const p = portKey(pi, src);
    if (p < 0) return -1;
    const proto = p >>> 16;
    // bitmap:port takes TCP and UDP ports only
    if (proto !== IPPROTO.TCP && proto !== IPPROTO.UDP) return -1;
    const port = p & 0xffff;
    return port < this.first || port > this.last ? -1 : port - this.first;
  }
  protected kadtTest(pi: PacketInfo, op: SetOp, flags: number, len: number, now: number): number {
    const i = this.port(pi, (op.dirs & 1) !== 0);
    if (i < 0 || this.present[i] === 0) return 0;
    return matchExtensions(this, this.ext, i, op, flags, len, now) ? 1 : 0;
  }
  protected kadtAdd(pi: PacketInfo, op: SetOp, len: number, now: number): boolean {
    const i = this.port(pi, (op.dirs & 1) !== 0);
    if (i < 0) return false;
    if (this.present[i] !== 0 && !op.exist && !(this.withTimeout && expired(this.ext, i, now))) return false;
    this.present[i] = 1;
    const timeout = op.timeout >= 0 ? op.timeout : this.timeout;
    if (this.withTimeout) this.ext.expires[i] = timeout === 0 ? 0 : now + timeout;
    if (this.withCounters) {
      this.ext.packets[i] = 1;
      this.ext.bytes[i] = len;
    }
    return true;
  }
  protected kadtDel(pi: PacketInfo, op: SetOp, now: number): boolean {
    const i = this.port(pi, (op.dirs & 1) !== 0);
    if (i < 0 || this.present[i] === 0 || (this.withTimeout && expired(this.ext, i, now))) return false;
    this.present[i] = 0;
    return true;
  }
  anchor(now: number): void {
    if (this.anchored) return;
    this.anchored = true;
    const e = this.ext.expires;
    for (let i = 0; i < e.length; i++) if (this.present[i] !== 0 && e[i] !== 0) e[i] = e[i]! + now;
  }
  size(now: number): number {
    let n = 0;
    for (let i = 0; i < this.present.length; i++) {
      if (this.present[i] !== 0 && !(this.withTimeout && expired(this.ext, i, now))) n++;
    }
    return n;
  }
}

/** ListSet: list:set: its member sets in order; the first member that holds the packet decides. */
export class ListSet extends IpSet {
  readonly members: IpSet[] = [];
  readonly ext: ElementExt;
  readonly size_: number;
  private anchored = false;
  /** the options handed to members (their counters are not compared; sub-counters may be frozen) */
  private readonly sub = new SetOp();
  constructor(name: string, size: number) {
    super(name, SetKind.ListSet, "list:set", 0);
    this.size_ = size;
    this.ext = new ElementExt(Math.max(size, 1));
  }
  private subOp(op: SetOp): SetOp {
    const s = this.sub;
    s.dirs = op.dirs;
    s.dim = op.dim;
    s.timeout = op.timeout;
    s.exist = op.exist;
    return s;
  }
  private static subFlags(flags: number): number {
    let f = flags & ~IpsetFlag.MATCH_COUNTERS;
    if ((f & IpsetFlag.SKIP_SUBCOUNTER_UPDATE) !== 0) f |= IpsetFlag.SKIP_COUNTER_UPDATE;
    return f;
  }
  protected kadtTest(pi: PacketInfo, op: SetOp, flags: number, len: number, now: number): number {
    const sub = this.subOp(op);
    const sf = ListSet.subFlags(flags);
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      if (ms[i]!.test(pi, sub, sf, len, now) <= 0) continue;
      if (matchExtensions(this, this.ext, i, op, flags, len, now)) return 1;
    }
    return 0;
  }
  protected kadtAdd(pi: PacketInfo, op: SetOp, len: number, now: number): boolean {
    const sub = this.subOp(op);
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      if (this.withTimeout && expired(this.ext, i, now)) continue;
      if (ms[i]!.addFromPacket(pi, sub, len, now)) return true;
    }
    return false;
  }
  protected kadtDel(pi: PacketInfo, op: SetOp, now: number): boolean {
    const sub = this.subOp(op);
    const ms = this.members;
    for (let i = 0; i < ms.length; i++) {
      if (this.withTimeout && expired(this.ext, i, now)) continue;
      if (ms[i]!.delFromPacket(pi, sub, now)) return true;
    }
    return false;
  }
  anchor(now: number): void {
    if (this.anchored) return;
    this.anchored = true;
    const e = this.ext.expires;
    for (let i = 0; i < this.members.length; i++) if (e[i] !== 0) e[i] = e[i]! + now;
  }
  size(now: number): number {
    let n = 0;
    for (let i = 0; i < this.members.length; i++) if (!(this.withTimeout && expired(this.ext, i, now))) n++;
    return n;
  }
}

/** UnsupportedSet: a set of a type ctnat does not implement; a rule that uses it is refused. */
export class UnsupportedSet extends IpSet {
  constructor(name: string, typeName: string, family: number) {
    super(name, SetKind.Unsupported, typeName, family);
  }
  protected kadtTest(): number {
    return 0;
  }
  protected kadtAdd(): boolean {
    return false;
  }
  protected kadtDel(): boolean {
    return false;
  }
  anchor(): void {}
  size(): number {
    return 0;
  }
}
