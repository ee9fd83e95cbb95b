/**
 * The match registry: `-m name` → a new Match instance for one rule. Registration is explicit (a table of
 * classes), no import side effects.
 */
import type { Match } from "../types.js";
import { AddrtypeMatch } from "./addrtype.js";
import { ConnlimitMatch } from "./connlimit.js";
import { ConntrackMatch, StateMatch } from "./conntrack.js";
import { FragMatch, PolicyMatch } from "./frag-policy.js";
import { HashlimitMatch } from "./hashlimit.js";
import { Icmp6Match, IcmpMatch } from "./icmp.js";
import { MultiportMatch } from "./multiport.js";
import { NfacctMatch } from "./nfacct.js";
import { RecentMatch } from "./recent.js";
import { SetMatch } from "./set.js";
import {
  CommentMatch,
  ConnmarkMatch,
  HlMatch,
  IprangeMatch,
  LengthMatch,
  MacMatch,
  MarkMatch,
  OwnerMatch,
  PkttypeMatch,
  TtlMatch,
} from "./simple.js";
import { LimitMatch, StatisticMatch } from "./statistic.js";
import { TcpMatch, UdpMatch } from "./tcp.js";

type MatchClass = new (family: number) => Match;

/** MATCHES: implemented matches by name, with the families (4, 6) they exist for. */
const MATCHES: ReadonlyMap<string, readonly [MatchClass, number]> = new Map<string, readonly [MatchClass, number]>([
  ["tcp", [TcpMatch, 0]],
  ["udp", [UdpMatch, 0]],
  ["icmp", [IcmpMatch, 4]],
  ["icmp6", [Icmp6Match, 6]],
  ["conntrack", [ConntrackMatch, 0]],
  ["state", [StateMatch, 0]],
  ["multiport", [MultiportMatch, 0]],
  ["comment", [CommentMatch, 0]],
  ["mark", [MarkMatch, 0]],
  ["connmark", [ConnmarkMatch, 0]],
  ["statistic", [StatisticMatch, 0]],
  ["limit", [LimitMatch, 0]],
  ["addrtype", [AddrtypeMatch, 0]],
  ["iprange", [IprangeMatch, 0]],
  ["length", [LengthMatch, 0]],
  ["ttl", [TtlMatch, 4]],
  ["hl", [HlMatch, 6]],
  ["pkttype", [PkttypeMatch, 0]],
  ["mac", [MacMatch, 0]],
  ["owner", [OwnerMatch, 0]],
  ["set", [SetMatch, 0]],
  ["recent", [RecentMatch, 0]],
  ["hashlimit", [HashlimitMatch, 0]],
  ["connlimit", [ConnlimitMatch, 0]],
  ["nfacct", [NfacctMatch, 0]],
  ["frag", [FragMatch, 6]],
  ["policy", [PolicyMatch, 0]],
]);

/** matches iptables has that ctnat does not implement: loading one is an UnsupportedError */
const KNOWN_UNSUPPORTED = new Set([
  "physdev",
  "string",
  "u32",
  "time",
  "socket",
  "rpfilter",
  "dscp",
  "tos",
  "ecn",
  "helper",
  "realm",
  "cgroup",
  "bpf",
  "cpu",
  "devgroup",
  "ipvs",
  "osf",
  "quota",
  "rateest",
  "sctp",
  "dccp",
  "esp",
  "ah",
  "hbh",
  "dst",
  "rt",
  "mh",
  "ipv6header",
  "eui64",
  "tcpmss",
  "connbytes",
  "connlabel",
  "cluster",
  "l2tp",
  "srh",
  "ipcomp",
  "conntrack2",
  "icmpv6",
  "udplite",
]);

/** createMatch: a new instance of match `name` for `family`, or null when ctnat has no such match. */
export function createMatch(name: string, family: number): Match | null {
  const e = MATCHES.get(name);
  if (e === undefined) return null;
  if (e[1] !== 0 && e[1] !== family) return null;
  return new e[0](family);
}

/** isKnownUnsupportedMatch: iptables has it, ctnat does not. */
export function isKnownUnsupportedMatch(name: string): boolean {
  return KNOWN_UNSUPPORTED.has(name);
}

export {
  AddrtypeMatch,
  CommentMatch,
  ConnlimitMatch,
  ConnmarkMatch,
  ConntrackMatch,
  FragMatch,
  HashlimitMatch,
  HlMatch,
  Icmp6Match,
  IcmpMatch,
  IprangeMatch,
  LengthMatch,
  LimitMatch,
  MacMatch,
  MarkMatch,
  MultiportMatch,
  NfacctMatch,
  OwnerMatch,
  PkttypeMatch,
  PolicyMatch,
  RecentMatch,
  SetMatch,
  StateMatch,
  StatisticMatch,
  TcpMatch,
  TtlMatch,
  UdpMatch,
};
