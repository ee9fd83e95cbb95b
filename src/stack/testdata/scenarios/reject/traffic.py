# reject: one crafted probe per REJECT case, IPv4 then IPv6, each from its own lan source address so that
# the per-destination ICMP rate limit never interferes; labels go to the recorder's log.
import struct
import time

from scapy.all import ICMP, IP, TCP, UDP, Ether, ICMPv6DestUnreach, ICMPv6EchoRequest, IPv6, Raw

from oracle import GW_LAN4, GW_LAN6, GW_WAN4, GW_WAN6, LAN_MAC, lan_port, log

WAN4, WAN6 = "10.77.2.2", "fd77:2::2"
STEP = 0.03
lan = lan_port()
PAYLOAD = b"ctnat reject probe"


def s4(n):
    return "10.77.1.%d" % n


def s6(n):
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


def sums_to_ffff(data):
    """`data` (even length) plus two bytes that make its one's-complement sum 0xffff."""
    return data + struct.pack("!H", csum(data))


# ---- IPv4 FORWARD ---------------------------------------------------------------------------------
probe("R01 tcp-reset syn", IP(src=s4(10), dst=WAN4, ttl=64, id=0x7001) / TCP(sport=42010, dport=1001, flags="S", seq=0x01020304, options=[("MSS", 1460)]))
probe("R02 tcp-reset ack with data", IP(src=s4(11), dst=WAN4, ttl=64, id=0x7002) / TCP(sport=42011, dport=1001, flags="PA", seq=100, ack=0xA0B0C0D0) / Raw(b"data"))
probe("R03 tcp-reset rst (no answer)", IP(src=s4(12), dst=WAN4, ttl=64, id=0x7003) / TCP(sport=42012, dport=1001, flags="R", seq=5))
probe("R04 tcp-reset bad checksum (no answer)", IP(src=s4(13), dst=WAN4, ttl=64, id=0x7004) / TCP(sport=42013, dport=1001, flags="S", seq=6, chksum=0x1234))
probe("R05 tcp-reset fin with data, no ack", IP(src=s4(14), dst=WAN4, ttl=64, id=0x7005) / TCP(sport=42014, dport=1001, flags="F", seq=0xFFFFFFFE) / Raw(b"abcdef"))
probe("R06 default reject of a tcp syn", IP(src=s4(15), dst=WAN4, ttl=64, id=0x7006, flags="DF") / TCP(sport=42015, dport=1002, flags="S", seq=7))
probe("R07 default reject, bad tcp checksum (no answer)", IP(src=s4(16), dst=WAN4, ttl=64, id=0x7007) / TCP(sport=42016, dport=1002, flags="S", seq=8, chksum=0x1234))
for i, port in enumerate(range(1003, 1010)):
    probe("R%02d udp port %d" % (8 + i, port), IP(src=s4(17 + i), dst=WAN4, ttl=64, id=0x7008 + i) / UDP(sport=42017 + i, dport=port) / Raw(PAYLOAD))
probe("R15 udp bad checksum (no answer)", IP(src=s4(24), dst=WAN4, ttl=64, id=0x7010) / UDP(sport=42024, dport=1003, chksum=0x4321) / Raw(PAYLOAD))
probe("R16 udp checksum 0", IP(src=s4(25), dst=WAN4, ttl=64, id=0x7011) / UDP(sport=42025, dport=1003, chksum=0) / Raw(PAYLOAD))
probe("R17 echo", IP(src=s4(26), dst=WAN4, ttl=64, id=0x7012) / ICMP(type=8, id=0x2626, seq=1) / Raw(PAYLOAD))
probe("R18 echo bad checksum (no answer)", IP(src=s4(27), dst=WAN4, ttl=64, id=0x7013) / ICMP(type=8, id=0x2727, seq=1, chksum=0x1111) / Raw(PAYLOAD))
probe("R19 icmp error (no answer)", IP(src=s4(28), dst=WAN4, ttl=64, id=0x7014) / ICMP(type=3, code=3) / bytes(IP(src=WAN4, dst=s4(28)) / UDP(sport=53, dport=999)))
probe("R20 protocol 253, payload sum not 0xffff (no answer)", IP(src=s4(29), dst=WAN4, ttl=64, id=0x7015, proto=253) / Raw(PAYLOAD))
probe("R21 protocol 253, payload sum 0xffff", IP(src=s4(30), dst=WAN4, ttl=64, id=0x7016, proto=253) / Raw(sums_to_ffff(PAYLOAD)))
probe("R22 tcp-reset towards a route with hoplimit 33", IP(src=s4(31), dst="10.77.3.5", ttl=64, id=0x7017) / TCP(sport=42031, dport=1011, flags="S", seq=9))
probe("R23 tcp-reset from a source whose route back has hoplimit 17", IP(src=s4(99), dst=WAN4, ttl=64, id=0x7018) / TCP(sport=42099, dport=1001, flags="S", seq=10))
probe("R24 udp 1003 from a source whose route back has hoplimit 17", IP(src=s4(99), dst=WAN4, ttl=64, id=0x7019) / UDP(sport=42099, dport=1003) / Raw(PAYLOAD))
probe("R25 udp 1003 tos 0xff", IP(src=s4(32), dst=WAN4, ttl=64, tos=0xFF, id=0x701A) / UDP(sport=42032, dport=1003) / Raw(PAYLOAD))
probe("R26 tcp-reset tos 0xff", IP(src=s4(33), dst=WAN4, ttl=64, tos=0xFF, id=0x701B) / TCP(sport=42033, dport=1001, flags="S", seq=11))
probe("R27 udp 1003 1000 bytes", IP(src=s4(34), dst=WAN4, ttl=64, id=0x701C) / UDP(sport=42034, dport=1003) / Raw(b"q" * 992))
probe("R28 tcp-reset ack only, ack 0", IP(src=s4(35), dst=WAN4, ttl=64, id=0x701D) / TCP(sport=42035, dport=1001, flags="A", seq=12, ack=0))
# ---- IPv4 INPUT ------------------------------------------------------------------------------------
probe("R30 tcp-reset syn to the gateway", IP(src=s4(40), dst=GW_LAN4, ttl=64, id=0x7101) / TCP(sport=42040, dport=22, flags="S", seq=12))
probe("R31 default reject of udp to the gateway", IP(src=s4(41), dst=GW_LAN4, ttl=64, id=0x7102) / UDP(sport=42041, dport=23) / Raw(PAYLOAD))
probe("R32 echo to the gateway, net-prohibited", IP(src=s4(42), dst=GW_LAN4, ttl=64, id=0x7103) / ICMP(type=8, id=0x4242, seq=1) / Raw(PAYLOAD))
probe("R33 protocol 253 to the gateway", IP(src=s4(43), dst=GW_LAN4, ttl=64, id=0x7104, proto=253) / Raw(sums_to_ffff(PAYLOAD)))
probe("R34 tcp-reset syn to the wan address", IP(src=s4(44), dst=GW_WAN4, ttl=64, id=0x7105) / TCP(sport=42044, dport=22, flags="S", seq=13))
probe("R35 udp to the lan broadcast (no answer)", IP(src=s4(45), dst="10.77.1.255", ttl=64, id=0x7106) / UDP(sport=42045, dport=23) / Raw(PAYLOAD), ether_dst="ff:ff:ff:ff:ff:ff")
probe("R36 tcp-reset syn to the lan broadcast (no answer)", IP(src=s4(46), dst="10.77.1.255", ttl=64, id=0x7107) / TCP(sport=42046, dport=22, flags="S", seq=14), ether_dst="ff:ff:ff:ff:ff:ff")
probe("R37 tcp-reset syn to the gateway, route back hoplimit 17", IP(src=s4(99), dst=GW_LAN4, ttl=64, id=0x7108) / TCP(sport=42098, dport=22, flags="S", seq=15))

# ---- IPv6 FORWARD ---------------------------------------------------------------------------------
probe("S01 tcp-reset syn", IPv6(src=s6(0x10), dst=WAN6, hlim=64) / TCP(sport=43010, dport=1001, flags="S", seq=0x01020304))
probe("S02 tcp-reset ack with data", IPv6(src=s6(0x11), dst=WAN6, hlim=64) / TCP(sport=43011, dport=1001, flags="PA", seq=100, ack=0xA0B0C0D0) / Raw(b"data"))
probe("S03 tcp-reset rst (no answer)", IPv6(src=s6(0x12), dst=WAN6, hlim=64) / TCP(sport=43012, dport=1001, flags="R", seq=5))
probe("S04 tcp-reset bad checksum (no answer)", IPv6(src=s6(0x13), dst=WAN6, hlim=64) / TCP(sport=43013, dport=1001, flags="S", seq=6, chksum=0x1234))
probe("S05 tcp-reset fin with data, no ack", IPv6(src=s6(0x14), dst=WAN6, hlim=64) / TCP(sport=43014, dport=1001, flags="F", seq=0xFFFFFFFE) / Raw(b"abcdef"))
probe("S06 default reject of a tcp syn", IPv6(src=s6(0x15), dst=WAN6, hlim=64) / TCP(sport=43015, dport=1002, flags="S", seq=7))
probe("S07 default reject, bad tcp checksum (no answer)", IPv6(src=s6(0x16), dst=WAN6, hlim=64) / TCP(sport=43016, dport=1002, flags="S", seq=8, chksum=0x1234))
for i, port in enumerate(range(1003, 1009)):
    probe("S%02d udp port %d" % (8 + i, port), IPv6(src=s6(0x17 + i), dst=WAN6, hlim=64) / UDP(sport=43017 + i, dport=port) / Raw(PAYLOAD))
probe("S15 udp bad checksum (no answer)", IPv6(src=s6(0x24), dst=WAN6, hlim=64) / UDP(sport=43024, dport=1003, chksum=0x4321) / Raw(PAYLOAD))
probe("S16 echo", IPv6(src=s6(0x26), dst=WAN6, hlim=64) / ICMPv6EchoRequest(id=0x2626, seq=1, data=PAYLOAD))
probe("S17 echo bad checksum (no answer)", IPv6(src=s6(0x27), dst=WAN6, hlim=64) / ICMPv6EchoRequest(id=0x2727, seq=1, data=PAYLOAD, cksum=0x1111))
probe("S18 icmpv6 error (no answer)", IPv6(src=s6(0x28), dst=WAN6, hlim=64) / ICMPv6DestUnreach(code=4) / bytes(IPv6(src=WAN6, dst=s6(0x28)) / UDP(sport=53, dport=999)))
probe("S19 next header 253, payload sum not 0xffff (no answer)", IPv6(src=s6(0x29), dst=WAN6, hlim=64, nh=253) / Raw(PAYLOAD))
probe("S20 next header 253, payload sum 0xffff", IPv6(src=s6(0x30), dst=WAN6, hlim=64, nh=253) / Raw(sums_to_ffff(PAYLOAD)))
probe("S21 tcp-reset towards a route with hoplimit 33", IPv6(src=s6(0x31), dst="fd77:3::5", hlim=64) / TCP(sport=43031, dport=1011, flags="S", seq=9))
probe("S22 tcp-reset from a source whose route back has hoplimit 17", IPv6(src=s6(0x99), dst=WAN6, hlim=64) / TCP(sport=43099, dport=1001, flags="S", seq=10))
probe("S23 udp 1003 from a source whose route back has hoplimit 17", IPv6(src=s6(0x99), dst=WAN6, hlim=64) / UDP(sport=43099, dport=1003) / Raw(PAYLOAD))
probe("S24 udp 1003 tclass 0xff flow label", IPv6(src=s6(0x32), dst=WAN6, hlim=64, tc=0xFF, fl=0x12345) / UDP(sport=43032, dport=1003) / Raw(PAYLOAD))
probe("S25 tcp-reset tclass 0xff flow label", IPv6(src=s6(0x33), dst=WAN6, hlim=64, tc=0xFF, fl=0x12345) / TCP(sport=43033, dport=1001, flags="S", seq=11))
probe("S26 udp 1003 1400 bytes", IPv6(src=s6(0x34), dst=WAN6, hlim=64) / UDP(sport=43034, dport=1003) / Raw(b"q" * 1392))
probe("S27 tcp-reset ack only, ack 0", IPv6(src=s6(0x35), dst=WAN6, hlim=64) / TCP(sport=43035, dport=1001, flags="A", seq=12, ack=0))
# ---- IPv6 INPUT ------------------------------------------------------------------------------------
probe("S30 tcp-reset syn to the gateway", IPv6(src=s6(0x40), dst=GW_LAN6, hlim=64) / TCP(sport=43040, dport=22, flags="S", seq=12))
probe("S31 default reject of udp to the gateway", IPv6(src=s6(0x41), dst=GW_LAN6, hlim=64) / UDP(sport=43041, dport=23) / Raw(PAYLOAD))
probe("S32 echo to the gateway, adm-prohibited", IPv6(src=s6(0x42), dst=GW_LAN6, hlim=64) / ICMPv6EchoRequest(id=0x4242, seq=1, data=PAYLOAD))
probe("S33 next header 253 to the gateway", IPv6(src=s6(0x43), dst=GW_LAN6, hlim=64, nh=253) / Raw(sums_to_ffff(PAYLOAD)))
probe("S34 tcp-reset syn to the wan address", IPv6(src=s6(0x44), dst=GW_WAN6, hlim=64) / TCP(sport=43044, dport=22, flags="S", seq=13))
probe("S35 udp to ff02::1 (no answer)", IPv6(src=s6(0x45), dst="ff02::1", hlim=1) / UDP(sport=43045, dport=23) / Raw(PAYLOAD), ether_dst="33:33:00:00:00:01")
probe("S36 tcp-reset syn to ff02::1 (no answer)", IPv6(src=s6(0x46), dst="ff02::1", hlim=1) / TCP(sport=43046, dport=22, flags="S", seq=14), ether_dst="33:33:00:00:00:01")
probe("S37 tcp-reset syn to the gateway, route back hoplimit 17", IPv6(src=s6(0x99), dst=GW_LAN6, hlim=64) / TCP(sport=43098, dport=22, flags="S", seq=15))
time.sleep(0.3)
