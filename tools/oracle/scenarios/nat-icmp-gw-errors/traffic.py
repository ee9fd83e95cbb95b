# nat-icmp-gw-errors: the gateway's own ICMP errors for DNATed and MASQUERADEd packets.
import socket

from oracle import *

IP_MTU_DISCOVER, IP_PMTUDISC_DO = 10, 2
IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO = 23, 2


def set_ttl(u, v6, ttl):
    if v6:
        u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    else:
        u.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)


for lan, wan, gw_wan in ((LAN4, WAN4, GW_WAN4), (LAN6, WAN6, GW_WAN6)):
    v6 = ":" in lan
    # 1. TTL 1 to the port forward: time exceeded quoting the DNATed datagram, translated back
    u = udp_bind("wan", wan, 40801)
    set_ttl(u, v6, 1)
    u.sendto(b"ttl one to the port forward", (gw_wan, 5353))
    pause(0.3)
    u.close()

    # 2. DF datagram too big for the lan MTU, to the port forward
    u = udp_bind("wan", wan, 40802)
    if v6:
        u.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)
    else:
        u.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    u.sendto(b"M" * 1400, (gw_wan, 5353))
    pause(0.3)
    u.close()

    # 3. a MASQUERADEd flow whose reply arrives with TTL 1
    srv = udp_bind("wan", wan, 9000)
    c = udp_bind("lan", lan, 40803)
    c.sendto(b"request", (wan, 9000))
    data, peer = udp_recv(srv)
    assert data == b"request"
    set_ttl(srv, v6, 1)
    srv.sendto(b"reply with ttl one", peer[:2])
    pause(0.3)
    srv.close()
    c.close()

    # 4. (IPv4) a TCP SYN with TTL 1 to the TCP port forward
    if not v6:
        s = sock("wan", socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
        s.bind((wan, 40804))
        s.settimeout(0.4)
        try:
            s.connect((gw_wan, 8080))
        except (TimeoutError, OSError) as e:
            log("tcp ttl 1:", type(e).__name__)
        s.close()
        pause(0.3)
done()
