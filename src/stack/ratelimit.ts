/**
 * IcmpLimiter: Linux's three ICMP rate limiters, in packet time (jiffies derived from it).
 *
 * 1. The global token bucket (icmp_global_allow / icmp_global_consume, one per network namespace and
 *    shared by IPv4 and IPv6). `allow` is true while the credit is positive; an empty bucket is refilled
 *    only when at least HZ/50 jiffies passed since the last refill, by msgs_per_sec * elapsed / HZ
 *    (elapsed capped at one second), never above msgs_burst, and then the message is allowed even if
 *    the credit is still not positive. A message that is sent consumes a random 0, 1 or 2 credits
 *    (get_random_u32_below(3)), so the credit may go negative. The random draw cannot be reproduced:
 *    `consume` takes it from a caller's function (default: always 1, the mean).
 * 2. The per-destination token bucket (inet_peer_xrlim_allow): per address, tokens accrue one per jiffy
 *    up to 6 * cost; a message needs `cost` tokens and takes them. A peer seen for the first
 *    time starts as if last used 60 s ago. Cost: net.ipv4.icmp_ratelimit (IPv4) or
 *    net.ipv6.icmp.ratelimit (IPv6; 6.18 no longer scales it by the route's prefix length).
 * 3. The unreachable-route limiter of ip_error (IPv4 only): the same per-peer tokens, capped at
 *    route.error_burst, a message costs route.error_cost (at least, not more than).
 *
 * Peers are kept in open-addressing tables of typed arrays; a table grows (allocation, rare) when half
 * full, and then forgets peers idle for 60 s or more (a forgotten peer comes back exactly as it left:
 * a fresh peer's 60 s of accrued tokens already reach every cap smaller than 60 s).
 */

const EMPTY = 0;
const USED = 1;

/** A table of peers keyed by four int32 words (IPv4: word 0, the rest 0) with tokens and last use. */
class PeerTable {
  private keys: Int32Array;
  private state: Uint8Array;
  tokens: Float64Array;
  last: Float64Array;
  /** redirects sent to the peer since its last silence (inet_peer n_redirects) */
  nRedirects: Int32Array;
  private count = 0;
  private mask: number;

  constructor(capacity = 64) {
    let n = 16;
    while (n < capacity) n <<= 1;
    this.keys = new Int32Array(n * 4);
    this.state = new Uint8Array(n);
    this.tokens = new Float64Array(n);
    this.last = new Float64Array(n);
    this.nRedirects = new Int32Array(n);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  private static hash(a: number, b: number, c: number, d: number): number {
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
    h = Math.imul(h ^ (h >>> 15) ^ d, 0x165667b1);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** find or create the peer; a new one starts with 0 tokens, last used 60 s before `nowJ` */
  get(a: number, b: number, c: number, d: number, nowJ: number, hz: number): number {
    let i = PeerTable.hash(a, b, c, d) & this.mask;
    const k = this.keys;
    for (;;) {
      if (this.state[i] === EMPTY) break;
      const o = i << 2;
      if (k[o] === a && k[o + 1] === b && k[o + 2] === c && k[o + 3] === d) return i;
      i = (i + 1) & this.mask;
    }
    if ((this.count + 1) * 2 > this.mask + 1) {
      this.grow(nowJ, hz);
      return this.get(a, b, c, d, nowJ, hz);
    }
    const o = i << 2;
    k[o] = a;
    k[o + 1] = b;
    k[o + 2] = c;
    k[o + 3] = d;
    this.state[i] = USED;
    this.tokens[i] = 0;
    this.last[i] = nowJ - 60 * hz;
    this.nRedirects[i] = 0;
    this.count++;
    return i;
  }

  /** slow path: rehash into a table twice as large, leaving out peers idle for 60 s or more */
  private grow(nowJ: number, hz: number): void {
    const oldKeys = this.keys;
    const oldState = this.state;
    const oldTokens = this.tokens;
    const oldLast = this.last;
    const oldRedirects = this.nRedirects;
    let live = 0;
    for (let i = 0; i < oldState.length; i++) if (oldState[i] === USED && nowJ - oldLast[i] < 60 * hz) live++;
    let n = oldState.length;
    while ((live + 1) * 2 > n) n <<= 1;
    if (live * 4 > n) n <<= 1;
    this.keys = new Int32Array(n * 4);
    this.state = new Uint8Array(n);
    this.tokens = new Float64Array(n);
    this.last = new Float64Array(n);
    this.nRedirects = new Int32Array(n);
    this.mask = n - 1;
    this.count = 0;
    for (let j = 0; j < oldState.length; j++) {
      if (oldState[j] !== USED || nowJ - oldLast[j] >= 60 * hz) continue;
      const o = j << 2;
      let i = PeerTable.hash(oldKeys[o], oldKeys[o + 1], oldKeys[o + 2], oldKeys[o + 3]) & this.mask;
      while (this.state[i] !== EMPTY) i = (i + 1) & this.mask;
      const p = i << 2;
      this.keys[p] = oldKeys[o];
      this.keys[p + 1] = oldKeys[o + 1];
      this.keys[p + 2] = oldKeys[o + 2];
      this.keys[p + 3] = oldKeys[o + 3];
      this.state[i] = USED;
      this.tokens[i] = oldTokens[j];
      this.last[i] = oldLast[j];
      this.nRedirects[i] = oldRedirects[j];
      this.count++;
    }
  }

  clear(): void {
    this.state.fill(EMPTY);
    this.count = 0;
  }
}

/** XRLIM_BURST_FACTOR: a peer's bucket holds six messages' worth of tokens. */
export const XRLIM_BURST_FACTOR = 6;

export class IcmpLimiter {
  /** jiffies per second */
  hz: number;
  msgsPerSec: number;
  msgsBurst: number;
  /** global bucket: credit (may be negative) and the jiffy of the last refill */
  credit = 0;
  stamp = Number.NEGATIVE_INFINITY;
  /** the random credit (0, 1 or 2) a sent message consumes; default: the mean, 1 */
  consumeDraw: () => number = () => 1;
  private readonly peers4 = new PeerTable();
  private readonly peers6 = new PeerTable();

  constructor(hz: number, msgsPerSec: number, msgsBurst: number) {
    this.hz = hz;
    this.msgsPerSec = msgsPerSec;
    this.msgsBurst = msgsBurst;
  }

  /** globalAllow: Linux icmp_global_allow at jiffy `nowJ`. */
  globalAllow(nowJ: number): boolean {
    if (this.credit > 0) return true;
    const delta = Math.min(nowJ - this.stamp, this.hz);
    if (delta < Math.floor(this.hz / 50)) return false;
    const incr = Math.floor((this.msgsPerSec * delta) / this.hz);
    if (incr <= 0) return false;
    this.stamp = nowJ;
    this.credit = Math.min(this.credit + incr, this.msgsBurst);
    return true;
  }

  /** globalConsume: Linux icmp_global_consume (a message was sent). */
  globalConsume(): void {
    const c = this.consumeDraw();
    if (c > 0) this.credit -= c;
  }

  /** peer4 / peer6: the peer slot of an address (created at first use). */
  peer4(addr: number, nowJ: number): number {
    return this.peers4.get(addr, 0, 0, 0, nowJ, this.hz);
  }
  peer6(a: Int32Array, nowJ: number): number {
    return this.peers6.get(a[0], a[1], a[2], a[3], nowJ, this.hz);
  }

  /**
   * xrlimAllow: Linux inet_peer_xrlim_allow for peer slot `p` (of the family's table) with a cost of
   * `timeout` jiffies at jiffy `nowJ`.
   */
  xrlimAllow(family: number, p: number, timeout: number, nowJ: number): boolean {
    const t = family === 4 ? this.peers4 : this.peers6;
    let token = t.tokens[p];
    const delta = nowJ - t.last[p];
    if (delta !== 0) {
      t.last[p] = nowJ;
      token += delta;
      if (token > XRLIM_BURST_FACTOR * timeout) token = XRLIM_BURST_FACTOR * timeout;
    }
    let rc = false;
    if (token >= timeout) {
      token -= timeout;
      rc = true;
    }
    t.tokens[p] = token;
    return rc;
  }

  /**
   * redirectAllow: the checks of Linux ip_rt_send_redirect for IPv4 peer slot `p` at jiffy `nowJ`: after
   * `silence` jiffies without a redirect the peer starts over (its ICMP tokens too: they share the
   * peer); after `number` redirects nothing more is sent (and the silence restarts); otherwise the n-th
   * redirect waits `load << n` jiffies after the previous one. When this is true the caller sends the
   * redirect and then calls redirectSent.
   */
  redirectAllow(p: number, nowJ: number, load: number, number: number, silence: number): boolean {
    const t = this.peers4;
    if (nowJ > t.last[p] + silence) {
      t.tokens[p] = 0;
      t.nRedirects[p] = 0;
    }
    const n = t.nRedirects[p];
    if (n >= number) {
      t.last[p] = nowJ;
      return false;
    }
    return n === 0 || nowJ > t.last[p] + load * 2 ** n;
  }

  /** redirectSent: a redirect went to IPv4 peer slot `p` at jiffy `nowJ`. */
  redirectSent(p: number, nowJ: number): void {
    const t = this.peers4;
    t.last[p] = nowJ;
    t.nRedirects[p]++;
  }

  /** routeErrorAllow: the token step of Linux ip_error for IPv4 peer slot `p`. */
  routeErrorAllow(p: number, cost: number, burst: number, nowJ: number): boolean {
    const t = this.peers4;
    let token = t.tokens[p] + (nowJ - t.last[p]);
    if (token > burst) token = burst;
    t.last[p] = nowJ;
    let send = true;
    if (token >= cost) token -= cost;
    else send = false;
    t.tokens[p] = token;
    return send;
  }

  /** number of peers remembered (both families) */
  get peerCount(): number {
    return this.peers4.size + this.peers6.size;
  }

  /** reset: forget every peer and refill the global bucket (a fresh network namespace). */
  reset(): void {
    this.peers4.clear();
    this.peers6.clear();
    this.credit = 0;
    this.stamp = Number.NEGATIVE_INFINITY;
  }
}
