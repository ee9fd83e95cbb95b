/**
 * Text output in conntrack-tools 1.4.7's formats (libnetfilter_conntrack's default printer):
 * `conntrack -L` lines, `conntrack -E` events, `conntrack -S` statistics. Slow path: strings.
 *
 *   tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=0 use=1
 *       [NEW] udp      17 30 src=... [UNREPLIED] src=...
 *   [DESTROY] tcp      6 CLOSE src=...                      (no timeout once it has run out)
 *   cpu=0   	found=0 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0
 *
 * (Measured on Linux 6.18 with conntrack v1.4.7: events carry no `use=`, and `mark=` only when the
 * mark is not 0 or has just changed; the [DESTROY] of an expired entry has no timeout field.)
 */
import { CtZone, IPPROTO, IPS } from "../core/netfilter.js";
import { formatIpv4, formatIpv6 } from "../wire/addr.js";
import { HZ, toTicks } from "./config.js";
import { type Conntrack, CtEvent, type CtStats } from "./conntrack.js";
import { SCTP_STATE_NAMES } from "./sctp.js";
import { W_EXPIRY } from "./store.js";
import { TCP_STATE_NAMES } from "./tcp-states.js";

/** protoName: the name conntrack prints for a protocol number ("unknown" for others, as it does) */
export function protoName(proto: number): string {
  switch (proto) {
    case IPPROTO.TCP:
      return "tcp";
    case IPPROTO.UDP:
      return "udp";
    case IPPROTO.UDPLITE:
      return "udplite";
    case IPPROTO.ICMP:
      return "icmp";
    case IPPROTO.ICMPV6:
      return "icmpv6";
    case IPPROTO.SCTP:
      return "sctp";
    case IPPROTO.GRE:
      return "gre";
    case IPPROTO.DCCP:
      return "dccp";
    default:
      return "unknown";
  }
}

/** formatTuple: "src=A dst=B" plus the protocol part of direction `dir` of entry `ct` */
export function formatTuple(c: Conntrack, ct: number, dir: number): string {
  const store = c.storeOf(ct);
  const r = store.rec;
  const o = (ct & 0xffffff) * store.stride + dir * store.node;
  const aw = store.aw;
  let src: string;
  let dst: string;
  if (aw === 1) {
    src = formatIpv4(r[o]);
    dst = formatIpv4(r[o + 1]);
  } else {
    src = formatIpv6(r.subarray(o, o + 4));
    dst = formatIpv6(r.subarray(o + 4, o + 8));
  }
  const ports = r[o + 2 * aw];
  const proto = store.proto(ct & 0xffffff);
  let l4 = "";
  switch (proto) {
    case IPPROTO.TCP:
    case IPPROTO.UDP:
    case IPPROTO.UDPLITE:
    case IPPROTO.SCTP:
    case IPPROTO.DCCP:
      // DCCP has no tracker in Linux 6.18: tracked generically, its ports print as 0.
      l4 = ` sport=${ports >>> 16} dport=${ports & 0xffff}`;
      break;
    case IPPROTO.GRE:
      l4 = ` srckey=0x${(ports >>> 16).toString(16)} dstkey=0x${(ports & 0xffff).toString(16)}`;
      break;
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
      l4 = ` type=${(ports >>> 8) & 0xff} code=${ports & 0xff} id=${ports >>> 16}`;
      break;
    default:
      break;
  }
  return `src=${src} dst=${dst}${l4}`;
}

function stateText(c: Conntrack, ct: number): string {
  const proto = c.l4proto(ct);
  if (proto === IPPROTO.TCP) return `${TCP_STATE_NAMES[c.l4State(ct)] ?? "NONE"} `;
  if (proto === IPPROTO.SCTP) return `${SCTP_STATE_NAMES[c.l4State(ct)] ?? "NONE"} `;
  return "";
}

function remainingSeconds(c: Conntrack, ct: number, atTicks: number): number {
  const store = c.storeOf(ct);
  const d = (store.rec[c.commonBase(ct) + W_EXPIRY] - atTicks) | 0;
  return d > 0 ? Math.floor(d / HZ) : 0;
}

function countersText(c: Conntrack, ct: number, dir: number): string {
  if (!c.cfg.acct) return "";
  const k = c.counters(ct, dir) ?? [0, 0];
  return ` packets=${k[0]} bytes=${k[1]}`;
}

/**
 * formatEntry: the `conntrack -L` line of entry `ct` as listed at time `at` (seconds; default the
 * table's current time). The timeout is truncated to seconds as the kernel computes it.
 */
export function formatEntry(c: Conntrack, ct: number, at?: number): string {
  const t = at === undefined ? c.now : toTicks(at);
  const proto = c.l4proto(ct);
  const status = c.status(ct);
  const zone = c.zone(ct);
  let s = `${protoName(proto).padEnd(8)} ${proto} ${remainingSeconds(c, ct, t)} ${stateText(c, ct)}`;
  s += formatTuple(c, ct, 0) + zoneText(zone, CtZone.DirOrig, "zone-orig") + countersText(c, ct, 0);
  if ((status & IPS.SEEN_REPLY) === 0) s += " [UNREPLIED]";
  s += ` ${formatTuple(c, ct, 1)}${zoneText(zone, CtZone.DirReply, "zone-reply")}${countersText(c, ct, 1)}`;
  s += assuredText(status);
  s += ` mark=${c.mark(ct)}${zoneText(zone, CtZone.DirBoth, "zone")} use=1`;
  return s;
}

/**
 * zoneText: ` zone-orig=N`, ` zone-reply=N` or ` zone=N`: ctnetlink reports a zone outside the default one
 * inside the tuple of the only direction it applies to, or as CTA_ZONE when it applies to both.
 */
function zoneText(zone: number, dirs: number, name: string): string {
  if ((zone & CtZone.IdMask) === 0 || (zone & CtZone.DirBoth) !== dirs) return "";
  return ` ${name}=${zone & CtZone.IdMask}`;
}

function assuredText(status: number): string {
  if ((status & IPS.HW_OFFLOAD) !== 0) return " [HW_OFFLOAD]";
  if ((status & IPS.OFFLOAD) !== 0) return " [OFFLOAD]";
  if ((status & IPS.ASSURED) !== 0) return " [ASSURED]";
  return "";
}

/**
 * listEntries: the `conntrack -L` output at `at` (seconds; default the table's current time): one
 * line per listed entry, IPv4 first, each family in slot order. (The summary line conntrack writes to
 * stderr is not included.)
 */
export function listEntries(c: Conntrack, at?: number): string[] {
  return c.entries(at).map((ct) => formatEntry(c, ct, at));
}

/**
 * formatEvent: the `conntrack -E` line for event `type` (CtEvent) of entry `ct`, at the table's
 * current time. Call it from the event sink (the entry is readable then, also for DESTROY).
 */
export function formatEvent(c: Conntrack, type: number, ct: number): string {
  const proto = c.l4proto(ct);
  const status = c.status(ct);
  const head = type === CtEvent.New ? "[NEW]" : type === CtEvent.Update ? "[UPDATE]" : "[DESTROY]";
  let s = `${head.padStart(9)} ${protoName(proto).padEnd(8)} ${proto} `;
  const secs = remainingSeconds(c, ct, c.now);
  if (type !== CtEvent.Destroy || secs > 0) s += `${secs} `;
  const destroy = type === CtEvent.Destroy;
  // Linux prints the protocol state in an event only with IPCT_PROTOINFO (a state change) or DESTROY.
  if (destroy || c.protoEventPending(ct)) s += stateText(c, ct);
  const zone = c.zone(ct);
  s += formatTuple(c, ct, 0) + zoneText(zone, CtZone.DirOrig, "zone-orig") + (destroy ? countersText(c, ct, 0) : "");
  if ((status & IPS.SEEN_REPLY) === 0) s += " [UNREPLIED]";
  s += ` ${formatTuple(c, ct, 1)}${zoneText(zone, CtZone.DirReply, "zone-reply")}`;
  s += destroy ? countersText(c, ct, 1) : "";
  s += assuredText(status);
  const mark = c.mark(ct);
  if (mark !== 0 || c.markEventPending(ct)) s += ` mark=${mark}`;
  s += zoneText(zone, CtZone.DirBoth, "zone");
  return s;
}

/** formatStats: the `conntrack -S` line (one CPU), with conntrack's trailing space. */
export function formatStats(st: CtStats): string {
  return (
    `cpu=${"0".padEnd(4)}\tfound=${st.found} invalid=${st.invalid} insert=${st.insert} ` +
    `insert_failed=${st.insertFailed} drop=${st.drop} early_drop=${st.earlyDrop} error=${st.error} ` +
    `search_restart=${st.searchRestart} clash_resolve=${st.clashResolve} chaintoolong=${st.chaintoolong} `
  );
}
