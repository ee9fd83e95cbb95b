/**
 * Test support for conntrack (not exported from the package): drive a Conntrack with packets built
 * from specs, as a forwarding gateway would (in at PREROUTING, confirm at POSTROUTING).
 */
import { Hook } from "../core/netfilter.js";
import { Skb } from "../core/skb.js";
import { buildPacket, type PacketSpec } from "../wire/build.js";
import { parsePacket } from "../wire/parse.js";
import { Conntrack, type ConntrackOptions, CtEvent } from "./conntrack.js";
import { formatEvent, listEntries } from "./format.js";

export interface SendResult {
  verdict: number;
  ct: number;
  ctInfo: number;
  reason: number;
}

export interface SendOptions {
  /** hook for `in` (default PREROUTING) */
  hook?: number;
  /** also confirm (default true) */
  confirm?: boolean;
}

/** Gateway: a Conntrack plus a clock (seconds) and an event log. */
export class Gateway {
  readonly ct: Conntrack;
  readonly skb: Skb = new Skb();
  now: number;
  readonly events: string[] = [];

  constructor(opts: ConntrackOptions = {}, start = 1000, withEvents = false) {
    this.ct = new Conntrack(opts);
    this.now = start;
    if (withEvents) {
      this.ct.setEventSink((type, id) => {
        this.events.push(formatEvent(this.ct, type, id));
      });
    }
  }

  /** advance the clock by `s` seconds */
  wait(s: number): this {
    this.now += s;
    return this;
  }

  /** run one packet through in (+ confirm) */
  send(spec: PacketSpec | Uint8Array, opts: SendOptions = {}): SendResult {
    const bytes = spec instanceof Uint8Array ? spec : buildPacket(spec);
    const skb = this.skb;
    skb.reset(this.now, 0);
    parsePacket(skb.pi, bytes, 0, bytes.length);
    let verdict = this.ct.in(skb, opts.hook ?? Hook.Prerouting);
    const reason = this.ct.reason;
    const ct0 = skb.ct;
    const info = skb.ctInfo;
    if (verdict === 1 && opts.confirm !== false) verdict = this.ct.confirm(skb);
    return { verdict, ct: verdict === 1 ? skb.ct : ct0, ctInfo: info, reason };
  }

  /** conntrack -L lines now */
  list(at?: number): string[] {
    return listEntries(this.ct, at ?? this.now);
  }
}

export { CtEvent };
