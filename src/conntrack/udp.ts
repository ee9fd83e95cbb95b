/**
 * UDP and UDP-Lite tracking (Linux nf_conntrack_proto_udp.c), and the generic and GRE trackers
 * (nf_conntrack_core.c generic_packet, nf_conntrack_proto_gre.c).
 *
 * UDP: 30 s until a reply is seen; replied flows keep 30 s during their first 2 s (`stream_ts`), then
 * get the stream timeout (120 s) and ASSURED. UDP-Lite: the stream timeout and ASSURED as soon as a
 * reply was seen. Entries made by clash resolution (IPS_NAT_CLASH) never become ASSURED.
 *
 * hot path: no allocation.
 */
import { IPS } from "../core/netfilter.js";
import { foldSum, pseudoHeaderSum, sumBytes } from "../wire/checksum.js";
import type { PacketInfo } from "../wire/packet-info.js";
import { HZ } from "./config.js";
import type { Conntrack } from "./conntrack.js";
import { CtReason } from "./reasons.js";
import { W_END, W_META } from "./store.js";
import { TR_ACCEPT, TR_INVALID } from "./tcp.js";

/** udpError: Linux udp_error: header present, length field sane, checksum (when checked) correct. */
function udpError(c: Conntrack, pi: PacketInfo): number {
  const b = pi.buf;
  const o = pi.l4Off;
  const len = pi.l4Len;
  if (len < 8) return CtReason.UdpShort;
  const ul = (b[o + 4] << 8) | b[o + 5];
  // The UDP length may be shorter than the IP payload (trailing padding), never longer.
  if (ul > len || ul < 8) return CtReason.UdpBadLength;
  // A zero checksum means "none" (RFC 768); conntrack lets it pass in both families.
  if (((b[o + 6] << 8) | b[o + 7]) === 0) return CtReason.None;
  if (c.checksumHere() && !c.l4ChecksumOk(pi)) return CtReason.UdpBadChecksum;
  return CtReason.None;
}

/** udpliteError: Linux udplite_error: coverage within the datagram, checksum mandatory and correct. */
function udpliteError(c: Conntrack, pi: PacketInfo): number {
  const b = pi.buf;
  const o = pi.l4Off;
  const len = pi.l4Len;
  if (len < 8) return CtReason.UdpShort;
  const cov = (b[o + 4] << 8) | b[o + 5];
  // RFC 3828 §3.1: coverage 0 is the whole datagram; otherwise at least the header.
  if (cov !== 0 && (cov < 8 || cov > len)) return CtReason.UdpliteBadCoverage;
  // RFC 3828 §3.1: UDP-Lite has no "no checksum" value.
  if (((b[o + 6] << 8) | b[o + 7]) === 0) return CtReason.UdpliteNoChecksum;
  if (c.checksumHere()) {
    // Linux udplite_error verifies with nf_checksum_partial(..., IPPROTO_UDP, ...): the pseudo
    // header carries protocol 17, not 136, so a UDP-Lite datagram checksummed per RFC 3828 fails
    // here (measured on Linux 6.18: both directions of a correct exchange counted invalid).
    const s = sumBytes(b, o, cov === 0 ? len : cov, pseudoHeaderSum(pi, 17, len));
    if (foldSum(s) !== 0xffff) return CtReason.UdpBadChecksum;
  }
  return CtReason.None;
}

/**
 * udpPacket: Linux nf_conntrack_udp_packet. The stream timestamp (creation + 2 s) is kept in the
 * record's first protocol word.
 */
export function udpPacket(c: Conntrack, r: Int32Array, cb: number, pi: PacketInfo, confirmed: boolean): number {
  const err = udpError(c, pi);
  if (err !== CtReason.None) {
    c.reason = err;
    return TR_INVALID;
  }
  const status = r[cb + W_META];
  if (!confirmed) r[cb + W_END] = (c.now + 2 * HZ) | 0;
  if ((status & IPS.SEEN_REPLY) !== 0) {
    let extra = c.cfg.udpTimeout;
    let stream = false;
    // Still active two seconds after it started: a stream.
    if (((r[cb + W_END] - c.now) | 0) < 0) {
      extra = c.cfg.udpTimeoutStream;
      stream = (status & IPS.ASSURED) === 0;
    }
    c.refresh(r, cb, extra);
    // Clash entries time out soon and must stay evictable.
    if ((status & IPS.NAT_CLASH) !== 0) return TR_ACCEPT;
    if (stream) {
      r[cb + W_META] |= IPS.ASSURED;
      c.eventUpdate(r, cb);
    }
  } else {
    c.refresh(r, cb, c.cfg.udpTimeout);
  }
  return TR_ACCEPT;
}

/** udplitePacket: Linux nf_conntrack_udplite_packet. */
export function udplitePacket(c: Conntrack, r: Int32Array, cb: number, pi: PacketInfo): number {
  const err = udpliteError(c, pi);
  if (err !== CtReason.None) {
    c.reason = err;
    return TR_INVALID;
  }
  const status = r[cb + W_META];
  if ((status & IPS.SEEN_REPLY) !== 0) {
    c.refresh(r, cb, c.cfg.udpTimeoutStream);
    if ((status & IPS.NAT_CLASH) !== 0) return TR_ACCEPT;
    if ((status & IPS.ASSURED) === 0) {
      r[cb + W_META] |= IPS.ASSURED;
      c.eventUpdate(r, cb);
    }
  } else {
    c.refresh(r, cb, c.cfg.udpTimeout);
  }
  return TR_ACCEPT;
}

/**
 * grePacket: Linux nf_conntrack_gre_packet (no PPTP helper): 30 s unreplied, 180 s and ASSURED once
 * a reply was seen.
 */
export function grePacket(c: Conntrack, r: Int32Array, cb: number): number {
  const status = r[cb + W_META];
  if ((status & IPS.SEEN_REPLY) !== 0) {
    c.refresh(r, cb, c.cfg.greTimeoutStream);
    if ((status & IPS.NAT_CLASH) !== 0) return TR_ACCEPT;
    if ((status & IPS.ASSURED) === 0) {
      r[cb + W_META] |= IPS.ASSURED;
      c.eventUpdate(r, cb);
    }
  } else {
    c.refresh(r, cb, c.cfg.greTimeout);
  }
  return TR_ACCEPT;
}

/** genericPacket: any other protocol: the generic timeout on every packet. */
export function genericPacket(c: Conntrack, r: Int32Array, cb: number): number {
  c.refresh(r, cb, c.cfg.genericTimeout);
  return TR_ACCEPT;
}

/**
 * greKeys: the GRE tuple keys (Linux gre_pkt_to_tuple without a PPTP keymap): version 0 GRE, or a
 * header too short to read, has keys 0 (tracked like a generic protocol); version 1 (enhanced GRE,
 * RFC 2637) must carry PPP (0x880b) and its call id is the destination key. Returns the ports word
 * `(srcKey << 16) | dstKey`, or -1 when the packet cannot be tracked. `o`/`len`: transport offset
 * and length.
 */
export function greKeys(b: Uint8Array, o: number, len: number): number {
  if (len < 4) return 0;
  if ((b[o + 1] & 0x07) !== 1) return 0;
  if (len < 8) return 0;
  if (((b[o + 2] << 8) | b[o + 3]) !== 0x880b) return -1;
  return (b[o + 6] << 8) | b[o + 7];
}
