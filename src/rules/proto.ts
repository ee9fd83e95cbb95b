/**
 * Protocol names as iptables reads and prints them: the names and aliases of /etc/protocols (Debian
 * netbase, as on the reference machine) plus iptables' own list (xtables_chain_protos), which takes
 * precedence when printing. Load time and printing only.
 */

// number, name, aliases... (Debian netbase /etc/protocols)
const ETC_PROTOCOLS: readonly (readonly [number, ...string[]])[] = [
  [0, "ip", "IP"],
  [0, "hopopt", "HOPOPT"],
  [1, "icmp", "ICMP"],
  [2, "igmp", "IGMP"],
  [3, "ggp", "GGP"],
  [4, "ipencap", "IP-ENCAP"],
  [5, "st", "ST"],
  [6, "tcp", "TCP"],
  [8, "egp", "EGP"],
  [9, "igp", "IGP"],
  [12, "pup", "PUP"],
  [17, "udp", "UDP"],
  [20, "hmp", "HMP"],
  [22, "xns-idp", "XNS-IDP"],
  [27, "rdp", "RDP"],
  [29, "iso-tp4", "ISO-TP4"],
  [33, "dccp", "DCCP"],
  [36, "xtp", "XTP"],
  [37, "ddp", "DDP"],
  [38, "idpr-cmtp", "IDPR-CMTP"],
  [41, "ipv6", "IPv6"],
  [43, "ipv6-route", "IPv6-Route"],
  [44, "ipv6-frag", "IPv6-Frag"],
  [45, "idrp", "IDRP"],
  [46, "rsvp", "RSVP"],
  [47, "gre", "GRE"],
  [50, "esp", "IPSEC-ESP"],
  [51, "ah", "IPSEC-AH"],
  [57, "skip", "SKIP"],
  [58, "ipv6-icmp", "IPv6-ICMP"],
  [59, "ipv6-nonxt", "IPv6-NoNxt"],
  [60, "ipv6-opts", "IPv6-Opts"],
  [73, "rspf", "RSPF", "CPHB"],
  [81, "vmtp", "VMTP"],
  [88, "eigrp", "EIGRP"],
  [89, "ospf", "OSPFIGP"],
  [93, "ax.25", "AX.25"],
  [94, "ipip", "IPIP"],
  [97, "etherip", "ETHERIP"],
  [98, "encap", "ENCAP"],
  [103, "pim", "PIM"],
  [108, "ipcomp", "IPCOMP"],
  [112, "vrrp", "VRRP"],
  [115, "l2tp", "L2TP"],
  [124, "isis", "ISIS"],
  [132, "sctp", "SCTP"],
  [133, "fc", "FC"],
  [135, "mobility-header", "Mobility-Header"],
  [136, "udplite", "UDPLite"],
  [137, "mpls-in-ip", "MPLS-in-IP"],
  [138, "manet"],
  [139, "hip", "HIP"],
  [140, "shim6", "Shim6"],
  [141, "wesp", "WESP"],
  [142, "rohc", "ROHC"],
  [143, "ethernet", "Ethernet"],
];

// iptables' own names (libxtables xtables_chain_protos): printing prefers these
const CHAIN_PROTOS: readonly (readonly [string, number])[] = [
  ["tcp", 6],
  ["sctp", 132],
  ["udp", 17],
  ["udplite", 136],
  ["icmp", 1],
  ["ipv6-icmp", 58],
  ["icmpv6", 58],
  ["esp", 50],
  ["ah", 51],
  ["mobility-header", 135],
  ["ipv6-mh", 135],
  ["mh", 135],
  ["dccp", 33],
  ["ipcomp", 108],
  ["all", 0],
];

/** parseProtocol: `-p` argument (number or name, as iptables accepts it) to a number; -1 when unknown. */
export function parseProtocol(s: string): number {
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    return n <= 255 ? n : -1;
  }
  for (const e of ETC_PROTOCOLS) {
    for (let i = 1; i < e.length; i++) if (e[i] === s) return e[0];
  }
  const lower = s.toLowerCase();
  for (const [name, num] of CHAIN_PROTOS) if (name === lower) return num;
  return -1;
}

/** protocolName: the name iptables-save prints for protocol `n`, or null when it prints the number. */
export function protocolName(n: number): string | null {
  for (const [name, num] of CHAIN_PROTOS) if (num === n) return name;
  if (n === 0) return null;
  for (const e of ETC_PROTOCOLS) if (e[0] === n) return e[1] as string;
  return null;
}
