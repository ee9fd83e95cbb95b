# ratelimit: bursts at known spacing; the kernel's -Q in capture has the exact times.
import time

from scapy.all import IP, UDP, ICMP, ICMPv6EchoRequest, IPv6, Raw

from oracle import GW_LAN4, GW_LAN6, lan_port, log, wan_port

lan = lan_port()
wan = wan_port()
PAYLOAD = b"ctnat rate probe"


def burst(label, port, make, count, spacing):
    log(label)
    for i in range(count):
        port.send(make(i))
        time.sleep(spacing)


# IPv4 per-destination bucket: 14 TTL-expired datagrams 50 ms apart, a pause, 6 more 300 ms apart
burst("A1 v4 ttl 1 x14 @50ms", lan, lambda i: IP(src="10.77.1.10", dst="10.77.2.2", ttl=1, id=0x100 + i) / UDP(sport=44000, dport=33434 + i) / Raw(PAYLOAD), 14, 0.05)
time.sleep(1.2)
burst("A2 v4 ttl 1 x6 @300ms", lan, lambda i: IP(src="10.77.1.10", dst="10.77.2.2", ttl=1, id=0x200 + i) / UDP(sport=44001, dport=33434 + i) / Raw(PAYLOAD), 6, 0.3)
# echo replies and fragmentation needed are never limited
burst("A3 v4 echo x15 @10ms", lan, lambda i: IP(src="10.77.1.11", dst=GW_LAN4, ttl=64, id=0x300 + i) / ICMP(type=8, id=0x1111, seq=i) / Raw(PAYLOAD), 15, 0.01)
burst("A4 v4 frag needed x12 @10ms", lan, lambda i: IP(src="10.77.1.12", dst="10.77.2.2", ttl=64, id=0x400 + i, flags="DF") / UDP(sport=44002, dport=9000) / Raw(b"D" * 1372), 12, 0.01)
# the route error limiter (5 s burst, 1 s cost) shares the peer's tokens with the ICMP limiter
burst("A5 v4 unreachable route x10 @50ms", lan, lambda i: IP(src="10.77.1.13", dst="10.77.9.9", ttl=64, id=0x500 + i) / UDP(sport=44003, dport=9) / Raw(PAYLOAD), 10, 0.05)
# a wan source routed back through the default route
burst("A6 v4 ttl 1 from the wan x10 @50ms", wan, lambda i: IP(src="10.77.5.5", dst="10.77.1.2", ttl=1, id=0x600 + i) / UDP(sport=44004, dport=33434) / Raw(PAYLOAD), 10, 0.05)
time.sleep(0.5)

# IPv6: the cost is ratelimit (100 ms) shifted right by (128 - prefix length) / 32 of the route back
burst("B1 v6 hlim 1 x30 @10ms (route back /64)", lan, lambda i: IPv6(src="fd77:1::10", dst="fd77:2::2", hlim=1) / UDP(sport=45000, dport=33434 + i) / Raw(PAYLOAD), 30, 0.01)
time.sleep(0.3)
burst("B2 v6 hlim 1 x20 @10ms (route back /128)", lan, lambda i: IPv6(src="fd77:1::99", dst="fd77:2::2", hlim=1) / UDP(sport=45001, dport=33434 + i) / Raw(PAYLOAD), 20, 0.01)
time.sleep(0.3)
burst("B3 v6 hlim 1 x20 @2ms from the wan (default route back)", wan, lambda i: IPv6(src="fd77:5::5", dst="fd77:1::2", hlim=1) / UDP(sport=45002, dport=33434 + i) / Raw(PAYLOAD), 20, 0.002)
burst("B4 v6 echo x15 @5ms", lan, lambda i: IPv6(src="fd77:1::11", dst=GW_LAN6, hlim=64) / ICMPv6EchoRequest(id=0x2222, seq=i, data=PAYLOAD), 15, 0.005)
burst("B5 v6 packet too big x12 @5ms", lan, lambda i: IPv6(src="fd77:1::12", dst="fd77:2::2", hlim=64) / UDP(sport=45003, dport=9000) / Raw(b"D" * 1352), 12, 0.005)
time.sleep(0.3)
