# nat-frag: fragmented UDP through DNAT and MASQUERADE, IPv4 and IPv6.
from oracle import *

for lan, wan, gw_wan in ((LAN4, WAN4, GW_WAN4), (LAN6, WAN6, GW_WAN6)):
    # 1. inbound through the port forward, both directions fragmented
    dns = udp_bind("lan", lan, 53)
    u = udp_bind("wan", wan, 40700)
    q = bytes(range(256)) * 11 + b"Q" * 184  # 3000 bytes
    u.sendto(q, (gw_wan, 5353))
    data, peer = udp_recv(dns)
    assert data == q, len(data or b"")
    a = b"A" * 3000
    dns.sendto(a, peer[:2])
    assert udp_recv(u)[0] == a
    dns.close()
    pause(0.2)

    # 2. outbound through MASQUERADE, both directions fragmented
    sink = udp_bind("wan", wan, 9000)
    c = udp_bind("lan", lan, 40701)
    out = b"O" * 3000
    c.sendto(out, (wan, 9000))
    data, peer = udp_recv(sink)
    assert data == out, len(data or b"")
    back = b"b" * 2000
    sink.sendto(back, peer[:2])
    assert udp_recv(c)[0] == back
    sink.close()
    pause(0.2)
done()
