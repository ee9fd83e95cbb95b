/**
 * Conntrack configuration: Linux's defaults for the `net.netfilter.nf_conntrack_*` sysctls, and a
 * builder from sysctl text (`sysctl -a` key/value pairs).
 *
 * Time inside conntrack is counted in ticks of 1/HZ s with HZ = 250, this kernel's CONFIG_HZ, so that
 * `timeout / HZ` truncates exactly as the kernel's `conntrack -L` does. Timeouts below are in ticks.
 *
 * Values are those of Linux 6.18 (read live on the reference machine: `sysctl -a | grep netfilter`).
 */

/** HZ: conntrack ticks per second (Linux CONFIG_HZ=250 on the reference kernel). */
export const HZ = 250;

/**
 * toTicks: a time in seconds (fractional, e.g. a capture timestamp) as a tick count, reduced to int32
 * (it wraps like the kernel's 32-bit `nfct_time_stamp`; compare ticks only through differences).
 */
export function toTicks(seconds: number): number {
  return Math.floor(seconds * HZ) | 0;
}

/** TcpCtState: Linux `enum tcp_conntrack` (the tracker's states, not the endpoint's). */
export const TcpCtState = {
  None: 0,
  SynSent: 1,
  SynRecv: 2,
  Established: 3,
  FinWait: 4,
  CloseWait: 5,
  LastAck: 6,
  TimeWait: 7,
  Close: 8,
  SynSent2: 9,
  /** sIV: the packet is invalid in this state (also the number of real states) */
  Max: 10,
  /** sIG: the packet is ignored (accepted, no state change) */
  Ignore: 11,
  /** timeout slot: too many retransmissions / zero window */
  Retrans: 12,
  /** timeout slot: data not yet acknowledged */
  Unack: 13,
} as const;
export type TcpCtState = (typeof TcpCtState)[keyof typeof TcpCtState];

/** TCP_TIMEOUT_SLOTS: entries of CtConfig.tcpTimeouts (Linux TCP_CONNTRACK_TIMEOUT_MAX). */
export const TCP_TIMEOUT_SLOTS = 14;

/** SctpCtState: Linux `enum sctp_conntrack`. */
export const SctpCtState = {
  None: 0,
  Closed: 1,
  CookieWait: 2,
  CookieEchoed: 3,
  Established: 4,
  ShutdownSent: 5,
  ShutdownRecd: 6,
  ShutdownAckSent: 7,
  HeartbeatSent: 8,
  /** sIV / number of states */
  Max: 9,
} as const;

/**
 * CtConfig: every knob conntrack reads. Build one with `defaultCtConfig()` or
 * `ctConfigFromSysctl(map)`; the table reads it at each packet, so fields may be changed between
 * packets (as writing a sysctl does).
 */
export class CtConfig {
  /** TCP timeouts by TcpCtState (slots Retrans and Unack included), ticks */
  readonly tcpTimeouts: Int32Array = new Int32Array(TCP_TIMEOUT_SLOTS);
  /** nf_conntrack_tcp_loose: pick up connections from the middle (default 1) */
  tcpLoose = true;
  /** nf_conntrack_tcp_be_liberal: accept out-of-window segments (default 0) */
  tcpBeLiberal = false;
  /** nf_conntrack_tcp_ignore_invalid_rst: skip the RST sequence check (default 0) */
  tcpIgnoreInvalidRst = false;
  /** nf_conntrack_tcp_max_retrans: retransmissions before the RETRANS timeout applies (default 3) */
  tcpMaxRetrans = 3;
  /** nf_conntrack_udp_timeout (30 s) */
  udpTimeout = 30 * HZ;
  /** nf_conntrack_udp_timeout_stream (120 s) */
  udpTimeoutStream = 120 * HZ;
  /** nf_conntrack_icmp_timeout (30 s) */
  icmpTimeout = 30 * HZ;
  /** nf_conntrack_icmpv6_timeout (30 s) */
  icmpv6Timeout = 30 * HZ;
  /** nf_conntrack_generic_timeout (600 s) */
  genericTimeout = 600 * HZ;
  /** nf_conntrack_gre_timeout (30 s, unreplied) */
  greTimeout = 30 * HZ;
  /** nf_conntrack_gre_timeout_stream (180 s, replied) */
  greTimeoutStream = 180 * HZ;
  /** SCTP timeouts by SctpCtState, ticks */
  readonly sctpTimeouts: Int32Array = new Int32Array(SctpCtState.Max);
  /** nf_conntrack_checksum: verify transport checksums at PREROUTING (default 1) */
  checksum = true;
  /** nf_conntrack_max: table limit, 0 = unlimited (Linux default here 262144) */
  max = 262144;
  /**
   * nf_conntrack_buckets: the size of Linux's hash table (262144 on hosts with more than 4 GB). ctnat's
   * index is its own; this decides only which entries early drop looks at (the new tuple's chain and
   * the next 7 of a table this size).
   */
  buckets = 262144;
  /** nf_conntrack_acct: packet/byte counters, printed by `conntrack -L` (default 0) */
  acct = false;
  /** nf_conntrack_timestamp (default 0; accepted, not modelled) */
  timestamp = false;
  /** nf_conntrack_events (default 2; events are produced only when a sink is installed) */
  events = 2;
  /** nf_conntrack_log_invalid (default 0; accepted, reasons are always recorded) */
  logInvalid = 0;

  constructor() {
    const t = this.tcpTimeouts;
    t[TcpCtState.SynSent] = 120 * HZ;
    t[TcpCtState.SynRecv] = 60 * HZ;
    t[TcpCtState.Established] = 432000 * HZ;
    t[TcpCtState.FinWait] = 120 * HZ;
    t[TcpCtState.CloseWait] = 60 * HZ;
    t[TcpCtState.LastAck] = 30 * HZ;
    t[TcpCtState.TimeWait] = 120 * HZ;
    t[TcpCtState.Close] = 10 * HZ;
    // SYN_SENT2 has no sysctl (only a cttimeout policy can change it)
    t[TcpCtState.SynSent2] = 120 * HZ;
    t[TcpCtState.Retrans] = 300 * HZ;
    t[TcpCtState.Unack] = 300 * HZ;
    // Linux: timeouts[0] holds the "new connection" timeout, the SYN_SENT one
    t[TcpCtState.None] = t[TcpCtState.SynSent];
    const s = this.sctpTimeouts;
    s[SctpCtState.Closed] = 10 * HZ;
    s[SctpCtState.CookieWait] = 3 * HZ;
    s[SctpCtState.CookieEchoed] = 3 * HZ;
    s[SctpCtState.Established] = 210 * HZ;
    s[SctpCtState.ShutdownSent] = 3 * HZ;
    s[SctpCtState.ShutdownRecd] = 3 * HZ;
    s[SctpCtState.ShutdownAckSent] = 3 * HZ;
    s[SctpCtState.HeartbeatSent] = 30 * HZ;
    s[SctpCtState.None] = s[SctpCtState.Closed];
  }
}

/** defaultCtConfig: Linux's defaults. */
export function defaultCtConfig(): CtConfig {
  return new CtConfig();
}

type Setter = (c: CtConfig, v: number) => void;

function tcpT(state: number): Setter {
  return (c, v) => {
    c.tcpTimeouts[state] = v * HZ;
  };
}
function sctpT(state: number): Setter {
  return (c, v) => {
    c.sctpTimeouts[state] = v * HZ;
  };
}

/** the sysctls conntrack honours, by name without the `net.netfilter.` prefix */
const SYSCTLS: ReadonlyMap<string, Setter> = new Map<string, Setter>([
  ["nf_conntrack_tcp_timeout_syn_sent", tcpT(TcpCtState.SynSent)],
  ["nf_conntrack_tcp_timeout_syn_recv", tcpT(TcpCtState.SynRecv)],
  ["nf_conntrack_tcp_timeout_established", tcpT(TcpCtState.Established)],
  ["nf_conntrack_tcp_timeout_fin_wait", tcpT(TcpCtState.FinWait)],
  ["nf_conntrack_tcp_timeout_close_wait", tcpT(TcpCtState.CloseWait)],
  ["nf_conntrack_tcp_timeout_last_ack", tcpT(TcpCtState.LastAck)],
  ["nf_conntrack_tcp_timeout_time_wait", tcpT(TcpCtState.TimeWait)],
  ["nf_conntrack_tcp_timeout_close", tcpT(TcpCtState.Close)],
  ["nf_conntrack_tcp_timeout_max_retrans", tcpT(TcpCtState.Retrans)],
  ["nf_conntrack_tcp_timeout_unacknowledged", tcpT(TcpCtState.Unack)],
  ["nf_conntrack_tcp_loose", (c, v) => (c.tcpLoose = v !== 0)],
  ["nf_conntrack_tcp_be_liberal", (c, v) => (c.tcpBeLiberal = v !== 0)],
  ["nf_conntrack_tcp_ignore_invalid_rst", (c, v) => (c.tcpIgnoreInvalidRst = v !== 0)],
  ["nf_conntrack_tcp_max_retrans", (c, v) => (c.tcpMaxRetrans = v)],
  ["nf_conntrack_udp_timeout", (c, v) => (c.udpTimeout = v * HZ)],
  ["nf_conntrack_udp_timeout_stream", (c, v) => (c.udpTimeoutStream = v * HZ)],
  ["nf_conntrack_icmp_timeout", (c, v) => (c.icmpTimeout = v * HZ)],
  ["nf_conntrack_icmpv6_timeout", (c, v) => (c.icmpv6Timeout = v * HZ)],
  ["nf_conntrack_generic_timeout", (c, v) => (c.genericTimeout = v * HZ)],
  ["nf_conntrack_gre_timeout", (c, v) => (c.greTimeout = v * HZ)],
  ["nf_conntrack_gre_timeout_stream", (c, v) => (c.greTimeoutStream = v * HZ)],
  ["nf_conntrack_sctp_timeout_closed", sctpT(SctpCtState.Closed)],
  ["nf_conntrack_sctp_timeout_cookie_wait", sctpT(SctpCtState.CookieWait)],
  ["nf_conntrack_sctp_timeout_cookie_echoed", sctpT(SctpCtState.CookieEchoed)],
  ["nf_conntrack_sctp_timeout_established", sctpT(SctpCtState.Established)],
  ["nf_conntrack_sctp_timeout_shutdown_sent", sctpT(SctpCtState.ShutdownSent)],
  ["nf_conntrack_sctp_timeout_shutdown_recd", sctpT(SctpCtState.ShutdownRecd)],
  ["nf_conntrack_sctp_timeout_shutdown_ack_sent", sctpT(SctpCtState.ShutdownAckSent)],
  ["nf_conntrack_sctp_timeout_heartbeat_sent", sctpT(SctpCtState.HeartbeatSent)],
  ["nf_conntrack_checksum", (c, v) => (c.checksum = v !== 0)],
  ["nf_conntrack_max", (c, v) => (c.max = Math.max(v, 0))],
  ["nf_conntrack_buckets", (c, v) => (c.buckets = Math.max(v, 1))],
  ["nf_conntrack_acct", (c, v) => (c.acct = v !== 0)],
  ["nf_conntrack_timestamp", (c, v) => (c.timestamp = v !== 0)],
  ["nf_conntrack_events", (c, v) => (c.events = v)],
  ["nf_conntrack_log_invalid", (c, v) => (c.logInvalid = v)],
]);

/**
 * ctConfigFromSysctl: Linux defaults overridden by the conntrack sysctls found in `sysctl`
 * (keys as `sysctl -a` prints them, `net.netfilter.nf_conntrack_udp_timeout`; the short alias
 * `net.nf_conntrack_max` too). Unknown keys and values that are not integers are ignored, as are keys
 * that configure something conntrack does not model (expectations, fragment reassembly).
 */
export function ctConfigFromSysctl(sysctl: ReadonlyMap<string, string>): CtConfig {
  const c = new CtConfig();
  for (const [key, raw] of sysctl) {
    let name = key.trim();
    if (name.startsWith("net.netfilter.")) name = name.slice("net.netfilter.".length);
    else if (name === "net.nf_conntrack_max") name = "nf_conntrack_max";
    else continue;
    const set = SYSCTLS.get(name);
    if (set === undefined) continue;
    const text = raw.trim();
    if (!/^-?\d+$/.test(text)) continue;
    set(c, Number.parseInt(text, 10));
  }
  return c;
}
