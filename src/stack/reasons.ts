/**
 * StackReason: why the stack built a packet or did not, for traces and counters. Every builder leaves
 * its reason in `Stack.reason`; `Sent` with a non-zero length, anything else with length 0.
 */
export const StackReason = {
  /** a packet was built */
  Sent: 0,
  /** the link layer did not address the frame to us alone (Linux: pkt_type != PACKET_HOST) */
  NotHost: 1,
  /** the offending packet went to a broadcast or multicast address (RFC 1122 3.2.2, RFC 4443 2.4 e.3) */
  NonUnicastDest: 2,
  /** the offending packet is a fragment other than the first (RFC 1122 3.2.2) */
  NonFirstFragment: 3,
  /** no ICMP error about an ICMP error (RFC 1122 3.2.2, RFC 4443 2.4 e.1) */
  AboutIcmpError: 4,
  /** the source does not name one host (unspecified, multicast, broadcast; RFC 4443 2.4 e.4) */
  InvalidSource: 5,
  /** the global ICMP token bucket (icmp_msgs_per_sec / icmp_msgs_burst) is empty */
  RateLimitGlobal: 6,
  /** the per-destination token bucket (icmp_ratelimit / ipv6 icmp ratelimit) is empty */
  RateLimitPeer: 7,
  /** the unreachable-route limiter (route.error_cost / error_burst) is empty */
  RateLimitRoute: 8,
  /** no route back to the source */
  NoRoute: 9,
  /** the route back has an MTU too small to quote an IP header (Linux: room <= 20) */
  TinyMtu: 10,
  /** a transport checksum did not verify: Linux drops the packet silently */
  BadChecksum: 11,
  /** the packet is too short or malformed for this answer */
  Malformed: 12,
  /** no RST in answer to a RST */
  IsRst: 13,
  /** the TCP segment carries an MD5 (or AO) signature option Linux cannot verify without a socket */
  AuthOption: 14,
  /** echo answers are switched off (icmp_echo_ignore_all, icmp_echo_ignore_broadcasts...) */
  EchoIgnored: 15,
  /** the protocol is handled by the stack, which sends nothing for this packet */
  NoAnswer: 16,
  /** a UDP datagram over IPv6 with checksum 0 (RFC 8200 8.1): dropped */
  ZeroChecksum: 17,
  /** the REJECT type or ICMP kind does not exist for this family, or sends nothing (echo-reply) */
  Unsupported: 18,
  /** the output buffer cannot hold the packet */
  BufferTooSmall: 19,
  /** the offending packet is not an IP packet the stack can read (parse status not Ok) */
  NotIp: 20,
  /** the forwarding path would have dropped the packet first (Linux: forwarding disabled...) */
  Disabled: 21,
  /** an ICMP redirect held back (ip_rt_send_redirect: route.redirect_load backoff, redirect_number) */
  RateLimitRedirect: 22,
} as const;
export type StackReason = (typeof StackReason)[keyof typeof StackReason];

/** Names of StackReason values (index = value), for counters and traces. */
export const STACK_REASON_NAMES: readonly string[] = [
  "sent",
  "not-host",
  "non-unicast-dest",
  "non-first-fragment",
  "about-icmp-error",
  "invalid-source",
  "ratelimit-global",
  "ratelimit-peer",
  "ratelimit-route",
  "no-route",
  "tiny-mtu",
  "bad-checksum",
  "malformed",
  "is-rst",
  "auth-option",
  "echo-ignored",
  "no-answer",
  "zero-checksum",
  "unsupported",
  "buffer-too-small",
  "not-ip",
  "disabled",
  "ratelimit-redirect",
];
