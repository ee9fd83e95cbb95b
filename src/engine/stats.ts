/**
 * What happened to packets, counted: the gateway's fate counters (Linux's SNMP MIB counters and skb drop
 * reasons, reduced to what a gateway sees). Typed arrays indexed by Fate; never strings per packet.
 */

/** Fate: the end of a packet's path through the gateway. */
export const Fate = {
  /** sent out of an interface after forwarding */
  Forwarded: 0,
  /** delivered to the gateway itself (passed INPUT) */
  Delivered: 1,
  /** a packet the gateway made (stack answer, ICMP error, REJECT reply) was sent */
  LocalSent: 2,
  /** not an IP packet (ARP, LLDP, ...): not the IP layer's business */
  NotIp: 3,
  /** IP header malformed (Linux InHdrErrors / InTruncatedPkts) */
  BadHeader: 4,
  /** IPv4 header checksum wrong (Linux InCsumErrors) */
  BadChecksum: 5,
  /** link-layer destination is another host (PACKET_OTHERHOST) */
  OtherHost: 6,
  /** a netfilter verdict dropped it */
  NetfilterDrop: 7,
  /** no route, or an unreachable / prohibit route */
  NoRoute: 8,
  /** blackhole route */
  Blackhole: 9,
  /** forwarding is off and the packet was not for us */
  ForwardingOff: 10,
  /** TTL / hop limit ran out */
  TtlExpired: 11,
  /** too big for the outgoing MTU with DF set (or IPv6) */
  TooBig: 12,
  /** multicast to a group the gateway did not join, or a martian address */
  Martian: 13,
  /** fragment held for reassembly (not yet complete) */
  Reassembling: 14,
  /** the local stack consumed it without answering (e.g. a RST, a bad checksum) */
  LocalConsumed: 15,
  /** conntrack refused it (table full, insert clash) */
  ConntrackDrop: 16,
  /** a generated packet could not be queued (too many at once) */
  QueueFull: 17,
  /**
   * reassembly gave up on it (Linux ReasmFails): an overlapping or inconsistent fragment, a datagram
   * over 65535 bytes, reassembly memory above its high threshold
   */
  ReasmFailed: 18,
} as const;
export const FATE_NAMES: readonly string[] = [
  "forwarded",
  "delivered",
  "local-sent",
  "not-ip",
  "bad-header",
  "bad-checksum",
  "otherhost",
  "netfilter-drop",
  "no-route",
  "blackhole",
  "forwarding-off",
  "ttl-expired",
  "too-big",
  "martian",
  "reassembling",
  "local-consumed",
  "conntrack-drop",
  "queue-full",
  "reasm-failed",
];

export class GatewayStats {
  /** packets by Fate */
  readonly fate: Float64Array = new Float64Array(FATE_NAMES.length);
  /** packets received, per ifindex (grown as needed) */
  rxPackets: Float64Array = new Float64Array(16);
  rxBytes: Float64Array = new Float64Array(16);
  /** packets sent, per ifindex */
  txPackets: Float64Array = new Float64Array(16);
  txBytes: Float64Array = new Float64Array(16);

  ensure(ifindex: number): void {
    if (ifindex < this.rxPackets.length) return;
    const n = Math.max(ifindex + 1, this.rxPackets.length * 2);
    const grow = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.rxPackets = grow(this.rxPackets);
    this.rxBytes = grow(this.rxBytes);
    this.txPackets = grow(this.txPackets);
    this.txBytes = grow(this.txBytes);
  }
}
