# stack-v6: one crafted IPv6 probe per case of the gateway's own answers. Every probe that can draw an
# ICMPv6 error comes from its own lan source address (fd77:1::10 ...), so the per-destination ICMPv6
# rate limit never interferes; labels go to the recorder's log.
import socket
import struct
import time

from scapy.all import (
    TCP,
    UDP,
    Ether,
    HBHOptUnknown,
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrHopByHop,
    Raw,
)

from oracle import GW_LAN6, GW_WAN6, LAN_MAC, lan_port, log

WAN_HOST = "fd77:2::2"
LAN_LL = "fe80::ff:fe77:102"
GW_LAN_LL = "fe80::ff:fe77:101"
STEP = 0.03
lan = lan_port()


def src(n):
    return "fd77:1::%x" % n


def probe(label, pkt, ether_dst=None):
    if ether_dst is not None:
        pkt = Ether(src=LAN_MAC, dst=ether_dst) / pkt
    log(label)
    lan.send(pkt)
    time.sleep(STEP)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo6(s, d, nh, length):
    return socket.inet_pton(socket.AF_INET6, s) + socket.inet_pton(socket.AF_INET6, d) + struct.pack("!IxxxB", length, nh)


def udplite6(s, d, sport, dport, payload, cov=8):
    body = struct.pack("!HHHH", sport, dport, cov, 0) + payload
    c = csum(pseudo6(s, d, 136, len(body)) + body[:cov]) or 0xFFFF
    return body[:6] + struct.pack("!H", c) + body[8:]


def udp_short6(s, d, sport, dport, ulen, data):
    body = struct.pack("!HHHH", sport, dport, ulen, 0) + data
    c = csum(pseudo6(s, d, 17, ulen) + body[:ulen]) or 0xFFFF
    return body[:6] + struct.pack("!H", c) + body[8:]


def icmp6_raw(s, d, type_, code, rest, body=b""):
    head = struct.pack("!BBHI", type_, code, 0, rest)
    c = csum(pseudo6(s, d, 58, len(head) + len(body)) + head + body)
    return head[:2] + struct.pack("!H", c) + head[4:] + body


PAYLOAD = b"ctnat stack probe"
MCAST = "33:33:00:00:00:01"

# ---- forwarded packets whose hop limit runs out, or that do not fit the wan MTU --------------------------
probe("F01 udp hlim 1", IPv6(src=src(0x10), dst=WAN_HOST, hlim=1) / UDP(sport=41010, dport=33434) / Raw(PAYLOAD))
probe("F02 udp hlim 1 tclass 0xff flow label", IPv6(src=src(0x11), dst=WAN_HOST, hlim=1, tc=0xFF, fl=0x12345) / UDP(sport=41011, dport=33434) / Raw(PAYLOAD))
probe("F03 tcp syn hlim 1", IPv6(src=src(0x12), dst=WAN_HOST, hlim=1) / TCP(sport=41012, dport=80, flags="S", seq=1000, options=[("MSS", 1440), ("SAckOK", b""), ("WScale", 7)]))
probe("F04 echo hlim 1", IPv6(src=src(0x13), dst=WAN_HOST, hlim=1) / ICMPv6EchoRequest(id=0x1313, seq=1, data=PAYLOAD))
probe("F05 icmpv6 error hlim 1 (no answer)", IPv6(src=src(0x14), dst=WAN_HOST, hlim=1) / ICMPv6DestUnreach(code=4) / bytes(IPv6(src=WAN_HOST, dst=src(0x14)) / UDP(sport=53, dport=999)))
probe("F06 udp hlim 1 1400 bytes (quote cut at 1280)", IPv6(src=src(0x15), dst=WAN_HOST, hlim=1) / UDP(sport=41015, dport=33434) / Raw(bytes(range(256)) * 5 + b"x" * 112))
probe("F07 udp hlim 0", IPv6(src=src(0x16), dst=WAN_HOST, hlim=0) / UDP(sport=41016, dport=33434) / Raw(PAYLOAD))
probe("F08 udp 1400 bytes (packet too big, mtu 1280)", IPv6(src=src(0x17), dst=WAN_HOST, hlim=64) / UDP(sport=41017, dport=9000) / Raw(b"D" * 1352))
probe("F09 udp 1400 bytes hlim 1 (time exceeded first)", IPv6(src=src(0x18), dst=WAN_HOST, hlim=1) / UDP(sport=41018, dport=9000) / Raw(b"E" * 1352))
probe("F10 unknown informational icmpv6 type 200 hlim 1", IPv6(src=src(0x19), dst=WAN_HOST, hlim=1, nh=58) / Raw(icmp6_raw(src(0x19), WAN_HOST, 200, 0, 0, PAYLOAD)))
probe("F11 unknown error icmpv6 type 100 hlim 1 (no answer)", IPv6(src=src(0x1A), dst=WAN_HOST, hlim=1, nh=58) / Raw(icmp6_raw(src(0x1A), WAN_HOST, 100, 0, 0, PAYLOAD)))
probe("F12 echo hlim 1 with hop-by-hop header", IPv6(src=src(0x1B), dst=WAN_HOST, hlim=1) / IPv6ExtHdrHopByHop() / ICMPv6EchoRequest(id=0x1B1B, seq=2, data=PAYLOAD))
probe("F13 udp hlim 1, route back hoplimit 17", IPv6(src=src(0x99), dst=WAN_HOST, hlim=1) / UDP(sport=41099, dport=33434) / Raw(PAYLOAD))
probe("F14 udp to an unreachable route", IPv6(src=src(0x1C), dst="fd77:9::9", hlim=64) / UDP(sport=41028, dport=9) / Raw(PAYLOAD))
probe("F15 udp to a prohibit route", IPv6(src=src(0x1D), dst="fd77:8::8", hlim=64) / UDP(sport=41029, dport=9) / Raw(PAYLOAD))
probe("F16 udp to a blackhole route (no answer)", IPv6(src=src(0x1E), dst="fd77:7::7", hlim=64) / UDP(sport=41030, dport=9) / Raw(PAYLOAD))
probe("F17 udp from a link-local source to the wan (beyond scope)", IPv6(src=LAN_LL, dst=WAN_HOST, hlim=64) / UDP(sport=41031, dport=9) / Raw(PAYLOAD))
probe("F18 udp hlim 1 from the unspecified address (no answer)", IPv6(src="::", dst=WAN_HOST, hlim=1) / UDP(sport=41032, dport=33434) / Raw(PAYLOAD))
probe("F19 hop-by-hop unknown option 0x81 forwarded (parameter problem)", IPv6(src=src(0x1F), dst=WAN_HOST, hlim=64) / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x81, optdata=b"\x00\x00")]) / UDP(sport=41033, dport=9) / Raw(PAYLOAD))
probe("F20 hop-by-hop unknown option 0x41 forwarded (no answer)", IPv6(src=src(0x20), dst=WAN_HOST, hlim=64) / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x41, optdata=b"\x00\x00")]) / UDP(sport=41034, dport=9) / Raw(PAYLOAD))
probe("F21 echo reply hlim 1", IPv6(src=src(0x21), dst=WAN_HOST, hlim=1) / ICMPv6EchoReply(id=0x2121, seq=3, data=PAYLOAD))
probe("F22 udp hlim 1 to a broadcast MAC (no answer)", IPv6(src=src(0x22), dst=WAN_HOST, hlim=1) / UDP(sport=41035, dport=33434) / Raw(PAYLOAD), ether_dst="ff:ff:ff:ff:ff:ff")
probe("F23 udp 1400 bytes to a multicast MAC (no answer)", IPv6(src=src(0x23), dst=WAN_HOST, hlim=64) / UDP(sport=41036, dport=9000) / Raw(b"M" * 1352), ether_dst=MCAST)

# ---- TCP to the gateway's own addresses: RST --------------------------------------------------------------
probe("L01 syn tclass 0x13 flow label", IPv6(src=src(0x30), dst=GW_LAN6, hlim=64, tc=0x13, fl=0xABCDE) / TCP(sport=41040, dport=5555, flags="S", seq=0x11223344, options=[("MSS", 1440), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]))
probe("L02 ack with data", IPv6(src=src(0x31), dst=GW_LAN6, hlim=64) / TCP(sport=41041, dport=5555, flags="PA", seq=1000, ack=0x55667788) / Raw(b"0123456789"))
probe("L03 fin with data, no ack", IPv6(src=src(0x32), dst=GW_LAN6, hlim=64) / TCP(sport=41042, dport=5555, flags="FP", seq=0xFFFFFFF0) / Raw(b"0123456789abcdefghij"))
probe("L04 rst (no answer)", IPv6(src=src(0x33), dst=GW_LAN6, hlim=64) / TCP(sport=41043, dport=5555, flags="R", seq=5))
probe("L05 syn bad checksum (no answer)", IPv6(src=src(0x34), dst=GW_LAN6, hlim=64) / TCP(sport=41044, dport=5555, flags="S", seq=7, chksum=0x1234))
probe("L06 syn with md5 option (no answer)", IPv6(src=src(0x35), dst=GW_LAN6, hlim=64) / TCP(sport=41045, dport=5555, flags="S", seq=8, options=[(19, b"\x00" * 16)]))
probe("L07 syn to the wan address", IPv6(src=src(0x36), dst=GW_WAN6, hlim=64) / TCP(sport=41046, dport=5555, flags="S", seq=9))
probe("L08 syn, route back hoplimit 17", IPv6(src=src(0x99), dst=GW_LAN6, hlim=64) / TCP(sport=41099, dport=5555, flags="S", seq=13))
probe("L09 syn to the link-local address", IPv6(src=LAN_LL, dst=GW_LAN_LL, hlim=64) / TCP(sport=41047, dport=5555, flags="S", seq=14))
probe("L10 syn tclass 0xff", IPv6(src=src(0x37), dst=GW_LAN6, hlim=64, tc=0xFF) / TCP(sport=41048, dport=5555, flags="SEC", seq=15))
probe("L11 syn with a destination options header", IPv6(src=src(0x38), dst=GW_LAN6, hlim=64) / IPv6ExtHdrDestOpt() / TCP(sport=41049, dport=5555, flags="S", seq=16))

# ---- UDP to the gateway: port unreachable --------------------------------------------------------------
probe("L20 udp tclass 0xff flow label", IPv6(src=src(0x40), dst=GW_LAN6, hlim=64, tc=0xFF, fl=0x54321) / UDP(sport=41050, dport=7777) / Raw(PAYLOAD))
probe("L21 udp checksum 0 (no answer)", IPv6(src=src(0x41), dst=GW_LAN6, hlim=64) / UDP(sport=41051, dport=7777, chksum=0) / Raw(PAYLOAD))
probe("L22 udp bad checksum (no answer)", IPv6(src=src(0x42), dst=GW_LAN6, hlim=64) / UDP(sport=41052, dport=7777, chksum=0x4321) / Raw(PAYLOAD))
probe("L23 udp to ff02::1 (no answer)", IPv6(src=src(0x43), dst="ff02::1", hlim=1) / UDP(sport=41053, dport=7777) / Raw(PAYLOAD), ether_dst=MCAST)
probe("L24 udp 1400 bytes (quote cut at 1280)", IPv6(src=src(0x44), dst=GW_LAN6, hlim=64) / UDP(sport=41054, dport=7777) / Raw(b"u" * 1392))
probe("L25 udp-lite", IPv6(src=src(0x45), dst=GW_LAN6, hlim=64, nh=136) / Raw(udplite6(src(0x45), GW_LAN6, 41055, 7777, PAYLOAD)))
probe("L26 udp length shorter than the payload", IPv6(src=src(0x46), dst=GW_LAN6, hlim=64, nh=17) / Raw(udp_short6(src(0x46), GW_LAN6, 41056, 7777, 12, b"abcdJUNKJUNKJUNK")))
probe("L27 udp to the wan address", IPv6(src=src(0x47), dst=GW_WAN6, hlim=64) / UDP(sport=41057, dport=7777) / Raw(PAYLOAD))
probe("L28 udp to the link-local address", IPv6(src=LAN_LL, dst=GW_LAN_LL, hlim=64) / UDP(sport=41058, dport=7777) / Raw(PAYLOAD))

# ---- unknown next headers and bad options: parameter problem -------------------------------------------
probe("L30 next header 253", IPv6(src=src(0x50), dst=GW_LAN6, hlim=64, nh=253) / Raw(PAYLOAD))
probe("L31 destination options then next header 253", IPv6(src=src(0x51), dst=GW_LAN6, hlim=64) / IPv6ExtHdrDestOpt(nh=253) / Raw(PAYLOAD))
probe("L32 next header 47 (gre)", IPv6(src=src(0x52), dst=GW_LAN6, hlim=64, nh=47) / Raw(bytes.fromhex("000086dd") + PAYLOAD))
probe("L33 next header 59 (no answer)", IPv6(src=src(0x53), dst=GW_LAN6, hlim=64, nh=59) / Raw(PAYLOAD))
probe("L34 next header 132 (sctp)", IPv6(src=src(0x54), dst=GW_LAN6, hlim=64, nh=132) / Raw(bytes(12) + PAYLOAD))
probe("L35 next header 4 (ipip)", IPv6(src=src(0x55), dst=GW_LAN6, hlim=64, nh=4) / Raw(bytes(20)))
probe("L36 next header 41 (ipv6 in ipv6)", IPv6(src=src(0x56), dst=GW_LAN6, hlim=64, nh=41) / Raw(bytes(40)))
probe("L37 hop-by-hop unknown option 0x81", IPv6(src=src(0x57), dst=GW_LAN6, hlim=64) / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x81, optdata=b"\x00\x00")]) / UDP(sport=41059, dport=7777) / Raw(PAYLOAD))
probe("L38 hop-by-hop unknown option 0xc1 to ff02::1 (no answer)", IPv6(src=src(0x58), dst="ff02::1", hlim=1) / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0xC1, optdata=b"\x00\x00")]) / UDP(sport=41060, dport=7777) / Raw(PAYLOAD), ether_dst=MCAST)
probe("L39 hop-by-hop unknown option 0x81 to ff02::1", IPv6(src=src(0x59), dst="ff02::1", hlim=1) / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x81, optdata=b"\x00\x00")]) / UDP(sport=41061, dport=7777) / Raw(PAYLOAD), ether_dst=MCAST)
probe("L40 destination options unknown option 0x81", IPv6(src=src(0x5A), dst=GW_LAN6, hlim=64) / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x81, optdata=b"\x00\x00")]) / UDP(sport=41062, dport=7777) / Raw(PAYLOAD))
probe("L41 next header 253 to ff02::1 (no answer)", IPv6(src=src(0x5B), dst="ff02::1", hlim=1, nh=253) / Raw(PAYLOAD), ether_dst=MCAST)

# ---- ICMPv6 to the gateway: echo replies -------------------------------------------------------------
probe("L50 echo tclass 0xff flow label", IPv6(src=src(0x60), dst=GW_LAN6, hlim=64, tc=0xFF, fl=0x12345) / ICMPv6EchoRequest(id=0x6060, seq=1, data=PAYLOAD))
probe("L51 echo code 3", IPv6(src=src(0x61), dst=GW_LAN6, hlim=64) / ICMPv6EchoRequest(code=3, id=0x6161, seq=2, data=PAYLOAD))
probe("L52 echo bad checksum (no answer)", IPv6(src=src(0x62), dst=GW_LAN6, hlim=64) / ICMPv6EchoRequest(id=0x6262, seq=3, data=PAYLOAD, cksum=0x1111))
probe("L53 echo to ff02::1", IPv6(src=src(0x63), dst="ff02::1", hlim=1) / ICMPv6EchoRequest(id=0x6363, seq=4, data=PAYLOAD), ether_dst=MCAST)
probe("L54 echo to ff02::1 from a link-local source", IPv6(src=LAN_LL, dst="ff02::1", hlim=1) / ICMPv6EchoRequest(id=0x6464, seq=5, data=PAYLOAD), ether_dst=MCAST)
probe("L55 echo to the wan address", IPv6(src=src(0x65), dst=GW_WAN6, hlim=64) / ICMPv6EchoRequest(id=0x6565, seq=6, data=PAYLOAD))
probe("L56 echo to the link-local address", IPv6(src=LAN_LL, dst=GW_LAN_LL, hlim=64) / ICMPv6EchoRequest(id=0x6666, seq=7, data=PAYLOAD))
probe("L57 echo 1400 byte payload", IPv6(src=src(0x67), dst=GW_LAN6, hlim=64) / ICMPv6EchoRequest(id=0x6767, seq=8, data=bytes(range(256)) * 5 + b"z" * 120))
probe("L58 echo, route back hoplimit 17", IPv6(src=src(0x99), dst=GW_LAN6, hlim=64) / ICMPv6EchoRequest(id=0x9999, seq=9, data=PAYLOAD))
probe("L59 unknown informational type 200 (no answer)", IPv6(src=src(0x68), dst=GW_LAN6, hlim=64, nh=58) / Raw(icmp6_raw(src(0x68), GW_LAN6, 200, 0, 0, PAYLOAD)))
probe("L60 echo request, no payload", IPv6(src=src(0x69), dst=GW_LAN6, hlim=64) / ICMPv6EchoRequest(id=0x6969, seq=10))
probe("L61 icmpv6 port unreachable to the gateway (no answer)", IPv6(src=src(0x6A), dst=GW_LAN6, hlim=64) / ICMPv6DestUnreach(code=4) / bytes(IPv6(src=GW_LAN6, dst=src(0x6A)) / UDP(sport=53, dport=999)))
probe("L62 echo with a destination options header", IPv6(src=src(0x6B), dst=GW_LAN6, hlim=64) / IPv6ExtHdrDestOpt() / ICMPv6EchoRequest(id=0x6B6B, seq=11, data=PAYLOAD))
time.sleep(0.3)
