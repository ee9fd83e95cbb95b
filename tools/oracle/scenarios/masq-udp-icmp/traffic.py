# masq-udp-icmp: IPv4 UDP and ICMP echo from lan to wan through MASQUERADE.
from oracle import *

dns = udp_bind("wan", WAN4, 53)
sink = udp_bind("wan", WAN4, 9999)  # receives, never answers

# 1. one request, one response (replied, < 2 s old at the dump: 30 s, not ASSURED... unless the
#    recording lasts longer; the dump shows what it shows)
c1 = udp_bind("lan", LAN4, 5001)
c1.sendto(b"\x12\x34query-one", (WAN4, 53))
data, peer = udp_recv(dns)
assert data == b"\x12\x34query-one", data
dns.sendto(b"\x12\x34answer-one", peer)
assert udp_recv(c1)[0] == b"\x12\x34answer-one"
pause(0.2)

# 2. a stream: exchanges spread over more than 2 s -> ASSURED, 120 s
c2 = udp_bind("lan", LAN4, 5002)
for i in range(3):
    c2.sendto(b"stream-%d" % i, (WAN4, 53))
    data, peer = udp_recv(dns)
    dns.sendto(b"reply-%d" % i, peer)
    assert udp_recv(c2)[0] == b"reply-%d" % i
    pause(1.2)

# 3. unreplied
c3 = udp_bind("lan", LAN4, 5003)
c3.sendto(b"nobody answers", (WAN4, 9999))
assert udp_recv(sink)[0] == b"nobody answers"
pause(0.2)

# 4. a closed port: the wan host answers with ICMP port unreachable (RELATED to the NATed flow)
c4 = udp_bind("lan", LAN4, 5004)
c4.sendto(b"closed port", (WAN4, 9))
pause(0.3)

# 5. ICMP echo with chosen ids
assert ping("lan", LAN4, WAN4, 0x1234, seq=1)
pause(0.1)
assert ping("lan", LAN4, WAN4, 0x1234, seq=2)
pause(0.1)
assert ping("lan", LAN4, WAN4, 0x0777, seq=1, payload=b"x" * 56)
pause(0.3)
done()
