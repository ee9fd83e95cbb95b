# nat-protocols: SCTP, UDP-Lite, GRE, DCCP and an unknown protocol through MASQUERADE.
from oracle import GW_WAN4, LAN4, WAN4, done
from scripted import IP, Raw, Wire, show
from scapy.all import (
    GRE,
    SCTP,
    SCTPChunkCookieAck,
    SCTPChunkCookieEcho,
    SCTPChunkData,
    SCTPChunkInit,
    SCTPChunkInitAck,
    SCTPChunkSACK,
)

w = Wire()


def udplite(src, dst, sport, dport, data, pseudo_proto):
    """A UDP-Lite datagram (RFC 3828) whose checksum covers the 8-byte header only, computed over a
    pseudo header with protocol `pseudo_proto`: 136 is RFC 3828's, 17 the one Linux's conntrack checks."""
    import struct

    body = struct.pack("!HHHH", sport, dport, 8, 0) + data
    ph = bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) + struct.pack("!BBH", 0, pseudo_proto, len(body))
    blob = ph + body[:8]
    total = sum(struct.unpack("!%dH" % (len(blob) // 2), blob))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    c = (~total) & 0xFFFF or 0xFFFF
    return Raw(body[:6] + struct.pack("!H", c) + body[8:])


def lan(payload, src=LAN4, **kw):
    return w.from_lan(IP(src=src, dst=WAN4, ttl=64, **kw) / payload)


def wan(payload, **kw):
    return w.from_wan(IP(src=WAN4, dst=GW_WAN4, ttl=64, **kw) / payload)


# SCTP association setup and one DATA chunk
TA, TB = 0x11111111, 0x22222222
show("sctp INIT", lan(SCTP(sport=36412, dport=36412, tag=0) / SCTPChunkInit(init_tag=TA, a_rwnd=65536, n_out_streams=1, n_in_streams=1, init_tsn=1000)))
show("sctp INIT ACK", wan(SCTP(sport=36412, dport=36412, tag=TA) / SCTPChunkInitAck(init_tag=TB, a_rwnd=65536, n_out_streams=1, n_in_streams=1, init_tsn=5000, params=[])))
show("sctp COOKIE ECHO", lan(SCTP(sport=36412, dport=36412, tag=TB) / SCTPChunkCookieEcho(cookie=b"cookie-of-the-association")))
show("sctp COOKIE ACK", wan(SCTP(sport=36412, dport=36412, tag=TA) / SCTPChunkCookieAck()))
show("sctp DATA", lan(SCTP(sport=36412, dport=36412, tag=TB) / SCTPChunkData(tsn=1000, stream_id=0, stream_seq=0, proto_id=0, data=b"sctp payload")))
show("sctp SACK", wan(SCTP(sport=36412, dport=36412, tag=TA) / SCTPChunkSACK(cumul_tsn_ack=1000, a_rwnd=65536)))

# UDP-Lite with a partial checksum coverage
# UDP-Lite, header-only checksum coverage: Linux's conntrack checks it over a protocol-17 pseudo header,
# so the RFC 3828 checksum (protocol 136) is INVALID and the protocol-17 one is tracked and NATed
show("udplite, RFC 3828 checksum", lan(udplite(LAN4, WAN4, 47000, 5001, b"rfc checksum", 136), proto=136))
show("udplite request", lan(udplite(LAN4, WAN4, 47001, 5001, b"lite request", 17), proto=136))
show("udplite answer", wan(udplite(WAN4, GW_WAN4, 5001, 47001, b"lite answer", 17), proto=136))

# GRE version 0 (tracked without keys), both ways
show("gre out", lan(GRE(proto=0x0800) / IP(src="192.0.2.1", dst="192.0.2.2") / Raw(b"inner")))
show("gre back", wan(GRE(proto=0x0800) / IP(src="192.0.2.2", dst="192.0.2.1") / Raw(b"inner back")))

# DCCP (protocol 33): a DCCP-Request-like header; tracked generically
dccp = bytes.fromhex("b7d41388" "0500" "0000" "0100" "0000" "00001234" "00000000")
show("dccp request", lan(Raw(dccp), proto=33))

# an unknown protocol, both ways, then from a second lan address
show("proto 253 out", lan(Raw(b"experimental protocol"), proto=253))
show("proto 253 back", wan(Raw(b"experimental answer"), proto=253))
show("proto 253 from a second host", lan(Raw(b"second host"), src="10.77.1.3", proto=253))
done()
