/**
 * CtReason: why conntrack classified a packet as it did, for traces (the role of Linux's
 * `nf_conntrack_log_invalid` messages). After `Conntrack.in`, `reason` holds one of these: None for an
 * ordinary packet, an *invalid* reason when the packet got no entry, or an informational reason for a
 * packet that was accepted without changing its entry (ignored TCP segments).
 */
export const CtReason = {
  None: 0,
  // ---- the packet itself ----
  /** the IP header was not sound (the engine normally drops these before conntrack) */
  BadIpHeader: 1,
  /** a non-first fragment (nf_defrag could not reassemble it) */
  Fragment: 2,
  /** IPv6: no upper-layer header (next header 59) */
  NoNextHeader: 3,
  /** too few transport header bytes for a tuple */
  NoTuple: 4,
  // ---- TCP ----
  TcpTruncated: 10,
  TcpBadChecksum: 11,
  TcpBadFlags: 12,
  /** first segment of a connection that cannot open one */
  TcpInvalidNew: 13,
  /** mid-stream segment with nf_conntrack_tcp_loose=0 */
  TcpNoPickup: 14,
  /** the state table says invalid */
  TcpInvalidState: 15,
  TcpSeqOverUpper: 16,
  TcpAckOverUpper: 17,
  TcpInvalidRst: 18,
  /** informational: ignored (accepted without state change) */
  TcpIgnored: 19,
  /** informational: data beyond the window but otherwise in order (ignored) */
  TcpOvershoot: 20,
  /** informational: retransmission of acked data (ignored) */
  TcpSeqUnderLower: 21,
  /** informational: overly delayed ACK (ignored) */
  TcpAckUnderLower: 22,
  /** informational: RFC 5961 challenge ACK in LAST_ACK (ignored) */
  TcpChallengeAck: 23,
  // ---- UDP / UDP-Lite ----
  UdpShort: 30,
  UdpBadLength: 31,
  UdpBadChecksum: 32,
  UdpliteBadCoverage: 33,
  UdpliteNoChecksum: 34,
  // ---- ICMP / ICMPv6 ----
  IcmpShort: 40,
  IcmpBadChecksum: 41,
  /** ICMP type above 18 */
  IcmpBadType: 42,
  /** a query type that cannot open a connection (e.g. an echo reply with no request) */
  IcmpNotNew: 43,
  /** an error whose quoted packet matches no connection */
  IcmpNoRelated: 44,
  /** an error whose outer destination is not the connection's */
  IcmpOuterDaddr: 45,
  /** the quoted packet cannot be read as a tuple */
  IcmpBadInner: 46,
  /** ICMP in IPv6 or ICMPv6 in IPv4 */
  IcmpWrongFamily: 47,
  Icmpv6BadRedirect: 48,
  // ---- others ----
  GreBadProto: 50,
  SctpInvalid: 51,
  // ---- table ----
  /** nf_conntrack_max reached and nothing to early-drop: the packet is dropped */
  TableFull: 60,
  /** confirm found the tuple taken by another entry: the packet is dropped (insert_failed) */
  InsertClash: 61,
} as const;

const NAMES: Record<number, string> = {};
for (const [k, v] of Object.entries(CtReason)) NAMES[v] = k;

/** ctReasonName: the name of a CtReason value ("TcpBadFlags"), or the number as text. */
export function ctReasonName(reason: number): string {
  return NAMES[reason] ?? String(reason);
}

/** ctReasonIsInvalid: whether a reason means the packet was classified INVALID (or dropped). */
export function ctReasonIsInvalid(reason: number): boolean {
  switch (reason) {
    case CtReason.None:
    case CtReason.TcpIgnored:
    case CtReason.TcpOvershoot:
    case CtReason.TcpSeqUnderLower:
    case CtReason.TcpAckUnderLower:
    case CtReason.TcpChallengeAck:
      return false;
    default:
      return true;
  }
}
