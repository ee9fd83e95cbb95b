/**
 * StackConfig: the settings Linux reads when it builds its own packets (ICMP errors, RSTs, echo
 * replies), with Linux 6.18's defaults, and their reading from `sysctl -a` text.
 *
 * Time: Linux counts rate-limit time in jiffies. HZ is a kernel build option (250 on the machine the
 * fixtures were recorded on: CONFIG_HZ=250) and is a parameter here. Packet time (seconds, as the
 * capture stamps it) becomes jiffies as `floor(now * hz)`.
 */
import { InputError } from "../core/errors.js";
import {
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
} from "../wire/ip-protocol.js";

/** HZ of the kernel the fixtures were recorded on (CONFIG_HZ=250). */
export const DEFAULT_HZ = 250;

/**
 * msecsToJiffies: Linux msecs_to_jiffies for a positive HZ that divides 1000 or not: rounds up, as
 * the sysctls written in milliseconds (icmp_ratelimit, ipv6 icmp ratelimit) are stored.
 */
export function msecsToJiffies(ms: number, hz: number): number {
  if (ms <= 0) return 0;
  return Math.ceil((ms * hz) / 1000);
}

/** jiffiesAt: packet time (seconds) as jiffies, with the tick phase of StackConfig.jiffiesPhase. */
export function jiffiesAt(now: number, hz: number, phase = 0): number {
  return Math.floor(now * hz + phase);
}

export class StackConfig {
  /** jiffies per second (CONFIG_HZ) */
  hz = DEFAULT_HZ;
  /**
   * jiffiesPhase: where the kernel's jiffy ticks fall relative to packet time, in jiffies (0 <= phase
   * < 1): jiffies = floor(now * hz + phase). Unknown for a recording; it only decides rate-limit
   * outcomes at tick boundaries.
   */
  jiffiesPhase = 0;

  // ---- IPv4 -------------------------------------------------------------------------------------
  /** net.ipv4.ip_default_ttl: TTL when the route has no hoplimit metric */
  ipDefaultTtl = 64;
  /** net.ipv4.icmp_ratelimit, in jiffies (the sysctl is in ms; Linux default 1000 ms) */
  icmpRatelimit = DEFAULT_HZ;
  /** net.ipv4.icmp_ratemask: bit N set = type N is rate limited (default 0x1818: 3, 4, 11, 12) */
  icmpRatemask = 0x1818;
  /** net.ipv4.icmp_msgs_per_sec / icmp_msgs_burst: the global token bucket (shared with IPv6) */
  icmpMsgsPerSec = 1000;
  icmpMsgsBurst = 50;
  icmpEchoIgnoreAll = false;
  icmpEchoIgnoreBroadcasts = true;
  icmpErrorsUseInboundIfaddr = false;
  /** net.ipv4.route.error_cost / error_burst (jiffies): the limiter of unreachable-route errors */
  rtErrorCost = DEFAULT_HZ;
  rtErrorBurst = 5 * DEFAULT_HZ;
  /**
   * net.ipv4.route.redirect_load / redirect_number / redirect_silence (jiffies): ip_rt_send_redirect
   * sends a host a redirect, then waits redirect_load << n before the next, stops after redirect_number,
   * and starts over after redirect_silence without redirects (defaults HZ/50, 9, (HZ/50) << 10)
   */
  redirectLoad = DEFAULT_HZ / 50;
  redirectNumber = 9;
  redirectSilence = (DEFAULT_HZ / 50) * 1024;

  // ---- IPv6 -------------------------------------------------------------------------------------
  /** net.ipv6.conf.*.hop_limit: hop limit when the route has no hoplimit metric */
  ip6HopLimit = 64;
  /** net.ipv6.icmp.ratelimit, in jiffies (sysctl in ms; Linux 6.18 default 100 ms) */
  icmp6Ratelimit = 25;
  /** net.ipv6.icmp.ratemask: 256 bits, bit N set = type N limited (default 0-1,3-127) */
  readonly icmp6Ratemask: Uint8Array = defaultIcmp6Ratemask();
  icmp6EchoIgnoreAll = false;
  icmp6EchoIgnoreMulticast = false;
  /** net.ipv6.flowlabel_reflect bits: 1 established sockets, 2 TCP resets, 4 echo replies */
  flowlabelReflect = 0;
  /** net.ipv6.auto_flowlabels: 0 off, 1 opt-out (default), 2 opt-in, 3 forced */
  autoFlowlabels = 1;

  // ---- the local stack ------------------------------------------------------------------------------
  /**
   * Protocols the IPv4 stack has a handler for (Linux inet_protos): a packet of any other protocol to
   * the gateway draws an ICMP protocol unreachable. A default 6.18 build registers ICMP, IGMP, TCP,
   * UDP and UDP-Lite (GRE, IPIP, ESP, AH, SCTP... only when their modules are loaded).
   */
  readonly ipv4Protocols: Uint8Array = protoSet([
    IPPROTO_ICMP,
    IPPROTO_IGMP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPPROTO_UDPLITE,
  ]);
  /**
   * Next headers the IPv6 stack handles (Linux inet6_protos): extension headers, TCP, UDP, UDP-Lite,
   * ICMPv6 and "no next header"; any other draws a parameter problem (unknown next header).
   */
  readonly ipv6Protocols: Uint8Array = protoSet([
    IPPROTO_HOPOPTS,
    IPPROTO_TCP,
    IPPROTO_UDP,
    IPPROTO_ROUTING,
    IPPROTO_FRAGMENT,
    IPPROTO_ICMPV6,
    IPPROTO_NONE,
    IPPROTO_DSTOPTS,
    IPPROTO_UDPLITE,
  ]);
  /**
   * Whether received packets have their transport checksums checked before an answer (Linux does, in
   * software, for packets a NIC marks CHECKSUM_NONE; veth and most NICs hand them over that way).
   * Off: every checksum is taken as verified (CHECKSUM_UNNECESSARY).
   */
  verifyChecksums = true;
  /** CONFIG_TCP_AO: whether TCP-AO options are recognised (not built in the recording kernel) */
  tcpAo = false;

  // ---- values Linux draws from secrets or randomness (see the module README) --------------------
  /** first IPv4 identification used for the gateway's non-DF packets (Linux: hashed, per destination) */
  ipIdSeed = 1;
  /** seed of the flow labels of the gateway's own IPv6 packets (Linux: a per-boot hash secret) */
  flowLabelSeed = 0x6c7a1e5;
}

function protoSet(list: readonly number[]): Uint8Array {
  const s = new Uint8Array(256);
  for (const p of list) s[p] = 1;
  return s;
}

/** defaultIcmp6Ratemask: Linux's default ratemask "0-1,3-127" (every error but packet too big). */
export function defaultIcmp6Ratemask(): Uint8Array {
  const m = new Uint8Array(32);
  setIcmp6Ratemask(m, "0-1,3-127");
  return m;
}

/**
 * setIcmp6Ratemask: parse a bitmap as the sysctl prints it ("0-1,3-127"; empty clears all) into `m`.
 * @throws InputError for a malformed list.
 */
export function setIcmp6Ratemask(m: Uint8Array, text: string, file = ""): void {
  m.fill(0);
  const t = text.trim();
  if (t === "") return;
  for (const part of t.split(",")) {
    const mm = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (mm === null) throw new InputError(`net.ipv6.icmp.ratemask: bad range ${JSON.stringify(part)}`, { file });
    const a = Number(mm[1]);
    const b = mm[2] === undefined ? a : Number(mm[2]);
    if (a > 255 || b > 255 || b < a) {
      throw new InputError(`net.ipv6.icmp.ratemask: range ${part} out of 0-255`, { file });
    }
    for (let i = a; i <= b; i++) m[i >> 3] |= 1 << (i & 7);
  }
}

function intSysctl(s: ReadonlyMap<string, string>, key: string, dflt: number, file: string): number {
  const v = s.get(key);
  if (v === undefined) return dflt;
  if (!/^-?\d+$/.test(v.trim()))
    throw new InputError(`${key}: expected an integer, found ${JSON.stringify(v)}`, { file });
  return Number(v.trim());
}

/**
 * stackConfigFromSysctls: a StackConfig from `sysctl -a` values (keys with dots). Keys read:
 * net.ipv4.ip_default_ttl, icmp_ratelimit (ms), icmp_ratemask, icmp_msgs_per_sec, icmp_msgs_burst,
 * icmp_echo_ignore_all, icmp_echo_ignore_broadcasts, icmp_errors_use_inbound_ifaddr,
 * net.ipv4.route.error_cost / error_burst and redirect_load / redirect_number / redirect_silence
 * (jiffies), net.ipv6.conf.all.hop_limit,
 * net.ipv6.icmp.ratelimit (ms), ratemask, echo_ignore_all, echo_ignore_multicast,
 * net.ipv6.flowlabel_reflect, net.ipv6.auto_flowlabels. Absent keys keep Linux's defaults.
 * @throws InputError for a value that is not a number (or a bad ratemask list).
 */
export function stackConfigFromSysctls(s: ReadonlyMap<string, string>, hz = DEFAULT_HZ, file = ""): StackConfig {
  const c = new StackConfig();
  c.hz = hz;
  c.ipDefaultTtl = intSysctl(s, "net.ipv4.ip_default_ttl", 64, file);
  c.icmpRatelimit = msecsToJiffies(intSysctl(s, "net.ipv4.icmp_ratelimit", 1000, file), hz);
  c.icmpRatemask = intSysctl(s, "net.ipv4.icmp_ratemask", 0x1818, file);
  c.icmpMsgsPerSec = intSysctl(s, "net.ipv4.icmp_msgs_per_sec", 1000, file);
  c.icmpMsgsBurst = intSysctl(s, "net.ipv4.icmp_msgs_burst", 50, file);
  c.icmpEchoIgnoreAll = intSysctl(s, "net.ipv4.icmp_echo_ignore_all", 0, file) !== 0;
  c.icmpEchoIgnoreBroadcasts = intSysctl(s, "net.ipv4.icmp_echo_ignore_broadcasts", 1, file) !== 0;
  c.icmpErrorsUseInboundIfaddr = intSysctl(s, "net.ipv4.icmp_errors_use_inbound_ifaddr", 0, file) !== 0;
  c.rtErrorCost = intSysctl(s, "net.ipv4.route.error_cost", hz, file);
  c.rtErrorBurst = intSysctl(s, "net.ipv4.route.error_burst", 5 * hz, file);
  c.redirectLoad = intSysctl(s, "net.ipv4.route.redirect_load", Math.floor(hz / 50), file);
  c.redirectNumber = intSysctl(s, "net.ipv4.route.redirect_number", 9, file);
  c.redirectSilence = intSysctl(s, "net.ipv4.route.redirect_silence", Math.floor(hz / 50) * 1024, file);
  c.ip6HopLimit = intSysctl(s, "net.ipv6.conf.all.hop_limit", 64, file);
  c.icmp6Ratelimit = msecsToJiffies(intSysctl(s, "net.ipv6.icmp.ratelimit", 100, file), hz);
  const mask = s.get("net.ipv6.icmp.ratemask");
  if (mask !== undefined) setIcmp6Ratemask(c.icmp6Ratemask, mask, file);
  c.icmp6EchoIgnoreAll = intSysctl(s, "net.ipv6.icmp.echo_ignore_all", 0, file) !== 0;
  c.icmp6EchoIgnoreMulticast = intSysctl(s, "net.ipv6.icmp.echo_ignore_multicast", 0, file) !== 0;
  c.flowlabelReflect = intSysctl(s, "net.ipv6.flowlabel_reflect", 0, file);
  c.autoFlowlabels = intSysctl(s, "net.ipv6.auto_flowlabels", 1, file);
  return c;
}
