# ttl-expiry: packets whose TTL / hop limit runs out at the gateway.
import socket
import struct

from oracle import *


def udp_ttl(src, dst, sport, dport, ttl):
    u = udp_bind("lan", src, sport)
    if ":" in dst:
        u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    else:
        u.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    u.sendto(b"traceroute probe ttl=%d" % ttl, (dst, dport))
    pause(0.3)
    u.close()


udp_ttl(LAN4, WAN4, 47001, 33434, 1)
udp_ttl(LAN4, WAN4, 47002, 33435, 2)

# a TCP SYN with TTL 1
s = sock("lan", socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
s.bind((LAN4, 47003))
s.settimeout(0.4)
try:
    s.connect((WAN4, 8000))
except (TimeoutError, OSError) as e:
    log("tcp ttl 1:", type(e).__name__)
s.close()
pause(0.3)

# an echo request with TTL 1 through a raw socket
r = sock("lan", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
r.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
head = struct.pack("!BBHHH", 8, 0, 0, 0x7777, 1)
body = b"ttl one"
head = struct.pack("!BBHHH", 8, 0, inet_checksum(head + body), 0x7777, 1)
r.sendto(head + body, (WAN4, 0))
pause(0.3)
r.close()

udp_ttl(LAN6, WAN6, 47011, 33434, 1)
r6 = sock("lan", socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
r6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
r6.bind((LAN6, 0))
r6.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x7778, 1) + b"hop one", (WAN6, 0))
pause(0.3)
r6.close()
done()
