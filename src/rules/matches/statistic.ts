/**
 * statistic and limit matches: the two rule matches with per-rule state.
 *
 * statistic (Linux xt_statistic.c, iptables libxt_statistic.c):
 * - nth: a counter starts at `every - packet` (iptables computes it, with `every` stored as every-1) and
 *   steps on each evaluation, wrapping from every-1 to 0; the match holds when it wraps to 0.
 * - random: holds when `(random u32 & 0x7fffffff) < probability * 2^31` (rounded as iptables rounds).
 *
 * limit: iptables-nft loads it as nf_tables' native limit expression (nft_limit.c): a token bucket of
 * nanoseconds (packet time), refilled one token per nanosecond up to cost × burst, where cost =
 * unit / rate; a packet passes when the bucket holds at least `cost`. (The x_tables algorithm of
 * xt_limit.c, in jiffies, is kept in user2credits/creditsPerJiffy for reference and tests.)
 */
import type { Skb } from "../../core/skb.js";
import { Match, type OptDef, opt, type ParseCtx, type RuleEnv } from "../types.js";
import { parseUint } from "../util.js";

const MODE_RANDOM = 0;
const MODE_NTH = 1;

export class StatisticMatch extends Match {
  static readonly extName: string = "statistic";
  readonly name = "statistic";
  readonly opts: readonly OptDef[] = [
    opt("mode", true, false),
    opt("probability", true, true),
    opt("every", true, true),
    opt("packet", true, false),
  ];
  mode = -1;
  inv = false;
  /** probability as a 31-bit threshold */
  probability = 0;
  /** every - 1, as the kernel stores it */
  every = 0;
  packet = 0;
  /** the shared counter (Linux info->master->count) */
  count = 0;
  private seen = 0;

  constructor(family: number) {
    super(family);
    this.pure = false;
  }

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    if (inv) this.inv = true;
    switch (o) {
      case "mode":
        if (arg === "random") this.mode = MODE_RANDOM;
        else if (arg === "nth") this.mode = MODE_NTH;
        else p.failArg(`statistic: bad mode '${arg}'`);
        this.seen |= 1;
        return;
      case "probability": {
        if (this.seen & (4 | 8)) p.fail('statistic: "--probability" cannot be used with "--every" or "--packet"');
        const v = Number(arg);
        if (!/^[0-9.eE+-]+$/.test(arg) || !Number.isFinite(v) || v < 0 || v > 1) {
          p.failArg(`statistic: invalid probability '${arg}' (0 to 1)`);
        }
        // C lround(0x80000000 * prob): halves round away from zero
        this.probability = Math.floor(0x80000000 * v + 0.5) >>> 0;
        this.seen |= 2;
        return;
      }
      case "every": {
        if (this.seen & 2) p.fail('statistic: "--every" cannot be used with "--probability"');
        const v = parseUint(arg, 1, 0xffffffff, false);
        if (v === null) p.failArg(`statistic: invalid --every '${arg}'`);
        this.every = v - 1;
        this.seen |= 4;
        return;
      }
      case "packet": {
        if (this.seen & 2) p.fail('statistic: "--packet" cannot be used with "--probability"');
        const v = parseUint(arg, 0, 0xffffffff, false);
        if (v === null) p.failArg(`statistic: invalid --packet '${arg}'`);
        this.packet = v;
        this.seen |= 8;
        return;
      }
    }
  }

  override finalCheck(p: ParseCtx): void {
    if (!(this.seen & 1)) p.fail('statistic: option "--mode" must be specified');
    if (this.mode === MODE_RANDOM && !(this.seen & 2)) p.fail("--probability must be specified when using random mode");
    if (this.mode === MODE_NTH) {
      if (this.seen & 4 && !(this.seen & 8)) p.fail('statistic: option "--every" also requires "--packet"');
      if (!(this.seen & (4 | 8))) p.fail("--every and --packet must be specified when using nth mode");
      if (this.packet > this.every) p.fail("the --packet p must be 0 <= p <= n-1");
    }
    if (this.mode === MODE_NTH && this.seen & 2) p.fail("--probability can not be used in nth mode");
    if (this.mode === MODE_RANDOM && this.seen & (4 | 8)) p.fail("--every and --packet can not be used in random mode");
    this.count = (this.every - this.packet) >>> 0;
  }

  match(_skb: Skb, env: RuleEnv): boolean {
    let ret = this.inv;
    if (this.mode === MODE_RANDOM) {
      if ((env.target.randomU32() & 0x7fffffff) >>> 0 < this.probability) ret = !ret;
    } else {
      const next = this.count === this.every ? 0 : this.count + 1;
      this.count = next;
      if (next === 0) ret = !ret;
    }
    return ret;
  }

  /** isRandom: --mode random (no state: the rules engine may run it inline) */
  get isRandom(): boolean {
    return this.mode === MODE_RANDOM;
  }

  /** resetState: back to the state right after loading. */
  resetState(): void {
    this.count = (this.every - this.packet) >>> 0;
  }

  private dump(prefix: string): string {
    const inv = this.inv ? " !" : "";
    if (this.mode === MODE_RANDOM) {
      return ` ${prefix}mode random${inv} ${prefix}probability ${(this.probability / 0x80000000).toFixed(11)}`;
    }
    let s = ` ${prefix}mode nth${inv} ${prefix}every ${this.every + 1}`;
    // iptables-save always prints --packet; the listing only when it is not 0
    if (this.packet !== 0 || prefix !== "") s += ` ${prefix}packet ${this.packet}`;
    return s;
  }

  save(): string {
    return this.dump("--");
  }

  print(): string {
    return ` statistic${this.dump("")}`;
  }
}

const XT_LIMIT_SCALE = 10000;

/** creditsPerJiffy: the kernel's CREDITS_PER_JIFFY for a tick rate (power of two below 2^32/(HZ*86400)). */
export function creditsPerJiffy(hz: number): number {
  const maxCpj = Math.floor(0xffffffff / (hz * 60 * 60 * 24));
  let p = 1;
  while (p * 2 <= maxCpj) p *= 2;
  return p;
}

/** user2credits: Linux xt_limit's conversion (u32 arithmetic, divide first when it would overflow). */
export function user2credits(user: number, hz: number): number {
  const cpj = creditsPerJiffy(hz);
  user >>>= 0;
  if (user > Math.floor(0xffffffff / (hz * cpj))) return (Math.floor(user / XT_LIMIT_SCALE) * hz * cpj) >>> 0;
  return Math.floor((user * hz * cpj) / XT_LIMIT_SCALE) >>> 0;
}

const RATES: readonly [string, number][] = [
  ["day", XT_LIMIT_SCALE * 24 * 60 * 60],
  ["hour", XT_LIMIT_SCALE * 60 * 60],
  ["min", XT_LIMIT_SCALE * 60],
  ["sec", XT_LIMIT_SCALE],
];

/** formatRate: ` 3/hour`, as libxt_limit print_rate. */
function formatRate(period: number): string {
  let i = 1;
  for (; i < RATES.length; i++) {
    const m = RATES[i]![1];
    if (period > m || Math.floor(m / period) < m % period) break;
  }
  const r = RATES[i - 1]!;
  return ` ${Math.floor(r[1] / period)}/${r[0]}`;
}

export class LimitMatch extends Match {
  static readonly extName: string = "limit";
  readonly name = "limit";
  readonly opts: readonly OptDef[] = [opt("limit", true, false), opt("limit-burst", true, false)];
  /** period per packet, in seconds × XT_LIMIT_SCALE (default 3/hour) */
  avg = Math.floor((XT_LIMIT_SCALE * 3600) / 3);
  burst = 5;
  // token bucket (per rule): nanoseconds of credit, as nf_tables' nft_limit keeps it
  private tokens = 0;
  private tokensMax = 0;
  private cost = 0;
  private last = 0;
  private started = false;

  constructor(family: number) {
    super(family);
    this.pure = false;
  }

  parse(o: string, arg: string, inv: boolean, p: ParseCtx): void {
    if (inv) p.fail("limit does not support invert");
    if (o === "limit") {
      const slash = arg.indexOf("/");
      let mult = 1;
      if (slash >= 0) {
        const unit = arg.slice(slash + 1).toLowerCase();
        if (unit.length === 0) p.failArg(`bad rate "${arg}"`);
        if ("second".startsWith(unit)) mult = 1;
        else if ("minute".startsWith(unit)) mult = 60;
        else if ("hour".startsWith(unit)) mult = 3600;
        else if ("day".startsWith(unit)) mult = 86400;
        else p.failArg(`bad rate "${arg}"`);
      }
      const r = Number.parseInt(arg, 10);
      if (!(r > 0)) p.failArg(`bad rate "${arg}"`);
      const v = Math.floor((XT_LIMIT_SCALE * mult) / (r >>> 0));
      if (v === 0) p.failArg(`rate too fast "${arg}"`);
      this.avg = v;
    } else {
      const v = parseUint(arg, 0, 10000, false);
      if (v === null) p.failArg(`limit: bad --limit-burst '${arg}' (0 to 10000)`);
      this.burst = v;
    }
  }

  /**
   * iptables-nft turns `-m limit` into nf_tables' native limit (nft.c add_nft_limit): the rate and unit
   * are those iptables prints (e.g. 3/hour), and the bucket counts nanoseconds (nft_limit.c).
   */
  rateUnit(): [number, number] {
    let i = 1;
    for (; i < RATES.length; i++) {
      const m = RATES[i]![1];
      if (this.avg > m || Math.floor(m / this.avg) < m % this.avg) break;
    }
    const mult = RATES[i - 1]![1];
    return [Math.floor(mult / this.avg), mult / XT_LIMIT_SCALE];
  }

  override finalCheck(p: ParseCtx): void {
    const [rate] = this.rateUnit();
    if (rate === 0) p.fail("limit: rate too slow");
  }

  match(skb: Skb, _env: RuleEnv): boolean {
    const now = Math.round(skb.now * 1e9);
    if (!this.started) {
      const [rate, unit] = this.rateUnit();
      this.cost = Math.floor((unit * 1e9) / rate);
      this.tokensMax = this.cost * this.burst;
      this.tokens = this.tokensMax;
      this.last = now;
      this.started = true;
    }
    let tokens = this.tokens + now - this.last;
    if (tokens > this.tokensMax) tokens = this.tokensMax;
    this.last = now;
    const delta = tokens - this.cost;
    if (delta >= 0) {
      this.tokens = delta;
      return true;
    }
    this.tokens = tokens;
    return false;
  }

  /** resetState: a full bucket again at the next packet. */
  resetState(): void {
    this.started = false;
  }

  save(): string {
    let s = ` --limit${formatRate(this.avg)}`;
    if (this.burst !== 5) s += ` --limit-burst ${this.burst}`;
    return s;
  }

  print(): string {
    return ` limit: avg${formatRate(this.avg)} burst ${this.burst}`;
  }
}
