/**
 * PathTracer: records the path of each packet through the gateway — hooks, tables, the rules that
 * matched (with the chains they jumped through), conntrack's verdict, NAT, routing and the packet's fate
 * — and renders it as text, as a JSON object, or as a one-paragraph comment for a pcapng record.
 *
 * Tracing is a slow path: it allocates freely. When no tracer is set the gateway pays nothing.
 */

import type { Conntrack } from "../conntrack/conntrack.js";
import { formatTuple } from "../conntrack/format.js";
import { TCP_STATE_NAMES } from "../conntrack/tcp-states.js";
import { CT_IS_REPLY, CtInfo, HOOK_NAMES, IPS, Verdict } from "../core/netfilter.js";
import type { Skb } from "../core/skb.js";
import type { Nat } from "../nat/nat.js";
import { ruleSaveText } from "../rules/output.js";
import type { CompiledTable, RuleTracer } from "../rules/table.js";
import { TABLE_NAMES } from "../rules/tables.js";
import { formatPacket } from "../wire/format.js";
import type { GatewayTracer } from "./gateway.js";
import { FATE_NAMES } from "./stats.js";

/** One step of a packet's path. */
export interface TraceStep {
  kind: "hook" | "rule" | "policy" | "return" | "conntrack" | "route" | "nat" | "log";
  hook?: string;
  table?: string;
  chain?: string;
  /** 1-based rule number in its chain, and the ruleset line it was read from */
  rule?: number;
  line?: number;
  text?: string;
  verdict?: string;
  detail?: string;
}

/** A packet's whole trace. */
export interface PacketTrace {
  /** 1-based number of the packet in the replay (generated packets share their cause's number) */
  n: number;
  time: number;
  origin: "in" | "local";
  iface: string;
  packet: string;
  steps: TraceStep[];
  fate: string;
  /** interface the packet left through, and the packet as it left */
  out?: string;
  sent?: string;
}

function verdictName(v: number): string {
  switch (v) {
    case Verdict.Accept:
      return "ACCEPT";
    case Verdict.Drop:
      return "DROP";
    case Verdict.Stolen:
      return "STOLEN";
    case Verdict.Queue:
      return "QUEUE";
    case Verdict.Repeat:
      return "REPEAT";
    default:
      return String(v);
  }
}

/** ctstate text of a packet, as the conntrack match names it */
export function ctStateText(skb: Skb, c: Conntrack): string {
  if (skb.ctInfo === CtInfo.Untracked) return "UNTRACKED";
  if (skb.ct < 0) return "INVALID";
  const base = skb.ctInfo >= CT_IS_REPLY ? skb.ctInfo - CT_IS_REPLY : skb.ctInfo;
  const state = base === CtInfo.New ? "NEW" : base === CtInfo.Related ? "RELATED" : "ESTABLISHED";
  const dir = skb.ctInfo >= CT_IS_REPLY ? " reply" : "";
  const st = c.status(skb.ct);
  const notes: string[] = [];
  if (c.l4proto(skb.ct) === 6) notes.push(`tcp ${TCP_STATE_NAMES[c.tcpState(skb.ct)]}`);
  if ((st & IPS.SRC_NAT) !== 0) notes.push("SNAT");
  if ((st & IPS.DST_NAT) !== 0) notes.push("DNAT");
  if ((st & IPS.ASSURED) !== 0) notes.push("ASSURED");
  return `${state}${dir}${notes.length > 0 ? ` (${notes.join(", ")})` : ""}`;
}

export class PathTracer implements GatewayTracer, RuleTracer {
  /** called with every finished trace */
  onTrace: (t: PacketTrace) => void;
  private readonly ifName: (ifindex: number) => string;
  private readonly ctab: Conntrack;
  private readonly nat: Nat;
  private cur: PacketTrace | null = null;
  private packetNo = 0;
  private natBefore = "";
  /** the packet created its connection (NEW): its NAT binding is described at the end */
  private newConn = false;
  /** the rule path within the table being run */
  private pending: TraceStep[] = [];

  constructor(conntrack: Conntrack, nat: Nat, ifName: (ifindex: number) => string, onTrace: (t: PacketTrace) => void) {
    this.ctab = conntrack;
    this.nat = nat;
    this.ifName = ifName;
    this.onTrace = onTrace;
  }

  // ---- GatewayTracer --------------------------------------------------------------------------

  /** traces put aside while a packet the gateway made goes out first (nest / unnest) */
  private readonly nested: { cur: PacketTrace | null; natBefore: string; newConn: boolean; pending: TraceStep[] }[] =
    [];

  nest(): void {
    this.nested.push({ cur: this.cur, natBefore: this.natBefore, newConn: this.newConn, pending: this.pending });
    this.cur = null;
    this.pending = [];
  }

  unnest(): void {
    const s = this.nested.pop();
    if (s === undefined) return;
    this.cur = s.cur;
    this.natBefore = s.natBefore;
    this.newConn = s.newConn;
    this.pending = s.pending;
  }

  packet(skb: Skb, origin: "in" | "local"): void {
    if (origin === "in") this.packetNo++;
    this.cur = {
      n: this.packetNo,
      time: skb.now,
      origin,
      iface: origin === "in" ? this.ifName(skb.inIf) : "",
      packet: formatPacket(skb.pi),
      steps: [],
      fate: "",
    };
    this.natBefore = this.cur.packet;
    this.newConn = false;
    this.pending = [];
  }

  hook(skb: Skb, hook: number, table: number, verdict: number): void {
    const t = this.cur;
    if (t === null) return;
    const tname = TABLE_NAMES[table];
    const ranRules = this.pending.length > 0;
    for (const s of this.pending) t.steps.push(s);
    this.pending = [];
    if (tname === "nat" && skb.ct >= 0) {
      const now = formatPacket(skb.pi);
      if (now !== this.natBefore) {
        t.steps.push({ kind: "nat", hook: HOOK_NAMES[hook], detail: `rewritten to ${now}` });
        this.natBefore = now;
      }
    }
    if (verdict !== Verdict.Accept && !ranRules) {
      t.steps.push({ kind: "hook", hook: HOOK_NAMES[hook], table: tname, verdict: verdictName(verdict) });
    }
  }

  conntrack(skb: Skb): void {
    const t = this.cur;
    if (t === null) return;
    if (skb.ctInfo === CtInfo.New) this.newConn = true;
    let detail = ctStateText(skb, this.ctab);
    if (skb.ct >= 0) detail += ` [${formatTuple(this.ctab, skb.ct, 0)}]`;
    t.steps.push({ kind: "conntrack", hook: HOOK_NAMES[skb.hook], detail });
  }

  route(skb: Skb, what: string): void {
    const t = this.cur;
    if (t === null) return;
    t.steps.push({
      kind: "route",
      detail: what === "local" ? "local delivery" : `forward out ${this.ifName(skb.outIf)}`,
    });
  }

  fate(skb: Skb, fate: number, detail: string): void {
    const t = this.cur;
    if (t === null) return;
    for (const s of this.pending) t.steps.push(s);
    this.pending = [];
    t.fate = FATE_NAMES[fate] + (detail ? ` (${detail})` : "");
    if (skb.outIf >= 0 && (FATE_NAMES[fate] === "forwarded" || FATE_NAMES[fate] === "local-sent")) {
      t.out = this.ifName(skb.outIf);
      t.sent = formatPacket(skb.pi);
    }
    if (this.newConn && skb.ct >= 0 && (this.ctab.status(skb.ct) & (IPS.SRC_NAT | IPS.DST_NAT)) !== 0) {
      t.steps.push({ kind: "nat", detail: this.nat.describe(skb.ct) });
    }
    this.cur = null;
    this.onTrace(t);
  }

  /** a LOG / NFLOG target fired */
  log(skb: Skb, kind: string, prefix: string): void {
    this.pending.push({
      kind: "log",
      hook: HOOK_NAMES[skb.hook],
      detail: `${kind}${prefix ? ` prefix ${JSON.stringify(prefix)}` : ""}`,
    });
  }

  // ---- RuleTracer -----------------------------------------------------------------------------

  rule(table: CompiledTable, slot: number, matched: boolean): void {
    if (!matched || this.cur === null) return;
    const r = table.rules[slot];
    const chain = table.chains[table.chainOf[slot]!]!;
    this.pending.push({
      kind: "rule",
      table: table.name,
      chain: chain.name,
      rule: table.ruleNum[slot],
      line: r?.line,
      text: r ? `-A ${chain.name}${ruleSaveText(r)}` : undefined,
    });
  }

  policy(table: CompiledTable, chain: number, verdict: number): void {
    if (this.cur === null) return;
    this.pending.push({
      kind: "policy",
      table: table.name,
      chain: table.chains[chain]!.name,
      verdict: verdictName(verdict),
    });
  }

  fallOff(table: CompiledTable, chain: number): void {
    if (this.cur === null) return;
    this.pending.push({ kind: "return", table: table.name, chain: table.chains[chain]!.name });
  }

  done(table: CompiledTable, hook: number, verdict: number, hotdrop: boolean): void {
    if (this.cur === null || !hotdrop) return;
    this.pending.push({
      kind: "hook",
      hook: HOOK_NAMES[hook],
      table: table.name,
      verdict: `${verdictName(verdict)} (hotdrop: a match could not read the packet)`,
    });
  }
}

/** formatTraceText: a trace as indented lines, e.g. for trace.txt and `ctnat explain`. */
export function formatTraceText(t: PacketTrace): string {
  const head =
    t.origin === "in"
      ? `#${t.n} ${t.time.toFixed(6)} in ${t.iface}: ${t.packet}`
      : `#${t.n} ${t.time.toFixed(6)} gateway sends: ${t.packet}`;
  const lines = [head];
  for (const s of t.steps) lines.push(`  ${formatStep(s)}`);
  lines.push(`  => ${t.fate}${t.out ? ` out ${t.out}: ${t.sent}` : ""}`);
  return `${lines.join("\n")}\n`;
}

export function formatStep(s: TraceStep): string {
  switch (s.kind) {
    case "rule":
      return `${s.table} ${s.chain} rule ${s.rule}${s.line ? ` (line ${s.line})` : ""}: ${s.text ?? ""}`;
    case "policy":
      return `${s.table} ${s.chain}: policy ${s.verdict}`;
    case "return":
      return `${s.table} ${s.chain}: end of chain, return`;
    case "hook":
      return `${s.hook} ${s.table}: ${s.verdict}`;
    case "conntrack":
      return `${s.hook} conntrack: ${s.detail}`;
    case "route":
      return `routing: ${s.detail}`;
    case "nat":
      return `NAT${s.hook ? ` ${s.hook}` : ""}: ${s.detail}`;
    case "log":
      return `${s.hook} ${s.detail}`;
  }
}

/** formatTraceComment: a compact single-paragraph form for pcapng comments. */
export function formatTraceComment(t: PacketTrace): string {
  return formatTraceText(t).trimEnd();
}
