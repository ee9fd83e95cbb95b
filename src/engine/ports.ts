/**
 * The parts the gateway is assembled from, seen through the narrow interfaces the pipeline calls. The
 * real implementations are src/conntrack, src/nat, src/rules and src/stack (wired together in
 * gateway-build.ts); an embedder or a test may plug in others.
 *
 * Hot path: every method here runs per packet and must not allocate.
 */
import type { CtView } from "../core/env.js";
import type { Skb } from "../core/skb.js";
import type { PacketInfo } from "../wire/packet-info.js";

/** Connection tracking as the hooks use it (Linux nf_conntrack_in / nf_conntrack_confirm). */
export interface ConntrackPort extends CtView {
  /** PREROUTING / OUTPUT at priority -200: attach a connection (sets skb.ct / skb.ctInfo); a Verdict. */
  in(skb: Skb, hook: number): number;
  /** INPUT / POSTROUTING at the last priority: confirm a new connection; a Verdict. */
  confirm(skb: Skb): number;
  /** the packet died before confirm: free its unconfirmed connection, if any */
  release(skb: Skb): void;
  /** REJECT tcp-reset: move a confirmed TCP connection to CLOSE (Linux nf_ct_set_closing) */
  setClosing(ct: number, now: number): void;
  /**
   * optional: start the memory loads `in` will make for the first `count` parsed packets, changing
   * nothing (Gateway.receiveBatch calls it before running them)
   */
  prefetchBatch?(pis: readonly PacketInfo[], count: number): number;
}

/** The rules: one call per (table, hook). */
export interface RulesPort {
  /**
   * whether running `table` at `hook` can do anything (a rule, or a policy other than ACCEPT); the
   * Gateway asks once, when it is built, and skips the inactive (table, hook) pairs from then on
   */
  active(table: number, hook: number): boolean;
  /** run the table's chain for the hook; a Verdict (Accept / Drop / Stolen) */
  run(table: number, hook: number, skb: Skb): number;
}

/** NAT at a NAT hook (Linux nf_nat_inet_fn); `runNat` evaluates the nat table for the hook. */
export interface NatPort {
  hook(skb: Skb, hook: number, runNat: (skb: Skb, hook: number) => number): number;
}

/** Where the gateway's output goes. Buffers are only valid during the call: copy what you keep. */
export interface GatewaySink {
  /** a packet leaves through interface `ifindex` (an IP packet, no link layer) */
  transmit(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void;
  /** a packet was delivered to the gateway itself (it passed INPUT) */
  deliver(ifindex: number, buf: Uint8Array, off: number, len: number, now: number): void;
}

/** Table ids in the order the rules engine numbers them. */
export const Table = { Raw: 0, Mangle: 1, Nat: 2, Filter: 3, Security: 4 } as const;
