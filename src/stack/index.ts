/**
 * ctnat/stack: the packets a Linux 6.18 gateway makes of its own, byte for byte.
 *
 * What it builds (each into a caller's Uint8Array, from offset 0; the return value is the length, 0
 * when Linux sends nothing, with the reason in `stack.reason`, a StackReason):
 *
 * | call                         | Linux                                   | what comes out                        |
 * | ---------------------------- | --------------------------------------- | ------------------------------------- |
 * | `icmpError(ctx, kind, info)` | ip_forward / ip6_forward / ip_error /   | time exceeded, fragmentation needed / |
 * |                              | ip6_pkt_drop -> __icmp_send/icmp6_send  | packet too big, unreachable routes,   |
 * |                              |                                         | beyond scope, option parameter problem|
 * | `answer(ctx)`                | tcp_v4/v6_send_reset, udp port          | RST, port unreachable, protocol       |
 * |                              | unreachable, ip(6)_protocol_deliver,    | unreachable / unknown next header,    |
 * |                              | icmp_echo, icmp_timestamp, icmpv6_echo  | echo and timestamp replies            |
 * | `reject(ctx, withType)`      | nf_send_reset(6), nf_send_unreach(6)    | REJECT's RST or ICMP error            |
 * | `hopByHopError6(ctx)`        | ipv6_parse_hopopts (ip6_parse_tlv)      | parameter problem for a hop-by-hop    |
 * |                              |                                         | option Linux refuses                  |
 * | `paramProblem6(ctx, c, ptr)` | icmpv6_param_prob                       | any ICMPv6 parameter problem          |
 *
 * The rules on when Linux sends nothing are all here (not to a link-layer broadcast, not about a packet
 * to a broadcast / multicast address, not about a non-first fragment, not about an ICMP error, not to an
 * unspecified / multicast source, no RST for a RST or an MD5-signed segment, nothing for a bad transport
 * checksum, ...), and so are the ICMP rate limits: the global token bucket shared by IPv4 and IPv6
 * (icmp_msgs_per_sec, icmp_msgs_burst), the per-destination buckets (icmp_ratelimit + icmp_ratemask,
 * net.ipv6.icmp.ratelimit + ratemask) and the unreachable-route limiter, in packet time (jiffies at
 * StackConfig.hz, 250 on the recording machine). See ratelimit.ts.
 *
 * What the engine must do:
 * - implement StackRoutes (routes.ts) over its FIB: classify4 / classify6 (the engine's DstClass
 *   values), route4 / route6 (output route: source address, interface, MTU, hoplimit metric),
 *   ifaceAddr4 / ifaceSource6 (source selection on a given interface), isLoopback. TableRoutes is a
 *   ready implementation over plain interface / route lists.
 * - pass the offending packet as a PacketContext (its Skb): the parse of the packet as it is at the
 *   point Linux answers (after DNAT; for REJECT in FORWARD after the TTL decrement; for local delivery
 *   reassembled), the input interface, the link-layer class, the time, whether it is locally generated.
 * - call `ipv4OptionsReceive` (ipv4-options.ts) right after routing for IPv4 packets with options
 *   (parse status Ok or BadOptions): Linux rewrites record-route / timestamp options in place then
 *   (answers echo them), answers a malformed option with a parameter problem (icmpError kind
 *   ParamProblem, info = the pointer) and drops source-routed packets. For a forwarded packet, call
 *   `ipv4ForwardOptions` after FORWARD with the outgoing route's source.
 * - send what was built through OUTPUT and POSTROUTING (routing it to its destination; `stack.oif` is
 *   the interface the stack's own route lookup chose). When `stack.attachToCt` is true, attach it to the
 *   offending packet's connection as RELATED in the other direction (relatedCtInfo) instead of looking it
 *   up (Linux nf_ct_attach); when `stack.setClosing` is true (REJECT tcp-reset), move that TCP connection
 *   to CLOSE with the CLOSE timeout (nf_ct_set_closing).
 * - fragment on output what exceeds the output MTU: an echo reply to a reassembled echo request can be
 *   larger than the MTU (Linux's ICMP socket fragments it; DF is clear).
 *
 * Fields Linux draws from secrets, randomness or its clock, which a comparison must mask:
 * - the IPv4 identification of every packet built without DF (ICMP errors, echo and timestamp replies;
 *   Linux: __ip_select_ident, a keyed hash per destination). ctnat counts up from StackConfig.ipIdSeed.
 *   RSTs have DF and identification 0, exactly as Linux.
 * - the IPv6 flow label of ICMPv6 errors, echo replies and the local stack's RSTs (Linux: an automatic
 *   label, a keyed hash of the flow; REJECT's RSTs have label 0, exactly as Linux). ctnat uses a seeded
 *   hash of the same flow fields (flowLabel6), stable per flow like Linux's.
 * - the receive / transmit times of a timestamp reply and of echoed timestamp options (Linux: the wall
 *   clock in ms since midnight UT; ctnat: the packet time).
 * - which of a burst is let through by the global limiter (Linux consumes a random 0-2 credits per
 *   message; ctnat consumes 1, or what `stack.limiter.consumeDraw` returns).
 * - the jiffy tick phase relative to packet time (StackConfig.jiffiesPhase): it only moves rate-limit
 *   decisions that fall on a tick boundary.
 */

// configuration
export {
  DEFAULT_HZ,
  defaultIcmp6Ratemask,
  jiffiesAt,
  msecsToJiffies,
  StackConfig,
  setIcmp6Ratemask,
  stackConfigFromSysctls,
} from "./config.js";
// helpers
export { flowLabel6, ipv6AddrType, SkipResult, skipExtHeaders6 } from "./emit.js";
// IPv4 options on receive and in answers
export {
  echoIpv4Options,
  Ipv4RxOptions,
  ipv4ForwardOptions,
  ipv4OptionsReceive,
  OPTIONS_DROP,
  OPTIONS_OK,
} from "./ipv4-options.js";
// rate limiters
export { IcmpLimiter, XRLIM_BURST_FACTOR } from "./ratelimit.js";
// outcome codes
export { STACK_REASON_NAMES, StackReason } from "./reasons.js";
// routing facts the engine provides
export type { StackRoutes, TableIface, TableRoute } from "./routes.js";
export { AddrClass, RouteKind, StackRoute, TableRoutes } from "./routes.js";
// the stack
export type { PacketContext } from "./stack.js";
export { msSinceMidnight, relatedCtInfo, Stack, StackIcmpKind } from "./stack.js";
