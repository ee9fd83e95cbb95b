# stack-v4: one crafted IPv4 probe per case of the gateway's own answers. Every probe that can draw
# an ICMP error comes from its own lan source address (10.77.1.10 ...), so the per-destination ICMP
# rate limit never interferes; labels go to the recorder's log.
import socket
import struct
import time

from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw

from oracle import GW_LAN4, GW_LAN_MAC, GW_WAN4, LAN_MAC, lan_port, log

WAN_HOST = "10.77.2.2"
STEP = 0.03
lan = lan_port()


def src(n):
    return "10.77.1.%d" % n


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


def udplite(s, d, sport, dport, payload, cov=8):
    """A UDP-Lite datagram (RFC 3828) with checksum coverage `cov` and a correct checksum."""
    body = struct.pack("!HHHH", sport, dport, cov, 0) + payload
    pseudo = socket.inet_aton(s) + socket.inet_aton(d) + struct.pack("!BBH", 0, 136, len(body))
    c = csum(pseudo + body[:cov]) or 0xFFFF
    return body[:6] + struct.pack("!H", c) + body[8:]


def icmp_raw(type_, code, rest, body=b""):
    """An ICMP message with exactly these bytes (scapy would add timestamp fields of its own)."""
    head = struct.pack("!BBHI", type_, code, 0, rest)
    c = csum(head + body)
    return head[:2] + struct.pack("!H", c) + head[4:] + body


def udp_short(s, d, sport, dport, ulen, data):
    """A UDP datagram whose length field (ulen) covers less than the IP payload; checksum over ulen bytes."""
    body = struct.pack("!HHHH", sport, dport, ulen, 0) + data
    pseudo = socket.inet_aton(s) + socket.inet_aton(d) + struct.pack("!BBH", 0, 17, ulen)
    c = csum(pseudo + body[:ulen]) or 0xFFFF
    return body[:6] + struct.pack("!H", c) + body[8:]


RR = b"\x07\x0b\x04" + b"\x00" * 8  # record route, two empty slots
PAYLOAD = b"ctnat stack probe"

# ---- forwarded packets whose TTL runs out, or that do not fit the wan MTU ------------------------------
probe("F01 udp ttl 1", IP(src=src(10), dst=WAN_HOST, ttl=1, id=0x1001) / UDP(sport=40010, dport=33434) / Raw(PAYLOAD))
probe("F02 udp ttl 1 tos 0xff", IP(src=src(11), dst=WAN_HOST, ttl=1, tos=0xFF, id=0x1002) / UDP(sport=40011, dport=33434) / Raw(PAYLOAD))
probe("F03 tcp syn ttl 1", IP(src=src(12), dst=WAN_HOST, ttl=1, id=0x1003, flags="DF") / TCP(sport=40012, dport=80, flags="S", seq=1000, options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]))
probe("F04 echo ttl 1", IP(src=src(13), dst=WAN_HOST, ttl=1, id=0x1004) / ICMP(type=8, id=0x1313, seq=1) / Raw(PAYLOAD))
probe("F05 icmp error ttl 1 (no answer)", IP(src=src(14), dst=WAN_HOST, ttl=1, id=0x1005) / ICMP(type=3, code=3) / bytes(IP(src=WAN_HOST, dst=src(14)) / UDP(sport=53, dport=999)))
probe("F06 udp ttl 1 1000 bytes (quote cut at 576)", IP(src=src(15), dst=WAN_HOST, ttl=1, id=0x1006) / UDP(sport=40015, dport=33434) / Raw(bytes(range(256)) * 3 + b"x" * 232))
probe("F07 udp ttl 0", IP(src=src(16), dst=WAN_HOST, ttl=0, id=0x1007) / UDP(sport=40016, dport=33434) / Raw(PAYLOAD))
probe("F08 udp DF 1400 bytes (frag needed, mtu 1280)", IP(src=src(17), dst=WAN_HOST, ttl=64, id=0x1008, flags="DF") / UDP(sport=40017, dport=9000) / Raw(b"D" * 1372))
probe("F09 udp DF 1400 bytes ttl 1 (time exceeded first)", IP(src=src(18), dst=WAN_HOST, ttl=1, id=0x1009, flags="DF") / UDP(sport=40018, dport=9000) / Raw(b"E" * 1372))
probe("F10 timestamp request ttl 1", IP(src=src(19), dst=WAN_HOST, ttl=1, id=0x100A, proto=1) / Raw(icmp_raw(13, 0, 0x19190002, bytes(12))))
probe("F11 unknown icmp type 200 ttl 1 (no answer)", IP(src=src(20), dst=WAN_HOST, ttl=1, id=0x100B) / ICMP(type=200, code=0) / Raw(PAYLOAD))
probe("F12 udp ttl 1 to a broadcast MAC (no answer)", IP(src=src(21), dst=WAN_HOST, ttl=1, id=0x100C) / UDP(sport=40021, dport=33434) / Raw(PAYLOAD), ether_dst="ff:ff:ff:ff:ff:ff")
probe("F13 udp ttl 1 with record route", IP(src=src(22), dst=WAN_HOST, ttl=1, id=0x100D, options=RR) / UDP(sport=40022, dport=33434) / Raw(PAYLOAD))
probe("F14 udp ttl 1, route back hoplimit 17", IP(src=src(99), dst=WAN_HOST, ttl=1, id=0x100E) / UDP(sport=40099, dport=33434) / Raw(PAYLOAD))
probe("F15 udp ttl 1 1000 bytes, route back mtu 300", IP(src=src(98), dst=WAN_HOST, ttl=1, id=0x100F) / UDP(sport=40098, dport=33434) / Raw(b"m" * 972))
probe("F16 udp to an unreachable route", IP(src=src(23), dst="10.77.9.9", ttl=64, id=0x1010) / UDP(sport=40023, dport=9) / Raw(PAYLOAD))
probe("F17 udp to a prohibit route", IP(src=src(24), dst="10.77.8.8", ttl=64, id=0x1011) / UDP(sport=40024, dport=9) / Raw(PAYLOAD))
probe("F18 udp to a blackhole route (no answer)", IP(src=src(25), dst="10.77.7.7", ttl=64, id=0x1012) / UDP(sport=40025, dport=9) / Raw(PAYLOAD))
probe("F19 udp ttl 1 tos 0x03 (ECN)", IP(src=src(26), dst=WAN_HOST, ttl=1, tos=0x03, id=0x1013) / UDP(sport=40026, dport=33434) / Raw(PAYLOAD))
probe("F20 echo reply ttl 1", IP(src=src(27), dst=WAN_HOST, ttl=1, id=0x1014) / ICMP(type=0, id=0x2727, seq=3) / Raw(PAYLOAD))

# ---- TCP to the gateway's own addresses: RST ---------------------------------------------------------
probe("L01 syn", IP(src=src(30), dst=GW_LAN4, ttl=64, tos=0x13, id=0x2001, flags="DF") / TCP(sport=40030, dport=5555, flags="S", seq=0x11223344, options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]))
probe("L02 ack with data", IP(src=src(31), dst=GW_LAN4, ttl=64, id=0x2002) / TCP(sport=40031, dport=5555, flags="PA", seq=1000, ack=0x55667788) / Raw(b"0123456789"))
probe("L03 fin with data, no ack", IP(src=src(32), dst=GW_LAN4, ttl=64, id=0x2003) / TCP(sport=40032, dport=5555, flags="FP", seq=0xFFFFFFF0) / Raw(b"0123456789abcdefghij"))
probe("L04 rst (no answer)", IP(src=src(33), dst=GW_LAN4, ttl=64, id=0x2004) / TCP(sport=40033, dport=5555, flags="R", seq=5))
probe("L05 syn bad checksum", IP(src=src(34), dst=GW_LAN4, ttl=64, id=0x2005) / TCP(sport=40034, dport=5555, flags="S", seq=7, chksum=0x1234))
probe("L06 syn with md5 option (no answer)", IP(src=src(35), dst=GW_LAN4, ttl=64, id=0x2006) / TCP(sport=40035, dport=5555, flags="S", seq=8, options=[(19, b"\x00" * 16)]))
probe("L07 syn to the wan address", IP(src=src(36), dst=GW_WAN4, ttl=64, id=0x2007) / TCP(sport=40036, dport=5555, flags="S", seq=9))
probe("L08 tcp data offset 4 (no answer)", IP(src=src(37), dst=GW_LAN4, ttl=64, id=0x2008) / TCP(sport=40037, dport=5555, flags="S", seq=10, dataofs=4))
probe("L09 syn with record route", IP(src=src(38), dst=GW_LAN4, ttl=64, id=0x2009, options=RR) / TCP(sport=40038, dport=5555, flags="S", seq=11))
probe("L10 syn ttl 1", IP(src=src(39), dst=GW_LAN4, ttl=1, id=0x200A) / TCP(sport=40039, dport=5555, flags="S", seq=12))
probe("L11 syn, route back hoplimit 17", IP(src=src(99), dst=GW_LAN4, ttl=64, id=0x200B) / TCP(sport=40099, dport=5555, flags="S", seq=13))
probe("L12 syn tos 0xff ecn", IP(src=src(29), dst=GW_LAN4, ttl=64, tos=0xFF, id=0x200C) / TCP(sport=40029, dport=5555, flags="SEC", seq=14))

# ---- UDP to the gateway: port unreachable --------------------------------------------------------------
probe("L20 udp", IP(src=src(40), dst=GW_LAN4, ttl=64, tos=0x28, id=0x3001) / UDP(sport=40040, dport=7777) / Raw(PAYLOAD))
probe("L21 udp checksum 0", IP(src=src(41), dst=GW_LAN4, ttl=64, id=0x3002) / UDP(sport=40041, dport=7777, chksum=0) / Raw(PAYLOAD))
probe("L22 udp bad checksum (no answer)", IP(src=src(42), dst=GW_LAN4, ttl=64, id=0x3003) / UDP(sport=40042, dport=7777, chksum=0x4321) / Raw(PAYLOAD))
probe("L23 udp to the lan broadcast (no answer)", IP(src=src(43), dst="10.77.1.255", ttl=64, id=0x3004) / UDP(sport=40043, dport=7777) / Raw(PAYLOAD), ether_dst="ff:ff:ff:ff:ff:ff")
probe("L24 udp to 255.255.255.255 (no answer)", IP(src=src(44), dst="255.255.255.255", ttl=64, id=0x3005) / UDP(sport=40044, dport=7777) / Raw(PAYLOAD), ether_dst="ff:ff:ff:ff:ff:ff")
probe("L25 udp length shorter than the IP payload", IP(src=src(45), dst=GW_LAN4, ttl=64, id=0x3006, proto=17) / Raw(udp_short(src(45), GW_LAN4, 40045, 7777, 12, b"abcdJUNKJUNKJUNK")))
probe("L26 udp 1000 bytes", IP(src=src(46), dst=GW_LAN4, ttl=64, id=0x3007) / UDP(sport=40046, dport=7777) / Raw(b"u" * 992))
probe("L27 udp-lite", IP(src=src(47), dst=GW_LAN4, ttl=64, id=0x3008, proto=136) / Raw(udplite(src(47), GW_LAN4, 40047, 7777, PAYLOAD)))
probe("L28 udp to the wan address", IP(src=src(48), dst=GW_WAN4, ttl=64, id=0x3009) / UDP(sport=40048, dport=7777) / Raw(PAYLOAD))
probe("L29 udp with record route", IP(src=src(49), dst=GW_LAN4, ttl=64, id=0x300A, options=RR) / UDP(sport=40049, dport=7777) / Raw(PAYLOAD))

# ---- other protocols to the gateway: protocol unreachable ----------------------------------------------
probe("L30 protocol 253", IP(src=src(50), dst=GW_LAN4, ttl=64, id=0x4001, proto=253) / Raw(PAYLOAD))
probe("L31 protocol 47 (gre)", IP(src=src(51), dst=GW_LAN4, ttl=64, id=0x4002, proto=47) / Raw(bytes.fromhex("00000800") + PAYLOAD))
probe("L32 protocol 132 (sctp)", IP(src=src(52), dst=GW_LAN4, ttl=64, id=0x4003, proto=132) / Raw(bytes(12) + PAYLOAD))
probe("L33 protocol 2 (igmp query, no answer)", IP(src=src(53), dst=GW_LAN4, ttl=1, id=0x4004, proto=2) / Raw(bytes.fromhex("11640000") + bytes(4)))
probe("L34 protocol 41 (ipv6 in ipv4)", IP(src=src(54), dst=GW_LAN4, ttl=64, id=0x4005, proto=41) / Raw(bytes(40)))
probe("L35 protocol 4 (ipip)", IP(src=src(55), dst=GW_LAN4, ttl=64, id=0x4006, proto=4) / Raw(bytes(IP(src="1.2.3.4", dst="5.6.7.8") / UDP())))
probe("L36 protocol 50 (esp)", IP(src=src(56), dst=GW_LAN4, ttl=64, id=0x4007, proto=50) / Raw(bytes(16)))
probe("L37 protocol 0", IP(src=src(57), dst=GW_LAN4, ttl=64, id=0x4008, proto=0) / Raw(PAYLOAD))
probe("L38 protocol 253 to the lan broadcast (no answer)", IP(src=src(58), dst="10.77.1.255", ttl=64, id=0x4009, proto=253) / Raw(PAYLOAD), ether_dst="ff:ff:ff:ff:ff:ff")

# ---- ICMP to the gateway: echo and timestamp replies ---------------------------------------------------
probe("L40 echo tos 0xff", IP(src=src(60), dst=GW_LAN4, ttl=64, tos=0xFF, id=0x5001, flags="DF") / ICMP(type=8, id=0x6060, seq=1) / Raw(PAYLOAD))
probe("L41 echo code 5", IP(src=src(61), dst=GW_LAN4, ttl=64, id=0x5002) / ICMP(type=8, code=5, id=0x6161, seq=2) / Raw(PAYLOAD))
probe("L42 echo bad checksum (no answer)", IP(src=src(62), dst=GW_LAN4, ttl=64, id=0x5003) / ICMP(type=8, id=0x6262, seq=3, chksum=0x1111) / Raw(PAYLOAD))
probe("L43 echo to the lan broadcast (no answer)", IP(src=src(63), dst="10.77.1.255", ttl=64, id=0x5004) / ICMP(type=8, id=0x6363, seq=4) / Raw(PAYLOAD), ether_dst="ff:ff:ff:ff:ff:ff")
probe("L44 timestamp request", IP(src=src(64), dst=GW_LAN4, ttl=64, id=0x5005, proto=1) / Raw(icmp_raw(13, 0, 0x64640005, bytes.fromhex("01020304") + bytes(8) + b"extra")))
probe("L45 timestamp request, 4 byte body", IP(src=src(65), dst=GW_LAN4, ttl=64, id=0x5006, proto=1) / Raw(icmp_raw(13, 0, 0x65650006, bytes.fromhex("0a0b0c0d"))))
probe("L46 timestamp request, 3 byte body (no answer)", IP(src=src(66), dst=GW_LAN4, ttl=64, id=0x5007, proto=1) / Raw(icmp_raw(13, 0, 0x66660007, b"abc")))
probe("L47 information request (no answer)", IP(src=src(67), dst=GW_LAN4, ttl=64, id=0x5008) / ICMP(type=15, id=0x6767, seq=8))
probe("L48 address mask request (no answer)", IP(src=src(68), dst=GW_LAN4, ttl=64, id=0x5009, proto=1) / Raw(icmp_raw(17, 0, 0x68680009, bytes(4))))
probe("L49 unknown icmp type 100 (no answer)", IP(src=src(69), dst=GW_LAN4, ttl=64, id=0x500A) / ICMP(type=100, id=0x6969, seq=10))
probe("L50 echo 1400 byte payload", IP(src=src(70), dst=GW_LAN4, ttl=64, id=0x500B) / ICMP(type=8, id=0x7070, seq=11) / Raw(bytes(range(256)) * 5 + b"z" * 120))
probe("L51 echo with record route", IP(src=src(71), dst=GW_LAN4, ttl=64, id=0x500C, options=RR) / ICMP(type=8, id=0x7171, seq=12) / Raw(PAYLOAD))
probe("L52 icmp port unreachable to the gateway (no answer)", IP(src=src(72), dst=GW_LAN4, ttl=64, id=0x500D) / ICMP(type=3, code=3) / bytes(IP(src=GW_LAN4, dst=src(72)) / UDP(sport=53, dport=999)))
probe("L53 echo to the wan address", IP(src=src(73), dst=GW_WAN4, ttl=64, id=0x500E) / ICMP(type=8, id=0x7373, seq=13) / Raw(PAYLOAD))
probe("L54 echo, route back hoplimit 17", IP(src=src(99), dst=GW_LAN4, ttl=64, id=0x500F) / ICMP(type=8, id=0x9999, seq=14) / Raw(PAYLOAD))
probe("L55 echo request, no payload", IP(src=src(74), dst=GW_LAN4, ttl=64, id=0x5010) / ICMP(type=8, id=0x7474, seq=15))
probe("L56 timestamp to the lan broadcast (no answer)", IP(src=src(75), dst="10.77.1.255", ttl=64, id=0x5011, proto=1) / Raw(icmp_raw(13, 0, 0x75750010, bytes(12))), ether_dst="ff:ff:ff:ff:ff:ff")
time.sleep(0.3)
