/**
 * recent match: `-m recent [!] --set|--rcheck|--update|--remove [--seconds N] [--reap] [--hitcount N]
 * [--rttl] [--name NAME] [--mask ADDR] [--rsource|--rdest]` (Linux xt_recent.c, iptables
 * libxt_recent.c), used for SSH brute-force rules and kube-proxy-style session affinity.
 *
 * Each name is one table per network namespace (shared by every rule and both families, as Linux's): at
 * most 100 addresses (ip_list_tot); when full, the least recently seen is evicted. Each address keeps
 * its last N packet times (jiffies), N the power of two at or above the largest --hitcount of the rules
 * using the table (32 without one), as a ring. The table's mask is the first rule's.
 *
 * Packet time, exactly as recent_mt:
 * - the address (source or destination, masked) and the TTL (hop limit) as before forwarding: packets
 *   that have an output interface and are not the gateway's own count one more;
 * - an unknown address matches only with --set, which adds it (one time stamp);
 * - --set and --remove match a known address (and stamp / forget it); --rcheck and --update count the
 *   stamps not older than --seconds (all without it) and match when there are --hitcount of them (one
 *   without it); --update stamps the address when the rule's result (after `!`) is true; --reap then
 *   forgets the least recently seen address if its newest stamp is older than --seconds.
 * Time is jiffies of the packet time (RuleEnv.hz ticks per second).
 */
import type { Skb } from "../../core/skb.js";
import { formatAddr, parseAddr } from "../addr.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";
import { parseUint } from "../util.js";

const R_CHECK = 1;
const R_SET = 2;
const R_UPDATE = 4;
const R_REMOVE = 8;
const R_TTL = 16;
const R_REAP = 32;

/** ip_list_tot: addresses per table (Linux module parameter default) */
export const RECENT_LIST_TOT = 100;

/** RecentTable: one xt_recent table (Linux struct recent_table), entries in typed arrays. */
export class RecentTable {
  readonly name: string;
  /** the mask of the rule that created the table (4 words) */
  readonly mask: Int32Array = new Int32Array(4);
  /** stamps per entry - 1 (a power of two - 1); the largest any rule asked for */
  nstampsMaxMask = 31;
  /** entries: live flag, family, address (4 words), ttl, ring index, stamps used */
  private live: Uint8Array = new Uint8Array(RECENT_LIST_TOT);
  private fam: Uint8Array = new Uint8Array(RECENT_LIST_TOT);
  private addr: Int32Array = new Int32Array(RECENT_LIST_TOT * 4);
  private ttl: Uint8Array = new Uint8Array(RECENT_LIST_TOT);
  private index: Int32Array = new Int32Array(RECENT_LIST_TOT);
  private nstamps: Int32Array = new Int32Array(RECENT_LIST_TOT);
  private stamps: Float64Array = new Float64Array(0);
  /** LRU list: least recently seen first */
  private lruPrev: Int32Array = new Int32Array(RECENT_LIST_TOT).fill(-1);
  private lruNext: Int32Array = new Int32Array(RECENT_LIST_TOT).fill(-1);
  private head = -1;
  private tail = -1;
  /** entries in the table */
  count = 0;
  constructor(name: string) {
    this.name = name;
  }

  private ensure(): void {
    const need = RECENT_LIST_TOT * (this.nstampsMaxMask + 1);
    if (this.stamps.length !== need) this.stamps = new Float64Array(need);
  }

  /** lookup: Linux recent_entry_lookup: the entry of (family, address), its TTL equal when ttl != 0 */
  lookup(family: number, a: Int32Array, ttl: number): number {
    for (let e = this.head; e >= 0; e = this.lruNext[e]!) {
      const o = e * 4;
      const ad = this.addr;
      if (
        this.fam[e] === family &&
        ad[o] === a[0] &&
        ad[o + 1] === a[1] &&
        ad[o + 2] === a[2] &&
        ad[o + 3] === a[3] &&
        (ttl === this.ttl[e] || ttl === 0 || this.ttl[e] === 0)
      ) {
        return e;
      }
    }
    return -1;
  }

  private unlink(e: number): void {
    const p = this.lruPrev[e]!;
    const n = this.lruNext[e]!;
    if (p >= 0) this.lruNext[p] = n;
    else this.head = n;
    if (n >= 0) this.lruPrev[n] = p;
    else this.tail = p;
    this.lruPrev[e] = -1;
    this.lruNext[e] = -1;
  }

  private append(e: number): void {
    this.lruPrev[e] = this.tail;
    this.lruNext[e] = -1;
    if (this.tail >= 0) this.lruNext[this.tail] = e;
    else this.head = e;
    this.tail = e;
  }

  /** remove: Linux recent_entry_remove */
  remove(e: number): void {
    this.unlink(e);
    this.live[e] = 0;
    this.count--;
  }

  /** init: Linux recent_entry_init: a new entry stamped now (evicting the least recently seen when full) */
  init(family: number, a: Int32Array, ttl: number, jiffies: number): number {
    this.ensure();
    if (this.count >= RECENT_LIST_TOT) this.remove(this.head);
    let e = 0;
    while (this.live[e] !== 0) e++;
    this.live[e] = 1;
    this.fam[e] = family;
    this.addr.set(a, e * 4);
    this.ttl[e] = ttl;
    this.stamps[e * (this.nstampsMaxMask + 1)] = jiffies;
    this.nstamps[e] = 1;
    this.index[e] = 1;
    this.append(e);
    this.count++;
    return e;
  }

  /** update: Linux recent_entry_update: a new stamp in the ring, the entry becomes the most recent */
  update(e: number, jiffies: number): void {
    const i = this.index[e]! & this.nstampsMaxMask;
    this.stamps[e * (this.nstampsMaxMask + 1) + i] = jiffies;
    this.index[e] = i + 1;
    if (i + 1 > this.nstamps[e]!) this.nstamps[e] = i + 1;
    this.unlink(e);
    this.append(e);
  }

  setTtl(e: number, ttl: number): void {
    this.ttl[e] = ttl;
  }

  /** hits: stamps of entry e not older than `time` (all when !useTime), stopping at `need` (0: at the first) */
  hits(e: number, time: number, useTime: boolean, need: number): boolean {
    const base = e * (this.nstampsMaxMask + 1);
    const n = this.nstamps[e]!;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      if (useTime && time > this.stamps[base + i]!) continue;
      if (need === 0 || ++hits >= need) return true;
    }
    return false;
  }

  /** reap: Linux recent_entry_reap: forget the least recently seen entry if its newest stamp is older than `time` */
  reap(time: number, working: number, update: boolean): void {
    const e = this.head;
    if (e < 0 || (e === working && update)) return;
    const last = this.stamps[e * (this.nstampsMaxMask + 1) + this.index[e]! - 1]!;
    if (time > last) this.remove(e);
  }

  /** flush: forget every entry */
  flush(): void {
    this.live.fill(0);
    this.head = this.tail = -1;
    this.lruPrev.fill(-1);
    this.lruNext.fill(-1);
    this.count = 0;
  }

  /**
   * list: the table as /proc/net/xt_recent/NAME shows it (least recently seen first; Linux lists by hash
   * bucket): `src=ADDR ttl: T last_seen: J oldest_pkt: I J1, J2, ...`.
   */
  list(): string[] {
    const out: string[] = [];
    for (let e = this.head; e >= 0; e = this.lruNext[e]!) {
      const base = e * (this.nstampsMaxMask + 1);
      const idx = this.index[e]!;
      const last = this.stamps[base + ((idx - 1) & this.nstampsMaxMask)]!;
      let s = `src=${formatAddr(this.fam[e]!, this.addr.subarray(e * 4, e * 4 + 4))} ttl: ${this.ttl[e]} last_seen: ${last} oldest_pkt: ${idx}`;
      for (let i = 0; i < this.nstamps[e]!; i++) s += `${i ? "," : ""} ${this.stamps[base + i]}`;
      out.push(s);
    }
    return out;
  }
}

export class RecentMatch extends Match {
  static readonly extName: string = "recent";
  readonly name = "recent";
  readonly opts: readonly OptDef[] = [
    opt("set", false, true),
    opt("rcheck", false, true),
    opt("update", false, true),
    opt("remove", false, true),
    opt("seconds"),
    opt("reap", false),
    opt("hitcount"),
    opt("rttl", false),
    opt("name"),
    opt("mask"),
    opt("rsource", false),
    opt("rdest", false),
  ];
  checkSet = 0;
  inv = false;
  seconds = 0;
  hitCount = 0;
  tableName = "DEFAULT";
  /** side: true for --rdest */
  dest = false;
  readonly mask: Int32Array = new Int32Array(4);
  private table: RecentTable | null = null;
  private readonly key: Int32Array = new Int32Array(4);
  private cmdName = "";
  /** options given so far: each may be given once (libxt_recent declares none repeatable) */
  private readonly seen = new Set<string>();

  constructor(family: number) {
    super(family);
    this.pure = false;
    parseAddr(family, family === 4 ? "255.255.255.255" : "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", this.mask);
  }

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    if (this.seen.has(o)) p.fail(`recent: option "--${o}" can only be used once.`);
    this.seen.add(o);
    switch (o) {
      case "set":
      case "rcheck":
      case "update":
      case "remove": {
        if (this.cmdName !== "") p.fail(`recent: option "--${this.cmdName}" cannot be used together with "--${o}".`);
        this.cmdName = o;
        this.checkSet |= o === "set" ? R_SET : o === "rcheck" ? R_CHECK : o === "update" ? R_UPDATE : R_REMOVE;
        this.inv = inv;
        return;
      }
      case "seconds": {
        const v = parseUint(arg);
        if (v === null) p.failArg(`recent: bad value for option "--seconds" '${arg}'`);
        this.seconds = v;
        return;
      }
      case "hitcount": {
        const v = parseUint(arg);
        if (v === null) p.failArg(`recent: bad value for option "--hitcount" '${arg}'`);
        this.hitCount = v;
        return;
      }
      case "reap":
        this.checkSet |= R_REAP;
        return;
      case "rttl":
        this.checkSet |= R_TTL;
        return;
      case "name":
        // xt_check_proc_name: a /proc file name
        if (arg.length === 0 || arg.length > 199 || arg === "." || arg === ".." || arg.includes("/")) {
          p.failArg(`recent: bad table name '${arg}'`);
        }
        this.tableName = arg;
        return;
      case "mask":
        if (!parseAddr(this.family, arg, this.mask)) p.failArg(`recent: bad mask '${arg}'`);
        return;
      case "rsource":
        this.dest = false;
        return;
      case "rdest":
        this.dest = true;
    }
  }

  override finalCheck(p: ParseCtx): void {
    if (this.cmdName === "") p.fail("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
    if (this.checkSet & R_REAP && this.seconds === 0) p.fail('recent: option "--reap" also requires "--seconds".');
    // kernel recent_mt_check
    if (
      this.checkSet & (R_SET | R_REMOVE) &&
      (this.seconds !== 0 || this.hitCount !== 0 || this.checkSet & (R_TTL | R_REAP))
    ) {
      p.fail(
        "recent: --set and --remove take no --seconds, --hitcount, --rttl or --reap (the kernel refuses the rule)",
      );
    }
    if (this.hitCount >= 65536) p.fail(`recent: hitcount (${this.hitCount}) is larger than allowed maximum (65535)`);
    // the table: shared by name; created with this rule's mask; its ring as large as any rule needs
    const mask = this.hitCount !== 0 ? roundupPow2(this.hitCount) - 1 : 31;
    let t = p.xt.recent.get(this.tableName);
    if (t === undefined) {
      t = new RecentTable(this.tableName);
      t.mask.set(this.mask);
      t.nstampsMaxMask = mask;
      p.xt.recent.set(this.tableName, t);
    } else if (mask > t.nstampsMaxMask) {
      // Linux flushes a table whose rings must grow
      t.flush();
      t.nstampsMaxMask = mask;
    }
    this.table = t;
  }

  /** packet time: Linux recent_mt. Must not allocate. */
  match(skb: Skb, env: RuleEnv): boolean {
    const t = this.table!;
    const pi = skb.pi;
    const a = this.dest ? pi.dst : pi.src;
    const m = t.mask;
    const k = this.key;
    k[0] = a[0]! & m[0]!;
    k[1] = a[1]! & m[1]!;
    k[2] = a[2]! & m[2]!;
    k[3] = a[3]! & m[3]!;
    let ttl = pi.ttl;
    // the TTL as seen before forwarding: a packet with an output interface that is not the gateway's own
    if (skb.outIf >= 0 && skb.inIf >= 0) ttl = (ttl + 1) & 0xff;
    const jiffies = Math.floor(skb.now * env.hz);
    const cs = this.checkSet;
    let ret = this.inv;
    let e = t.lookup(pi.family, k, cs & R_TTL ? ttl : 0);
    if (e < 0) {
      if ((cs & R_SET) === 0) return ret;
      t.init(pi.family, k, ttl, jiffies);
      return !ret;
    }
    if (cs & R_SET) ret = !ret;
    else if (cs & R_REMOVE) {
      t.remove(e);
      e = -1;
      ret = !ret;
    } else if (cs & (R_CHECK | R_UPDATE)) {
      const time = jiffies - this.seconds * env.hz;
      if (t.hits(e, time, this.seconds !== 0, this.hitCount)) ret = !ret;
      if (cs & R_REAP) t.reap(time, e, (cs & R_UPDATE) !== 0 && ret);
    }
    if (cs & R_SET || ((cs & R_UPDATE) !== 0 && ret)) {
      // (a reaped entry is never the one updated: reap spares it)
      t.update(e, jiffies);
      t.setTtl(e, ttl);
    }
    return ret;
  }

  private maskText(): string {
    return formatAddr(this.family, this.mask);
  }

  save(): string {
    const cs = this.checkSet;
    let s = this.inv ? " !" : "";
    if (cs & R_SET) s += " --set";
    if (cs & R_CHECK) s += " --rcheck";
    if (cs & R_UPDATE) s += " --update";
    if (cs & R_REMOVE) s += " --remove";
    if (this.seconds) s += ` --seconds ${this.seconds}`;
    if (cs & R_REAP) s += " --reap";
    if (this.hitCount) s += ` --hitcount ${this.hitCount}`;
    if (cs & R_TTL) s += " --rttl";
    s += ` --name ${this.tableName} --mask ${this.maskText()}`;
    s += this.dest ? " --rdest" : " --rsource";
    return s;
  }

  print(): string {
    const cs = this.checkSet;
    let s = `${this.inv ? " !" : ""} recent:`;
    if (cs & R_SET) s += " SET";
    if (cs & R_CHECK) s += " CHECK";
    if (cs & R_UPDATE) s += " UPDATE";
    if (cs & R_REMOVE) s += " REMOVE";
    if (this.seconds) s += ` seconds: ${this.seconds}`;
    if (cs & R_REAP) s += " reap";
    if (this.hitCount) s += ` hit_count: ${this.hitCount}`;
    if (cs & R_TTL) s += " TTL-Match";
    s += ` name: ${this.tableName} side: ${this.dest ? "dest" : "source"} mask: ${this.maskText()}`;
    return s;
  }
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
