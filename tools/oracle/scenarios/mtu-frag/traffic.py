# mtu-frag: DF / non-DF datagrams bigger than the wan MTU, v4 and v6.
import socket

from oracle import *

IP_MTU_DISCOVER = 10
IP_PMTUDISC_DONT = 0
IP_PMTUDISC_DO = 2
IPV6_MTU_DISCOVER = 23
IPV6_PMTUDISC_DO = 2

sink4 = udp_bind("wan", WAN4, 9000)
sink6 = udp_bind("wan", WAN6, 9000)

# 1. DF, 1400 bytes: fragmentation needed (mtu 1280) from the gateway
u = udp_bind("lan", LAN4, 48001)
u.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
u.sendto(b"D" * 1400, (WAN4, 9000))
pause(0.3)
u.close()

# 2. not DF, 1400 bytes: the gateway fragments it after NAT
u = udp_bind("lan", LAN4, 48002)
u.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
u.sendto(bytes(range(256)) * 5 + b"N" * 120, (WAN4, 9000))
assert len(udp_recv(sink4)[0]) == 1400
pause(0.3)

# 3. not DF, 3000 bytes: the lan host fragments it (mtu 1500), the gateway reassembles, NATs and
#    fragments again for 1280
u.sendto(b"F" * 3000, (WAN4, 9000))
assert len(udp_recv(sink4)[0]) == 3000
pause(0.3)
u.close()

# 4. IPv6, 1400 bytes, no fragmentation allowed at the source socket: packet too big from the gateway
u6 = udp_bind("lan", LAN6, 48011)
u6.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
try:
    u6.sendto(b"6" * 1400, (WAN6, 9000))
except OSError as e:
    log("v6 send:", e)
pause(0.3)
u6.close()

# 5. IPv6 again, now that the lan host knows the path MTU: it fragments (1280), the gateway forwards
u6 = udp_bind("lan", LAN6, 48012)
u6.sendto(b"f" * 1400, (WAN6, 9000))
data = udp_recv(sink6)[0]
log("v6 fragmented datagram received:", data is not None and len(data))
pause(0.3)
done()
