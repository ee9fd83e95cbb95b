/**
 * PacketInfo: the reusable record that one parse of an IP packet fills in.
 *
 * Contract (shared by every layer above wire/):
 * - One PacketInfo is allocated per pipeline (not per packet) and refilled by `parsePacket`.
 * - After a parse, `status` says whether the IP layer itself is sound (`WireStatus.Ok`), and
 *   `l4Status` whether the transport header is sound. Fields of a layer whose status is not Ok hold
 *   whatever was readable and must not be trusted.
 * - Offsets are absolute indexes into `buf`. `off` is where the IP header starts; `len` is the IP
 *   packet's length in bytes as the IP header states it (captured bytes past it are padding and are
 *   ignored, as Linux trims them).
 * - Addresses are kept as four int32 words in network order (word 0 = first four bytes). IPv4 uses word
 *   0 and leaves words 1..3 zero, as Linux's `nf_inet_addr` does.
 * - Numbers that are 32-bit on the wire (sequence numbers, addresses) are int32 (`| 0`); compare
 *   sequence numbers with wrap-around arithmetic (see seq.ts).
 * - Rewriting a packet in place (NAT, TTL) must keep the fields in step, or call `parsePacket` again.
 */

/** WireStatus: why a header could not be accepted. Small integers, never thrown. */
export const WireStatus = {
  Ok: 0,
  /** fewer captured bytes than the header (or the length it claims) needs */
  Truncated: 1,
  /** IP version nibble is neither 4 nor 6, or does not match the link layer's claim */
  BadVersion: 2,
  /** IPv4 IHL < 5, or TCP data offset < 5, or a header longer than the packet */
  BadHeaderLen: 3,
  /** IP total length smaller than its header, or larger than the captured bytes */
  BadTotalLen: 4,
  /** transport length field inconsistent with the IP payload (UDP length) */
  BadLength: 5,
  /** a checksum does not verify (set only by the checksum validators, never by parse) */
  BadChecksum: 6,
  /** malformed IPv4 or TCP options */
  BadOptions: 7,
  /** malformed IPv6 extension header chain */
  BadExtHeader: 8,
  /** not an IP packet at all (no bytes, or an unsupported link-layer payload) */
  NotIp: 9,
} as const;
export type WireStatus = (typeof WireStatus)[keyof typeof WireStatus];

/** Names of WireStatus values, for counters and messages. */
export const WIRE_STATUS_NAMES: readonly string[] = [
  "ok",
  "truncated",
  "bad-version",
  "bad-header-len",
  "bad-total-len",
  "bad-length",
  "bad-checksum",
  "bad-options",
  "bad-ext-header",
  "not-ip",
];

export const EMPTY_BYTES = new Uint8Array(0);

export class PacketInfo {
  // ---- buffer -------------------------------------------------------------------------------
  /** the bytes; the IP packet is buf[off, off + len) */
  buf: Uint8Array = EMPTY_BYTES;
  off = 0;
  len = 0;

  // ---- IP layer -----------------------------------------------------------------------------
  /** WireStatus of the IP header (and of the IPv6 extension chain) */
  status: number = WireStatus.NotIp;
  /** 4 or 6 (0 when not IP) */
  family = 0;
  /** IPv4: IHL * 4. IPv6: 40 (the fixed header only). */
  ipHeaderLen = 0;
  /** TTL (IPv4) or hop limit (IPv6) */
  ttl = 0;
  /** IPv4 TOS byte / IPv6 traffic class */
  tos = 0;
  /** IPv6 flow label (20 bits); 0 for IPv4 */
  flowLabel = 0;
  /** IPv4 identification; IPv6 fragment header identification (32 bits, int32) or 0 */
  ipId = 0;
  /** IPv4 DF bit */
  dontFrag = false;
  /** IPv4 MF bit or IPv6 fragment header M flag */
  moreFrags = false;
  /** fragment offset in bytes (IPv4 or IPv6 fragment header); 0 when unfragmented */
  fragOff = 0;
  /** true when this packet is a fragment (MF set or offset non-zero) */
  isFragment = false;
  /** IPv6: absolute offset of the fragment extension header, -1 when absent */
  fragHdrOff = -1;
  /** source address, four int32 words in network order (IPv4: word 0) */
  readonly src: Int32Array = new Int32Array(4);
  /** destination address, as src */
  readonly dst: Int32Array = new Int32Array(4);
  /**
   * transport protocol: IPv4 protocol field; IPv6 the next header after the extension headers that
   * Linux skips (hop-by-hop, routing, fragment, destination options, AH). 59 (no next header) when the
   * chain ends; for a non-first IPv6 fragment, the fragment header's next header.
   */
  proto = 0;
  /** IPv6: first next-header value (the IPv6 header's own field); IPv4: same as proto */
  firstNextHeader = 0;
  /**
   * the IP packet length the header states: IPv4 total length, IPv6 40 + payload length (or the jumbo
   * payload length). Equals `len` for a parsed packet; for the quoted packet of an ICMP error it may be
   * larger than `len` (the quote is cut).
   */
  ipTotalLen = 0;
  /** IPv4 options present, IPV4_OPT_* bits (see parse.ts); 0 without options and for IPv6 */
  ipOptFlags = 0;
  /**
   * IPv4 options Linux's ip_options_compile rejects (it runs after PREROUTING, at routing): the offset
   * from the IP header of the offending byte, as the ICMP parameter problem pointer gives it; -1 when
   * the options are sound (or absent). The packet's status stays Ok: the receive path judges it later.
   */
  ipOptProblem = -1;

  // ---- transport layer ----------------------------------------------------------------------
  /** WireStatus of the transport header (Truncated also for non-first fragments: no header) */
  l4Status: number = WireStatus.NotIp;
  /** absolute offset of the transport header */
  l4Off = 0;
  /** bytes from l4Off to the end of the IP packet */
  l4Len = 0;
  /** TCP/UDP/UDP-Lite/SCTP/DCCP ports; 0 otherwise */
  srcPort = 0;
  dstPort = 0;
  /** TCP */
  tcpSeq = 0;
  tcpAck = 0;
  /** TCP flags byte (FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80) */
  tcpFlags = 0;
  tcpWindow = 0;
  /** TCP header length in bytes (data offset * 4) */
  tcpHeaderLen = 0;
  tcpUrgent = 0;
  /** UDP length field; UDP-Lite checksum coverage field (raw, 0 = whole datagram) */
  udpLen = 0;
  /** WireStatus of the TCP option list (Ok or BadOptions); options after a bad one are not read */
  tcpOptStatus = 0;
  /** MSS option value, -1 absent */
  optMss = -1;
  /** window scale shift as sent (not capped), -1 absent */
  optWscale = -1;
  /** SACK-permitted option present */
  optSackPerm = false;
  /** number of SACK blocks in a SACK option (0 absent) */
  optSackBlocks = 0;
  /** absolute offset of the first SACK block (valid when optSackBlocks > 0) */
  optSackOff = 0;
  /** timestamps option present; its values (int32) */
  optHasTs = false;
  optTsVal = 0;
  optTsEcr = 0;
  /** ICMP / ICMPv6 */
  icmpType = 0;
  icmpCode = 0;
  /** echo / timestamp / info / address-mask identifier and sequence (ICMPv6 echo likewise) */
  icmpId = 0;
  icmpSeq = 0;
  /** ICMP error message (dest unreachable, time exceeded, parameter problem, source quench, redirect; v6 1..4) */
  icmpIsError = false;
  /** absolute offset and length of the transport payload (after the TCP/UDP/ICMP header) */
  payloadOff = 0;
  payloadLen = 0;

  // ---- embedded packet of an ICMP error ------------------------------------------------------
  /**
   * The packet quoted inside an ICMP/ICMPv6 error, parsed leniently (truncated payloads allowed; see
   * parseEmbedded). Only meaningful when icmpIsError is true and inner.status === WireStatus.Ok.
   * The inner record of an inner record is never filled (Linux does not look deeper).
   */
  readonly inner: PacketInfo | null;

  constructor(withInner = true) {
    this.inner = withInner ? new PacketInfo(false) : null;
  }
}
