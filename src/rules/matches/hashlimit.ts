/**
 * hashlimit match: `-m hashlimit --hashlimit-upto|--hashlimit-above RATE --hashlimit-name NAME
 * [--hashlimit-burst N] [--hashlimit-mode srcip,srcport,dstip,dstport] [--hashlimit-srcmask N]
 * [--hashlimit-dstmask N] [--hashlimit-htable-size|-max|-gcinterval|-expire N]` (Linux xt_hashlimit.c
 * revision 3, iptables libxt_hashlimit.c): a token bucket per group of packets (the fields of --mode,
 * addresses masked).
 *
 * The kernel's arithmetic, kept exact:
 * - packets: credits are 64-bit; a packet costs avg × (HZ × CPJ / 10^6) credits (avg = 10^6 × unit /
 *   rate), a bucket holds burst × that, and each jiffy adds CPJ = the largest power of two with
 *   CPJ × HZ × 86400 < 2^64 (2^39 at HZ 250); the additions wrap at 2^64 as the kernel's do.
 * - bytes (RATE as Nb/s, Nkb/s, Nmb/s): a packet costs ((len >> 4) + 1) × cost, the bucket refills at
 *   CPJB per jiffy (2^24 at HZ 250) up to CPJB × HZ, and is refilled to the top up to --hashlimit-burst
 *   times when a packet finds it short.
 * Tables are per namespace, name and family and keep the first rule's settings; a group idle for
 * --hashlimit-htable-expire ms is forgotten by the garbage collection run every -gcinterval ms (here
 * on a grid of that period from the table's first packet). A table at -htable-max groups drops (hotdrops)
 * packets of new groups. --hashlimit-rate-match / -rate-interval are not implemented.
 */

import { IPPROTO } from "../../core/netfilter.js";
import type { Skb } from "../../core/skb.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";
import { parseUint } from "../util.js";

const HASH_DIP = 1 << 0;
const HASH_DPT = 1 << 1;
const HASH_SIP = 1 << 2;
const HASH_SPT = 1 << 3;
const INVERT = 1 << 4;
const BYTES = 1 << 5;

const SCALE = 1000000;
const BYTE_SHIFT = 4;
const BURST_DEFAULT = 5;
const BURST_MAX = 1000000;
const GC_INTERVAL = 1000;
const BYTE_EXPIRE = 15;
const BYTE_EXPIRE_BURST = 60;
const U32_MAX = 0xffffffff;
/** the default table size on a machine with more than 1 GiB of RAM (htable_create) */
const DEFAULT_SIZE = 8192;
const MAX_SIZE = 1048576;

const RATES: readonly [string, number][] = [
  ["day", SCALE * 86400],
  ["hour", SCALE * 3600],
  ["min", SCALE * 60],
  ["sec", SCALE],
];
const UNITS: readonly [string, number][] = [
  ["m", 1024 * 1024],
  ["k", 1024],
  ["", 1],
];

const U64 = (1n << 64n) - 1n;

/** the largest power of two at or below n */
function pow2Below(n: bigint): bigint {
  let p = 1n;
  while (p * 2n <= n) p *= 2n;
  return p;
}

/** creditsPerJiffy: Linux CREDITS_PER_JIFFY (64-bit credits) for a tick rate */
export function creditsPerJiffy(hz: number): bigint {
  return pow2Below(U64 / BigInt(hz * 86400));
}

/** creditsPerJiffyBytes: Linux CREDITS_PER_JIFFY_BYTES */
export function creditsPerJiffyBytes(hz: number): number {
  return Number(pow2Below(BigInt(U32_MAX) / BigInt(hz)));
}

/** user2credits: Linux user2credits (revision 3), wrapping at 2^64 */
export function user2credits(user: bigint, hz: number): bigint {
  const cpj = creditsPerJiffy(hz);
  const s = BigInt(SCALE);
  const hzc = BigInt(hz) * cpj;
  if (s >= hzc) return (user / (s / hzc)) & U64;
  return (user * (hzc / s)) & U64;
}

/** user2creditsByte: Linux user2credits_byte */
function user2creditsByte(user: number, hz: number): number {
  const us = BigInt(user >>> 0) * BigInt(hz) * BigInt(creditsPerJiffyBytes(hz));
  return Number((us >> 32n) & 0xffffffffn);
}

function costToBytes(cost: number): number {
  const r = cost ? Math.floor(U32_MAX / cost) : U32_MAX;
  return (r - 1) * 2 ** BYTE_SHIFT;
}

function bytesToCost(bytes: number): number {
  const r = Math.floor(bytes / 2 ** BYTE_SHIFT) >>> 0;
  return Math.floor(U32_MAX / (r + 1));
}

/** msecsToJiffies: Linux msecs_to_jiffies (rounding up) */
function msecsToJiffies(ms: number, hz: number): number {
  return Math.ceil((ms * hz) / 1000);
}

/** HashlimitCfg: the settings of a table (Linux struct hashlimit_cfg3). */
export class HashlimitCfg {
  mode = 0;
  avg = 0;
  burst = BURST_DEFAULT;
  size = 0;
  max = 0;
  gcInterval = GC_INTERVAL;
  expire = 0;
  srcmask = 32;
  dstmask = 32;
}

const KEY_WORDS = 9;

/** HashlimitTable: one hashlimit table: groups keyed by 9 words (source, destination, ports). */
export class HashlimitTable {
  readonly name: string;
  readonly family: number;
  readonly cfg: HashlimitCfg;
  /** the effective maximum of groups */
  readonly max: number;
  private keys: Int32Array;
  private next: Int32Array;
  private live: Uint8Array;
  private heads: Int32Array;
  private mask: number;
  /** per group: jiffies of the last change and of expiry; credit as u32 high and low words; byte-mode refills left */
  private prev: Float64Array;
  private expires: Float64Array;
  private creditHi: Float64Array;
  private creditLo: Float64Array;
  private capLeft: Float64Array;
  private cap = 0;
  private used = 0;
  private freeHead = -1;
  count = 0;
  // constants, computed at the first packet for the tick rate
  private hz = 0;
  private cpjHi = 0;
  private costHi = 0;
  private costLo = 0;
  private credHi = 0;
  private credLo = 0;
  private cpjb = 0;
  private byteCost = 0;
  private gcNext = -1;
  private gcStep = 0;
  private expireJ = 0;
  readonly key: Int32Array = new Int32Array(KEY_WORDS);

  constructor(name: string, family: number, cfg: HashlimitCfg) {
    this.name = name;
    this.family = family;
    this.cfg = cfg;
    const size = cfg.size !== 0 ? Math.min(cfg.size, MAX_SIZE) : DEFAULT_SIZE;
    const max = Math.min(cfg.max, MAX_SIZE);
    this.max = max === 0 ? 8 * size : Math.max(max, size);
    this.keys = new Int32Array(0);
    this.next = new Int32Array(0);
    this.live = new Uint8Array(0);
    this.prev = new Float64Array(0);
    this.expires = new Float64Array(0);
    this.creditHi = new Float64Array(0);
    this.creditLo = new Float64Array(0);
    this.capLeft = new Float64Array(0);
    this.heads = new Int32Array(64).fill(-1);
    this.mask = 63;
  }

  private setup(hz: number): void {
    this.hz = hz;
    const cfg = this.cfg;
    const cpj = creditsPerJiffy(hz);
    this.cpjHi = Number(cpj >> 32n);
    const cost = user2credits(BigInt(cfg.avg), hz);
    this.costHi = Number(cost >> 32n);
    this.costLo = Number(cost & 0xffffffffn);
    const cred = user2credits((BigInt(cfg.avg) * BigInt(cfg.burst)) & U64, hz);
    this.credHi = Number(cred >> 32n);
    this.credLo = Number(cred & 0xffffffffn);
    this.cpjb = creditsPerJiffyBytes(hz);
    this.byteCost = user2creditsByte(cfg.avg, hz);
    this.gcStep = Math.max(1, msecsToJiffies(cfg.gcInterval, hz));
    this.expireJ = msecsToJiffies(cfg.expire, hz);
  }

  private grow(): void {
    const cap = Math.max(16, this.cap * 2);
    const g32 = (a: Int32Array, n: number): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const g64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.keys = g32(this.keys, cap * KEY_WORDS);
    this.next = g32(this.next, cap);
    const live = new Uint8Array(cap);
    live.set(this.live);
    this.live = live;
    this.prev = g64(this.prev);
    this.expires = g64(this.expires);
    this.creditHi = g64(this.creditHi);
    this.creditLo = g64(this.creditLo);
    this.capLeft = g64(this.capLeft);
    this.cap = cap;
    if (cap > this.heads.length) {
      this.heads = new Int32Array(cap).fill(-1);
      this.mask = cap - 1;
      for (let i = 0; i < this.used; i++) {
        if (this.live[i] === 0) continue;
        const b = this.hashAt(this.keys, i * KEY_WORDS);
        this.next[i] = this.heads[b]!;
        this.heads[b] = i;
      }
    }
  }

  private hashAt(k: Int32Array, o: number): number {
    let h = 0x2545f491;
    for (let i = 0; i < KEY_WORDS; i++) {
      h = Math.imul(h ^ k[o + i]!, 0x85ebca6b);
      h ^= h >>> 13;
    }
    return (h ^ (h >>> 16)) & this.mask;
  }

  private find(k: Int32Array): number {
    for (let i = this.heads[this.hashAt(k, 0)]!; i >= 0; i = this.next[i]!) {
      const o = i * KEY_WORDS;
      let eq = true;
      for (let w = 0; w < KEY_WORDS; w++) {
        if (this.keys[o + w] !== k[w]) {
          eq = false;
          break;
        }
      }
      if (eq) return i;
    }
    return -1;
  }

  private remove(i: number): void {
    const b = this.hashAt(this.keys, i * KEY_WORDS);
    let p = -1;
    for (let j = this.heads[b]!; j >= 0; j = this.next[j]!) {
      if (j === i) {
        if (p < 0) this.heads[b] = this.next[j]!;
        else this.next[p] = this.next[j]!;
        break;
      }
      p = j;
    }
    this.live[i] = 0;
    this.next[i] = this.freeHead;
    this.freeHead = i;
    this.count--;
  }

  /** gc: the periodic collection (htable_gc) due up to `now`: groups expired at the last due run go */
  private gc(now: number): void {
    if (this.gcNext < 0) {
      this.gcNext = now + this.gcStep;
      return;
    }
    if (now < this.gcNext) return;
    const at = this.gcNext + Math.floor((now - this.gcNext) / this.gcStep) * this.gcStep;
    this.gcNext = at + this.gcStep;
    for (let i = 0; i < this.used; i++) if (this.live[i] !== 0 && at >= this.expires[i]!) this.remove(i);
  }

  /**
   * account: Linux hashlimit_mt_common for the group in `this.key`: 1 when under the limit, 0 over it,
   * -1 when the table is full (hotdrop). `mode` is the rule's (INVERT, BYTES).
   */
  account(now: number, hz: number, len: number, mode: number): number {
    if (this.hz !== hz) this.setup(hz);
    this.gc(now);
    let i = this.find(this.key);
    if (i < 0) {
      if (this.count >= this.max) return -1;
      if (this.freeHead >= 0) {
        i = this.freeHead;
        this.freeHead = this.next[i]!;
      } else {
        if (this.used === this.cap) this.grow();
        i = this.used++;
      }
      this.keys.set(this.key, i * KEY_WORDS);
      this.live[i] = 1;
      const b = this.hashAt(this.key, 0);
      this.next[i] = this.heads[b]!;
      this.heads[b] = i;
      this.count++;
      this.expires[i] = now + this.expireJ;
      // rateinfo_init
      this.prev[i] = now;
      if ((this.cfg.mode & BYTES) !== 0) {
        this.creditHi[i] = 0;
        this.creditLo[i] = this.cpjb * hz;
        this.capLeft[i] = this.cfg.burst;
      } else {
        this.creditHi[i] = this.credHi;
        this.creditLo[i] = this.credLo;
      }
    } else {
      this.expires[i] = now + this.expireJ;
      this.recalc(i, now);
    }
    if ((mode & BYTES) !== 0) {
      // hashlimit_byte_cost
      const top = this.cpjb * hz;
      let cost = (Math.floor(len / 2 ** BYTE_SHIFT) + 1) * this.byteCost;
      if (cost > top) cost = top;
      if (this.creditLo[i]! < cost && this.capLeft[i]! > 0) {
        this.capLeft[i]! -= 1;
        this.creditLo[i] = top;
      }
      if (this.creditLo[i]! >= cost) {
        this.creditLo[i]! -= cost;
        return 1;
      }
      return 0;
    }
    // u64 credit >= cost: compare high words, then low
    const ch = this.creditHi[i]!;
    const cl = this.creditLo[i]!;
    if (ch > this.costHi || (ch === this.costHi && cl >= this.costLo)) {
      let lo = cl - this.costLo;
      let hi = ch - this.costHi;
      if (lo < 0) {
        lo += 4294967296;
        hi -= 1;
      }
      this.creditHi[i] = hi;
      this.creditLo[i] = lo;
      return 1;
    }
    return 0;
  }

  /** recalc: Linux rateinfo_recalc */
  private recalc(i: number, now: number): void {
    const delta = now - this.prev[i]!;
    if (delta === 0) return;
    this.prev[i] = now;
    if ((this.cfg.mode & BYTES) !== 0) {
      const top = this.cpjb * this.hz;
      const c = this.creditLo[i]! + this.cpjb * delta;
      this.creditLo[i] = Math.min(c, top);
      return;
    }
    // credit += delta * CPJ, a multiple of 2^32 (CPJ is a power of two above it), wrapping at 2^64
    let hi = (this.creditHi[i]! + ((delta * this.cpjHi) % 4294967296)) % 4294967296;
    let lo = this.creditLo[i]!;
    if (hi > this.credHi || (hi === this.credHi && lo > this.credLo)) {
      hi = this.credHi;
      lo = this.credLo;
    }
    this.creditHi[i] = hi;
    this.creditLo[i] = lo;
  }

  /** flush: forget every group */
  flush(): void {
    this.live.fill(0);
    this.heads.fill(-1);
    this.used = 0;
    this.freeHead = -1;
    this.count = 0;
    this.gcNext = -1;
  }
}

/** proto_ports_offset: where the 4 bytes hashed as ports start in the transport header, -1 none */
function portsOffset(proto: number): number {
  switch (proto) {
    case IPPROTO.TCP:
    case IPPROTO.UDP:
    case IPPROTO.DCCP:
    case IPPROTO.ESP:
    case IPPROTO.SCTP:
    case IPPROTO.UDPLITE:
      return 0;
    case IPPROTO.AH:
      return 4;
    default:
      return -1;
  }
}

export class HashlimitMatch extends Match {
  static readonly extName: string = "hashlimit";
  readonly name = "hashlimit";
  readonly opts: readonly OptDef[] = [
    opt("hashlimit-upto", true, true),
    opt("hashlimit-above", true, true),
    opt("hashlimit", true, true),
    opt("hashlimit-srcmask"),
    opt("hashlimit-dstmask"),
    opt("hashlimit-burst"),
    opt("hashlimit-htable-size"),
    opt("hashlimit-htable-max"),
    opt("hashlimit-htable-gcinterval"),
    opt("hashlimit-htable-expire"),
    opt("hashlimit-mode"),
    opt("hashlimit-name"),
    opt("hashlimit-rate-match", false),
    opt("hashlimit-rate-interval"),
  ];
  readonly cfg: HashlimitCfg = new HashlimitCfg();
  tableName = "";
  private seen = new Set<string>();
  /** seconds per rate unit given (the default expire) */
  private mult = 1;
  private burstGiven = false;
  private burstRaw = 0;
  private table: HashlimitTable | null = null;

  constructor(family: number) {
    super(family);
    this.pure = false;
    this.cfg.srcmask = this.cfg.dstmask = family === 4 ? 32 : 128;
  }

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    const id = o === "hashlimit" ? "hashlimit-upto" : o;
    if (
      (id === "hashlimit-upto" && this.seen.has("hashlimit-above")) ||
      (id === "hashlimit-above" && this.seen.has("hashlimit-upto"))
    ) {
      p.fail('hashlimit: "--hashlimit-upto" and "--hashlimit-above" cannot be used together');
    }
    if (this.seen.has(id)) p.fail(`hashlimit: option "--${o}" can only be used once.`);
    this.seen.add(id);
    const cfg = this.cfg;
    switch (id) {
      case "hashlimit-upto":
      case "hashlimit-above": {
        if ((id === "hashlimit-above") !== inv) cfg.mode |= INVERT;
        if (this.parseBytes(arg)) cfg.mode |= BYTES;
        else if (!this.parseRate(arg)) p.failArg(`hashlimit: bad value for option "--${o}": '${arg}'`);
        return;
      }
      case "hashlimit-burst": {
        const m = /^([0-9]+)([kKmM]?)/.exec(arg);
        if (m === null || (m[2] === "" && Number(m[1]) > BURST_MAX) || Number(m[1]) < 1) {
          p.failArg(`hashlimit: bad value for option "--hashlimit-burst", or out of range (1-${BURST_MAX}).`);
        }
        const f = m[2]!.toLowerCase() === "m" ? 1024 * 1024 : m[2]!.toLowerCase() === "k" ? 1024 : 1;
        this.burstRaw = Number(m[1]) * f;
        this.burstGiven = true;
        return;
      }
      case "hashlimit-mode": {
        let mode = 0;
        for (const t of arg.split(/[,|]/)) {
          if (t === "dstip") mode |= HASH_DIP;
          else if (t === "srcip") mode |= HASH_SIP;
          else if (t === "srcport") mode |= HASH_SPT;
          else if (t === "dstport") mode |= HASH_DPT;
          else p.failArg(`hashlimit: bad value for option "--hashlimit-mode": '${arg}'`);
        }
        cfg.mode |= mode;
        return;
      }
      case "hashlimit-srcmask":
      case "hashlimit-dstmask": {
        const v = parseUint(arg, 0, this.family === 4 ? 32 : 128, false);
        if (v === null) p.failArg(`hashlimit: bad prefix length '${arg}'`);
        if (id === "hashlimit-srcmask") cfg.srcmask = v;
        else cfg.dstmask = v;
        return;
      }
      case "hashlimit-name":
        if (arg.length === 0 || arg.length > 254 || arg === "." || arg === ".." || arg.includes("/")) {
          p.failArg(`hashlimit: bad table name '${arg}'`);
        }
        this.tableName = arg;
        return;
      case "hashlimit-rate-match":
      case "hashlimit-rate-interval":
        p.unsupported(`hashlimit --${id}`, `hashlimit option '--${id}' is not implemented by ctnat`);
        return;
      default: {
        const v = parseUint(arg);
        if (v === null) p.failArg(`hashlimit: bad value for option "--${o}": '${arg}'`);
        if (id === "hashlimit-htable-size") cfg.size = v;
        else if (id === "hashlimit-htable-max") cfg.max = v;
        else if (id === "hashlimit-htable-gcinterval") cfg.gcInterval = v;
        else cfg.expire = v;
      }
    }
  }

  /** parse_rate: N[/second|minute|hour|day] (prefixes) into cfg.avg */
  private parseRate(rate: string): boolean {
    this.mult = 1;
    const slash = rate.indexOf("/");
    if (slash >= 0) {
      const u = rate.slice(slash + 1).toLowerCase();
      if (u.length === 0) return false;
      if ("second".startsWith(u)) this.mult = 1;
      else if ("minute".startsWith(u)) this.mult = 60;
      else if ("hour".startsWith(u)) this.mult = 3600;
      else if ("day".startsWith(u)) this.mult = 86400;
      else return false;
    }
    const r = Number.parseInt(rate, 10);
    if (!(r > 0)) return false;
    const v = Math.floor((SCALE * this.mult) / r);
    if (v === 0) return false;
    this.cfg.avg = v;
    return true;
  }

  /** parse_bytes: N[k|m]b/s into cfg.avg as a cost */
  private parseBytes(rate: string): boolean {
    // strtoull, then exactly "b/s", "kb/s" or "mb/s" after the digits
    const m = /^([0-9]+)([km]?)b\/s$/.exec(rate);
    if (m === null) return false;
    const r = Number(m[1]);
    if (!(r > 0)) return false;
    const f = m[2] === "m" ? 1024 * 1024 : m[2] === "k" ? 1024 : 1;
    const c = bytesToCost(r * f);
    if (c === 0) return false;
    this.mult = BYTE_EXPIRE;
    this.cfg.avg = c;
    return true;
  }

  override finalCheck(p: ParseCtx): void {
    const cfg = this.cfg;
    if (!this.seen.has("hashlimit-upto") && !this.seen.has("hashlimit-above")) {
      p.fail("You have to specify --hashlimit");
    }
    if (this.tableName === "") p.fail('hashlimit: option "--hashlimit-name" must be specified');
    if (!this.seen.has("hashlimit-htable-expire")) cfg.expire = this.mult * 1000;
    if (cfg.mode & BYTES) {
      let burst = 0;
      if (this.burstGiven) {
        const unit = costToBytes(cfg.avg);
        // iptables 1.8.9 divides by this unit (SIGFPE when it is 0: rates under 16b/s)
        if (unit === 0) p.fail(`hashlimit: a byte rate below ${2 ** BYTE_SHIFT}b/s cannot take --hashlimit-burst`);
        if (this.burstRaw < unit) p.fail(`burst cannot be smaller than ${unit}b`);
        burst = Math.ceil(this.burstRaw / unit);
        if (!this.seen.has("hashlimit-htable-expire")) cfg.expire = BYTE_EXPIRE_BURST * 1000;
      }
      cfg.burst = burst;
    } else {
      cfg.burst = this.burstGiven ? this.burstRaw : BURST_DEFAULT;
      if (cfg.burst > BURST_MAX)
        p.fail(`hashlimit: bad value for option "--hashlimit-burst", or out of range (1-${BURST_MAX}).`);
    }
    // kernel hashlimit_mt_check_common
    if (cfg.gcInterval === 0 || cfg.expire === 0)
      p.fail("hashlimit: --hashlimit-htable-gcinterval and -expire must not be 0");
    if ((cfg.mode & BYTES) !== 0) {
      if (user2creditsByte(cfg.avg, 250) === 0) p.fail("hashlimit: overflow, rate too high");
    } else if (
      cfg.burst === 0 ||
      user2credits((BigInt(cfg.avg) * BigInt(cfg.burst)) & U64, 250) < user2credits(BigInt(cfg.avg), 250)
    ) {
      p.fail(`hashlimit: overflow, try lower: ${cfg.avg}/${cfg.burst}`);
    }
    const key = `${this.family}:${this.tableName}`;
    let t = p.xt.hashlimit.get(key);
    if (t === undefined) {
      t = new HashlimitTable(this.tableName, this.family, cfg);
      p.xt.hashlimit.set(key, t);
    }
    this.table = t;
  }

  /** packet time: Linux hashlimit_mt (revision 3). Must not allocate (except growing the table). */
  match(skb: Skb, env: RuleEnv): boolean {
    const t = this.table!;
    const c = t.cfg;
    const k = t.key;
    k.fill(0);
    const pi = skb.pi;
    const v4 = pi.family === 4;
    const aw = v4 ? 1 : 4;
    if (c.mode & HASH_DIP) maskInto(k, 4, pi.dst, aw, c.dstmask);
    if (c.mode & HASH_SIP) maskInto(k, 0, pi.src, aw, c.srcmask);
    if (c.mode & (HASH_DPT | HASH_SPT)) {
      // IPv6: a non-first fragment stops at its fragment header (no ports)
      const poff = !v4 && pi.fragOff !== 0 ? -1 : portsOffset(pi.proto);
      if (poff >= 0) {
        const o = pi.l4Off + poff;
        const end = Math.min(pi.off + pi.len, pi.buf.length);
        if (pi.l4Off <= 0 || o + 4 > end) {
          env.hotdrop = true;
          return false;
        }
        const b = pi.buf;
        const sp = (b[o]! << 8) | b[o + 1]!;
        const dp = (b[o + 2]! << 8) | b[o + 3]!;
        k[8] = ((c.mode & HASH_SPT ? sp : 0) << 16) | (c.mode & HASH_DPT ? dp : 0);
      }
    }
    const r = t.account(Math.floor(skb.now * env.hz), env.hz, pi.len, this.cfg.mode);
    if (r < 0) {
      env.hotdrop = true;
      return false;
    }
    const inv = (this.cfg.mode & INVERT) !== 0;
    return r === 1 ? !inv : inv;
  }

  private rateText(): [string, number] {
    const avg = this.cfg.avg;
    let i = 1;
    for (; i < RATES.length; i++) {
      const m = RATES[i]![1];
      if (avg > m || Math.floor(m / avg) < m % avg) break;
    }
    const r = RATES[i - 1]!;
    return [`${Math.floor(r[1] / avg)}/${r[0]}`, (r[1] / SCALE) * 1000];
  }

  private bytesText(prefix: string): [string, number] {
    const avg = this.cfg.avg;
    let r = costToBytes(avg);
    let i = 0;
    for (; i < UNITS.length - 1; i++) {
      const th = UNITS[i]![1];
      if (r >= th && bytesToCost(r - (r % th)) === avg) break;
    }
    let s = ` ${Math.floor(r / UNITS[i]![1])}${UNITS[i]![0]}b/s`;
    const burst = this.cfg.burst;
    if (burst === 0) return [s, BYTE_EXPIRE * 1000];
    r *= burst;
    s += ` ${prefix}burst`;
    for (i = 0; i < UNITS.length - 1; i++) if (r >= UNITS[i]![1]) break;
    s += ` ${Math.floor(r / UNITS[i]![1])}${UNITS[i]![0]}b`;
    return [s, BYTE_EXPIRE_BURST * 1000];
  }

  private modeText(sep: string): string {
    const m = this.cfg.mode;
    const out: string[] = [];
    if (m & HASH_SIP) out.push("srcip");
    if (m & HASH_SPT) out.push("srcport");
    if (m & HASH_DIP) out.push("dstip");
    if (m & HASH_DPT) out.push("dstport");
    return out.join(sep);
  }

  private text(save: boolean): string {
    const c = this.cfg;
    const pre = save ? "--hashlimit-" : "";
    let s = save
      ? c.mode & INVERT
        ? " --hashlimit-above"
        : " --hashlimit-upto"
      : c.mode & INVERT
        ? " limit: above"
        : " limit: up to";
    let quantum: number;
    if (c.mode & BYTES) {
      const [t, q] = this.bytesText(pre);
      s += t;
      quantum = q;
    } else {
      const [t, q] = this.rateText();
      s += ` ${t} ${pre}burst ${c.burst}`;
      quantum = q;
    }
    if (c.mode & (HASH_SIP | HASH_SPT | HASH_DIP | HASH_DPT)) s += ` ${pre}mode ${this.modeText(save ? "," : "-")}`;
    if (save) s += ` --hashlimit-name ${this.tableName}`;
    if (c.size !== 0) s += ` ${pre}htable-size ${c.size}`;
    if (c.max !== 0) s += ` ${pre}htable-max ${c.max}`;
    if (c.gcInterval !== GC_INTERVAL) s += ` ${pre}htable-gcinterval ${c.gcInterval}`;
    if (c.expire !== quantum) s += ` ${pre}htable-expire ${c.expire}`;
    const dmask = this.family === 4 ? 32 : 128;
    if (c.srcmask !== dmask) s += ` ${pre}srcmask ${c.srcmask}`;
    if (c.dstmask !== dmask) s += ` ${pre}dstmask ${c.dstmask}`;
    return s;
  }

  save(): string {
    return this.text(true);
  }

  print(): string {
    return this.text(false);
  }
}

/** maskInto: `a` masked to `plen` bits into k[off..off+4) (Linux maskl / hashlimit_ipv6_mask) */
function maskInto(k: Int32Array, off: number, a: Int32Array, aw: number, plen: number): void {
  for (let w = 0; w < aw; w++) {
    const bits = plen - 32 * w;
    k[off + w] = bits >= 32 ? a[w]! : bits <= 0 ? 0 : a[w]! & ((~0 << (32 - bits)) | 0);
  }
}
