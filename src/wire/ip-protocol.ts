/**
 * IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), as plain constants. The set is open:
 * any other number is a valid protocol that the wire layer carries without reading its header.
 */

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_MH = 135;
export const IPPROTO_DCCP = 33;
export const IPPROTO_SCTP = 132;
export const IPPROTO_UDPLITE = 136;

/** ipProtocolName: the name iptables/conntrack print for a protocol number ("tcp"), or the number itself. */
export function ipProtocolName(proto: number): string {
  switch (proto) {
    case IPPROTO_HOPOPTS:
      return "hopopts";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_IGMP:
      return "igmp";
    case IPPROTO_IPIP:
      return "ipip";
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_IPV6:
      return "ipv6";
    case IPPROTO_ROUTING:
      return "routing";
    case IPPROTO_FRAGMENT:
      return "frag";
    case IPPROTO_GRE:
      return "gre";
    case IPPROTO_ESP:
      return "esp";
    case IPPROTO_AH:
      return "ah";
    case IPPROTO_ICMPV6:
      return "icmpv6";
    case IPPROTO_NONE:
      return "none";
    case IPPROTO_DSTOPTS:
      return "dstopts";
    case IPPROTO_MH:
      return "mh";
    case IPPROTO_DCCP:
      return "dccp";
    case IPPROTO_SCTP:
      return "sctp";
    case IPPROTO_UDPLITE:
      return "udplite";
    default:
      return String(proto);
  }
}

/**
 * isIpv6ExtHeader: the extension headers Linux's `ipv6_skip_exthdr` walks over (hop-by-hop, routing,
 * fragment, AH, destination options) and NONE, which ends the chain (Linux `ipv6_ext_hdr`).
 */
export function isIpv6ExtHeader(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 44 || nh === 51 || nh === 59 || nh === 60;
}
